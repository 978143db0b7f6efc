import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redact } from '../../src/log';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { SUB_PROD } from '../sim/seed';
import { probeDepsFor, withSim } from './helpers';
import { verifyAndTest } from '../../src/workloadIdentity/testBinding/run';
import { reportMarkdown } from '../../src/ui/report/render';
import { issuedWorkloadTokens } from '../sim/entra';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('secrets stay secret', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { clusterUpdateMs: 100, pollRetryAfterSeconds: 1 } });
  });
  after(async () => {
    await env.sim.stop();
  });

  it('redact() removes bearer tokens, JWTs and kubeconfig credentials', () => {
    const jwt = env.sim.token();
    assert.ok(!redact(`Authorization: Bearer ${jwt}`).includes(jwt));
    assert.ok(!redact(`token ${jwt} here`).includes(jwt.split('.')[2]));
    assert.equal(redact('"accessToken": "abc.def"'), '"accessToken": "<redacted>"');
    assert.equal(redact('client-key-data: LS0tLS1CRUdJTi'), 'client-key-data: <redacted>');
    assert.equal(redact('https://x/y?sig=SECRET&api-version=1'), 'https://x/y?sig=<redacted>&api-version=1');
  });

  it('a bind and a verify on every kind of cluster log every call and no token, kubeconfig or cluster credential; no file is written', async () => {
    const tmpBefore = new Set(fs.readdirSync(os.tmpdir()));
    const clusters = ['aks-petclinic', 'aks-entra', 'aks-private'];
    for (const name of clusters) {
      const c = clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === name)!.resource);
      const v = vaultFromRaw(
        [...env.sim.state.vaults.values()].find(
          (x) => x.name === (name === 'aks-petclinic' ? 'kv-petclinic' : 'kv-payments'),
        )!,
      );
      const ns = name === 'aks-private' ? 'ledger' : name === 'aks-entra' ? 'payments' : 'spring-petclinic';
      await runBind(
        {
          cluster: c,
          namespace: ns,
          serviceAccount: 'app',
          vault: v,
          identity: {
            kind: 'new',
            subscriptionId: SUB_PROD,
            resourceGroup: c.resourceGroup,
            name: `id-${name}`,
            location: c.location,
          },
          permissions: ['secrets'],
        },
        env.services.bindDeps(),
        { signal: new AbortController().signal },
      );
      // Verify reads pods, webhooks and ServiceAccounts through the same connection kinds.
      const { report } = await verifyBinding(
        { cluster: c, namespace: ns, serviceAccount: 'app' },
        env.services.verifyDeps({ clusters: async () => [c], vaults: async () => [v] }),
      );
      assert.ok(
        report.checks.every((x) => x.status !== 'error'),
        `${name}: ${JSON.stringify(report.checks.filter((x) => x.status === 'error'))}`,
      );
      // Test Binding holds a ServiceAccount token and an exchanged Key Vault token: neither may reach the log or the report.
      const tested = await verifyAndTest(
        { cluster: c, namespace: ns, serviceAccount: 'app' },
        probeDepsFor(env.services),
        { propagationWaitMs: 0 },
      );
      assert.equal(tested.report.checks.find((x) => x.id === 'exchange')?.status, 'pass', name);
      const md = reportMarkdown(tested.report);
      for (const t of issuedWorkloadTokens)
        assert.ok(!md.includes(t.split('.')[2]), 'a workload token is in the report');
    }
    assert.ok(
      issuedWorkloadTokens.length >= clusters.length * 2,
      'a ServiceAccount token and an access token a cluster',
    );
    for (const t of issuedWorkloadTokens)
      assert.ok(!env.log.text.includes(t.split('.')[2]), 'a workload token is in the log');
    const log = env.log.text;
    assert.match(
      log,
      /PUT https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.+\/federatedIdentityCredentials\/.+ 20[01] \d+ms/,
    );
    assert.ok(env.credential.issued.length > 0);
    for (const t of env.credential.issued)
      assert.ok(!log.includes(t) && !log.includes(t.split('.')[2]), 'an issued token is in the log');
    for (const c of env.sim.state.clusters.values())
      assert.ok(!log.includes(c.userToken), 'a cluster token is in the log');
    assert.doesNotMatch(log, /certificate-authority-data|BEGIN CERTIFICATE|client-key-data/);
    const created = fs.readdirSync(os.tmpdir()).filter((f) => !tmpBefore.has(f));
    for (const f of created) {
      const p = path.join(os.tmpdir(), f);
      if (fs.statSync(p).isFile())
        assert.doesNotMatch(fs.readFileSync(p, 'utf8'), /kind: Config|clusters:/, `${f} looks like a kubeconfig`);
    }
  });
});
