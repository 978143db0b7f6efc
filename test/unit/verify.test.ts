import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { applyFix } from '../../src/workloadIdentity/verify/fix';
import { CheckResult } from '../../src/workloadIdentity/verify/model';
import { reportHtml, reportMarkdown } from '../../src/ui/report/render';
import { propagationNote, verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { webhookFor } from '../sim/kube';
import { SUB_PROD, addCredential, addIdentity, addPod, addServiceAccount } from '../sim/seed';
import { verifyDepsFor, withSim, writes } from './helpers';
import type { Binding } from '../../src/workloadIdentity/binding';

type Env = Awaited<ReturnType<typeof withSim>>;

const clusterRec = (env: Env, name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
const identityRec = (env: Env, name: string) =>
  [...env.sim.state.identities.values()].find((r) => r.resource.name === name)!;
const vaultRec = (env: Env, name: string) => [...env.sim.state.vaults.values()].find((v) => v.name === name)!;
const issuerOf = (env: Env, name: string): string =>
  clusterRec(env, name).resource.properties.oidcIssuerProfile.issuerURL;
const PAYMENTS_SUBJECT = 'system:serviceaccount:payments:payments-api';
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

const deps = (env: Env) => verifyDepsFor(env.services);

function target(env: Env, o: { cluster?: string; namespace?: string; sa?: string; vault?: string } = {}): Binding {
  return {
    cluster: clusterFromRaw(clusterRec(env, o.cluster ?? 'aks-payments').resource),
    namespace: o.namespace ?? 'payments',
    serviceAccount: o.sa ?? 'payments-api',
    ...(o.vault ? { vault: vaultFromRaw(vaultRec(env, o.vault)) } : {}),
  };
}

const verify = async (env: Env, t: Binding) => verifyBinding(t, deps(env));
const byId = (checks: CheckResult[], key: string) => {
  const c = checks.find((x) => x.key === key);
  assert.ok(c, `check ${key} in ${checks.map((x) => x.key).join(', ')}`);
  return c!;
};
const marks = (checks: CheckResult[]) => Object.fromEntries(checks.map((c) => [c.key, c.status]));

/** Verifies, expects the check to fail with the message, applies its fix, and expects the check to pass. */
async function detectAndFix(env: Env, t: Binding, key: string, message: RegExp, status: 'fail' | 'warn' = 'fail') {
  const first = await verify(env, t);
  const c = byId(first.report.checks, key);
  assert.equal(c.status, status, `${key}: ${c.message}`);
  assert.match(c.message, message);
  assert.ok(c.fix, `${key} offers a fix`);
  await applyFix(c.fix!, first.facts, deps(env), new AbortController().signal);
  const again = await verify(env, t);
  assert.equal(byId(again.report.checks, key).status, 'pass', byId(again.report.checks, key).message);
  return { before: first.report, after: again.report };
}

describe('Verify Workload Identity', () => {
  let env: Env;
  before(async () => {
    env = await withSim();
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  it('a healthy binding passes every check and sends no write', async () => {
    const { report } = await verify(env, target(env));
    assert.deepEqual(marks(report.checks), {
      cluster: 'pass',
      webhook: 'pass',
      serviceAccount: 'pass',
      identity: 'pass',
      issuer: 'pass',
      subject: 'pass',
      audience: 'pass',
      credentialCount: 'pass',
      'vault:kv-payments': 'pass',
      pods: 'pass',
      namespace: 'pass',
    });
    assert.deepEqual(writes(env.sim), []);
    assert.equal(report.identity?.name, 'id-payments-api');
    assert.deepEqual(
      report.notes,
      [propagationNote()],
      'a right credential can still be refused while it propagates: the report says so',
    );
    assert.match(reportMarkdown(report), /> The federated credential checks pass\. If a pod still gets AADSTS70021/);
  });

  it('the same healthy binding passes through run-command on a private cluster', async () => {
    const c = clusterRec(env, 'aks-private');
    const id = addIdentity(env.sim.state, SUB_PROD, 'rg-secure', 'id-ledger');
    addCredential(
      env.sim.state,
      id,
      'fic-ledger',
      issuerOf(env, 'aks-private'),
      'system:serviceaccount:ledger:ledger-sa',
    );
    addServiceAccount(c, 'ledger', 'ledger-sa', {
      annotations: { 'azure.workload.identity/client-id': id.resource.properties.clientId },
    });
    addPod(c, 'ledger', 'ledger', 'ledger-sa', { labelled: true, injected: true });
    vaultRec(env, 'kv-petclinic').properties.accessPolicies.push({
      tenantId: vaultRec(env, 'kv-petclinic').properties.tenantId,
      objectId: id.resource.properties.principalId,
      permissions: { secrets: ['get'] },
    });
    const { report } = await verify(env, target(env, { cluster: 'aks-private', namespace: 'ledger', sa: 'ledger-sa' }));
    assert.ok(
      report.checks.every((x) => x.status === 'pass'),
      JSON.stringify(report.checks.filter((x) => x.status !== 'pass')),
    );
    assert.ok(
      env.sim.log.some((r) => r.op === 'managedClusters.runCommand'),
      'read through run-command',
    );
    assert.deepEqual(
      writes(env.sim).filter((r) => r.op !== 'managedClusters.runCommand'),
      [],
    );
  });

  it('1: a cluster without the OIDC issuer fails and skips the credential checks; the fix enables it, changing nothing else', async () => {
    const t = target(env, { cluster: 'aks-petclinic', namespace: 'spring-petclinic', sa: 'default' });
    const { report } = await verify(env, t);
    assert.equal(byId(report.checks, 'issuer').status, 'skip');
    assert.match(
      byId(report.checks, 'cluster').fix!.detail,
      /turn on the OIDC issuer and workload identity; every other setting stays/,
    );
    await detectAndFix(env, t, 'cluster', /neither the OIDC issuer nor workload identity on, so no pod gets a token/);
    assert.deepEqual(clusterRec(env, 'aks-petclinic').violations, [], 'only the two flags changed');
    assert.deepEqual(
      writes(env.sim).map((r) => r.op),
      ['managedClusters.createOrUpdate'],
    );
  });

  it('2: a missing webhook fails; a second webhook (Helm beside the add-on) warns', async () => {
    const kube = clusterRec(env, 'aks-payments').kube;
    const hook = webhookFor(
      'azure-wi-webhook-mutating-webhook-configuration',
      'azure-wi-webhook-webhook-service',
      'azure-workload-identity-system',
    );
    kube.webhooks.set('helm-azure-wi', { ...hook, metadata: { ...hook.metadata, name: 'helm-azure-wi' } });
    let c = byId((await verify(env, target(env))).report.checks, 'webhook');
    assert.equal(c.status, 'warn');
    assert.match(c.message, /2 workload identity webhooks.*Helm/);
    kube.webhooks.clear();
    kube.pods.clear();
    addPod(clusterRec(env, 'aks-payments'), 'payments', 'payments-api', 'payments-api', {
      labelled: true,
      injected: false,
    });
    const { report } = await verify(env, target(env));
    c = byId(report.checks, 'webhook');
    assert.equal(c.status, 'fail');
    assert.match(c.message, /No workload identity webhook/);
    assert.match(byId(report.checks, 'pods').message, /labelled, but no webhook is installed to inject the token/);
  });

  it('3: a ServiceAccount without the annotation fails; the fix sets it and keeps the others', async () => {
    const sa = clusterRec(env, 'aks-payments').kube.serviceAccounts.get('payments/payments-api')!;
    delete sa.metadata.annotations!['azure.workload.identity/client-id'];
    const { before: b } = await detectAndFix(
      env,
      target(env),
      'serviceAccount',
      /no azure.workload.identity\/client-id annotation/,
    );
    assert.equal(byId(b.checks, 'identity').status, 'warn', 'the identity was found through its credential');
    const after = clusterRec(env, 'aks-payments').kube.serviceAccounts.get('payments/payments-api')!;
    assert.equal(
      after.metadata.annotations!['azure.workload.identity/client-id'],
      identityRec(env, 'id-payments-api').resource.properties.clientId,
    );
    assert.equal(after.metadata.annotations!['meta.helm.sh/release-name'], 'payments');
    assert.equal(after.metadata.labels!['app.kubernetes.io/part-of'], 'payments');
  });

  it('3: a missing ServiceAccount fails, and the fix creates it', async () => {
    clusterRec(env, 'aks-payments').kube.serviceAccounts.delete('payments/payments-api');
    await detectAndFix(env, target(env), 'serviceAccount', /does not exist/);
  });

  it('4: a client id no visible identity has fails', async () => {
    clusterRec(env, 'aks-payments').kube.serviceAccounts.get('payments/payments-api')!.metadata.annotations![
      'azure.workload.identity/client-id'
    ] = '11111111-2222-3333-4444-555555555555';
    const { report } = await verify(env, target(env));
    assert.equal(byId(report.checks, 'identity').status, 'fail');
    assert.match(
      byId(report.checks, 'identity').message,
      /No user-assigned managed identity you can see has client id 11111111/,
    );
    assert.equal(byId(report.checks, 'issuer').status, 'skip');
  });

  const credentialOf = (env: Env) =>
    identityRec(env, 'id-payments-api').credentials.get('fic-aks-payments-payments-api')!;

  it("a credential without a subject on the identity (GitHub Actions through claimsMatchingExpression) is listed as matching by expression, never taken for the binding's, and Verify passes", async () => {
    const github = identityRec(env, 'id-payments-api').credentials.get('github-payments-deploy')!;
    assert.equal(github.properties.subject, undefined, "the seed's flexible credential has no subject");
    const { report } = await verify(env, target(env));
    for (const id of ['issuer', 'subject', 'audience'] as const)
      assert.equal(byId(report.checks, id).status, 'pass', byId(report.checks, id).message);
    assert.match(
      byId(report.checks, 'issuer').message,
      /^fic-aks-payments-payments-api uses the cluster's issuer exactly/,
    );
    assert.match(byId(report.checks, 'credentialCount').message, /2 of 20/, 'it takes a place in the budget');
    // Every other check sees it too: the subjects a mistyped one is compared with name only real subjects.
    credentialOf(env).properties.subject = 'system:serviceaccount:payments:paymnets-api';
    const typo = byId((await verify(env, target(env))).report.checks, 'subject');
    assert.match(typo.message, /federates system:serviceaccount:payments:paymnets-api: is/);
    assert.doesNotMatch(typo.message + JSON.stringify(typo.evidence), /undefined|matches by expression/);
    // With no credential for the binding, the identity's credentials are listed: the flexible one with its expression.
    identityRec(env, 'id-payments-api').credentials.delete('fic-aks-payments-payments-api');
    const none = byId((await verify(env, target(env))).report.checks, 'issuer');
    assert.equal(none.status, 'fail');
    assert.equal(
      none.evidence.find((e) => e.label === 'Credentials on the identity')!.value,
      `github-payments-deploy: ${GITHUB_ISSUER} · matches by expression: claims['sub'] matches 'repo:contoso/payments:environment:*'`,
    );
  });

  it('5: an issuer without its trailing slash gets its own message; the fix rewrites that credential in place', async () => {
    credentialOf(env).properties.issuer = issuerOf(env, 'aks-payments').replace(/\/$/, '');
    await detectAndFix(env, target(env), 'issuer', /only by a trailing slash/);
    assert.equal(identityRec(env, 'id-payments-api').credentials.size, 2, 'no second credential beside the GitHub one');
    assert.equal(credentialOf(env).properties.issuer, issuerOf(env, 'aks-payments'));
  });

  it('5: the in-cluster issuer gets its own message', async () => {
    credentialOf(env).properties.issuer = 'https://kubernetes.default.svc.cluster.local';
    await detectAndFix(
      env,
      target(env),
      'issuer',
      /kubernetes\.default\.svc\.cluster\.local, which a cluster uses before its OIDC issuer/,
    );
    assert.equal(identityRec(env, 'id-payments-api').credentials.size, 2);
  });

  it("5: another cluster's issuer is named; the fix adds a credential and leaves that cluster's", async () => {
    credentialOf(env).properties.issuer = issuerOf(env, 'aks-entra');
    await detectAndFix(env, target(env), 'issuer', /belongs to another cluster, aks-entra/);
    const creds = [...identityRec(env, 'id-payments-api').credentials.values()].map((c) => c.properties.issuer).sort();
    assert.deepEqual(creds, [issuerOf(env, 'aks-entra'), issuerOf(env, 'aks-payments'), GITHUB_ISSUER].sort());
  });

  it('5: no credential at all fails, and the fix creates one', async () => {
    identityRec(env, 'id-payments-api').credentials.clear();
    await detectAndFix(
      env,
      target(env),
      'issuer',
      /has no federated credential for system:serviceaccount:payments:payments-api/,
    );
  });

  it('6: a subject that differs only in case gets its own message; the fix rewrites it', async () => {
    credentialOf(env).properties.subject = 'system:serviceaccount:Payments:payments-api';
    await detectAndFix(env, target(env), 'subject', /differs only in case/);
    assert.equal(credentialOf(env).properties.subject, PAYMENTS_SUBJECT);
    assert.equal(identityRec(env, 'id-payments-api').credentials.size, 2);
  });

  it('6: a mistyped subject is reported with the subjects that exist', async () => {
    credentialOf(env).properties.subject = 'system:serviceaccount:payments:paymnets-api';
    await detectAndFix(
      env,
      target(env),
      'subject',
      /No credential names system:serviceaccount:payments:payments-api.*paymnets-api.*mistyped/,
    );
  });

  it('7: a wrong audience fails; the fix sets it', async () => {
    credentialOf(env).properties.audiences = ['api://AzureADTokenExchange2'];
    await detectAndFix(env, target(env), 'audience', /lacks the audience api:\/\/AzureADTokenExchange/);
  });

  it('8: 18 credentials warn; 20 warn that none can be added (a credential without a subject counts: it takes a place)', async () => {
    const id = identityRec(env, 'id-payments-api');
    for (let i = 0; i < 16; i++)
      addCredential(
        env.sim.state,
        id,
        `other-${i}`,
        issuerOf(env, 'aks-payments'),
        `system:serviceaccount:team${i}:app`,
      );
    let c = byId((await verify(env, target(env))).report.checks, 'credentialCount');
    assert.equal(c.status, 'warn');
    assert.match(c.message, /18 of 20.*close to the limit/);
    for (let i = 16; i < 18; i++)
      addCredential(
        env.sim.state,
        id,
        `other-${i}`,
        issuerOf(env, 'aks-payments'),
        `system:serviceaccount:team${i}:app`,
      );
    c = byId((await verify(env, target(env))).report.checks, 'credentialCount');
    assert.match(c.message, /20 federated credentials, the most Azure allows/);
  });

  it('9: an access policy on an RBAC vault is granted but ignored; the fix assigns the role', async () => {
    const t = target(env, { namespace: 'checkout', sa: 'checkout-api' });
    // The seeded broken binding: its credential also lacks the issuer's trailing slash.
    const { before: b } = await detectAndFix(
      env,
      t,
      'vault:kv-payments',
      /Granted but ignored: id-checkout has an access policy for secrets on kv-payments, but the vault uses Azure RBAC/,
    );
    assert.equal(byId(b.checks, 'issuer').status, 'fail');
    const principal = identityRec(env, 'id-checkout').resource.properties.principalId;
    assert.ok(
      [...env.sim.state.roleAssignments.values()].some(
        (a) =>
          a.properties.principalId === principal &&
          a.properties.roleDefinitionId.endsWith('4633458b-17de-408a-b874-0445c86b69e6'),
      ),
    );
  });

  it('9: a role on an access-policy vault is granted but ignored; the fix adds a policy and keeps the others', async () => {
    const t = target(env, { vault: 'kv-petclinic' });
    const id = identityRec(env, 'id-payments-api').resource;
    const scope = vaultRec(env, 'kv-petclinic').id;
    env.sim.state.roleAssignments.set(`${scope}/providers/microsoft.authorization/roleassignments/x`.toLowerCase(), {
      id: `${scope}/providers/Microsoft.Authorization/roleAssignments/x`,
      name: 'x',
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
        principalId: id.properties.principalId,
        principalType: 'ServicePrincipal',
        scope,
      },
    });
    const policiesBefore = vaultRec(env, 'kv-petclinic').properties.accessPolicies.length;
    await detectAndFix(
      env,
      t,
      'vault:kv-petclinic',
      /Granted but ignored: id-payments-api has a role for secrets on kv-petclinic, but the vault uses access policies/,
    );
    assert.equal(vaultRec(env, 'kv-petclinic').properties.accessPolicies.length, policiesBefore + 1);
  });

  it('9: no grant at all on the chosen vault fails, and the fix grants get', async () => {
    await detectAndFix(
      env,
      target(env, { vault: 'kv-petclinic' }),
      'vault:kv-petclinic',
      /gives id-payments-api no get permission/,
    );
  });

  it('9: the grant fix right after an identity was created waits out PrincipalNotFound, as Bind does', async () => {
    env.sim.addFault({ op: 'roleAssignments.create', kind: 'principalNotFound', count: 1 });
    await detectAndFix(
      env,
      target(env, { namespace: 'checkout', sa: 'checkout-api' }),
      'vault:kv-payments',
      /Granted but ignored/,
    );
    assert.ok(env.sim.log.filter((r) => r.op === 'roleAssignments.create').length >= 2, 'retried');
  });

  it('8: at 20 credentials without this one, the credential fix stops with the list instead of a 400', async () => {
    const id = identityRec(env, 'id-payments-api');
    id.credentials.clear();
    for (let i = 0; i < 20; i++)
      addCredential(
        env.sim.state,
        id,
        `other-${i}`,
        issuerOf(env, 'aks-payments'),
        `system:serviceaccount:team${i}:app`,
      );
    const { report, facts } = await verify(env, target(env));
    assert.equal(byId(report.checks, 'issuer').status, 'fail');
    await assert.rejects(
      applyFix(byId(report.checks, 'issuer').fix!, facts, deps(env), new AbortController().signal),
      (e: Error) => /already has 20 federated credentials, the most Azure allows: other-0/.test(e.message),
    );
    assert.deepEqual(writes(env.sim), []);
  });

  it('10: a pod without the label names its Deployment; a pod older than the annotation says restart', async () => {
    const c = clusterRec(env, 'aks-payments');
    c.kube.pods.clear();
    addPod(c, 'payments', 'payments-api', 'payments-api', { labelled: false, injected: false });
    let p = byId((await verify(env, target(env))).report.checks, 'pods');
    assert.equal(p.status, 'fail');
    assert.match(
      p.message,
      /Restart or add the label.*no azure.workload.identity\/use: "true" label\. Add it to the pod template of Deployment payments-api/,
    );
    c.kube.pods.clear();
    addPod(c, 'payments', 'payments-api', 'payments-api', {
      labelled: true,
      injected: false,
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    p = byId((await verify(env, target(env))).report.checks, 'pods');
    assert.match(
      p.message,
      /started 2024-01-01T00:00:00.000Z, before the client-id annotation was set .*Restart Deployment payments-api/,
    );
  });

  it('10: a labelled pod running as another ServiceAccount is pointed out', async () => {
    const c = clusterRec(env, 'aks-payments');
    c.kube.pods.clear();
    addPod(c, 'payments', 'payments-worker', 'default', { labelled: true, injected: false });
    const p = byId((await verify(env, target(env))).report.checks, 'pods');
    assert.equal(p.status, 'warn');
    assert.match(
      p.message,
      /Deployment payments-worker carries the azure.workload.identity\/use label with serviceAccountName default: set serviceAccountName: payments-api/,
    );
  });

  it('11: kube-system warns', async () => {
    const c = byId(
      (await verify(env, target(env, { namespace: 'kube-system', sa: 'default' }))).report.checks,
      'namespace',
    );
    assert.equal(c.status, 'warn');
  });

  it('a read that fails marks the checks that needed it and the others still run', async () => {
    env.sim.addFault({ op: 'kube.pods.list', kind: '403' });
    const { report } = await verify(env, target(env));
    assert.equal(byId(report.checks, 'pods').status, 'error');
    assert.match(byId(report.checks, 'pods').message, /Could not read/);
    assert.equal(byId(report.checks, 'issuer').status, 'pass');
  });

  it('the report renders as Markdown and as HTML that keeps names as text under a strict CSP', async () => {
    const { report } = await verify(env, target(env, { namespace: 'checkout', sa: 'checkout-api' }));
    const md = reportMarkdown(report);
    assert.match(md, /\| Federated credential issuer equals the cluster's issuer \| ❌ fail \|/);
    const hostile = {
      ...report,
      checks: report.checks.map((c) => ({ ...c, message: '<img src=x onerror=alert(1)>| row' })),
    };
    const html = reportHtml(hostile, { nonce: 'abc123', cspSource: 'https://webview.invalid' });
    assert.ok(!html.includes('<img src=x'), 'markup from data is escaped');
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none';[^"]*script-src 'nonce-abc123';/);
    assert.ok(!/<script(?![^>]*nonce="abc123")/.test(html), 'every script carries the nonce');
    assert.match(
      reportHtml(report, { nonce: 'n', cspSource: 'c' }),
      /<ul class="attention"><li><a href="#check-issuer">✗ fail: Federated credential issuer equals the cluster&#39;s issuer<\/a><\/li><li><a href="#check-vault:kv-payments">✗ fail: Key Vault grants get under its permission model \(kv-payments\)<\/a><\/li><\/ul>/,
      'problems are listed first',
    );
    const rows = reportMarkdown(hostile)
      .split('\n')
      .filter((l) => l.startsWith('| '));
    assert.ok(
      rows.length > 10 && rows.every((l) => (l.match(/(?<!\\)\|/g) ?? []).length === 5),
      'a pipe in data does not open a table cell',
    );
    assert.ok(!reportMarkdown(hostile).includes('<img'), 'nor does markup render in a ticket');
  });
});
