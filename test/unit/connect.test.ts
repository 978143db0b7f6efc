import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { connectLive, controllerOf, planLive, toLiveWorkload } from '../../src/workloadIdentity/connect/live';
import {
  findCandidates,
  overlaysOf,
  planConnect,
  planKustomizePatch,
} from '../../src/workloadIdentity/connect/workspace';
import { StepError, errorNamed } from '../../src/errors';
import { runConnect } from '../../src/workloadIdentity/connect/run';
import { verifyBinding } from '../../src/workloadIdentity/verify/verify';
import { addWorkload } from '../sim/workloads';
import { memoryWorkspace, verifyDepsFor, withSim, writes } from './helpers';

import type { Binding } from '../../src/workloadIdentity/binding';

type Env = Awaited<ReturnType<typeof withSim>>;
/** A cluster as a binding names it: these plans read only its name. */
const clusterNamed = (name: string) =>
  clusterFromRaw({
    id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/${name}`,
    name,
    location: 'westeurope',
    properties: {},
  });
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { USE_LABEL } from '../../src/workloadIdentity/manifest';
import {
  YamlEditError,
  connectInYaml,
  mountSecretsStoreInYaml,
  workloadsIn,
} from '../../src/workloadIdentity/connect/yamlEdit';
import { cloudNameFor, secretProviderClassYaml } from '../../src/workloadIdentity/connect/secretProviderClass';
import { validateObjectName } from '../../src/workloadIdentity/names';

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
  const a = before.split('\n'),
    b = after.split('\n');
  // Edits only insert lines or rewrite one line's value: walk both, matching equal lines.
  const added: string[] = [],
    removed: string[] = [];
  let i = 0,
    j = 0;
  while (i < a.length || j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (j < b.length && a.indexOf(b[j], i) === -1) {
      added.push(b[j++]);
      continue;
    }
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

  it('a comment directly above the key the new lines go before stays with that key', () => {
    const text = DEPLOYMENT.replace(
      '    spec:\n      containers:',
      '    spec:\n      # the containers\n      # (one per process)\n      containers:',
    ).replace('      labels:\n        app:', '      labels:\n        # selects the pods\n        app:');
    const { text: out } = connectInYaml(text, 0, 'checkout-api');
    assert.match(
      out,
      /\n {4}spec:\n {6}serviceAccountName: checkout-api\n {6}# the containers\n {6}# \(one per process\)\n {6}containers:\n/,
    );
    assert.match(
      out,
      /\n {6}labels:\n {8}azure\.workload\.identity\/use: "true"\n {8}# selects the pods\n {8}app: 'checkout'\n/,
    );
  });

  it('adds serviceAccountName and the label, changing only those lines: comments, quoting, anchors and flow style stay', () => {
    const { text, changes } = connectInYaml(DEPLOYMENT, 0, 'checkout-api');
    assert.deepEqual(changes, [
      'spec.template.spec.serviceAccountName: (unset) → checkout-api',
      `spec.template.metadata.labels["${USE_LABEL}"]: "true"`,
    ]);
    assert.deepEqual(lineDiff(DEPLOYMENT, text), {
      added: [`        ${USE_LABEL}: "true"`, '      serviceAccountName: checkout-api'],
      removed: [],
    });
    const obj = parseAllDocuments(text)[0].toJS();
    assert.equal(obj.spec.template.spec.serviceAccountName, 'checkout-api');
    assert.deepEqual(obj.spec.template.metadata.labels, { [USE_LABEL]: 'true', app: 'checkout' });
    assert.deepEqual(connectInYaml(text, 0, 'checkout-api'), { text, changes: [] }, 'a second run changes nothing');
  });

  it('replaces another ServiceAccount in place, keeps CRLF and a byte-order mark, and writes into a flow map', () => {
    const crlf =
      `\uFEFF${DEPLOYMENT.replace('      containers:', '      serviceAccountName: "legacy"\n      containers:').replace("        app: 'checkout'", '').replace('      labels:\n\n', '      labels: {app: checkout}\n')}`.replace(
        /\n/g,
        '\r\n',
      );
    const { text } = connectInYaml(crlf, 0, 'checkout-api');
    assert.ok(text.startsWith('\uFEFF'));
    assert.ok(!/[^\r]\n/.test(text), 'every line still ends with CRLF');
    assert.match(text, /\r\n {6}serviceAccountName: checkout-api\r\n/);
    assert.match(
      text,
      new RegExp(`labels: \\{ app: checkout, ${USE_LABEL.replace(/\./g, '\\.').replace(/\//g, '\\/')}: "true" \\}`),
    );
  });

  it('leaves odd or hostile files untouched with a message that says why', () => {
    const cases: [string, RegExp][] = [
      ['kind: Deployment\nspec:\n\ttemplate: {}\n', /not valid at line/],
      [
        `${DEPLOYMENT}`
          .replace('  template:', '  template: *tmpl\n  other:')
          .replace('spec:\n  replicas', 'spec:\n  replicas'),
        /not valid|alias/,
      ],
      [
        'kind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n',
        /spec.template.spec is present but empty/,
      ],
      ['kind: Deployment\nmetadata: {name: x}\nspec: {}\n', /no pod template/],
      ['---\n---\n', /not a workload/],
      [`x: ${'a'.repeat(3 * 1024 * 1024)}\n`, /files over 2 MB are not edited/],
    ];
    for (const [text, message] of cases)
      assert.throws(
        () => connectInYaml(text, 0, 'sa'),
        (e) => e instanceof YamlEditError && message.test(e.message),
        text.slice(0, 60),
      );
    const aliased =
      'base: &tmpl\n  spec:\n    containers: []\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template: *tmpl\n';
    assert.throws(
      () => connectInYaml(aliased, 0, 'sa'),
      /spec.template is an alias \(\*tmpl\): edit the anchor it refers to instead/,
    );
  });

  it('property: for generated manifests, the result parses to the same object with only the two fields set, and every other line is kept', () => {
    const key = fc
      .stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/)
      .filter((k) => !['serviceAccountName', 'metadata', 'labels', 'spec'].includes(k));
    const scalar = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9 -]{0,12}$/), fc.integer(), fc.boolean());
    fc.assert(
      fc.property(
        fc.dictionary(key, scalar, { maxKeys: 4 }),
        fc.dictionary(key, scalar, { maxKeys: 3 }),
        fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)),
        fc.boolean(),
        fc.constantFrom('\n', '\r\n'),
        fc.stringMatching(/^[a-z ]{0,20}$/),
        fc.constantFrom(0, 1, 2),
        (specExtra, labels, existingSa, withMetadata, eol, comment, commentLines) => {
          const y = (v: unknown) => JSON.stringify(v);
          // Comment lines directly above a key describe that key: the edit must leave them there.
          const about = (indent: string, key: string) =>
            Array.from({ length: commentLines }, (_, i) => `${indent}# about ${key} (${i + 1})`);
          const lines = [
            `# ${comment}`,
            'apiVersion: apps/v1',
            'kind: StatefulSet',
            'metadata:',
            '  name: db',
            'spec:',
            '  template:',
            ...(withMetadata
              ? [
                  ...about('    ', 'metadata'),
                  '    metadata:',
                  ...(Object.keys(labels).length
                    ? [
                        ...about('      ', 'labels'),
                        '      labels:',
                        ...Object.entries(labels).flatMap(([k, v]) => [
                          ...about('        ', k),
                          `        ${k}: ${y(String(v))}`,
                        ]),
                      ]
                    : [...about('      ', 'annotations'), '      annotations: {a: b}']),
                ]
              : []),
            ...about('    ', 'spec'),
            '    spec:',
            ...Object.entries(specExtra).flatMap(([k, v]) => [
              ...about('      ', k),
              `      ${k}: ${y(v)}  # ${comment}`,
            ]),
            ...(existingSa
              ? [...about('      ', 'serviceAccountName'), `      serviceAccountName: ${existingSa}`]
              : []),
            ...about('      ', 'containers'),
            '      containers: []',
            '',
          ];
          const before = lines.join(eol);
          const { text } = connectInYaml(before, 0, 'app-sa');
          const was = parseAllDocuments(before)[0].toJS(),
            now = parseAllDocuments(text)[0].toJS();
          was.spec.template.spec.serviceAccountName = 'app-sa';
          was.spec.template.metadata = {
            ...was.spec.template.metadata,
            labels: { ...was.spec.template.metadata?.labels, [USE_LABEL]: 'true' },
          };
          assert.deepEqual(now, was);
          const { removed } = lineDiff(before.replace(/\r\n/g, '\n'), text.replace(/\r\n/g, '\n'));
          assert.deepEqual(
            removed,
            existingSa ? [`      serviceAccountName: ${existingSa}`] : [],
            'only a replaced ServiceAccount line goes',
          );
          assert.equal(text.includes('\r\n'), eol === '\r\n');
          const out = text.split(eol);
          out.forEach((line, i) => {
            const m = /^( *)# about (\S+) \((\d)\)$/.exec(line);
            if (!m || Number(m[3]) !== commentLines) return;
            assert.equal(
              out[i + 1]?.startsWith(`${m[1]}${m[2]}:`),
              true,
              `"${line}" still sits directly above ${m[2]}:\n${text}`,
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Connect Workload: SecretProviderClass', () => {
  it("generates the Azure provider's shape: clientID for workload identity, tenantID, cloudName per cloud, objects by type", () => {
    const text = secretProviderClassYaml({
      name: 'payments-api-kv-payments',
      namespace: 'payments',
      clientId: 'cid',
      tenantId: 'tid',
      vaultName: 'kv-payments',
      cloud: 'AzureChinaCloud',
      objects: [
        { objectName: 'db-password', objectType: 'secret' },
        { objectName: 'signing', objectType: 'key' },
      ],
    });
    const spc = parseAllDocuments(text)[0].toJS();
    assert.equal(spc.apiVersion, 'secrets-store.csi.x-k8s.io/v1');
    assert.deepEqual(
      { ...spc.spec.parameters, objects: undefined },
      {
        usePodIdentity: 'false',
        clientID: 'cid',
        keyvaultName: 'kv-payments',
        tenantID: 'tid',
        cloudName: 'AzureChinaCloud',
        objects: undefined,
      },
    );
    assert.ok(!('tenantId' in spc.spec.parameters), 'not the deprecated tenantId');
    const objects = parseAllDocuments(spc.spec.parameters.objects)[0]
      .toJS()
      .array.map((o: string) => parseAllDocuments(o)[0].toJS());
    assert.deepEqual(objects, [
      { objectName: 'db-password', objectType: 'secret' },
      { objectName: 'signing', objectType: 'key' },
    ]);
    assert.equal(cloudNameFor('AzureCloud'), '');
    assert.equal(cloudNameFor('AzureUSGovernment'), 'AzureUSGovernmentCloud');
    assert.equal(
      validateObjectName('db_password'),
      'A Key Vault object name has 1 to 127 characters: letters, digits and dashes.',
    );
  });

  it("mounts it in the workload by appending a csi volume and a mount to the first container, in the file's indentation; a second run adds nothing", () => {
    const { text, changes } = mountSecretsStoreInYaml(DEPLOYMENT, 0, 'checkout-kv');
    assert.equal(changes.length, 2);
    const { added, removed } = lineDiff(DEPLOYMENT, text);
    assert.deepEqual(removed, []);
    assert.deepEqual(added, [
      '          volumeMounts:',
      '            - name: secrets-store',
      '              mountPath: /mnt/secrets-store',
      '              readOnly: true',
      '      volumes:',
      '        - name: secrets-store',
      '          csi:',
      '            driver: secrets-store.csi.k8s.io',
      '            readOnly: true',
      '            volumeAttributes:',
      '              secretProviderClass: checkout-kv',
    ]);
    const spec = parseAllDocuments(text)[0].toJS().spec.template.spec;
    assert.deepEqual(spec.volumes, [
      {
        name: 'secrets-store',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'checkout-kv' },
        },
      },
    ]);
    assert.deepEqual(spec.containers[0].volumeMounts, [
      { name: 'secrets-store', mountPath: '/mnt/secrets-store', readOnly: true },
    ]);
    assert.deepEqual(mountSecretsStoreInYaml(text, 0, 'checkout-kv'), { text, changes: [] });
  });

  it('the plan lists the SecretProviderClass file beside the workload and says when the CSI driver add-on is off, without turning it on', () => {
    const candidate = { path: 'apps/checkout/deploy.yaml', workload: workloadsIn(DEPLOYMENT)[0] };
    const plan = planConnect(
      DEPLOYMENT,
      candidate,
      { cluster: clusterNamed('aks-payments'), namespace: 'payments', serviceAccount: 'checkout-api' },
      [],
      {
        clientId: 'cid',
        tenantId: 'tid',
        vaultName: 'kv-payments',
        cloud: 'AzureCloud',
        objects: [{ objectName: 'db', objectType: 'secret' }],
        addonEnabled: false,
        clusterResourceGroup: 'rg-payments',
      },
    );
    assert.equal(plan.secretProviderClass?.path, 'apps/checkout/checkout-api-kv-payments.secretproviderclass.yaml');
    assert.match(
      plan.warnings.join('\n'),
      /The Secrets Store CSI driver add-on is off on aks-payments.*az aks enable-addons --addons azure-keyvault-secrets-provider -n aks-payments -g rg-payments\. It is not turned on here\./,
    );
    assert.equal(plan.changes.length, 5, plan.changes.join('\n'));
  });

  it('property: existing volumes and mounts, in any indentation style, are kept and extended', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.constantFrom('\n', '\r\n'),
        (nVolumes, nMounts, indentedDashes, eol) => {
          const d = indentedDashes ? '  ' : '';
          const lines = [
            'kind: DaemonSet',
            'metadata: {name: agent}',
            'spec:',
            '  template:',
            '    spec:',
            ...(nVolumes
              ? [
                  '      volumes:',
                  ...Array.from({ length: nVolumes }, (_, i) => [
                    `      ${d}- name: v${i}`,
                    `      ${d}  emptyDir: {}`,
                  ]).flat(),
                ]
              : []),
            '      containers:',
            `      ${d}- name: agent`,
            `      ${d}  image: agent:1  # pinned`,
            ...(nMounts
              ? [
                  `      ${d}  volumeMounts:`,
                  ...Array.from({ length: nMounts }, (_, i) => [
                    `      ${d}  ${d}- name: v${i}`,
                    `      ${d}  ${d}  mountPath: /v${i}`,
                  ]).flat(),
                ]
              : []),
            '      hostNetwork: true',
            '',
          ];
          const before = lines.join(eol);
          const { text } = mountSecretsStoreInYaml(before, 0, 'spc');
          const was = parseAllDocuments(before)[0].toJS().spec.template.spec,
            now = parseAllDocuments(text)[0].toJS().spec.template.spec;
          assert.deepEqual(now.volumes.slice(0, -1), was.volumes ?? []);
          assert.equal(now.volumes.at(-1).csi.volumeAttributes.secretProviderClass, 'spc');
          assert.deepEqual(now.containers[0].volumeMounts.slice(0, -1), was.containers[0].volumeMounts ?? []);
          assert.equal(now.hostNetwork, true);
          assert.deepEqual(lineDiff(before.replace(/\r\n/g, '\n'), text.replace(/\r\n/g, '\n')).removed, []);
          assert.equal(text.includes('\r\n'), eol === '\r\n');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('Connect Workload: live, in the cluster', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ requestTimeoutMs: 2000, retryDelayMs: 20 });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  const clusterRec = (name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
  const cluster = (name = 'aks-payments') => clusterFromRaw(clusterRec(name).resource);
  const target: Binding = {
    cluster: clusterNamed('aks-payments'),
    namespace: 'payments',
    serviceAccount: 'payments-api',
  };
  const sleep = () => Promise.resolve();
  const workloads = async (name = 'aks-payments', ns = 'payments') =>
    (await (await env.services.bindDeps().kube(cluster(name))).listWorkloads(ns)).map(toLiveWorkload);

  it('lists every kind with its ServiceAccount, label and controller', async () => {
    const list = await workloads();
    const by = Object.fromEntries(
      list.map((w) => [
        `${w.kind}/${w.name}`,
        `${w.serviceAccountName ?? '(default)'} ${w.labelled ? 'labelled' : 'unlabelled'}${w.managedBy ? ` ${w.managedBy}` : ''}`,
      ]),
    );
    assert.deepEqual(by, {
      'Deployment/payments-api': 'payments-api labelled',
      'Deployment/payments-worker': '(default) unlabelled',
      'Deployment/payments-reports': 'reports unlabelled Helm',
      'CronJob/payments-nightly': '(default) unlabelled',
    });
    assert.match(
      planLive(
        list.find((w) => w.name === 'payments-reports')!,
        target,
        [],
      ).warnings[0],
      /managed by Helm, which will undo a live change at its next sync/,
    );
  });

  it("applies only the two fields as aks-workload-identity, follows the rollout, and the new pods get the token (Verify's pod check passes); a rerun writes nothing", async () => {
    const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
    const kube = await env.services.bindDeps().kube(cluster());
    const progress: string[] = [];
    assert.equal(await connectLive(kube, w, 'payments-api', { sleep, progress: (m) => progress.push(m) }), 'updated');
    const dep = clusterRec('aks-payments').kube.deployments.get('payments/payments-worker')!;
    assert.equal(dep.spec.template.spec.serviceAccountName, 'payments-api');
    assert.equal(dep.spec.template.metadata.labels[USE_LABEL], 'true');
    assert.deepEqual(
      dep.metadata.managedFields!.map((f) => `${f.manager}/${f.operation}`),
      ['kubectl-client-side-apply/Update', 'aks-workload-identity/Apply'],
    );
    const pods = [...clusterRec('aks-payments').kube.pods.values()].filter((p) =>
      p.metadata.name.startsWith('payments-worker-'),
    );
    assert.equal(pods.length, 1, 'the old pod was replaced');
    assert.ok(
      pods[0].spec.containers[0].env.some((e: any) => e.name === 'AZURE_FEDERATED_TOKEN_FILE'),
      'the webhook injected the token',
    );
    const { report } = await verifyBinding(
      { cluster: cluster(), namespace: 'payments', serviceAccount: 'payments-api' },
      verifyDepsFor(env.services),
    );
    assert.equal(
      report.checks.find((c) => c.id === 'pods')!.status,
      'pass',
      report.checks.find((c) => c.id === 'pods')!.message,
    );
    const before = writes(env.sim).length;
    assert.equal(await connectLive(kube, { ...w }, 'payments-api', { sleep }), 'unchanged');
    assert.equal(writes(env.sim).length, before, 'a rerun sends no write');
  });

  it('a field another manager owns is a conflict shown, never forced, and nothing changes', async () => {
    const w = (await workloads()).find((x) => x.name === 'payments-reports')!;
    const kube = await env.services.bindDeps().kube(cluster());
    await assert.rejects(
      connectLive(kube, w, 'payments-api', { sleep }),
      (e) =>
        e instanceof StepError &&
        e.status === 409 &&
        /conflict with "helm".*serviceAccountName/.test(e.message) &&
        /never forces a field another tool owns/.test(e.remedy!),
    );
    assert.equal(
      clusterRec('aks-payments').kube.deployments.get('payments/payments-reports')!.spec.template.spec
        .serviceAccountName,
      'reports',
    );
    assert.ok(!env.sim.log.some((r) => r.op === 'kube.deployments.apply' && /force=true/.test(r.path)));
  });

  it('a CronJob is changed for its next runs; a Job is blocked with the reason; a private cluster goes through run-command', async () => {
    const cron = (await workloads()).find((x) => x.kind === 'CronJob')!;
    assert.match(
      planLive(cron, target, []).warnings.at(-1)!,
      /Jobs that payments-nightly starts from now on get the token/,
    );
    assert.equal(
      await connectLive(await env.services.bindDeps().kube(cluster()), cron, 'payments-api', { sleep }),
      'updated',
    );
    assert.equal(
      clusterRec('aks-payments').kube.cronJobs.get('payments/payments-nightly')!.spec.jobTemplate.spec.template.spec
        .serviceAccountName,
      'payments-api',
    );
    addWorkload(clusterRec('aks-payments'), 'payments', 'Job', 'migrate', {});
    const job = (await workloads()).find((x) => x.kind === 'Job')!;
    assert.match(planLive(job, target, []).blocked!, /A Job's pod template cannot be changed once created/);

    addWorkload(clusterRec('aks-private'), 'ledger', 'StatefulSet', 'ledger-db', {});
    const db = (await workloads('aks-private', 'ledger')).find((x) => x.name === 'ledger-db')!;
    const kube = await env.services.bindDeps().kube(cluster('aks-private'));
    assert.equal(kube.mode, 'runCommand');
    assert.equal(await connectLive(kube, db, 'ledger-api', { sleep }), 'updated');
    assert.equal(
      clusterRec('aks-private').kube.statefulSets.get('ledger/ledger-db')!.spec.template.spec.serviceAccountName,
      'ledger-api',
    );
  });

  it('with a SecretProviderClass: applies it and mounts it on the first container live; refused while the CSI driver add-on is off', async () => {
    const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
    const secrets = {
      clientId: 'cid',
      tenantId: 'tid',
      vaultName: 'kv-payments',
      cloud: 'AzureCloud' as const,
      objects: [{ objectName: 'db-password', objectType: 'secret' as const }],
      addonEnabled: true,
      clusterResourceGroup: 'rg-payments',
    };
    const plan = planLive(w, target, [], secrets);
    assert.equal(plan.blocked, undefined);
    assert.ok(plan.changes.some((c) => /SecretProviderClass payments-api-kv-payments in payments/.test(c)));
    const kube = await env.services.bindDeps().kube(cluster());
    assert.equal(await connectLive(kube, w, 'payments-api', { sleep, secrets: plan.secrets }), 'updated');
    const k = clusterRec('aks-payments').kube;
    assert.equal(k.secretProviderClasses.get('payments/payments-api-kv-payments')!.spec.parameters.clientID, 'cid');
    const spec = k.deployments.get('payments/payments-worker')!.spec.template.spec;
    assert.deepEqual(spec.volumes, [
      {
        name: 'secrets-store',
        csi: {
          driver: 'secrets-store.csi.k8s.io',
          readOnly: true,
          volumeAttributes: { secretProviderClass: 'payments-api-kv-payments' },
        },
      },
    ]);
    assert.deepEqual(spec.containers[0].volumeMounts, [
      { name: 'secrets-store', mountPath: '/mnt/secrets-store', readOnly: true },
    ]);
    assert.equal(spec.containers[0].image, 'contoso.azurecr.io/payments-worker:1.0', 'the container keeps its image');
    const applies = env.sim.log.filter((r) => r.op.endsWith('.apply')).length;
    assert.equal(
      await connectLive(kube, toLiveWorkload(k.deployments.get('payments/payments-worker')), 'payments-api', {
        sleep,
        secrets: plan.secrets,
      }),
      'unchanged',
    );
    assert.equal(
      env.sim.log.filter((r) => r.op === 'kube.deployments.apply').length,
      applies - 1,
      'a rerun re-applies only the (equal) SecretProviderClass',
    );

    assert.match(
      planLive(w, target, [], { ...secrets, addonEnabled: false }).blocked!,
      /add-on is off on aks-payments.*It is not turned on here/,
    );
    clusterRec('aks-payments').resource.properties.addonProfiles.azureKeyvaultSecretsProvider.enabled = false;
    await assert.rejects(
      connectLive(kube, w, 'payments-api', { sleep, secrets: plan.secrets }),
      (e) => e instanceof StepError && /could not find the requested resource/.test(e.message),
    );
  });

  it('transient faults on the listing, the reads and the apply are retried; a denied apply names the permission', async () => {
    for (const kind of ['429', '503', 'reset'] as const) {
      for (const op of ['kube.deployments.list', 'kube.cronjobs.list']) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        assert.equal((await workloads()).length, 4, `${op}/${kind}`);
      }
    }
    for (const op of ['kube.deployments.get', 'kube.deployments.apply']) {
      for (const kind of ['429', '503', 'reset'] as const) {
        env.sim.reset();
        env.sim.addFault({ op, kind, count: 1 });
        const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
        assert.equal(
          await connectLive(await env.services.bindDeps().kube(cluster()), w, 'payments-api', { sleep }),
          'updated',
          `${op}/${kind}`,
        );
      }
    }
    env.sim.reset();
    env.sim.addFault({ op: 'kube.deployments.apply', kind: '403', count: 0 });
    const w = (await workloads()).find((x) => x.name === 'payments-worker')!;
    await assert.rejects(
      connectLive(await env.services.bindDeps().kube(cluster()), w, 'payments-api', { sleep }),
      (e) => e instanceof StepError && /does not allow patching deployments in payments/.test(e.remedy!),
    );
  });
});

describe('Connect Workload: Kustomize overlays', () => {
  const base =
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: []\n';
  const files = [
    { path: 'base/deployment.yaml', text: base },
    { path: 'base/kustomization.yaml', text: 'resources:\n  - deployment.yaml\n' },
    {
      path: 'overlays/prod/kustomization.yaml',
      text: '# prod\nnamespace: payments\nresources:\n  - ../../base\npatches:\n  - path: replicas.yaml\n',
    },
    { path: 'overlays/dev/kustomization.yaml', text: 'namespace: payments-dev\nresources:\n- ../../base\n' },
    { path: 'other/kustomization.yaml', text: 'resources:\n  - ../elsewhere\n' },
  ];

  it('finds the overlays that build a file through other kustomization folders', () => {
    assert.deepEqual(overlaysOf(files, 'base/deployment.yaml'), [
      'overlays/dev/kustomization.yaml',
      'overlays/prod/kustomization.yaml',
    ]);
  });

  it('writes a patch with only the two fields and lists it in patches:, adding only lines; a second run adds nothing', () => {
    const candidate = { path: 'base/deployment.yaml', workload: workloadsIn(base)[0] };
    const t = { cluster: clusterNamed('aks-payments'), namespace: 'payments', serviceAccount: 'payments-api' };
    const prod = planKustomizePatch('overlays/prod/kustomization.yaml', files[2].text, candidate, t);
    assert.equal(prod.kustomizationText, `${files[2].text}  - path: api-workload-identity.patch.yaml\n`);
    assert.equal(prod.patch.path, 'overlays/prod/api-workload-identity.patch.yaml');
    assert.deepEqual(parseAllDocuments(prod.patch.text)[0].toJS(), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api' },
      spec: {
        template: { metadata: { labels: { [USE_LABEL]: 'true' } }, spec: { serviceAccountName: 'payments-api' } },
      },
    });
    const dev = planKustomizePatch('overlays/dev/kustomization.yaml', files[3].text, candidate, t);
    assert.equal(dev.kustomizationText, `${files[3].text}patches:\n  - path: api-workload-identity.patch.yaml\n`);
    assert.equal(
      planKustomizePatch('overlays/prod/kustomization.yaml', prod.kustomizationText, candidate, t).kustomizationText,
      prod.kustomizationText,
    );
    assert.throws(() => planKustomizePatch('k.yaml', 'patches: []\n', candidate, t), /empty or in flow style/);
  });
});

describe('Connect Workload: what the review must say', () => {
  it('names the controller that will undo a live change, and whose identity a workload stops using', () => {
    assert.equal(controllerOf({ labels: { 'app.kubernetes.io/managed-by': 'Helm' } }), 'Helm');
    assert.equal(controllerOf({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } }), 'Flux');
    assert.equal(
      controllerOf({ annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:payments/api' } }),
      'Argo CD',
    );
    assert.equal(controllerOf({ labels: { 'app.kubernetes.io/managed-by': 'kubectl' } }), undefined);
    const w = {
      kind: 'Deployment' as const,
      name: 'api',
      namespace: 'payments',
      serviceAccountName: 'legacy',
      labelled: true,
      generation: 3,
      mounted: false,
    };
    const plan = planLive(w, { cluster: clusterNamed('c'), namespace: 'payments', serviceAccount: 'payments-api' }, [
      { name: 'legacy', annotations: { 'azure.workload.identity/client-id': 'old-client' } },
    ]);
    assert.match(
      plan.warnings[0],
      /runs as legacy now, bound to the identity with client id old-client: it will stop using that identity/,
    );
    const ws = planConnect(
      DEPLOYMENT.replace('      containers:', '      serviceAccountName: legacy\n      containers:'),
      { path: 'd.yaml', workload: workloadsIn(DEPLOYMENT)[0] },
      { cluster: clusterNamed('c'), namespace: 'payments', serviceAccount: 'checkout-api' },
      [{ name: 'legacy', annotations: { 'azure.workload.identity/client-id': 'old-client' } }],
    );
    assert.match(
      ws.warnings[0],
      /runs as legacy now, which is bound to the identity with client id old-client: it will stop using that identity/,
    );
  });

  it('offers only the workloads of the namespace (or without one), and lists files it could not read', () => {
    const other = DEPLOYMENT.replace('namespace: payments', 'namespace: billing');
    const { candidates, skipped } = findCandidates(
      [
        { path: 'a.yaml', text: DEPLOYMENT },
        { path: 'b.yaml', text: other },
        { path: 'c.yaml', text: DEPLOYMENT.replace('  namespace: payments\n', '') },
        { path: 'd.yaml', text: 'a: [' },
      ],
      'payments',
    );
    assert.deepEqual(
      candidates.map((c) => c.path),
      ['a.yaml', 'c.yaml'],
    );
    assert.deepEqual(
      skipped.map((x) => x.path),
      ['d.yaml'],
    );
  });
});

describe("Connect Workload: the run's steps read first and write only what is missing", () => {
  const binding = { cluster: clusterNamed('aks-payments'), namespace: 'payments', serviceAccount: 'checkout-api' };
  const signal = new AbortController().signal;

  it("the workload's file: written once, a rerun writes nothing, and an edit made since the review is kept", async () => {
    const path = 'apps/checkout/deploy.yaml';
    const w = memoryWorkspace({ [path]: DEPLOYMENT });
    const plan = planConnect(DEPLOYMENT, { path, workload: workloadsIn(DEPLOYMENT)[0]! }, binding, []);
    // Someone edits the file between the review and the yes: the step plans again from what it reads.
    const edited = DEPLOYMENT.replace('# The checkout service', '# The checkout service (edited)');
    w.files.set(path, edited);
    const first = await runConnect({ binding, serviceAccounts: [], change: { where: 'file', plan } }, w.deps, {
      signal,
    });
    assert.equal(first.records.get('workloadFile')?.result, 'written');
    assert.match(w.files.get(path)!, /# The checkout service \(edited\)/);
    assert.match(w.files.get(path)!, /serviceAccountName: checkout-api/);
    assert.deepEqual(w.writes, [path]);
    const again = await runConnect({ binding, serviceAccounts: [], change: { where: 'file', plan } }, w.deps, {
      signal,
    });
    assert.equal(again.records.get('workloadFile')?.result, 'unchanged');
    assert.deepEqual(w.writes, [path], 'a rerun writes nothing');
  });

  it('unsaved edits stop the run before anything is written; once saved, a rerun finishes', async () => {
    const path = 'apps/checkout/deploy.yaml';
    const w = memoryWorkspace({ [path]: DEPLOYMENT });
    const plan = planConnect(DEPLOYMENT, { path, workload: workloadsIn(DEPLOYMENT)[0]! }, binding, []);
    w.dirty.add(path);
    await assert.rejects(
      runConnect({ binding, serviceAccounts: [], change: { where: 'file', plan } }, w.deps, { signal }),
      (e: Error) => e.name === 'UnsavedFileError' && /unsaved changes/.test(e.message),
    );
    assert.deepEqual(w.writes, []);
    w.dirty.delete(path);
    const done = await runConnect({ binding, serviceAccounts: [], change: { where: 'file', plan } }, w.deps, {
      signal,
    });
    assert.equal(done.records.get('workloadFile')?.result, 'written');
  });

  it('an overlay: an unsaved kustomization stops the run before the patch is written; then the patch and its entry, once', async () => {
    const base =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: []\n';
    const k = 'overlays/prod/kustomization.yaml';
    const w = memoryWorkspace({ 'base/deployment.yaml': base, [k]: 'resources:\n  - ../../base\n' });
    const plan = planKustomizePatch(
      k,
      w.files.get(k)!,
      { path: 'base/deployment.yaml', workload: workloadsIn(base)[0]! },
      binding,
    );
    const change = { where: 'overlay' as const, plan };
    w.dirty.add(k);
    await assert.rejects(runConnect({ binding, serviceAccounts: [], change }, w.deps, { signal }), (e: Error) =>
      errorNamed(e, 'UnsavedFileError'),
    );
    assert.deepEqual(w.writes, [], 'nothing written');
    w.dirty.delete(k);
    const done = await runConnect({ binding, serviceAccounts: [], change }, w.deps, { signal });
    assert.deepEqual(
      [...done.records.values()].map((r) => `${r.id}: ${r.result}`),
      ['patchFile: written', 'kustomization: written'],
    );
    assert.deepEqual(w.writes, ['overlays/prod/api-workload-identity.patch.yaml', k]);
    const again = await runConnect({ binding, serviceAccounts: [], change }, w.deps, { signal });
    assert.deepEqual(
      [...again.records.values()].map((r) => `${r.id}: ${r.result}`),
      ['patchFile: unchanged', 'kustomization: unchanged'],
    );
    assert.equal(w.writes.length, 2, 'a rerun writes nothing');
  });
});
