import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../azure/identities';
import { CREATED_BY_TAG } from '../azure/identities';
import type { ClusterSummary } from './cluster';
import { MAX_CREDENTIALS_PER_IDENTITY, sameIgnoringTrailingSlash } from './names';

/** From here on an identity is close to its limit of federated credentials: the tree and Verify warn. */
export const BUDGET_WARNING_FROM = MAX_CREDENTIALS_PER_IDENTITY - 2;

export interface CredentialBudget {
  used: number;
  limit: number;
  level: 'ok' | 'warning' | 'full';
}

export const credentialBudget = (used: number): CredentialBudget => ({
  used,
  limit: MAX_CREDENTIALS_PER_IDENTITY,
  level: used >= MAX_CREDENTIALS_PER_IDENTITY ? 'full' : used >= BUDGET_WARNING_FROM ? 'warning' : 'ok',
});

/** The tools whose credentials are theirs: listed as what they are, never taken for orphans. */
const OTHER_TOOLS: { tool: string; matches: (c: CredentialInfo) => boolean }[] = [
  {
    tool: 'AKS identity binding',
    matches: (c) => c.name === 'aks-identity-binding' || c.issuer.startsWith('https://ib.oic.prod-aks.azure.com/'),
  },
  { tool: 'GitHub Actions', matches: (c) => c.issuer === 'https://token.actions.githubusercontent.com' },
  { tool: 'GitLab', matches: (c) => /^https:\/\/gitlab\./.test(c.issuer) },
  { tool: 'Terraform Cloud', matches: (c) => c.issuer === 'https://app.terraform.io' },
];

/** An identity's credentials, by what they federate with. */
export type CredentialGroup =
  | { kind: 'cluster'; cluster: ClusterSummary; credentials: CredentialInfo[]; nearMiss: CredentialInfo[] }
  | { kind: 'otherTool'; tool: string; credentials: CredentialInfo[] }
  | { kind: 'noKnownCluster'; credentials: CredentialInfo[] };

/**
 * Groups credentials by the cluster whose issuer they name, exactly (a trailing-slash near miss is kept apart, as
 * Verify flags it); credentials of other tools by tool; the rest name no cluster you can see: a deleted or rebuilt
 * cluster's old issuer, or a cluster in a subscription that is not selected.
 */
export function groupCredentials(credentials: CredentialInfo[], clusters: ClusterSummary[]): CredentialGroup[] {
  const byCluster = new Map<string, Extract<CredentialGroup, { kind: 'cluster' }>>();
  const byTool = new Map<string, CredentialInfo[]>();
  const orphans: CredentialInfo[] = [];
  for (const c of credentials) {
    const tool =
      OTHER_TOOLS.find((t) => t.matches(c))?.tool ??
      (c.subject === undefined ? l10n.t('matches by expression') : undefined);
    if (tool) {
      byTool.set(tool, [...(byTool.get(tool) ?? []), c]);
      continue;
    }
    const exact = clusters.find((k) => k.issuerUrl === c.issuer);
    const near = exact
      ? undefined
      : clusters.find((k) => k.issuerUrl && sameIgnoringTrailingSlash(k.issuerUrl, c.issuer));
    const cluster = exact ?? near;
    if (!cluster) {
      orphans.push(c);
      continue;
    }
    const key = cluster.id.toLowerCase();
    const group = byCluster.get(key) ?? { kind: 'cluster' as const, cluster, credentials: [], nearMiss: [] };
    (exact ? group.credentials : group.nearMiss).push(c);
    byCluster.set(key, group);
  }
  return [
    ...[...byCluster.values()].sort((a, b) => a.cluster.name.localeCompare(b.cluster.name)),
    ...[...byTool]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tool, cs]) => ({ kind: 'otherTool' as const, tool, credentials: cs })),
    ...(orphans.length ? [{ kind: 'noKnownCluster' as const, credentials: orphans }] : []),
  ];
}

/** The identities the tree shows: those that federate with anything, and those this extension made. */
export const identitiesWorthShowing = <T extends IdentityInfo & { credentials: CredentialInfo[] }>(list: T[]) =>
  list
    .filter((i) => i.credentials.length > 0 || i.tags?.[CREATED_BY_TAG.name] === CREATED_BY_TAG.value)
    .sort((a, b) => a.name.localeCompare(b.name));
