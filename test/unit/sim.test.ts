// The simulated Azure's own tests: each rule the extension relies on is enforced, through the real SDK clients.
import * as assert from 'node:assert/strict';
import * as https from 'node:https';
import { after, before, beforeEach, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { SUB_PROD, addCredential, addIdentity, addServiceAccount } from '../sim/seed';
import { withSim } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

function raw(
  env: Env,
  method: string,
  path: string,
  body?: string,
  token: string | null = env.sim.token(),
): Promise<{ status: number; headers: any; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${env.sim.info.armUrl}${path}`,
      {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const CLUSTER = `/subscriptions/${SUB_PROD}/resourceGroups/rg-petclinic/providers/Microsoft.ContainerService/managedClusters/aks-petclinic`;

describe('simulated ARM', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { clusterUpdateMs: 300, pollRetryAfterSeconds: 0 } });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  it('refuses a missing or forged bearer token with 401 and an ARM-shaped error', async () => {
    const none = await raw(env, 'GET', `${CLUSTER}?api-version=2026-04-01`, undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'InvalidAuthenticationToken');
    const forged = env.sim.token().replace(/\.[^.]+$/, '.AAAA');
    assert.equal((await raw(env, 'GET', `${CLUSTER}?api-version=2026-04-01`, undefined, forged)).status, 401);
  });

  it('checks the api-version', async () => {
    assert.equal((await raw(env, 'GET', CLUSTER)).json.error.code, 'MissingApiVersionParameter');
    const old = await raw(env, 'GET', `${CLUSTER}?api-version=2019-01-01`);
    assert.equal(old.status, 400);
    assert.equal(old.json.error.code, 'InvalidApiVersionParameter');
  });

  it('answers a malformed body with an ARM error', async () => {
    const r = await raw(env, 'PUT', `${CLUSTER}?api-version=2026-04-01`, '{"location": ');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'InvalidRequestContent');
  });

  it('runs a cluster update as a long-running operation: Updating, 409 meanwhile, then Succeeded with a regional issuer URL', async () => {
    const mc = env.clients.containerService(SUB_PROD).managedClusters;
    const before = await mc.get('rg-petclinic', 'aks-petclinic');
    const body = {
      ...before,
      oidcIssuerProfile: { enabled: true },
      securityProfile: { ...before.securityProfile, workloadIdentity: { enabled: true } },
    };
    const poller = mc.createOrUpdate('rg-petclinic', 'aks-petclinic', body);
    await poller.submitted();
    assert.equal((await mc.get('rg-petclinic', 'aks-petclinic')).provisioningState, 'Updating');
    await assert.rejects(
      mc.createOrUpdate('rg-petclinic', 'aks-petclinic', body).pollUntilDone(),
      (e: any) => e.statusCode === 409 && /in progress/.test(e.message),
    );
    const done = await poller.pollUntilDone();
    assert.equal(done.provisioningState, 'Succeeded');
    assert.match(
      done.oidcIssuerProfile!.issuerURL!,
      /^https:\/\/eastus\.oic\.prod-aks\.azure\.com\/[0-9a-f-]+\/[0-9a-f-]+\/$/,
    );
    assert.ok(
      env.sim.log.some((r) => r.op === 'managedClusters.getOperation'),
      'the client polled the Azure-AsyncOperation URL',
    );
    assert.ok(
      env.sim.state.clusters
        .get(CLUSTER.toLowerCase())!
        .kube.webhooks.has('azure-wi-webhook-mutating-webhook-configuration'),
      'AKS installs the webhook',
    );
  });

  it('refuses workload identity without the OIDC issuer, and disabling the issuer', async () => {
    const mc = env.clients.containerService(SUB_PROD).managedClusters;
    const c = await mc.get('rg-petclinic', 'aks-petclinic');
    await assert.rejects(
      mc
        .createOrUpdate('rg-petclinic', 'aks-petclinic', {
          ...c,
          securityProfile: { ...c.securityProfile, workloadIdentity: { enabled: true } },
        })
        .pollUntilDone(),
      /requires enabling OIDC issuer/,
    );
    const oidc = await mc.get('rg-petclinic', 'aks-oidc-only');
    await assert.rejects(
      mc
        .createOrUpdate('rg-petclinic', 'aks-oidc-only', { ...oidc, oidcIssuerProfile: { enabled: false } })
        .pollUntilDone(),
      /cannot be disabled/,
    );
  });

  it('fails a PUT that changes any other property, and records what changed', async () => {
    const mc = env.clients.containerService(SUB_PROD).managedClusters;
    const c = await mc.get('rg-petclinic', 'aks-petclinic');
    const dropped = {
      ...c,
      autoUpgradeProfile: undefined,
      tags: { ...c.tags, 'cost-center': '0000' },
      oidcIssuerProfile: { enabled: true },
    };
    await assert.rejects(
      mc.createOrUpdate('rg-petclinic', 'aks-petclinic', dropped).pollUntilDone(),
      (e: any) => e.statusCode === 400,
    );
    const v = env.sim.state.clusters.get(CLUSTER.toLowerCase())!.violations;
    assert.ok(
      v.some((x) => x.startsWith('properties.autoUpgradeProfile.upgradeChannel')),
      v.join('\n'),
    );
    assert.ok(
      v.some((x) => x.startsWith('tags.cost-center')),
      v.join('\n'),
    );
    assert.equal((await mc.get('rg-petclinic', 'aks-petclinic')).provisioningState, 'Succeeded', 'nothing was applied');
  });

  it('passes a GET-then-PUT round trip of a cluster with many settings unchanged', async () => {
    const mc = env.clients.containerService(SUB_PROD).managedClusters;
    for (const [rg, name] of [
      ['rg-petclinic', 'aks-petclinic'],
      ['rg-payments', 'aks-entra'],
      ['rg-secure', 'aks-private'],
    ]) {
      const c = await mc.get(rg, name);
      await mc.createOrUpdate(rg, name, c).pollUntilDone();
    }
    assert.deepEqual(
      [...env.sim.state.clusters.values()].flatMap((c) => c.violations),
      [],
    );
  });

  it('enforces the federated credential rules: name pattern, issuer+subject unique, 20 per identity, one write at a time', async () => {
    const fic = env.clients.managedIdentity(SUB_PROD).federatedIdentityCredentials;
    const body = (subject: string) => ({
      issuer: 'https://eastus.oic.prod-aks.azure.com/t/i/',
      subject,
      audiences: ['api://AzureADTokenExchange'],
    });
    await assert.rejects(
      fic.createOrUpdate('rg-petclinic', 'id-shared-tools', '-bad name', body('system:serviceaccount:a:b')),
      /Invalid federated identity credential name/,
    );
    await fic.createOrUpdate('rg-petclinic', 'id-shared-tools', 'fic-1', body('system:serviceaccount:a:b'));
    await assert.rejects(
      fic.createOrUpdate('rg-petclinic', 'id-shared-tools', 'fic-dup', body('system:serviceaccount:a:b')),
      /already exists under the name 'fic-1'/,
    );
    // Same name, same content: an idempotent update.
    await fic.createOrUpdate('rg-petclinic', 'id-shared-tools', 'fic-1', body('system:serviceaccount:a:b'));
    env.sim.config.credentialWriteMs = 200;
    const concurrent = await Promise.allSettled([
      fic.createOrUpdate('rg-petclinic', 'id-shared-tools', 'fic-2', body('system:serviceaccount:a:c')),
      fic.createOrUpdate('rg-petclinic', 'id-shared-tools', 'fic-3', body('system:serviceaccount:a:d')),
    ]);
    const rejected = concurrent.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].reason.statusCode, 409);
    assert.match(rejected[0].reason.message, /Concurrent Federated Identity Credentials writes/);
    env.sim.config.credentialWriteMs = 0;
    const rec = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-shared-tools')!;
    for (let i = rec.credentials.size; i < 20; i++)
      await fic.createOrUpdate('rg-petclinic', 'id-shared-tools', `fic-n${i}`, body(`system:serviceaccount:n:${i}`));
    await assert.rejects(
      fic.createOrUpdate('rg-petclinic', 'id-shared-tools', 'fic-21', body('system:serviceaccount:n:21')),
      /maximum of 20/,
    );
  });

  it('merges access policies with add, and refuses them on an RBAC vault', async () => {
    const kv = env.clients.keyVault(SUB_PROD).vaults;
    const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const objectId = '11111111-2222-4333-8444-555555555555';
    await kv.updateAccessPolicy('rg-petclinic', 'kv-petclinic', 'add', {
      properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['get'] } }] },
    });
    await kv.updateAccessPolicy('rg-petclinic', 'kv-petclinic', 'add', {
      properties: { accessPolicies: [{ tenantId, objectId, permissions: { keys: ['get'], secrets: ['list'] } }] },
    });
    const v = await kv.get('rg-petclinic', 'kv-petclinic');
    const mine = v.properties.accessPolicies!.find((p) => p.objectId === objectId)!;
    assert.deepEqual({ s: mine.permissions.secrets, k: mine.permissions.keys }, { s: ['get', 'list'], k: ['get'] });
    assert.equal(v.properties.accessPolicies!.length, 2, 'the existing policy stays');
    await assert.rejects(
      kv.updateAccessPolicy('rg-payments', 'kv-payments', 'add', {
        properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['get'] } }] },
      }),
      /role-based access control/,
    );
  });

  it('enforces role assignment rules: GUID name, PrincipalNotFound while replicating, RoleAssignmentExists', async () => {
    const ra = env.clients.authorization(SUB_PROD).roleAssignments;
    const scope = `/subscriptions/${SUB_PROD}/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments`;
    const id = await env.clients
      .managedIdentity(SUB_PROD)
      .userAssignedIdentities.createOrUpdate('rg-payments', 'id-new', { location: 'eastus' });
    const roleDefinitionId = `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`;
    await assert.rejects(
      ra.create(scope, '5f1d3c2a-0000-4000-8000-000000000001', { roleDefinitionId, principalId: id.principalId! }),
      /PrincipalNotFound|does not exist in the directory/,
    );
    await ra.create(scope, '5f1d3c2a-0000-4000-8000-000000000001', {
      roleDefinitionId,
      principalId: id.principalId!,
      principalType: 'ServicePrincipal',
    });
    await assert.rejects(
      ra.create(scope, '5f1d3c2a-0000-4000-8000-000000000002', {
        roleDefinitionId,
        principalId: id.principalId!,
        principalType: 'ServicePrincipal',
      }),
      (e: any) => e.statusCode === 409 && /already exists/.test(e.message),
    );
    const listed: any[] = [];
    for await (const x of ra.listForScope(scope, { filter: `principalId eq '${id.principalId}'` })) listed.push(x);
    assert.equal(listed.length, 1);
  });

  it('pages Resource Graph results with $skipToken', async () => {
    const rg = env.clients.resourceGraph();
    const first = await rg.resources({
      subscriptions: [SUB_PROD],
      query: "resources | where type in~ ('microsoft.containerservice/managedclusters')",
      options: { top: 2 },
    } as any);
    assert.equal(first.totalRecords, 5);
    assert.equal((first.data as any[]).length, 2);
    assert.ok(first.skipToken);
    const second = await rg.resources({
      subscriptions: [SUB_PROD],
      query: "resources | where type in~ ('microsoft.containerservice/managedclusters')",
      options: { top: 2, skipToken: first.skipToken },
    } as any);
    assert.notDeepEqual((second.data as any[])[0].id, (first.data as any[])[0].id);
  });

  it('Resource Graph refuses what its documentation does not support in the form a product would page, naming the rule', async () => {
    const query = (q: string, options: any = { $top: 1000 }) =>
      raw(
        env,
        'POST',
        '/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01',
        JSON.stringify({ subscriptions: [SUB_PROD], query: q, options }),
      );
    const refused: [string, any, RegExp][] = [
      [
        'resources | summarize resources = make_list(pack_all()) by subscriptionId',
        undefined,
        /pack_all\(\) and make_list\(\) are not in Resource Graph's documented functions/,
      ],
      [
        'resources | summarize count() by subscriptionId',
        undefined,
        /summarize results are "simplified first page only"/,
      ],
      ['resources | take 5', { $top: 5, $skip: 5 }, /take does not work with \$skip/],
      ['resources | project id', { $top: 5000 }, /\$top must be between 1 and 1000/],
      ['resourcecontainers', undefined, /only the 'resources' table/],
    ];
    for (const [q, options, rule] of refused) {
      const r = await query(q, options);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.error.details[0].code, 'InvalidQuery');
      assert.match(r.json.error.details[0].message, rule, q);
    }
    const ok = await query(
      "resources | where type =~ 'microsoft.keyvault/vaults' | project id, subscriptionId, rbac = properties.enableRbacAuthorization | order by id desc",
    );
    assert.equal(ok.status, 200);
    assert.deepEqual(
      ok.json.data.map((r: any) => Object.keys(r)),
      [
        ['id', 'subscriptionId', 'rbac'],
        ['id', 'subscriptionId', 'rbac'],
      ],
    );
    assert.ok(ok.json.data[0].id > ok.json.data[1].id, 'ordered as asked');
  });

  it('Resource Graph keeps a quota per user: every answer says what is left and when it resets; past it, 429 with Retry-After', async () => {
    env.sim.config.graphQuota = 3;
    const query = () =>
      raw(
        env,
        'POST',
        '/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01',
        JSON.stringify({ subscriptions: [SUB_PROD], query: 'resources | project id' }),
      );
    const answers = [await query(), await query(), await query(), await query()];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 429],
    );
    assert.deepEqual(
      answers.map((a) => a.headers['x-ms-user-quota-remaining']),
      ['2', '1', '0', '0'],
    );
    assert.ok(answers.every((a) => /^00:00:0[1-5]$/.test(a.headers['x-ms-user-quota-resets-after'])));
    assert.match(answers[3].headers['retry-after'], /^[1-5]$/);
    assert.equal(answers[3].json.error.code, 'RateLimiting');
  });
});

describe('simulated faults', () => {
  let env: Env;
  before(async () => {
    env = await withSim();
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());
  const get = () => env.clients.containerService(SUB_PROD).managedClusters.get('rg-petclinic', 'aks-petclinic');

  it('429 with Retry-After: the SDK waits and retries', async () => {
    env.sim.addFault({ op: 'managedClusters.get', kind: '429', retryAfterSeconds: 1 });
    const t = Date.now();
    assert.equal((await get()).name, 'aks-petclinic');
    const calls = env.sim.log.filter((r) => r.op === 'managedClusters.get');
    assert.deepEqual(
      calls.map((c) => c.status),
      [429, 200],
    );
    assert.ok(Date.now() - t >= 900, 'the client honoured Retry-After');
  });

  it('500, 503 and a connection reset are retried; a permanent 500 surfaces', async () => {
    env.sim.addFault({ op: 'managedClusters.get', kind: '500' });
    env.sim.addFault({ op: 'managedClusters.get', kind: 'reset', after: 1 });
    assert.equal((await get()).name, 'aks-petclinic');
    assert.deepEqual(
      env.sim.log.filter((r) => r.op === 'managedClusters.get').map((c) => c.fault ?? c.status),
      ['500', 'reset', 200],
    );
    env.sim.addFault({ op: 'managedClusters.get', kind: '503', count: 0 });
    await assert.rejects(get(), (e: any) => e.statusCode === 503);
  });

  it('fails exactly the Nth call', async () => {
    env.sim.addFault({ op: 'managedClusters.get', kind: '403', after: 2 });
    await get();
    await get();
    await assert.rejects(get(), (e: any) => e.statusCode === 403);
    assert.equal((await get()).name, 'aks-petclinic');
  });

  it('a request that never gets an answer times out on the client, and the retry succeeds', async () => {
    env.sim.addFault({ op: 'managedClusters.get', kind: 'timeout' });
    assert.equal((await get()).name, 'aks-petclinic');
    assert.deepEqual(
      env.sim.log.filter((r) => r.op === 'managedClusters.get').map((c) => c.status),
      [-2, 200],
    );
    assert.match(env.log.text, /GET .*aks-petclinic\?api-version=\S+ failed after \d+ms/);
  });

  it('latency delays the answer', async () => {
    env.sim.addFault({ op: 'managedClusters.get', kind: 'latency', latencyMs: 300 });
    const t = Date.now();
    await get();
    assert.ok(Date.now() - t >= 290);
  });

  it('a long-running operation can end Failed', async () => {
    env.sim.config.clusterUpdateMs = 100;
    env.sim.config.pollRetryAfterSeconds = 0;
    env.sim.addFault({ op: 'managedClusters.createOrUpdate', kind: 'lroFailed' });
    const mc = env.clients.containerService(SUB_PROD).managedClusters;
    const c = await mc.get('rg-petclinic', 'aks-petclinic');
    await assert.rejects(
      mc
        .createOrUpdate('rg-petclinic', 'aks-petclinic', { ...c, oidcIssuerProfile: { enabled: true } })
        .pollUntilDone(),
      /ReconcileVMSSAgentPoolFailed|failed/i,
    );
    assert.equal((await mc.get('rg-petclinic', 'aks-petclinic')).provisioningState, 'Failed');
  });
});

describe('simulated Kubernetes API', () => {
  let env: Env;
  let core: k8s.CoreV1Api;
  before(async () => {
    env = await withSim();
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(async () => {
    env.sim.reset();
    const kc = new k8s.KubeConfig();
    kc.loadFromString(
      await env.services.clusters.userKubeconfig({
        id: CLUSTER,
        subscriptionId: SUB_PROD,
        resourceGroup: 'rg-petclinic',
        name: 'aks-petclinic',
      }),
    );
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  const apply = (name: string, annotations: Record<string, string>, force = false, manager = 'aks-workload-identity') =>
    core.patchNamespacedServiceAccount(
      {
        name,
        namespace: 'spring-petclinic',
        fieldManager: manager,
        force,
        body: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace: 'spring-petclinic', annotations },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );

  it('refuses a wrong bearer token', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `${env.sim.info.kubeUrl}/clusters/${[...env.sim.state.clusters.values()][0].key}`,
          caFile: env.sim.info.caPath,
        },
      ],
      users: [{ name: 'u', token: 'nope' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    await assert.rejects(kc.makeApiClient(k8s.CoreV1Api).listNamespace(), (e: any) => e.code === 401);
  });

  it('validates names as DNS-1123 with a real Status error', async () => {
    await assert.rejects(
      core.createNamespace({ body: { metadata: { name: 'Bad_Name' } } }),
      (e: any) => e.code === 422 && /RFC 1123 label/.test(e.body),
    );
    await assert.rejects(apply('Bad..sa', {}), (e: any) => e.code === 422 && /RFC 1123 subdomain/.test(e.body));
  });

  it('server-side apply keeps labels and annotations owned by other managers, and reports conflicts', async () => {
    const c = env.sim.state.clusters.get(CLUSTER.toLowerCase())!;
    addServiceAccount(c, 'spring-petclinic', 'app', {
      labels: { team: 'web' },
      annotations: { owner: 'alice', 'azure.workload.identity/client-id': 'old' },
    });
    await assert.rejects(
      apply('app', { 'azure.workload.identity/client-id': 'new' }),
      (e: any) => e.code === 409 && /conflict with "kubectl-client-side-apply"/.test(JSON.parse(e.body).message),
    );
    const sa = await apply(
      'app',
      { 'azure.workload.identity/client-id': 'new', 'azure.workload.identity/tenant-id': 't' },
      true,
    );
    assert.deepEqual(sa.metadata!.annotations, {
      owner: 'alice',
      'azure.workload.identity/client-id': 'new',
      'azure.workload.identity/tenant-id': 't',
    });
    assert.deepEqual(sa.metadata!.labels, { team: 'web' });
    // A later apply without the tenant annotation removes only what this manager owned.
    const again = await apply('app', { 'azure.workload.identity/client-id': 'new' }, true);
    assert.deepEqual(again.metadata!.annotations, { owner: 'alice', 'azure.workload.identity/client-id': 'new' });
  });

  it('answers a 404 Status for a missing ServiceAccount and namespace', async () => {
    await assert.rejects(
      core.readNamespacedServiceAccount({ name: 'nope', namespace: 'spring-petclinic' }),
      (e: any) => e.code === 404,
    );
    await assert.rejects(
      core.patchNamespacedServiceAccount(
        {
          name: 'x',
          namespace: 'missing',
          fieldManager: 'm',
          body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x' } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      ),
      (e: any) => e.code === 404,
    );
  });

  it('injects faults into Kubernetes calls too', async () => {
    env.sim.addFault({ op: 'kube.namespaces.list', kind: '500' });
    await assert.rejects(core.listNamespace(), (e: any) => e.code === 500);
    assert.ok((await core.listNamespace()).items.length > 0);
  });
});

describe('seed helpers', () => {
  it('builds credentials the simulator serves', async () => {
    const env = await withSim({
      seed: (s) => {
        s.tenants.push({ tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', displayName: 'C', defaultDomain: 'c' });
        s.subscriptions.push({
          subscriptionId: SUB_PROD,
          tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
          displayName: 'P',
          state: 'Enabled',
        });
        const id = addIdentity(s, SUB_PROD, 'rg', 'id-one');
        addCredential(s, id, 'fic-one', 'https://issuer/', 'system:serviceaccount:a:b');
      },
    });
    try {
      const creds = await env.services.identities.listCredentials({
        id: '/subscriptions/x/resourceGroups/rg/providers/p/t/id-one',
        subscriptionId: SUB_PROD,
        resourceGroup: 'rg',
        name: 'id-one',
      });
      assert.deepEqual(creds, [
        {
          name: 'fic-one',
          issuer: 'https://issuer/',
          subject: 'system:serviceaccount:a:b',
          audiences: ['api://AzureADTokenExchange'],
        },
      ]);
    } finally {
      await env.sim.stop();
    }
  });
});
