import { runSteps } from '../../wizard/wizard';
import { CancelledError, StepError, describeError, isAbort } from '../errors';
import { BindDeps, BindRequest, BindResult, BindState, BindStepId, STEP_TITLES, StepRecord } from './model';
import { bindSteps } from './steps';

const ORDER: BindStepId[] = ['cluster', 'identity', 'namespace', 'vault', 'serviceAccount', 'credential'];

/** A failed or cancelled run: which step, why, and what exists now. Rerunning Bind completes the work. */
export class BindIncompleteError extends Error {
  constructor(override readonly cause: StepError | CancelledError, readonly records: StepRecord[]) {
    super(cause.message);
    this.name = 'BindIncompleteError';
  }

  get cancelled() { return this.cause instanceof CancelledError; }

  /** Lines for the user: what is in place and what is not. */
  summary(): { done: string[]; notDone: string[] } {
    const done = this.records.filter((r) => r.result === 'created' || r.result === 'updated' || r.result === 'unchanged')
      .map((r) => `${r.title}: ${r.resource} (${r.result === 'unchanged' ? 'already in place' : r.result})`);
    const notDone = this.records.filter((r) => r.result === 'failed' || r.result === 'notRun' || r.result === undefined).map((r) => `${r.title}: ${r.resource}`);
    return { done, notDone };
  }
}

/**
 * Runs Bind: every step reads first and does only what is missing, so a rerun after any failure completes the
 * work without duplicates. Independent steps run at the same time.
 */
export async function runBind(request: BindRequest, deps: BindDeps, opts: {
  signal: AbortSignal;
  progress?: (message: string) => void;
  runClusterUpdate?: <T>(clusterId: string, fn: () => Promise<T>) => Promise<T>;
}): Promise<BindResult> {
  const records = new Map<BindStepId, StepRecord>(ORDER.map((id) => [id, { id, title: STEP_TITLES[id], resource: resourceOf(id, request), planned: 'unchanged' as const }]));
  const state: BindState = { request, records, vault: deps.vaults.get(request.vault, opts.signal) };
  state.vault!.catch(() => undefined); // a failed read fails the vault step, where it is reported
  const progress = opts.progress ?? (() => undefined);
  try {
    await runSteps(bindSteps(deps, opts.runClusterUpdate), state, progress, opts.signal, (s, phase) => {
      if (phase === 'start') progress(`${s.title}…`);
      deps.log.info(`Bind: ${s.title}: ${phase === 'done' ? records.get(s.id as BindStepId)!.result : phase}`);
    });
  } catch (e) {
    for (const r of records.values()) if (!r.result) r.result = 'notRun';
    const cause = e instanceof StepError || e instanceof CancelledError ? e : isAbort(e) ? new CancelledError() : new StepError('Bind', describeError(e).code, describeError(e).message);
    deps.log.error(`Bind stopped at "${cause instanceof StepError ? cause.step : 'cancel'}": ${cause.message}`);
    throw new BindIncompleteError(cause, [...records.values()]);
  }
  return { request, records: [...records.values()], issuerUrl: state.issuerUrl!, identity: state.identity!, credential: state.credential!, kubeMode: state.kube!.mode };
}

function resourceOf(id: BindStepId, r: BindRequest): string {
  const identityName = r.identity.kind === 'existing' ? r.identity.identity.name : r.identity.name;
  switch (id) {
    case 'cluster': return r.cluster.name;
    case 'identity': return identityName;
    case 'namespace': return r.namespace;
    case 'vault': return r.vault.name;
    case 'serviceAccount': return `${r.namespace}/${r.serviceAccount}`;
    case 'credential': return `system:serviceaccount:${r.namespace}:${r.serviceAccount} on ${identityName}`;
  }
}
