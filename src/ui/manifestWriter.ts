import * as vscode from 'vscode';
import { Prompter } from '../wizard/prompter';
import {
  DEFAULT_MANIFEST_PATH,
  PREVIOUS_DEFAULT_MANIFEST_PATH,
  manifestIsFor,
  manifestPath,
} from '../workloadIdentity/manifest';
import { pathInFolder, workspaceTrusted, workspaceUri } from './workspaceFiles';

export type ManifestOutcome =
  | { kind: 'written' | 'unchanged'; uri: vscode.Uri }
  | { kind: 'kept'; uri: vscode.Uri }
  | { kind: 'unsaved'; uri: vscode.Uri }
  | { kind: 'none' };

const sameText = (a: string, b: string) => a.replace(/\r\n/g, '\n') === b.replace(/\r\n/g, '\n');

/**
 * Writes the manifest at a workspace path (workspaceFiles.ts) and opens it. A file with other content, or an open
 * document with unsaved edits, is never overwritten without asking: the difference is shown first. With no folder
 * open, offers Save As or an unsaved editor; in Restricted Mode, writes nothing and says why.
 */
export async function writeManifest(
  prompter: Prompter,
  relativePath: string,
  content: string,
): Promise<ManifestOutcome> {
  if (!vscode.workspace.workspaceFolders?.length) {
    const [saveAs, openUnsaved] = [vscode.l10n.t('Save As…'), vscode.l10n.t('Open Unsaved')];
    const choice = await prompter.notify(
      'info',
      vscode.l10n.t('No folder is open, so the ServiceAccount manifest was not written to a workspace.'),
      saveAs,
      openUnsaved,
    );
    if (choice === saveAs) {
      const target = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(relativePath.split('/').pop()!),
        filters: { YAML: ['yaml', 'yml'] },
      });
      if (!target) return { kind: 'none' };
      await vscode.workspace.fs.writeFile(target, Buffer.from(content, 'utf8'));
      await vscode.window.showTextDocument(target);
      return { kind: 'written', uri: target };
    }
    if (choice === openUnsaved) {
      const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content });
      await vscode.window.showTextDocument(doc);
      return { kind: 'unsaved', uri: doc.uri };
    }
    return { kind: 'none' };
  }
  if (!workspaceTrusted(prompter, vscode.l10n.t('Writing {0}', relativePath))) return { kind: 'none' };
  const uri = workspaceUri(relativePath);
  if (!uri) throw new Error(vscode.l10n.t('{0} is in no open folder.', relativePath));
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  let existing: string | undefined;
  try {
    existing = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
  } catch {
    existing = undefined;
  }
  const current = open?.isDirty ? open.getText() : existing;
  if (current !== undefined && sameText(current, content) && !open?.isDirty) {
    await vscode.window.showTextDocument(uri, { preview: false });
    return { kind: 'unchanged', uri };
  }
  if (current !== undefined) {
    const proposed = await vscode.workspace.openTextDocument({ language: 'yaml', content });
    await vscode.commands.executeCommand(
      'vscode.diff',
      uri,
      proposed.uri,
      vscode.l10n.t('{0}: yours ↔ generated', relativePath),
    );
    const overwrite = await prompter.confirm({
      message: open?.isDirty
        ? vscode.l10n.t(
            '{0} has other content and unsaved edits. Overwrite it with the generated manifest?',
            relativePath,
          )
        : vscode.l10n.t('{0} has other content. Overwrite it with the generated manifest?', relativePath),
      detail: vscode.l10n.t(
        'The difference is open in an editor. If you keep your file, the generated manifest stays open, unsaved.',
      ),
      confirm: vscode.l10n.t('Overwrite'),
    });
    if (!overwrite) return { kind: 'kept', uri: proposed.uri };
  }
  await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(uri, '..'));
  await vscode.workspace.fs.writeFile(uri, Buffer.from(content, 'utf8'));
  if (open?.isDirty) await vscode.commands.executeCommand('workbench.action.files.revert', uri);
  await vscode.window.showTextDocument(uri, { preview: false });
  return { kind: 'written', uri };
}

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
