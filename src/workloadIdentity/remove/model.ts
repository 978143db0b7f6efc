import * as l10n from '@vscode/l10n';
import type { IdentityInfo } from '../../azure/identities';
import type { ResourceRef } from '../../azure/resourceId';
import type { PodInfo } from '../../kube/access';
import type { Permission } from '../../azure/keyVaultRoles';
import type { VerifyDeps } from '../verify/model';
import type { Binding } from '../binding';

/** Remove reads through Verify's gateways (it observes the binding as Verify does) and adds their deletes. */
export interface RemoveDeps extends VerifyDeps {
  identityBindings: VerifyDeps['identityBindings'] & {
    delete(cluster: ResourceRef, name: string, signal?: AbortSignal): Promise<void>;
  };
  identities: VerifyDeps['identities'] & {
    deleteCredential(identity: ResourceRef, name: string, signal?: AbortSignal): Promise<void>;
    delete(ref: ResourceRef, signal?: AbortSignal): Promise<void>;
  };
  vaults: VerifyDeps['vaults'] & {
    removeAccessPolicy(
      ref: ResourceRef,
      policy: { tenantId: string; objectId: string; permissions: Partial<Record<Permission, string[]>> },
      signal?: AbortSignal,
    ): Promise<void>;
    deleteRoleAssignment(id: string, subscriptionId: string, signal?: AbortSignal): Promise<void>;
  };
}

/** What the user chose beyond the binding itself; each defaults to keep. */
export interface RemoveChoices {
  deleteIdentity: boolean;
  deleteServiceAccount: boolean;
  /** AKS's aks-identity-binding, offered once the identity's last identity binding anywhere goes. */
  deleteManagedCredential?: boolean;
}

export type RemovalKind =
  | 'credential'
  | 'accessPolicy'
  | 'roleAssignment'
  | 'annotations'
  | 'serviceAccount'
  | 'identity'
  // Identity-binding mode.
  | 'rbacSubject'
  | 'rbacObjects'
  | 'identityBinding'
  | 'managedCredential';

export const removalTitle = (kind: RemovalKind): string =>
  ({
    credential: l10n.t('Federated identity credential'),
    accessPolicy: l10n.t('Key Vault access policy (get)'),
    roleAssignment: l10n.t('Key Vault role assignment'),
    annotations: l10n.t('ServiceAccount annotations'),
    serviceAccount: 'ServiceAccount',
    identity: l10n.t('User-assigned managed identity'),
    rbacSubject: l10n.t('ServiceAccount in the ClusterRoleBinding'),
    rbacObjects: l10n.t('ClusterRole and ClusterRoleBinding'),
    identityBinding: l10n.t('Identity binding on the cluster'),
    managedCredential: l10n.t("AKS's credential for identity bindings"),
  })[kind];

/** One line of the review, and later of the report. */
export interface Removal {
  key: string;
  kind: RemovalKind;
  title: string;
  /** The exact resource. */
  resource: string;
  /** remove: this run removes it; keep: the user keeps it (or it is still used); notOurs: made by someone else, never touched. */
  decision: 'remove' | 'keep' | 'notOurs';
  detail: string;
  result?: 'removed' | 'alreadyGone' | 'failed' | 'notRun';
  /** What the step needs to act. */
  credential?: { identity: ResourceRef; name: string; issuer: string; subject: string };
  accessPolicy?: { vault: ResourceRef; tenantId: string; objectId: string; permissions: Permission[] };
  roleAssignment?: { id: string; subscriptionId: string; vault: ResourceRef };
  annotations?: string[];
  /** Identity-binding mode: the ClusterRoleBinding (and ClusterRole) named use-mi-<client id>, or the binding. */
  rbac?: { name: string; clientId: string };
  identityBinding?: { cluster: ResourceRef; name: string };
}

export interface RemovePlan {
  target: Binding;
  identity?: IdentityInfo;
  removals: Removal[];
  /** Pods that run as the ServiceAccount with the use label: they lose access at their next token refresh. */
  affectedPods: PodInfo[];
  /** AKS's credential may be deleted: the identity's last identity binding anywhere goes with this removal. */
  managedCredentialOffered?: boolean;
  /** Why the identity or the ServiceAccount may not be deleted; absent when the user may choose to. */
  identityKept?: string;
  serviceAccountKept?: string;
  /** Reads that failed: the plan cannot be trusted to be complete, so Remove refuses to run. */
  unreadable: string[];
}
