/** The cloud the extension talks to, resolved from VS Code's own sovereign-cloud settings. */
export interface AzureCloud {
  name: 'AzureCloud' | 'AzureChinaCloud' | 'AzureUSGovernment' | 'custom';
  /** What the tree shows: the custom environment's own name, or the cloud's. */
  displayName: string;
  /** Always ends with a slash. */
  resourceManagerEndpoint: string;
  portalUrl: string;
  /** Microsoft Entra ID's authority host, ending with a slash: where a workload's token exchange goes. */
  activeDirectoryEndpoint?: string;
  /** Key Vault's resource (audience) in this cloud, e.g. https://vault.azure.net. */
  keyVaultResource?: string;
  /** The VS Code authentication provider for this cloud. */
  authProviderId: 'microsoft' | 'microsoft-sovereign-cloud';
  /**
   * Fields of the custom environment that VS Code's Microsoft account requires and the settings lack. With any
   * missing, that provider never answers a session request, so only the Azure CLI can sign in.
   */
  vsCodeAccountMissing?: string[];
}

/** What VS Code's Microsoft account extension validates in a custom environment. */
export const VSCODE_CUSTOM_ENVIRONMENT_FIELDS = [
  'name',
  'portalUrl',
  'managementEndpointUrl',
  'resourceManagerEndpointUrl',
  'activeDirectoryEndpointUrl',
  'activeDirectoryResourceId',
] as const;

export interface SovereignCloudSettings {
  environment?: string;
  customEnvironment?: {
    resourceManagerEndpointUrl?: string;
    portalUrl?: string;
    name?: string;
    activeDirectoryEndpointUrl?: string;
    keyVaultDnsSuffix?: string;
  } & Record<string, unknown>;
}

const PUBLIC: AzureCloud = {
  name: 'AzureCloud',
  displayName: 'Azure',
  resourceManagerEndpoint: 'https://management.azure.com/',
  portalUrl: 'https://portal.azure.com',
  authProviderId: 'microsoft',
  activeDirectoryEndpoint: 'https://login.microsoftonline.com/',
  keyVaultResource: 'https://vault.azure.net',
};
const CHINA: AzureCloud = {
  name: 'AzureChinaCloud',
  displayName: 'Azure China',
  resourceManagerEndpoint: 'https://management.chinacloudapi.cn/',
  portalUrl: 'https://portal.azure.cn',
  authProviderId: 'microsoft-sovereign-cloud',
  activeDirectoryEndpoint: 'https://login.chinacloudapi.cn/',
  keyVaultResource: 'https://vault.azure.cn',
};
const USGOV: AzureCloud = {
  name: 'AzureUSGovernment',
  displayName: 'Azure US Government',
  resourceManagerEndpoint: 'https://management.usgovcloudapi.net/',
  portalUrl: 'https://portal.azure.us',
  authProviderId: 'microsoft-sovereign-cloud',
  activeDirectoryEndpoint: 'https://login.microsoftonline.us/',
  keyVaultResource: 'https://vault.usgovcloudapi.net',
};

export class CloudConfigurationError extends Error {}

const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);

/** Follows `microsoft-sovereign-cloud.environment` and `.customEnvironment`, as VS Code's Microsoft sign-in does. */
export function resolveCloud(s: SovereignCloudSettings): AzureCloud {
  switch (s.environment) {
    case undefined:
    case '':
      return PUBLIC;
    case 'ChinaCloud':
      return CHINA;
    case 'USGovernment':
      return USGOV;
    case 'custom': {
      const arm = s.customEnvironment?.resourceManagerEndpointUrl;
      if (!arm)
        throw new CloudConfigurationError(
          'microsoft-sovereign-cloud.customEnvironment.resourceManagerEndpointUrl is required when microsoft-sovereign-cloud.environment is "custom".',
        );
      let url: URL;
      try {
        url = new URL(arm);
      } catch {
        throw new CloudConfigurationError(
          `microsoft-sovereign-cloud.customEnvironment.resourceManagerEndpointUrl is not a URL: ${arm}`,
        );
      }
      if (url.protocol !== 'https:')
        throw new CloudConfigurationError(
          'microsoft-sovereign-cloud.customEnvironment.resourceManagerEndpointUrl must use https.',
        );
      const missing = VSCODE_CUSTOM_ENVIRONMENT_FIELDS.filter(
        (f) => typeof s.customEnvironment?.[f] !== 'string' || !s.customEnvironment[f],
      );
      const aad = s.customEnvironment?.activeDirectoryEndpointUrl,
        kv = s.customEnvironment?.keyVaultDnsSuffix;
      return {
        ...(typeof aad === 'string' && /^https:\/\//.test(aad) ? { activeDirectoryEndpoint: withSlash(aad) } : {}),
        ...(typeof kv === 'string' && kv.replace(/^\./, '')
          ? { keyVaultResource: `https://${kv.replace(/^\./, '')}` }
          : {}),
        name: 'custom',
        displayName: s.customEnvironment?.name || `custom cloud ${url.host}`,
        resourceManagerEndpoint: withSlash(url.href),
        portalUrl: s.customEnvironment?.portalUrl ?? PUBLIC.portalUrl,
        authProviderId: 'microsoft-sovereign-cloud',
        ...(missing.length ? { vsCodeAccountMissing: missing } : {}),
      };
    }
    default:
      throw new CloudConfigurationError(
        `microsoft-sovereign-cloud.environment "${s.environment}" is not one of ChinaCloud, USGovernment or custom.`,
      );
  }
}

/** The scope for ARM tokens: the endpoint's own resource. */
export const armScope = (cloud: AzureCloud) => `${cloud.resourceManagerEndpoint}.default`;

/** The Entra ID application of every AKS API server (kubelogin's --server-id). */
export const AKS_SERVER_SCOPE = '6dae42f8-4368-4678-94ff-3960e28e3630/.default';

export const portalLink = (cloud: AzureCloud, tenantId: string | undefined, resourceId: string) =>
  `${cloud.portalUrl}/#@${tenantId ?? ''}/resource${resourceId}`;
