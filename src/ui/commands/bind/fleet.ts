import * as vscode from 'vscode';
import { describeError, errorNamed, type IncompleteRunError, type StepError } from '../../../errors';
import {
  clusterRequest,
  overBudget,
  planFleet,
  runFleet,
  type FleetOutcome,
  type FleetPlan,
  type FleetRequest,
} from '../../../workloadIdentity/bind/fleet';
import { BACK, type Prompter } from '../../../wizard/prompter';
import type { AzureSession } from '../../auth';
import type { CommandContext } from '../../context';
import { withCancellableProgress } from '../../progress';
import { BindWizardContext, bindTitle, fleetRequestOf } from '../../prompts/newBinding';
import { modeItems } from './mode';
import { exportRequest } from '../../prompts/exportFormat';
import type { BindDeps } from '../../../workloadIdentity/bind/model';
import { markDone } from '../../walkthrough';
import { writeBindingManifest } from './manifest';
import { plannedLabel } from './plannedLabel';

/**
 * Bind with several clusters (checked in the palette or selected in the tree): the same answers on each (the namespace
 * and ServiceAccount are the same on each cluster), one review with a block per cluster and the identity's credential
 * budget before and after, then Bind's run on each cluster; a cluster that fails does not stop the others, and Retry
 * binds only those.
 */
export async function reviewFleet(
  prompter: Prompter,
  session: AzureSession,
  deps: BindDeps,
  wizard: BindWizardContext,
): Promise<'run' | 'back' | 'dismissed'> {
  for (;;) {
    const request = fleetRequestOf(wizard);
    const plan = await withCancellableProgress(
      vscode.l10n.t('{0}: planning {1} clusters', bindTitle(), request.clusters.length),
      (_report, signal) => planFleet(request, deps, signal),
    );
    const v = await pickFromPlan(prompter, request, plan);
    if (v === BACK) return 'back';
    if (v === undefined) return 'dismissed';
    if (v === 'run') return 'run';
    if (v === 'export') await exportRequest(prompter, session.services, request);
    if (v === 'switch') wizard.mode = request.mode === 'identityBinding' ? 'direct' : 'identityBinding';
  }
}

/** The review of one plan; switching the mode plans again. */
async function pickFromPlan(prompter: Prompter, request: FleetRequest, plan: FleetPlan) {
  const over = overBudget(plan);
  const blocked = over || plan.clusters.some((c) => c.steps.some((s) => s.planned === 'blocked'));
  const changes = plan.clusters.reduce(
    (n, c) => n + c.steps.filter((s) => s.planned === 'create' || s.planned === 'update').length,
    0,
  );
  const budget = vscode.l10n.t(
    '$(key) Federated credentials on the identity: {0} now, {1} after, of {2}',
    plan.budget.before,
    plan.budget.after,
    plan.budget.limit,
  );
  const waysOut = [
    vscode.l10n.t('$(arrow-left) Bind fewer clusters: select fewer in the tree'),
    vscode.l10n.t(
      '$(trash) Clean up credentials that name no cluster you can see: Clean Up Credentials… on the identity',
    ),
  ];
  for (;;) {
    const v = await prompter.pick<'run' | 'line' | 'export' | 'switch'>({
      title: vscode.l10n.t('{0}: review', bindTitle()),
      placeholder: over
        ? vscode.l10n.t(
            'The identity would hold {0} federated credentials, over the limit of {1}: nothing has been written',
            plan.budget.after,
            plan.budget.limit,
          )
        : blocked
          ? vscode.l10n.t('A step cannot run; go back and change your answers')
          : vscode.l10n.t(
              '{0} changes on {1} clusters; nothing has been written yet',
              changes,
              request.clusters.length,
            ),
      items: [
        blocked
          ? { label: vscode.l10n.t('$(error) Cannot bind: see the lines below'), value: 'line' as const }
          : {
              label: vscode.l10n.t('$(check) Bind: {0} clusters', request.clusters.length),
              description: vscode.l10n.t('confirm'),
              value: 'run' as const,
            },
        {
          label: vscode.l10n.t('$(export) Export as…'),
          description: vscode.l10n.t(
            'an az script, Bicep or Terraform that loops over the clusters; nothing is written to Azure',
          ),
          value: 'export' as const,
        },
        { label: budget, value: 'line' as const },
        ...(over ? waysOut.map((label) => ({ label, value: 'line' as const })) : []),
        ...modeItems(request.mode ?? 'direct', over),
        ...plan.clusters.flatMap(({ cluster, steps }) => [
          { label: `$(server-environment) ${cluster.name}`, value: 'line' as const },
          ...steps.map((s) => ({
            label: `    ${plannedLabel(s.planned)}: ${s.title}`,
            description: s.resource,
            detail: s.detail,
            value: 'line' as const,
          })),
        ]),
      ],
    });
    if (v !== 'line') return v;
  }
}

export async function executeFleet(
  ctx: CommandContext,
  session: AzureSession,
  prompter: Prompter,
  request: FleetRequest,
): Promise<FleetOutcome[]> {
  const deps = session.services.bindDeps();
  const outcomes = await withCancellableProgress(
    vscode.l10n.t(
      'Binding {0} to {1}/{2} on {3} clusters',
      request.vault.name,
      request.namespace,
      request.serviceAccount,
      request.clusters.length,
    ),
    (progress, signal) =>
      runFleet(request, deps, {
        signal,
        progress,
        runClusterUpdate: (id, fn) => ctx.clusterUpdates.run(id, fn).promise,
      }),
  );
  ctx.tree.refresh();
  const bound = outcomes.filter((o): o is Extract<FleetOutcome, { result: unknown }> => 'result' in o);
  for (const o of bound) await writeBindingManifest(session, prompter, clusterRequest(request, o.cluster), o.result);
  if (bound.length) markDone('bound');
  const failed = outcomes.filter((o): o is Extract<FleetOutcome, { error: unknown }> => 'error' in o);
  for (const o of outcomes)
    ctx.log.info(
      `Bind (several clusters): ${o.cluster.name}: ${'result' in o ? 'bound' : describeError(o.error).message}`,
    );
  if (!failed.length) {
    void prompter.notify(
      'info',
      vscode.l10n.t(
        'Bound {0} to {1}/{2} on {3} clusters: {4}.',
        request.vault.name,
        request.namespace,
        request.serviceAccount,
        bound.length,
        bound.map((o) => o.cluster.name).join(', '),
      ),
    );
    return outcomes;
  }
  const why = failed
    .map((o) => {
      const cause = errorNamed(o.error, 'IncompleteRunError')
        ? ((o.error as IncompleteRunError).cause as StepError)
        : undefined;
      const d = describeError(cause ?? o.error);
      return vscode.l10n.t('{0} stopped at "{1}": {2}', o.cluster.name, cause?.step ?? d.code, d.message);
    })
    .join(' ');
  const retry = vscode.l10n.t('Retry');
  const action = await prompter.notify(
    'error',
    vscode.l10n.t(
      'Bound on {0} of {1} clusters. {2} Retry binds only the clusters that failed.',
      bound.length,
      outcomes.length,
      why,
    ),
    retry,
  );
  if (action !== retry) return outcomes;
  const again = await executeFleet(ctx, session, prompter, { ...request, clusters: failed.map((o) => o.cluster) });
  return [...bound, ...again];
}
