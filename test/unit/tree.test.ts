import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import type { InventorySource } from '../../src/azure/inventorySource';
import { INVENTORY_QUERY, loadInventory, vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { bindingsOf } from '../../src/workloadIdentity/binding';
import { bindingLook, clusterLook, vaultLook } from '../../src/ui/tree/looks';
import { SUB_DEV, SUB_PROD, seedScale, seedStandard } from '../sim/seed';
import { RecordingLogger, simCloud, simCredential, withSim } from './helpers';
import { createAzureServices } from '../../src/services';
import { QuotaGate, parseDuration } from '../../src/util/quota';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('tree model from Resource Graph rows', () => {
  const row = (props: any) => ({
    id: `/subscriptions/${SUB_PROD}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1`,
    name: 'c1',
    type: 'microsoft.containerservice/managedclusters',
    location: 'eastus',
    properties: props,
  });

  it('describes each workload identity state with its context value', () => {
    const off = clusterLook(clusterFromRaw(row({ provisioningState: 'Succeeded' })));
    const oidc = clusterLook(
      clusterFromRaw(
        row({
          provisioningState: 'Succeeded',
          oidcIssuerProfile: { enabled: true, issuerURL: 'https://eastus.oic.prod-aks.azure.com/t/i/' },
        }),
      ),
    );
    const on = clusterLook(
      clusterFromRaw(
        row({
          provisioningState: 'Succeeded',
          oidcIssuerProfile: { enabled: true, issuerURL: 'https://x/' },
          securityProfile: { workloadIdentity: { enabled: true } },
          aadProfile: { managed: true },
          apiServerAccessProfile: { enablePrivateCluster: true },
        }),
      ),
    );
    assert.deepEqual([off.description, off.contextValue], ['workload identity off', 'cluster.off']);
    assert.deepEqual([oidc.description, oidc.contextValue], ['OIDC issuer only', 'cluster.oidcOnly']);
    assert.deepEqual([on.description, on.contextValue], ['workload identity on', 'cluster.on.entra.private']);
    assert.match(oidc.tooltip!, /Issuer URL: `https:\/\/eastus\.oic\.prod-aks\.azure\.com\/t\/i\/`/);
    assert.match(on.tooltip!, /Microsoft Entra ID: integrated/);
    assert.match(on.tooltip!, /API server: private/);
  });

  it('shows an updating cluster as busy', () => {
    const look = clusterLook(clusterFromRaw(row({ provisioningState: 'Updating' })));
    assert.equal(look.description, 'workload identity off · updating…');
    assert.equal(look.contextValue, 'cluster.off.busy');
  });

  it('escapes markup in names and tags from Azure', () => {
    const look = clusterLook(
      clusterFromRaw({ ...row({ provisioningState: 'Succeeded' }), location: '<img src=x onerror=alert(1)>' }),
    );
    assert.doesNotMatch(look.tooltip!, /(^|[^\\])<img/, 'markup is escaped');
    assert.match(look.tooltip!, /\\<img/);
  });

  it('describes vaults by permission model, treating a missing flag as access policies', () => {
    const v = (p: any) =>
      vaultLook(
        vaultFromRaw({
          id: `/subscriptions/${SUB_PROD}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`,
          location: 'eastus',
          properties: p,
        }),
      );
    assert.deepEqual(
      [v({ enableRbacAuthorization: true }).description, v({ enableRbacAuthorization: true }).contextValue],
      ['Azure RBAC', 'vault.rbac'],
    );
    assert.deepEqual([v({}).description, v({}).contextValue], ['access policies', 'vault.accessPolicies']);
  });

  it('finds bindings by exact issuer, and ignores other subjects', () => {
    const issuer = 'https://eastus.oic.prod-aks.azure.com/t/i/';
    const b = bindingsOf(issuer, [
      {
        id: 'id1',
        name: 'id-a',
        clientId: 'c',
        credentials: [
          { name: 'ok', issuer, subject: 'system:serviceaccount:ns:sa' },
          { name: 'slash', issuer: issuer.slice(0, -1), subject: 'system:serviceaccount:ns:sa2' },
          { name: 'github', issuer, subject: 'repo:contoso/app:ref:refs/heads/main' },
        ],
      },
    ]);
    assert.deepEqual(
      b.map((x) => `${x.namespace}/${x.serviceAccount}${x.issuerMismatch ? ' (broken)' : ''}`),
      ['ns/sa', 'ns/sa2 (broken)'],
    );
    assert.equal(bindingLook(b[1]).contextValue, 'binding.broken');
    assert.match(bindingLook(b[1]).description!, /issuer differs by a trailing slash/);
    assert.deepEqual(bindingsOf(undefined, []), []);
  });
});

describe('inventory loading', () => {
  let env: Env;
  // 40,000 resources take the simulator a few seconds to gather: no client timeout in the way.
  before(async () => {
    env = await withSim({ requestTimeoutMs: 60_000 });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset(seedStandard));

  const vaultRow = (sub: string, n: number) => ({
    id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv${String(n).padStart(4, '0')}`,
    name: `kv${String(n).padStart(4, '0')}`,
    type: 'microsoft.keyvault/vaults',
    location: 'eastus',
    subscriptionId: sub,
    rbac: true,
  });
  /** A Resource Graph stand-in over fixed rows, ordered by subscription, 1000 a page; records each query. */
  const fakeGraph = (rowsOf: (sub: string) => any[], budget = 15) => {
    const calls: { subs: string[]; token?: string }[] = [];
    const src: InventorySource = {
      async queryPage(subs, _q, token) {
        calls.push({ subs, token });
        const rows = [...subs].sort().flatMap(rowsOf);
        const skip = token ? Number(token) : 0;
        return {
          data: rows.slice(skip, skip + 1000),
          skipToken: skip + 1000 < rows.length ? String(skip + 1000) : undefined,
        };
      },
      queryBudget: () => budget,
      async listClusters() {
        return [];
      },
      async listVaults() {
        return [];
      },
    };
    return { src, calls };
  };

  it('loads clusters and vaults of a few subscriptions in one Resource Graph round trip', async () => {
    const inv = await loadInventory(env.services.inventory, [SUB_PROD, SUB_DEV]);
    assert.deepEqual(
      env.sim.log.map((r) => `${r.op} ${r.status}`),
      ['resources.query 200'],
    );
    const prod = inv.find((i) => i.subscriptionId === SUB_PROD)!;
    assert.deepEqual(prod.clusters.map((c) => c.name).sort(), [
      'aks-entra',
      'aks-oidc-only',
      'aks-payments',
      'aks-petclinic',
      'aks-private',
    ]);
    assert.deepEqual(prod.vaults.map((v) => `${v.name}:${v.rbac}`).sort(), ['kv-payments:true', 'kv-petclinic:false']);
  });

  it('1000 subscriptions of 20 clusters and 20 vaults: 40,000 rows in about the fewest pages, within the quota, each subscription reported once as it completes', async () => {
    env.sim.reset((s) => seedScale(s, 1000, 20, 20));
    // A short quota window keeps the test short; the rule is the service's: 15 queries per window.
    env.sim.config.graphQuotaWindowMs = 1000;
    const subs = env.sim.state.subscriptions.map((s) => s.subscriptionId);
    const reported: string[] = [];
    let queriesAtFirstReport = -1;
    const inv = await loadInventory(env.services.inventory, subs, {
      onSubscription: (i) => {
        if (reported.length === 0) queriesAtFirstReport = env.sim.log.filter((r) => r.op === 'resources.query').length;
        reported.push(i.subscriptionId);
      },
    });
    const queries = env.sim.log.filter((r) => r.op === 'resources.query');
    assert.deepEqual(
      queries.filter((q) => q.status !== 200),
      [],
      'no query was throttled or refused',
    );
    // 40 pages at the least; the split after the first wave re-reads one subscription per first-wave group.
    assert.ok(queries.length >= 40 && queries.length <= 45, `${queries.length} queries`);
    assert.equal(
      inv.reduce((n, i) => n + i.clusters.length + i.vaults.length, 0),
      40_000,
    );
    assert.ok(inv.every((i) => i.clusters.length === 20 && i.vaults.length === 20 && !i.error));
    assert.deepEqual([...reported].sort(), [...subs].sort(), 'each subscription is reported exactly once');
    assert.ok(
      queriesAtFirstReport <= 15,
      `the first subscription is reported from the first wave (${queriesAtFirstReport} queries sent by then)`,
    );
    const first = inv.find((i) => i.subscriptionId === subs[0])!;
    assert.equal(first.clusters.filter((c) => c.workloadIdentityEnabled).length, 5);
  });

  it('100 subscriptions come in one wave of parallel queries, 10 subscriptions in one query', async () => {
    const { src, calls } = fakeGraph((sub) => Array.from({ length: 40 }, (_, n) => vaultRow(sub, n)));
    const subs = (n: number) =>
      Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    await loadInventory(src, subs(10));
    assert.deepEqual(
      calls.map((c) => c.subs.length),
      [10],
    );
    calls.length = 0;
    const inv = await loadInventory(src, subs(100));
    assert.deepEqual(
      calls.map((c) => c.subs.length),
      Array(10).fill(10),
      'ten groups of ten, none needing a second page',
    );
    assert.equal(
      inv.reduce((n, i) => n + i.vaults.length, 0),
      4000,
    );
  });

  it('follows $skipToken for one large subscription, and splits a group whose first page overflows by the rows per subscription', async () => {
    const big = 'aaaaaaaa-0000-4000-8000-000000000000';
    const { src, calls } = fakeGraph(
      (sub) => Array.from({ length: sub === big ? 2500 : 300 }, (_, n) => vaultRow(sub, n)),
      1,
    );
    const small = Array.from({ length: 6 }, (_, i) => `bbbbbbbb-0000-4000-8000-00000000000${i}`);
    const inv = await loadInventory(src, [big, ...small]);
    // One group (budget 1). Pages 1 and 2 hold only the big subscription: the group is paged through. Page 3 ends
    // it and holds two small ones (the second cut short): the five left are split by 1000 / rows per subscription
    // seen on that page (334), two a query.
    assert.deepEqual(
      calls.map((c) => `${c.subs.length}${c.token ? ` @${c.token}` : ''}`),
      ['7', '7 @1000', '7 @2000', '2', '2', '1'],
    );
    assert.equal(inv.find((i) => i.subscriptionId === big)!.vaults.length, 2500);
    assert.ok(inv.filter((i) => i.subscriptionId !== big).every((i) => i.vaults.length === 300));
    assert.equal(
      new Set(inv.find((i) => i.subscriptionId === big)!.vaults.map((v) => v.name)).size,
      2500,
      'no row twice',
    );
  });

  it('keeps within the quota the answers report: queries past it wait for the window instead of being throttled', async () => {
    env.sim.reset((s) => seedScale(s, 40, 20, 20));
    env.sim.config.graphQuota = 2;
    env.sim.config.graphQuotaWindowMs = 400;
    const subs = env.sim.state.subscriptions.map((s) => s.subscriptionId);
    // The first load learns from the answer that one query is left; the second starts with one group, whose
    // overflow needs a third query in a window that has none left: it waits for the next window.
    await loadInventory(env.services.inventory, subs.slice(0, 10));
    const inv = await loadInventory(env.services.inventory, subs);
    const queries = env.sim.log.filter((r) => r.op === 'resources.query');
    assert.deepEqual(
      queries.map((q) => q.status),
      [200, 200, 200],
      'three queries, with a quota of two a window, none throttled',
    );
    assert.equal(
      inv.reduce((n, i) => n + i.clusters.length + i.vaults.length, 0),
      1600,
    );
  });

  it('a 429 with Retry-After is waited out and the query sent again', async () => {
    env.sim.config.graphQuota = 1;
    env.sim.config.graphQuotaWindowMs = 1000;
    // Another client of the same user spends the quota; the fresh one below does not know.
    await loadInventory(env.services.inventory, [SUB_PROD]);
    const fresh = createAzureServices(simCloud(env.sim), simCredential(env.sim), new RecordingLogger(), {
      retryDelayMs: 50,
    });
    const inv = await loadInventory(fresh.inventory, [SUB_PROD, SUB_DEV]);
    assert.deepEqual(
      env.sim.log.filter((r) => r.op === 'resources.query').map((r) => r.status),
      [200, 429, 200],
    );
    assert.ok(inv.every((i) => !i.error && i.clusters.length > 0));
  });

  it('a page in a shape that was not asked for fails its subscriptions with the reason, never an empty list', async () => {
    const cases: [string, (subs: string[]) => any, RegExp][] = [
      ['summarize rows', (subs) => ({ data: [{ subscriptionId: subs[0], resources: [] }] }), /has no resource id/],
      ['not a list', () => ({ data: { rows: [] } }), /the data is object, not a list of rows/],
      ['truncated', () => ({ data: [], resultTruncated: 'true' }), /truncated without a \$skipToken/],
      [
        'another subscription',
        () => ({ data: [vaultRow('ffffffff-0000-4000-8000-000000000000', 1)] }),
        /which was not asked for/,
      ],
      [
        'a type not asked for',
        (subs) => ({ data: [{ ...vaultRow(subs[0], 1), type: 'microsoft.web/sites' }] }),
        /microsoft\.web\/sites/,
      ],
      [
        'a string flag',
        (subs) => ({ data: [{ ...vaultRow(subs[0], 1), rbac: 'true' }] }),
        /rbac = "true", not a boolean/,
      ],
    ];
    for (const [name, answer, reason] of cases) {
      const log = {
        lines: [] as string[],
        warn(m: string) {
          this.lines.push(m);
        },
      };
      const src: InventorySource = {
        async queryPage(subs) {
          return answer(subs);
        },
        queryBudget: () => 15,
        async listClusters() {
          return [];
        },
        async listVaults() {
          return [];
        },
      };
      const inv = await loadInventory(src, [SUB_PROD, SUB_DEV], { log });
      assert.ok(
        inv.every((i) => i.error && reason.test(i.error) && /not asked for|shape/.test(i.error)),
        `${name}: ${JSON.stringify(inv)}`,
      );
      assert.match(log.lines.join('\n'), /Resource Graph answered in a shape that was not asked for/, name);
    }
  });

  it('falls back to per-subscription listing when Resource Graph is denied, and one failing subscription leaves the others', async () => {
    env.sim.addFault({ op: 'resources.query', kind: '403', count: 0 });
    env.sim.addFault({ op: 'vaults.listBySubscription', kind: '403', count: 1 });
    const log = {
      lines: [] as string[],
      warn(m: string) {
        this.lines.push(m);
      },
    };
    const reported: string[] = [];
    const inv = await loadInventory(env.services.inventory, [SUB_PROD, SUB_DEV], {
      log,
      onSubscription: (i) => reported.push(i.subscriptionId),
    });
    assert.match(log.lines[0], /Resource Graph refused the query \(AuthorizationFailed\)/);
    const failed = inv.filter((i) => i.error);
    const fine = inv.filter((i) => !i.error);
    assert.equal(failed.length, 1);
    assert.match(failed[0].error!, /AuthorizationFailed/);
    assert.equal(fine.length, 1);
    assert.ok(fine[0].clusters.length > 0);
    assert.deepEqual(reported.sort(), [SUB_PROD, SUB_DEV].sort());
  });

  it('uses the documented query, which the simulated Resource Graph accepts', async () => {
    const seen: string[] = [];
    const src: InventorySource = {
      async queryPage(_s, q) {
        seen.push(q);
        return { data: [] };
      },
      queryBudget: () => 15,
      async listClusters() {
        return [];
      },
      async listVaults() {
        return [];
      },
    };
    await loadInventory(src, ['a']);
    assert.deepEqual(seen, [INVENTORY_QUERY]);
    assert.doesNotMatch(INVENTORY_QUERY, /summarize|pack_all|make_list/);
    await loadInventory(env.services.inventory, [SUB_PROD]);
    assert.deepEqual(
      env.sim.log.map((r) => r.status),
      [200],
    );
  });
});

describe('the quota gate', () => {
  it('spends the documented default, learns the window and a larger quota from the answers, and stops after a 429', async () => {
    let t = 0;
    const gate = new QuotaGate(15, 5000, () => t);
    for (let i = 0; i < 15; i++) await gate.take();
    assert.equal(gate.available(), 0);
    gate.observe(3, 2000); // the service says 3 are left, but 14 are still in flight: none may go
    assert.equal(gate.available(), 0);
    for (let i = 0; i < 14; i++) gate.settled();
    t = 2000;
    assert.equal(gate.available(), 15, 'a new window');
    await gate.take();
    gate.observe(98, 5000); // a quota of 99: raised
    assert.equal(gate.available(), 98);
    gate.throttled(3000);
    assert.equal(gate.available(), 0);
    t = 5001;
    assert.equal(gate.available(), 0, 'the window the last answer reported still runs');
    t = 7001;
    assert.equal(gate.available(), 99);
    assert.equal(parseDuration('00:00:03'), 3000);
    assert.equal(parseDuration('01:02:03.5'), 3723500);
    assert.equal(parseDuration('soon'), undefined);
  });
});
