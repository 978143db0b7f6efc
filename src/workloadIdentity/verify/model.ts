import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { RoleAssignmentInfo, VaultDetails } from '../../azure/vaults';
import type {
  ClusterRoleBindingInfo,
  ClusterRoleInfo,
  PodInfo,
  ServiceAccountInfo,
  WebhookInfo,
} from '../../kube/access';
import type { IdentityBindingInfo } from '../../azure/identityBindings';
import type { BindDeps } from '../bind/model';
import type { ClusterSummary } from '../cluster';
import type { VaultSummary } from '../inventory';
import type { Permission } from '../../azure/keyVaultRoles';
import type { Binding } from '../binding';

/** Verify reads through the same gateways as Bind, plus what the user can see. */
export interface VerifyDeps extends BindDeps {
  identities: BindDeps['identities'] & {
    list(subscriptionId: string, signal?: AbortSignal): Promise<IdentityInfo[]>;
    listWithCredentials(
      subscriptionId: string,
      signal?: AbortSignal,
    ): Promise<(IdentityInfo & { credentials: CredentialInfo[] })[]>;
  };
  inventory: { clusters(): Promise<ClusterSummary[]>; vaults(): Promise<VaultSummary[]> };
}

/** A read that may have failed: a failure becomes an error mark on the checks that needed it, not the end of the report. */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

export interface VaultGrants {
  vault: VaultDetails;
  /** Role assignments of the identity that cover the vault (at it or above it). */
  roles: RoleAssignmentInfo[];
  chosen: boolean;
}

export interface FoundIdentity {
  identity?: IdentityInfo;
  /** How it was found: the ServiceAccount's annotation, the binding the user chose, or a credential naming the ServiceAccount. */
  via: 'annotation' | 'binding' | 'credential' | 'none';
}

/** Everything the checks compare, read once. The checks themselves are pure. */
export interface VerifyFacts {
  target: Binding;
  cluster: Read<ClusterSummary>;
  webhooks: Read<WebhookInfo[]>;
  serviceAccount: Read<ServiceAccountInfo | undefined>;
  identity: Read<FoundIdentity>;
  credentials: Read<CredentialInfo[]>;
  /** Issuer URL → cluster name, for every cluster the user can see. */
  knownIssuers: Map<string, string>;
  vaults: Read<VaultGrants[]>;
  pods: Read<PodInfo[]>;
  /** The cluster's identity bindings; the identity's, when it has one, makes this an identity-binding binding. */
  identityBindings: Read<IdentityBindingInfo[]>;
  /** The cluster's ClusterRoles and ClusterRoleBindings, read when the identity has an identity binding here. */
  rbac?: Read<{ roles: ClusterRoleInfo[]; bindings: ClusterRoleBindingInfo[] }>;
  /** The webhook's version from its Deployment's image tag, read when the identity has an identity binding here. */
  webhookVersion?: Read<string | undefined>;
}

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip' | 'error';

export type Fix =
  | { kind: 'credential'; label: string; detail: string }
  | { kind: 'cluster'; label: string; detail: string }
  | { kind: 'annotation'; label: string; detail: string }
  | { kind: 'identityBinding'; label: string; detail: string }
  | { kind: 'useIdentityRbac'; label: string; detail: string }
  | { kind: 'grant'; label: string; detail: string; vaultId: string; permissions: Permission[] };

export type CheckId =
  | 'cluster'
  | 'webhook'
  | 'serviceAccount'
  | 'identity'
  | 'issuer'
  | 'subject'
  | 'audience'
  | 'credentialCount'
  | 'vault'
  | 'pods'
  | 'namespace'
  // Identity-binding mode, instead of issuer, subject and audience.
  | 'identityBinding'
  | 'managedCredential'
  | 'useIdentityRbac'
  | 'webhookVersion'
  // Test Binding's stages: the chain proven end to end rather than compared.
  | 'token'
  | 'exchange'
  | 'keyVault';

export interface CheckResult {
  /** Unique within a report; vault checks carry the vault's name. */
  key: string;
  id: CheckId;
  title: string;
  status: CheckStatus;
  message: string;
  /** The values compared. */
  evidence: { label: string; value: string }[];
  fix?: Fix;
}

export interface VerifyReport {
  target: Binding;
  checkedAt: string;
  checks: CheckResult[];
  identity?: IdentityInfo;
  /** What the checks cannot see but the user should know. */
  notes: string[];
}
