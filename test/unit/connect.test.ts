import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { connectLive, planLive, toLiveWorkload } from '../../src/workloadIdentity/connect/live';
import type { ConnectTarget } from '../../src/workloadIdentity/connect/workspace';
import { StepError } from '../../src/workloadIdentity/errors';
import { verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { addWorkload } from '../sim/workloads';
import { verifyDepsFor, withSim, writes } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { USE_LABEL, YamlEditError, connectInYaml, workloadsIn } from '../../src/workloadIdentity/connect/yamlEdit';

const DEPLOYMENT = `# The checkout service: owned by team payments.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout   # keep this name
  namespace: payments
  labels: &common
    app: checkout
spec:
  replicas: 2
  selector:
    matchLabels: *common
  template:
    metadata:
      labels:
        app: 'checkout'
    spec:
      containers:
        - name: app
          image: "contoso.azurecr.io/checkout:1.2"   # pinned
          env: [{name: MODE, value: prod}]
`;

/** The lines of `after` that are not in `before`, and the lines of `before` that are gone, in order. */
function lineDiff(before: string, after: string) {
  const a = before.split('\n'), b = after.split('\n');
  // Edits only insert lines or rewrite one line's value: walk both, matching equal lines.
  const added: string[] = [], removed: string[] = [];
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    if (a[i] === b[j]) { i++; j++; continue; }
    if (j < b.length && a.indexOf(b[j], i) === -1) { added.push(b[j++]); continue; }
    removed.push(a[i++]);
  }
  return { added, removed };
}

describe('Connect Workload: editing the workspace YAML in place', () => {
  it('finds the workloads of a multi-document file, with their ServiceAccount and label', () => {
    const text = `${DEPLOYMENT}---\napiVersion: v1\nkind: Service\nmetadata: {name: checkout}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  schedule: "0 1 * * *"\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels: {${USE_LABEL}: "true"}\n        spec:\n          serviceAccountName: batch\n          containers: []\n`;
    assert.deepEqual(workloadsIn(text), [
      { index: 0, kind: 'Deployment', name: 'checkout', namespace: 'payments', labelled: false },
      { index: 2, kind: 'CronJob', name: 'nightly', serviceAccountName: 'batch', labelled: true },
    ]);
  });

  it('adds serviceAccountName and the label, changing only those lines: comments, quoting, anchors and flow style stay', () => {
    const { text, changes } = connectInYaml(DEPLOYMENT, 0, 'checkout-api');
    assert.deepEqual(changes, ['spec.template.spec.serviceAccountName: (unset) → checkout-api', `spec.template.metadata.labels["${USE_LABEL}"]: "true"`]);
    assert.deepEqual(lineDiff(DEPLOYMENT, text), { added: [`        ${USE_LABEL}: "true"`, '      serviceAccountName: checkout-api'], removed: [] });
    const obj = parseAllDocuments(text)[0].toJS();
    assert.equal(obj.spec.template.spec.serviceAccountName, 'checkout-api');
    assert.deepEqual(obj.spec.template.metadata.labels, { [USE_LABEL]: 'true', app: 'checkout' });
    assert.deepEqual(connectInYaml(text, 0, 'checkout-api'), { text, changes: [] }, 'a second run changes nothing');
  });

  it('replaces another ServiceAccount in place, keeps CRLF and a byte-order mark, and writes into a flow map', () => {
    const crlf = `\uFEFF${DEPLOYMENT.replace('      containers:', '      serviceAccountName: "legacy"\n      containers:').replace("        app: 'checkout'", '').replace('      labels:\n\n', '      labels: {app: checkout}\n')}`.replace(/\n/g, '\r\n');
    const { text } = connectInYaml(crlf, 0, 'checkout-api');
    assert.ok(text.startsWith('\uFEFF'));
    assert.ok(!/[^\r]\n/.test(text), 'every line still ends with CRLF');
    assert.match(text, /\r\n      serviceAccountName: checkout-api\r\n/);
    assert.match(text, new RegExp(`labels: \\{ app: checkout, ${USE_LABEL.replace(/\./g, '\\.').replace(/\//g, '\\/')}: "true" \\}`));
  });

  it('leaves odd or hostile files untouched with a message that says why', () => {
    const cases: [string, RegExp][] = [
      ['kind: Deployment\nspec:\n\ttemplate: {}\n', /not valid at line/],
      [`${DEPLOYMENT}`.replace('  template:', '  template: *tmpl\n  other:').replace('spec:\n  replicas', 'spec:\n  replicas'), /not valid|alias/],
      ['kind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n', /spec.template.spec is present but empty/],
      ['kind: Deployment\nmetadata: {name: x}\nspec: {}\n', /no pod template/],
      ['---\n---\n', /not a workload/],
      [`x: ${'a'.repeat(3 * 1024 * 1024)}\n`, /files over 2 MB are not edited/],
    ];
    for (const [text, message] of cases) assert.throws(() => connectInYaml(text, 0, 'sa'), (e) => e instanceof YamlEditError && message.test(e.message), text.slice(0, 60));
    const aliased = 'base: &tmpl\n  spec:\n    containers: []\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template: *tmpl\n';
    assert.throws(() => connectInYaml(aliased, 0, 'sa'), /spec.template is an alias \(\*tmpl\): edit the anchor it refers to instead/);
  });

  it('property: for generated manifests, the result parses to the same object with only the two fields set, and every other line is kept', () => {
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/).filter((k) => !['serviceAccountName', 'metadata', 'labels', 'spec'].includes(k));
    const scalar = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9 -]{0,12}$/), fc.integer(), fc.boolean());
    fc.assert(fc.property(
      fc.dictionary(key, scalar, { maxKeys: 4 }), fc.dictionary(key, scalar, { maxKeys: 3 }), fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)),
      fc.boolean(), fc.constantFrom('\n', '\r\n'), fc.stringMatching(/^[a-z ]{0,20}$/),
      (specExtra, labels, existingSa, withMetadata, eol, comment) => {
        const y = (v: unknown) => JSON.stringify(v);
        const lines = [
          `# ${comment}`, 'apiVersion: apps/v1', 'kind: StatefulSet', 'metadata:', '  name: db', 'spec:', '  template:',
          ...(withMetadata ? ['    metadata:', ...(Object.keys(labels).length ? ['      labels:', ...Object.entries(labels).map(([k, v]) => `        ${k}: ${y(String(v))}`)] : ['      annotations: {a: b}'])] : []),
          '    spec:', ...Object.entries(specExtra).map(([k, v]) => `      ${k}: ${y(v)}  # ${comment}`),
          ...(existingSa ? [`      serviceAccountName: ${existingSa}`] : []), '      containers: []', '',
        ];
        const before = lines.join(eol);
        const { text } = connectInYaml(before, 0, 'app-sa');
        const was = parseAllDocuments(before)[0].toJS(), now = parseAllDocuments(text)[0].toJS();
        was.spec.template.spec.serviceAccountName = 'app-sa';
        was.spec.template.metadata = { ...was.spec.template.metadata, labels: { ...was.spec.template.metadata?.labels, [USE_LABEL]: 'true' } };
        assert.deepEqual(now, was);
        const { removed } = lineDiff(before.replace(/\r\n/g, '\n'), text.replace(/\r\n/g, '\n'));
        assert.deepEqual(removed, existingSa ? [`      serviceAccountName: ${existingSa}`] : [], 'only a replaced ServiceAccount line goes');
        assert.equal(text.includes('\r\n'), eol === '\r\n');
      },
    ), { numRuns: 200 });
  });
});

describe('Connect Workload: live, in the cluster', () => {
  let env: Env;
  before(async () => { env = await withSim({ requestTimeoutMs: 2000, retryDelayMs: 20 }); });
  after(async () => { await env.sim.stop(); });
  beforeEach(() => env.sim.reset());

  const clusterRec = (name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
  const cluster = (name = 'aks-payments') => clusterFromRaw(clusterRec(name).resource);
  const target: ConnectTarget = { clusterName: 'aks-payments', namespace: 'payments', serviceAccount: 'payments-api' };
  const sleep = () => Promise.resolve();
  const workloads = async (name = 'aks-payments', ns = 'payments') => (await (await env.services.bindDeps().kube(cluster(name))).listWorkloads(ns)).map(toLiveWorkload);

  it('lists every kind with its ServiceAccount, label and controller', async () => {
    const list = await workloads();
    const by = Object.fromEntries(list.map((w) => [`${w.kind}/${w.name}`, `${w.serviceAccountName ?? '(default)'} ${w.labelled ? 'labelled' : 'unlabelled'}${w.managedBy ? ` ${w.managedBy}` : ''}`]));
    assert.deepEqual(by, {
      'Deployment/payments-api': 'payments-api labelled', 'Deployment/payments-worker': '(default) unlabelled',
      'Deployment/payments-reports': 'reports unlabelled Helm', 'CronJob/payments-nightly': '(default) unlabelled',
    });
    assert.match(planLive(list.find((w) => w.name === 'payments-reports')!, target, []).warnings[0], /managed by Helm, which will undo a live change at its next sync/);
  });

  it('applies only the two fields as aks-workload-identity, follows the rollout, and the new pods get the token (Verify\'s pod check passes); a rerun writes nothing', async () => {
    const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
    const kube = await env.services.bindDeps().kube(cluster());
    const progress: string[] = [];
    assert.equal(await connectLive(kube, w, 'payments-api', { sleep, progress: (m) => progress.push(m) }), 'updated');
    const dep = clusterRec('aks-payments').kube.deployments.get('payments/payments-worker')!;
    assert.equal(dep.spec.template.spec.serviceAccountName, 'payments-api');
    assert.equal(dep.spec.template.metadata.labels[USE_LABEL], 'true');
    assert.deepEqual(dep.metadata.managedFields!.map((f) => `${f.manager}/${f.operation}`), ['kubectl-client-side-apply/Update', 'aks-workload-identity/Apply']);
    const pods = [...clusterRec('aks-payments').kube.pods.values()].filter((p) => p.metadata.name.startsWith('payments-worker-'));
    assert.equal(pods.length, 1, 'the old pod was replaced');
    assert.ok(pods[0].spec.containers[0].env.some((e: any) => e.name === 'AZURE_FEDERATED_TOKEN_FILE'), 'the webhook injected the token');
    const { report } = await verifyBinding({ cluster: cluster(), namespace: 'payments', serviceAccount: 'payments-api' }, verifyDepsFor(env.services));
    assert.equal(report.checks.find((c) => c.id === 'pods')!.status, 'pass', report.checks.find((c) => c.id === 'pods')!.message);
    const before = writes(env.sim).length;
    assert.equal(await connectLive(kube, { ...w }, 'payments-api', { sleep }), 'unchanged');
    assert.equal(writes(env.sim).length, before, 'a rerun sends no write');
  });

  it('a field another manager owns is a conflict shown, never forced, and nothing changes', async () => {
    const w = (await workloads()).find((x) => x.name === 'payments-reports')!;
    const kube = await env.services.bindDeps().kube(cluster());
    await assert.rejects(connectLive(kube, w, 'payments-api', { sleep }), (e) => e instanceof StepError && e.status === 409
      && /conflict with "helm".*serviceAccountName/.test(e.message) && /never forces a field another tool owns/.test(e.remedy!));
    assert.equal(clusterRec('aks-payments').kube.deployments.get('payments/payments-reports')!.spec.template.spec.serviceAccountName, 'reports');
    assert.ok(!env.sim.log.some((r) => r.op === 'kube.deployments.apply' && /force=true/.test(r.path)));
  });

  it('a CronJob is changed for its next runs; a Job is blocked with the reason; a private cluster goes through run-command', async () => {
    const cron = (await workloads()).find((x) => x.kind === 'CronJob')!;
    assert.match(planLive(cron, target, []).warnings.at(-1)!, /Jobs that payments-nightly starts from now on get the token/);
    assert.equal(await connectLive(await env.services.bindDeps().kube(cluster()), cron, 'payments-api', { sleep }), 'updated');
    assert.equal(clusterRec('aks-payments').kube.cronJobs.get('payments/payments-nightly')!.spec.jobTemplate.spec.template.spec.serviceAccountName, 'payments-api');
    addWorkload(clusterRec('aks-payments'), 'payments', 'Job', 'migrate', {});
    const job = (await workloads()).find((x) => x.kind === 'Job')!;
    assert.match(planLive(job, target, []).blocked!, /A Job's pod template cannot be changed once created/);

    addWorkload(clusterRec('aks-private'), 'ledger', 'StatefulSet', 'ledger-db', {});
    const db = (await workloads('aks-private', 'ledger')).find((x) => x.name === 'ledger-db')!;
    const kube = await env.services.bindDeps().kube(cluster('aks-private'));
    assert.equal(kube.mode, 'runCommand');
    assert.equal(await connectLive(kube, db, 'ledger-api', { sleep }), 'updated');
    assert.equal(clusterRec('aks-private').kube.statefulSets.get('ledger/ledger-db')!.spec.template.spec.serviceAccountName, 'ledger-api');
  });

  it('transient faults on the reads and the apply are retried; a denied apply names the permission', async () => {
    for (const op of ['kube.deployments.get', 'kube.deployments.apply']) {
      for (const kind of ['429', '503', 'reset'] as const) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
        assert.equal(await connectLive(await env.services.bindDeps().kube(cluster()), w, 'payments-api', { sleep }), 'updated', `${op}/${kind}`);
      }
    }
    env.sim.reset();
    env.sim.addFault({ op: 'kube.deployments.apply', kind: '403', count: 0 });
    const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
    await assert.rejects(connectLive(await env.services.bindDeps().kube(cluster()), w, 'payments-api', { sleep }), (e) => e instanceof StepError && /does not allow patching deployments in payments/.test(e.remedy!));
  });
});
