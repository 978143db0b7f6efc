import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { Logger } from '../../log';
import type { RemoveDeps } from '../remove/model';

/** Clean Up reads an identity's credentials and deletes the ones the user checked, through Remove's credential step. */
export interface CleanupDeps {
  identities: RemoveDeps['identities'] & {
    listCredentials(identity: IdentityInfo, signal?: AbortSignal): Promise<CredentialInfo[]>;
  };
  log: Logger;
}

/** A credential that looks orphaned, and why. */
export interface OrphanCandidate {
  credential: CredentialInfo & { subject: string };
  why: string;
}

export interface CleanupPlan {
  identity: IdentityInfo;
  candidates: OrphanCandidate[];
  /** How many credentials the identity holds now, of its 20. */
  used: number;
}
