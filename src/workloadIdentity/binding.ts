import * as l10n from '@vscode/l10n';
import type { ClusterSummary } from './cluster';
import type { VaultSummary } from './inventory';
import { sameIgnoringTrailingSlash } from './names';
import type { ClusterRoleBindingInfo, ClusterRoleInfo } from '../kube/access';
import { IDENTITY_BINDING_CREDENTIAL } from '../azure/identityBindings';
import { mayUseIdentity } from './identityBindingAccess';

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
  /**
   * Through an identity binding: the pods then also need the annotation azure.workload.identity/use-identity-binding
   * and a SecretProviderClass useAzureTokenProxy.
   */
  viaIdentityBinding?: boolean;
}

/** The pod annotation that sends a pod's token through AKS's identity-binding proxy (webhook v1.6 or later). */
export const USE_IDENTITY_BINDING_ANNOTATION = 'azure.workload.identity/use-identity-binding';

/** What the app itself must do in identity-binding mode: no manifest can do it for it. */
export const appSideOfIdentityBinding = () =>
  l10n.t(
    "Through an identity binding, the app must create WorkloadIdentityCredential with the Azure proxy option (.NET IsAzureProxyEnabled, Go EnableAzureProxy, Java enableAzureProxy(), JavaScript enableAzureProxy, Python enable_azure_proxy=True); DefaultAzureCredential and ManagedIdentityCredential do not use it. The cluster's workload identity webhook must be v1.6 or later.",
  );

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
  /** Through this identity binding (its name), with AKS's shared credential, rather than a credential of its own. */
  identityBinding?: string;
}

/**
 * Bindings through an identity binding: the ServiceAccounts that Kubernetes RBAC lets use the identity, named in the
 * ClusterRoleBindings whose role allows use-managed-identity on its client id (groups name no ServiceAccount to list).
 */
export function bindingsThrough(
  binding: { name: string; identityId: string },
  identity: { name: string; clientId: string },
  rbac: { roles: ClusterRoleInfo[]; bindings: ClusterRoleBindingInfo[] },
): FoundBinding[] {
  const accounts = rbac.bindings.flatMap((b) =>
    (b.subjects ?? [])
      .filter((s) => s.kind === 'ServiceAccount' && s.namespace)
      .map((s) => ({ ns: s.namespace!, sa: s.name })),
  );
  const seen = new Set<string>();
  return accounts
    .filter(({ ns, sa }) => {
      const key = `${ns}/${sa}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return mayUseIdentity(rbac.roles, rbac.bindings, { namespace: ns, name: sa }, identity.clientId).allowed;
    })
    .map(({ ns, sa }) => ({
      namespace: ns,
      serviceAccount: sa,
      identityName: identity.name,
      identityId: binding.identityId,
      clientId: identity.clientId,
      credentialName: IDENTITY_BINDING_CREDENTIAL,
      subject: `system:serviceaccount:${ns}:${sa}`,
      identityBinding: binding.name,
    }))
    .sort((a, b) => `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`));
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
