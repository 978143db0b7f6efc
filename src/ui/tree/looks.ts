import * as l10n from '@vscode/l10n';
import type { CredentialInfo } from '../../azure/identities';
import { credentialMatch, type FoundBinding } from '../../workloadIdentity/binding';
import type { CredentialBudget, CredentialGroup } from '../../workloadIdentity/credentialBudget';
import { ClusterSummary, isBusy, workloadIdentityState } from '../../workloadIdentity/cluster';
import { VaultSummary, permissionModel } from '../../workloadIdentity/inventory';

/**
 * How a node looks, as plain data: nodes.ts maps it to a TreeItem, and unit tests read it directly. This file imports
 * no vscode (so those tests run without it), and so translates through @vscode/l10n, which extension.ts configures.
 */
export interface NodeLook {
  label: string;
  description?: string;
  /** Markdown. */
  tooltip?: string;
  contextValue: string;
  icon: string;
}

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

export function bindingLook(b: FoundBinding): NodeLook {
  return {
    label: `${b.namespace}/${b.serviceAccount}`,
    description: `→ ${b.identityName}${b.issuerMismatch ? l10n.t(' · issuer differs by a trailing slash') : ''}${b.identityBinding ? l10n.t(' · identity binding') : ''}`,
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
    contextValue: b.identityBinding ? 'viaIdentityBinding' : b.issuerMismatch ? 'binding.broken' : 'binding',
    icon: b.issuerMismatch ? 'warning' : 'link',
  };
}

/** An identity binding on a cluster: the identity, and the ServiceAccounts RBAC lets use it below (read on opening). */
export function identityBindingLook(
  b: { name: string; provisioningState?: string; issuerUrl?: string },
  identityName: string,
): NodeLook {
  const ok = b.provisioningState === 'Succeeded';
  return {
    label: identityName,
    description: ok ? l10n.t('identity binding') : l10n.t('identity binding · {0}', b.provisioningState ?? '?'),
    tooltip: l10n.t(
      "Identity binding **{0}**: pods of the ServiceAccounts that Kubernetes RBAC allows use **{1}** through AKS's shared credential  \nIssuer: {2}",
      md(b.name),
      md(identityName),
      md(b.issuerUrl),
    ),
    contextValue: 'identityBinding',
    icon: ok ? 'references' : 'warning',
  };
}

/** The group under an identity binding that lists the clusters where the same identity has one. */
export const servedClustersLook = (identityName: string): NodeLook => ({
  label: l10n.t('Clusters it serves'),
  tooltip: l10n.t(
    "The clusters you can see where **{0}** has an identity binding: all of them share AKS's one credential on it",
    md(identityName),
  ),
  contextValue: 'servedClusters',
  icon: 'server-environment',
});

/** One cluster where the identity has an identity binding; `here` is the cluster whose node was opened. */
export function servedClusterLook(
  c: ClusterSummary,
  b: { name: string; provisioningState?: string },
  here: boolean,
): NodeLook {
  const ok = b.provisioningState === 'Succeeded';
  const state = ok ? '' : ` · ${b.provisioningState ?? '?'}`;
  return {
    label: c.name,
    description: `${here ? l10n.t('this cluster') : c.resourceGroup}${state}`,
    tooltip: l10n.t(
      'Identity binding **{0}** on **{1}**  \nResource group: {2}  \nSubscription: {3}',
      md(b.name),
      md(c.name),
      md(c.resourceGroup),
      md(c.subscriptionId),
    ),
    contextValue: 'servedCluster',
    icon: ok ? 'server-environment' : 'warning',
  };
}

/** An identity with its budget of federated credentials: `14/20 credentials`, a warning from 18. */
export function identityLook(
  i: { name: string; resourceGroup: string; clientId: string },
  budget: CredentialBudget,
): NodeLook {
  const text = l10n.t('{0}/{1} credentials', budget.used, budget.limit);
  return {
    label: i.name,
    description: text,
    tooltip: `**${md(i.name)}**\n\n${l10n.t('Federated credentials: {0}  \nClient ID: {1}  \nResource group: {2}', text, md(i.clientId), md(i.resourceGroup))}${
      budget.level === 'ok'
        ? ''
        : `  \n\n${budget.level === 'full' ? l10n.t('No credential can be added: an identity holds at most {0}.', budget.limit) : l10n.t('Close to the limit of {0} credentials per identity.', budget.limit)}`
    }`,
    contextValue: `identity.${budget.level}`,
    icon: budget.level === 'ok' ? 'key' : 'warning',
  };
}

/** A group of an identity's credentials: a cluster's, another tool's, or those that name no cluster you can see. */
export function credentialGroupLook(g: CredentialGroup): NodeLook {
  const count = g.credentials.length + (g.kind === 'cluster' ? g.nearMiss.length : 0);
  if (g.kind === 'cluster')
    return {
      label: g.cluster.name,
      description: g.nearMiss.length
        ? l10n.t('{0} · {1} with the issuer differing by a trailing slash', String(count), String(g.nearMiss.length))
        : String(count),
      tooltip: l10n.t('Credentials that name the issuer of {0}  \n{1}', md(g.cluster.name), md(g.cluster.issuerUrl)),
      contextValue: g.nearMiss.length ? 'credentialGroup.cluster.broken' : 'credentialGroup.cluster',
      icon: g.nearMiss.length ? 'warning' : 'server-environment',
    };
  if (g.kind === 'otherTool')
    return {
      label: g.tool,
      description: String(count),
      tooltip: l10n.t("{0}'s credentials: listed as they are, never offered for removal.", md(g.tool)),
      contextValue: 'credentialGroup.otherTool',
      icon: 'plug',
    };
  return {
    label: l10n.t('Issuer of no known cluster'),
    description: String(count),
    tooltip: l10n.t(
      'These credentials name an issuer that no cluster you can see has: a deleted or rebuilt cluster (its old issuer), or a cluster in a subscription that is not selected. They still count against the limit.',
    ),
    contextValue: 'credentialGroup.noKnownCluster',
    icon: 'question',
  };
}

/** `bound`: it names a cluster you can see, so a binding of that cluster is its ServiceAccount's. */
export function credentialLook(c: CredentialInfo, nearMiss = false, bound = false): NodeLook {
  return {
    label: c.name,
    description: credentialMatch(c),
    tooltip:
      l10n.t(
        'Issuer: {0}  \nSubject: {1}  \nAudiences: {2}',
        md(c.issuer),
        md(credentialMatch(c)),
        md(c.audiences.join(', ')),
      ) +
      (nearMiss
        ? `  \n\n${l10n.t('The issuer lacks or adds a trailing slash, so token exchange fails (AADSTS70021). Run Verify Workload Identity to fix it.')}`
        : ''),
    contextValue: nearMiss
      ? 'credential.broken'
      : bound && c.subject?.startsWith('system:serviceaccount:')
        ? 'credential.bound'
        : 'credential',
    icon: nearMiss ? 'warning' : 'link',
  };
}
