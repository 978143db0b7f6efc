import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { extensionApi, signedIn, sim } from './support';
import type { TreeNode } from '../../src/ui/tree/nodes';

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
      groups.map((g) => `${g.item.label} ${g.item.description}`),
      ['Kubernetes clusters 5', 'Key Vaults 2'],
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
