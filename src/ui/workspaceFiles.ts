import * as vscode from 'vscode';
import type { Prompter } from '../wizard/prompter';

/**
 * One path convention for every file the extension reads or writes in the workspace: the path as VS Code shows it,
 * relative to its folder, with the folder's name first when several folders are open ("api/k8s/sa.yaml").
 */
const multiRoot = () => (vscode.workspace.workspaceFolders?.length ?? 0) > 1;

/** The workspace path of a file in the open folders. */
export function workspacePath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, multiRoot());
}

/** The workspace path of a path inside one folder. */
export function pathInFolder(folder: vscode.WorkspaceFolder, relative: string): string {
  return multiRoot() ? `${folder.name}/${relative}` : relative;
}

/** The file a workspace path names; undefined with no folder open, or a folder name that no open folder has. */
export function workspaceUri(path: string): vscode.Uri | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const [first] = folders;
  if (!first) return undefined;
  const segments = path.split('/');
  if (!multiRoot()) return vscode.Uri.joinPath(first.uri, ...segments);
  const folder = folders.find((f) => f.name === segments[0]);
  return folder && vscode.Uri.joinPath(folder.uri, ...segments.slice(1));
}

export async function readWorkspaceText(path: string): Promise<string> {
  const uri = workspaceUri(path);
  if (!uri) throw new Error(vscode.l10n.t('{0} is in no open folder.', path));
  return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
}

/**
 * Restricted Mode: the workspace may come from anyone, so nothing is written into it. Says why and offers the trust
 * action; returns false then.
 */
export function workspaceTrusted(prompter: Prompter, what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = vscode.l10n.t('Manage Workspace Trust');
  void prompter
    .notify(
      'warning',
      vscode.l10n.t(
        '{0} writes into the workspace, which is in Restricted Mode: nothing was written. Trust the folder to let it.',
        what,
      ),
      manage,
    )
    .then((a) => {
      if (a === manage) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}
