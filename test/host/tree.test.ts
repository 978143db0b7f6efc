import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { extensionApi, findNode, signedIn, sim } from './support';
import type { BindingNode, CredentialNode, TreeNode } from '../../src/ui/tree/nodes';
import type { IdentityReportPanel } from '../../src/ui/report/identityPanel';

describe('Tree of clusters and vaults (extension host)', () => {
  before(async () => {
    await sim.reset();
  });

  it('activates and signs in through the Azure CLI', async () => {
    const api = await extensionApi();
    const session = await signedIn(api);
    assert.equal(session.method, 'azureCli');
    assert.equal(session.account, 'platform.engineer@contoso.com');
    assert.equal(session.cloud.resourceManagerEndpoint, `${sim.info.armUrl}/`);
  });

  it('shows subscriptions, clusters in every state and vaults of both models', async () => {
    const api = await extensionApi();
    await signedIn(api);
    const tree = api.context.tree;
    tree.refresh();
    const items = async (n?: TreeNode) =>
      Promise.all((await tree.getChildren(n)).map(async (c) => ({ node: c, item: await tree.getTreeItem(c) })));
    const root = await items();
    assert.deepEqual(
      root.map((r) => r.item.label),
      ['platform.engineer@contoso.com', 'Contoso Dev/Test', 'Contoso Production'],
    );
    const prod = root.find((r) => r.item.label === 'Contoso Production')!;
    const groups = await items(prod.node);
    assert.deepEqual(
      groups.map((g) => `${g.item.label} ${g.item.description ?? '(listed when opened)'}`),
      ['Kubernetes clusters 5', 'Key Vaults 2', 'Managed identities (listed when opened)'],
    );
    const clusters = await items(groups[0].node);
    const desc = Object.fromEntries(clusters.map((c) => [c.item.label, c.item.description]));
    assert.deepEqual(desc, {
      'aks-entra': 'workload identity on',
      'aks-oidc-only': 'OIDC issuer only',
      'aks-payments': 'workload identity on',
      'aks-petclinic': 'workload identity off',
      'aks-private': 'workload identity on',
    });
    const vaults = await items(groups[1].node);
    assert.deepEqual(
      vaults.map((v) => `${v.item.label}: ${v.item.description} (${v.item.contextValue})`),
      ['kv-payments: Azure RBAC (vault.rbac)', 'kv-petclinic: access policies (vault.accessPolicies)'],
    );
    const payments = clusters.find((c) => c.item.label === 'aks-payments')!;
    const bindings = await items(payments.node);
    assert.deepEqual(
      bindings.map((b) => `${b.item.label} ${b.item.description}`),
      [
        'checkout/checkout-api → id-checkout · issuer differs by a trailing slash',
        'payments/payments-api → id-payments-api',
      ],
    );
  });

  it('registers every command that package.json contributes', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const contributed = (
      vscode.extensions.getExtension('aks-workload-identity.aks-workload-identity')!.packageJSON.contributes
        .commands as { command: string }[]
    ).map((c) => c.command);
    assert.deepEqual(
      contributed.filter((c) => !all.has(c)),
      [],
    );
  });
});

describe('Managed identities and their credential budget in the tree (extension host)', () => {
  before(async () => {
    await sim.reset('budgets');
  });
  after(async () => {
    await sim.reset();
  });

  it('opens on request: each identity with used/20, a warning from 18, and its credentials by cluster, other tools apart, and those of no known cluster', async () => {
    const api = await extensionApi();
    await signedIn(api);
    const tree = api.context.tree;
    tree.refresh();
    const label = (n: TreeNode) => String(tree.getTreeItem(n).label);
    const described = (n: TreeNode) => `${label(n)}: ${String(tree.getTreeItem(n).description ?? '')}`;
    const prod = (await tree.getChildren()).find((n) => label(n) === 'Contoso Production')!;
    await sim.clearLog();
    const group = (await tree.getChildren(prod)).find((n) => label(n) === 'Managed identities')!;
    assert.equal(tree.getTreeItem(group).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.deepEqual(
      (await sim.log()).filter((r) => /userAssignedIdentities|federatedIdentityCredentials/.test(r.op ?? '')),
      [],
      'nothing is read for identities until the group opens',
    );
    const identities = await tree.getChildren(group);
    const calls = (await sim.log()).map((r) => r.op);
    assert.equal(calls.filter((op) => op === 'userAssignedIdentities.listBySubscription').length, 1);
    assert.equal(
      calls.filter((op) => op === 'federatedIdentityCredentials.list').length,
      (await sim.state()).identities.filter((i: any) => i.id.includes('/subscriptions/291bba3f')).length,
      'one credential list per identity of the subscription, once',
    );
    assert.deepEqual(identities.map(described), [
      'id-checkout: 1/20 credentials',
      'id-fleet-19: 19/20 credentials',
      'id-fleet-20: 20/20 credentials',
      'id-orders: 3/20 credentials',
      'id-payments-api: 2/20 credentials',
    ]);
    const byName = (n: string) => identities.find((i) => label(i) === n)!;
    assert.equal(tree.getTreeItem(byName('id-fleet-19')).contextValue, 'identity.warning');
    assert.equal(tree.getTreeItem(byName('id-fleet-20')).contextValue, 'identity.full');
    assert.equal(tree.getTreeItem(byName('id-checkout')).contextValue, 'identity.ok');
    const orders = await tree.getChildren(byName('id-orders'));
    assert.deepEqual(orders.map(described), ['aks-payments: 1', 'Issuer of no known cluster: 2']);
    assert.deepEqual((await tree.getChildren(orders[1])).map(label), [
      'fic-aks-payments-blue-orders',
      'fic-aks-payments-blue-jobs',
    ]);
    assert.deepEqual((await tree.getChildren(byName('id-payments-api'))).map(described), [
      'aks-payments: 1',
      'GitHub Actions: 1',
    ]);
    const checkout = await tree.getChildren(byName('id-checkout'));
    assert.deepEqual(checkout.map(described), ['aks-payments: 1 · 1 with the issuer differing by a trailing slash']);
    assert.equal(tree.getTreeItem((await tree.getChildren(checkout[0]))[0]).contextValue, 'credential.broken');
  });

  it('a binding shows its identity, and a credential its binding (Show Identity, Show Binding)', async () => {
    const api = await extensionApi();
    const tree = api.context.tree;
    const label = (n: TreeNode) => String(tree.getTreeItem(n).label);
    const payments = await findNode('aks-payments');
    const binding = (await tree.getChildren(payments)).find((n) => label(n) === 'payments/payments-api') as BindingNode;
    const identity = (await tree.identityNodeOf(binding))!;
    assert.equal(label(identity), 'id-payments-api');
    assert.equal(
      tree.getParent(tree.getParent(identity)!) && label(tree.getParent(tree.getParent(identity)!)!),
      'Contoso Production',
    );
    const [byCluster, byTool] = await tree.getChildren(identity);
    const credential = (await tree.getChildren(byCluster)).at(0) as CredentialNode;
    assert.equal(tree.getTreeItem(credential).contextValue, 'credential.bound');
    assert.equal(tree.getTreeItem((await tree.getChildren(byTool)).at(0)!).contextValue, 'credential');
    assert.equal(label((await tree.bindingNodeOf(credential))!), 'payments/payments-api');
    await vscode.commands.executeCommand('aksWorkloadIdentity.showIdentity', binding);
    await vscode.commands.executeCommand('aksWorkloadIdentity.showBinding', credential);
    // Revealing opened the view; the tests after this one expect a closed view that asks for nothing.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
  });

  it('Clean Up Credentials on an identity: a review with nothing checked, a yes that names each, the deletes; a rerun finds nothing', async () => {
    const api = await extensionApi();
    const tree = api.context.tree;
    const label = (n: TreeNode) => String(tree.getTreeItem(n).label);
    const prod = (await tree.getChildren()).find((n) => label(n) === 'Contoso Production')!;
    const group = (await tree.getChildren(prod)).find((n) => label(n) === 'Managed identities')!;
    const orders = (await tree.getChildren(group)).find((n) => label(n) === 'id-orders')!;
    const prompter = new ScriptedPrompter([
      { pickMany: ['fic-aks-payments-blue-orders', 'fic-aks-payments-blue-jobs'] },
      { confirm: true },
    ]);
    api.setPrompter(prompter);
    try {
      await sim.clearLog();
      await vscode.commands.executeCommand('aksWorkloadIdentity.cleanUpCredentials', orders);
      const review = prompter.recorded.find((r) => r.kind === 'pickMany')!;
      assert.deepEqual(review.labels, ['fic-aks-payments-blue-orders', 'fic-aks-payments-blue-jobs']);
      assert.deepEqual(review.picked, [], 'nothing is checked');
      assert.match(
        prompter.recorded.find((r) => r.kind === 'confirm')!.message!,
        /Delete 2 federated credentials of id-orders\?\nfic-aks-payments-blue-orders, fic-aks-payments-blue-jobs\./,
      );
      assert.equal(prompter.notifications.at(-1)!.message, 'Deleted 2 credentials of id-orders.');
      assert.deepEqual(
        (await sim.log()).filter((r) => r.method === 'DELETE').map((r) => r.op),
        ['federatedIdentityCredentials.delete', 'federatedIdentityCredentials.delete'],
      );
      const left = (await sim.state()).identities.find((i: any) => i.name === 'id-orders').credentials;
      assert.deepEqual(
        left.map((c: any) => c.name),
        ['fic-aks-payments-orders'],
      );
      const again = new ScriptedPrompter([]);
      api.setPrompter(again);
      await sim.clearLog();
      await vscode.commands.executeCommand('aksWorkloadIdentity.cleanUpCredentials', orders);
      assert.match(again.notifications.at(-1)!.message, /nothing to clean up/);
      assert.deepEqual(
        (await sim.log()).filter((r) => r.method === 'DELETE'),
        [],
      );
    } finally {
      api.setPrompter(undefined);
    }
  });

  it('Verify Bindings on Every Cluster on an identity: one report with a section per binding, the other tools listed as not checked; a fix in a section repairs it', async () => {
    const api = await extensionApi();
    const tree = api.context.tree;
    const label = (n: TreeNode) => String(tree.getTreeItem(n).label);
    const prod = (await tree.getChildren()).find((n) => label(n) === 'Contoso Production')!;
    const group = (await tree.getChildren(prod)).find((n) => label(n) === 'Managed identities')!;
    const byName = async (n: string) => (await tree.getChildren(group)).find((i) => label(i) === n)!;
    const prompter = new ScriptedPrompter([{ confirm: true }]);
    api.setPrompter(prompter);
    try {
      const payments = (await vscode.commands.executeCommand(
        'aksWorkloadIdentity.verifyIdentity',
        await byName('id-payments-api'),
      )) as IdentityReportPanel;
      assert.deepEqual(
        payments.report!.sections.map(
          (s) => `${s.report.target.cluster.name} ${s.report.target.namespace}/${s.report.target.serviceAccount}`,
        ),
        ['aks-payments payments/payments-api'],
      );
      assert.deepEqual(
        payments.report!.notChecked.map((n) => n.why),
        ['made by GitHub Actions: not a binding of a cluster'],
      );
      const checkout = (await vscode.commands.executeCommand(
        'aksWorkloadIdentity.verifyIdentity',
        await byName('id-checkout'),
      )) as IdentityReportPanel;
      const issuer = checkout.report!.sections[0]!.report.checks.find((c) => c.id === 'issuer')!;
      assert.equal(issuer.status, 'fail', issuer.message);
      await sim.clearLog();
      assert.equal(await checkout.fix(`0:${issuer.key}`), true);
      assert.match(prompter.recorded.find((r) => r.kind === 'confirm')!.message!, / on aks-payments\?\n/);
      assert.deepEqual(
        (await sim.log()).filter((r) => r.method === 'PUT').map((r) => r.op),
        ['federatedIdentityCredentials.createOrUpdate'],
      );
      assert.equal(
        checkout.report!.sections[0]!.report.checks.find((c) => c.id === 'issuer')!.status,
        'pass',
        'the report ran again after the fix',
      );
    } finally {
      api.setPrompter(undefined);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
