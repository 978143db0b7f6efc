import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { BindDeps, StepRecord } from '../bind/model';
import type { Binding } from '../binding';
import type { ClusterSummary } from '../cluster';
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
