import * as vscode from 'vscode';
import { describeError } from '../../../errors';
import { migrateRequest, planMigration } from '../../../workloadIdentity/migrate/plan';
import { retireDirectCredentials, runMigration } from '../../../workloadIdentity/migrate/run';
import type { MigrateDeps, MigratePlan } from '../../../workloadIdentity/migrate/model';
import { BACK, type Prompter } from '../../../wizard/prompter';
import type { CommandContext } from '../../context';
import { withCancellableProgress } from '../../progress';
import type { IdentityNode } from '../../tree/nodes';
import { plannedLabel } from '../bind/plannedLabel';
import { runCommand } from '../command';

export const migrateTitle = () => vscode.l10n.t('Migrate to Identity Bindings');

/**
 * An identity's "Migrate to Identity Bindings…": its direct bindings move to identity bindings, cluster by cluster.
 * A review, then Bind's identity-binding steps on each cluster beside the direct credentials (both work); the direct
 * credentials go only when the user says the workloads run through the bindings.
 */
export function migrateCommand(ctx: CommandContext, node?: IdentityNode) {
  return runCommand(ctx, migrateTitle(), async ({ session, prompter }) => {
    if (!node) return undefined;
    const deps: MigrateDeps = session.services.removeDeps({
      clusters: () => ctx.tree.clusters(),
      vaults: () => ctx.tree.vaults(),
    });
    const identity = node.identity;
    const plan = await withCancellableProgress(
      vscode.l10n.t('{0}: reading {1}', migrateTitle(), identity.name),
      async (_report, signal) =>
        planMigration(
          migrateRequest(identity, await deps.identities.listCredentials(identity, signal), await ctx.tree.clusters()),
          deps,
          signal,
        ),
    );
    if (!plan.clusters.length) {
      void prompter.notify(
        'info',
        vscode.l10n.t('{0} has no direct binding on a cluster you can see: nothing to migrate.', identity.name),
      );
      return plan;
    }
    if (!(await review(prompter, plan))) return undefined;
    const outcomes = await withCancellableProgress(
      vscode.l10n.t('{0}: {1} on {2} clusters', migrateTitle(), identity.name, plan.clusters.length),
      (progress, signal) => runMigration(plan, deps, { signal, progress }),
    );
    ctx.tree.refresh();
    const failed = outcomes.filter((o) => 'error' in o);
    for (const o of outcomes)
      ctx.log.info(
        `Migrate ${identity.name}: ${o.cluster.name}: ${'error' in o ? describeError(o.error).message : 'done'}`,
      );
    if (failed.length) {
      void prompter.notify(
        'error',
        vscode.l10n.t(
          '{0}: {1} of {2} clusters stopped ({3}); the direct credentials stay, so nothing stopped working. Run Migrate again to finish.',
          migrateTitle(),
          failed.length,
          outcomes.length,
          failed.map((o) => `${o.cluster.name}: ${describeError((o as { error: unknown }).error).message}`).join('; '),
        ),
      );
      return plan;
    }
    const retire = vscode.l10n.t('Retire the direct credentials');
    const action = await prompter.notify(
      'info',
      vscode.l10n.t(
        'Identity bindings are in place for {0} on {1} clusters, beside its direct credentials: both work. Connect each workload (it adds the annotation), let it restart and run, then retire the {2} direct credentials.',
        identity.name,
        outcomes.length,
        plan.retire.length,
      ),
      retire,
    );
    if (action === retire) await retireAfterYes(ctx, prompter, plan, deps);
    return plan;
  });
}

async function review(prompter: Prompter, plan: MigratePlan): Promise<boolean> {
  const blocked = plan.clusters.filter((m) => m.steps.some((s) => s.planned === 'blocked'));
  for (;;) {
    const v = await prompter.pick<'run' | 'line'>({
      title: vscode.l10n.t('{0}: review', migrateTitle()),
      placeholder: vscode.l10n.t(
        'Both work after this: the direct credentials go only when you say the workloads run through the bindings',
      ),
      items: [
        {
          label: vscode.l10n.t('$(check) Migrate: {0} clusters', plan.clusters.length - blocked.length),
          description: vscode.l10n.t('confirm'),
          value: 'run' as const,
        },
        ...plan.clusters.flatMap((m) => [
          {
            label: `$(server-environment) ${m.cluster.name}`,
            description: m.serviceAccounts.map((s) => `${s.namespace}/${s.name}`).join(', '),
            value: 'line' as const,
          },
          ...m.steps.map((s) => ({
            label: `    ${plannedLabel(s.planned)}: ${s.title}`,
            description: s.resource,
            detail: s.detail,
            value: 'line' as const,
          })),
        ]),
        ...plan.retire.map((r) => ({
          label: vscode.l10n.t('$(clock) Later, when you say so: delete {0}', r.resource),
          detail: r.detail,
          value: 'line' as const,
        })),
      ],
    });
    if (v === undefined || v === BACK) return false;
    if (v === 'run') return true;
  }
}

/** The last phase: a yes that names each direct credential, then the deletes, each read first. */
async function retireAfterYes(ctx: CommandContext, prompter: Prompter, plan: MigratePlan, deps: MigrateDeps) {
  const yes = await prompter.confirm({
    message: vscode.l10n.t(
      'Delete {0} direct federated credentials of {1}? Only if the workloads run through the identity bindings.',
      plan.retire.length,
      plan.request.identity.name,
    ),
    detail: plan.retire.map((r) => r.resource).join('\n'),
    confirm: vscode.l10n.t('Delete'),
  });
  if (!yes) return;
  try {
    await withCancellableProgress(migrateTitle(), (progress, signal) =>
      retireDirectCredentials(plan, deps, { signal, progress }),
    );
    ctx.tree.refresh();
    void prompter.notify(
      'info',
      vscode.l10n.t('Retired {0} direct credentials of {1}.', plan.retire.length, plan.request.identity.name),
    );
  } catch (e) {
    const d = describeError(e);
    void prompter.notify(
      'error',
      vscode.l10n.t('{0}: {1}: {2}. Run Migrate again to finish.', migrateTitle(), d.code, d.message),
    );
  }
}
