import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import type { VerifyPanel } from '../../src/ui/report/panel';
import { isWrite } from '../sim/faults';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { cleanUp, extensionApi, findNode, freshWorld, signedIn, sim } from './support';

const clusterNode = async (name: string) => (await findNode(name)) as ClusterNode;

const status = (panel: VerifyPanel, key: string) => panel.report!.checks.find((c) => c.key === key)?.status;

describe('Verify Workload Identity (extension host)', () => {
  beforeEach(freshWorld);
  afterEach(cleanUp);

  it('from a binding in the tree: asks nothing, passes every check, sends no write', async () => {
    const api = await extensionApi();
    const bindings = (await api.context.tree.getChildren(await clusterNode('aks-payments'))).filter(
      (n: TreeNode) => n.kind === 'binding',
    ) as BindingNode[];
    const binding = bindings.find((b) => b.binding.serviceAccount === 'payments-api')!;
    assert.ok(binding);
    assert.equal(
      bindings.find((b) => b.binding.serviceAccount === 'checkout-api')?.binding.issuerMismatch,
      true,
      'the broken binding shows too',
    );
    const prompter = new ScriptedPrompter([]);
    api.setPrompter(prompter);
    await sim.clearLog();
    const panel = await vscode.commands.executeCommand<VerifyPanel>(
      'aksWorkloadIdentity.verifyWorkloadIdentity',
      binding,
    );
    assert.ok(panel?.report);
    assert.deepEqual(
      panel.report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.key}: ${c.message}`),
      [],
    );
    assert.deepEqual(prompter.recorded, [], 'nothing asked');
    assert.deepEqual(
      (await sim.log()).filter(isWrite).map((r) => `${r.method} ${r.op}`),
      [],
    );
    assert.match(panel.panel.webview.html, /Content-Security-Policy" content="default-src 'none';/);

    // The panel runs its checks with whoever is signed in at the time: signed out, it says so and keeps the report.
    await api.context.auth.signOut();
    try {
      assert.equal(await panel.run(), undefined);
      assert.match(prompter.notifications.at(-1)!.message, /NotSignedIn: Sign in to Azure to run the checks\./);
      assert.ok(panel.report, 'the last report stays');
    } finally {
      await vscode.commands.executeCommand('aksWorkloadIdentity.signIn');
      await signedIn(api);
    }
    assert.ok(
      (await panel.run())?.checks.every((c) => c.status === 'pass'),
      'runs again after signing in',
    );
  });

  it('from the palette: finds the seeded mistakes, fixes the issuer, the check passes, and the report copies as Markdown', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'checkout' },
      { pick: 'checkout-api' },
      { pick: 'Every vault the identity has a grant on' },
      { confirm: true },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    const panel = await vscode.commands.executeCommand<VerifyPanel>('aksWorkloadIdentity.verifyWorkloadIdentity');
    assert.ok(panel?.report);
    assert.equal(status(panel, 'issuer'), 'fail');
    assert.match(panel.report.checks.find((c) => c.key === 'issuer')!.message, /trailing slash/);
    assert.equal(status(panel, 'vault:kv-payments'), 'fail');
    assert.deepEqual((await sim.log()).filter(isWrite), [], 'verifying writes nothing');

    assert.equal(await panel.fix('issuer'), true);
    assert.match(
      prompter.recorded.find((r) => r.kind === 'confirm')!.message!,
      /Recreate the credential\?\nRewrite fic-checkout on id-checkout with issuer https:\/\//,
    );
    assert.equal(status(panel, 'issuer'), 'pass');
    const writes = (await sim.log()).filter(isWrite).map((r) => r.op);
    assert.deepEqual(
      writes,
      ['federatedIdentityCredentials.createOrUpdate'],
      'the fix wrote one credential and nothing else',
    );

    const md = await panel.copy();
    assert.equal(await vscode.env.clipboard.readText(), md);
    assert.match(md!, /\| Federated credential issuer equals the cluster's issuer \| ✅ pass \|/);
    assert.match(
      md!,
      /\| Key Vault grants get under its permission model \(kv-payments\) \| ❌ fail \| Granted but ignored/,
    );
  });

  it('from a cluster: starts at the namespace, and a dismissed prompt ends quietly', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([{ pick: 'checkout' }, { dismiss: true }]);
    api.setPrompter(prompter);
    const panel = await vscode.commands.executeCommand<VerifyPanel | undefined>(
      'aksWorkloadIdentity.verifyWorkloadIdentity',
      await clusterNode('aks-payments'),
    );
    assert.equal(panel, undefined);
    assert.equal(prompter.recorded.length, 2, 'namespace, then ServiceAccount: the cluster was not asked for');
    assert.ok(prompter.recorded[0].labels!.includes('checkout'));
    assert.deepEqual(prompter.recorded[1].labels, ['checkout-api', 'default'], 'annotated ServiceAccounts first');
    assert.equal(prompter.notifications.length, 0);
  });
});
