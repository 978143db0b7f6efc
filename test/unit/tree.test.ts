import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { INVENTORY_QUERY, InventorySource, loadInventory, vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { bindingLook, bindingsOf, clusterLook, vaultLook } from '../../src/workloadIdentity/presentation';
import { SUB_DEV, SUB_PROD, seedScale, seedStandard } from '../sim/seed';
import { withSim } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('tree model from Resource Graph rows', () => {
  const row = (props: any) => ({ id: `/subscriptions/${SUB_PROD}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1`, name: 'c1', type: 'microsoft.containerservice/managedclusters', location: 'eastus', properties: props });

  it('describes each workload identity state with its context value', () => {
    const off = clusterLook(clusterFromRaw(row({ provisioningState: 'Succeeded' })));
    const oidc = clusterLook(clusterFromRaw(row({ provisioningState: 'Succeeded', oidcIssuerProfile: { enabled: true, issuerURL: 'https://eastus.oic.prod-aks.azure.com/t/i/' } })));
    const on = clusterLook(clusterFromRaw(row({ provisioningState: 'Succeeded', oidcIssuerProfile: { enabled: true, issuerURL: 'https://x/' }, securityProfile: { workloadIdentity: { enabled: true } }, aadProfile: { managed: true }, apiServerAccessProfile: { enablePrivateCluster: true } })));
    assert.deepEqual([off.description, off.contextValue], ['workload identity off', 'cluster.off']);
    assert.deepEqual([oidc.description, oidc.contextValue], ['OIDC issuer only', 'cluster.oidcOnly']);
    assert.deepEqual([on.description, on.contextValue], ['workload identity on', 'cluster.on.entra.private']);
    assert.match(oidc.tooltip!, /Issuer URL: `https:\/\/eastus\.oic\.prod-aks\.azure\.com\/t\/i\/`/);
    assert.match(on.tooltip!, /Microsoft Entra ID: integrated/);
    assert.match(on.tooltip!, /API server: private/);
  });

  it('shows an updating cluster as busy', () => {
    const look = clusterLook(clusterFromRaw(row({ provisioningState: 'Updating' })));
    assert.equal(look.description, 'workload identity off · updating…');
    assert.equal(look.contextValue, 'cluster.off.busy');
  });

  it('escapes markup in names and tags from Azure', () => {
    const look = clusterLook(clusterFromRaw({ ...row({ provisioningState: 'Succeeded' }), location: '<img src=x onerror=alert(1)>' }));
    assert.doesNotMatch(look.tooltip!, /(^|[^\\])<img/, 'markup is escaped');
    assert.match(look.tooltip!, /\\<img/);
  });

  it('describes vaults by permission model, treating a missing flag as access policies', () => {
    const v = (p: any) => vaultLook(vaultFromRaw({ id: `/subscriptions/${SUB_PROD}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`, location: 'eastus', properties: p }));
    assert.deepEqual([v({ enableRbacAuthorization: true }).description, v({ enableRbacAuthorization: true }).contextValue], ['Azure RBAC', 'vault.rbac']);
    assert.deepEqual([v({}).description, v({}).contextValue], ['access policies', 'vault.accessPolicies']);
  });

  it('finds bindings by exact issuer, and ignores other subjects', () => {
    const issuer = 'https://eastus.oic.prod-aks.azure.com/t/i/';
    const b = bindingsOf(issuer, [{ id: 'id1', name: 'id-a', clientId: 'c', credentials: [
      { name: 'ok', issuer, subject: 'system:serviceaccount:ns:sa' },
      { name: 'slash', issuer: issuer.slice(0, -1), subject: 'system:serviceaccount:ns:sa2' },
      { name: 'github', issuer, subject: 'repo:contoso/app:ref:refs/heads/main' },
    ] }]);
    assert.deepEqual(b.map((x) => `${x.namespace}/${x.serviceAccount}${x.issuerMismatch ? ' (broken)' : ''}`), ['ns/sa', 'ns/sa2 (broken)']);
    assert.equal(bindingLook(b[1]).contextValue, 'binding.broken');
    assert.match(bindingLook(b[1]).description!, /issuer differs by a trailing slash/);
    assert.deepEqual(bindingsOf(undefined, []), []);
  });
});

describe('inventory loading', () => {
  let env: Env;
  // 40,000 resources take the simulator a few seconds to gather: no client timeout in the way.
  before(async () => { env = await withSim({ requestTimeoutMs: 60_000 }); });
  after(async () => { await env.sim.stop(); });
  beforeEach(() => env.sim.reset(seedStandard));

  it('loads clusters and vaults of all subscriptions in one Resource Graph round trip', async () => {
    const inv = await loadInventory(env.services.inventory, [SUB_PROD, SUB_DEV]);
    assert.deepEqual(env.sim.log.map((r) => r.op), ['resources.query']);
    const prod = inv.find((i) => i.subscriptionId === SUB_PROD)!;
    assert.deepEqual(prod.clusters.map((c) => c.name).sort(), ['aks-entra', 'aks-oidc-only', 'aks-payments', 'aks-petclinic', 'aks-private']);
    assert.deepEqual(prod.vaults.map((v) => `${v.name}:${v.rbac}`).sort(), ['kv-payments:true', 'kv-petclinic:false']);
  });

  it('1000 subscriptions of 20 clusters and 20 vaults load in one round trip (one row per subscription)', async () => {
    env.sim.reset((s) => seedScale(s, 1000, 20, 20));
    const subs = env.sim.state.subscriptions.map((s) => s.subscriptionId);
    const inv = await loadInventory(env.services.inventory, subs);
    assert.equal(env.sim.log.filter((r) => r.op === 'resources.query').length, 1);
    assert.equal(inv.reduce((n, i) => n + i.clusters.length + i.vaults.length, 0), 40_000);
    const first = inv.find((i) => i.subscriptionId === subs[0])!;
    assert.deepEqual(first.clusters.filter((c) => c.workloadIdentityEnabled).length, 5);
  });

  it('follows $skipToken pages, and splits more than 1000 subscriptions into parallel queries', async () => {
    const calls: { subs: number; token?: string }[] = [];
    const src: InventorySource = {
      async queryPage(subs, _q, token) {
        calls.push({ subs: subs.length, token });
        const vault = (sub: string, n: number) => ({ id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv${n}`, type: 'microsoft.keyvault/vaults', location: 'eastus', subscriptionId: sub, rbac: true });
        return token ? { data: [{ subscriptionId: subs[0], resources: [vault(subs[0], 2)] }] } : { data: [{ subscriptionId: subs[0], resources: [vault(subs[0], 1)] }], skipToken: 'next' };
      },
      async listClusters() { return []; }, async listVaults() { return []; },
    };
    const subs = Array.from({ length: 2500 }, (_, i) => `sub-${i}`);
    const inv = await loadInventory(src, subs);
    assert.deepEqual(calls.filter((c) => !c.token).map((c) => c.subs), [1000, 1000, 500]);
    assert.equal(calls.filter((c) => c.token === 'next').length, 3);
    assert.deepEqual(inv[0].vaults.map((v) => v.name), ['kv1', 'kv2']);
  });

  it('falls back to per-subscription listing when Resource Graph is denied, and one failing subscription leaves the others', async () => {
    env.sim.addFault({ op: 'resources.query', kind: '403', count: 0 });
    env.sim.addFault({ op: 'vaults.listBySubscription', kind: '403', count: 1 });
    const log = { lines: [] as string[], warn(m: string) { this.lines.push(m); } };
    const inv = await loadInventory(env.services.inventory, [SUB_PROD, SUB_DEV], log);
    assert.match(log.lines[0], /Resource Graph refused the query \(AuthorizationFailed\)/);
    const failed = inv.filter((i) => i.error);
    const fine = inv.filter((i) => !i.error);
    assert.equal(failed.length, 1);
    assert.match(failed[0].error!, /AuthorizationFailed/);
    assert.equal(fine.length, 1);
    assert.ok(fine[0].clusters.length > 0);
  });

  it('uses the query it documents', async () => {
    const seen: string[] = [];
    const src: InventorySource = { async queryPage(_s, q) { seen.push(q); return { data: [] }; }, async listClusters() { return []; }, async listVaults() { return []; } };
    await loadInventory(src, ['a']);
    assert.deepEqual(seen, [INVENTORY_QUERY]);
  });
});
