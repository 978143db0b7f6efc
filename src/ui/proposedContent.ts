import * as vscode from 'vscode';

export const PROPOSED_SCHEME = 'aks-workload-identity-proposed';

/**
 * Read-only documents for a change under review (the right side of a diff): unlike an untitled editor, nothing is
 * left to save or discard when the review ends.
 */
export class ProposedContent implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }

  /** A URI that shows `text`, named like the file it proposes a change to. */
  show(relativePath: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: `/${relativePath}` });
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    return uri;
  }
}

export const proposedContent = new ProposedContent();
