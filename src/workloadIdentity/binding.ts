import * as l10n from '@vscode/l10n';
import type { ClusterSummary } from './cluster';
import type { VaultSummary } from './inventory';
import { sameIgnoringTrailingSlash } from './names';

/**
 * The product's noun: a cluster's ServiceAccount that a managed identity federates with, to read a Key Vault.
 * Verify, Test Binding, Remove and Connect start from one; Bind's request is one with its vault, identity and
 * permissions chosen.
 */
export interface Binding {
  cluster: ClusterSummary;
  namespace: string;
  serviceAccount: string;
  /** The identity a binding in the tree named, used when the ServiceAccount has no client-id annotation. */
  identityId?: string;
  /** Checked alone when given; otherwise every vault the identity has a grant on. */
  vault?: VaultSummary;
}

/** A binding as the tree finds it: a federated credential whose subject names a ServiceAccount of the cluster. */
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
