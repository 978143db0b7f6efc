import { stringify } from 'yaml';
import { ManifestInput, USE_LABEL, serviceAccountObject } from './manifest';

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
