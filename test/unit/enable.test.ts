import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  ClusterBusyError,
  UpdateStillRunningError,
  enableWorkloadIdentity,
  withWorkloadIdentity,
} from '../../src/workloadIdentity/enable/run';
import { CancelledError, StepError } from '../../src/errors';
import { unexpectedChanges } from '../sim/arm';
import { SUB_PROD } from '../sim/seed';
import { withSim, writes } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;
const ref = (rg: string, name: string) => ({
  id: `/subscriptions/${SUB_PROD}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`,
  subscriptionId: SUB_PROD,
  resourceGroup: rg,
  name,
});
const PETCLINIC = ref('rg-petclinic', 'aks-petclinic');

describe('Enable workload identity', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { clusterUpdateMs: 200, pollRetryAfterSeconds: 1 } });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  it('the PUT body equals the GET except for the two flags', async () => {
    const got = await env.services.clusters.get(PETCLINIC);
    const body = withWorkloadIdentity(got);
    const changed = unexpectedChanges(got, body, []);
    // The SDK model is flattened: no `properties.` prefix here.
    assert.deepEqual(changed, [
      'oidcIssuerProfile.enabled: false -> true',
      'securityProfile.workloadIdentity.enabled: undefined -> true',
    ]);
  });

  it('enables both flags through the LRO, keeps every other property and returns the issuer URL verbatim', async () => {
    const progress: string[] = [];
    const outcome = await enableWorkloadIdentity(env.services.clusters, PETCLINIC, {
      onProgress: (m) => progress.push(m),
    });
    assert.equal(outcome.kind, 'enabled');
    const stored = env.sim.state.clusters.get(PETCLINIC.id.toLowerCase())!;
    assert.deepEqual(stored.violations, []);
    assert.equal(outcome.cluster.issuerUrl, stored.resource.properties.oidcIssuerProfile.issuerURL);
    assert.ok(outcome.cluster.issuerUrl!.endsWith('/'), 'trailing slash kept');
    assert.equal(stored.resource.properties.securityProfile.workloadIdentity.enabled, true);
    assert.equal(
      stored.resource.properties.securityProfile.defender.securityMonitoring.enabled,
      true,
      'defender settings kept',
    );
    assert.equal(stored.resource.properties.agentPoolProfiles.length, 2, 'node pools kept');
    assert.deepEqual(
      writes(env.sim).map((w) => w.op),
      ['managedClusters.createOrUpdate'],
    );
    assert.ok(progress.length >= 1);
  });

  it('sends no write when both are already on', async () => {
    const outcome = await enableWorkloadIdentity(env.services.clusters, ref('rg-payments', 'aks-payments'));
    assert.equal(outcome.kind, 'alreadyOn');
    assert.match(outcome.cluster.issuerUrl!, /^https:\/\/.+\/$/);
    assert.deepEqual(writes(env.sim), []);
  });

  it('sets only workload identity on a cluster that has the OIDC issuer, keeping its issuer URL', async () => {
    const before = env.sim.state.clusters.get(ref('rg-petclinic', 'aks-oidc-only').id.toLowerCase())!.resource
      .properties.oidcIssuerProfile.issuerURL;
    const outcome = await enableWorkloadIdentity(env.services.clusters, ref('rg-petclinic', 'aks-oidc-only'));
    assert.equal(outcome.cluster.issuerUrl, before);
  });

  it('a busy cluster: a clear message and nothing sent', async () => {
    env.sim.state.clusters.get(PETCLINIC.id.toLowerCase())!.resource.properties.provisioningState = 'Upgrading';
    await assert.rejects(
      enableWorkloadIdentity(env.services.clusters, PETCLINIC),
      (e) => e instanceof ClusterBusyError && /busy \(Upgrading\)\. Nothing was sent/.test(e.message),
    );
    assert.deepEqual(writes(env.sim), []);
  });

  it('a 409 from Azure is reported as busy', async () => {
    env.sim.addFault({ op: 'managedClusters.createOrUpdate', kind: '409' });
    await assert.rejects(
      enableWorkloadIdentity(env.services.clusters, PETCLINIC),
      (e) => e instanceof ClusterBusyError,
    );
  });

  it("a failed operation surfaces Azure's code and message", async () => {
    env.sim.addFault({ op: 'managedClusters.createOrUpdate', kind: 'lroFailed' });
    await assert.rejects(
      enableWorkloadIdentity(env.services.clusters, PETCLINIC),
      (e) => e instanceof StepError && /ReconcileVMSSAgentPoolFailed|Reconcile VMSS/.test(`${e.code} ${e.message}`),
    );
  });

  it('403 names the missing permission and says nothing changed', async () => {
    env.sim.addFault({ op: 'managedClusters.createOrUpdate', kind: '403' });
    await assert.rejects(
      enableWorkloadIdentity(env.services.clusters, PETCLINIC),
      (e) =>
        e instanceof StepError &&
        e.status === 403 &&
        /Microsoft\.ContainerService\/managedClusters\/write/.test(e.message) &&
        /Nothing changed/.test(e.message),
    );
  });

  it('cancel before the PUT sends nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      enableWorkloadIdentity(env.services.clusters, PETCLINIC, { signal: ac.signal }),
      (e) => e instanceof CancelledError && !(e instanceof UpdateStillRunningError),
    );
    assert.deepEqual(writes(env.sim), []);
  });

  it('cancel while waiting stops waiting and says the update goes on in Azure', async () => {
    env.sim.config.clusterUpdateMs = 3000;
    const ac = new AbortController();
    const p = enableWorkloadIdentity(env.services.clusters, PETCLINIC, {
      signal: ac.signal,
      onAccepted: () => setTimeout(() => ac.abort(), 50),
    });
    await assert.rejects(p, (e) => e instanceof UpdateStillRunningError && /goes on in Azure/.test(e.message));
    assert.equal(env.sim.state.clusters.get(PETCLINIC.id.toLowerCase())!.operation!.status, 'InProgress');
  });
});

describe('Enable concurrency', () => {
  it('two Enable commands on one cluster send one update', async () => {
    const env = await withSim({ config: { clusterUpdateMs: 200, pollRetryAfterSeconds: 1 } });
    try {
      const { SingleFlight } = await import('../../src/util/concurrency');
      const flights = new SingleFlight();
      const run = () =>
        flights.run(PETCLINIC.id.toLowerCase(), () => enableWorkloadIdentity(env.services.clusters, PETCLINIC));
      const [a, b] = [run(), run()];
      assert.equal(a.joined, false);
      assert.equal(b.joined, true);
      const [ra, rb] = await Promise.all([a.promise, b.promise]);
      assert.equal(ra.cluster.issuerUrl, rb.cluster.issuerUrl);
      assert.equal(env.sim.log.filter((x) => x.op === 'managedClusters.createOrUpdate').length, 1);
    } finally {
      await env.sim.stop();
    }
  });
});
