import { validateManifestPath } from './names';

export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';
export const USE_LABEL = 'azure.workload.identity/use';

export interface ManifestInput {
  namespace: string;
  serviceAccount: string;
  clientId: string;
  tenantId: string;
  identityName: string;
  clusterName: string;
  vaultName: string;
  credentialName: string;
}

export function serviceAccountObject(m: Pick<ManifestInput, 'namespace' | 'serviceAccount' | 'clientId' | 'tenantId'>) {
  return {
    apiVersion: 'v1' as const,
    kind: 'ServiceAccount' as const,
    metadata: { name: m.serviceAccount, namespace: m.namespace, annotations: { [CLIENT_ID_ANNOTATION]: m.clientId, [TENANT_ID_ANNOTATION]: m.tenantId } },
  };
}

/** The manifest path from the setting's template; undefined with the rule's message when it is not allowed. */
export function manifestPath(template: string, namespace: string, serviceAccount: string): { path?: string; error?: string } {
  const path = template.replace(/\$\{namespace\}/g, namespace).replace(/\$\{serviceAccount\}/g, serviceAccount);
  const error = validateManifestPath(path);
  return error ? { error: `aksWorkloadIdentity.manifestPath: ${error}` } : { path };
}
