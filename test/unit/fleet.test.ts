import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BindDeps } from '../../src/workloadIdentity/bind/model';
import { FleetRequest, overBudget, planFleet, runFleet } from '../../src/workloadIdentity/bind/fleet';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { errorNamed, type IncompleteRunError, type StepError } from '../../src/errors';
import { SUB_PROD, seedStandardWithBudgets } from '../sim/seed';
import { withSim, writes } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('Bind to several clusters at once', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ seed: seedStandardWithBudgets });
  });
  after(() => env.sim.stop());

  const clusterOf = (name: string) =>
    clusterFromRaw([...env.sim.state.clusters.values()].find((c) => c.name === name)!.resource);
  const vaultOf = (name: string) => vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === name)!);
  const deps = (): BindDeps => ({ ...env.services.bindDeps(), sleep: () => Promise.resolve() });
  const fleet = (clusters: string[], identity: FleetRequest['identity']): FleetRequest => ({
    clusters: clusters.map(clusterOf),
    namespace: 'orders',
    serviceAccount: 'orders-api',
    vault: vaultOf('kv-payments'),
    identity,
    permissions: ['secrets'],
  });
  const newIdentity: FleetRequest['identity'] = {
    kind: 'new',
    subscriptionId: SUB_PROD,
    resourceGroup: 'rg-payments',
    name: 'id-orders-fleet',
    location: 'eastus',
  };

  it("plans each cluster and the identity's budget; one cluster failing does not stop the others, and running again for it finishes", async () => {
    const f = fleet(['aks-payments', 'aks-entra', 'aks-oidc-only'], newIdentity);
    const plan = await planFleet(f, deps());
    assert.deepEqual(
      plan.clusters.map((c) => `${c.cluster.name}: ${c.steps.find((s) => s.id === 'credential')?.planned}`),
      ['aks-payments: create', 'aks-entra: create', 'aks-oidc-only: create'],
    );
    assert.deepEqual(plan.budget, { before: 0, after: 3, limit: 20 });
    assert.deepEqual(
      plan.clusters.map((c) => c.steps.filter((s) => s.id === 'identity' || s.id === 'vault').map((s) => s.planned)),
      [
        ['create', 'create'],
        ['unchanged', 'unchanged'],
        ['unchanged', 'unchanged'],
      ],
      'the identity and the grant are made once, with the first cluster',
    );
    assert.equal(overBudget(plan), false);

    env.sim.log.length = 0;
    // aks-oidc-only needs enabling, and the user may not update it.
    env.sim.addFault({ op: 'managedClusters.createOrUpdate', kind: '403', count: 0 });
    const outcomes = await runFleet(f, deps(), { signal: new AbortController().signal });
    env.sim.faults.clear();
    assert.deepEqual(
      outcomes.map((o) => `${o.cluster.name}: ${'result' in o ? 'bound' : 'failed'}`),
      ['aks-payments: bound', 'aks-entra: bound', 'aks-oidc-only: failed'],
    );
    const failed = outcomes[2]!;
    assert.ok('error' in failed && errorNamed(failed.error, 'IncompleteRunError'));
    assert.equal(
      ((failed.error as IncompleteRunError).cause as StepError).step,
      'Enable workload identity on the cluster',
    );
    const ops = writes(env.sim).map((r) => r.op);
    assert.equal(ops.filter((op) => op === 'userAssignedIdentities.createOrUpdate').length, 1, 'the identity once');
    assert.equal(ops.filter((op) => op === 'roleAssignments.create').length, 1, 'the vault grant once');
    assert.equal(ops.filter((op) => op === 'federatedIdentityCredentials.createOrUpdate').length, 2);

    env.sim.log.length = 0;
    const retried = await runFleet({ ...f, clusters: [clusterOf('aks-oidc-only')] }, deps(), {
      signal: new AbortController().signal,
    });
    assert.ok('result' in retried[0]!);
    const again = writes(env.sim).map((r) => r.op);
    assert.ok(!again.includes('userAssignedIdentities.createOrUpdate') && !again.includes('roleAssignments.create'));
    assert.equal(again.filter((op) => op === 'federatedIdentityCredentials.createOrUpdate').length, 1);
    const identity = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders-fleet')!;
    assert.equal(identity.credentials.size, 3, "one credential per cluster's issuer");
  });

  it('says before any write when the clusters would take the identity past 20 credentials', async () => {
    const identity = (await env.services.identities.list(SUB_PROD)).find((i) => i.name === 'id-fleet-19')!;
    env.sim.log.length = 0;
    const one = await planFleet(fleet(['aks-entra'], { kind: 'existing', identity }), deps());
    assert.deepEqual(one.budget, { before: 19, after: 20, limit: 20 });
    assert.equal(overBudget(one), false);
    const two = await planFleet(fleet(['aks-entra', 'aks-payments'], { kind: 'existing', identity }), deps());
    assert.deepEqual(two.budget, { before: 19, after: 21, limit: 20 });
    assert.equal(overBudget(two), true);
    assert.deepEqual(writes(env.sim), [], 'planning writes nothing');
  });
});
