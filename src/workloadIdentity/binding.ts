import type { ClusterSummary } from './cluster';
import type { VaultSummary } from './inventory';

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
