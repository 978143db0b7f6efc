import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { IdentityInfo } from '../../src/azure/identities';
import { parseResourceId } from '../../src/azure/resourceId';
import { identityReportHtml, identityReportMarkdown } from '../../src/ui/report/render';
import { runFleet } from '../../src/workloadIdentity/bind/fleet';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { applyFix } from '../../src/workloadIdentity/verify/fix';
import { bindingsOfIdentity, verifyIdentity } from '../../src/workloadIdentity/verify/identity';
import { verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { addCredential } from '../sim/seed';
import { verifyDepsFor, withSim, writes } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const DELETED_ISSUER = 'https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/deleted-cluster/';

describe('Verify on an identity: every cluster it federates, one report', () => {
  let env: Env;
  let identity: IdentityInfo;
  const clusters = (env: Env) => [...env.sim.state.clusters.values()].map((c) => clusterFromRaw(c.resource));
  const cluster = (env: Env, name: string) => clusters(env).find((c) => c.name === name)!;

  before(async () => {
    env = await withSim({ config: { credentialWriteMs: 0, principalReplicationMs: 0 } });
  });
  after(() => env?.sim.stop());
  beforeEach(async () => {
    env.sim.reset();
    // One identity bound to orders/orders-api on two clusters, plus a GitHub Actions credential and one that names
    // a deleted cluster's issuer.
    const vault = vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!);
    const first = cluster(env, 'aks-payments');
    const outcomes = await runFleet(
      {
        clusters: [first, cluster(env, 'aks-entra')],
        namespace: 'orders',
        serviceAccount: 'orders-api',
        vault,
        identity: {
          kind: 'new',
          subscriptionId: first.subscriptionId,
          resourceGroup: first.resourceGroup,
          name: 'id-orders',
          location: first.location,
        },
        permissions: ['secrets'],
      },
      verifyDepsFor(env.services),
      { signal: new AbortController().signal },
    );
    assert.ok(outcomes.every((o) => 'result' in o));
    const rec = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
    addCredential(env.sim.state, rec, 'github-main', GITHUB_ISSUER, 'repo:contoso/orders:ref:refs/heads/main');
    addCredential(env.sim.state, rec, 'fic-old-cluster', DELETED_ISSUER, 'system:serviceaccount:orders:orders-api');
    identity = (await env.services.identities.find(parseResourceId(rec.resource.id)))!;
    env.sim.log.length = 0;
  });

  it('a section per cluster, each green; the other tool and the orphan are listed as not checked, with why', async () => {
    const report = await verifyIdentity(identity, clusters(env), verifyDepsFor(env.services));
    assert.deepEqual(
      report.sections.map(({ report: r }) => [r.target.cluster.name, r.target.namespace, r.target.serviceAccount]),
      [
        ['aks-entra', 'orders', 'orders-api'],
        ['aks-payments', 'orders', 'orders-api'],
      ],
    );
    for (const { report: r } of report.sections) {
      const bad = r.checks.filter((c) => c.status === 'fail' || c.status === 'error');
      assert.deepEqual(
        bad.map((c) => `${c.key}: ${c.message}`),
        [],
        r.target.cluster.name,
      );
      assert.equal(r.checks.find((c) => c.id === 'issuer')!.status, 'pass');
    }
    assert.deepEqual(
      report.notChecked.map((n) => [n.credential.name, n.why]),
      [
        ['github-main', 'made by GitHub Actions: not a binding of a cluster'],
        [
          'fic-old-cluster',
          'its issuer is no cluster you can see: a deleted or rebuilt cluster, or one in a subscription that is not selected',
        ],
      ],
    );
    const md = identityReportMarkdown(report);
    assert.match(md, /^# Workload identity check: id-orders on 2 clusters\n/);
    assert.equal(md.match(/^### Workload identity check: orders\/orders-api on aks-/gm)?.length, 2);
    assert.match(
      md,
      /### Not checked\n\n- `github-main` \(https:\/\/token\.actions\.githubusercontent\.com\): made by/,
    );
    const html = identityReportHtml(report, { nonce: 'n', cspSource: 'c' });
    assert.equal(html.match(/<section class="binding"/g)?.length, 2);
    assert.equal(html.match(/data-open="\d"/g)?.length, 2);
    // Keys carry their section: the same check on two clusters has two anchors.
    assert.match(html, /id="check-0:issuer"/);
    assert.match(html, /id="check-1:issuer"/);
    assert.deepEqual(writes(env.sim), [], 'Verify writes nothing');
  });

  it('reads the identity, its credentials and the vault once for all sections, not once per section', async () => {
    const deps = verifyDepsFor(env.services);
    const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;
    env.sim.log.length = 0;
    const one = clusters(env).find((c) => c.name === 'aks-payments')!;
    await verifyBinding(
      { cluster: one, namespace: 'orders', serviceAccount: 'orders-api', identityId: identity.id },
      deps,
    );
    const single = env.sim.log.map((r) => r.op);
    env.sim.log.length = 0;
    await verifyIdentity(identity, clusters(env), verifyDepsFor(env.services));
    const both = env.sim.log.map((r) => r.op);
    const shared = ['federatedIdentityCredentials.list', 'vaults.get', 'roleAssignments.listForScope'];
    for (const op of shared) {
      assert.ok(count(single, op) >= 1, `${op} in a single Verify: ${single.join(', ')}`);
      // One more credential listing: the report reads the credentials first to find the bindings.
      assert.equal(count(both, op), count(single, op), `${op} once for both sections`);
    }
    assert.ok(both.length < 2 * single.length, `${both.length} calls for two sections, ${single.length} for one`);
    console.log(`Verify on an identity, 2 clusters: ${both.length} calls; one binding alone: ${single.length}`);
  });

  it('a broken section shows its fix; the fix repairs only that cluster, and the next run is green there', async () => {
    // aks-entra's credential gets a trailing slash too many: Entra ID would refuse it.
    const rec = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
    const fic = rec.credentials.get('fic-aks-entra-orders-orders-api')!;
    fic.properties.issuer = `${fic.properties.issuer.replace(/\/$/, '')}//`;
    const deps = verifyDepsFor(env.services);
    const first = await verifyIdentity(identity, clusters(env), deps);
    const entra = first.sections.find((s) => s.report.target.cluster.name === 'aks-entra')!;
    const issuer = entra.report.checks.find((c) => c.id === 'issuer')!;
    assert.equal(issuer.status, 'fail', issuer.message);
    assert.ok(issuer.fix);
    const payments = first.sections.find((s) => s.report.target.cluster.name === 'aks-payments')!;
    assert.equal(payments.report.checks.find((c) => c.id === 'issuer')!.status, 'pass');
    env.sim.log.length = 0;
    await applyFix(issuer.fix!, entra.facts!, deps, new AbortController().signal);
    assert.deepEqual(
      writes(env.sim).map((w) => w.op),
      ['federatedIdentityCredentials.createOrUpdate'],
    );
    const again = await verifyIdentity(identity, clusters(env), verifyDepsFor(env.services));
    for (const { report: r } of again.sections)
      assert.equal(r.checks.find((c) => c.id === 'issuer')!.status, 'pass', r.target.cluster.name);
  });

  it("bindingsOfIdentity: a trailing-slash near miss is still its cluster's section; a subject that is no ServiceAccount is not checked", () => {
    const c = cluster(env, 'aks-payments');
    const { bindings, notChecked } = bindingsOfIdentity(
      identity,
      [
        {
          name: 'a',
          issuer: `${c.issuerUrl!.replace(/\/$/, '')}`,
          subject: 'system:serviceaccount:orders:orders-api',
          audiences: [],
        },
        { name: 'b', issuer: c.issuerUrl!, subject: 'system:serviceaccount:orders:orders-api', audiences: [] },
        { name: 'c', issuer: c.issuerUrl!, subject: 'not-a-service-account', audiences: [] },
      ],
      clusters(env),
    );
    assert.deepEqual(
      bindings.map((b) => [b.cluster.name, b.namespace, b.serviceAccount]),
      [['aks-payments', 'orders', 'orders-api']],
      'one section for the binding, whichever credential names it',
    );
    assert.deepEqual(
      notChecked.map((n) => [n.credential.name, n.why]),
      [['c', 'its subject names no ServiceAccount of aks-payments']],
    );
  });
});
