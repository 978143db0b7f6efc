import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import { isWrite } from '../sim/faults';
import { Answer, ScriptedPrompter } from '../support/scriptedPrompter';
import { cleanUp, extensionApi, findNode, freshWorld, sim, until } from './support';

const bindAnswers = (): Answer[] => [
  { pick: 'aks-payments' },
  { pick: 'payments' },
  { type: 'orders-api' },
  { pick: 'kv-petclinic' },
  { pick: '$(add) Create a new user-assigned identity' },
  { input: 'id-orders' },
  { input: 'rg-payments' },
  { input: 'eastus' },
  { pickMany: ['get on secrets', 'get on keys', 'get on certificates'] },
  { pick: (items) => items.find((i) => i.label.startsWith('$(check) Bind')) },
];

const bindingsOf = async (cluster: string) => {
  const api = await extensionApi();
  return (await api.context.tree.getChildren((await findNode(cluster)) as ClusterNode)).filter(
    (n: TreeNode) => n.kind === 'binding',
  ) as BindingNode[];
};

describe('Remove Binding (extension host)', () => {
  beforeEach(freshWorld);
  afterEach(cleanUp);

  it('from a binding in the tree: reviews every line, removes the binding, the identity, the ServiceAccount and the manifest, and the tree drops it', async () => {
    const api = await extensionApi();
    api.setPrompter(new ScriptedPrompter(bindAnswers()));
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const manifest = vscode.Uri.joinPath(
      vscode.workspace.workspaceFolders![0].uri,
      'k8s',
      'aks-payments',
      'payments',
      'orders-api.serviceaccount.yaml',
    );
    await vscode.workspace.fs.stat(manifest);
    const binding = await until('the new binding in the tree', async () =>
      (await bindingsOf('aks-payments')).find((b) => b.binding.serviceAccount === 'orders-api'),
    );

    const prompter = new ScriptedPrompter([
      {
        pickMany: [
          'Delete the identity id-orders',
          'Delete the ServiceAccount payments/orders-api',
          'Delete the manifest k8s/aks-payments/payments/orders-api.serviceaccount.yaml',
        ],
      },
      { pick: (items) => items.find((i) => i.label.startsWith('$(trash) Remove: make')) },
      // code-server's remote file system has no trash: the permanent delete needs a yes.
      { confirm: true },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.removeBinding', binding);
    assert.equal(prompter.remaining, 0);
    const review = prompter.recorded.find((r) => r.title === 'Remove Binding: review')!;
    assert.deepEqual(review.labels, [
      '$(trash) Remove: make 6 changes',
      '$(trash) Remove: Federated identity credential',
      '$(trash) Remove: Key Vault access policy (get)',
      '$(trash) Remove: ServiceAccount annotations',
      '$(trash) Remove: ServiceAccount',
      '$(trash) Remove: User-assigned managed identity',
      '$(trash) Remove: Manifest in the workspace',
    ]);
    const state = await sim.state();
    assert.equal(
      state.identities.find((i: any) => i.name === 'id-orders'),
      undefined,
    );
    const cluster = state.clusters.find((c: any) => c.name === 'aks-payments');
    assert.equal(cluster.kube.serviceAccounts['payments/orders-api'], undefined);
    assert.deepEqual(state.violations, []);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(manifest)), 'the manifest is gone');
    assert.match(
      prompter.recorded.find((r) => r.kind === 'confirm')!.message!,
      /orders-api\.serviceaccount\.yaml cannot be moved to the trash here\. Delete it permanently\?/,
    );
    assert.match(
      prompter.notifications.at(-1)!.message,
      /^Removed the binding of payments\/orders-api on aks-payments: 6 removed\./,
    );
    await until(
      'the binding gone from the tree',
      async () => !(await bindingsOf('aks-payments')).some((b) => b.binding.serviceAccount === 'orders-api'),
    );
  });

  it('from the palette on the hand-made binding: only its credential goes; a second Remove finds nothing and writes nothing', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'checkout' },
      { pick: 'checkout-api' },
      { pick: (items) => items.find((i) => i.label.startsWith('$(trash) Remove: make 1 change')) },
      { pick: 'aks-payments' },
      { pick: 'checkout' },
      { pick: 'checkout-api' },
      { pick: '$(pass) Nothing to remove' },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.removeBinding');
    const review = prompter.recorded.find((r) => r.title === 'Remove Binding: review')!;
    assert.ok(review.labels!.includes('$(lock) Not ours: User-assigned managed identity'));
    assert.ok(review.labels!.includes('$(lock) Not ours: ServiceAccount annotations'));
    assert.ok(
      !prompter.recorded.some((r) => r.kind === 'pickMany'),
      "nothing optional to offer: the identity and the ServiceAccount are someone else's",
    );
    let state = await sim.state();
    assert.deepEqual(state.identities.find((i: any) => i.name === 'id-checkout').credentials, []);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.removeBinding');
    assert.equal(prompter.remaining, 0);
    assert.deepEqual(
      (await sim.log()).filter(isWrite).map((r) => r.op),
      [],
    );
    state = await sim.state();
    assert.deepEqual(state.violations, []);
  });

  it('a failed delete says what is removed and what is not, and Retry finishes', async () => {
    const api = await extensionApi();
    api.setPrompter(new ScriptedPrompter(bindAnswers()));
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    await sim.addFault({ op: 'federatedIdentityCredentials.delete', kind: '403', count: 1 });
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'payments' },
      { pick: 'orders-api' },
      { pickMany: [] },
      { pick: (items) => items.find((i) => i.label.startsWith('$(trash) Remove: make')) },
    ]).onNotify((m, actions) => (actions.includes('Retry') ? 'Retry' : undefined));
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.removeBinding');
    const failure = prompter.notifications.find((n) => n.kind === 'error')!;
    assert.match(
      failure.message,
      /Remove stopped at "Federated identity credential fic-aks-payments-payments-orders-api on id-orders": AuthorizationFailed: .*You need Microsoft\.ManagedIdentity\/userAssignedIdentities\/federatedIdentityCredentials\/delete/,
    );
    assert.match(failure.message, /Removed: .*Key Vault access policy/);
    assert.match(failure.message, /Not removed: Federated identity credential/);
    assert.match(
      prompter.notifications.at(-1)!.message,
      /^Removed the binding of payments\/orders-api on aks-payments: 3 removed, 2 kept/,
    );
    const state = await sim.state();
    assert.deepEqual(state.identities.find((i: any) => i.name === 'id-orders').credentials, []);
  });
});
