import * as vscode from 'vscode';
import { BACK } from '../../../wizard/prompter';
import { runPrompts } from '../../../wizard/wizard';
import { describeError } from '../../../errors';
import type { Removal, RemoveChoices, RemoveDeps, RemovePlan } from '../../../workloadIdentity/remove/model';
import { RemoveFacts, observeRemoval, planRemoval, removalCount } from '../../../workloadIdentity/remove/plan';
import { runRemove } from '../../../workloadIdentity/remove/run';
import { CommandContext } from '../../context';
import { bindingFrom, remedyText, reportStoppedRun, runCommand } from '../command';
import { existingManifest } from '../../manifestLocation';
import { withCancellableProgress } from '../../progress';
import type { BindingNode, ClusterNode } from '../../tree/nodes';
import { BindingWizardContext, bindingPromptSteps } from '../../prompts/binding';
import type { Binding } from '../../../workloadIdentity/binding';

const removeTitle = () => vscode.l10n.t('Remove Binding');

const icon = (decision: Removal['decision']) =>
  ({
    remove: vscode.l10n.t('$(trash) Remove'),
    keep: vscode.l10n.t('$(pass) Keep'),
    notOurs: vscode.l10n.t('$(lock) Not ours'),
  })[decision];

type Optional = 'identity' | 'serviceAccount' | 'manifest' | 'managedCredential';

/**
 * A binding's "Remove Binding…" asks nothing before the review; the palette asks cluster, namespace and
 * ServiceAccount. The identity, the ServiceAccount and the manifest are removed only when the user picks them.
 */
export function removeBindingCommand(ctx: CommandContext, node?: BindingNode | ClusterNode | Binding) {
  return runCommand(ctx, removeTitle(), async ({ session, prompter }) => {
    const deps = session.services.removeDeps({ clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults() });
    let target = bindingFrom(node);
    if (!target) {
      const wizard: BindingWizardContext = {
        title: removeTitle(),
        cluster: node?.cluster,
        vault: null,
        sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
      };
      await runPrompts(bindingPromptSteps, wizard, prompter);
      target = { cluster: wizard.cluster!, namespace: wizard.namespace!, serviceAccount: wizard.serviceAccount! };
    }
    const binding = target;
    const name = vscode.l10n.t('{0}/{1} on {2}', target.namespace, target.serviceAccount, target.cluster.name);
    const [facts, manifest] = await Promise.all([
      withCancellableProgress(vscode.l10n.t('{0}: reading {1}', removeTitle(), name), (_report, signal) =>
        observeRemoval(binding, deps, signal),
      ),
      existingManifest({
        cluster: target.cluster.name,
        namespace: target.namespace,
        serviceAccount: target.serviceAccount,
      }),
    ]);
    const reviewed = await review(ctx, facts, manifest);
    if (!reviewed) return;
    prompter.doneAsking();
    await execute(ctx, deps, reviewed.plan, reviewed.deleteManifest ? manifest : undefined);
  });
}

/** Asks what else to remove (nothing by default), then shows every line before anything is written. Back returns to the choice. */
async function review(
  ctx: CommandContext,
  facts: RemoveFacts,
  manifest: vscode.Uri | undefined,
): Promise<{ plan: RemovePlan; deleteManifest: boolean } | undefined> {
  const prompter = ctx.prompter();
  const base = planRemoval(facts, { deleteIdentity: false, deleteServiceAccount: false });
  if (base.unreadable.length) {
    void prompter.notify(
      'error',
      vscode.l10n.t(
        '{0}: could not read {1}. Nothing was removed; run Remove Binding again.',
        removeTitle(),
        base.unreadable.join('; '),
      ),
    );
    return undefined;
  }
  const { namespace, serviceAccount } = base.target;
  const optional = [
    ...(!base.identityKept && base.identity
      ? [
          {
            label: vscode.l10n.t('Delete the identity {0}', base.identity.name),
            description: vscode.l10n.t('created by this extension; nothing else uses it'),
            value: 'identity' as Optional,
          },
        ]
      : []),
    ...(!base.serviceAccountKept
      ? [
          {
            label: vscode.l10n.t('Delete the ServiceAccount {0}/{1}', namespace, serviceAccount),
            description: vscode.l10n.t('no one else manages it'),
            value: 'serviceAccount' as Optional,
          },
        ]
      : []),
    ...(base.managedCredentialOffered
      ? [
          {
            label: vscode.l10n.t("Delete AKS's credential aks-identity-binding on {0}", base.identity!.name),
            description: vscode.l10n.t('no identity binding of the identity is left; AKS does not delete it'),
            value: 'managedCredential' as Optional,
          },
        ]
      : []),
    ...(manifest
      ? [
          {
            label: vscode.l10n.t('Delete the manifest {0}', vscode.workspace.asRelativePath(manifest)),
            description: vscode.l10n.t('to the trash where there is one'),
            value: 'manifest' as Optional,
          },
        ]
      : []),
  ];
  for (;;) {
    let chosen: Optional[] = [];
    if (optional.length) {
      const v = await prompter.pickMany<Optional>({
        title: removeTitle(),
        placeholder: vscode.l10n.t('Also remove (each is kept unless you check it; Enter to go on)'),
        items: optional,
      });
      if (v === undefined) return undefined;
      if (v !== BACK) chosen = v;
    }
    const choices: RemoveChoices = {
      deleteIdentity: chosen.includes('identity'),
      deleteServiceAccount: chosen.includes('serviceAccount'),
      deleteManagedCredential: chosen.includes('managedCredential'),
    };
    const plan = planRemoval(facts, choices);
    const deleteManifest = chosen.includes('manifest');
    const changes = removalCount(plan) + (deleteManifest ? 1 : 0);
    const pods = plan.affectedPods.map((p) => `${p.name}${p.owner ? ` (${p.owner.kind} ${p.owner.name})` : ''}`);
    const v = await prompter.pick<'run' | 'line'>({
      title: vscode.l10n.t('{0}: review', removeTitle()),
      step: optional.length ? 2 : undefined,
      totalSteps: optional.length ? 2 : undefined,
      placeholder:
        changes === 1
          ? vscode.l10n.t('1 removal; nothing has been removed yet')
          : changes
            ? vscode.l10n.t('{0} removals; nothing has been removed yet', changes)
            : vscode.l10n.t('Nothing of this binding is left to remove'),
      items: [
        changes
          ? {
              label:
                changes === 1
                  ? vscode.l10n.t('$(trash) Remove: make 1 change')
                  : vscode.l10n.t('$(trash) Remove: make {0} changes', changes),
              description: vscode.l10n.t('confirm'),
              value: 'run' as const,
            }
          : { label: vscode.l10n.t('$(pass) Nothing to remove'), value: 'line' as const },
        ...(pods.length
          ? [
              {
                label:
                  pods.length === 1
                    ? vscode.l10n.t('$(warning) 1 pod still runs as {0}/{1}', namespace, serviceAccount)
                    : vscode.l10n.t('$(warning) {0} pods still run as {1}/{2}', pods.length, namespace, serviceAccount),
                description: vscode.l10n.t('they lose Key Vault access at their next token refresh'),
                detail: pods.join(', '),
                value: 'line' as const,
              },
            ]
          : []),
        ...plan.removals.map((r) => ({
          label: `${icon(r.decision)}: ${r.title}`,
          description: r.resource,
          detail: r.detail,
          value: 'line' as const,
        })),
        ...(manifest
          ? [
              {
                label: vscode.l10n.t('{0}: Manifest in the workspace', deleteManifest ? icon('remove') : icon('keep')),
                description: vscode.workspace.asRelativePath(manifest),
                detail: deleteManifest ? vscode.l10n.t('to the trash where there is one') : vscode.l10n.t('kept'),
                value: 'line' as const,
              },
            ]
          : []),
      ],
    });
    if (v === BACK && optional.length) continue;
    if (v === undefined || v === BACK) return undefined;
    if (v === 'run') return { plan, deleteManifest };
    if (!changes) return undefined;
  }
}

async function execute(
  ctx: CommandContext,
  deps: RemoveDeps,
  plan: RemovePlan,
  manifest: vscode.Uri | undefined,
): Promise<void> {
  const prompter = ctx.prompter();
  const { namespace, serviceAccount, cluster } = plan.target;
  const name = vscode.l10n.t('{0}/{1} on {2}', namespace, serviceAccount, cluster.name);
  try {
    await withCancellableProgress(vscode.l10n.t('Removing the binding of {0}', name), (report, signal) =>
      runRemove(plan, deps, { signal, progress: report }),
    );
  } catch (e) {
    return reportStoppedRun(
      prompter,
      e,
      {
        where: (done, notDone) => vscode.l10n.t('Removed: {0}. Not removed: {1}.', done, notDone),
        cancelled: (where) => vscode.l10n.t('Remove cancelled. {0} Run Remove Binding again to finish.', where),
        failed: (cause, where) =>
          vscode.l10n.t(
            'Remove stopped at "{0}": {1}: {2}{3} {4}',
            cause.step,
            cause.code,
            cause.message,
            remedyText(cause),
            where,
          ),
      },
      { refresh: () => void ctx.tree.refreshBindings(cluster), retry: () => execute(ctx, deps, plan, manifest) },
    );
  }
  if (manifest) await deleteManifest(ctx, manifest);
  void ctx.tree.refreshBindings(cluster);
  const removed = plan.removals.filter((r) => r.decision === 'remove');
  const kept = plan.removals.filter((r) => r.decision !== 'remove');
  ctx.log.info(
    `Removed the binding of ${name}: ${removed.map((r) => `${r.title} ${r.resource} (${r.result})`).join('; ') || 'nothing'}.`,
  );
  const showLog = vscode.l10n.t('Show Log');
  void prompter
    .notify(
      'info',
      // Short: the review listed what stays, and the log names each. A toast as tall as that list does not fit
      // beside another one, and VS Code then hides it.
      kept.length
        ? vscode.l10n.t(
            'Removed the binding of {0}: {1} removed, {2} kept as reviewed (the log names each).',
            name,
            removed.length + (manifest ? 1 : 0),
            kept.length,
          )
        : vscode.l10n.t('Removed the binding of {0}: {1} removed.', name, removed.length + (manifest ? 1 : 0)),
      showLog,
    )
    .then((a) => {
      if (a === showLog) void vscode.commands.executeCommand('aksWorkloadIdentity.showLog');
    });
}

/** To the trash; where the file system has none (a remote workspace), only after a yes. */
async function deleteManifest(ctx: CommandContext, uri: vscode.Uri) {
  const path = vscode.workspace.asRelativePath(uri);
  try {
    await vscode.workspace.fs.delete(uri, { useTrash: true });
    return;
  } catch (e) {
    ctx.log.warn(`${path} could not go to the trash: ${describeError(e).message}`);
  }
  const yes = await ctx.prompter().confirm({
    message: vscode.l10n.t('{0} cannot be moved to the trash here. Delete it permanently?', path),
    confirm: vscode.l10n.t('Delete Permanently'),
  });
  if (yes) await vscode.workspace.fs.delete(uri, { useTrash: false });
  else ctx.log.info(`${path} was kept.`);
}
