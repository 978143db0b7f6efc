import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { IDENTITY_BINDING_CREDENTIAL } from '../../src/azure/identityBindings';
import { planFleet, runFleet, type FleetRequest } from '../../src/workloadIdentity/bind/fleet';
import type { BindRequest } from '../../src/workloadIdentity/bind/model';
import { planBind } from '../../src/workloadIdentity/bind/plan';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { applyFix } from '../../src/workloadIdentity/verify/fix';
import { verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { addSecretProviderClass, addWorkload } from '../sim/workloads';
import { findWorkloadSwitches, switchWorkloads } from '../../src/workloadIdentity/migrate/workloads';
import { switchName } from '../../src/workloadIdentity/migrate/model';
import { parseDocument } from 'yaml';
import { connectInYaml } from '../../src/workloadIdentity/connect/yamlEdit';
import { appSideHints } from '../../src/workloadIdentity/connect/appSide';
import { migrateRequest, planMigration } from '../../src/workloadIdentity/migrate/plan';
import { retireDirectCredentials, runMigration } from '../../src/workloadIdentity/migrate/run';
import { parseResourceId } from '../../src/azure/resourceId';
import { applyBody, planLive, toLiveWorkload } from '../../src/workloadIdentity/connect/live';
import { secretProviderClassObject } from '../../src/workloadIdentity/connect/secretProviderClass';
import { planKustomizePatch } from '../../src/workloadIdentity/connect/workspace';
import { observeRemoval, planRemoval } from '../../src/workloadIdentity/remove/plan';
import { runRemove } from '../../src/workloadIdentity/remove/run';
import {
  bindOrdersThroughIdentityBinding,
  probeDepsFor,
  removeDepsFor,
  verifyDepsFor,
  memoryWorkspace,
  withSim,
  writes,
} from './helpers';
import { verifyAndTest } from '../../src/workloadIdentity/testBinding/run';
import { issuedWorkloadTokens } from '../sim/entra';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('Bind in identity-binding mode', () => {
  let env: Env;
  const clusterRec = (name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
  const cluster = (name: string) => clusterFromRaw(clusterRec(name).resource);
  const request = (clusterName = 'aks-payments'): BindRequest => {
    const c = cluster(clusterName);
    return {
      cluster: c,
      namespace: 'orders',
      serviceAccount: 'orders-api',
      vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!),
      identity: {
        kind: 'new',
        subscriptionId: c.subscriptionId,
        resourceGroup: 'rg-payments',
        name: 'id-orders',
        location: 'eastus',
      },
      permissions: ['secrets'],
      mode: 'identityBinding',
    };
  };
  const deps = () => verifyDepsFor(env.services);
  const signal = () => new AbortController().signal;
  const identityRec = () => [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;

  before(async () => {
    env = await withSim({
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 50, pollRetryAfterSeconds: 0 },
    });
  });
  after(() => env?.sim.stop());
  beforeEach(() => env.sim.reset());

  it('plans the binding, AKS credential and RBAC instead of a credential; runs them; a rerun writes nothing', async () => {
    const plan = await planBind(request(), deps());
    assert.deepEqual(
      plan.map((s) => [s.id, s.planned]),
      [
        ['cluster', 'unchanged'],
        ['identity', 'create'],
        ['namespace', 'create'],
        ['vault', 'create'],
        ['serviceAccount', 'create'],
        ['identityBinding', 'create'],
        ['managedCredential', 'create'],
        ['useIdentityRbac', 'create'],
      ],
    );
    const result = await runBind(request(), deps(), { signal: signal() });
    assert.deepEqual(
      result.records.map((r) => [r.id, r.result]),
      [
        ['cluster', 'unchanged'],
        ['identity', 'created'],
        ['namespace', 'created'],
        ['vault', 'created'],
        ['serviceAccount', 'created'],
        ['identityBinding', 'created'],
        ['managedCredential', 'unchanged'],
        ['useIdentityRbac', 'created'],
      ],
    );
    const { clientId, tenantId } = identityRec().resource.properties;
    assert.equal(result.issuerUrl, `https://ib.oic.prod-aks.azure.com/${tenantId}/${clientId}`);
    assert.deepEqual([...identityRec().credentials.keys()], [IDENTITY_BINDING_CREDENTIAL], 'only AKS credential');
    const kube = clusterRec('aks-payments').kube;
    assert.deepEqual(kube.clusterRoleBindings.get(`use-mi-${clientId}`)!.subjects, [
      { kind: 'ServiceAccount', name: 'orders-api', namespace: 'orders' },
    ]);
    assert.deepEqual(kube.clusterRoles.get(`use-mi-${clientId}`)!.rules, [
      { apiGroups: ['cid.wi.aks.azure.com'], resources: [clientId], verbs: ['use-managed-identity'] },
    ]);
    assert.equal(
      kube.serviceAccounts.get('orders/orders-api')!.metadata.annotations!['azure.workload.identity/client-id'],
      clientId,
    );

    env.sim.log.length = 0;
    const again = await runBind(request(), deps(), { signal: signal() });
    assert.ok(
      again.records.every((r) => r.result === 'unchanged'),
      JSON.stringify(again.records.map((r) => r.result)),
    );
    assert.deepEqual(writes(env.sim), [], 'a rerun writes nothing');
    assert.ok((await planBind(request(), deps())).every((s) => s.planned === 'unchanged'));
  });

  it("keeps others' subjects on an existing ClusterRoleBinding, and adds the ServiceAccount once", async () => {
    await runBind(request(), deps(), { signal: signal() });
    const { clientId } = identityRec().resource.properties;
    const crb = clusterRec('aks-payments').kube.clusterRoleBindings.get(`use-mi-${clientId}`)!;
    crb.subjects = [{ kind: 'Group', name: 'platform-team' }];
    const result = await runBind(request(), deps(), { signal: signal() });
    assert.equal(result.records.find((r) => r.id === 'useIdentityRbac')!.result, 'updated');
    assert.deepEqual(clusterRec('aks-payments').kube.clusterRoleBindings.get(`use-mi-${clientId}`)!.subjects, [
      { kind: 'Group', name: 'platform-team' },
      { kind: 'ServiceAccount', name: 'orders-api', namespace: 'orders' },
    ]);
  });

  it('a cluster with API server VNet integration: the plan is blocked, and a run stops before any identity binding', async () => {
    clusterRec('aks-payments').resource.properties.apiServerAccessProfile = { enableVnetIntegration: true };
    const plan = await planBind(request(), deps());
    assert.equal(plan.find((s) => s.id === 'cluster')!.planned, 'blocked');
    await assert.rejects(runBind(request(), deps(), { signal: signal() }), (e: any) => {
      assert.equal(e.cause.code, 'IdentityBindingUnsupported');
      return true;
    });
    assert.ok(!writes(env.sim).some((w) => w.op === 'identityBindings.createOrUpdate'));
  });

  it('several clusters: one credential for all, against one per cluster in direct federation', async () => {
    const { cluster: _c, ...answers } = request();
    const fleet: FleetRequest = { ...answers, clusters: ['aks-payments', 'aks-entra', 'aks-oidc-only'].map(cluster) };
    const plan = await planFleet(fleet, deps());
    assert.deepEqual(plan.budget, { before: 0, after: 1, limit: 20 });
    const outcomes = await runFleet(fleet, deps(), { signal: signal() });
    assert.deepEqual(
      outcomes.map((o) => ('error' in o ? String((o.error as Error).message) : 'bound')),
      ['bound', 'bound', 'bound'],
    );
    assert.equal(identityRec().credentials.size, 1);
    for (const name of ['aks-payments', 'aks-entra', 'aks-oidc-only'])
      assert.equal(clusterRec(name).identityBindings?.size, 1, name);
  });
});

describe('Verify, for a binding through an identity binding', () => {
  let env: Env;
  const clusterRec = (name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
  const target = () => ({
    cluster: clusterFromRaw(clusterRec('aks-payments').resource),
    namespace: 'orders',
    serviceAccount: 'orders-api',
  });
  const marks = (checks: { key: string; status: string }[]) => Object.fromEntries(checks.map((c) => [c.key, c.status]));

  before(async () => {
    env = await withSim({
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 20, pollRetryAfterSeconds: 0 },
    });
  });
  after(() => env?.sim.stop());
  beforeEach(async () => {
    env.sim.reset();
    await bindOrdersThroughIdentityBinding(env);
  });

  it('checks the binding, AKS credential and RBAC instead of a credential of its own, and the pods for the proxy', async () => {
    addWorkload(clusterRec('aks-payments'), 'orders', 'Deployment', 'orders-api', {
      serviceAccount: 'orders-api',
      labels: { 'azure.workload.identity/use': 'true' },
      podAnnotations: { 'azure.workload.identity/use-identity-binding': 'true' },
    });
    const { report } = await verifyBinding(target(), verifyDepsFor(env.services));
    const m = marks(report.checks);
    assert.equal(m.issuer, undefined, 'no direct credential is expected');
    assert.equal(m.subject, undefined);
    assert.deepEqual(
      [
        m.identityBinding,
        m.managedCredential,
        m.useIdentityRbac,
        m.pods,
        m.credentialCount,
        m.cluster,
        m.serviceAccount,
      ],
      ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'],
      JSON.stringify(report.checks.filter((c) => c.status !== 'pass').map((c) => [c.key, c.message])),
    );
    assert.match(report.checks.find((c) => c.key === 'pods')!.message, /AZURE_KUBERNETES_TOKEN_PROXY/);
    assert.equal(m.webhookVersion, 'pass');
  });

  it('a webhook older than v1.6 (from its image tag) fails, and its pods get no proxy', async () => {
    const c = clusterRec('aks-payments');
    c.kube.webhookVersion = '1.5.1';
    const webhook = c.kube.deployments.get('kube-system/azure-wi-webhook-controller-manager')!;
    webhook.spec.template.spec.containers[0].image = 'mcr.microsoft.com/oss/v2/azure/workload-identity/webhook:v1.5.1';
    addWorkload(c, 'orders', 'Deployment', 'orders-api', {
      serviceAccount: 'orders-api',
      labels: { 'azure.workload.identity/use': 'true' },
      podAnnotations: { 'azure.workload.identity/use-identity-binding': 'true' },
    });
    const { report } = await verifyBinding(target(), verifyDepsFor(env.services));
    const by = (key: string) => report.checks.find((x) => x.key === key)!;
    assert.equal(by('webhookVersion').status, 'fail');
    assert.match(
      by('webhookVersion').message,
      /The webhook is v1\.5\.1: only v1\.6 and later inject AZURE_KUBERNETES_TOKEN_PROXY/,
    );
    assert.equal(by('pods').status, 'fail');
  });

  const test = () =>
    verifyAndTest(target(), probeDepsFor(env.services), { signal: new AbortController().signal, propagationWaitMs: 0 });
  const testPods = () => [...clusterRec('aks-payments').kube.pods.keys()].filter((k) => k.includes('akswi-test-'));
  const commandLogs = () => [...env.sim.state.commandResults.values()].map((r) => String(r.result?.properties.logs));

  it("Test Binding runs a pod as the ServiceAccount that exchanges through AKS's proxy and reads Key Vault; the token stays in the pod", async () => {
    env.sim.log.length = 0;
    const { report } = await test();
    const by = (key: string) => report.checks.find((c) => c.key === key)!;
    assert.equal(by('token').status, 'pass');
    assert.ok(
      by('token').evidence.some((e) => e.value === 'api://AKSIdentityBinding'),
      JSON.stringify(by('token').evidence),
    );
    assert.equal(by('exchange').status, 'pass', by('exchange').message);
    assert.match(
      by('exchange').message,
      /A pod running as orders\/orders-api got a Key Vault token of id-orders through AKS's identity binding proxy/,
    );
    assert.ok(
      by('exchange').evidence.some((e) => /^200/.test(String(e.value))),
      JSON.stringify(by('exchange').evidence),
    );
    const vault = report.checks.find((c) => c.key === 'keyVault:kv-payments:secrets')!;
    assert.equal(vault.status, 'pass', vault.message);
    assert.match(String(vault.evidence[0]!.value), /\(from the test pod\)/);
    // The proxy asked RBAC and exchanged with AKS's credential: Entra ID saw the binding issuer, and Key Vault a token.
    const ops = env.sim.log.map((l) => l.op);
    assert.ok(ops.includes('managedClusters.runCommand'));
    assert.ok(ops.includes('aksProxy.token'), ops.join(' '));
    assert.deepEqual(testPods(), [], 'the test pod is deleted');
    for (const logs of commandLogs())
      for (const token of issuedWorkloadTokens) assert.ok(!logs.includes(token), 'no token leaves the pod');
    assert.deepEqual(
      writes(env.sim)
        .map((w) => w.op)
        .filter((op) => !['kube.serviceaccounts.token', 'managedClusters.runCommand', 'aksProxy.token'].includes(op)),
      [],
      'Test Binding writes nothing that stays',
    );
  });

  it("the proxy's refusal when RBAC does not let the ServiceAccount use the identity is named, with Verify's fix", async () => {
    clusterRec('aks-payments').kube.clusterRoleBindings.clear();
    const { report } = await test();
    const exchange = report.checks.find((c) => c.id === 'exchange')!;
    assert.equal(exchange.status, 'fail');
    assert.match(
      exchange.message,
      /AKS's proxy refused: RBAC does not let orders\/orders-api use the identity \(User "system:serviceaccount:orders:orders-api" cannot use-managed-identity/,
    );
    assert.equal(exchange.fix?.kind, 'useIdentityRbac');
    assert.equal(report.checks.find((c) => c.id === 'keyVault')!.status, 'skip');
    assert.deepEqual(testPods(), []);
  });

  it('a webhook older than v1.6 gives the test pod no proxy, and a missing grant is a 403 the pod saw', async () => {
    const c = clusterRec('aks-payments');
    c.kube.webhookVersion = '1.5.1';
    let { report } = await test();
    let exchange = report.checks.find((x) => x.id === 'exchange')!;
    assert.equal(exchange.status, 'fail');
    assert.match(exchange.message, /The webhook gave the test pod no AZURE_KUBERNETES_TOKEN_PROXY/);
    c.kube.webhookVersion = '1.6.0';
    const principal = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!.resource
      .properties.principalId;
    for (const [k, ra] of env.sim.state.roleAssignments)
      if (ra.properties.principalId === principal) env.sim.state.roleAssignments.delete(k);
    for (const v of env.sim.state.vaults.values())
      v.properties.accessPolicies = (v.properties.accessPolicies ?? []).filter((p: any) => p.objectId !== principal);
    ({ report } = await verifyAndTest(
      { ...target(), vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!) },
      probeDepsFor(env.services),
      { signal: new AbortController().signal, propagationWaitMs: 0 },
    ));
    exchange = report.checks.find((x) => x.id === 'exchange')!;
    assert.equal(exchange.status, 'pass', exchange.message);
    const vault = report.checks.find((x) => x.key === 'keyVault:kv-payments:secrets')!;
    assert.equal(vault.status, 'fail', vault.message);
    assert.match(vault.message, /kv-payments: Key Vault refused get on secrets \(Forbidden/);
  });

  it('where run-command is refused, the exchange is skipped with the reason, and the checks that can be made stand', async () => {
    env.sim.addFault({ op: 'managedClusters.runCommand', kind: '403', count: 0 });
    const { report } = await test();
    const exchange = report.checks.find((c) => c.id === 'exchange')!;
    assert.equal(exchange.status, 'skip');
    assert.match(exchange.message, /AKS run-command was refused \(AuthorizationFailed/);
    assert.match(exchange.message, /what can be proved from here are the checks above/);
    assert.equal(report.checks.find((c) => c.key === 'useIdentityRbac')!.status, 'pass');

    // Turned off on the cluster: known from its ARM read, so nothing is tried.
    env.sim.faults.clear();
    clusterRec('aks-payments').resource.properties.apiServerAccessProfile = { disableRunCommand: true };
    env.sim.log.length = 0;
    const off = (await test()).report.checks.find((c) => c.id === 'exchange')!;
    assert.equal(off.status, 'skip');
    assert.match(off.message, /AKS run-command is turned off on aks-payments/);
    assert.ok(!env.sim.log.some((l) => l.op === 'managedClusters.runCommand'));
  });

  it('a pod without the identity-binding annotation is named, and the RBAC taken away is found and fixed', async () => {
    addWorkload(clusterRec('aks-payments'), 'orders', 'Deployment', 'orders-api', {
      serviceAccount: 'orders-api',
      labels: { 'azure.workload.identity/use': 'true' },
    });
    clusterRec('aks-payments').kube.clusterRoleBindings.clear();
    const deps = verifyDepsFor(env.services);
    const first = await verifyBinding(target(), deps);
    const pods = first.report.checks.find((c) => c.key === 'pods')!;
    assert.equal(pods.status, 'fail');
    assert.match(pods.message, /no azure\.workload\.identity\/use-identity-binding: "true" annotation/);
    const rbac = first.report.checks.find((c) => c.key === 'useIdentityRbac')!;
    assert.equal(rbac.status, 'fail');
    env.sim.log.length = 0;
    await applyFix(rbac.fix!, first.facts, deps, new AbortController().signal);
    assert.deepEqual(
      writes(env.sim).map((w) => w.op),
      ['kube.clusterrolebindings.apply'],
      'the ClusterRole was there: only the binding is written',
    );
    const again = await verifyBinding(target(), verifyDepsFor(env.services));
    assert.equal(again.report.checks.find((c) => c.key === 'useIdentityRbac')!.status, 'pass');
  });
});

describe('Connect, for a binding through an identity binding', () => {
  const binding = (viaIdentityBinding: boolean) => ({
    cluster: { name: 'aks-1' } as any,
    namespace: 'orders',
    serviceAccount: 'orders-api',
    ...(viaIdentityBinding ? { viaIdentityBinding } : {}),
  });
  const deployment = (podMetadata: string) =>
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: orders-api',
      'spec:',
      '  template:',
      ...podMetadata.split('\n').filter(Boolean),
      '    spec:',
      '      # the containers',
      '      containers:',
      '        - name: app',
      '          image: app',
      '',
    ].join('\n');
  const podTemplate = (text: string) => (parseDocument(text).toJS() as any).spec.template;

  it('the workload file gets the annotation beside the label, wherever the template has room, and nothing else moves', () => {
    for (const [what, metadata] of [
      ['no metadata', ''],
      ['labels only', '    metadata:\n      labels:\n        app: orders'],
      [
        'labels and annotations',
        '    metadata:\n      labels:\n        app: orders\n      annotations:\n        team: payments',
      ],
    ] as const) {
      const { text, changes } = connectInYaml(deployment(metadata), 0, 'orders-api', true);
      const t = podTemplate(text);
      assert.equal(t.metadata.labels['azure.workload.identity/use'], 'true', what);
      assert.equal(t.metadata.annotations['azure.workload.identity/use-identity-binding'], 'true', what);
      assert.equal(t.spec.serviceAccountName, 'orders-api', what);
      assert.ok(
        changes.some((c) => c.includes('annotations["azure.workload.identity/use-identity-binding"]')),
        what,
      );
      assert.match(text, /# the containers\n\s+containers:/, `${what}: the comment stays above its key`);
      if (metadata.includes('team')) assert.equal(t.metadata.annotations.team, 'payments');
      assert.deepEqual(connectInYaml(text, 0, 'orders-api', true).changes, [], `${what}: a rerun changes nothing`);
    }
    // Direct federation adds no annotation.
    assert.equal(podTemplate(connectInYaml(deployment(''), 0, 'orders-api').text).metadata.annotations, undefined);
  });

  it('the live change, the overlay patch and the SecretProviderClass carry it too, and the review says what the app must do', () => {
    const w = toLiveWorkload({
      kind: 'Deployment',
      metadata: { name: 'orders-api', namespace: 'orders', generation: 1 },
      spec: {
        template: {
          metadata: { labels: { 'azure.workload.identity/use': 'true' } },
          spec: { serviceAccountName: 'orders-api' },
        },
      },
    });
    const plan = planLive(w, binding(true), []);
    assert.deepEqual(plan.changes, [
      'spec.template.metadata.annotations["azure.workload.identity/use-identity-binding"]: "true"',
    ]);
    assert.match(plan.warnings[0]!, /WorkloadIdentityCredential with the Azure proxy option .* DefaultAzureCredential/);
    assert.deepEqual(planLive(w, binding(false), []).changes, [], 'direct federation: already connected');
    assert.deepEqual(applyBody(w, 'orders-api', undefined, true).spec.template.metadata.annotations, {
      'azure.workload.identity/use-identity-binding': 'true',
    });
    const spc = secretProviderClassObject({
      name: 'orders',
      namespace: 'orders',
      clientId: 'c',
      tenantId: 't',
      vaultName: 'kv',
      cloud: 'AzureCloud',
      objects: [{ objectName: 'db', objectType: 'secret' }],
      viaIdentityBinding: true,
    });
    assert.equal(spc.spec.parameters.useAzureTokenProxy, 'true');
    const patch = planKustomizePatch(
      'overlays/prod/kustomization.yaml',
      'resources:\n  - ../../base\n',
      {
        path: 'base/deployment.yaml',
        workload: { index: 0, kind: 'Deployment', name: 'orders-api', labelled: false },
      } as any,
      binding(true),
    );
    assert.equal(
      (parseDocument(patch.patch.text).toJS() as any).spec.template.metadata.annotations[
        'azure.workload.identity/use-identity-binding'
      ],
      'true',
    );
  });
});

describe('Remove, for bindings through an identity binding', () => {
  let env: Env;
  const clusterRec = () => [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;
  const cluster = () => clusterFromRaw(clusterRec().resource);
  const bind = (namespace: string, serviceAccount: string) =>
    bindOrdersThroughIdentityBinding(env, namespace, serviceAccount);
  const plan = async (namespace: string, serviceAccount: string) =>
    planRemoval(await observeRemoval({ cluster: cluster(), namespace, serviceAccount }, removeDepsFor(env.services)), {
      deleteIdentity: false,
      deleteServiceAccount: false,
    });
  const lines = (p: Awaited<ReturnType<typeof plan>>) =>
    p.removals
      .filter((r) => ['rbacSubject', 'rbacObjects', 'identityBinding'].includes(r.kind))
      .map((r) => [r.kind, r.decision]);

  before(async () => {
    env = await withSim({
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 20, pollRetryAfterSeconds: 0 },
    });
  });
  after(() => env?.sim.stop());
  beforeEach(async () => {
    env.sim.reset();
    await bind('orders', 'orders-api');
    await bind('jobs', 'worker');
  });

  it('the first ServiceAccount leaves the subjects and the binding stays for the other; the last one takes the RBAC and the binding with it; a rerun removes nothing', async () => {
    const { clientId } = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!.resource
      .properties;
    const first = await plan('orders', 'orders-api');
    assert.deepEqual(lines(first), [
      ['rbacSubject', 'remove'],
      ['identityBinding', 'keep'],
    ]);
    assert.match(first.removals.find((r) => r.kind === 'identityBinding')!.detail, /still used by jobs\/worker/);
    await runRemove(first, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.deepEqual(clusterRec().kube.clusterRoleBindings.get(`use-mi-${clientId}`)!.subjects, [
      { kind: 'ServiceAccount', name: 'worker', namespace: 'jobs' },
    ]);
    assert.equal(clusterRec().identityBindings!.size, 1);

    const last = await plan('jobs', 'worker');
    assert.deepEqual(lines(last), [
      ['rbacSubject', 'remove'],
      ['rbacObjects', 'remove'],
      ['identityBinding', 'remove'],
    ]);
    await runRemove(last, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.equal(clusterRec().kube.clusterRoleBindings.size, 0);
    assert.equal(clusterRec().kube.clusterRoles.size, 0);
    assert.equal(clusterRec().identityBindings!.size, 0);
    const identity = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
    assert.deepEqual([...identity.credentials.keys()], ['aks-identity-binding'], 'AKS keeps its credential');

    env.sim.log.length = 0;
    const again = await plan('jobs', 'worker');
    assert.deepEqual(lines(again), []);
    await runRemove(again, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.deepEqual(
      writes(env.sim)
        .filter((w) => !w.op.startsWith('kube.serviceaccounts'))
        .map((w) => w.op),
      [],
      'nothing of identity bindings is written again',
    );
  });

  it("AKS's credential is offered for deletion only with the identity's last binding anywhere, and goes only when asked", async () => {
    const first = await plan('orders', 'orders-api');
    assert.equal(first.managedCredentialOffered, false);
    assert.match(
      first.removals.find((r) => r.kind === 'managedCredential')!.detail,
      /the identity binding on this cluster stays/,
    );
    await runRemove(first, removeDepsFor(env.services), { signal: new AbortController().signal });
    // Another cluster whose list is refused may still use AKS's credential: where else it is bound is then unknown.
    env.sim.faults.add({ op: 'identityBindings.listByManagedCluster', kind: '403', after: 1 });
    const unknown = await observeRemoval(
      { cluster: cluster(), namespace: 'jobs', serviceAccount: 'worker' },
      removeDepsFor(env.services),
    );
    env.sim.faults.clear();
    assert.match((unknown.boundElsewhere as { error: string }).error, /^aks-[\w-]+: /);
    const kept = planRemoval(unknown, {
      deleteIdentity: false,
      deleteServiceAccount: false,
      deleteManagedCredential: true,
    });
    assert.equal(kept.managedCredentialOffered, false);
    assert.deepEqual(
      kept.removals.filter((r) => r.kind === 'managedCredential').map((r) => [r.decision, r.detail]),
      [['keep', 'kept: where else the identity is bound could not be read']],
    );
    const facts = await observeRemoval(
      { cluster: cluster(), namespace: 'jobs', serviceAccount: 'worker' },
      removeDepsFor(env.services),
    );
    assert.deepEqual(facts.boundElsewhere, [], 'no other cluster you can see binds the identity');
    const last = planRemoval(facts, {
      deleteIdentity: false,
      deleteServiceAccount: false,
      deleteManagedCredential: true,
    });
    assert.equal(last.managedCredentialOffered, true);
    assert.deepEqual(
      last.removals.filter((r) => r.kind === 'managedCredential').map((r) => r.decision),
      ['remove'],
    );
    await runRemove(last, removeDepsFor(env.services), { signal: new AbortController().signal });
    const identity = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
    assert.equal(identity.credentials.size, 0);
  });

  it('a ClusterRoleBinding someone else also manages stays, and a group that still grants the identity is named as not ours', async () => {
    const { clientId } = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!.resource
      .properties;
    const crb = clusterRec().kube.clusterRoleBindings.get(`use-mi-${clientId}`)!;
    crb.subjects = [...crb.subjects, { kind: 'Group', name: 'system:serviceaccounts:orders' }];
    const p = await plan('orders', 'orders-api');
    assert.deepEqual(lines(p), [
      ['rbacSubject', 'remove'],
      ['rbacSubject', 'notOurs'],
      ['identityBinding', 'keep'],
    ]);
  });
});

describe("Connect's review, for an identity binding: what the app's own files say", () => {
  it("names each library's option with the versions that have it, and the files whose credential skips the proxy", () => {
    const hints = appSideHints(
      [
        { path: 'api/package.json', text: '{ "dependencies": { "@azure/identity": "^4.13.0" } }' },
        { path: 'worker/requirements.txt', text: 'azure-identity==1.27.0\nazure-keyvault-secrets\n' },
        { path: 'svc/go.mod', text: 'require github.com/Azure/azure-sdk-for-go/sdk/azidentity v1.14.0\n' },
        { path: 'web/pom.xml', text: '<artifactId>azure-identity</artifactId>' },
        { path: 'app/App.csproj', text: '<PackageReference Include="Azure.Identity" Version="1.18.0" />' },
        { path: 'other/package.json', text: '{ "dependencies": { "left-pad": "1" } }' },
      ],
      [
        { path: 'api/src/secrets.ts', text: 'const credential = new DefaultAzureCredential();' },
        { path: 'worker/main.py', text: 'cred = WorkloadIdentityCredential(enable_azure_proxy=True)' },
      ],
    );
    assert.deepEqual(
      hints.map((h) => h.split(':')[0]),
      [
        'api/package.json names the JavaScript Azure Identity library',
        'worker/requirements.txt names the Python Azure Identity library',
        'svc/go.mod names the Go Azure Identity library',
        'web/pom.xml names the Java Azure Identity library',
        'app/App.csproj names the .NET Azure Identity library',
        'api/src/secrets.ts uses DefaultAzureCredential, which does not go through the identity binding',
      ],
    );
    assert.match(hints[1]!, /enable_azure_proxy=True\), with azure-identity 1\.27\.0 or later/);
    assert.match(hints[2]!, /v1\.14\.0 dropped it, and it returns in v1\.15\.0-beta\.1/);
    assert.deepEqual(
      appSideHints([], [{ path: 'a.py', text: 'print(1)' }]),
      [],
      'nothing to say for an app without them',
    );
  });
});

describe('Migrate to identity bindings', () => {
  let env: Env;
  const cluster = (name: string) =>
    clusterFromRaw([...env.sim.state.clusters.values()].find((c) => c.name === name)!.resource);
  const identityRec = () => [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;

  before(async () => {
    env = await withSim({
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 20, pollRetryAfterSeconds: 0 },
    });
  });
  after(() => env?.sim.stop());

  /** id-orders bound directly on two clusters, and Migrate's request for it. */
  async function boundDirectly() {
    env.sim.reset();
    const first = cluster('aks-payments');
    await runFleet(
      {
        clusters: [first, cluster('aks-entra')],
        namespace: 'orders',
        serviceAccount: 'orders-api',
        vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!),
        identity: {
          kind: 'new',
          subscriptionId: first.subscriptionId,
          resourceGroup: 'rg-payments',
          name: 'id-orders',
          location: 'eastus',
        },
        permissions: ['secrets'],
      },
      verifyDepsFor(env.services),
      { signal: new AbortController().signal },
    );
    const deps = removeDepsFor(env.services);
    const identity = (await env.services.identities.find(parseResourceId(identityRec().resource.id)))!;
    const clusters = [...env.sim.state.clusters.values()].map((c) => clusterFromRaw(c.resource));
    const request = migrateRequest(identity, await env.services.identities.listCredentials(identity), clusters);
    assert.deepEqual(request.bindings.map((b) => b.cluster.name).sort(), ['aks-entra', 'aks-payments']);
    return { deps, identity, request };
  }

  it('adds the bindings and RBAC beside the direct credentials (both work), a rerun writes nothing, and the direct credentials go last', async () => {
    const { deps, request } = await boundDirectly();
    const plan = await planMigration(request, deps);
    assert.deepEqual(plan.clusters.map((m) => [m.cluster.name, m.steps.map((s) => `${s.id}:${s.planned}`)]).sort(), [
      ['aks-entra', ['identityBinding:create', 'managedCredential:create', 'useIdentityRbac:create']],
      ['aks-payments', ['identityBinding:create', 'managedCredential:create', 'useIdentityRbac:create']],
    ]);
    const outcomes = await runMigration(plan, deps, { signal: new AbortController().signal });
    assert.ok(
      outcomes.every((o) => 'records' in o),
      JSON.stringify(outcomes.map((o) => ('error' in o ? String(o.error) : 'ok'))),
    );
    assert.deepEqual(
      [...identityRec().credentials.keys()].sort(),
      ['aks-identity-binding', 'fic-aks-entra-orders-orders-api', 'fic-aks-payments-orders-orders-api'],
      'both work: the direct credentials stay beside the binding',
    );

    env.sim.log.length = 0;
    await runMigration(await planMigration(request, deps), deps, { signal: new AbortController().signal });
    assert.deepEqual(writes(env.sim), [], 'a rerun writes nothing');

    await retireDirectCredentials(plan, deps, { signal: new AbortController().signal });
    assert.deepEqual([...identityRec().credentials.keys()], ['aks-identity-binding']);
    const { report } = await verifyBinding(
      { cluster: cluster('aks-entra'), namespace: 'orders', serviceAccount: 'orders-api' },
      verifyDepsFor(env.services),
    );
    const by = (key: string) => report.checks.find((c) => c.key === key)?.status;
    assert.deepEqual(
      [by('identityBinding'), by('managedCredential'), by('useIdentityRbac'), by('issuer')],
      ['pass', 'pass', 'pass', undefined],
    );
    // Retiring again deletes nothing.
    const again = await retireDirectCredentials(plan, deps, { signal: new AbortController().signal });
    assert.ok(again.every((r) => r.result === 'alreadyGone' || r.result === 'removed'));
  });

  it("switches the workloads with Connect's edit, live or in the files (others' workloads and comments kept), and a rerun changes nothing", async () => {
    const { deps, request } = await boundDirectly();
    const rec = (name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
    const used = { serviceAccount: 'orders-api', labels: { 'azure.workload.identity/use': 'true' } };
    addWorkload(rec('aks-payments'), 'orders', 'Deployment', 'orders-api', used);
    addWorkload(rec('aks-entra'), 'orders', 'Deployment', 'orders-api', used);
    addWorkload(rec('aks-entra'), 'orders', 'Job', 'orders-backfill', used);
    addWorkload(rec('aks-entra'), 'orders', 'Deployment', 'orders-report', { serviceAccount: 'default' });
    const path = 'apps/orders/deployment.yaml';
    const file = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: orders-api',
      '  namespace: orders',
      'spec:',
      '  template:',
      '    metadata:',
      '      labels:',
      '        azure.workload.identity/use: "true" # needed by the webhook',
      '    spec:',
      '      serviceAccountName: orders-api',
      '      # the app',
      '      containers:',
      '        - name: api',
      '          image: contoso.azurecr.io/orders:1.0',
      '',
    ].join('\n');
    // A SecretProviderClass of someone else's that mounts the identity's secrets, live on aks-entra and in a file.
    const clientId = request.identity.clientId;
    const entra = rec('aks-entra');
    addSecretProviderClass(entra, 'orders', 'orders-kv', {
      clientID: clientId,
      keyvaultName: 'kv-payments',
      objects: 'x',
    });
    const spcPath = 'apps/orders/secrets.yaml';
    // Another document first: the class is the file's second document.
    const spcFile = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: orders-settings',
      '---',
      'apiVersion: secrets-store.csi.x-k8s.io/v1',
      'kind: SecretProviderClass',
      'metadata:',
      '  name: orders-kv',
      'spec:',
      '  provider: azure',
      '  parameters:',
      '    # the identity',
      `    clientID: ${clientId}`,
      '    keyvaultName: kv-payments',
      '',
    ].join('\n');
    const w = memoryWorkspace({
      [path]: file,
      [spcPath]: spcFile,
      'apps/other.yaml': 'kind: ConfigMap\nmetadata:\n  name: x\n',
    });
    const plan = await planMigration(request, deps);
    await runMigration(plan, deps, { signal: new AbortController().signal });

    const found = await findWorkloadSwitches(plan, deps, w.deps.files);
    const annotation = 'spec.template.metadata.annotations["azure.workload.identity/use-identity-binding"]: "true"';
    const proxy = 'spec.parameters.useAzureTokenProxy: "true"';
    assert.deepEqual(found.inCluster.map((x) => [switchName(x), x.plan.changes]).sort(), [
      ['Deployment orders-api (aks-entra)', [annotation]],
      ['Deployment orders-api (aks-payments)', [annotation]],
      ['SecretProviderClass orders-kv (aks-entra)', [proxy]],
    ]);
    assert.deepEqual(
      found.blocked.map((b) => b.name),
      ['Job orders-backfill (aks-entra)'],
      "a Job's pod template cannot change",
    );
    assert.deepEqual(
      found.inWorkspace.map(switchName),
      [`SecretProviderClass orders-kv (${spcPath})`, `Deployment orders-api (${path})`],
      'one edit for two clusters, the class first',
    );
    assert.deepEqual(found.unreadable, []);

    const connectDeps = { ...w.deps, kube: deps.kube, sleep: () => Promise.resolve() };
    const signal = new AbortController().signal;
    const live = await switchWorkloads(found.inCluster, connectDeps, { signal });
    assert.deepEqual(
      live.map((o) => ('error' in o ? String(o.error) : o.changed)),
      [true, true, true],
    );
    const podsSeen = {
      level: 'info',
      message: 'Its new pod is ready and has AZURE_FEDERATED_TOKEN_FILE, AZURE_KUBERNETES_TOKEN_PROXY.',
    };
    assert.deepEqual(
      live.map((o) => ('changed' in o ? o.pods : undefined)).filter(Boolean),
      [podsSeen, podsSeen],
      'the new pods got the proxy',
    );
    // Only the one parameter, by server-side apply: the owner's keys and its managed fields stay.
    const spc = entra.kube.secretProviderClasses.get('orders/orders-kv')!;
    assert.deepEqual(spc.spec.parameters, {
      clientID: clientId,
      keyvaultName: 'kv-payments',
      objects: 'x',
      useAzureTokenProxy: 'true',
    });
    assert.deepEqual(
      spc.metadata.managedFields!.map((e: any) => [e.manager, Object.keys(e.fieldsV1['f:spec']['f:parameters'])]),
      [
        ['kubectl', ['f:clientID', 'f:keyvaultName', 'f:objects']],
        ['aks-workload-identity', ['f:useAzureTokenProxy']],
      ],
    );
    for (const name of ['aks-payments', 'aks-entra']) {
      const d = rec(name).kube.deployments.get('orders/orders-api')!;
      assert.equal(d.spec.template.metadata.annotations['azure.workload.identity/use-identity-binding'], 'true', name);
    }
    assert.equal(
      rec('aks-entra').kube.deployments.get('orders/orders-report')!.spec.template.metadata.annotations,
      undefined,
      "another ServiceAccount's workload is not touched",
    );
    const inFiles = await switchWorkloads(found.inWorkspace, connectDeps, { signal });
    assert.deepEqual(
      inFiles.map((o) => ('error' in o ? String(o.error) : o.changed)),
      [true, true],
    );
    const edited = w.files.get(path)!;
    assert.match(edited, /azure\.workload\.identity\/use-identity-binding: "true"/);
    assert.match(edited, /# needed by the webhook/);
    assert.match(edited, / {6}# the app\n {6}containers:/, 'the comment stays above its key');
    assert.equal(
      w.files.get(spcPath),
      spcFile.replace('    # the identity', '    useAzureTokenProxy: "true"\n    # the identity'),
      'one line added, above the comment that describes clientID',
    );

    // A rerun finds every workload switched and writes nothing, in the cluster or in the files.
    env.sim.log.length = 0;
    w.writes.length = 0;
    const again = await findWorkloadSwitches(plan, deps, w.deps.files);
    assert.deepEqual(
      [...again.inCluster, ...again.inWorkspace].map((x) => x.plan.changes),
      [[], [], [], [], []],
    );
    await switchWorkloads([...again.inCluster, ...again.inWorkspace], connectDeps, { signal });
    assert.deepEqual(writes(env.sim), []);
    assert.deepEqual(w.writes, []);
  });
});
