import type { TokenCredential } from '@azure/core-auth';
import type { AzureCloud } from '../../auth/cloud';
import type { Permission } from '../../azure/keyVaultRoles';
import type { VerifyDeps } from '../verify/model';
import type { ClusterSummary } from '../cluster';

/** What a Key Vault GET answered: the status and the service's error code, never a value. */
export interface VaultAnswer {
  status: number;
  code: string;
  message: string;
}

/** Test Binding reads through Verify's gateways, and adds the exchange a pod's SDK makes and Key Vault's data plane. */
export interface ProbeDeps extends VerifyDeps {
  cloud: Pick<AzureCloud, 'name' | 'activeDirectoryEndpoint' | 'keyVaultResource'>;
  /** The tenant the user signed in to: the exchange's tenant when neither the identity nor the ServiceAccount names one. */
  signedInTenantId?: string;
  /** The identity's credential as a pod holds it: it presents the ServiceAccount token to Microsoft Entra ID. */
  workloadCredential(tenantId: string, clientId: string, assertion: () => Promise<string>): TokenCredential;
  /** GET of `<kind>/<name>` in the vault with that credential. */
  probeVault(
    vaultUri: string,
    kind: Permission,
    name: string,
    credential: TokenCredential,
    signal?: AbortSignal,
  ): Promise<VaultAnswer>;
  /**
   * A command through AKS run-command (kubectl inside the cluster, with the signed-in user's rights), with files it
   * can read; what it printed. Public and private clusters alike.
   */
  runInCluster(
    cluster: ClusterSummary,
    command: string,
    files: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ exitCode: number; logs: string }>;
  /** GET of a secret the user named: its answer's status only; a 200's body is dropped unread. */
  readSecretStatus(
    vaultUri: string,
    name: string,
    credential: TokenCredential,
    signal?: AbortSignal,
  ): Promise<VaultAnswer>;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /** What the test is doing now, for the progress notification. */
  progress?: (message: string) => void;
  /** How long to keep trying while a new credential or role assignment propagates. */
  propagationWaitMs: number;
  /** A secret the workload reads: tested for being readable, its value never read. */
  secretName?: string;
}

/** The claims a ServiceAccount token presents; the token itself is never kept or shown. */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
}
