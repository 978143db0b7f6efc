import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { extensionApi, signedIn, sim, until } from './support';

describe('Sign-in (extension host)', () => {
  after(async () => {
    (await extensionApi()).setPrompter(undefined);
  });

  it('signs out, shows no tree, and signs back in through the Azure CLI with a tenant picker', async () => {
    const api = await extensionApi();
    await signedIn(api);
    await vscode.commands.executeCommand('aksWorkloadIdentity.signOut');
    assert.equal(api.context.auth.session, undefined);
    assert.deepEqual(await api.context.tree.getChildren(), []);
    // Restoring silently (as at the next start) stays signed out until the user signs in.
    assert.equal(await api.context.auth.restore(), undefined);
    const prompter = new ScriptedPrompter([{ pick: 'Contoso' }]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.signIn');
    const session = await until('sign-in', () => api.context.auth.session);
    assert.equal(session.method, 'azureCli');
    assert.deepEqual(
      prompter.recorded.map((r) => `${r.kind} ${r.title}: ${r.labels?.join(', ')}`),
      ['pick Select Tenant: Contoso, Fabrikam'],
    );
    const root = await api.context.tree.getChildren();
    assert.ok(root.length >= 3, 'the tree is back');

    // The choice is remembered, even though it was the account's home tenant.
    await vscode.commands.executeCommand('aksWorkloadIdentity.signOut');
    const again = new ScriptedPrompter([]);
    api.setPrompter(again);
    await vscode.commands.executeCommand('aksWorkloadIdentity.signIn');
    await until('sign-in again', () => api.context.auth.session);
    assert.deepEqual(again.recorded, [], 'no tenant picker the second time');
  });

  it('the log channel holds every call and no token', async () => {
    const api = await extensionApi();
    await signedIn(api);
    api.context.tree.refresh();
    await api.context.tree.clusters();
    await new Promise((r) => setTimeout(r, 1500)); // the channel flushes its file asynchronously
    const dir = api.logUri;
    const files = await vscode.workspace.fs.readDirectory(dir);
    const file = files.find(([n]) => n.endsWith('.log'));
    assert.ok(file, `a log file in ${dir.fsPath}: ${files.map(([n]) => n).join(', ')}`);
    const text = Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, file![0]))).toString();
    assert.match(
      text,
      /POST https:\/\/127\.0\.0\.1:\d+\/providers\/Microsoft\.ResourceGraph\/resources\?api-version=2024-04-01 200 \d+ms/,
    );
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{8,}\./, 'no JWT');
    assert.ok(!text.includes(sim.info.tokenSecret) && !text.includes(sim.info.controlSecret));
    assert.doesNotMatch(text, /sim-kube-[0-9a-f-]{8,}/, 'no cluster token');
    assert.doesNotMatch(text, /certificate-authority-data|client-key-data/, 'no kubeconfig');
  });
});
