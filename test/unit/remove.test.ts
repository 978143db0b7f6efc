import * as assert from 'node:assert/strict';
import { IncompleteRunError } from '../../src/errors';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BindRequest } from '../../src/workloadIdentity/bind/model';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import type { Removal, RemoveChoices, RemovePlan } from '../../src/workloadIdentity/remove/model';
import { observeRemoval, planRemoval, removalCount } from '../../src/workloadIdentity/remove/plan';
import { runRemove } from '../../src/workloadIdentity/remove/run';
import type { FaultKind } from '../sim/faults';
import { SUB_PROD, addCredential, addServiceAccount } from '../sim/seed';
import { keyOf } from '../sim/model';
import { removeDepsFor, withSim, worldOf, writes } from './helpers';
import type { Binding } from '../../src/workloadIdentity/binding';

type Env = Awaited<ReturnType<typeof withSim>>;

const clusterOf = (env: Env, name: string) =>
  clusterFromRaw([...env.sim.state.clusters.values()].find((c) => c.name === name)!.resource);
const vaultOf = (env: Env, name: string) =>
  vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === name)!);
const identityRec = (env: Env, name: string) =>
  [...env.sim.state.identities.values()].find((r) => r.resource.name === name);

function bindRequest(
  env: Env,
  o: { cluster?: string; vault?: string; namespace?: string; sa?: string; identity?: string } = {},
): BindRequest {
  const cluster = clusterOf(env, o.cluster ?? 'aks-payments');
  return {
    cluster,
    namespace: o.namespace ?? 'payments',
    serviceAccount: o.sa ?? 'orders-api',
    vault: vaultOf(env, o.vault ?? 'kv-petclinic'),
    identity: {
      kind: 'new',
      subscriptionId: SUB_PROD,
      resourceGroup: cluster.resourceGroup,
      name: o.identity ?? 'id-orders',
      location: cluster.location,
    },
    permissions: ['secrets', 'keys', 'certificates'],
  };
}
const bind = (env: Env, r: BindRequest) =>
  runBind(r, removeDepsFor(env.services), { signal: new AbortController().signal });
const target = (r: BindRequest): Binding => ({
  cluster: r.cluster,
  namespace: r.namespace,
  serviceAccount: r.serviceAccount,
});
const ALL: RemoveChoices = { deleteIdentity: true, deleteServiceAccount: true };
const KEEP: RemoveChoices = { deleteIdentity: false, deleteServiceAccount: false };

async function plan(env: Env, t: Binding, choices: RemoveChoices): Promise<RemovePlan> {
  return planRemoval(await observeRemoval(t, removeDepsFor(env.services)), choices);
}
const remove = async (env: Env, t: Binding, choices: RemoveChoices) =>
  runRemove(await plan(env, t, choices), removeDepsFor(env.services), { signal: new AbortController().signal });

describe('Remove Binding', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { credentialWriteMs: 0, principalReplicationMs: 0 } });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  for (const vault of ['kv-petclinic', 'kv-payments']) {
    it(`Bind then Remove with everything chosen returns Azure and the cluster to their state before Bind (${vault === 'kv-payments' ? 'Azure RBAC' : 'access policies'})`, async () => {
      const before = worldOf(env.sim.state);
      const r = bindRequest(env, { vault });
      await bind(env, r);
      assert.notDeepEqual(worldOf(env.sim.state), before);
      const p = await plan(env, target(r), ALL);
      assert.deepEqual(p.unreadable, []);
      assert.deepEqual(
        p.removals
          .filter((x) => x.decision === 'remove')
          .map((x) => x.kind)
          .sort(),
        [
          'annotations',
          'credential',
          'identity',
          'serviceAccount',
          ...(vault === 'kv-payments' ? ['roleAssignment', 'roleAssignment', 'roleAssignment'] : ['accessPolicy']),
        ].sort(),
      );
      assert.deepEqual(
        writes(env.sim).filter((x) => x.op.includes('delete') || x.op.includes('remove')),
        [],
        'planning sends no delete',
      );
      const logged = env.sim.log.length;
      const done = await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
      assert.ok(done.filter((x) => x.decision === 'remove').every((x) => x.result === 'removed'));
      assert.deepEqual(worldOf(env.sim.state), before);
      const vaultReads = env.sim.log
        .slice(logged)
        .filter((x) => x.op === 'roleAssignments.listForScope' && /\/vaults\//i.test(x.path));
      if (vault === 'kv-payments')
        assert.equal(vaultReads.length, 1, "the vault's role assignments are read once for its three lines");
    });
  }

  it('on a private cluster, through run-command: Bind then Remove with everything chosen returns to the state before Bind', async () => {
    const before = worldOf(env.sim.state);
    const r = {
      ...bindRequest(env, { cluster: 'aks-private', namespace: 'ledger' }),
      identity: {
        kind: 'new' as const,
        subscriptionId: SUB_PROD,
        resourceGroup: 'rg-secure',
        name: 'id-ledger',
        location: 'northeurope',
      },
    };
    await bind(env, r);
    await remove(env, target(r), ALL);
    assert.ok(
      env.sim.log.some((x) => x.op === 'managedClusters.runCommand'),
      'the cluster was reached through run-command',
    );
    assert.deepEqual(worldOf(env.sim.state), before);
  });

  it('with the defaults keeps exactly the identity and the ServiceAccount (without its annotations)', async () => {
    const r = bindRequest(env);
    const bound = await bind(env, r);
    const p = await plan(env, target(r), KEEP);
    assert.deepEqual(p.removals.map((x) => `${x.kind}:${x.decision}`).sort(), [
      'accessPolicy:remove',
      'annotations:remove',
      'credential:remove',
      'identity:keep',
      'serviceAccount:keep',
    ]);
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    const id = identityRec(env, 'id-orders')!;
    assert.equal(id.credentials.size, 0);
    assert.equal(id.resource.properties.clientId, bound.identity.clientId);
    const sa = [...env.sim.state.clusters.values()]
      .find((c) => c.name === 'aks-payments')!
      .kube.serviceAccounts.get('payments/orders-api')!;
    assert.equal(sa.metadata.annotations, undefined, 'both annotations released');
    assert.ok(
      !vaultOf(env, 'kv-petclinic') ||
        ![...env.sim.state.vaults.values()]
          .find((v) => v.name === 'kv-petclinic')!
          .properties.accessPolicies.some((x: any) => x.objectId === bound.identity.principalId),
    );
  });

  it('a second Remove plans nothing and sends no write', async () => {
    const r = bindRequest(env);
    await bind(env, r);
    await remove(env, target(r), ALL);
    const after1 = worldOf(env.sim.state);
    env.sim.log.length = 0;
    const p = await plan(env, target(r), ALL);
    assert.equal(removalCount(p), 0);
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.deepEqual(writes(env.sim), []);
    assert.deepEqual(worldOf(env.sim.state), after1);
  });

  it('foreign grants, credentials and annotations survive; each is listed as not ours', async () => {
    // The identity also serves another cluster's ServiceAccount of the same name: its grants and the identity stay.
    const r = bindRequest(env, { vault: 'kv-payments' });
    const bound = await bind(env, r);
    const id = identityRec(env, 'id-orders')!;
    const other = addCredential(
      env.sim.state,
      id,
      'fic-elsewhere',
      'https://westeurope.oic.prod-aks.azure.com/other/',
      'system:serviceaccount:payments:orders-api',
    );
    env.sim.state.othersOwn.add(keyOf(`credential:${other.id}`));
    // Someone labelled and annotated the ServiceAccount by hand.
    const cluster = [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;
    const sa = cluster.kube.serviceAccounts.get('payments/orders-api')!;
    sa.metadata.labels = { team: 'orders' };
    sa.metadata.annotations!['owner'] = 'orders-team';
    sa.metadata.managedFields!.push({
      manager: 'kubectl-edit',
      operation: 'Update',
      apiVersion: 'v1',
      time: new Date().toISOString(),
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { 'f:team': {} }, 'f:annotations': { 'f:owner': {} } } },
    });
    const p = await plan(env, target(r), ALL);
    const line = (kind: string) => p.removals.filter((x) => x.kind === kind).map((x) => `${x.decision}`);
    assert.deepEqual(line('credential').sort(), ['notOurs', 'remove']);
    assert.deepEqual(line('roleAssignment'), ['keep', 'keep', 'keep'], 'the identity still serves the other cluster');
    assert.deepEqual(line('identity'), ['keep']);
    assert.match(p.identityKept!, /other federated credentials \(fic-elsewhere\)/);
    assert.deepEqual(line('serviceAccount'), ['notOurs'], 'kubectl-edit has fields on it');
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.deepEqual([...id.credentials.keys()], ['fic-elsewhere']);
    assert.equal(
      [...env.sim.state.roleAssignments.values()].filter((a) => a.properties.principalId === bound.identity.principalId)
        .length,
      3,
    );
    assert.deepEqual(cluster.kube.serviceAccounts.get('payments/orders-api')!.metadata.annotations, {
      owner: 'orders-team',
    });
    assert.deepEqual(cluster.kube.serviceAccounts.get('payments/orders-api')!.metadata.labels, { team: 'orders' });
    assert.deepEqual(worldOf(env.sim.state).violations, []);
  });

  it('the hand-made binding: removes its credential (issuer without the slash); the policy on the RBAC vault, the hand-made annotation and the identity stay', async () => {
    const cluster = clusterOf(env, 'aks-payments');
    const p = await plan(env, { cluster, namespace: 'checkout', serviceAccount: 'checkout-api' }, ALL);
    const by = (kind: string) => p.removals.filter((x) => x.kind === kind).map((x) => `${x.decision} ${x.detail}`);
    assert.match(by('credential')[0], /^remove /);
    assert.match(by('accessPolicy')[0], /^notOurs get on secrets: not made by Bind; the vault uses Azure RBAC/);
    assert.match(by('annotations')[0], /^notOurs set by kubectl-client-side-apply/);
    assert.deepEqual(by('identity'), ['notOurs not created by this extension']);
    assert.deepEqual(by('serviceAccount'), ['notOurs also managed by kubectl-client-side-apply']);
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    const id = identityRec(env, 'id-checkout')!;
    assert.equal(id.credentials.size, 0);
    const policy = [...env.sim.state.vaults.values()]
      .find((v) => v.name === 'kv-payments')!
      .properties.accessPolicies.find((x: any) => x.objectId === id.resource.properties.principalId);
    assert.deepEqual(policy.permissions, { secrets: ['get', 'list'] });
    assert.deepEqual(worldOf(env.sim.state).violations, []);
  });

  it("on an access-policy vault takes away only get: the principal's other permissions stay", async () => {
    const r = bindRequest(env);
    const bound = await bind(env, r);
    const vault = [...env.sim.state.vaults.values()].find((v) => v.name === 'kv-petclinic')!;
    const policy = vault.properties.accessPolicies.find((x: any) => x.objectId === bound.identity.principalId);
    policy.permissions.secrets.push('list');
    env.sim.state.othersOwn.add(`policy:${keyOf(vault.id)}:${bound.identity.principalId}:secrets:list`);
    const p = await plan(env, target(r), KEEP);
    assert.match(
      p.removals.find((x) => x.kind === 'accessPolicy')!.detail,
      /get on secrets, keys, certificates for id-orders; its other permissions stay \(secrets\/list\)/,
    );
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.deepEqual(
      vault.properties.accessPolicies.find((x: any) => x.objectId === bound.identity.principalId).permissions,
      { secrets: ['list'] },
    );
    assert.deepEqual(worldOf(env.sim.state).violations, []);
  });

  it('Cancel stops between steps: what ran is reported, and running Remove again finishes', async () => {
    const r = bindRequest(env);
    await bind(env, r);
    const p = await plan(env, target(r), ALL);
    const controller = new AbortController();
    // Cancel once the first priority's deletes are under way: the ServiceAccount and identity steps must not start.
    const deps = removeDepsFor(env.services);
    const deleteCredential = deps.identities.deleteCredential.bind(deps.identities);
    deps.identities.deleteCredential = async (...a) => {
      await deleteCredential(...a);
      controller.abort();
    };
    await assert.rejects(
      runRemove(p, deps, { signal: controller.signal }),
      (e: unknown) => e instanceof IncompleteRunError && e.cancelled,
    );
    assert.deepEqual(
      p.removals.filter((x) => x.kind === 'identity' || x.kind === 'serviceAccount').map((x) => x.result),
      ['notRun', 'notRun'],
    );
    assert.ok(identityRec(env, 'id-orders'), 'the identity is still there');
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.equal(identityRec(env, 'id-orders'), undefined);
  });

  it('lists the pods that still run as the ServiceAccount with the label: they lose access at their next token refresh', async () => {
    const p = await plan(
      env,
      { cluster: clusterOf(env, 'aks-payments'), namespace: 'payments', serviceAccount: 'payments-api' },
      KEEP,
    );
    assert.deepEqual(
      p.affectedPods.map((x) => x.serviceAccount),
      ['payments-api'],
    );
    // The hand-granted role assignment has another name than Bind's: not ours.
    assert.deepEqual(
      p.removals.filter((x) => x.kind === 'roleAssignment').map((x) => `${x.decision} ${x.detail}`),
      ['notOurs assigned under another name: not made by Bind'],
    );
  });

  it('the simulator refuses and records a delete of what others made', async () => {
    const cluster = clusterOf(env, 'aks-payments');
    const p = await plan(env, { cluster, namespace: 'payments', serviceAccount: 'payments-api' }, KEEP);
    // Force the hand-granted role assignment into the plan, as a careless implementation would.
    const ra = p.removals.find((x) => x.kind === 'roleAssignment')!;
    ra.decision = 'remove';
    ra.roleAssignment = {
      id: [...env.sim.state.roleAssignments.values()][0].id,
      subscriptionId: SUB_PROD,
      vault: vaultOf(env, 'kv-payments'),
    };
    await assert.rejects(
      runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal }),
      (e: unknown) => e instanceof IncompleteRunError && /SimulatorForeignDelete/.test(`${(e.cause as any).code}`),
    );
    assert.equal(env.sim.state.violations.length, 1);
  });

  it('an unreadable vault listing refuses to run: nothing is removed', async () => {
    const r = bindRequest(env);
    await bind(env, r);
    env.sim.addFault({ op: 'vaults.get', kind: '403', count: 100 });
    const p = await plan(env, target(r), ALL);
    assert.ok(p.unreadable.length >= 1);
    env.sim.faults.clear();
    env.sim.log.length = 0;
    await assert.rejects(
      runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal }),
      /Nothing was removed/,
    );
    assert.deepEqual(writes(env.sim), []);
  });

  it('a ServiceAccount that someone created by hand with the annotation is never deleted', async () => {
    const cluster = [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;
    addServiceAccount(cluster, 'payments', 'orders-api', { labels: { app: 'orders' } });
    const r = bindRequest(env);
    await bind(env, r);
    const p = await plan(env, target(r), ALL);
    assert.deepEqual(
      p.removals.filter((x) => x.kind === 'serviceAccount').map((x) => x.decision),
      ['notOurs'],
    );
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.deepEqual(cluster.kube.serviceAccounts.get('payments/orders-api')!.metadata.labels, { app: 'orders' });
    assert.equal(cluster.kube.serviceAccounts.get('payments/orders-api')!.metadata.annotations, undefined);
  });
});

// Fault matrix rows for Remove's reads, deletes and accessPolicies/remove: one failure, then Retry converges.
/** Runs the reviewed plan with one fault at `op`; when it stops, at a named line, Retry runs the same plan again. */
async function faultedThenRetried(env: Env, p: RemovePlan, op: string, kind: FaultKind): Promise<string> {
  env.sim.addFault({ op, kind, count: 1 });
  try {
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    return 'completed';
  } catch (e) {
    assert.ok(e instanceof IncompleteRunError, `${op}/${kind}: ${e}`);
    assert.ok(e.notDone.length > 0, 'says what is not removed');
    const failed = (e.records as Removal[]).find((x) => x.result === 'failed');
    assert.ok(failed, `${op}/${kind}: the failed line is named`);
    env.sim.faults.clear();
    await runRemove(p, removeDepsFor(env.services), { signal: new AbortController().signal });
    return `stopped at ${failed!.kind}, Retry completed`;
  }
}

describe('faults at every operation Remove uses', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({ requestTimeoutMs: 400, config: { credentialWriteMs: 0, principalReplicationMs: 0 } });
  });
  after(async () => {
    await env.sim.stop();
    console.log(
      `\nRemove fault matrix (one failure at the operation; outcome, then whether Retry reached the fault-free state)\n${table.join('\n')}`,
    );
  });
  const KINDS: FaultKind[] = ['500', 'timeout', '409'];
  const cases: { vault: string; ops: string[] }[] = [
    {
      vault: 'kv-petclinic',
      ops: [
        'federatedIdentityCredentials.list',
        'federatedIdentityCredentials.delete',
        'vaults.get',
        'vaults.updateAccessPolicy',
        'userAssignedIdentities.delete',
        'kube.serviceaccounts.get',
        'kube.serviceaccounts.apply',
        'kube.serviceaccounts.delete',
      ],
    },
    { vault: 'kv-payments', ops: ['roleAssignments.listForScope', 'roleAssignments.delete'] },
  ];
  for (const c of cases) {
    it(`${c.vault}: a failure at each step, then Retry, ends where a fault-free Remove ends`, async () => {
      const setup = async () => {
        env.sim.reset();
        const r = bindRequest(env, { vault: c.vault });
        await bind(env, r);
        return r;
      };
      const r0 = await setup();
      await remove(env, target(r0), ALL);
      const clean = worldOf(env.sim.state);
      table.push(`| ${c.vault} | ${KINDS.join(' | ')} |`);
      for (const op of c.ops) {
        const row: string[] = [];
        for (const kind of KINDS) {
          const r = await setup();
          const outcome = await faultedThenRetried(env, await plan(env, target(r), ALL), op, kind);
          assert.deepEqual(worldOf(env.sim.state), clean, `${op}/${kind}`);
          row.push(outcome);
        }
        table.push(`| ${op} | ${row.join(' | ')} |`);
      }
    });
  }
});

describe('faults at every operation Remove uses through an identity binding', () => {
  let env: Env;
  const table: string[] = [];
  before(async () => {
    env = await withSim({
      requestTimeoutMs: 400,
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 0, pollRetryAfterSeconds: 0 },
    });
  });
  after(async () => {
    await env.sim.stop();
    console.log(`\nRemove through an identity binding, fault matrix\n${table.join('\n')}`);
  });
  // The identity's last identity binding: the RBAC objects, the binding and AKS's credential all go.
  const CHOICES: RemoveChoices = { ...KEEP, deleteManagedCredential: true };
  const setup = async () => {
    env.sim.reset();
    const r: BindRequest = { ...bindRequest(env, { vault: 'kv-payments' }), mode: 'identityBinding' };
    await bind(env, r);
    return r;
  };
  /** Azure and the clusters as Remove leaves them, the identity bindings and the RBAC objects included. */
  const state = () =>
    JSON.stringify({
      world: worldOf(env.sim.state),
      clusters: [...env.sim.state.clusters.values()].map((c) => [
        c.name,
        [...(c.identityBindings?.keys() ?? [])],
        [...c.kube.clusterRoles.keys()].filter((k) => k.startsWith('use-mi-')),
        [...c.kube.clusterRoleBindings.values()].map((b: any) => [b.metadata.name, b.subjects]),
      ]),
    });

  it('a failure at each of its steps, then Retry, ends where a fault-free Remove ends', async () => {
    const r0 = await setup();
    await remove(env, target(r0), CHOICES);
    const clean = state();
    assert.match(clean, /"aks-payments",\[\],\[\],\[\]/, 'the binding and the RBAC objects are gone');
    const KINDS: FaultKind[] = ['500', 'timeout', '409'];
    table.push(`| operation | ${KINDS.join(' | ')} |`);
    for (const op of [
      'identityBindings.listByManagedCluster',
      'kube.clusterroles.list',
      'kube.clusterrolebindings.list',
      'kube.clusterrolebindings.delete',
      'kube.clusterroles.delete',
      'identityBindings.delete',
      'federatedIdentityCredentials.delete',
      'kube.serviceaccounts.apply',
    ]) {
      const row: string[] = [];
      for (const kind of KINDS) {
        const r = await setup();
        const outcome = await faultedThenRetried(env, await plan(env, target(r), CHOICES), op, kind);
        assert.equal(state(), clean, `${op}/${kind}`);
        row.push(outcome);
      }
      table.push(`| ${op} | ${row.join(' | ')} |`);
    }
  });
});
