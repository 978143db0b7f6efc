import { stringify } from 'yaml';
import type { AzureCloud } from '../../auth/cloud';
import { USE_AZURE_TOKEN_PROXY } from './yamlEdit';

export type KeyVaultObjectType = 'secret' | 'key' | 'cert';

export interface SecretProviderClassInput {
  name: string;
  namespace: string;
  clientId: string;
  tenantId: string;
  vaultName: string;
  cloud: AzureCloud['name'];
  objects: { objectName: string; objectType: KeyVaultObjectType }[];
  /** Through an identity binding: the provider gets its token through AKS's proxy. */
  viaIdentityBinding?: boolean;
}

/** The Azure provider's cloudName: empty for the public cloud. A custom cloud needs its own configuration file. */
export function cloudNameFor(cloud: AzureCloud['name']): string {
  return {
    AzureCloud: '',
    AzureChinaCloud: 'AzureChinaCloud',
    AzureUSGovernment: 'AzureUSGovernmentCloud',
    custom: '',
  }[cloud];
}

/**
 * A SecretProviderClass for the Secrets Store CSI driver's Azure provider, using workload identity: `clientID`
 * selects it, and `tenantID` (not the deprecated `tenantId`).
 */
export function secretProviderClassObject(i: SecretProviderClassInput) {
  const objects = stringify({ array: i.objects.map((o) => stringify(o)) }, { lineWidth: 0 });
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name: i.name, namespace: i.namespace },
    spec: {
      provider: 'azure',
      parameters: {
        usePodIdentity: 'false',
        clientID: i.clientId,
        keyvaultName: i.vaultName,
        tenantID: i.tenantId,
        cloudName: cloudNameFor(i.cloud),
        ...(i.viaIdentityBinding ? { [USE_AZURE_TOKEN_PROXY]: 'true' } : {}),
        objects,
      },
    },
  };
}

export function secretProviderClassYaml(i: SecretProviderClassInput): string {
  return [
    `# Mounts ${i.objects.map((o) => `${o.objectType} ${o.objectName}`).join(', ')} of Key Vault ${i.vaultName} as files, through workload identity`,
    `# (client id ${i.clientId}). Pods that use it need the azure-keyvault-secrets-provider add-on and the label`,
    '# azure.workload.identity/use: "true"; the workload mounts it with a csi volume of driver secrets-store.csi.k8s.io.',
    ...(i.cloud === 'custom'
      ? ['# A custom cloud: set cloudName to "AzureStackCloud" and give the provider its cloud configuration file.']
      : []),
    stringify(secretProviderClassObject(i), { lineWidth: 0 }),
  ].join('\n');
}
