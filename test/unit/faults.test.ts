// Issue 8's fault matrix: every ARM and Kubernetes operation Bind uses, under every fault kind.
import * as assert from 'node:assert/strict';
import { IncompleteRunError, StepError } from '../../src/errors';
import { after, before, describe, it } from 'node:test';
import type { FaultKind } from '../sim/faults';
import { BindRequest, StepRecord } from '../../src/workloadIdentity/bind/model';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { FleetRequest, runFleet } from '../../src/workloadIdentity/bind/fleet';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { loadInventory, vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { applyFix } from '../../src/workloadIdentity/verify/fix';
import { verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { SUB_PROD, TENANT_CONTOSO } from '../sim/seed';
import {
  bindOrdersThroughIdentityBinding,
  probeDepsFor,
  removeDepsFor,
  verifyDepsFor,
  withSim,
  writes,
} from './helpers';
import { verifyAndTest } from '../../src/workloadIdentity/testBinding/run';
import { connectLive, toLiveWorkload } from '../../src/workloadIdentity/connect/live';
import { rolloutState } from '../../src/workloadIdentity/connect/rollout';
import { migrateRequest, planMigration } from '../../src/workloadIdentity/migrate/plan';
import { retireDirectCredentials, runMigration } from '../../src/workloadIdentity/migrate/run';
import { findWorkloadSwitches, switchWorkloads } from '../../src/workloadIdentity/migrate/workloads';
import { parseResourceId } from '../../src/azure/resourceId';
import { addSecretProviderClass, addWorkload } from '../sim/workloads';

type Env = Awaited<ReturnType<typeof withSim>>;

interface Scenario {
  name: string;
  ops: string[];
  request(env: Env): BindRequest;
}

const clusterOf = (env: Env, name: string) =>
  clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === name)!.resource);
const vaultOf = (env: Env, name: string) =>
  vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === name)!);
const newIdentity = (name: string, rg: string) => ({
  kind: 'new' as const,
  subscriptionId: SUB_PROD,
  resourceGroup: rg,
  name,
  location: 'eastus',
});

const scenarios: Scenario[] = [
  {
    // Only the cluster's own operations run against a cluster that needs enabling: each update waits out a poll.
    name: 'cluster that needs enabling',
    ops: ['managedClusters.get', 'managedClusters.createOrUpdate', 'managedClusters.getOperation'],
    request: (env) => ({
      cluster: clusterOf(env, 'aks-petclinic'),
      namespace: 'spring-petclinic',
      serviceAccount: 'web',
      vault: vaultOf(env, 'kv-petclinic'),
      identity: newIdentity('id-web', 'rg-petclinic'),
      permissions: ['secrets'],
    }),
  },
  {
    name: 'access policies, new identity, new namespace',
    ops: [
      'managedClusters.listClusterUserCredentials',
      'userAssignedIdentities.get',
      'userAssignedIdentities.createOrUpdate',
      'vaults.get',
      'vaults.updateAccessPolicy',
      'federatedIdentityCredentials.createOrUpdate',
      'kube.namespaces.list',
      'kube.namespaces.apply',
      'kube.serviceaccounts.get',
      'kube.serviceaccounts.apply',
    ],
    request: (env) => ({
      cluster: clusterOf(env, 'aks-payments'),
      namespace: 'orders',
      serviceAccount: 'orders-api',
      vault: vaultOf(env, 'kv-petclinic'),
      identity: newIdentity('id-orders', 'rg-payments'),
      permissions: ['secrets', 'keys', 'certificates'],
    }),
  },
  {
    name: 'private cluster through run-command',
    ops: ['managedClusters.runCommand', 'managedClusters.getCommandResult'],
    request: (env) => ({
      cluster: clusterOf(env, 'aks-private'),
      namespace: 'ledger',
      serviceAccount: 'ledger-sa',
      vault: vaultOf(env, 'kv-payments'),
      identity: newIdentity('id-ledger', 'rg-secure'),
      permissions: ['secrets'],
    }),
  },
  {
    name: 'RBAC vault, existing identity',
    ops: ['roleAssignments.listForScope', 'roleAssignments.create', 'federatedIdentityCredentials.list'],
    request(env) {
      const c = clusterOf(env, 'aks-payments');
      const i = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-shared-tools')!.resource;
      return {
        cluster: c,
        namespace: 'payments',
        serviceAccount: 'ledger',
        vault: vaultOf(env, 'kv-payments'),
        identity: {
          kind: 'existing',
          identity: {
            id: i.id,
            subscriptionId: SUB_PROD,
            resourceGroup: 'rg-petclinic',
            name: i.name,
            location: 'eastus',
            clientId: i.properties.clientId,
            principalId: i.properties.principalId,
            tenantId: i.properties.tenantId,
          },
        },
        permissions: ['secrets', 'keys', 'certificates'],
      };
    },
  },
];

scenarios.push({
  name: 'identity binding, new identity',
  ops: [
    'identityBindings.listByManagedCluster',
    'identityBindings.createOrUpdate',
    'identityBindings.getOperation',
    'identityBindings.get',
    'federatedIdentityCredentials.list',
    'kube.clusterroles.list',
    'kube.clusterrolebindings.list',
    'kube.clusterroles.apply',
    'kube.clusterrolebindings.apply',
  ],
  request: (env) => ({
    cluster: clusterOf(env, 'aks-payments'),
    namespace: 'orders',
    serviceAccount: 'orders-api',
    vault: vaultOf(env, 'kv-payments'),
    identity: newIdentity('id-orders', 'rg-payments'),
    permissions: ['secrets'],
    mode: 'identityBinding',
  }),
});

const KINDS: FaultKind[] = ['429', '500', '503', 'reset', 'timeout', '409', 'lroFailed'];

/** The world a bind leaves, without generated ids. */
function world(env: Env) {
  const ids = [...env.sim.state.identities.values()];
  const principals = new Map(ids.map((r) => [r.resource.properties.principalId, r.resource.name]));
  const issuers = new Set(
    [...env.sim.state.clusters.values()].map((c) => c.resource.properties.oidcIssuerProfile?.issuerURL).filter(Boolean),
  );
  return JSON.stringify({
    // Issuer URLs are new GUIDs after each reset: compare that each names a cluster's issuer exactly.
    identities: ids
      .map(
        (r) =>
          `${r.resource.name}:${[...r.credentials.values()]
            .map(
              (c) => `${c.name}|${c.properties.subject}|${c.properties.audiences}|${issuers.has(c.properties.issuer)}`,
            )
            .sort()
            .join(',')}`,
      )
      .sort(),
    policies: [...env.sim.state.vaults.values()].map((v) =>
      v.properties.accessPolicies
        .map((p: any) => `${principals.get(p.objectId) ?? p.objectId}:${JSON.stringify(p.permissions)}`)
        .sort(),
    ),
    roles: [...env.sim.state.roleAssignments.values()]
      .map(
        (a) =>
          `${principals.get(a.properties.principalId) ?? a.properties.principalId}:${a.properties.roleDefinitionId.split('/').pop()}`,
      )
      .sort(),
    serviceAccounts: [...env.sim.state.clusters.values()]
      .flatMap((c) =>
        [...c.kube.serviceAccounts.entries()].map(
          ([k, sa]) =>
            `${c.name}/${k}:${Object.keys(sa.metadata.annotations ?? {})
              .sort()
              .join('+')}`,
        ),
      )
      .sort(),
    namespaces: [...env.sim.state.clusters.values()].map(
      (c) => `${c.name}:${[...c.kube.namespaces.keys()].sort().join('+')}`,
    ),
    clusters: [...env.sim.state.clusters.values()].map(
      (c) =>
        `${c.name}:${c.resource.properties.provisioningState}:${!!c.resource.properties.securityProfile?.workloadIdentity?.enabled}:${c.violations.length}`,
    ),
    identityBindings: [...env.sim.state.clusters.values()].map(
      (c) =>
        `${c.name}:${[...(c.identityBindings?.values() ?? [])].map((b) => `${b.resource.name}:${b.resource.properties.provisioningState}`).join('+')}:${[...c.kube.clusterRoleBindings.values()].map((b) => JSON.stringify(b.subjects)).join('+')}`,
    ),
  });
}

describe('faults at every operation Bind uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({
      requestTimeoutMs: 400,
      config: { clusterUpdateMs: 50, pollRetryAfterSeconds: 1, credentialWriteMs: 0, identityBindingMs: 0 },
    });
  });
  after(async () => {
    await env.sim.stop();
    console.log(
      `\nFault matrix (transient: one failure; outcome, then whether the final state equals a fault-free run)\n${table.join('\n')}`,
    );
  });

  for (const sc of scenarios) {
    it(sc.name, async () => {
      env.sim.reset();
      const bind = () =>
        runBind(
          sc.request(env),
          { ...env.services.bindDeps(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) },
          { signal: new AbortController().signal },
        );
      await bind();
      const clean = world(env);
      table.push(`| ${sc.name} | ${KINDS.join(' | ')} |`);
      for (const op of sc.ops) {
        const row: string[] = [];
        for (const kind of KINDS) {
          if (kind === 'lroFailed' && op !== 'managedClusters.createOrUpdate') {
            row.push('n/a');
            continue;
          }
          env.sim.reset();
          env.sim.addFault({ op, kind, count: 1 });
          let outcome: string;
          try {
            await bind();
            outcome = 'completed';
          } catch (e) {
            assert.ok(e instanceof IncompleteRunError, `${op}/${kind}: ${e}`);
            const failed = (e.records as StepRecord[]).find((r) => r.result === 'failed');
            assert.ok(failed, `${op}/${kind}: the failing step is named`);
            assert.ok(e.notDone.length > 0);
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

describe('faults at every operation a Bind to several clusters uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400, config: { credentialWriteMs: 0 } });
  });
  after(async () => {
    await env.sim.stop();
    console.log(
      `\nFault matrix, Bind to two clusters (one failure; then Retry of the failed clusters)\n${table.join('\n')}`,
    );
  });

  it('a fault once is retried or stops only its cluster; Retry of the failed clusters ends where a fault-free run does', async () => {
    const request = (): FleetRequest => ({
      clusters: [clusterOf(env, 'aks-payments'), clusterOf(env, 'aks-entra')],
      namespace: 'orders',
      serviceAccount: 'orders-api',
      vault: vaultOf(env, 'kv-payments'),
      identity: newIdentity('id-orders-fleet', 'rg-payments'),
      permissions: ['secrets'],
    });
    const deps = () => ({
      ...env.services.bindDeps(),
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20))),
    });
    const run = (f: FleetRequest) => runFleet(f, deps(), { signal: new AbortController().signal });
    env.sim.reset();
    await run(request());
    const clean = world(env);
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout', '409'];
    const ops = [
      'userAssignedIdentities.createOrUpdate',
      'roleAssignments.create',
      'federatedIdentityCredentials.createOrUpdate',
      'kube.namespaces.apply',
      'kube.serviceaccounts.apply',
    ];
    table.push(`| operation | ${kinds.join(' | ')} |`);
    for (const op of ops) {
      const row: string[] = [];
      for (const kind of kinds) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        const f = request();
        const failed = (await run(f)).filter((o) => 'error' in o).map((o) => o.cluster);
        env.sim.faults.clear();
        if (failed.length) {
          const again = await run({ ...f, clusters: failed });
          assert.ok(
            again.every((o) => 'result' in o),
            `${op}/${kind}: Retry binds the failed clusters`,
          );
        }
        const same = world(env) === clean;
        assert.ok(same, `${op}/${kind}: the final state differs from a fault-free run\n${world(env)}\n${clean}`);
        row.push(failed.length ? `${failed.map((c) => c.name).join('+')} failed, Retry completed` : 'completed');
      }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});

describe('faults at every operation the tree uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400 });
  });
  after(async () => {
    await env.sim.stop();
    console.log(`\nTree fault matrix (transient: one failure; permanent: every call fails)\n${table.join('\n')}`);
  });

  const load = async () => {
    const subs = await env.services.listSubscriptions();
    return loadInventory(
      env.services.inventory,
      subs.map((s) => s.subscriptionId),
    );
  };
  // Issuer URLs get new GUIDs at every reset of the simulator.
  const normalized = (inv: unknown) =>
    JSON.stringify(inv).replace(/(oic\.prod-aks\.azure\.com\/)[^"]+"/g, '$1<issuer>"');

  it('subscriptions, Resource Graph and the per-subscription listing', async () => {
    env.sim.reset();
    const clean = normalized(await load());
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout'];
    table.push(`| operation | ${kinds.join(' | ')} | permanent 403 |`);
    const ops = ['subscriptions.list', 'resources.query', 'managedClusters.list', 'vaults.listBySubscription'];
    for (const op of ops) {
      const row: string[] = [];
      // The listing fallback runs only when Resource Graph refuses.
      const setup = () => {
        env.sim.reset();
        if (!['subscriptions.list', 'resources.query'].includes(op))
          env.sim.addFault({ op: 'resources.query', kind: '403', count: 0 });
      };
      for (const kind of kinds) {
        setup();
        env.sim.addFault({ op, kind, count: 1 });
        const result = normalized(await load());
        assert.equal(result, clean, `${op}/${kind}: the tree differs from a fault-free load`);
        row.push('loaded');
      }
      setup();
      env.sim.addFault({ op, kind: '403', count: 0 });
      const outcome = await load().then(
        (inv) => {
          const failed = inv.filter((i) => i.error);
          if (op === 'resources.query') {
            assert.equal(failed.length, 0);
            assert.equal(normalized(inv), clean);
            return 'fell back to listing, loaded';
          }
          assert.equal(failed.length, inv.length, `${op}: each subscription shows its error`);
          assert.match(failed[0].error!, /AuthorizationFailed/);
          return 'error node with Retry per subscription';
        },
        (e) => {
          assert.equal(op, 'subscriptions.list', String(e));
          return 'error node with Retry at the root';
        },
      );
      row.push(outcome);
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });

  it("Resource Graph's quota: loads that need more queries than a window allows wait for the next window", async () => {
    env.sim.reset();
    const clean = normalized(await load());
    env.sim.reset();
    env.sim.config.graphQuota = 1;
    env.sim.config.graphQuotaWindowMs = 300;
    // Three tree loads at once with a quota of one query a window; a fresh client that does not know the quota yet.
    const loads = await Promise.all([load(), load(), load()]);
    for (const inv of loads) assert.equal(normalized(inv), clean);
    const queries = env.sim.log.filter((r) => r.op === 'resources.query').map((r) => r.status);
    assert.ok(queries.filter((s) => s === 200).length === 3, String(queries));
    table.push(
      `| resources.query, quota of 1 a window, 3 loads at once | loaded (${queries.filter((s) => s === 429).length} answered 429 and were sent again after Retry-After) |`,
    );
  });
});

describe('faults at every operation Verify uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400, config: { credentialWriteMs: 0 } });
  });
  after(async () => {
    await env.sim.stop();
    console.log(`\nVerify fault matrix (transient: one failure; permanent: every call fails)\n${table.join('\n')}`);
  });

  const deps = () => verifyDepsFor(env.services);
  // The seeded hand-made binding: a credential issuer without its slash, and a policy on an RBAC vault.
  const target = () => ({
    cluster: clusterOf(env, 'aks-payments'),
    namespace: 'checkout',
    serviceAccount: 'checkout-api',
  });
  // Every reset makes new GUIDs and timestamps.
  const normalized = (x: unknown) =>
    JSON.stringify(x)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<guid>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/(-7d9f8c6b5-)\w{5}/g, '$1<pod>');
  const checks = async () => normalized((await verifyBinding(target(), deps())).report.checks);

  it('reads: transient faults are retried to the same report; a denied read marks its checks and the rest still run', async () => {
    env.sim.reset();
    const clean = await checks();
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout'];
    table.push(`| operation | ${kinds.join(' | ')} | permanent 403 |`);
    const ops = [
      'resources.query',
      'managedClusters.get',
      'managedClusters.listClusterUserCredentials',
      'kube.mutatingwebhookconfigurations.list',
      'kube.serviceaccounts.get',
      'kube.pods.list',
      'kube.replicasets.list',
      'userAssignedIdentities.listBySubscription',
      'federatedIdentityCredentials.list',
      'roleAssignments.listForScope',
      'vaults.get',
    ];
    for (const op of ops) {
      const row: string[] = [];
      for (const kind of kinds) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        assert.equal(await checks(), clean, `${op}/${kind}: the report differs from a fault-free run`);
        row.push('same report');
      }
      env.sim.reset();
      env.sim.addFault({ op, kind: '403', count: 0 });
      const { report } = await verifyBinding(target(), deps());
      const marked = report.checks.filter((c) => c.status === 'error');
      if (op === 'resources.query') {
        // The inventory falls back to listing; nothing is lost.
        assert.equal(normalized(report.checks), clean);
        row.push('fell back to listing, same report');
      } else {
        assert.ok(marked.length > 0, `${op}: a denied read marks the checks that needed it`);
        assert.ok(
          marked.every((c) => /Could not read what this check needs: AuthorizationFailed|Forbidden/.test(c.message)),
          `${op}: ${marked.map((c) => c.message).join(' / ')}`,
        );
        assert.ok(
          report.checks.some((c) => c.status !== 'error' && c.status !== 'skip'),
          `${op}: the other checks still ran`,
        );
        row.push(`${marked.map((c) => c.key).join(', ')} marked unreadable`);
      }
      assert.deepEqual(writes(env.sim), [], `${op}: verifying sent no write`);
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });

  it('fixes: transient faults are retried; a permanent one stops with the cause, and fixing again ends where a fault-free fix does', async () => {
    const fixBoth = async () => {
      const { report, facts } = await verifyBinding(target(), deps());
      // After a partial fix, only what is still broken offers a fix.
      for (const key of ['issuer', 'vault:kv-payments']) {
        const fix = report.checks.find((c) => c.key === key)?.fix;
        if (fix) await applyFix(fix, facts, deps(), new AbortController().signal);
      }
    };
    env.sim.reset();
    await fixBoth();
    const clean = world(env);
    const after = await checks();
    assert.ok(!after.includes('"status":"fail"'), 'both fixes pass');
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout', '409'];
    table.push('', `| fix operation | ${kinds.join(' | ')} |`);
    for (const op of ['federatedIdentityCredentials.createOrUpdate', 'roleAssignments.create']) {
      const row: string[] = [];
      for (const kind of kinds) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        let outcome = 'fixed';
        try {
          await fixBoth();
        } catch (e) {
          assert.match(String((e as Error).message), /\S/);
          env.sim.faults.clear();
          await fixBoth();
          outcome = 'stopped with the cause, fixed on retry';
        }
        assert.equal(world(env), clean, `${op}/${kind}: the state differs from a fault-free fix`);
        row.push(outcome);
      }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});

describe('faults at every call Test Binding makes', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400, retryDelayMs: 50 });
  });
  after(async () => {
    await env.sim.stop();
    console.log(`\nTest Binding fault matrix (once: one failure; every time: each call fails)\n${table.join('\n')}`);
  });

  it('a fault once is retried to the same result or stops at its stage; every time, it stops at its stage with the later ones skipped; no stage passes on an answer it did not get', async () => {
    const target = () => ({
      cluster: clusterOf(env, 'aks-payments'),
      namespace: 'payments',
      serviceAccount: 'payments-api',
    });
    const run = async () =>
      (await verifyAndTest(target(), probeDepsFor(env.services), { propagationWaitMs: 0 })).report.checks
        .filter((c) => ['token', 'exchange', 'keyVault'].includes(c.id))
        .map((c) => `${c.key}:${c.status}`)
        .join(' ');
    env.sim.reset();
    const clean = await run();
    assert.equal(clean, 'token:pass exchange:pass keyVault:kv-payments:secrets:pass');
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout', '409'];
    table.push(
      `| operation | ${kinds.map((k) => `${k} once`).join(' | ')} | ${kinds.map((k) => `${k} every time`).join(' | ')} |`,
    );
    const stageOf: Record<string, string> = {
      'kube.serviceaccounts.token': 'token',
      'entra.openidConfiguration': 'exchange',
      'entra.token': 'exchange',
      'keyvault.secrets.get': 'keyVault:kv-payments:secrets',
    };
    const stages = [...new Set(Object.values(stageOf))];
    // What each stage's pass rests on: an answer from the service (Key Vault's 404 for a name that does not exist).
    const answered = (op: string) =>
      env.sim.log.some(
        (r) => r.op === op && !r.fault && (r.status < 300 || (op === 'keyvault.secrets.get' && r.status === 404)),
      );
    const marksOf = (result: string) =>
      Object.fromEntries(
        result.split(' ').map((x) => [x.slice(0, x.lastIndexOf(':')), x.slice(x.lastIndexOf(':') + 1)]),
      );
    const seenOnly = (result: string, label: string) => {
      const marks = marksOf(result);
      for (const [op, stage] of Object.entries(stageOf))
        if (marks[stage] === 'pass') assert.ok(answered(op), `${label}: ${stage} passed without an answer from ${op}`);
      return marks;
    };
    for (const [op, stage] of Object.entries(stageOf)) {
      const row: string[] = [];
      for (const count of [1, 0]) {
        for (const kind of kinds) {
          env.sim.reset();
          env.sim.addFault({ op, kind, count });
          const result = await run();
          const marks = seenOnly(result, `${op}/${kind}/${count}`);
          if (result === clean) {
            assert.equal(count, 1, `${op}/${kind}: every call failed, yet the test passed`);
            row.push('same result');
            continue;
          }
          assert.ok(['fail', 'error'].includes(marks[stage]), `${op}/${kind}/${count}: ${result}`);
          for (const s of stages.slice(stages.indexOf(stage) + 1))
            assert.equal(
              marks[s.startsWith('keyVault') ? 'keyVault' : s],
              'skip',
              `${op}: ${s} after a failed ${stage}`,
            );
          row.push(`${stage} ${marks[stage]}`);
        }
      }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});

describe('faults at every call Verify and Test Binding make through an identity binding', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({
      requestTimeoutMs: 400,
      retryDelayMs: 50,
      // Retry-After: 1 polls run-command each second (without it, the SDK's 2 s).
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 0, pollRetryAfterSeconds: 1 },
    });
  });
  after(async () => {
    await env.sim.stop();
    console.log(`\nThrough an identity binding: Verify's reads and Test Binding's pod\n${table.join('\n')}`);
  });
  const target = () => ({ cluster: clusterOf(env, 'aks-payments'), namespace: 'orders', serviceAccount: 'orders-api' });
  /** The seed, then Bind through an identity binding: what each run starts from. */
  const bound = async () => {
    env.sim.reset();
    await bindOrdersThroughIdentityBinding(env);
    env.sim.log.length = 0;
  };
  const normalized = (x: unknown) =>
    JSON.stringify(x)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<guid>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
      .replace(/akswi-(probe|test)-[0-9a-f]+/g, 'akswi-$1-<n>');

  // Verify and Test Binding leave nothing behind (the test pod is deleted): each case starts from one Bind.
  const fresh = () => {
    env.sim.faults.clear();
    env.sim.log.length = 0;
  };

  it("Verify's reads of the identity binding, the RBAC and the webhook: transient faults give the same report; a denied read marks its checks", async () => {
    await bound();
    const clean = normalized((await verifyBinding(target(), verifyDepsFor(env.services))).report.checks);
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout'];
    table.push(`| Verify's read | ${kinds.join(' | ')} | permanent 403 |`);
    for (const op of [
      'identityBindings.listByManagedCluster',
      'kube.clusterroles.list',
      'kube.clusterrolebindings.list',
      'kube.deployments.list',
    ]) {
      const row: string[] = [];
      for (const kind of kinds) {
        fresh();
        env.sim.addFault({ op, kind, count: 1 });
        const { report } = await verifyBinding(target(), verifyDepsFor(env.services));
        assert.equal(normalized(report.checks), clean, `${op}/${kind}: the report differs from a fault-free run`);
        row.push('same report');
      }
      fresh();
      env.sim.addFault({ op, kind: '403', count: 0 });
      const { report } = await verifyBinding(target(), verifyDepsFor(env.services));
      const marked = report.checks.filter((c) => c.status === 'error');
      assert.ok(marked.length > 0, `${op}: a denied read marks the checks that needed it`);
      assert.ok(
        report.checks.some((c) => c.status === 'pass'),
        `${op}: the other checks still ran`,
      );
      assert.deepEqual(writes(env.sim), [], `${op}: verifying sent no write`);
      row.push(`${marked.map((c) => c.key).join(', ')} marked unreadable`);
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });

  it("Test Binding's pod: a fault once is retried to the same result; every time, the exchange or Key Vault stage fails or errs and none passes unseen", async () => {
    const run = async () =>
      (await verifyAndTest(target(), probeDepsFor(env.services), { propagationWaitMs: 0 })).report.checks
        .filter((c) => ['exchange', 'keyVault'].includes(c.id))
        .map((c) => `${c.key}:${c.status}`)
        .join(' ');
    await bound();
    const clean = await run();
    assert.equal(clean, 'exchange:pass keyVault:kv-payments:secrets:pass');
    // 500 behaves as 503 everywhere here: it is left out to keep the run short.
    const kinds: FaultKind[] = ['429', '503', 'reset', 'timeout'];
    table.push(
      '',
      `| Test Binding's call | ${kinds.map((k) => `${k} once`).join(' | ')} | ${kinds.map((k) => `${k} every time`).join(' | ')} |`,
    );
    const stageOf: Record<string, string> = {
      'managedClusters.runCommand': 'exchange',
      'managedClusters.getCommandResult': 'exchange',
      'aksProxy.token': 'exchange',
      'keyvault.secrets.get': 'keyVault:kv-payments:secrets',
    };
    for (const [op, stage] of Object.entries(stageOf)) {
      const row: string[] = [];
      for (const count of [1, 0])
        for (const kind of kinds) {
          // The pod's curl gives an unanswered call 10 s a try, four tries: 40 s a case, and nothing new to see.
          if (count === 0 && kind === 'timeout' && !op.startsWith('managedClusters.')) {
            row.push('(not run: 4 tries of 10 s)');
            continue;
          }
          fresh();
          env.sim.addFault({ op, kind, count });
          const result = await run();
          if (count === 1) {
            assert.equal(result, clean, `${op}/${kind} once: retried to the same result`);
            row.push('same result');
            continue;
          }
          const marks = Object.fromEntries(
            result.split(' ').map((x) => [x.slice(0, x.lastIndexOf(':')), x.slice(x.lastIndexOf(':') + 1)]),
          );
          assert.ok(['fail', 'error'].includes(marks[stage]!), `${op}/${kind} every time: ${result}`);
          if (stage === 'exchange') assert.equal(marks.keyVault, 'skip', `${op}: Key Vault after a failed exchange`);
          row.push(`${stage} ${marks[stage]}`);
        }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});

describe('faults at every call Connect (live) makes', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400, retryDelayMs: 20 });
  });
  after(async () => {
    await env.sim.stop();
    console.log(
      `\nConnect (live) fault matrix (once: one failure, then Retry; every time: each call fails)\n${table.join('\n')}`,
    );
  });

  it("a fault once is retried or stops at a named step and Retry finishes; every time, it stops and never says connected; the end state is a fault-free run's", async () => {
    const rec = () => [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;
    const fresh = async () => {
      env.sim.reset();
      rec().kube.stagedRollouts = true;
      const kube = await env.services.bindDeps().kube(clusterOf(env, 'aks-payments'));
      const w = toLiveWorkload(await kube.getWorkload('Deployment', 'payments', 'payments-worker'));
      const sa = rec().kube.serviceAccounts.get('payments/payments-api')!.metadata.annotations!;
      const secrets = {
        name: 'payments-api-kv-payments',
        clientId: sa['azure.workload.identity/client-id'],
        tenantId: TENANT_CONTOSO,
        vaultName: 'kv-payments',
        cloud: 'AzureCloud' as const,
        objects: [{ objectName: 'db-password', objectType: 'secret' as const }],
        addonEnabled: true,
        clusterResourceGroup: 'rg-payments',
      };
      env.sim.log.length = 0;
      return () => connectLive(kube, w, 'payments-api', { sleep: () => Promise.resolve(), secrets });
    };
    /** The end state: the two fields and the mount, the rollout done, every pod of it ready and given the token. */
    const world = () => {
      const dep = rec().kube.deployments.get('payments/payments-worker')!;
      const pods = [...rec().kube.pods.values()].filter((p) => p.metadata.name.startsWith('payments-worker-'));
      return JSON.stringify({
        sa: dep.spec.template.spec.serviceAccountName,
        label: dep.spec.template.metadata.labels['azure.workload.identity/use'],
        volumes: dep.spec.template.spec.volumes?.map((v: any) => v.name),
        done: rolloutState(dep).done,
        pods: pods.map(
          (p) =>
            `${p.status.conditions[0].status}:${p.spec.containers[0].env.some((e: any) => e.name === 'AZURE_FEDERATED_TOKEN_FILE')}`,
        ),
        spc: rec().kube.secretProviderClasses.has('payments/payments-api-kv-payments'),
      });
    };
    await (
      await fresh()
    )();
    const clean = world();
    assert.match(clean, /"done":true,"pods":\["True:true"\]/);
    const kinds: FaultKind[] = ['429', '500', '503', 'reset', 'timeout', '409'];
    table.push(
      `| operation | ${kinds.map((k) => `${k} once`).join(' | ')} | ${kinds.map((k) => `${k} every time`).join(' | ')} |`,
    );
    for (const op of [
      'kube.secretproviderclasses.apply',
      'kube.deployments.get',
      'kube.deployments.apply',
      'kube.pods.list',
      'kube.replicasets.list',
    ]) {
      const row: string[] = [];
      for (const count of [1, 0]) {
        for (const kind of kinds) {
          const connect = await fresh();
          env.sim.addFault({ op, kind, count });
          let outcome: string;
          try {
            await connect();
            assert.equal(count, 1, `${op}/${kind}: every call failed, yet Connect said connected`);
            assert.equal(
              world(),
              clean,
              `${op}/${kind}: connected, but the rollout is not where a fault-free run leaves it`,
            );
            outcome = 'connected';
          } catch (e) {
            assert.ok(e instanceof StepError, `${op}/${kind}/${count}: ${e}`);
            assert.equal(e.step, 'Set the ServiceAccount and the label on the workload');
            env.sim.faults.clear();
            await connect();
            assert.equal(world(), clean, `${op}/${kind}: Retry did not end where a fault-free run does`);
            outcome = `stopped (${e.code}), Retry connected`;
          }
          row.push(outcome);
        }
      }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});

describe('faults at every call Migrate makes', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({
      requestTimeoutMs: 400,
      retryDelayMs: 20,
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 20, pollRetryAfterSeconds: 0 },
    });
  });
  after(async () => {
    await env.sim.stop();
    console.log(`\nMigrate fault matrix (a fault once, then Migrate again)\n${table.join('\n')}`);
  });

  it('a fault once completes or stops only its cluster or workload, with the direct credentials kept; Migrate again ends where a fault-free Migrate ends', async () => {
    const names = ['aks-payments', 'aks-entra'];
    const rec = (name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
    /** id-orders bound directly to both clusters, where Deployment orders-api runs as the ServiceAccount. */
    const fresh = async () => {
      env.sim.reset();
      await runFleet(
        {
          clusters: names.map((n) => clusterOf(env, n)),
          namespace: 'orders',
          serviceAccount: 'orders-api',
          vault: vaultOf(env, 'kv-payments'),
          identity: newIdentity('id-orders', 'rg-payments'),
          permissions: ['secrets'],
        },
        verifyDepsFor(env.services),
        { signal: new AbortController().signal },
      );
      for (const n of names)
        addWorkload(rec(n), 'orders', 'Deployment', 'orders-api', {
          serviceAccount: 'orders-api',
          labels: { 'azure.workload.identity/use': 'true' },
        });
      // A SecretProviderClass that mounts the identity's secrets on aks-entra: it switches too.
      const clientId = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!.resource
        .properties.clientId;
      addSecretProviderClass(rec('aks-entra'), 'orders', 'orders-kv', {
        clientID: clientId,
        keyvaultName: 'kv-payments',
      });
      env.sim.log.length = 0;
    };
    /** What the command does: plan, the bindings, the workloads in the cluster, then (all done) the retirement. */
    const migrate = async (): Promise<string> => {
      const deps = removeDepsFor(env.services);
      const idRec = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
      const identity = (await env.services.identities.find(parseResourceId(idRec.resource.id)))!;
      const clusters = [...env.sim.state.clusters.values()].map((c) => clusterFromRaw(c.resource));
      const plan = await planMigration(
        migrateRequest(identity, await deps.identities.listCredentials(identity), clusters),
        deps,
      );
      const signal = new AbortController().signal;
      const stopped = (await runMigration(plan, deps, { signal })).filter((o) => 'error' in o);
      if (stopped.length) return `${stopped.length} cluster stopped`;
      const found = await findWorkloadSwitches(plan, deps, undefined);
      if (found.unreadable.length) return 'workloads unread';
      const connectDeps = { files: undefined as never, kube: deps.kube, sleep: () => Promise.resolve(), log: deps.log };
      const notSwitched = (await switchWorkloads(found.inCluster, connectDeps, { signal })).filter((o) => 'error' in o);
      if (notSwitched.length) return `${notSwitched.length} workload stopped`;
      await retireDirectCredentials(plan, deps, { signal });
      return 'migrated';
    };
    const world = () =>
      JSON.stringify({
        credentials: [
          ...[...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!.credentials.keys(),
        ].sort(),
        clusters: names.map((n) => {
          const c = rec(n);
          const d = c.kube.deployments.get('orders/orders-api')!;
          return {
            bindings: [...(c.identityBindings?.values() ?? [])].map((b) => b.resource.properties.provisioningState),
            subjects: [...c.kube.clusterRoleBindings.values()].map((b) => b.subjects),
            annotated: d.spec.template.metadata.annotations?.['azure.workload.identity/use-identity-binding'],
            proxied: c.kube.secretProviderClasses.get('orders/orders-kv')?.spec.parameters.useAzureTokenProxy,
            done: rolloutState(d).done,
          };
        }),
      });
    await fresh();
    assert.equal(await migrate(), 'migrated');
    const clean = world();
    assert.match(clean, /"credentials":\["aks-identity-binding"\]/);
    assert.match(clean, /"proxied":"true"/, "aks-entra's SecretProviderClass goes through the proxy");
    const kinds: FaultKind[] = ['500', 'timeout', '409'];
    table.push(`| operation | ${kinds.join(' | ')} |`);
    for (const op of [
      'federatedIdentityCredentials.list',
      'identityBindings.listByManagedCluster',
      'identityBindings.createOrUpdate',
      'identityBindings.get',
      'kube.clusterrolebindings.list',
      'kube.clusterrolebindings.apply',
      'kube.deployments.list',
      'kube.secretproviderclasses.list',
      'kube.secretproviderclasses.apply',
      'kube.deployments.apply',
      'kube.pods.list',
      'federatedIdentityCredentials.delete',
    ]) {
      const row: string[] = [];
      for (const kind of kinds) {
        await fresh();
        env.sim.addFault({ op, kind, count: 1 });
        let outcome: string;
        try {
          outcome = await migrate();
        } catch (e) {
          // A read while planning stops before any write; a stopped delete names what it did not remove.
          outcome = `stopped (${(e as Error).name})`;
        }
        if (outcome !== 'migrated') {
          const kept = world();
          // Before the retirement both direct credentials stay; a stopped retirement keeps the one it did not delete.
          assert.match(
            kept,
            op === 'federatedIdentityCredentials.delete'
              ? /fic-aks-(payments|entra)-orders-orders-api/
              : /fic-aks-entra-orders-orders-api","fic-aks-payments-orders-orders-api/,
            `${op}/${kind}: a stopped Migrate kept the direct credentials`,
          );
          env.sim.faults.clear();
          assert.equal(await migrate(), 'migrated', `${op}/${kind}: Migrate again did not finish`);
          outcome = `${outcome}, again: migrated`;
        }
        assert.equal(world(), clean, `${op}/${kind}: not where a fault-free Migrate ends`);
        row.push(outcome);
      }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});

describe('faults while the tree and the prompts read lists', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400 });
  });
  after(async () => {
    await env.sim.stop();
  });

  it('identities, their credentials and the tenant list: transient faults are retried to the same answer', async () => {
    const bindings = async () => {
      const ids = await env.services.identities.list(SUB_PROD);
      const creds = await Promise.all(ids.map((i) => env.services.identities.listCredentials(i)));
      const tenants = await env.services.listTenants();
      return JSON.stringify({
        ids: ids.map((i) => i.name).sort(),
        creds: creds
          .flat()
          .map((c) => c.name)
          .sort(),
        tenants: tenants.map((t) => t.tenantId),
      });
    };
    env.sim.reset();
    const clean = await bindings();
    for (const op of [
      'userAssignedIdentities.listBySubscription',
      'federatedIdentityCredentials.list',
      'tenants.list',
    ]) {
      for (const kind of ['429', '500', '503', 'reset', 'timeout'] as FaultKind[]) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        assert.equal(await bindings(), clean, `${op}/${kind}`);
      }
    }
  });

  it('namespaces and ServiceAccounts the prompts offer: transient faults are retried to the same list', async () => {
    const lists = async () => {
      const kube = await env.services.connect(clusterOf(env, 'aks-payments'));
      return JSON.stringify({
        ns: await kube.listNamespaces(),
        sas: (await kube.listServiceAccounts('payments')).map((s) => s.name),
      });
    };
    env.sim.reset();
    const clean = await lists();
    for (const op of ['kube.namespaces.list', 'kube.serviceaccounts.list']) {
      for (const kind of ['429', '500', '503', 'reset', 'timeout'] as FaultKind[]) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        assert.equal(await lists(), clean, `${op}/${kind}`);
      }
    }
  });
});
