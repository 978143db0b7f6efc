import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
