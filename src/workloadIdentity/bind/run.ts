import { runSteps } from '../../wizard/wizard';
import * as l10n from '@vscode/l10n';
import { IncompleteRunError, StepError, errorNamed } from '../../errors';
import {
  BindDeps,
  BindRequest,
  BindResult,
  BindState,
  BindStepId,
  STEPS_OF,
  SharedSteps,
  stepTitle,
  StepRecord,
} from './model';
import { IDENTITY_BINDING_CREDENTIAL } from '../../azure/identityBindings';
import { identityBindingName } from '../names';
import { RunClusterUpdate, bindSteps } from './steps';

/** A failed or cancelled Bind: what is in place and what is not. Rerunning Bind completes the work. */
function incomplete(e: unknown, records: StepRecord[]) {
  const result = (r: StepRecord) =>
    ({ created: l10n.t('created'), updated: l10n.t('updated'), unchanged: l10n.t('already in place') })[
      r.result as 'created'
    ];
  const done = records
    .filter((r) => r.result === 'created' || r.result === 'updated' || r.result === 'unchanged')
    .map((r) => l10n.t('{0}: {1} ({2})', r.title, r.resource, result(r)));
  const notDone = records
    .filter((r) => r.result === 'failed' || r.result === 'notRun' || r.result === undefined)
    .map((r) => l10n.t('{0}: {1}', r.title, r.resource));
  return new IncompleteRunError('Bind', e, records, done, notDone);
}

/**
 * Runs Bind: every step reads first and does only what is missing, so a rerun after any failure completes the
 * work without duplicates. Independent steps run at the same time.
 */
export async function runBind(
  request: BindRequest,
  deps: BindDeps,
  opts: {
    signal: AbortSignal;
    progress?: (message: string) => void;
    runClusterUpdate?: RunClusterUpdate;
    /** Each step as it ends, with what the run knows: a Bind to several clusters shares the identity and the grant. */
    onStepEnded?: (id: BindStepId, state: BindState) => void;
    /** Another run makes the identity and the grant (see BindState.shared); the vault is then not read up front. */
    shared?: SharedSteps;
  },
): Promise<BindResult> {
  const mode = request.mode ?? 'direct';
  const records = new Map<BindStepId, StepRecord>(
    STEPS_OF[mode].map((id) => [
      id,
      { id, title: stepTitle(id), resource: resourceOf(id, request), planned: 'unchanged' as const },
    ]),
  );
  const state: BindState = opts.shared
    ? { request, records, shared: opts.shared }
    : { request, records, vault: deps.vaults.get(request.vault, opts.signal) };
  state.vault?.catch(() => undefined); // a failed read fails the vault step, where it is reported
  const progress = opts.progress ?? (() => undefined);
  try {
    await runSteps(bindSteps(deps, opts.runClusterUpdate, mode), state, progress, opts.signal, (s, phase) => {
      if (phase === 'start') progress(l10n.t('{0}…', s.title));
      deps.log.info(`Bind: ${s.title}: ${phase === 'done' ? records.get(s.id as BindStepId)!.result : phase}`);
      if (phase !== 'start') opts.onStepEnded?.(s.id as BindStepId, state);
    });
  } catch (e) {
    for (const r of records.values()) if (!r.result) r.result = 'notRun';
    const failure = incomplete(e, [...records.values()]);
    deps.log.error(
      `Bind stopped at "${errorNamed(failure.cause, 'StepError') ? (failure.cause as StepError).step : 'cancel'}": ${failure.message}`,
    );
    throw failure;
  }
  return {
    request,
    records: [...records.values()],
    issuerUrl: state.issuerUrl!,
    identity: state.identity!,
    credential: state.credential!,
    kubeMode: state.kube!.mode,
  };
}

function resourceOf(id: BindStepId, r: BindRequest): string {
  const identityName = r.identity.kind === 'existing' ? r.identity.identity.name : r.identity.name;
  switch (id) {
    case 'cluster':
      return r.cluster.name;
    case 'identity':
      return identityName;
    case 'namespace':
      return r.namespace;
    case 'vault':
      return r.vault.name;
    case 'serviceAccount':
      return `${r.namespace}/${r.serviceAccount}`;
    case 'credential':
      return l10n.t('{0} on {1}', `system:serviceaccount:${r.namespace}:${r.serviceAccount}`, identityName);
    case 'identityBinding':
      return l10n.t('{0} on {1}', identityBindingName(identityName), r.cluster.name);
    case 'managedCredential':
      return l10n.t('{0} on {1}', IDENTITY_BINDING_CREDENTIAL, identityName);
    case 'useIdentityRbac':
      return l10n.t('use-mi-<client id> on {0}, for {1}/{2}', r.cluster.name, r.namespace, r.serviceAccount);
  }
}
