import * as vscode from 'vscode';
import { BACK, PromptDismissed } from '../../../wizard/prompter';
import { runPrompts } from '../../../wizard/wizard';
import { IncompleteRunError, StepError, describeError } from '../../../workloadIdentity/errors';
import type { Removal, RemoveChoices, RemoveDeps, RemovePlan, RemoveTarget } from '../../../workloadIdentity/remove/model';
import { RemoveFacts, observeRemoval, planRemoval, removalCount } from '../../../workloadIdentity/remove/plan';
import { runRemove } from '../../../workloadIdentity/remove/run';
import { CommandContext, requireSession } from '../../context';
import { existingManifest } from '../../manifestWriter';
import { withCancellableProgress } from '../../progress';
import type { BindingNode, ClusterNode } from '../../tree/nodes';
import { VerifyWizardContext, verifyPromptSteps } from '../verify/prompts';

export const REMOVE_TITLE = 'Remove Binding';

const ICON: Record<Removal['decision'], string> = { remove: '$(trash) Remove', keep: '$(pass) Keep', notOurs: '$(lock) Not ours' };

type Optional = 'identity' | 'serviceAccount' | 'manifest';

/**
 * A binding's "Remove Binding…" asks nothing before the review; the palette asks cluster, namespace and
 * ServiceAccount. The identity, the ServiceAccount and the manifest are removed only when the user picks them.
 */
export async function removeBindingCommand(ctx: CommandContext, node?: BindingNode | ClusterNode | RemoveTarget) {
  const session = await requireSession(ctx);
  if (!session) return;
  const prompter = ctx.prompter();
  const deps = session.services.removeDeps({ clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults() });
  try {
    let target: RemoveTarget;
    if (node && 'namespace' in node) target = node;
    else if (node?.kind === 'binding') target = { cluster: node.cluster, namespace: node.binding.namespace, serviceAccount: node.binding.serviceAccount, identityId: node.binding.identityId };
    else {
      const wizard: VerifyWizardContext = {
        title: REMOVE_TITLE, cluster: node?.cluster, vault: null,
        sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
      };
      await runPrompts(verifyPromptSteps, wizard, prompter);
      target = { cluster: wizard.cluster!, namespace: wizard.namespace!, serviceAccount: wizard.serviceAccount! };
    }
    const name = `${target.namespace}/${target.serviceAccount} on ${target.cluster.name}`;
    const [facts, manifest] = await Promise.all([
      withCancellableProgress(`${REMOVE_TITLE}: reading ${name}`, (_report, signal) => observeRemoval(target, deps, signal)),
      existingManifest({ cluster: target.cluster.name, namespace: target.namespace, serviceAccount: target.serviceAccount }),
    ]);
    const reviewed = await review(ctx, facts, manifest);
    if (!reviewed) return;
    await execute(ctx, deps, reviewed.plan, reviewed.deleteManifest ? manifest : undefined);
  } catch (e) {
    if (e instanceof PromptDismissed) return;
    const d = describeError(e);
    ctx.log.error(`${REMOVE_TITLE}: ${d.code}: ${d.message}`);
    void prompter.notify('error', `${REMOVE_TITLE}: ${d.code}: ${d.message}`);
  }
}

/** Asks what else to remove (nothing by default), then shows every line before anything is written. Back returns to the choice. */
async function review(ctx: CommandContext, facts: RemoveFacts, manifest: vscode.Uri | undefined): Promise<{ plan: RemovePlan; deleteManifest: boolean } | undefined> {
  const prompter = ctx.prompter();
  const base = planRemoval(facts, { deleteIdentity: false, deleteServiceAccount: false });
  if (base.unreadable.length) {
    void prompter.notify('error', `${REMOVE_TITLE}: could not read ${base.unreadable.join('; ')}. Nothing was removed; run Remove Binding again.`);
    return undefined;
  }
  const { namespace, serviceAccount } = base.target;
  const optional = [
    ...(!base.identityKept && base.identity ? [{ label: `Delete the identity ${base.identity.name}`, description: 'created by this extension; nothing else uses it', value: 'identity' as Optional }] : []),
    ...(!base.serviceAccountKept ? [{ label: `Delete the ServiceAccount ${namespace}/${serviceAccount}`, description: 'no one else manages it', value: 'serviceAccount' as Optional }] : []),
    ...(manifest ? [{ label: `Delete the manifest ${vscode.workspace.asRelativePath(manifest)}`, description: 'to the trash where there is one', value: 'manifest' as Optional }] : []),
  ];
  for (;;) {
    let chosen: Optional[] = [];
    if (optional.length) {
      const v = await prompter.pickMany<Optional>({ title: REMOVE_TITLE, placeholder: 'Also remove (each is kept unless you check it; Enter to go on)', items: optional });
      if (v === undefined) return undefined;
      if (v !== BACK) chosen = v;
    }
    const choices: RemoveChoices = { deleteIdentity: chosen.includes('identity'), deleteServiceAccount: chosen.includes('serviceAccount') };
    const plan = planRemoval(facts, choices);
    const deleteManifest = chosen.includes('manifest');
    const changes = removalCount(plan) + (deleteManifest ? 1 : 0);
    const pods = plan.affectedPods.map((p) => `${p.name}${p.owner ? ` (${p.owner.kind} ${p.owner.name})` : ''}`);
    const v = await prompter.pick<'run' | 'line'>({
      title: `${REMOVE_TITLE}: review`, step: optional.length ? 2 : undefined, totalSteps: optional.length ? 2 : undefined,
      placeholder: changes ? `${changes} removal${changes === 1 ? '' : 's'}; nothing has been removed yet` : 'Nothing of this binding is left to remove',
      items: [
        changes
          ? { label: `$(trash) Remove: make ${changes} change${changes === 1 ? '' : 's'}`, description: 'confirm', value: 'run' as const }
          : { label: '$(pass) Nothing to remove', value: 'line' as const },
        ...(pods.length ? [{ label: `$(warning) ${pods.length} pod${pods.length === 1 ? '' : 's'} still run${pods.length === 1 ? 's' : ''} as ${namespace}/${serviceAccount}`, description: 'they lose Key Vault access at their next token refresh', detail: pods.join(', '), value: 'line' as const }] : []),
        ...plan.removals.map((r) => ({ label: `${ICON[r.decision]}: ${r.title}`, description: r.resource, detail: r.detail, value: 'line' as const })),
        ...(manifest ? [{ label: `${deleteManifest ? ICON.remove : ICON.keep}: Manifest in the workspace`, description: vscode.workspace.asRelativePath(manifest), detail: deleteManifest ? 'to the trash where there is one' : 'kept', value: 'line' as const }] : []),
      ],
    });
    if (v === BACK && optional.length) continue;
    if (v === undefined || v === BACK) return undefined;
    if (v === 'run') return { plan, deleteManifest };
    if (!changes) return undefined;
  }
}

async function execute(ctx: CommandContext, deps: RemoveDeps, plan: RemovePlan, manifest: vscode.Uri | undefined): Promise<void> {
  const prompter = ctx.prompter();
  const { namespace, serviceAccount, cluster } = plan.target;
  const name = `${namespace}/${serviceAccount} on ${cluster.name}`;
  try {
    await withCancellableProgress(`Removing the binding of ${name}`, (report, signal) => runRemove(plan, deps, { signal, progress: report }));
  } catch (e) {
    if (!(e instanceof IncompleteRunError)) throw e;
    void ctx.tree.refreshBindings(cluster);
    const { done, notDone } = e;
    const where = `Removed: ${done.length ? done.join('; ') : 'nothing'}. Not removed: ${notDone.join('; ')}.`;
    if (e.cancelled) { void prompter.notify('info', `Remove cancelled. ${where} Run Remove Binding again to finish.`); return; }
    const cause = e.cause as StepError;
    const action = await prompter.notify('error', `Remove stopped at "${cause.step}": ${cause.code}: ${cause.message}${cause.remedy ? ` ${cause.remedy}` : ''} ${where}`, 'Retry', 'Show Log');
    if (action === 'Retry') return execute(ctx, deps, plan, manifest);
    if (action === 'Show Log') void vscode.commands.executeCommand('aksWorkloadIdentity.showLog');
    return;
  }
  if (manifest) await deleteManifest(ctx, manifest);
  void ctx.tree.refreshBindings(cluster);
  const removed = plan.removals.filter((r) => r.decision === 'remove');
  const kept = plan.removals.filter((r) => r.decision !== 'remove');
  ctx.log.info(`Removed the binding of ${name}: ${removed.map((r) => `${r.title} ${r.resource} (${r.result})`).join('; ') || 'nothing'}.`);
  void prompter.notify('info', `Removed the binding of ${name}: ${removed.length + (manifest ? 1 : 0)} removed${kept.length ? `, ${kept.length} kept (${kept.map((r) => `${r.title} ${r.resource}`).join('; ')})` : ''}.`, 'Show Log')
    .then((a) => { if (a === 'Show Log') void vscode.commands.executeCommand('aksWorkloadIdentity.showLog'); });
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
  const yes = await ctx.prompter().confirm({ message: `${path} cannot be moved to the trash here. Delete it permanently?`, confirm: 'Delete Permanently' });
  if (yes) await vscode.workspace.fs.delete(uri, { useTrash: false });
  else ctx.log.info(`${path} was kept.`);
}
