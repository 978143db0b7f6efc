// Issue 8's fault matrix: every ARM and Kubernetes operation Bind uses, under every fault kind.
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FaultKind } from '../sim/faults';
import { BindRequest } from '../../src/workloadIdentity/bind/model';
import { BindIncompleteError, runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { loadInventory, vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { SUB_PROD } from '../sim/seed';
import { withSim } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

interface Scenario { name: string; ops: string[]; request(env: Env): BindRequest }

const clusterOf = (env: Env, name: string) => clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === name)!.resource);
const vaultOf = (env: Env, name: string) => vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === name)!);
const newIdentity = (name: string, rg: string) => ({ kind: 'new' as const, subscriptionId: SUB_PROD, resourceGroup: rg, name, location: 'eastus' });

const scenarios: Scenario[] = [
  {
    // Only the cluster's own operations run against a cluster that needs enabling: each update waits out a poll.
    name: 'cluster that needs enabling',
    ops: ['managedClusters.get', 'managedClusters.createOrUpdate', 'managedClusters.getOperation'],
    request: (env) => ({ cluster: clusterOf(env, 'aks-petclinic'), namespace: 'spring-petclinic', serviceAccount: 'web', vault: vaultOf(env, 'kv-petclinic'), identity: newIdentity('id-web', 'rg-petclinic'), permissions: ['secrets'] }),
  },
  {
    name: 'access policies, new identity, new namespace',
    ops: ['managedClusters.listClusterUserCredentials', 'userAssignedIdentities.get', 'userAssignedIdentities.createOrUpdate', 'vaults.get', 'vaults.updateAccessPolicy',
      'federatedIdentityCredentials.createOrUpdate', 'kube.namespaces.list', 'kube.namespaces.apply', 'kube.serviceaccounts.get', 'kube.serviceaccounts.apply'],
    request: (env) => ({ cluster: clusterOf(env, 'aks-payments'), namespace: 'orders', serviceAccount: 'orders-api', vault: vaultOf(env, 'kv-petclinic'), identity: newIdentity('id-orders', 'rg-payments'), permissions: ['secrets', 'keys', 'certificates'] }),
  },
  {
    name: 'private cluster through run-command',
    ops: ['managedClusters.runCommand', 'managedClusters.getCommandResult'],
    request: (env) => ({ cluster: clusterOf(env, 'aks-private'), namespace: 'ledger', serviceAccount: 'ledger-sa', vault: vaultOf(env, 'kv-payments'), identity: newIdentity('id-ledger', 'rg-secure'), permissions: ['secrets'] }),
  },
  {
    name: 'RBAC vault, existing identity',
    ops: ['roleAssignments.listForScope', 'roleAssignments.create', 'federatedIdentityCredentials.list'],
    request(env) {
      const c = clusterOf(env, 'aks-payments');
      const i = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-shared-tools')!.resource;
      return { cluster: c, namespace: 'payments', serviceAccount: 'ledger', vault: vaultOf(env, 'kv-payments'),
        identity: { kind: 'existing', identity: { id: i.id, subscriptionId: SUB_PROD, resourceGroup: 'rg-petclinic', name: i.name, location: 'eastus', clientId: i.properties.clientId, principalId: i.properties.principalId, tenantId: i.properties.tenantId } },
        permissions: ['secrets', 'keys', 'certificates'] };
    },
  },
];

const KINDS: FaultKind[] = ['429', '500', '503', 'reset', 'timeout', '409', 'lroFailed'];

/** The world a bind leaves, without generated ids. */
function world(env: Env) {
  const ids = [...env.sim.state.identities.values()];
  const principals = new Map(ids.map((r) => [r.resource.properties.principalId, r.resource.name]));
  const issuers = new Set([...env.sim.state.clusters.values()].map((c) => c.resource.properties.oidcIssuerProfile?.issuerURL).filter(Boolean));
  return JSON.stringify({
    // Issuer URLs are new GUIDs after each reset: compare that each names a cluster's issuer exactly.
    identities: ids.map((r) => `${r.resource.name}:${[...r.credentials.values()].map((c) => `${c.name}|${c.properties.subject}|${c.properties.audiences}|${issuers.has(c.properties.issuer)}`).sort().join(',')}`).sort(),
    policies: [...env.sim.state.vaults.values()].map((v) => v.properties.accessPolicies.map((p: any) => `${principals.get(p.objectId) ?? p.objectId}:${JSON.stringify(p.permissions)}`).sort()),
    roles: [...env.sim.state.roleAssignments.values()].map((a) => `${principals.get(a.properties.principalId) ?? a.properties.principalId}:${a.properties.roleDefinitionId.split('/').pop()}`).sort(),
    serviceAccounts: [...env.sim.state.clusters.values()].flatMap((c) => [...c.kube.serviceAccounts.entries()].map(([k, sa]) => `${c.name}/${k}:${Object.keys(sa.metadata.annotations ?? {}).sort().join('+')}`)).sort(),
    namespaces: [...env.sim.state.clusters.values()].map((c) => `${c.name}:${[...c.kube.namespaces.keys()].sort().join('+')}`),
    clusters: [...env.sim.state.clusters.values()].map((c) => `${c.name}:${c.resource.properties.provisioningState}:${!!c.resource.properties.securityProfile?.workloadIdentity?.enabled}:${c.violations.length}`),
  });
}

describe('faults at every operation Bind uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => { env = await withSim({ requestTimeoutMs: 400, config: { clusterUpdateMs: 50, pollRetryAfterSeconds: 1, credentialWriteMs: 0 } }); });
  after(async () => {
    await env.sim.stop();
    console.log(`\nFault matrix (transient: one failure; outcome, then whether the final state equals a fault-free run)\n${table.join('\n')}`);
  });

  for (const sc of scenarios) {
    it(sc.name, async () => {
      env.sim.reset();
      const bind = () => runBind(sc.request(env), { ...env.services.bindDeps(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) }, { signal: new AbortController().signal });
      await bind();
      const clean = world(env);
      table.push(`| ${sc.name} | ${KINDS.join(' | ')} |`);
      for (const op of sc.ops) {
        const row: string[] = [];
        for (const kind of KINDS) {
          if (kind === 'lroFailed' && op !== 'managedClusters.createOrUpdate') { row.push('n/a'); continue; }
          env.sim.reset();
          env.sim.addFault({ op, kind, count: 1 });
          let outcome: string;
          try {
            await bind();
            outcome = 'completed';
          } catch (e) {
            assert.ok(e instanceof BindIncompleteError, `${op}/${kind}: ${e}`);
            const failed = e.records.find((r) => r.result === 'failed');
            assert.ok(failed, `${op}/${kind}: the failing step is named`);
            assert.ok(e.summary().notDone.length > 0);
            env.sim.faults.clear();
            await bind();
            outcome = `stopped at ${failed!.id}, rerun completed`;
          }
          const same = world(env) === clean;
          assert.ok(same, `${op}/${kind}: the final state differs from a fault-free run\n${world(env)}\n${clean}`);
          row.push(`${outcome}${same ? '' : ' (STATE DIFFERS)'}`);
        }
        table.push(`| ${op} | ${row.join(' | ')} |`);
      }
    });
  }
});

describe('faults at every operation the tree uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => { env = await withSim({ requestTimeoutMs: 400 }); });
  after(async () => {
    await env.sim.stop();
    console.log(`\nTree fault matrix (transient: one failure; permanent: every call fails)\n${table.join('\n')}`);
  });

  it('subscriptions, Resource Graph and the per-subscription listing', async () => {
    const load = async () => {
      const subs = await env.services.listSubscriptions();
      return loadInventory(env.services.inventory, subs.map((s) => s.subscriptionId));
    };
    // Issuer URLs get new GUIDs at every reset of the simulator.
    const normalized = (inv: unknown) => JSON.stringify(inv).replace(/(oic\.prod-aks\.azure\.com\/)[^"]+"/g, '$1<issuer>"');
    env.sim.reset();
    const clean = normalized(await load());
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout'];
    table.push(`| operation | ${kinds.join(' | ')} | permanent 403 |`);
    const ops = ['subscriptions.list', 'resources.query', 'managedClusters.list', 'vaults.listBySubscription'];
    for (const op of ops) {
      const row: string[] = [];
      // The listing fallback runs only when Resource Graph refuses.
      const setup = () => { env.sim.reset(); if (!['subscriptions.list', 'resources.query'].includes(op)) env.sim.addFault({ op: 'resources.query', kind: '403', count: 0 }); };
      for (const kind of kinds) {
        setup();
        env.sim.addFault({ op, kind, count: 1 });
        const result = normalized(await load());
        assert.equal(result, clean, `${op}/${kind}: the tree differs from a fault-free load`);
        row.push('loaded');
      }
      setup();
      env.sim.addFault({ op, kind: '403', count: 0 });
      const outcome = await load().then((inv) => {
        const failed = inv.filter((i) => i.error);
        if (op === 'resources.query') { assert.equal(failed.length, 0); assert.equal(normalized(inv), clean); return 'fell back to listing, loaded'; }
        assert.equal(failed.length, inv.length, `${op}: each subscription shows its error`);
        assert.match(failed[0].error!, /AuthorizationFailed/);
        return 'error node with Retry per subscription';
      }, (e) => {
        assert.equal(op, 'subscriptions.list', String(e));
        return 'error node with Retry at the root';
      });
      row.push(outcome);
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});
