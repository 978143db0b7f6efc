import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { summaryFromGraph } from '../../src/workloadIdentity/inventory';
import { manifestPath } from '../../src/workloadIdentity/manifest';
import { serviceAccountManifest } from '../../src/workloadIdentity/manifestYaml';
import { clusterLook, vaultLook } from '../../src/ui/tree/looks';
import { evaluate } from '../../src/workloadIdentity/verify/checks';
import type { VerifyFacts } from '../../src/workloadIdentity/verify/model';
import { reportHtml, reportMarkdown } from '../../src/ui/report/render';

describe('hostile data from the services', () => {
  it('rows with missing optional fields still make nodes', () => {
    const { cluster } = summaryFromGraph({
      id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c',
      type: 'microsoft.containerservice/managedclusters',
    });
    assert.equal(clusterLook(cluster!).description, 'workload identity off');
    const { vault } = summaryFromGraph({
      id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v',
      type: 'Microsoft.KeyVault/vaults',
      rbac: null,
    });
    assert.equal(vaultLook(vault!).description, 'access policies');
    assert.deepEqual(
      summaryFromGraph({
        id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/w',
        type: 'microsoft.web/sites',
      }),
      {},
    );
  });

  it('the manifest stays one valid ServiceAccount whatever the names and ids contain', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.string(),
        fc.string(),
        (clientId, tenantId, cluster, vault, identity) => {
          const text = serviceAccountManifest({
            namespace: 'ns',
            serviceAccount: 'sa',
            clientId,
            tenantId,
            identityName: identity,
            clusterName: cluster,
            vaultName: vault,
            credentialName: 'fic',
          });
          const docs = parseAllDocuments(text);
          assert.equal(docs.length, 1, text);
          assert.deepEqual(docs[0].errors, []);
          const obj = docs[0].toJS();
          assert.deepEqual(obj, {
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            metadata: {
              name: 'sa',
              namespace: 'ns',
              annotations: {
                'azure.workload.identity/client-id': clientId,
                'azure.workload.identity/tenant-id': tenantId,
              },
            },
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the manifest path setting cannot leave the workspace', () => {
    assert.match(
      manifestPath('../${namespace}.yaml', { cluster: 'c', namespace: 'ns', serviceAccount: 'sa' }).error!,
      /aksWorkloadIdentity\.manifestPath: .*inside the workspace/,
    );
    assert.match(
      manifestPath('/etc/${serviceAccount}.yaml', { cluster: 'c', namespace: 'ns', serviceAccount: 'sa' }).error!,
      /relative/,
    );
    assert.equal(
      manifestPath('k8s/${namespace}/${serviceAccount}.serviceaccount.yaml', {
        cluster: 'c',
        namespace: 'ns',
        serviceAccount: 'sa',
      }).path,
      'k8s/ns/sa.serviceaccount.yaml',
    );
    assert.equal(
      manifestPath('k8s/${cluster}/${namespace}/${serviceAccount}.serviceaccount.yaml', {
        cluster: 'aks-a',
        namespace: 'ns',
        serviceAccount: 'sa',
      }).path,
      'k8s/aks-a/ns/sa.serviceaccount.yaml',
    );
  });

  it('Verify: whatever names, subjects, labels and env the services return, the checks run and the report keeps them as text', () => {
    const id = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i';
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string(),
        fc.dictionary(fc.string(), fc.string()),
        fc.array(fc.string(), { maxLength: 3 }),
        (issuer, subject, podName, labels, env) => {
          const cluster = {
            id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c',
            subscriptionId: 's',
            resourceGroup: 'rg',
            name: 'c',
            location: 'x',
            oidcIssuerEnabled: true,
            workloadIdentityEnabled: true,
            issuerUrl: 'https://i/',
            entraId: false,
            private: false,
          };
          const facts: VerifyFacts = {
            target: { cluster, namespace: 'ns', serviceAccount: 'sa' },
            cluster: { ok: true, value: cluster },
            webhooks: { ok: true, value: [{ name: podName }] },
            serviceAccount: {
              ok: true,
              value: {
                namespace: 'ns',
                name: 'sa',
                annotations: { 'azure.workload.identity/client-id': subject },
                labels,
                annotationSetAt: {},
                fieldManagers: {},
              },
            },
            identity: {
              ok: true,
              value: {
                identity: {
                  id,
                  subscriptionId: 's',
                  resourceGroup: 'rg',
                  name: 'i',
                  location: 'x',
                  clientId: subject,
                  principalId: 'p',
                  tenantId: 't',
                },
                via: 'annotation',
              },
            },
            credentials: { ok: true, value: [{ name: podName, issuer, subject, audiences: env }] },
            knownIssuers: new Map([[issuer, podName]]),
            vaults: {
              ok: true,
              value: [
                {
                  vault: {
                    id: `${id}v`,
                    subscriptionId: 's',
                    resourceGroup: 'rg',
                    name: podName,
                    tenantId: 't',
                    rbac: false,
                    accessPolicies: [{ tenantId: 't', objectId: 'p', permissions: { secrets: env } }],
                  },
                  roles: [],
                  chosen: false,
                },
              ],
            },
            pods: {
              ok: true,
              value: [
                {
                  name: podName,
                  serviceAccount: 'sa',
                  labels,
                  env,
                  createdAt: '2020-01-01T00:00:00.000Z',
                  ready: true,
                },
              ],
            },
            identityBindings: { ok: true, value: [] },
          };
          const checks = evaluate(facts);
          assert.equal(checks.length, 11);
          const report = { target: facts.target, checkedAt: 'now', checks, notes: [] };
          const html = reportHtml(report, { nonce: 'n', cspSource: 'c' });
          // Data cannot open a tag: every '<' in the page belongs to the page's own markup.
          const tags = html.match(/<\/?([a-zA-Z0-9!]+)/g)!.map((t) => t.replace(/^<\/?/, '').toLowerCase());
          assert.deepEqual(
            [...new Set(tags)].filter(
              (t) =>
                ![
                  '!doctype',
                  'html',
                  'head',
                  'meta',
                  'title',
                  'style',
                  'body',
                  'h2',
                  'h3',
                  'p',
                  'button',
                  'span',
                  'section',
                  'small',
                  'dl',
                  'dt',
                  'dd',
                  'script',
                  'ul',
                  'li',
                  'a',
                  'main',
                  'nav',
                  'div',
                ].includes(t),
            ),
            [],
          );
          // In Markdown the only markup is the table's own line breaks.
          assert.ok(!reportMarkdown(report).replace(/<br>/g, '').includes('<'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
