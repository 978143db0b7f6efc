import { runSteps } from '../../wizard/wizard';
import { CancelledError, StepError, describeError, isAbort } from '../errors';
import type { Removal, RemoveDeps, RemovePlan } from './model';
import { RemoveState, removeSteps } from './steps';

/** A failed or cancelled run: what is removed and what is not. Retry runs the same plan again and finishes. */
export class RemoveIncompleteError extends Error {
  constructor(override readonly cause: StepError | CancelledError, readonly removals: Removal[]) {
    super(cause.message);
    this.name = 'RemoveIncompleteError';
  }

  get cancelled() { return this.cause instanceof CancelledError; }

  summary(): { done: string[]; notDone: string[] } {
    const planned = this.removals.filter((r) => r.decision === 'remove');
    return {
      done: planned.filter((r) => r.result === 'removed' || r.result === 'alreadyGone').map((r) => `${r.title}: ${r.resource}`),
      notDone: planned.filter((r) => r.result !== 'removed' && r.result !== 'alreadyGone').map((r) => `${r.title}: ${r.resource}`),
    };
  }
}

/**
 * Runs the reviewed plan. Lines already removed by an earlier attempt are skipped; every other line reads first,
 * so a rerun after any failure converges and a second Remove changes nothing.
 */
export async function runRemove(plan: RemovePlan, deps: RemoveDeps, opts: { signal: AbortSignal; progress?: (message: string) => void }): Promise<Removal[]> {
  if (plan.unreadable.length) throw new StepError('Remove Binding', 'Unreadable', `Could not read ${plan.unreadable.join('; ')}. Nothing was removed.`);
  const progress = opts.progress ?? (() => undefined);
  for (const r of plan.removals) if (r.decision === 'remove' && r.result !== 'removed' && r.result !== 'alreadyGone') r.result = undefined;
  const state: RemoveState = { plan };
  try {
    await runSteps(removeSteps(deps), state, progress, opts.signal, (s, phase) => { if (phase !== 'skipped') deps.log.info(`Remove: ${s.title}: ${phase}`); });
  } catch (e) {
    for (const r of plan.removals) if (r.decision === 'remove' && !r.result) r.result = 'notRun';
    const cause = e instanceof StepError || e instanceof CancelledError ? e : isAbort(e) ? new CancelledError() : new StepError('Remove Binding', describeError(e).code, describeError(e).message);
    deps.log.error(`Remove stopped at "${cause instanceof StepError ? cause.step : 'cancel'}": ${cause.message}`);
    throw new RemoveIncompleteError(cause, plan.removals);
  }
  for (const r of plan.removals) deps.log.info(`Remove: ${r.title} ${r.resource}: ${r.decision === 'remove' ? r.result : r.decision}`);
  return plan.removals;
}
