import * as vscode from 'vscode';
import type { BindRequest } from '../../../workloadIdentity/bind/model';
import { planBind } from '../../../workloadIdentity/bind/plan';
import { runBind } from '../../../workloadIdentity/bind/run';
import { BACK, Prompter } from '../../../wizard/prompter';
import { runPrompts } from '../../../wizard/wizard';
import { AzureSession } from '../../auth';
import { CommandContext } from '../../context';
import { remedyText, reportStoppedRun, runCommand } from '../command';
import { withCancellableProgress } from '../../progress';
import { markDone } from '../../walkthrough';
import type { ClusterNode, TreeNode, VaultNode } from '../../tree/nodes';
import { executeFleet, reviewFleet } from './fleet';
import {
  BindWizardContext,
  bindRequestOf,
  bindTitle,
  bindPromptSteps,
  chosenClusters,
  fleetRequestOf,
  identityBindingNeeds,
  newBindingWizard,
} from '../../prompts/newBinding';
import { writeBindingManifest } from './manifest';
import { plannedLabel } from './plannedLabel';
import { modeItems } from './mode';
import { exportRequest } from '../../prompts/exportFormat';

/**
 * Palette "Bind Key Vault…" (one cluster or several), a cluster's "Bind Key Vault…" (with several clusters selected:
 * all of them at once) and a vault's "Bind to AKS Cluster…".
 */
export function bindKeyVaultCommand(
  ctx: CommandContext,
  from?: { cluster?: ClusterNode; vault?: VaultNode; selected?: TreeNode[] },
) {
  const selected = (from?.selected ?? []).filter((n): n is ClusterNode => n.kind === 'cluster').map((n) => n.cluster);
  const clusters = selected.length > 1 ? selected : from?.cluster ? [from.cluster.cluster] : undefined;
  return runCommand<unknown>(ctx, bindTitle(), ({ session, prompter }) =>
    bind(ctx, session, prompter, { clusters, vault: from?.vault?.vault }),
  );
}

async function bind(
  ctx: CommandContext,
  session: AzureSession,
  prompter: Prompter,
  given: Pick<BindWizardContext, 'clusters' | 'vault'>,
) {
  const deps = session.services.bindDeps();
  const wizard = newBindingWizard(ctx, session, deps, given);
  for (;;) {
    await runPrompts(bindPromptSteps, wizard, prompter);
    const several = chosenClusters(wizard).length > 1;
    const confirmed = several
      ? await reviewFleet(prompter, session, deps, wizard)
      : await review(ctx, session, deps, wizard);
    if (confirmed === 'back') {
      wizard.permissions = undefined;
      continue;
    }
    if (confirmed === 'dismissed') return;
    prompter.doneAsking();
    return several
      ? await executeFleet(ctx, session, prompter, fleetRequestOf(wizard))
      : await execute(ctx, session, deps, bindRequestOf(wizard));
  }
}

/** The plan: each step, the exact resource, and whether it is created, changed or already in place. */
async function review(
  ctx: CommandContext,
  session: AzureSession,
  deps: ReturnType<AzureSession['services']['bindDeps']>,
  wizard: BindWizardContext,
): Promise<'run' | 'back' | 'dismissed'> {
  const prompter = ctx.prompter();
  let plan = planBind(bindRequestOf(wizard), deps);
  for (;;) {
    const request = bindRequestOf(wizard);
    const steps = await plan;
    const blocked = steps.some((s) => s.planned === 'blocked');
    const changes = steps.filter((s) => s.planned === 'create' || s.planned === 'update').length;
    const budgetFull = steps.some((s) => s.id === 'credential' && s.planned === 'blocked');
    const v = await prompter.pick<'run' | 'line' | 'export' | 'switch'>({
      title: vscode.l10n.t('{0}: review', bindTitle()),
      placeholder: blocked
        ? vscode.l10n.t('A step cannot run; go back and change your answers')
        : changes === 1
          ? vscode.l10n.t('1 change; nothing has been written yet')
          : vscode.l10n.t('{0} changes; nothing has been written yet', changes),
      items: [
        blocked
          ? { label: vscode.l10n.t('$(error) Cannot bind: see the blocked step'), value: 'line' as const }
          : {
              label:
                changes === 1
                  ? vscode.l10n.t('$(check) Bind: make 1 change')
                  : vscode.l10n.t('$(check) Bind: make {0} changes', changes),
              description: vscode.l10n.t('confirm'),
              value: 'run' as const,
            },
        {
          label: vscode.l10n.t('$(export) Export as…'),
          description: vscode.l10n.t('an az script, Bicep or Terraform of this plan; nothing is written to Azure'),
          value: 'export' as const,
        },
        ...modeItems(request.mode ?? 'direct', budgetFull),
        ...steps.map((s) => ({
          label: `${plannedLabel(s.planned)}: ${s.title}`,
          description: s.resource,
          detail: s.detail,
          value: 'line' as const,
        })),
      ],
    });
    if (v === BACK) return 'back';
    if (v === undefined) return 'dismissed';
    if (v === 'run') return 'run';
    if (v === 'export') await exportRequest(prompter, session.services, request);
    if (v === 'switch') {
      wizard.mode = request.mode === 'identityBinding' ? 'direct' : 'identityBinding';
      plan = planBind(bindRequestOf(wizard), deps);
    }
  }
}

async function execute(
  ctx: CommandContext,
  session: AzureSession,
  deps: ReturnType<AzureSession['services']['bindDeps']>,
  request: BindRequest,
) {
  const prompter = ctx.prompter();
  try {
    const result = await withCancellableProgress(
      vscode.l10n.t(
        'Binding {0} to {1}/{2} on {3}',
        request.vault.name,
        request.namespace,
        request.serviceAccount,
        request.cluster.name,
      ),
      (report, signal) =>
        runBind(request, deps, {
          signal,
          progress: report,
          runClusterUpdate: (id, fn) => ctx.clusterUpdates.run(id, fn).promise,
        }),
    );
    void ctx.tree
      .refreshCluster(request.cluster)
      .then((c) => c && ctx.tree.refreshBindings(c))
      .catch(() => undefined);
    const manifest = await writeBindingManifest(session, prompter, request, result);
    markDone('bound');
    ctx.log.info(
      `Bound ${request.vault.name} to ${request.namespace}/${request.serviceAccount} on ${request.cluster.name}: client id ${result.identity.clientId}, credential ${result.credential.name}.`,
    );
    const [testNow, connect, copyClientId, openManifest] = [
      vscode.l10n.t('Test now'),
      vscode.l10n.t('Connect a workload'),
      vscode.l10n.t('Copy Client ID'),
      vscode.l10n.t('Open Manifest'),
    ];
    const actions = [testNow, connect, copyClientId, ...(manifest.kind !== 'none' ? [openManifest] : [])];
    void prompter
      .notify(
        'info',
        vscode.l10n.t(
          'Bound {0} to {1}/{2} on {3}. Client ID: {4}. Issuer: {5}. Credential: {6}. Token exchange can fail for a few minutes while the credential propagates (AADSTS70021).',
          request.vault.name,
          request.namespace,
          request.serviceAccount,
          request.cluster.name,
          result.identity.clientId,
          result.issuerUrl,
          result.credential.name,
        ) +
          (request.mode === 'identityBinding'
            ? ` ${vscode.l10n.t('Through an identity binding: {0}.', identityBindingNeeds())}`
            : ''),
        ...actions,
      )
      .then(async (a) => {
        if (a === testNow)
          await vscode.commands.executeCommand('aksWorkloadIdentity.testBinding', {
            cluster: request.cluster,
            namespace: request.namespace,
            serviceAccount: request.serviceAccount,
            vault: request.vault,
          });
        if (a === connect)
          await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', {
            cluster: request.cluster,
            namespace: request.namespace,
            serviceAccount: request.serviceAccount,
          });
        if (a === copyClientId) await vscode.env.clipboard.writeText(result.identity.clientId);
        if (a === openManifest && manifest.kind !== 'none') await vscode.window.showTextDocument(manifest.uri);
      });
    return result;
  } catch (e) {
    await reportStoppedRun(
      prompter,
      e,
      {
        where: (done, notDone) => vscode.l10n.t('In place: {0}. Not done: {1}.', done, notDone),
        cancelled: (where) => vscode.l10n.t('Bind cancelled. {0} Run Bind again to finish.', where),
        failed: (cause, where) =>
          vscode.l10n.t(
            'Bind stopped at "{0}": {1}: {2}{3} {4}',
            cause.step,
            cause.code,
            cause.message,
            remedyText(cause),
            where,
          ),
      },
      {
        refresh: () => void ctx.tree.refreshCluster(request.cluster).catch(() => undefined),
        retry: () => execute(ctx, session, deps, request),
      },
    );
  }
}
