import * as l10n from '@vscode/l10n';
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

/** A vault's permission model as the tree, the prompts and the checks name it. */
export const permissionModel = (rbac: boolean) => (rbac ? 'Azure RBAC' : l10n.t('access policies'));

export const stateText = (state: 'off' | 'oidcOnly' | 'on') =>
  ({ off: l10n.t('workload identity off'), oidcOnly: l10n.t('OIDC issuer only'), on: l10n.t('workload identity on') })[
    state
  ];

/** Escapes text from Azure for Markdown tooltips: names and tags are data, not markup. */
export const md = (s: string | undefined) => String(s ?? '').replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, (c) => `\\${c}`);

export function clusterLook(c: ClusterSummary, updating = false): NodeLook {
  const state = workloadIdentityState(c);
  const busy = updating || isBusy(c.provisioningState);
  const rows: [string, string][] = [
    [l10n.t('Workload identity'), stateText(state)],
    [l10n.t('Issuer URL'), c.issuerUrl ? `\`${c.issuerUrl.replace(/`/g, '')}\`` : '—'],
    [l10n.t('Region'), md(c.location)],
    ['Kubernetes', md(c.kubernetesVersion ?? l10n.t('unknown'))],
    [l10n.t('Resource group'), md(c.resourceGroup)],
    ['Microsoft Entra ID', c.entraId ? l10n.t('integrated') : l10n.t('not integrated (local accounts)')],
    [l10n.t('API server'), c.private ? l10n.t('private') : l10n.t('public')],
    [l10n.t('Provisioning state'), md(c.provisioningState ?? l10n.t('unknown'))],
  ];
  return {
    label: c.name,
    description: busy ? l10n.t('{0} · updating…', stateText(state)) : stateText(state),
    tooltip: `**${md(c.name)}**\n\n${rows.map(([k, v]) => l10n.t('{0}: {1}', k, v)).join('  \n')}`,
    contextValue: `cluster.${state}${busy ? '.busy' : ''}${c.entraId ? '.entra' : ''}${c.private ? '.private' : ''}`,
    icon: state === 'on' ? 'pass' : state === 'oidcOnly' ? 'circle-large-outline' : 'circle-slash',
  };
}

export function vaultLook(v: VaultSummary): NodeLook {
  const model = permissionModel(v.rbac);
  return {
    label: v.name,
    description: model,
    tooltip: `**${md(v.name)}**\n\n${l10n.t('Permission model: {0}  \nRegion: {1}  \nResource group: {2}', model, md(v.location), md(v.resourceGroup))}`,
    contextValue: v.rbac ? 'vault.rbac' : 'vault.accessPolicies',
    icon: 'key',
  };
}

export interface FoundBinding {
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

/** What a credential matches: its subject, or for a flexible credential its claims-matching expression. */
export const credentialMatch = (c: { subject?: string; expression?: string }): string =>
  c.subject ?? (c.expression ? l10n.t('matches by expression: {0}', c.expression) : l10n.t('matches by expression'));

export function bindingLook(b: FoundBinding): NodeLook {
  return {
    label: `${b.namespace}/${b.serviceAccount}`,
    description: `→ ${b.identityName}${b.issuerMismatch ? l10n.t(' · issuer differs by a trailing slash') : ''}`,
    tooltip:
      l10n.t(
        'ServiceAccount **{0}/{1}** uses identity **{2}**  \nCredential: {3}  \nClient ID: {4}',
        md(b.namespace),
        md(b.serviceAccount),
        md(b.identityName),
        md(b.credentialName),
        md(b.clientId),
      ) +
      (b.issuerMismatch
        ? `  \n\n${l10n.t("The credential's issuer lacks or adds a trailing slash, so token exchange fails (AADSTS70021). Run Verify Workload Identity to fix it.")}`
        : ''),
    contextValue: b.issuerMismatch ? 'binding.broken' : 'binding',
    icon: b.issuerMismatch ? 'warning' : 'link',
  };
}

/**
 * Bindings of a cluster: credentials whose subject names a ServiceAccount and whose issuer is the cluster's, exactly or
 * (flagged as broken) but for a trailing slash, the most common hand-made mistake.
 */
export function bindingsOf(
  issuerUrl: string | undefined,
  identities: {
    id: string;
    name: string;
    clientId?: string;
    credentials: { name: string; issuer: string; subject?: string }[];
  }[],
): FoundBinding[] {
  if (!issuerUrl) return [];
  const out: FoundBinding[] = [];
  for (const i of identities) {
    for (const c of i.credentials) {
      // A credential without a subject matches by expression: never a binding.
      const [, namespace, serviceAccount] =
        (c.subject !== undefined && /^system:serviceaccount:([^:]+):([^:]+)$/.exec(c.subject)) || [];
      const exact = c.issuer === issuerUrl;
      if (!namespace || !serviceAccount || (!exact && !sameIgnoringTrailingSlash(c.issuer, issuerUrl))) continue;
      out.push({
        namespace,
        serviceAccount,
        identityName: i.name,
        identityId: i.id,
        clientId: i.clientId,
        credentialName: c.name,
        subject: c.subject!,
        ...(exact ? {} : { issuerMismatch: true }),
      });
    }
  }
  return out.sort((a, b) => `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`));
}
