import * as l10n from '@vscode/l10n';
import { IncompleteRunError, errorMessage } from '../../errors';
import { runSteps } from '../../wizard/wizard';
import type { Removal } from '../remove/model';
import { credentialRemovalStep } from '../remove/steps';
import type { CleanupDeps } from './model';

/**
 * Deletes the checked credentials, each read first (one already gone is reported as such), one at a time on the
 * identity as Azure requires. A rerun after a failure, or Retry, deletes only what is left; a second run deletes
 * nothing.
 */
export async function runCleanup(
  removals: Removal[],
  deps: CleanupDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<Removal[]> {
  const progress = opts.progress ?? (() => undefined);
  const gone = (r: Removal) => r.result === 'removed' || r.result === 'alreadyGone';
  for (const r of removals) if (!gone(r)) r.result = undefined;
  try {
    await runSteps([credentialRemovalStep(deps)], { plan: { removals } }, progress, opts.signal);
  } catch (e) {
    for (const r of removals) if (!r.result) r.result = 'notRun';
    deps.log.error(`Clean Up Credentials stopped: ${errorMessage(e)}`);
    const line = (r: Removal) => l10n.t('{0}: {1}', r.title, r.resource);
    throw new IncompleteRunError(
      l10n.t('Clean Up Credentials'),
      e,
      removals,
      removals.filter(gone).map(line),
      removals.filter((r) => !gone(r)).map(line),
    );
  }
  for (const r of removals) deps.log.info(`Clean Up Credentials: ${r.resource}: ${r.result}`);
  return removals;
}
