import { ClusterSummary, isBusy, workloadIdentityState } from './cluster';
import { VaultSummary } from './inventory';
import { sameIgnoringTrailingSlash } from './names';

/** How a node looks, as plain data: the tree maps it to a TreeItem, and unit tests read it directly. */
export interface NodeLook {
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  contextValue: string;
  icon: string;
}

const STATE_TEXT = { off: 'workload identity off', oidcOnly: 'OIDC issuer only', on: 'workload identity on' } as const;

/** Escapes text from Azure for Markdown tooltips: names and tags are data, not markup. */
export const md = (s: string | undefined) => String(s ?? '').replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, (c) => `\\${c}`);

export function clusterLook(c: ClusterSummary, updating = false): NodeLook {
  const state = workloadIdentityState(c);
  const busy = updating || isBusy(c.provisioningState);
  const rows: [string, string][] = [
    ['Workload identity', STATE_TEXT[state]],
    ['Issuer URL', c.issuerUrl ? `\`${c.issuerUrl.replace(/`/g, '')}\`` : '—'],
    ['Region', md(c.location)],
    ['Kubernetes', md(c.kubernetesVersion ?? 'unknown')],
    ['Resource group', md(c.resourceGroup)],
    ['Microsoft Entra ID', c.entraId ? 'integrated' : 'not integrated (local accounts)'],
    ['API server', c.private ? 'private' : 'public'],
    ['Provisioning state', md(c.provisioningState ?? 'unknown')],
  ];
  return {
    label: c.name,
    description: busy ? `${STATE_TEXT[state]} · updating…` : STATE_TEXT[state],
    tooltip: `**${md(c.name)}**\n\n${rows.map(([k, v]) => `${k}: ${v}`).join('  \n')}`,
    contextValue: `cluster.${state}${busy ? '.busy' : ''}${c.entraId ? '.entra' : ''}${c.private ? '.private' : ''}`,
    icon: state === 'on' ? 'pass' : state === 'oidcOnly' ? 'circle-large-outline' : 'circle-slash',
  };
}

export function vaultLook(v: VaultSummary): NodeLook {
  const model = v.rbac ? 'Azure RBAC' : 'access policies';
  return {
    label: v.name,
    description: model,
    tooltip: `**${md(v.name)}**\n\nPermission model: ${model}  \nRegion: ${md(v.location)}  \nResource group: ${md(v.resourceGroup)}`,
    contextValue: v.rbac ? 'vault.rbac' : 'vault.accessPolicies',
    icon: 'key',
  };
}

export interface Binding {
  namespace: string;
  serviceAccount: string;
  identityName: string;
  identityId: string;
  clientId?: string;
  credentialName: string;
  subject: string;
  /** The credential's issuer differs from the cluster's only by a trailing slash: meant for this cluster, refused by Entra ID. */
  issuerMismatch?: boolean;
}

export function bindingLook(b: Binding): NodeLook {
  return {
    label: `${b.namespace}/${b.serviceAccount}`,
    description: `→ ${b.identityName}${b.issuerMismatch ? ' · issuer differs by a trailing slash' : ''}`,
    tooltip: `ServiceAccount **${md(b.namespace)}/${md(b.serviceAccount)}** uses identity **${md(b.identityName)}**  \nCredential: ${md(b.credentialName)}  \nClient ID: ${md(b.clientId)}${b.issuerMismatch ? '  \n\nThe credential\'s issuer lacks or adds a trailing slash, so token exchange fails (AADSTS70021). Run Verify Workload Identity to fix it.' : ''}`,
    contextValue: b.issuerMismatch ? 'binding.broken' : 'binding',
    icon: b.issuerMismatch ? 'warning' : 'link',
  };
}

/**
 * Bindings of a cluster: credentials whose subject names a ServiceAccount and whose issuer is the cluster's, exactly or
 * (flagged as broken) but for a trailing slash, the most common hand-made mistake.
 */
export function bindingsOf(issuerUrl: string | undefined, identities: { id: string; name: string; clientId?: string; credentials: { name: string; issuer: string; subject: string }[] }[]): Binding[] {
  if (!issuerUrl) return [];
  const out: Binding[] = [];
  for (const i of identities) {
    for (const c of i.credentials) {
      const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(c.subject);
      const exact = c.issuer === issuerUrl;
      if (!m || (!exact && !sameIgnoringTrailingSlash(c.issuer, issuerUrl))) continue;
      out.push({ namespace: m[1], serviceAccount: m[2], identityName: i.name, identityId: i.id, clientId: i.clientId, credentialName: c.name, subject: c.subject, ...(exact ? {} : { issuerMismatch: true }) });
    }
  }
  return out.sort((a, b) => `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`));
}
