// Connect's rollout is done when kubectl would say so: the rules, and a simulated rollout that moves one phase per read.
import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { PodInfo } from '../../src/kube/access';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { connectLive, newPodsReport, toLiveWorkload } from '../../src/workloadIdentity/connect/live';
import { newPodsSummary, rolloutState } from '../../src/workloadIdentity/connect/rollout';
import { StepError } from '../../src/errors';
import { addWorkload } from '../sim/workloads';
import { withSim } from './helpers';

const deployment = (status: Record<string, unknown>, o: { replicas?: number; generation?: number } = {}) => ({
  kind: 'Deployment',
  metadata: { name: 'api', generation: o.generation ?? 2 },
  spec: { replicas: o.replicas ?? 1 },
  status: { observedGeneration: 2, ...status },
});

describe("rollout status, by kubectl's rules", () => {
  it('a Deployment is not done while an old pod is left, even with availableReplicas at the count (it counts old pods)', () => {
    // The moment the independent check saw "connected": the new pod starting, the old one still serving.
    assert.deepEqual(rolloutState(deployment({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 })), {
      done: false,
      waiting: '1 old replicas are pending termination.',
    });
    assert.deepEqual(
      rolloutState(deployment({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })),
      { done: false, waiting: 'Waiting for the deployment spec update to be observed.' },
    );
    assert.deepEqual(
      rolloutState(deployment({ replicas: 3, updatedReplicas: 2, availableReplicas: 3 }, { replicas: 3 })),
      { done: false, waiting: '2 out of 3 new replicas have been updated.' },
    );
    assert.deepEqual(rolloutState(deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 0 })), {
      done: false,
      waiting: '0 of 1 updated replicas are available.',
    });
    assert.deepEqual(
      rolloutState(
        deployment({
          replicas: 2,
          updatedReplicas: 1,
          availableReplicas: 1,
          conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
        }),
      ),
      { done: false, failed: 'Deployment api exceeded its progress deadline.' },
    );
    assert.deepEqual(rolloutState(deployment({ replicas: 1, updatedReplicas: 1, availableReplicas: 1 })), {
      done: true,
    });
  });

  it('a StatefulSet waits for ready pods and for currentRevision to reach updateRevision; a DaemonSet for updated and available pods', () => {
    const sts = (status: Record<string, unknown>, strategy?: unknown) => ({
      kind: 'StatefulSet',
      metadata: { name: 'db', generation: 2 },
      spec: { replicas: 2, ...(strategy ? { updateStrategy: strategy } : {}) },
      status: { observedGeneration: 2, ...status },
    });
    assert.equal(rolloutState(sts({ readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' })).done, false);
    assert.deepEqual(
      rolloutState(sts({ readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'b' })),
      { done: false, waiting: '2 pods at revision b.' },
    );
    assert.deepEqual(rolloutState(sts({ readyReplicas: 2, currentRevision: 'b', updateRevision: 'b' })), {
      done: true,
    });
    assert.deepEqual(
      rolloutState(
        sts(
          { readyReplicas: 2, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'b' },
          { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
        ),
      ),
      { done: true },
    );
    const ds = (status: Record<string, unknown>) => ({
      kind: 'DaemonSet',
      metadata: { name: 'agent', generation: 3 },
      spec: {},
      status: { observedGeneration: 3, desiredNumberScheduled: 4, ...status },
    });
    assert.deepEqual(rolloutState(ds({ updatedNumberScheduled: 3, numberAvailable: 4 })), {
      done: false,
      waiting: '3 out of 4 new pods have been updated.',
    });
    assert.deepEqual(rolloutState(ds({ updatedNumberScheduled: 4, numberAvailable: 3 })), {
      done: false,
      waiting: '3 of 4 updated pods are available.',
    });
    assert.deepEqual(rolloutState(ds({ updatedNumberScheduled: 4, numberAvailable: 4 })), { done: true });
  });

  it('the pod report counts only ready pods of the new revision', () => {
    const o = {
      kind: 'Deployment',
      metadata: { name: 'api', annotations: { 'deployment.kubernetes.io/revision': '2' } },
    };
    const pod = (name: string, revision: string, ready: boolean, injected: boolean): PodInfo => ({
      name,
      serviceAccount: 'app',
      labels: {},
      env: injected ? ['AZURE_FEDERATED_TOKEN_FILE'] : [],
      createdAt: '',
      owner: { kind: 'Deployment', name: 'api' },
      ready,
      replicaSetRevision: revision,
    });
    const pods = [
      pod('api-old-1', '1', true, false),
      pod('api-new-1', '2', true, true),
      pod('api-new-2', '2', false, false),
    ];
    assert.deepEqual(newPodsSummary(o, pods, 'app'), {
      level: 'info',
      message: 'Its new pod is ready and has AZURE_FEDERATED_TOKEN_FILE.',
    });
    assert.deepEqual(newPodsSummary(o, [...pods, pod('api-new-3', '2', true, false)], 'app'), {
      level: 'warning',
      message: '1 of 2 new pods have no AZURE_FEDERATED_TOKEN_FILE: api-new-3. Run Verify to see why.',
    });
    assert.deepEqual(newPodsSummary(o, [pods[0], pods[2]], 'app'), {
      level: 'warning',
      message: 'No ready pod of the new revision runs as app yet.',
    });
    // Through an identity binding the pod also needs the proxy, which a webhook older than v1.6 does not inject.
    assert.deepEqual(newPodsSummary(o, pods, 'app', true), {
      level: 'warning',
      message: '1 of 1 new pods have no AZURE_KUBERNETES_TOKEN_PROXY: api-new-1. Run Verify to see why.',
    });
    const proxied = { ...pods[1]!, env: ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_KUBERNETES_TOKEN_PROXY'] };
    assert.deepEqual(newPodsSummary(o, [pods[0]!, proxied], 'app', true), {
      level: 'info',
      message: 'Its new pod is ready and has AZURE_FEDERATED_TOKEN_FILE, AZURE_KUBERNETES_TOKEN_PROXY.',
    });
  });
});

describe('Connect Workload live, against a rollout that takes its time', () => {
  let env: Awaited<ReturnType<typeof withSim>>;
  before(async () => {
    env = await withSim({ requestTimeoutMs: 2000, retryDelayMs: 20 });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => {
    env.sim.reset();
    rec().kube.stagedRollouts = true;
  });

  const rec = () => [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;
  const kube = () => env.services.bindDeps().kube(clusterFromRaw(rec().resource));
  const liveOf = async (kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string) =>
    toLiveWorkload(await (await kube()).getWorkload(kind, 'payments', name));
  const podsOf = (prefix: string) =>
    [...rec().kube.pods.values()].filter((p) => p.metadata.name.startsWith(`${prefix}-`));
  const sleep = () => Promise.resolve();

  it('reports done only when no old pod is left and the new ones are ready; the progress says what it waits for', async () => {
    const w = await liveOf('Deployment', 'payments-worker');
    const progress: string[] = [];
    assert.equal(
      await connectLive(await kube(), w, 'payments-api', { sleep, progress: (m) => progress.push(m) }),
      'updated',
    );
    const pods = podsOf('payments-worker');
    assert.equal(pods.length, 1, `the old pod is gone: ${pods.map((p) => p.metadata.name)}`);
    assert.equal(pods[0].status.conditions[0].status, 'True', 'the new pod is ready');
    // New pod starting, then ready with the old one terminating: kubectl says the same of both.
    assert.deepEqual(
      [...new Set(progress.filter((m) => m.startsWith('Rolling out')))],
      ['Rolling out Deployment payments-worker: 1 old replicas are pending termination.'],
    );
    const report = await newPodsReport(await kube(), w, 'payments-api');
    assert.deepEqual(report, { level: 'info', message: 'Its new pod is ready and has AZURE_FEDERATED_TOKEN_FILE.' });
  });

  it('a new pod in CrashLoopBackOff is named with its reason and what to run; after the fix, Retry applies nothing and follows the rollout to its end', async () => {
    rec().kube.failingPods.set('payments/payments-worker', {
      reason: 'CrashLoopBackOff',
      message: 'back-off 40s restarting failed container=payments-worker',
    });
    const w = await liveOf('Deployment', 'payments-worker');
    await assert.rejects(connectLive(await kube(), w, 'payments-api', { sleep }), (e) => {
      assert.ok(e instanceof StepError);
      assert.equal(e.code, 'CrashLoopBackOff');
      assert.match(
        e.message,
        /^Deployment payments-worker is not rolled out: its new pod payments-worker-[0-9a-f]+-[0-9a-f]+ is not ready \(CrashLoopBackOff: back-off 40s restarting failed container=payments-worker\)\.$/,
      );
      assert.match(
        e.remedy!,
        /kubectl describe pod payments-worker-\S+ -n payments, and kubectl logs payments-worker-\S+ -n payments/,
      );
      return true;
    });
    rec().kube.failingPods.clear();
    const applies = () => env.sim.log.filter((r) => r.op === 'kube.deployments.apply').length;
    const before = applies();
    assert.equal(await connectLive(await kube(), w, 'payments-api', { sleep }), 'unchanged');
    assert.equal(applies(), before, 'Retry applied nothing');
    assert.equal(podsOf('payments-worker').filter((p) => p.status.conditions[0].status === 'True').length, 1);
    assert.equal(podsOf('payments-worker').length, 1, 'the rollout ended');
  });

  it('a pod that waits for no known reason runs into the progress deadline, which is reported as not done', async () => {
    rec().kube.failingPods.set('payments/payments-worker', {
      reason: 'ContainerCreating',
      message: 'pulling a large image',
    });
    await assert.rejects(
      connectLive(await kube(), await liveOf('Deployment', 'payments-worker'), 'payments-api', { sleep }),
      (e) =>
        e instanceof StepError &&
        e.code === 'ProgressDeadlineExceeded' &&
        /exceeded its progress deadline/.test(e.message) &&
        /kubectl rollout status deployment\/payments-worker -n payments/.test(e.remedy!),
    );
  });

  it('a StatefulSet is done when currentRevision reaches updateRevision, a DaemonSet when its pods are updated and available', async () => {
    rec().kube.stagedRollouts = false;
    addWorkload(rec(), 'payments', 'StatefulSet', 'ledger', { replicas: 2 });
    addWorkload(rec(), 'payments', 'DaemonSet', 'agent', {});
    rec().kube.stagedRollouts = true;
    for (const kind of ['StatefulSet', 'DaemonSet'] as const) {
      const name = kind === 'StatefulSet' ? 'ledger' : 'agent';
      const progress: string[] = [];
      assert.equal(
        await connectLive(await kube(), await liveOf(kind, name), 'payments-api', {
          sleep,
          progress: (m) => progress.push(m),
        }),
        'updated',
        kind,
      );
      const o = rec().kube[kind === 'StatefulSet' ? 'statefulSets' : 'daemonSets'].get(`payments/${name}`)!;
      assert.deepEqual(rolloutState(o), { done: true }, kind);
      if (kind === 'StatefulSet')
        assert.ok(
          progress.includes('Rolling out StatefulSet ledger: 2 pods at revision ' + o.status.updateRevision + '.'),
          progress.join('\n'),
        );
      assert.ok(
        podsOf(name).every((p) => p.status.conditions[0].status === 'True'),
        kind,
      );
      assert.deepEqual(
        (await newPodsReport(await kube(), await liveOf(kind, name), 'payments-api')).level,
        'info',
        kind,
      );
    }
  });
});
