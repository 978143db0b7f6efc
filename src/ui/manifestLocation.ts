import * as vscode from 'vscode';
import {
  DEFAULT_MANIFEST_PATH,
  PREVIOUS_DEFAULT_MANIFEST_PATH,
  manifestIsFor,
  manifestPath,
} from '../workloadIdentity/manifest';
import { pathInFolder, workspaceUri } from './workspaceFiles';

/**
 * Where a binding's manifest goes, as a workspace path in the first folder: the setting when the user set it (a
 * workspace's own value only when the workspace is trusted); else one folder per cluster, except that a manifest this
 * extension wrote for the same cluster under the previous layout is used where it is (nothing moves).
 */
export async function manifestLocation(vars: {
  cluster: string;
  namespace: string;
  serviceAccount: string;
}): Promise<{ path?: string; error?: string }> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const inFolder = (r: { path?: string; error?: string }) =>
    folder && r.path ? { path: pathInFolder(folder, r.path) } : r;
  const setting = vscode.workspace.getConfiguration('aksWorkloadIdentity', folder?.uri).inspect<string>('manifestPath');
  const chosen =
    (vscode.workspace.isTrusted ? (setting?.workspaceFolderValue ?? setting?.workspaceValue) : undefined) ??
    setting?.globalValue;
  if (chosen) return inFolder(manifestPath(chosen, vars));
  const previous = manifestPath(PREVIOUS_DEFAULT_MANIFEST_PATH, vars).path;
  if (folder && previous) {
    const text = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, ...previous.split('/'))).then(
      (b) => Buffer.from(b).toString('utf8'),
      () => undefined,
    );
    if (text !== undefined && manifestIsFor(text, vars.cluster)) return inFolder({ path: previous });
  }
  return inFolder(manifestPath(DEFAULT_MANIFEST_PATH, vars));
}

/** The binding's manifest in the workspace, when there is one (and the workspace is trusted: Remove may delete it). */
export async function existingManifest(vars: {
  cluster: string;
  namespace: string;
  serviceAccount: string;
}): Promise<vscode.Uri | undefined> {
  const { path } = await manifestLocation(vars);
  const uri = path && vscode.workspace.isTrusted ? workspaceUri(path) : undefined;
  return (
    uri &&
    vscode.workspace.fs.stat(uri).then(
      () => uri,
      () => undefined,
    )
  );
}
