import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { resolveCloud } from '../../src/auth/cloud';
import { BindRequest } from '../../src/workloadIdentity/bind/model';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { CancelledError } from '../../src/errors';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { ProbeOptions } from '../../src/workloadIdentity/testBinding/model';
import { verifyAndTest } from '../../src/workloadIdentity/testBinding/run';
import { applyFix } from '../../src/workloadIdentity/verify/fix';
import { CheckResult } from '../../src/workloadIdentity/verify/model';
import { reportMarkdown } from '../../src/ui/report/render';
import { SUB_PROD, TENANT_CONTOSO, addCredential, addIdentity, addServiceAccount } from '../sim/seed';
import { RecordingLogger, probeDepsFor, withSim, writes } from './helpers';
import type { Binding } from '../../src/workloadIdentity/binding';

type Env = Awaited<ReturnType<typeof withSim>>;

const clusterRec = (env: Env, name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
const identityRec = (env: Env, name: string) =>
  [...env.sim.state.identities.values()].find((r) => r.resource.name === name)!;
const vaultRec = (env: Env, name: string) => [...env.sim.state.vaults.values()].find((v) => v.name === name)!;
const target = (env: Env, cluster = 'aks-payments', namespace = 'payments', sa = 'payments-api'): Binding => ({
  cluster: clusterFromRaw(clusterRec(env, cluster).resource),
  namespace,
  serviceAccount: sa,
});
const opts = (o: Partial<ProbeOptions> = {}): ProbeOptions => ({ propagationWaitMs: 0, ...o });
const stages = (checks: CheckResult[]) =>
  Object.fromEntries(
    checks.filter((c) => ['token', 'exchange', 'keyVault'].includes(c.id)).map((c) => [c.key, c.status]),
  );
const stage = (checks: CheckResult[], key: string) => {
  const c = checks.find((x) => x.key === key);
  assert.ok(c, `${key} in ${checks.map((x) => x.key)}`);
  return c!;
};

/** A ServiceAccount annotated with a new identity's client id, and one credential with the given parts. */
function handMade(env: Env, o: { issuer?: string; subject?: string; audience?: string; clientId?: string }) {
  const c = clusterRec(env, 'aks-payments');
  const id = addIdentity(env.sim.state, SUB_PROD, 'rg-payments', 'id-hand-made');
  addCredential(
    env.sim.state,
    id,
    'fic-hand-made',
    o.issuer ?? c.resource.properties.oidcIssuerProfile.issuerURL,
    o.subject ?? 'system:serviceaccount:payments:hand-made',
    [o.audience ?? 'api://AzureADTokenExchange'],
  );
  addServiceAccount(c, 'payments', 'hand-made', {
    annotations: { 'azure.workload.identity/client-id': o.clientId ?? id.resource.properties.clientId },
  });
  // A grant, so the vault stage has a vault to test.
  vaultRec(env, 'kv-petclinic').properties.accessPolicies.push({
    tenantId: id.resource.properties.tenantId,
    objectId: id.resource.properties.principalId,
    permissions: { secrets: ['get'] },
  });
  return target(env, 'aks-payments', 'payments', 'hand-made');
}

describe('Test Binding', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { clusterUpdateMs: 200, pollRetryAfterSeconds: 1 } });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  it('a working binding passes all three stages: token, exchange, Key Vault; nothing is written, and no token reaches the log', async () => {
    const progress: string[] = [];
    const { report } = await verifyAndTest(
      target(env),
      probeDepsFor(env.services),
      opts({ progress: (m) => progress.push(m) }),
    );
    assert.deepEqual(stages(report.checks), {
      token: 'pass',
      exchange: 'pass',
      'keyVault:kv-payments:secrets': 'pass',
    });
    const token = stage(report.checks, 'token');
    assert.deepEqual(
      token.evidence.slice(0, 3).map((e) => `${e.label}: ${e.value}`),
      [
        `Token iss: ${clusterRec(env, 'aks-payments').resource.properties.oidcIssuerProfile.issuerURL}`,
        'Token sub: system:serviceaccount:payments:payments-api',
        'Token aud: api://AzureADTokenExchange',
      ],
    );
    assert.match(stage(report.checks, 'keyVault:kv-payments:secrets').evidence[1].value, /^404 SecretNotFound$/);
    assert.deepEqual(
      progress.map((p) => p.slice(0, 3)),
      ['1/3', '2/3', '3/3'],
    );
    assert.deepEqual(
      writes(env.sim).filter((w) => !['kube.serviceaccounts.token', 'entra.token'].includes(w.op)),
      [],
      'no write beyond asking for tokens',
    );
    assert.deepEqual(
      env.sim.log.filter((r) => r.server === 'vault').map((r) => r.status),
      [401, 404],
      'the challenge, then the answer',
    );
    const md = reportMarkdown(report);
    assert.doesNotMatch(
      md + (env.log as RecordingLogger).text,
      /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./,
      'no JWT in the report or the log',
    );
  });

  it('the hand-made binding with the issuer pasted without its slash fails the exchange with AADSTS700211, marks the mismatch and offers the fix; after it and the propagation delay, the test passes', async () => {
    const t = target(env, 'aks-payments', 'checkout', 'checkout-api');
    const deps = probeDepsFor(env.services);
    const first = await verifyAndTest(t, deps, opts());
    const exchange = stage(first.report.checks, 'exchange');
    assert.equal(exchange.status, 'fail');
    assert.match(exchange.message, /^AADSTS700211: No federated credential on the identity has the token's issuer/);
    assert.match(
      exchange.evidence.find((e) => e.label === 'Credential fic-checkout')!.value,
      /^issuer ✗ https:\/\/[^\n]+[^/]\nsubject ✓ system:serviceaccount:checkout:checkout-api\naudiences ✓/,
    );
    assert.equal(exchange.fix?.kind, 'credential');
    assert.equal(stage(first.report.checks, 'keyVault').status, 'skip');

    env.sim.config.credentialPropagationMs = 600;
    await applyFix(exchange.fix!, first.facts, deps, new AbortController().signal);
    const waits: string[] = [];
    const again = await verifyAndTest(
      t,
      probeDepsFor(env.services),
      opts({ propagationWaitMs: 10_000, progress: (m) => waits.push(m) }),
    );
    assert.equal(stage(again.report.checks, 'exchange').status, 'pass', stage(again.report.checks, 'exchange').message);
    assert.ok(
      waits.some((w) => /AADSTS70021: right after a credential is written.*Trying again in 2 s/.test(w)),
      waits.join('\n'),
    );
    // Its second mistake: an access policy on an RBAC vault, which Key Vault ignores.
    const kv = stage(again.report.checks, 'keyVault:kv-payments:secrets');
    assert.equal(kv.status, 'fail');
    assert.match(kv.message, /refused get on secrets \(ForbiddenByRbac\)/);
    assert.equal(kv.fix?.kind, 'grant');
  });

  it('names every AADSTS outcome: unknown client id, subject typo, case-only subject, audience, an issuer Entra ID cannot fetch, a token outside its time', async () => {
    const cases: [string, () => Binding, RegExp][] = [
      [
        '700016',
        () => handMade(env, { clientId: '11111111-2222-4333-8444-555555555555' }),
        /^AADSTS700016: Microsoft Entra ID knows no application with the ServiceAccount's client id/,
      ],
      [
        '700213',
        () => handMade(env, { subject: 'system:serviceaccount:payments:handmade' }),
        /^AADSTS700213: No federated credential on the identity has the token's subject/,
      ],
      [
        '7002138',
        () => handMade(env, { subject: 'system:serviceaccount:Payments:hand-made' }),
        /^AADSTS7002138: The subject matches a federated credential only when case is ignored/,
      ],
      [
        '700212',
        () => handMade(env, { audience: 'api://SomethingElse' }),
        /^AADSTS700212: No federated credential on the identity has the token's audience/,
      ],
      [
        '90061',
        () => {
          // OIDC issuer off: the cluster signs with the in-cluster issuer, which nothing serves.
          const c = clusterRec(env, 'aks-petclinic');
          const id = identityRec(env, 'id-payments-api');
          addServiceAccount(c, 'spring-petclinic', 'petclinic-api', {
            annotations: { 'azure.workload.identity/client-id': id.resource.properties.clientId },
          });
          return target(env, 'aks-petclinic', 'spring-petclinic', 'petclinic-api');
        },
        /^AADSTS90061: Microsoft Entra ID could not fetch the issuer's discovery document/,
      ],
      [
        '700024',
        () => {
          env.sim.config.entraClockSkewSeconds = 3600;
          return target(env);
        },
        /^AADSTS700024: The token is outside its validity time: check your computer's clock/,
      ],
    ];
    for (const [code, make, message] of cases) {
      env.sim.reset();
      const { report } = await verifyAndTest(make(), probeDepsFor(env.services), opts());
      const exchange = stage(report.checks, 'exchange');
      assert.equal(exchange.status, 'fail', code);
      assert.match(exchange.message, message, code);
      assert.match(exchange.evidence[0].value, new RegExp(`^AADSTS${code}:`), `${code}: what Entra ID said is shown`);
    }
  });

  it('a client id of an identity the user cannot see, without a tenant-id annotation: the exchange goes to the signed-in tenant, never to a subscription id, so Entra ID says what is wrong (AADSTS700016)', async () => {
    const t = handMade(env, { clientId: '11111111-2222-4333-8444-555555555555' });
    const sa = clusterRec(env, 'aks-payments').kube.serviceAccounts.get('payments/hand-made')!;
    assert.equal(
      sa.metadata.annotations?.['azure.workload.identity/tenant-id'],
      undefined,
      'the annotation is optional, and absent here',
    );
    const { report } = await verifyAndTest(t, probeDepsFor(env.services), opts());
    const exchange = stage(report.checks, 'exchange');
    assert.match(exchange.message, /^AADSTS700016: /, exchange.message);
    const tenants = env.sim.log.filter((r) => r.op === 'entra.token').map((r) => r.path.split('/')[1]);
    assert.deepEqual([...new Set(tenants)], [TENANT_CONTOSO]);
    assert.ok(!tenants.includes(SUB_PROD));

    assert.match(
      exchange.evidence.find((e) => e.label === 'Tenant')!.value,
      new RegExp(`^${TENANT_CONTOSO} \\(from the tenant you signed in to\\)$`),
    );

    // The annotation, when present, is the tenant asked; one Entra ID does not know (AADSTS90002 at discovery) is named with where it came from.
    sa.metadata.annotations = { ...sa.metadata.annotations, 'azure.workload.identity/tenant-id': SUB_PROD };
    const wrong = stage((await verifyAndTest(t, probeDepsFor(env.services), opts())).report.checks, 'exchange');
    assert.equal(wrong.status, 'fail');
    assert.equal(
      wrong.message,
      `endpoints_resolution_error: Microsoft Entra ID does not know the tenant ${SUB_PROD}, which the ServiceAccount's azure.workload.identity/tenant-id annotation names: the exchange cannot start.`,
    );
    assert.ok(
      env.sim.log.some(
        (r) => r.op === 'entra.openidConfiguration' && r.status === 400 && r.path.startsWith(`/${SUB_PROD}/`),
      ),
      'Entra ID refused the unknown tenant at discovery',
    );
  });

  it('Key Vault outcomes: a policy without get is 403 with the grant fix; the firewall says nothing about the pod; a new role assignment is waited for', async () => {
    const t = handMade(env, {});
    const id = identityRec(env, 'id-hand-made');
    const kvp = vaultRec(env, 'kv-petclinic');
    kvp.properties.accessPolicies.find((p: any) => p.objectId === id.resource.properties.principalId).permissions = {
      secrets: ['list'],
    };
    // A role on the access-policy vault does not count, so the only kind to test is the one in the (useless) policy.
    let { report } = await verifyAndTest(t, probeDepsFor(env.services), opts());
    assert.equal(stage(report.checks, 'vault:kv-petclinic').status, 'fail');
    const kv = stage(report.checks, 'keyVault:kv-petclinic:secrets');
    assert.equal(kv.status, 'fail');
    assert.match(kv.message, /refused get on secrets \(AccessDenied\): no access policy gives it/);
    assert.equal(kv.fix?.kind, 'grant');

    kvp.properties.accessPolicies.find((p: any) => p.objectId === id.resource.properties.principalId).permissions = {
      secrets: ['get'],
    };
    kvp.properties.networkAcls = {
      defaultAction: 'Deny',
      bypass: 'AzureServices',
      ipRules: [],
      virtualNetworkRules: [],
    };
    ({ report } = await verifyAndTest(t, probeDepsFor(env.services), opts()));
    assert.equal(stage(report.checks, 'keyVault:kv-petclinic:secrets').status, 'warn');
    assert.match(
      stage(report.checks, 'keyVault:kv-petclinic:secrets').message,
      /firewall does not let your computer in. That says nothing about the pod/,
    );
    delete kvp.properties.networkAcls;

    // A role just assigned on an RBAC vault: 403 until it applies; the test waits for it.
    env.sim.config.roleAssignmentPropagationMs = 2500;
    const r: BindRequest = {
      cluster: t.cluster,
      namespace: 'payments',
      serviceAccount: 'hand-made',
      vault: vaultFromRaw(vaultRec(env, 'kv-payments')),
      permissions: ['keys'],
      identity: {
        kind: 'existing',
        identity: {
          id: id.resource.id,
          subscriptionId: SUB_PROD,
          resourceGroup: 'rg-payments',
          name: id.resource.name,
          location: 'eastus',
          clientId: id.resource.properties.clientId,
          principalId: id.resource.properties.principalId,
          tenantId: id.resource.properties.tenantId,
        },
      },
    };
    await runBind(r, probeDepsFor(env.services), { signal: new AbortController().signal });
    const waits: string[] = [];
    ({ report } = await verifyAndTest(
      t,
      probeDepsFor(env.services),
      opts({ propagationWaitMs: 20_000, progress: (m) => waits.push(m) }),
    ));
    assert.equal(
      stage(report.checks, 'keyVault:kv-payments:keys').status,
      'pass',
      stage(report.checks, 'keyVault:kv-payments:keys').message,
    );
    assert.ok(
      waits.some((w) => /403 from kv-payments: a new role assignment can take up to 10 minutes/.test(w)),
      waits.join('\n'),
    );
  });

  it('a named secret: readable without its value being read; disabled; missing; and a 401 is a token problem', async () => {
    const value = env.sim.state.secrets.get('kv-payments/db-password')!.value;
    const deps = probeDepsFor(env.services);
    let { report } = await verifyAndTest(target(env), deps, opts({ secretName: 'db-password' }));
    const named = stage(report.checks, 'keyVault:kv-payments:secret db-password');
    assert.equal(named.status, 'pass');
    assert.match(named.message, /can read the secret db-password. Its value was not read/);
    assert.ok(
      !JSON.stringify(report).includes(value) && !(env.log as RecordingLogger).text.includes(value),
      'the value is nowhere',
    );
    assert.match(
      (env.log as RecordingLogger).text,
      /GET https:\/\/kv-payments\.vault\.sim\.test:\d+\/secrets\/<named secret> 200/,
    );
    ({ report } = await verifyAndTest(target(env), probeDepsFor(env.services), opts({ secretName: 'old-password' })));
    assert.match(
      stage(report.checks, 'keyVault:kv-payments:secret old-password').message,
      /the secret old-password is disabled/,
    );
    ({ report } = await verifyAndTest(target(env), probeDepsFor(env.services), opts({ secretName: 'no-such' })));
    assert.equal(stage(report.checks, 'keyVault:kv-payments:secret no-such').status, 'warn');

    env.sim.addFault({ op: 'keyvault.secrets.get', kind: '401', count: 0 });
    ({ report } = await verifyAndTest(target(env), probeDepsFor(env.services), opts()));
    assert.match(stage(report.checks, 'keyVault:kv-payments:secrets').message, /did not accept the token \(401/);
  });

  it('a token request the user may not make names the permission', async () => {
    env.sim.addFault({ op: 'kube.serviceaccounts.token', kind: '403', count: 0 });
    const { report } = await verifyAndTest(target(env), probeDepsFor(env.services), opts());
    assert.equal(stage(report.checks, 'token').status, 'fail');
    assert.match(
      stage(report.checks, 'token').message,
      /needs the "create" verb on serviceaccounts\/token in payments/,
    );
    assert.deepEqual(
      [stage(report.checks, 'exchange').status, stage(report.checks, 'keyVault').status],
      ['skip', 'skip'],
    );
  });

  it('cancels at each stage', async () => {
    for (const op of ['kube.serviceaccounts.token', 'entra.token', 'keyvault.secrets.get']) {
      env.sim.reset();
      env.sim.addFault({ op, kind: 'latency', latencyMs: 3000, count: 0 });
      const ac = new AbortController();
      const running = verifyAndTest(
        target(env),
        probeDepsFor(env.services),
        opts({
          signal: ac.signal,
          progress: (m) => {
            if (
              m.startsWith(
                { 'kube.serviceaccounts.token': '1/3', 'entra.token': '2/3', 'keyvault.secrets.get': '3/3' }[op]!,
              )
            )
              setTimeout(() => ac.abort(), 100);
          },
        }),
      );
      await assert.rejects(running, (e) => e instanceof CancelledError || (e as Error).name === 'AbortError', op);
    }
  });

  it('works through run-command on a private cluster and with an Entra ID token on an Entra ID cluster', async () => {
    for (const [cluster, namespace] of [
      ['aks-private', 'default'],
      ['aks-entra', 'payments'],
    ]) {
      const c = clusterFromRaw(clusterRec(env, cluster).resource);
      const r: BindRequest = {
        cluster: c,
        namespace,
        serviceAccount: 'probe-sa',
        vault: vaultFromRaw(vaultRec(env, 'kv-petclinic')),
        permissions: ['secrets'],
        identity: {
          kind: 'new',
          subscriptionId: SUB_PROD,
          resourceGroup: c.resourceGroup,
          name: `id-probe-${cluster}`,
          location: c.location,
        },
      };
      await runBind(r, probeDepsFor(env.services), { signal: new AbortController().signal });
      const { report } = await verifyAndTest(
        { cluster: c, namespace, serviceAccount: 'probe-sa' },
        probeDepsFor(env.services),
        opts(),
      );
      assert.deepEqual(
        stages(report.checks),
        { token: 'pass', exchange: 'pass', 'keyVault:kv-petclinic:secrets': 'pass' },
        cluster,
      );
      assert.match(
        stage(report.checks, 'token').message,
        cluster === 'aks-private' ? /via AKS run-command/ : /via the TokenRequest API/,
      );
    }
  });

  it('finds the authority and Key Vault resource of each cloud; a custom cloud takes them from its settings', () => {
    assert.deepEqual(
      [resolveCloud({}).activeDirectoryEndpoint, resolveCloud({}).keyVaultResource],
      ['https://login.microsoftonline.com/', 'https://vault.azure.net'],
    );
    assert.deepEqual(
      [
        resolveCloud({ environment: 'ChinaCloud' }).activeDirectoryEndpoint,
        resolveCloud({ environment: 'ChinaCloud' }).keyVaultResource,
      ],
      ['https://login.chinacloudapi.cn/', 'https://vault.azure.cn'],
    );
    assert.deepEqual(
      [
        resolveCloud({ environment: 'USGovernment' }).activeDirectoryEndpoint,
        resolveCloud({ environment: 'USGovernment' }).keyVaultResource,
      ],
      ['https://login.microsoftonline.us/', 'https://vault.usgovcloudapi.net'],
    );
    const custom = resolveCloud({
      environment: 'custom',
      customEnvironment: {
        resourceManagerEndpointUrl: 'https://arm.contoso.example',
        activeDirectoryEndpointUrl: 'https://login.contoso.example',
        keyVaultDnsSuffix: '.vault.contoso.example',
      },
    });
    assert.deepEqual(
      [custom.activeDirectoryEndpoint, custom.keyVaultResource],
      ['https://login.contoso.example/', 'https://vault.contoso.example'],
    );
    const bare = resolveCloud({
      environment: 'custom',
      customEnvironment: { resourceManagerEndpointUrl: 'https://arm.contoso.example' },
    });
    assert.deepEqual([bare.activeDirectoryEndpoint, bare.keyVaultResource], [undefined, undefined]);
  });

  it('a custom cloud without an authority says which settings are missing instead of guessing', async () => {
    const deps = { ...probeDepsFor(env.services), cloud: { name: 'custom' as const } };
    const { report } = await verifyAndTest(target(env), deps, opts());
    assert.equal(stage(report.checks, 'token').status, 'pass');
    assert.match(
      stage(report.checks, 'exchange').message,
      /set activeDirectoryEndpointUrl and keyVaultDnsSuffix in microsoft-sovereign-cloud.customEnvironment/,
    );
  });
});
