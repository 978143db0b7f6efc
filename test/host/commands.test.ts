import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ClusterNode, VaultNode } from '../../src/ui/tree/nodes';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { extensionApi, findNode, freshWorld, sim, until } from './support';

describe('commands from the tree (extension host)', () => {
  beforeEach(freshWorld);
  after(async () => {
    const api = await extensionApi();
    api.setPrompter(undefined);
    await api.context.tree.setSelectedSubscriptions(undefined);
  });

  it('Enable Workload Identity on a cluster node: confirms, updates only the flags, shows the issuer URL, updates the node', async () => {
    const api = await extensionApi();
    const node = (await findNode('aks-oidc-only')) as ClusterNode;
    const prompter = new ScriptedPrompter([{ confirm: true }]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.enableWorkloadIdentity', node);
    assert.match(prompter.recorded[0].message!, /Enable workload identity on aks-oidc-only\?/);
    const state = await sim.state();
    const cluster = state.clusters.find((c: any) => c.name === 'aks-oidc-only');
    assert.equal(cluster.properties.securityProfile.workloadIdentity.enabled, true);
    assert.deepEqual(cluster.violations, []);
    const done = prompter.notifications.find((n) => n.message.startsWith('Workload identity is on for aks-oidc-only'))!;
    assert.ok(done.message.endsWith(cluster.properties.oidcIssuerProfile.issuerURL));
    assert.deepEqual(done.actions, ['Copy Issuer URL']);
    assert.equal((await api.context.tree.getTreeItem(node)).description, 'workload identity on');
  });

  it('Enable on a cluster that is already on says so and sends no write', async () => {
    const api = await extensionApi();
    const node = (await findNode('aks-payments')) as ClusterNode;
    const prompter = new ScriptedPrompter([]);
    api.setPrompter(prompter);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.enableWorkloadIdentity', node);
    assert.match(prompter.notifications[0].message, /already on for aks-payments\. Issuer URL: https:\/\/.+\/$/);
    assert.ok((await sim.log()).every((r) => r.method === 'GET'));
  });

  it('Bind to AKS Cluster from an RBAC vault node: roles granted, and the tree shows the new binding', async () => {
    const api = await extensionApi();
    const vault = (await findNode('kv-payments')) as VaultNode;
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'payments' },
      { type: 'reports' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-payments-reports' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pickMany: ['get on secrets'] },
      { pick: (items) => items.find((i) => i.label.startsWith('$(check) Bind')) },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindToCluster', vault);
    assert.equal(prompter.remaining, 0, JSON.stringify(prompter.notifications));
    assert.ok(
      !prompter.recorded.some((r) => r.title === 'Bind Key Vault' && r.labels?.includes('kv-payments')),
      'the vault was not asked for',
    );
    const state = await sim.state();
    const identity = state.identities.find((i: any) => i.name === 'id-payments-reports');
    const roles = state.roleAssignments.filter(
      (a: any) => a.properties.principalId === identity.properties.principalId,
    );
    assert.deepEqual(
      roles.map((a: any) => a.properties.roleDefinitionId.split('/').pop()),
      ['4633458b-17de-408a-b874-0445c86b69e6'],
    );
    const cluster = await findNode('aks-payments');
    const bindings = await until('the new binding in the tree', async () => {
      const items = await Promise.all(
        (await api.context.tree.getChildren(cluster)).map((c) => api.context.tree.getTreeItem(c)),
      );
      return items.some((i) => i.label === 'payments/reports') ? items : undefined;
    });
    assert.ok(bindings.some((i) => i.label === 'payments/reports' && i.description === '→ id-payments-reports'));
  });

  it('Select Subscriptions filters the tree and remembers the choice', async () => {
    const api = await extensionApi();
    api.setPrompter(new ScriptedPrompter([{ pickMany: ['Contoso Dev/Test'] }]));
    await vscode.commands.executeCommand('aksWorkloadIdentity.selectSubscriptions');
    const labels = await Promise.all(
      (await api.context.tree.getChildren()).map(async (c) => (await api.context.tree.getTreeItem(c)).label),
    );
    assert.deepEqual(labels, ['platform.engineer@contoso.com', 'Contoso Dev/Test']);
    api.context.tree.refresh();
    assert.deepEqual(
      (await api.context.tree.selectedSubscriptions()).map((s) => s.displayName),
      ['Contoso Dev/Test'],
    );
  });

  it('a failing subscription shows its error with Retry while the other still shows', async () => {
    const api = await extensionApi();
    // Resource Graph denied: per-subscription listing, where the first vault listing is refused (403 is not retried).
    await sim.addFault({ op: 'resources.query', kind: '403', count: 0 });
    await sim.addFault({ op: 'vaults.listBySubscription', kind: '403', count: 1 });
    api.context.tree.refresh();
    const subs = (await api.context.tree.getChildren()).slice(1);
    assert.equal(subs.length, 2);
    const kids = await Promise.all(
      subs.map(async (s) =>
        Promise.all((await api.context.tree.getChildren(s)).map((c) => api.context.tree.getTreeItem(c))),
      ),
    );
    const failed = kids.filter((k) => k.some((i) => i.contextValue === 'error'));
    const shown = kids.filter((k) => k.some((i) => i.contextValue === 'group.clusters'));
    assert.equal(failed.length, 1, 'one subscription shows its error');
    assert.match(String(failed[0][0].label), /AuthorizationFailed/);
    assert.equal(failed[0][0].command?.command, 'aksWorkloadIdentity.retry');
    assert.equal(shown.length, 1, 'the other still shows its clusters and vaults');
    await sim.clearFaults();
  });

  it('a Resource Graph answer in another shape shows an error node with Retry, never an empty list; Retry loads it', async () => {
    const api = await extensionApi();
    await sim.addFault({ op: 'resources.query', kind: 'malformedRows', count: 1 });
    api.context.tree.refresh();
    const subs = (await api.context.tree.getChildren()).slice(1);
    const kids = await Promise.all(
      subs.map(async (s) =>
        Promise.all((await api.context.tree.getChildren(s)).map((c) => api.context.tree.getTreeItem(c))),
      ),
    );
    assert.ok(
      kids.every((k) => k.length === 1 && k[0].contextValue === 'error'),
      JSON.stringify(kids.map((k) => k.map((i) => i.label))),
    );
    assert.match(
      String(kids[0][0].label),
      /Resource Graph answered in a shape that was not asked for: .* has no resource id/,
    );
    assert.equal(kids[0][0].command?.command, 'aksWorkloadIdentity.retry');
    await vscode.commands.executeCommand('aksWorkloadIdentity.retry', (await api.context.tree.getChildren(subs[0]))[0]);
    const again = await Promise.all(
      (await api.context.tree.getChildren(subs[0])).map((c) => api.context.tree.getTreeItem(c)),
    );
    assert.deepEqual(
      again.map((i) => i.contextValue),
      ['group.clusters', 'group.vaults', 'group.identities'],
    );
  });

  it('Copy Resource ID and Copy Issuer URL put the exact values on the clipboard', async () => {
    const node = (await findNode('aks-payments')) as ClusterNode;
    await vscode.commands.executeCommand('aksWorkloadIdentity.copyResourceId', node);
    assert.equal(await vscode.env.clipboard.readText(), node.cluster.id);
    await vscode.commands.executeCommand('aksWorkloadIdentity.copyIssuerUrl', node);
    const cluster = (await sim.state()).clusters.find((c: any) => c.name === 'aks-payments');
    assert.equal(await vscode.env.clipboard.readText(), cluster.properties.oidcIssuerProfile.issuerURL);
    const vault = (await findNode('kv-payments')) as VaultNode;
    await vscode.commands.executeCommand('aksWorkloadIdentity.copyResourceId', vault);
    assert.equal(await vscode.env.clipboard.readText(), vault.vault.id);
  });

  it('authentication "auto" falls back to the Azure CLI when VS Code has no Microsoft session; "vscode" alone stays signed out', async () => {
    const api = await extensionApi();
    const config = vscode.workspace.getConfiguration('aksWorkloadIdentity');
    const before = config.inspect<string>('authentication')?.globalValue;
    try {
      await config.update('authentication', 'vscode', vscode.ConfigurationTarget.Global);
      await until(
        'signed out: VS Code has no session and the CLI is not asked',
        async () => (await api.context.auth.restore()) === undefined || undefined,
      );
      await config.update('authentication', 'auto', vscode.ConfigurationTarget.Global);
      const s = await until('auto sign-in', async () => api.context.auth.restore());
      assert.equal(s.method, 'azureCli');
    } finally {
      await config.update('authentication', before, vscode.ConfigurationTarget.Global);
      await until('signed in again', async () => api.context.auth.restore());
    }
  });

  it('an incomplete custom environment: "vscode" says which fields VS Code needs instead of waiting forever; "auto" uses the Azure CLI', async () => {
    const api = await extensionApi();
    const auth = vscode.workspace.getConfiguration('aksWorkloadIdentity');
    const cloud = vscode.workspace.getConfiguration('microsoft-sovereign-cloud');
    const beforeAuth = auth.inspect<string>('authentication')?.globalValue;
    const env = cloud.get<Record<string, string | null>>('customEnvironment')!;
    try {
      // In the workspace (the remote machine's settings would override a user setting), and as null: VS Code merges
      // object settings across levels, so a key left out would still come from below.
      await cloud.update(
        'customEnvironment',
        { ...env, managementEndpointUrl: null },
        vscode.ConfigurationTarget.Workspace,
      );
      await auth.update('authentication', 'vscode', vscode.ConfigurationTarget.Global);
      const prompter = new ScriptedPrompter([]);
      api.setPrompter(prompter);
      assert.equal(await api.context.auth.signIn(), undefined);
      assert.match(
        prompter.notifications[0]?.message ?? '',
        /customEnvironment lacks managementEndpointUrl, which VS Code requires.*azureCli/,
      );
      await auth.update('authentication', 'auto', vscode.ConfigurationTarget.Global);
      const s = await until('auto sign-in', async () => api.context.auth.restore());
      assert.equal(s.method, 'azureCli');
    } finally {
      await cloud.update('customEnvironment', undefined, vscode.ConfigurationTarget.Workspace);
      await auth.update('authentication', beforeAuth, vscode.ConfigurationTarget.Global);
      await until('signed in again', async () => api.context.auth.restore());
    }
  });
});
