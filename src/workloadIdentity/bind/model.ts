import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { AccessPolicy, RoleAssignmentInfo, VaultDetails } from '../../azure/vaults';
import type { Permission } from '../../azure/keyVaultRoles';
import type { KubeTarget, ServiceAccountInfo } from '../../kube/access';
import type { ResourceRef } from '../../azure/resourceId';
import type { IdentityBindingInfo } from '../../azure/identityBindings';
import type { Logger } from '../../log';
import type { ClusterApi, ClusterSummary } from '../cluster';
import type { VaultSummary } from '../inventory';
import type { Binding } from '../binding';

export type IdentityChoice =
  | { kind: 'existing'; identity: IdentityInfo }
  | { kind: 'new'; subscriptionId: string; resourceGroup: string; name: string; location: string };

/**
 * How the pods' tokens reach the identity: a federated credential per cluster and ServiceAccount (direct), or AKS's
 * identity binding, one shared credential for any number of clusters, with Kubernetes RBAC saying which
 * ServiceAccounts may use the identity.
 */
export type BindMode = 'direct' | 'identityBinding';

/** Everything the user answered: a binding with its vault, identity and permissions chosen. */
export interface BindRequest extends Binding {
  vault: VaultSummary;
  identity: IdentityChoice;
  permissions: Permission[];
  /** Direct federation when absent. */
  mode?: BindMode;
}

/** What Bind needs from Azure and the cluster. The real gateways implement it; nothing here imports an SDK. */
export interface BindDeps {
  clusters: ClusterApi;
  identities: {
    find(ref: Omit<ResourceRef, 'id'>, signal?: AbortSignal): Promise<IdentityInfo | undefined>;
    create(ref: Omit<ResourceRef, 'id'>, location: string, signal?: AbortSignal): Promise<IdentityInfo>;
    listCredentials(identity: ResourceRef, signal?: AbortSignal): Promise<CredentialInfo[]>;
    putCredential(identity: ResourceRef, credential: CredentialInfo, signal?: AbortSignal): Promise<CredentialInfo>;
  };
  vaults: {
    get(ref: ResourceRef, signal?: AbortSignal): Promise<VaultDetails>;
    addAccessPolicy(ref: ResourceRef, policy: AccessPolicy, signal?: AbortSignal): Promise<void>;
    roleAssignmentsFor(
      scope: string,
      subscriptionId: string,
      principalId: string,
      signal?: AbortSignal,
    ): Promise<RoleAssignmentInfo[]>;
    createRoleAssignment(
      scope: string,
      subscriptionId: string,
      name: string,
      roleGuid: string,
      principalId: string,
      signal?: AbortSignal,
    ): Promise<void>;
  };
  /** managedClusters/identityBindings (identity-binding mode). */
  identityBindings: {
    list(cluster: ResourceRef, signal?: AbortSignal): Promise<IdentityBindingInfo[]>;
    put(
      cluster: ResourceRef,
      name: string,
      identityId: string,
      opts?: { signal?: AbortSignal; onProgress?: (status: string) => void },
    ): Promise<IdentityBindingInfo>;
  };
  /** Connects once per flow; the kubeconfig stays in memory. */
  kube(cluster: ClusterSummary): Promise<KubeTarget>;
  log: Logger;
  /** Waits between retries (tests pass a fast one). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export type Outcome = 'create' | 'update' | 'unchanged';

/** One line of the plan, and later of the report. */
export interface StepRecord {
  id: BindStepId;
  title: string;
  /** The exact resource the step touches. */
  resource: string;
  planned: Outcome | 'blocked';
  detail?: string;
  result?: 'created' | 'updated' | 'unchanged' | 'failed' | 'notRun';
}

export type BindStepId =
  | 'cluster'
  | 'identity'
  | 'namespace'
  | 'vault'
  | 'serviceAccount'
  | 'credential'
  | 'identityBinding'
  | 'managedCredential'
  | 'useIdentityRbac';

/** The steps of each mode, in the order the review lists them. */
export const STEPS_OF: Record<BindMode, BindStepId[]> = {
  direct: ['cluster', 'identity', 'namespace', 'vault', 'serviceAccount', 'credential'],
  identityBinding: [
    'cluster',
    'identity',
    'namespace',
    'vault',
    'serviceAccount',
    'identityBinding',
    'managedCredential',
    'useIdentityRbac',
  ],
};

export const stepTitle = (id: BindStepId): string =>
  ({
    cluster: l10n.t('Enable the OIDC issuer and workload identity on the cluster'),
    identity: l10n.t('User-assigned managed identity'),
    namespace: l10n.t('Namespace'),
    vault: l10n.t('Key Vault access'),
    serviceAccount: l10n.t('ServiceAccount annotated with the client id'),
    credential: l10n.t('Federated identity credential'),
    identityBinding: l10n.t('Identity binding on the cluster'),
    managedCredential: l10n.t("AKS's federated credential for identity bindings"),
    useIdentityRbac: l10n.t('Kubernetes RBAC: the ServiceAccount may use the identity'),
  })[id];

/** What the execute steps learn and hand to each other. */
export interface BindState {
  request: BindRequest;
  records: Map<BindStepId, StepRecord>;
  issuerUrl?: string;
  identity?: IdentityInfo;
  /** Created by this run: it can have no credentials or grants yet, so those are not read. */
  identityCreated?: boolean;
  kube?: KubeTarget;
  /** The vault, read when the run starts: reading it needs no identity, so it does not wait for one. */
  vault?: Promise<VaultDetails>;
  credential?: CredentialInfo;
  /** Identity-binding mode: the binding as AKS answered it. */
  identityBinding?: IdentityBindingInfo;
  /**
   * Another cluster's run makes the identity and the grant in this same Bind: this run's identity and grant steps
   * take what it found or made once it has (undefined where it did not get that far: then they read for themselves).
   */
  shared?: SharedSteps;
  /** The ServiceAccount, read as soon as the cluster is reached: reading it needs no identity either. */
  serviceAccount?: Promise<ServiceAccountInfo | undefined>;
}

/**
 * What the first cluster's run of a Bind to several clusters found or made for all of them, each as soon as its step
 * has ended (undefined or false where it did not get that far: the others then read for themselves).
 */
export interface SharedSteps {
  identity: Promise<IdentityInfo | undefined>;
  granted: Promise<boolean>;
}

export interface BindResult {
  request: BindRequest;
  records: StepRecord[];
  issuerUrl: string;
  identity: IdentityInfo;
  credential: CredentialInfo;
  kubeMode: KubeTarget['mode'];
}
