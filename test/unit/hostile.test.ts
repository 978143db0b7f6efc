import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { summaryFromGraph } from '../../src/workloadIdentity/inventory';
import { manifestPath } from '../../src/workloadIdentity/manifest';
import { serviceAccountManifest } from '../../src/workloadIdentity/manifestYaml';
import { clusterLook, vaultLook } from '../../src/workloadIdentity/presentation';

describe('hostile data from the services', () => {
  it('rows with missing optional fields still make nodes', () => {
    const { cluster } = summaryFromGraph({ id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c', type: 'microsoft.containerservice/managedclusters' });
    assert.equal(clusterLook(cluster!).description, 'workload identity off');
    const { vault } = summaryFromGraph({ id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v', type: 'Microsoft.KeyVault/vaults', rbac: null });
    assert.equal(vaultLook(vault!).description, 'access policies');
    assert.deepEqual(summaryFromGraph({ id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/w', type: 'microsoft.web/sites' }), {});
  });

  it('the manifest stays one valid ServiceAccount whatever the names and ids contain', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.string(), fc.string(), fc.string(), (clientId, tenantId, cluster, vault, identity) => {
      const text = serviceAccountManifest({ namespace: 'ns', serviceAccount: 'sa', clientId, tenantId, identityName: identity, clusterName: cluster, vaultName: vault, credentialName: 'fic' });
      const docs = parseAllDocuments(text);
      assert.equal(docs.length, 1, text);
      assert.deepEqual(docs[0].errors, []);
      const obj = docs[0].toJS();
      assert.deepEqual(obj, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'ns', annotations: { 'azure.workload.identity/client-id': clientId, 'azure.workload.identity/tenant-id': tenantId } } });
    }), { numRuns: 500 });
  });

  it('the manifest path setting cannot leave the workspace', () => {
    assert.match(manifestPath('../${namespace}.yaml', 'ns', 'sa').error!, /aksWorkloadIdentity\.manifestPath: .*inside the workspace/);
    assert.match(manifestPath('/etc/${serviceAccount}.yaml', 'ns', 'sa').error!, /relative/);
    assert.equal(manifestPath('k8s/${namespace}/${serviceAccount}.serviceaccount.yaml', 'ns', 'sa').path, 'k8s/ns/sa.serviceaccount.yaml');
  });
});
