import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { ClusterSummary } from '../cluster';
import { groupCredentials } from '../credentialBudget';
import type { Removal } from '../remove/model';
import { removalTitle } from '../remove/model';
import type { CleanupPlan, OrphanCandidate } from './model';

/**
 * The identity's credentials that name no cluster you can see. Other tools' credentials and those without a subject
 * are never candidates; a trailing-slash near miss belongs to its cluster (Verify fixes it).
 */
export function planCleanup(
  identity: IdentityInfo,
  credentials: CredentialInfo[],
  clusters: ClusterSummary[],
): CleanupPlan {
  const orphans = groupCredentials(credentials, clusters).find((g) => g.kind === 'noKnownCluster');
  const candidates: OrphanCandidate[] = (orphans?.credentials ?? [])
    .filter((c): c is CredentialInfo & { subject: string } => c.subject !== undefined)
    .map((credential) => ({
      credential,
      why: l10n.t(
        'No cluster in the selected subscriptions has the issuer {0}: a deleted or rebuilt cluster, or one in a subscription that is not selected.',
        credential.issuer,
      ),
    }));
  return { identity, candidates, used: credentials.length };
}

/** The checked candidates as Remove's lines: each is read again before it is deleted. */
export const cleanupRemovals = (identity: IdentityInfo, chosen: OrphanCandidate[]): Removal[] =>
  chosen.map(({ credential: c, why }) => ({
    key: `credential:${c.name.toLowerCase()}`,
    kind: 'credential' as const,
    title: removalTitle('credential'),
    resource: c.name,
    decision: 'remove' as const,
    detail: why,
    credential: { identity, name: c.name, issuer: c.issuer, subject: c.subject },
  }));
