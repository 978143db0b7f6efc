import * as vscode from 'vscode';
import type { Prompter } from '../wizard/prompter';
import { UnsavedFileError, type WorkspaceFiles } from '../workloadIdentity/connect/model';

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

/** The file a workspace path names, or an error that says it is in no open folder. */
function uriOf(path: string): vscode.Uri {
  const uri = workspaceUri(path);
  if (!uri) throw new Error(vscode.l10n.t('{0} is in no open folder.', path));
  return uri;
}

const readText = async (uri: vscode.Uri): Promise<string | undefined> =>
  vscode.workspace.fs.readFile(uri).then(
    (b) => Buffer.from(b).toString('utf8'),
    () => undefined,
  );

/** Folders no one keeps manifests in. */
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/dist/**,**/out/**}';

/** The open folders for Connect: every path is a workspace path, and nothing is written over unsaved edits. */
export function workspaceFiles(prompter: Prompter): WorkspaceFiles {
  const checkSaved = (path: string) => {
    const uri = uriOf(path).toString();
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri && d.isDirty))
      return Promise.reject(new UnsavedFileError(path));
    return Promise.resolve();
  };
  return {
    async yamlFiles() {
      const uris = await vscode.workspace.findFiles('**/*.{yaml,yml}', EXCLUDE, 2000);
      return Promise.all(uris.map(async (uri) => ({ path: workspacePath(uri), text: (await readText(uri)) ?? '' })));
    },
    async find(glob, max) {
      const uris = await vscode.workspace.findFiles(glob, EXCLUDE, max);
      return Promise.all(uris.map(async (uri) => ({ path: workspacePath(uri), text: (await readText(uri)) ?? '' })));
    },
    read: (path) => readText(uriOf(path)),
    checkSaved,
    async write(path, text) {
      await checkSaved(path);
      await vscode.workspace.fs.writeFile(uriOf(path), Buffer.from(text, 'utf8'));
    },
    async writeGenerated(path, text) {
      const { kind } = await writeManifest(prompter, path, text);
      return kind === 'unsaved' ? 'none' : kind;
    },
  };
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
