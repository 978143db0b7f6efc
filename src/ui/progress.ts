import * as vscode from 'vscode';

/** A cancellable notification whose CancellationToken arrives as an AbortSignal. */
export function withCancellableProgress<T>(
  title: string,
  task: (report: (message: string) => void, signal: AbortSignal) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      return task((message) => progress.report({ message }), controller.signal).finally(() => sub.dispose());
    },
  );
}
