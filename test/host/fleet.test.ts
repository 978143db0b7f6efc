import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TreeNode } from '../../src/ui/tree/nodes';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { confirmBind, extensionApi, findNode, freshWorld, sim } from './support';

describe('Bind with several clusters selected (extension host)', () => {
  beforeEach(async () => {
    await freshWorld();
  });
  afterEach(async () => {
    await sim.clearFaults();
    (await extensionApi()).setPrompter(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('asks once, reviews a block per cluster with the credential budget, binds each; a failed cluster is reported, and Retry binds only it', async () => {
    const api = await extensionApi();
    const selected: TreeNode[] = [];
    for (const name of ['aks-payments', 'aks-entra', 'aks-oidc-only']) selected.push(await findNode(name));
    // aks-oidc-only needs enabling, which fails the first time.
    await sim.addFault({ op: 'managedClusters.createOrUpdate', kind: '403', count: 1 });
    const prompter = new ScriptedPrompter([
      { type: 'orders' },
      { type: 'orders-api' },
      { pick: 'kv-payments' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-orders-fleet' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pickMany: ['get on secrets'] },
      confirmBind,
    ]);
    prompter.onNotify((message, actions) =>
      message.startsWith('Bound on') && actions.includes('Retry') ? 'Retry' : undefined,
    );
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault', selected[0], selected);
    // The clusters come from the selection: the first question is the namespace, on the first cluster.
    assert.ok(prompter.recorded[0]!.labels!.includes('payments'), prompter.recorded[0]!.labels!.join(', '));
    const review = prompter.recorded.find((r) => r.title === 'Bind Key Vault: review')!.labels!;
    assert.equal(review[0], '$(check) Bind: 3 clusters');
    assert.equal(review[1], '$(key) Federated credentials on the identity: 0 now, 3 after, of 20');
    assert.deepEqual(
      review.filter((l) => l.startsWith('$(server-environment)')),
      ['$(server-environment) aks-payments', '$(server-environment) aks-entra', '$(server-environment) aks-oidc-only'],
    );
    const failure = prompter.notifications.find((n) => n.kind === 'error')!;
    assert.match(
      failure.message,
      /^Bound on 2 of 3 clusters\. aks-oidc-only stopped at "Enable workload identity on the cluster": .*Retry binds only the clusters that failed\./,
    );
    assert.match(
      prompter.notifications.at(-1)!.message,
      /^Bound kv-payments to orders\/orders-api on 1 clusters: aks-oidc-only\./,
    );
    const identity = (await sim.state()).identities.find((i: any) => i.name === 'id-orders-fleet');
    assert.equal(identity.credentials.length, 3, 'one credential per cluster');
    const manifests = await vscode.workspace.findFiles('k8s/*/orders/orders-api.serviceaccount.yaml');
    assert.deepEqual(
      manifests.map((u) => u.path.split('/').at(-3)).sort(),
      ['aks-entra', 'aks-oidc-only', 'aks-payments'],
      'a manifest per cluster',
    );
    for (const m of manifests) await vscode.workspace.fs.delete(m);
  });
});
