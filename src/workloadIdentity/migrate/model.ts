import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { BindDeps, StepRecord } from '../bind/model';
import type { Binding } from '../binding';
import type { ClusterSummary } from '../cluster';
import type { LivePlan } from '../connect/live';
import type { ConnectPlan } from '../connect/workspace';
import type { Removal } from '../remove/model';
import type { RemoveDeps } from '../remove/model';

/**
 * Migrate to identity bindings: an identity's direct bindings move, cluster by cluster, to an identity binding. First
 * both work (the binding and its RBAC beside the direct credentials); the direct credentials go only after the user
 * says the workloads run through the binding.
 */
export interface MigrateRequest {
  identity: IdentityInfo;
  /** The direct bindings found from the identity's credentials, each with its credential. */
  bindings: (Binding & { credential: CredentialInfo })[];
}

export interface ClusterMigration {
  cluster: ClusterSummary;
  /** The ServiceAccounts the identity serves on the cluster. */
  serviceAccounts: { namespace: string; name: string }[];
  /** Identity-binding steps, as Bind plans them; blocked where the cluster cannot have one. */
  steps: StepRecord[];
}

export interface MigratePlan {
  request: MigrateRequest;
  clusters: ClusterMigration[];
  /** The direct credentials the last phase deletes, once the workloads run through the bindings. */
  retire: Removal[];
}

export type MigrateDeps = BindDeps & Pick<RemoveDeps, 'identities'>;

/**
 * A workload that runs as a migrated ServiceAccount, with Connect's edit that switches it to the identity binding: the
 * pod template's annotation azure.workload.identity/use-identity-binding (and the label, if it lacked it).
 */
export type WorkloadSwitch =
  | { where: 'file'; binding: Binding; plan: ConnectPlan }
  | { where: 'cluster'; binding: Binding; plan: LivePlan }
  | { where: 'secretsFile'; binding: Binding; plan: SecretProviderClassSwitch }
  | { where: 'secretsCluster'; binding: Binding; plan: SecretProviderClassSwitch };

/**
 * A SecretProviderClass that mounts the identity's secrets (its clientID): the CSI driver's Azure provider exchanges
 * directly unless `useAzureTokenProxy: "true"`, and that stops working once the direct credentials go.
 */
export interface SecretProviderClassSwitch {
  name: string;
  namespace: string;
  /** In the workspace: the file and the document's index in it. */
  path?: string;
  index?: number;
  changes: string[];
  warnings: string[];
}

/** A switch of a SecretProviderClass (in a file or in the cluster), not of a workload. */
export const isClassSwitch = (s: WorkloadSwitch) => s.where === 'secretsFile' || s.where === 'secretsCluster';

/** The workloads found both ways; the user picks one way (or none) before the review. */
export interface WorkloadSwitches {
  inWorkspace: WorkloadSwitch[];
  inCluster: WorkloadSwitch[];
  /** Workloads Connect cannot change live (a Job's pod template): named in the review, with why. */
  blocked: { name: string; reason: string }[];
  /** Files or clusters that could not be read: said in the review, never taken as "no workload". */
  unreadable: string[];
}

export const switchName = (s: WorkloadSwitch) =>
  s.where === 'file'
    ? `${s.plan.candidate.workload.kind} ${s.plan.candidate.workload.name} (${s.plan.candidate.path})`
    : s.where === 'cluster'
      ? `${s.plan.workload.kind} ${s.plan.workload.name} (${s.binding.cluster.name})`
      : `SecretProviderClass ${s.plan.name} (${s.plan.path ?? s.binding.cluster.name})`;
