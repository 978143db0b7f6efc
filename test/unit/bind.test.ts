import * as assert from 'node:assert/strict';
import { IncompleteRunError } from '../../src/errors';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BindDeps, BindRequest, StepRecord } from '../../src/workloadIdentity/bind/model';
import { planBind } from '../../src/workloadIdentity/bind/plan';
import { SingleFlight } from '../../src/util/concurrency';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { SUB_PROD, addCredential } from '../sim/seed';
import { RecordingLogger, simCloud, withSim, writes } from './helpers';
import { AzureCliCredential } from '@azure/identity';
import { AKS_SERVER_SCOPE } from '../../src/auth/cloud';
import { SharedTokenCredential } from '../../src/auth/tokenCache';
import { createAzureServices } from '../../src/services';
import { loadInventory } from '../../src/workloadIdentity/inventory';
import { AZ_STAND_IN_DIR } from '../support/paths';

type Env = Awaited<ReturnType<typeof withSim>>;

const clusterOf = (env: Env, name: string) =>
  clusterFromRaw([...env.sim.state.clusters.values()].find((c) => c.name === name)!.resource);
const vaultOf = (env: Env, name: string) =>
  vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === name)!);
const identityRec = (env: Env, name: string) =>
  [...env.sim.state.identities.values()].filter((r) => r.resource.name === name);

function request(
  env: Env,
  o: { cluster?: string; vault?: string; namespace?: string; sa?: string; identity?: string; rg?: string } = {},
): BindRequest {
  const cluster = clusterOf(env, o.cluster ?? 'aks-petclinic');
  return {
    cluster,
    namespace: o.namespace ?? 'spring-petclinic',
    serviceAccount: o.sa ?? 'workload-identity-sa',
    vault: vaultOf(env, o.vault ?? 'kv-petclinic'),
    identity: {
      kind: 'new',
      subscriptionId: SUB_PROD,
      resourceGroup: o.rg ?? cluster.resourceGroup,
      name: o.identity ?? 'id-spring-petclinic-workload-identity-sa',
      location: cluster.location,
    },
    permissions: ['secrets', 'keys', 'certificates'],
  };
}

const fast = (deps: BindDeps): BindDeps => ({
  ...deps,
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms / 50, 50))),
});
const bind = (env: Env, r: BindRequest, signal = new AbortController().signal) =>
  runBind(r, fast(env.services.bindDeps()), { signal });

/** The world after a bind, without ids and timestamps that differ between runs. */
function outcome(env: Env, r: BindRequest) {
  const ids = identityRec(env, r.identity.kind === 'new' ? r.identity.name : r.identity.identity.name);
  const principal = ids[0]?.resource.properties.principalId;
  const cluster = [...env.sim.state.clusters.values()].find((c) => c.name === r.cluster.name)!;
  const sa = cluster.kube.serviceAccounts.get(`${r.namespace}/${r.serviceAccount}`);
  const vault = [...env.sim.state.vaults.values()].find((v) => v.name === r.vault.name)!;
  return {
    identities: ids.length,
    credentials: ids.flatMap((i) => [...i.credentials.values()].map((c) => ({ name: c.name, ...c.properties }))),
    policies: vault.properties.accessPolicies
      .filter((p: any) => p.objectId === principal)
      .map((p: any) => p.permissions),
    roles: [...env.sim.state.roleAssignments.values()]
      .filter((a) => a.properties.principalId === principal)
      .map((a) => `${a.name} ${a.properties.roleDefinitionId.split('/').pop()} ${a.properties.principalType}`)
      .sort(),
    annotations: sa?.metadata.annotations,
    labels: sa?.metadata.labels,
    clusterOn: !!cluster.resource.properties.securityProfile?.workloadIdentity?.enabled,
    violations: cluster.violations,
  };
}

describe('one token per scope for every client of a session', () => {
  let env: Env;
  before(async () => {
    env = await withSim({});
  });
  after(async () => {
    await env.sim.stop();
  });

  it('a whole Bind on an Entra ID cluster through the Azure CLI runs az once per scope, not once per SDK client', async () => {
    // The real AzureCliCredential, running the stand-in az (a process per token, as az is).
    process.env.PATH = `${AZ_STAND_IN_DIR}:${process.env.PATH}`;
    process.env.AKSWI_SIM_TOKEN_SECRET = env.sim.tokenSecret;
    const inner = new AzureCliCredential();
    const asked: string[] = [];
    const counting = {
      getToken: (scopes: string | string[], o?: any) => {
        asked.push([scopes].flat().join(' '));
        return inner.getToken(scopes, o);
      },
    };
    const services = createAzureServices(simCloud(env.sim), counting, new RecordingLogger(), { retryDelayMs: 50 });
    const r = {
      ...request(env, { cluster: 'aks-entra', vault: 'kv-payments', namespace: 'payments', sa: 'token-cache-sa' }),
    };
    await loadInventory(services.inventory, [SUB_PROD]);
    await runBind(r, fast(services.bindDeps()), { signal: new AbortController().signal });
    // Resource Graph, container service, identities, key vault and authorization clients share the ARM token.
    assert.deepEqual(asked.sort(), [`${env.sim.info.armUrl}/.default`, AKS_SERVER_SCOPE].sort());
  });

  it('concurrent asks share one fetch; a failed fetch is not kept; a token near its expiry is fetched again', async () => {
    let now = 0,
      calls = 0,
      fail = false;
    const inner = {
      async getToken() {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new Error('az: not signed in');
        return { token: `t${calls}`, expiresOnTimestamp: now + 60 * 60_000 };
      },
    };
    const shared = new SharedTokenCredential(inner, () => now);
    const [a, b] = await Promise.all([shared.getToken('s'), shared.getToken(['s'])]);
    assert.equal(calls, 1);
    assert.equal(a.token, b.token);
    assert.equal((await shared.getToken('other')).token, 't2', 'another scope is another token');
    now = 56 * 60_000; // within five minutes of expiry
    fail = true;
    await assert.rejects(shared.getToken('s'), /not signed in/);
    fail = false;
    assert.equal((await shared.getToken('s')).token, 't4', 'the failure was not cached');
  });
});

describe('Bind Key Vault', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { clusterUpdateMs: 200, pollRetryAfterSeconds: 1 } });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  it('corrects a hand-made credential whose issuer lacks the trailing slash instead of adding a second one', async () => {
    const id = identityRec(env, 'id-checkout')[0].resource;
    const r: BindRequest = {
      ...request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'checkout', sa: 'checkout-api' }),
      permissions: ['secrets'],
      identity: {
        kind: 'existing',
        identity: {
          id: id.id,
          subscriptionId: SUB_PROD,
          resourceGroup: 'rg-payments',
          name: id.name,
          location: 'eastus',
          clientId: id.properties.clientId,
          principalId: id.properties.principalId,
          tenantId: id.properties.tenantId,
        },
      },
    };
    const plan = await planBind(r, fast(env.services.bindDeps()));
    assert.match(
      plan.find((p) => p.id === 'credential')!.detail!,
      /differs from the cluster's by a trailing slash and will be corrected/,
    );
    const result = await bind(env, r);
    assert.equal(result.records.find((x) => x.id === 'credential')!.result, 'updated');
    const creds = [...identityRec(env, 'id-checkout')[0].credentials.values()];
    assert.deepEqual(
      creds.map((c) => `${c.name} ${c.properties.issuer}`),
      [`fic-checkout ${r.cluster.issuerUrl}`],
    );
  });

  it('first run does the lab: enables the cluster, creates identity, policy, ServiceAccount and credential', async () => {
    const r = request(env);
    const plan = await planBind(r, fast(env.services.bindDeps()));
    assert.deepEqual(
      plan.map((p) => `${p.id}:${p.planned}`),
      [
        'cluster:update',
        'identity:create',
        'namespace:unchanged',
        'vault:create',
        'serviceAccount:create',
        'credential:create',
      ],
    );
    assert.deepEqual(writes(env.sim), [], 'planning sends no write');
    const result = await bind(env, r);
    assert.deepEqual(
      result.records.map((x) => `${x.id}:${x.result}`),
      [
        'cluster:updated',
        'identity:created',
        'namespace:unchanged',
        'vault:created',
        'serviceAccount:created',
        'credential:created',
      ],
    );
    const o = outcome(env, r);
    const issuer = env.sim.state.clusters.get(r.cluster.id.toLowerCase())!.resource.properties.oidcIssuerProfile
      .issuerURL;
    assert.equal(result.issuerUrl, issuer);
    assert.deepEqual(o.credentials, [
      {
        name: 'fic-aks-petclinic-spring-petclinic-workload-identity-sa',
        issuer,
        subject: 'system:serviceaccount:spring-petclinic:workload-identity-sa',
        audiences: ['api://AzureADTokenExchange'],
      },
    ]);
    assert.deepEqual(o.policies, [{ secrets: ['get'], keys: ['get'], certificates: ['get'] }]);
    assert.deepEqual(o.annotations, {
      'azure.workload.identity/client-id': result.identity.clientId,
      'azure.workload.identity/tenant-id': result.identity.tenantId,
    });
    assert.equal(o.identities, 1);
    assert.equal(o.clusterOn, true);
    assert.deepEqual(o.violations, []);
    // The access policy went through accessPolicies/add, not a read-modify-write of the vault.
    assert.ok(env.sim.log.some((x) => x.op === 'vaults.updateAccessPolicy'));
  });

  it('a second run changes nothing: every step reads and finds its work done, and no write is sent', async () => {
    const r = request(env);
    await bind(env, r);
    const before = outcome(env, r);
    env.sim.log.length = 0;
    const plan = await planBind(r, fast(env.services.bindDeps()));
    assert.ok(
      plan.every((p) => p.planned === 'unchanged'),
      plan.map((p) => `${p.id}:${p.planned}`).join(),
    );
    const again = await bind(env, r);
    assert.ok(again.records.every((x) => x.result === 'unchanged'));
    assert.deepEqual(writes(env.sim), []);
    assert.deepEqual(outcome(env, r), before);
  });

  it('makes 12 calls for a new identity on an RBAC vault and a cluster with workload identity on (the lab: 23)', async () => {
    await bind(
      env,
      request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'counted' }),
    );
    const ops = env.sim.log.map((x) => x.op);
    assert.equal(ops.filter((o) => !o.startsWith('kube.')).length, 9, ops.join('\n'));
    assert.equal(ops.filter((o) => o.startsWith('kube.')).length, 3, ops.join('\n'));
  });

  it('its Kubernetes calls keep their TLS connections to the API server: the apply after the two reads opens none', async () => {
    await bind(
      env,
      request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'one-connection' }),
    );
    const kube = env.sim.log.filter((x) => x.server === 'kube');
    const listing = kube.map((x) => `${x.op} on connection ${x.connection}`).join('\n');
    assert.deepEqual(
      kube.map((x) => x.op).sort(),
      ['kube.namespaces.list', 'kube.serviceaccounts.apply', 'kube.serviceaccounts.get'],
      listing,
    );
    // The namespaces and the ServiceAccount are read at once (two connections); the apply reuses one of them.
    assert.equal(new Set(kube.map((x) => x.connection)).size, 2, listing);
  });

  it('every Azure SDK client shares one pool of connections: a Key Vault, a cluster and an identity read one after another use one', async () => {
    const r = request(env, { cluster: 'aks-payments', vault: 'kv-payments' });
    await env.services.vaults.get(r.vault);
    await env.services.clusters.get(r.cluster);
    await env.services.identities.find({ subscriptionId: SUB_PROD, resourceGroup: 'rg-payments', name: 'id-nobody' });
    await env.services.vaults.get(r.vault);
    const arm = env.sim.log.filter((x) => x.server === 'arm');
    assert.equal(arm.length, 4, arm.map((x) => x.op).join('\n'));
    assert.equal(
      new Set(arm.map((x) => x.connection)).size,
      1,
      arm.map((x) => `${x.op} on connection ${x.connection}`).join('\n'),
    );
  });

  it('an RBAC vault gets the three roles, with principalType and deterministic names; a rerun finds them', async () => {
    const r = request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'ledger' });
    await bind(env, r);
    const roles = outcome(env, r).roles;
    assert.equal(roles.length, 3);
    assert.ok(roles.every((x) => x.endsWith('ServicePrincipal')));
    assert.deepEqual(roles.map((x) => x.split(' ')[1]).sort(), [
      '12338af0-0e69-4776-bea7-57ae8d297424',
      '4633458b-17de-408a-b874-0445c86b69e6',
      'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
    ]);
    assert.deepEqual(outcome(env, r).policies, [], 'no access policy on an RBAC vault');
    env.sim.log.length = 0;
    await bind(env, r);
    assert.deepEqual(writes(env.sim), []);
  });

  it('an existing equal grant counts as done (a role already held under another name)', async () => {
    // id-payments-api already holds Key Vault Secrets User on kv-payments (seeded).
    const identity = identityRec(env, 'id-payments-api')[0].resource;
    const r: BindRequest = {
      ...request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'payments-api' }),
      identity: {
        kind: 'existing',
        identity: {
          id: identity.id,
          subscriptionId: SUB_PROD,
          resourceGroup: 'rg-payments',
          name: identity.name,
          location: 'eastus',
          clientId: identity.properties.clientId,
          principalId: identity.properties.principalId,
          tenantId: identity.properties.tenantId,
        },
      },
      permissions: ['secrets'],
    };
    const plan = await planBind(r, fast(env.services.bindDeps()));
    assert.deepEqual(
      plan.map((p) => `${p.id}:${p.planned}`),
      [
        'cluster:unchanged',
        'identity:unchanged',
        'namespace:unchanged',
        'vault:unchanged',
        'serviceAccount:update',
        'credential:unchanged',
      ],
    );
  });

  it('an existing ServiceAccount keeps the labels and annotations others set', async () => {
    const r = request(env, {
      cluster: 'aks-payments',
      vault: 'kv-payments',
      namespace: 'payments',
      sa: 'payments-api',
      identity: 'id-payments-v2',
      rg: 'rg-payments',
    });
    const result = await bind(env, r);
    const o = outcome(env, r);
    assert.equal(o.annotations!['meta.helm.sh/release-name'], 'payments');
    assert.equal(o.annotations!['azure.workload.identity/client-id'], result.identity.clientId);
    assert.deepEqual(o.labels, { 'app.kubernetes.io/part-of': 'payments' });
  });

  it('creates a new namespace on confirmation', async () => {
    const r = request(env, { namespace: 'orders' });
    const result = await bind(env, r);
    assert.equal(result.records.find((x) => x.id === 'namespace')!.result, 'created');
    assert.ok(
      [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-petclinic')!.kube.namespaces.has('orders'),
    );
  });

  it('an Entra ID cluster is reached with a token for the AKS server application, without kubelogin', async () => {
    const r = request(env, { cluster: 'aks-entra', vault: 'kv-payments', namespace: 'payments', sa: 'reports' });
    await bind(env, r);
    assert.ok(outcome(env, r).annotations);
    assert.ok(
      env.credential.issued.some(
        (t) =>
          JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).aud ===
          '6dae42f8-4368-4678-94ff-3960e28e3630/',
      ),
    );
    assert.ok(env.sim.log.some((x) => x.op === 'kube.serviceaccounts.apply' && x.status < 300));
  });

  it('a private cluster out of reach is driven through run-command, and says so', async () => {
    const r = request(env, {
      cluster: 'aks-private',
      vault: 'kv-payments',
      namespace: 'ledger',
      sa: 'ledger-sa',
      rg: 'rg-secure',
    });
    const progress: string[] = [];
    const result = await runBind(r, fast(env.services.bindDeps()), {
      signal: new AbortController().signal,
      progress: (m) => progress.push(m),
    });
    assert.equal(result.kubeMode, 'runCommand');
    assert.ok(progress.some((m) => /private: applying through AKS run-command/.test(m)));
    assert.ok(env.sim.log.some((x) => x.op === 'managedClusters.runCommand'));
    assert.equal(outcome(env, r).annotations!['azure.workload.identity/client-id'], result.identity.clientId);
    assert.ok(
      !env.sim.log.some((x) => x.server === 'kube'),
      'the Kubernetes API of a private cluster was never called directly',
    );
  });

  it('stops at 20 credentials with a clear message listing them, having changed nothing else on the identity', async () => {
    const rec = identityRec(env, 'id-shared-tools')[0];
    for (let i = 0; i < 20; i++)
      addCredential(
        env.sim.state,
        rec,
        `fic-other-${i}`,
        'https://issuer.example/',
        `system:serviceaccount:ns:sa-${i}`,
      );
    const identity = rec.resource;
    const r: BindRequest = {
      ...request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'x' }),
      identity: {
        kind: 'existing',
        identity: {
          id: identity.id,
          subscriptionId: SUB_PROD,
          resourceGroup: 'rg-petclinic',
          name: identity.name,
          location: 'eastus',
          clientId: identity.properties.clientId,
          principalId: identity.properties.principalId,
          tenantId: identity.properties.tenantId,
        },
      },
    };
    const plan = await planBind(r, fast(env.services.bindDeps()));
    assert.equal(plan.find((p) => p.id === 'credential')!.planned, 'blocked');
    await assert.rejects(
      bind(env, r),
      (e) =>
        e instanceof IncompleteRunError &&
        /already has 20 federated credentials/.test(e.message) &&
        /fic-other-0 \(system:serviceaccount:ns:sa-0\)/.test(e.message),
    );
    assert.equal(rec.credentials.size, 20);
  });

  it('retries PrincipalNotFound with backoff right after creating the identity, then completes', async () => {
    env.sim.addFault({ op: 'roleAssignments.create', kind: 'principalNotFound', count: 2 });
    const r = request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'fresh' });
    await bind(env, r);
    assert.equal(outcome(env, r).roles.length, 3);
    assert.equal(env.sim.log.filter((x) => x.op === 'roleAssignments.create' && x.status === 400).length, 2);
  });

  it('a permission error names the missing permission and who has it', async () => {
    env.sim.addFault({ op: 'vaults.updateAccessPolicy', kind: '403' });
    await assert.rejects(
      bind(env, request(env)),
      (e) => e instanceof IncompleteRunError && /Key Vault Contributor/.test((e.cause as any).remedy),
    );
    env.sim.reset();
    env.sim.addFault({ op: 'roleAssignments.create', kind: '403' });
    await assert.rejects(
      bind(env, request(env, { cluster: 'aks-payments', vault: 'kv-payments', namespace: 'payments', sa: 'x' })),
      (e) =>
        e instanceof IncompleteRunError &&
        /Owner, User Access Administrator, or Role Based Access Control Administrator/.test((e.cause as any).remedy),
    );
    env.sim.reset();
    env.sim.addFault({ op: 'kube.serviceaccounts.apply', kind: '403' });
    await assert.rejects(
      bind(env, request(env)),
      (e) => e instanceof IncompleteRunError && /Kubernetes role/.test((e.cause as any).remedy),
    );
  });

  const failures: [string, string, 'lroFailed' | '500' | '409'][] = [
    ['cluster', 'managedClusters.createOrUpdate', 'lroFailed'],
    ['identity', 'userAssignedIdentities.createOrUpdate', '500'],
    ['namespace', 'kube.namespaces.apply', '500'],
    ['vault', 'vaults.updateAccessPolicy', '500'],
    ['serviceAccount', 'kube.serviceaccounts.apply', '500'],
    ['credential', 'federatedIdentityCredentials.createOrUpdate', '500'],
  ];
  for (const [step, op, kind] of failures) {
    it(`a failure at the ${step} step stops with what exists, and a rerun completes with no duplicates`, async () => {
      const r = request(env, { namespace: step === 'namespace' ? 'new-ns' : 'spring-petclinic' });
      env.sim.reset();
      await bind(env, r);
      const clean = outcome(env, r);
      env.sim.reset();
      env.sim.addFault({ op, kind, count: 0 });
      const err = await bind(env, r).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(err instanceof IncompleteRunError, `expected a failure, got ${err}`);
      assert.equal((err.records as StepRecord[]).find((x) => x.id === step)!.result, 'failed');
      const { done, notDone } = err;
      assert.ok(
        notDone.some((l) => l.includes((err.records as StepRecord[]).find((x) => x.id === step)!.title)),
        notDone.join('\n'),
      );
      assert.ok(done.length + notDone.length === 6);
      env.sim.faults.clear();
      const result = await bind(env, r);
      assert.ok(result.records.every((x) => x.result !== 'failed'));
      const after = outcome(env, r);
      // Same world as a fault-free run (ids differ: compare shapes).
      assert.equal(after.identities, 1);
      assert.equal(after.credentials.length, clean.credentials.length);
      assert.deepEqual(
        after.credentials.map((c) => c.subject),
        clean.credentials.map((c) => c.subject),
      );
      assert.deepEqual(after.policies, clean.policies);
      assert.deepEqual(Object.keys(after.annotations ?? {}), Object.keys(clean.annotations ?? {}));
      assert.equal(after.clusterOn, true);
    });
  }

  it('cancel stops before the next step and reports what was done', async () => {
    const ac = new AbortController();
    env.sim.addFault({ op: 'vaults.get', kind: 'latency', latencyMs: 300 });
    setTimeout(() => ac.abort(), 100);
    const err = await bind(env, request(env), ac.signal).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof IncompleteRunError && err.cancelled, String(err));
    assert.ok(err.notDone.length > 0);
  });

  it('two binds at once to the same identity both succeed, their credential writes one at a time', async () => {
    env.sim.config.credentialWriteMs = 150;
    const deps = fast(env.services.bindDeps());
    const a = request(env, { sa: 'app-a', identity: 'id-shared-two' });
    const b = request(env, { sa: 'app-b', identity: 'id-shared-two' });
    const updates = new SingleFlight();
    const opts = () => ({
      signal: new AbortController().signal,
      runClusterUpdate: <T>(id: string, fn: () => Promise<T>) => updates.run(id, fn).promise,
    });
    const bothCreate = await Promise.allSettled([runBind(a, deps, opts()), runBind(b, deps, opts())]);
    // Both may try to create the identity at once; PUT is idempotent, so the second finds it.
    assert.deepEqual(
      bothCreate.map((x) => x.status),
      ['fulfilled', 'fulfilled'],
      bothCreate.map((x) => (x as any).reason?.message).join(),
    );
    assert.equal(identityRec(env, 'id-shared-two').length, 1);
    assert.equal(identityRec(env, 'id-shared-two')[0].credentials.size, 2);
    assert.equal(
      env.sim.log.filter((x) => x.op === 'federatedIdentityCredentials.createOrUpdate' && x.status === 409).length,
      0,
    );
    assert.equal(
      env.sim.log.filter((x) => x.op === 'managedClusters.createOrUpdate').length,
      1,
      'one cluster update for both',
    );
  });

  it('a bind that finds the cluster mid-update by someone else waits for it instead of failing', async () => {
    const deps = fast(env.services.bindDeps());
    const first = runBind(request(env, { sa: 'app-a' }), deps, { signal: new AbortController().signal });
    await new Promise((r) => setTimeout(r, 60));
    const second = runBind(request(env, { sa: 'app-b' }), deps, { signal: new AbortController().signal });
    const [ra, rb] = await Promise.all([first, second]);
    assert.equal(ra.issuerUrl, rb.issuerUrl);
    assert.ok(rb.issuerUrl.endsWith('/'));
  });
});
