import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TreeNode } from '../../src/ui/tree/nodes';
import type { PickItem } from '../../src/wizard/prompter';
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
    assert.equal(review[1], '$(export) Export as…');
    assert.equal(review[2], '$(key) Federated credentials on the identity: 0 now, 3 after, of 20');
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

  it('from the palette: checks two clusters, lists names with where they are found, exports one Terraform loop from the review, then binds both', async () => {
    const api = await extensionApi();
    let namespaces: PickItem<unknown>[] = [];
    const prompter = new ScriptedPrompter([
      { pickMany: ['aks-payments', 'aks-private'] },
      {
        pick: (items) => {
          namespaces = items;
          return items.find((i) => i.label === 'payments');
        },
      },
      { type: 'orders-api' },
      { pick: 'kv-payments' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-orders-palette' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pickMany: ['get on secrets'] },
      { pick: (items) => items.find((i) => i.label.startsWith('$(export)')) },
      { pick: 'Terraform' },
      confirmBind,
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    assert.equal(prompter.remaining, 0);
    assert.deepEqual(
      namespaces.filter((n) => n.description).map((n) => [n.label, n.description]),
      [
        ['payments', 'on 1 of 2 clusters: aks-payments'],
        ['checkout', 'on 1 of 2 clusters: aks-payments'],
        ['ledger', 'on 1 of 2 clusters: aks-private'],
      ],
    );
    const tf = vscode.workspace.textDocuments.find((d) => d.isUntitled && d.getText().startsWith('# Terraform'))!;
    assert.match(tf.getText(), /on clusters aks-payments and aks-private get on secrets/);
    assert.match(tf.getText(), /for_each {12}= local\.clusters/);
    assert.match(tf.getText(), /resource "kubernetes_service_account_v1" "aks-private"/);
    const identity = (await sim.state()).identities.find((i: any) => i.name === 'id-orders-palette');
    assert.deepEqual(identity.credentials.map((c: any) => c.name).sort(), [
      'fic-aks-payments-payments-orders-api',
      'fic-aks-private-payments-orders-api',
    ]);
    for (const m of await vscode.workspace.findFiles('k8s/*/payments/orders-api.serviceaccount.yaml'))
      await vscode.workspace.fs.delete(m);
  });
});
