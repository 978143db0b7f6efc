import * as vscode from 'vscode';
import type { IdentityInfo } from '../../../azure/identities';
import type { CleanupDeps, OrphanCandidate } from '../../../workloadIdentity/cleanup/model';
import { cleanupRemovals, planCleanup } from '../../../workloadIdentity/cleanup/plan';
import { runCleanup } from '../../../workloadIdentity/cleanup/run';
import type { Removal } from '../../../workloadIdentity/remove/model';
import { answered } from '../../../wizard/wizard';
import type { Prompter } from '../../../wizard/prompter';
import type { CommandContext } from '../../context';
import { withCancellableProgress } from '../../progress';
import type { CredentialGroupNode, IdentityNode } from '../../tree/nodes';
import { remedyText, reportStoppedRun, runCommand } from '../command';

const cleanupTitle = () => vscode.l10n.t('Clean Up Credentials');

/**
 * An identity's credentials that name no cluster you can see: a review where nothing is checked, a confirmation
 * that names each credential deleted, then deletes that read first.
 */
export function cleanUpCredentialsCommand(ctx: CommandContext, node?: IdentityNode | CredentialGroupNode) {
  return runCommand(ctx, cleanupTitle(), async ({ session, prompter }) => {
    if (!node) {
      void prompter.notify(
        'info',
        vscode.l10n.t('Run Clean Up Credentials from an identity under Managed identities in the tree.'),
      );
      return undefined;
    }
    const identity = node.identity;
    const deps: CleanupDeps = { identities: session.services.identities, log: ctx.log };
    const plan = await withCancellableProgress(
      vscode.l10n.t('{0}: reading {1}', cleanupTitle(), identity.name),
      async (_report, signal) =>
        planCleanup(identity, await deps.identities.listCredentials(identity, signal), await ctx.tree.clusters()),
    );
    if (!plan.candidates.length) {
      void prompter.notify(
        'info',
        vscode.l10n.t(
          'Every credential of {0} names a cluster you can see, or belongs to another tool: nothing to clean up.',
          identity.name,
        ),
      );
      return [];
    }
    const chosen = await review(prompter, identity, plan.used, plan.candidates);
    if (!chosen.length) return undefined;
    const removals = cleanupRemovals(identity, chosen);
    return execute(ctx, prompter, deps, identity, removals);
  });
}

/** Every candidate with its issuer, subject and why it looks orphaned; none checked; then a yes that names them. */
async function review(
  prompter: Prompter,
  identity: IdentityInfo,
  used: number,
  candidates: OrphanCandidate[],
): Promise<OrphanCandidate[]> {
  const picked = answered(
    await prompter.pickMany<OrphanCandidate>({
      title: vscode.l10n.t('{0}: review', cleanupTitle()),
      placeholder: vscode.l10n.t(
        '{0} holds {1} of 20 credentials. Check those to delete; nothing is checked, and nothing has been deleted yet.',
        identity.name,
        used,
      ),
      items: candidates.map((c) => ({
        label: c.credential.name,
        description: c.credential.subject,
        detail: c.why,
        value: c,
        picked: false,
      })),
    }),
  );
  if (typeof picked === 'symbol' || !picked.length) return [];
  const names = picked.map((c) => c.credential.name);
  const yes = await prompter.confirm({
    message:
      names.length === 1
        ? vscode.l10n.t('Delete 1 federated credential of {0}?', identity.name)
        : vscode.l10n.t('Delete {0} federated credentials of {1}?', names.length, identity.name),
    detail: vscode.l10n.t(
      '{0}. A workload whose tokens these credentials accept can no longer exchange them.',
      names.join(', '),
    ),
    confirm: vscode.l10n.t('Delete'),
  });
  return yes ? picked : [];
}

async function execute(
  ctx: CommandContext,
  prompter: Prompter,
  deps: CleanupDeps,
  identity: IdentityInfo,
  removals: Removal[],
): Promise<Removal[] | undefined> {
  try {
    await withCancellableProgress(vscode.l10n.t('Deleting credentials of {0}', identity.name), (progress, signal) =>
      runCleanup(removals, deps, { signal, progress }),
    );
    ctx.tree.refresh();
    const removed = removals.filter((r) => r.result === 'removed').length;
    const gone = removals.length - removed;
    void prompter.notify(
      'info',
      gone
        ? vscode.l10n.t('Deleted {0} credentials of {1}; {2} were already gone.', removed, identity.name, gone)
        : vscode.l10n.t('Deleted {0} credentials of {1}.', removed, identity.name),
    );
    return removals;
  } catch (e) {
    await reportStoppedRun(
      prompter,
      e,
      {
        where: (done, notDone) => vscode.l10n.t('Deleted: {0}. Not deleted: {1}.', done, notDone),
        cancelled: (where) => vscode.l10n.t('Clean Up cancelled. {0} Run it again to finish.', where),
        failed: (cause, where) =>
          vscode.l10n.t(
            'Clean Up stopped at "{0}": {1}: {2}{3} {4}',
            cause.step,
            cause.code,
            cause.message,
            remedyText(cause),
            where,
          ),
      },
      {
        refresh: () => ctx.tree.refresh(),
        retry: () => execute(ctx, prompter, deps, identity, removals),
      },
    );
    return undefined;
  }
}
