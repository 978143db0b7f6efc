import * as l10n from '@vscode/l10n';
import { errorMessage } from '../../errors';
import { runSteps } from '../../wizard/wizard';
import type { ConnectDeps, ConnectResult, ConnectState } from './model';
import { connectSteps } from './steps';

/**
 * Runs the reviewed change: each step reads first and does only what is missing, so a rerun after any failure (or
 * Retry) finishes the work without writing twice.
 */
export async function runConnect(
  state: Omit<ConnectState, 'records' | 'done' | 'pods'>,
  deps: ConnectDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<ConnectResult> {
  const s: ConnectState = { ...state, records: new Map() };
  const progress = opts.progress ?? (() => undefined);
  try {
    await runSteps(connectSteps(deps), s, progress, opts.signal, (step, phase) => {
      if (phase === 'start') progress(l10n.t('{0}…', step.title));
      if (phase !== 'skipped')
        deps.log.info(
          `Connect: ${step.title}: ${phase === 'done' ? (s.records.get(step.id as never)?.result ?? 'done') : phase}`,
        );
    });
  } catch (e) {
    deps.log.error(`Connect stopped: ${errorMessage(e)}`);
    throw e;
  }
  return { change: s.change, records: s.records, done: s.done!, ...(s.pods ? { pods: s.pods } : {}) };
}
