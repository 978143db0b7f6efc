import { runSteps } from '../../wizard/wizard';
import * as l10n from '@vscode/l10n';
import { IncompleteRunError, StepError, errorNamed } from '../../errors';
import type { Removal, RemoveDeps, RemovePlan } from './model';
import { RemoveState, removeSteps } from './steps';

/** A failed or cancelled Remove: what is removed and what is not. Retry runs the same plan again and finishes. */
function incomplete(e: unknown, removals: Removal[]) {
  const planned = removals.filter((r) => r.decision === 'remove');
  const gone = (r: Removal) => r.result === 'removed' || r.result === 'alreadyGone';
  const line = (r: Removal) => l10n.t('{0}: {1}', r.title, r.resource);
  return new IncompleteRunError(
    l10n.t('Remove Binding'),
    e,
    removals,
    planned.filter(gone).map(line),
    planned.filter((r) => !gone(r)).map(line),
  );
}

/**
 * Runs the reviewed plan. Lines already removed by an earlier attempt are skipped; every other line reads first,
 * so a rerun after any failure converges and a second Remove changes nothing.
 */
export async function runRemove(
  plan: RemovePlan,
  deps: RemoveDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<Removal[]> {
  if (plan.unreadable.length)
    throw new StepError(
      l10n.t('Remove Binding'),
      'Unreadable',
      l10n.t('Could not read {0}. Nothing was removed.', plan.unreadable.join('; ')),
    );
  const progress = opts.progress ?? (() => undefined);
  for (const r of plan.removals)
    if (r.decision === 'remove' && r.result !== 'removed' && r.result !== 'alreadyGone') r.result = undefined;
  const state: RemoveState = { plan };
  try {
    await runSteps(removeSteps(deps), state, progress, opts.signal, (s, phase) => {
      if (phase !== 'skipped') deps.log.info(`Remove: ${s.title}: ${phase}`);
    });
  } catch (e) {
    for (const r of plan.removals) if (r.decision === 'remove' && !r.result) r.result = 'notRun';
    const failure = incomplete(e, plan.removals);
    deps.log.error(
      `Remove stopped at "${errorNamed(failure.cause, 'StepError') ? (failure.cause as StepError).step : 'cancel'}": ${failure.message}`,
    );
    throw failure;
  }
  for (const r of plan.removals)
    deps.log.info(`Remove: ${r.title} ${r.resource}: ${r.decision === 'remove' ? r.result : r.decision}`);
  return plan.removals;
}
