import { stringify } from 'yaml';
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

/** The ServiceAccount manifest for the workspace, with a short comment on what it is for. Values are YAML-quoted by the library. */
export function serviceAccountManifest(m: ManifestInput): string {
  const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');
  return [
    `# ServiceAccount for Azure workload identity on AKS cluster ${oneLine(m.clusterName)}.`,
    `# Pods that run as it get Microsoft Entra tokens for the managed identity ${oneLine(m.identityName)}`,
    `# through the federated credential ${oneLine(m.credentialName)}, and can read Key Vault ${oneLine(m.vaultName)}.`,
    '# Workloads also need this label on their pod template (spec.template.metadata.labels):',
    `#   ${USE_LABEL}: "true"`,
    stringify(serviceAccountObject(m), { lineWidth: 0 }),
  ].join('\n');
}

/** The manifest path from the setting's template; undefined with the rule's message when it is not allowed. */
export function manifestPath(template: string, namespace: string, serviceAccount: string): { path?: string; error?: string } {
  const path = template.replace(/\$\{namespace\}/g, namespace).replace(/\$\{serviceAccount\}/g, serviceAccount);
  const error = validateManifestPath(path);
  return error ? { error: `aksWorkloadIdentity.manifestPath: ${error}` } : { path };
}
