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
    metadata: {
      name: m.serviceAccount,
      namespace: m.namespace,
      annotations: { [CLIENT_ID_ANNOTATION]: m.clientId, [TENANT_ID_ANNOTATION]: m.tenantId },
    },
  };
}

/** One folder per cluster: the same namespace/ServiceAccount bound on two clusters gets two manifests, as overlays do. */
export const DEFAULT_MANIFEST_PATH = 'k8s/${cluster}/${namespace}/${serviceAccount}.serviceaccount.yaml';
/** Where manifests went before clusters had folders; a manifest there for the same cluster is still updated in place. */
export const PREVIOUS_DEFAULT_MANIFEST_PATH = 'k8s/${namespace}/${serviceAccount}.serviceaccount.yaml';

/** The manifest path from the setting's template; undefined with the rule's message when it is not allowed. */
export function manifestPath(
  template: string,
  v: { cluster: string; namespace: string; serviceAccount: string },
): { path?: string; error?: string } {
  const path = template
    .replace(/\$\{cluster\}/g, v.cluster)
    .replace(/\$\{namespace\}/g, v.namespace)
    .replace(/\$\{serviceAccount\}/g, v.serviceAccount);
  const error = validateManifestPath(path);
  return error ? { error: `aksWorkloadIdentity.manifestPath: ${error}` } : { path };
}

/** Whether a manifest in the workspace was generated for this cluster (its first line says so). */
export const manifestIsFor = (text: string, clusterName: string) =>
  text.startsWith(
    `# ServiceAccount for Azure workload identity on AKS cluster ${clusterName.replace(/[\r\n]+/g, ' ')}.`,
  );
