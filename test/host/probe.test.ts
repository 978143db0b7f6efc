import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import type { VerifyPanel } from '../../src/ui/report/panel';
import { isWrite } from '../sim/faults';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { extensionApi, findNode, signedIn, sim } from './support';

const stages = (panel: VerifyPanel) =>
  Object.fromEntries(
    panel.report!.checks.filter((c) => ['token', 'exchange', 'keyVault'].includes(c.id)).map((c) => [c.key, c.status]),
  );

describe('Test Binding (extension host)', () => {
  beforeEach(async () => {
    await sim.reset();
    const api = await extensionApi();
    await signedIn(api);
    api.context.tree.refresh();
  });
  afterEach(async () => {
    (await extensionApi()).setPrompter(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('from a binding in the tree: asks nothing, proves token, exchange and Key Vault, writes nothing', async () => {
    const api = await extensionApi();
    const cluster = (await findNode('aks-payments')) as ClusterNode;
    const binding = (await api.context.tree.getChildren(cluster)).find(
      (n: TreeNode) => n.kind === 'binding' && n.binding.serviceAccount === 'payments-api',
    ) as BindingNode;
    const prompter = new ScriptedPrompter([]);
    api.setPrompter(prompter);
    await sim.clearLog();
    const panel = await vscode.commands.executeCommand<VerifyPanel>('aksWorkloadIdentity.testBinding', binding);
    assert.ok(panel?.report);
    assert.deepEqual(stages(panel), { token: 'pass', exchange: 'pass', 'keyVault:kv-payments:secrets': 'pass' });
    assert.deepEqual(
      panel.report.checks.filter((c) => c.status !== 'pass').map((c) => c.key),
      [],
      "Verify's checks pass too",
    );
    assert.deepEqual(prompter.recorded, []);
    const log = await sim.log();
    assert.deepEqual(
      log
        .filter(isWrite)
        .map((r) => r.op)
        .filter((op) => !['kube.serviceaccounts.token', 'entra.token'].includes(op)),
      [],
    );
    assert.deepEqual(
      log.filter((r) => r.server === 'vault').map((r) => `${r.op} ${r.status}`),
      ['keyvault.secrets.get 401', 'keyvault.secrets.get 404'],
    );
    assert.match(panel.panel.webview.html, /Test: Microsoft Entra ID exchanges it for the identity/);
    assert.doesNotMatch(panel.panel.webview.html, /id="test"/, 'the test button is gone once the test runs');
    assert.match(
      panel.panel.webview.html,
      /<button id="connect"[^>]*>Connect a workload<\/button>/,
      'the next step is offered',
    );
    const md = await panel.copy();
    assert.match(md!, /\| Test: the identity reaches Key Vault \(kv-payments:secrets\) \| ✅ pass \|/);

    // "Read a named secret…": readable, and its value is nowhere.
    api.setPrompter(new ScriptedPrompter([{ input: 'db-password' }]));
    await panel.testNamedSecret();
    assert.equal(stages(panel)['keyVault:kv-payments:secret db-password'], 'pass');
    const value = (await sim.state()).secrets?.['kv-payments/db-password']?.value;
    assert.ok(!panel.panel.webview.html.includes('sim-secret-value-'), 'the value is not in the report');
    assert.equal(value, undefined, 'the simulator does not hand secret values to tests either');
  });

  it('from the palette on the hand-made binding: the exchange fails with AADSTS700211, the fix rewrites the credential, and the test then passes the exchange', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'checkout' },
      { pick: 'checkout-api' },
      { pick: 'Every vault the identity has a grant on' },
      { confirm: true },
    ]);
    api.setPrompter(prompter);
    const panel = await vscode.commands.executeCommand<VerifyPanel>('aksWorkloadIdentity.testBinding');
    assert.ok(panel?.report);
    const exchange = panel.report.checks.find((c) => c.key === 'exchange')!;
    assert.equal(exchange.status, 'fail');
    assert.match(exchange.message, /^AADSTS700211/);
    assert.equal(exchange.fix?.label, 'Recreate the credential');
    assert.equal(await panel.fix('exchange'), true);
    assert.equal(stages(panel).exchange, 'pass', panel.report.checks.find((c) => c.key === 'exchange')!.message);
    assert.equal(
      stages(panel)['keyVault:kv-payments:secrets'],
      'fail',
      'the access policy on an RBAC vault is still ignored',
    );
  });

  it('from a Verify report: the "Test the token exchange" button adds the test to the same panel', async () => {
    const api = await extensionApi();
    const cluster = (await findNode('aks-payments')) as ClusterNode;
    const binding = (await api.context.tree.getChildren(cluster)).find(
      (n: TreeNode) => n.kind === 'binding' && n.binding.serviceAccount === 'payments-api',
    ) as BindingNode;
    api.setPrompter(new ScriptedPrompter([]));
    const panel = await vscode.commands.executeCommand<VerifyPanel>(
      'aksWorkloadIdentity.verifyWorkloadIdentity',
      binding,
    );
    assert.match(panel.panel.webview.html, /<button id="test"[^>]*>Test the token exchange<\/button>/);
    assert.deepEqual(stages(panel), {});
    const again = await vscode.commands.executeCommand<VerifyPanel>('aksWorkloadIdentity.testBinding', binding);
    assert.equal(again, panel, 'the same panel');
    assert.equal(stages(panel).exchange, 'pass');
  });
});
