import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SUB_PROD, seedStandardWithBudgets } from '../sim/seed';
import { loadInventory } from '../../src/workloadIdentity/inventory';
import { cleanupRemovals, planCleanup } from '../../src/workloadIdentity/cleanup/plan';
import { runCleanup } from '../../src/workloadIdentity/cleanup/run';
import { errorNamed, type IncompleteRunError } from '../../src/errors';
import { withSim, writes } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('Clean Up Credentials: orphaned credentials of an identity', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ seed: seedStandardWithBudgets });
  });
  after(() => env.sim.stop());

  const orders = async () => (await env.services.identities.list(SUB_PROD)).find((i) => i.name === 'id-orders')!;
  const clusters = async () => (await loadInventory(env.services.inventory, [SUB_PROD])).flatMap((i) => i.clusters);

  it("proposes only the credentials of no known cluster, with why; a cluster's own and other tools' are never candidates", async () => {
    const identity = await orders();
    const plan = planCleanup(identity, await env.services.identities.listCredentials(identity), await clusters());
    assert.equal(plan.used, 3);
    assert.deepEqual(
      plan.candidates.map((c) => c.credential.name),
      ['fic-aks-payments-blue-orders', 'fic-aks-payments-blue-jobs'],
    );
    assert.match(plan.candidates[0]!.why, /No cluster in the selected subscriptions has the issuer https:\/\/eastus/);
    const payments = (await env.services.identities.list(SUB_PROD)).find((i) => i.name === 'id-payments-api')!;
    assert.deepEqual(
      planCleanup(payments, await env.services.identities.listCredentials(payments), await clusters()).candidates,
      [],
      'the GitHub Actions credential without a subject is not an orphan',
    );
  });

  it('a failure stops at the credential it names; Retry deletes only what is left; a second run deletes nothing', async () => {
    const identity = await orders();
    const plan = planCleanup(identity, await env.services.identities.listCredentials(identity), await clusters());
    const removals = cleanupRemovals(identity, plan.candidates);
    const deps = { identities: env.services.identities, log: env.log };
    env.sim.log.length = 0;
    env.sim.addFault({ op: 'federatedIdentityCredentials.delete', kind: '403', after: 1, count: 0 });
    await assert.rejects(runCleanup(removals, deps, { signal: new AbortController().signal }), (e: unknown) => {
      assert.ok(errorNamed(e, 'IncompleteRunError'));
      const run = e as IncompleteRunError;
      assert.equal(run.done.length, 1);
      assert.equal(run.notDone.length, 1);
      assert.match(run.cause.message, /403|authoriz|permission/i);
      return true;
    });
    env.sim.faults.clear();
    env.sim.log.length = 0;
    await runCleanup(removals, deps, { signal: new AbortController().signal });
    assert.deepEqual(
      writes(env.sim).map((r) => r.op),
      ['federatedIdentityCredentials.delete'],
      'Retry deletes only the credential left',
    );
    assert.deepEqual(
      removals.map((r) => r.result),
      ['removed', 'removed'],
    );
    assert.deepEqual(
      (await env.services.identities.listCredentials(identity)).map((c) => c.name),
      ['fic-aks-payments-orders'],
    );
    env.sim.log.length = 0;
    const again = cleanupRemovals(identity, plan.candidates);
    await runCleanup(again, deps, { signal: new AbortController().signal });
    assert.deepEqual(writes(env.sim), [], 'a second run deletes nothing');
    assert.deepEqual(
      again.map((r) => r.result),
      ['alreadyGone', 'alreadyGone'],
    );
  });
});
