import * as vscode from 'vscode';
import { describeError } from '../../../errors';
import { migrateRequest, planMigration } from '../../../workloadIdentity/migrate/plan';
import { retireDirectCredentials, runMigration } from '../../../workloadIdentity/migrate/run';
import type { MigrateDeps, MigratePlan } from '../../../workloadIdentity/migrate/model';
import { BACK, type Back, type Prompter } from '../../../wizard/prompter';
import {
  isClassSwitch,
  switchName,
  type WorkloadSwitch,
  type WorkloadSwitches,
} from '../../../workloadIdentity/migrate/model';
import { workspaceFiles } from '../../workspaceFiles';
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
    // Restricted Mode: the workspace is neither read nor offered; the cluster still is.
    const files = vscode.workspace.isTrusted ? workspaceFiles(prompter) : undefined;
    const { plan, switches } = await withCancellableProgress(
      vscode.l10n.t('{0}: reading {1}', migrateTitle(), identity.name),
      async (_report, signal) => {
        const plan = await planMigration(
          migrateRequest(identity, await deps.identities.listCredentials(identity, signal), await ctx.tree.clusters()),
          deps,
          signal,
        );
        return { plan, switches: await session.services.migrate.findWorkloadSwitches(plan, deps, files) };
      },
    );
    if (!plan.clusters.length) {
      void prompter.notify(
        'info',
        vscode.l10n.t('{0} has no direct binding on a cluster you can see: nothing to migrate.', identity.name),
      );
      return plan;
    }
    let chosen: Way | undefined;
    for (;;) {
      const way = await howToSwitch(prompter, switches, !!files);
      if (way === undefined || way === BACK) return undefined;
      const reviewed = await review(prompter, plan, switches, way);
      if (reviewed === BACK && (switches.inWorkspace.length || switches.inCluster.length)) continue;
      if (reviewed !== true) return undefined;
      chosen = way;
      break;
    }
    prompter.doneAsking();
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
    const switching = chosen === 'later' ? [] : chosen === 'file' ? switches.inWorkspace : switches.inCluster;
    const switched = switching.length
      ? await withCancellableProgress(
          vscode.l10n.t('{0}: switching {1}', migrateTitle(), counted(switching)),
          (progress, signal) =>
            session.services.migrate.switchWorkloads(
              switching,
              { files: files!, kube: deps.kube, sleep: deps.sleep, log: deps.log },
              { signal, progress },
            ),
        )
      : [];
    for (const o of switched)
      ctx.log.info(
        `Migrate ${identity.name}: ${switchName(o.switch)}: ${'error' in o ? describeError(o.error).message : o.changed ? 'switched' : 'already switched'}`,
      );
    const notSwitched = switched.filter((o) => 'error' in o);
    if (notSwitched.length) {
      void prompter.notify(
        'error',
        vscode.l10n.t(
          '{0}: {1} of {2} workloads did not switch ({3}). The identity bindings are in place and the direct credentials stay, so nothing stopped working. Run Migrate again to finish.',
          migrateTitle(),
          notSwitched.length,
          switched.length,
          notSwitched
            .map((o) => `${switchName(o.switch)}: ${describeError((o as { error: unknown }).error).message}`)
            .join('; '),
        ),
      );
      return plan;
    }
    const podWarnings = switched.flatMap((o) =>
      'changed' in o && o.pods?.level === 'warning' ? [`${switchName(o.switch)}: ${o.pods.message}`] : [],
    );
    const retire = vscode.l10n.t('Retire the direct credentials');
    const action = await prompter.notify(
      podWarnings.length ? 'warning' : 'info',
      `${
        chosen === 'later' || !switched.length
          ? vscode.l10n.t(
              'Identity bindings are in place for {0} on {1} clusters, beside its direct credentials: both work. Connect each workload (it adds the annotation), let it restart and run, then retire the {2} direct credentials.',
              identity.name,
              outcomes.length,
              plan.retire.length,
            )
          : chosen === 'file'
            ? vscode.l10n.t(
                'Identity bindings are in place for {0} on {1} clusters, and {2} in the open folders now ask for them: apply the files as usual. Both work until the {3} direct credentials go: retire them once the workloads run.',
                identity.name,
                outcomes.length,
                counted(switched.map((o) => o.switch)),
                plan.retire.length,
              )
            : vscode.l10n.t(
                'Identity bindings are in place for {0} on {1} clusters, and {2} switched to them (the workloads rolled out). Both work until the {3} direct credentials go: retire them once the workloads run.',
                identity.name,
                outcomes.length,
                counted(switched.map((o) => o.switch)),
                plan.retire.length,
              )
      }${podWarnings.length ? ` ${podWarnings.join(' ')}` : ''}`,
      retire,
    );
    if (action === retire) await retireAfterYes(ctx, prompter, plan, deps);
    return plan;
  });
}

type Way = 'file' | 'cluster' | 'later';

/** The SecretProviderClasses found that still exchange directly, by name, once each. */
const unproxiedClasses = (s: WorkloadSwitches) => [
  ...new Set(
    [...s.inWorkspace, ...s.inCluster].filter((x) => isClassSwitch(x) && x.plan.changes.length).map(switchName),
  ),
];

/** "2 workloads", or "2 workloads and 1 SecretProviderClass(es)": what a way switches. */
function counted(switches: WorkloadSwitch[]): string {
  const classes = switches.filter(isClassSwitch).length;
  const workloads = switches.length - classes;
  return classes
    ? vscode.l10n.t('{0} workloads and {1} SecretProviderClasses', workloads, classes)
    : vscode.l10n.t('{0} workloads', workloads);
}

/** Where the workloads switch, asked only when some were found. */
async function howToSwitch(
  prompter: Prompter,
  s: WorkloadSwitches,
  workspaceRead: boolean,
): Promise<Way | Back | undefined> {
  if (!s.inWorkspace.length && !s.inCluster.length) return 'later';
  const clusters = new Set(s.inCluster.map((x) => x.binding.cluster.id.toLowerCase())).size;
  return prompter.pick<Way>({
    title: migrateTitle(),
    placeholder: vscode.l10n.t(
      'The workloads that run as these ServiceAccounts: how should they switch to the identity bindings?',
    ),
    items: [
      ...(s.inWorkspace.length
        ? [
            {
              label: vscode.l10n.t('In the workspace'),
              description: vscode.l10n.t("{0} in the open folders' YAML", counted(s.inWorkspace)),
              detail: vscode.l10n.t("Connect's edit of each pod template; you apply the files as usual"),
              value: 'file' as const,
            },
          ]
        : []),
      ...(s.inCluster.length
        ? [
            {
              label: vscode.l10n.t('In the cluster'),
              description: vscode.l10n.t('{0} on {1} clusters', counted(s.inCluster), clusters),
              detail: vscode.l10n.t('Server-side apply of the annotation on each; their pods roll out'),
              value: 'cluster' as const,
            },
          ]
        : []),
      {
        label: vscode.l10n.t('Not now'),
        detail: workspaceRead
          ? vscode.l10n.t('Switch each workload later with Connect Workload')
          : vscode.l10n.t(
              'Switch each workload later with Connect Workload (the workspace is in Restricted Mode: not read)',
            ),
        value: 'later' as const,
      },
    ],
  });
}

async function review(
  prompter: Prompter,
  plan: MigratePlan,
  switches: WorkloadSwitches,
  way: Way,
): Promise<true | Back | undefined> {
  const blocked = plan.clusters.filter((m) => m.steps.some((s) => s.planned === 'blocked'));
  const switching = way === 'file' ? switches.inWorkspace : way === 'cluster' ? switches.inCluster : [];
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
        ...switching.map((s) => ({
          label: vscode.l10n.t('$(edit) Switch {0}', switchName(s)),
          description: s.plan.changes.length ? s.plan.changes.join('; ') : vscode.l10n.t('already switched'),
          ...(s.plan.warnings.length ? { detail: s.plan.warnings.join(' ') } : {}),
          value: 'line' as const,
        })),
        ...(way === 'cluster' ? switches.blocked : []).map((b) => ({
          label: vscode.l10n.t('$(circle-slash) Not switched: {0}', b.name),
          detail: b.reason,
          value: 'line' as const,
        })),
        // Not switched now: a class that mounts the identity's secrets must get the parameter before the credentials go.
        ...(way === 'later' ? unproxiedClasses(switches) : []).map((name) => ({
          label: vscode.l10n.t(
            '$(warning) {0} needs useAzureTokenProxy: "true" before the direct credentials go',
            name,
          ),
          value: 'line' as const,
        })),
        ...(way === 'later' && !switches.inWorkspace.length && !switches.inCluster.length
          ? [
              {
                label: vscode.l10n.t('$(info) No workload runs as these ServiceAccounts where it was looked for'),
                value: 'line' as const,
              },
            ]
          : []),
        ...switches.unreadable.map((u) => ({
          label: vscode.l10n.t('$(warning) Not read: {0}', u),
          value: 'line' as const,
        })),
        ...plan.retire.map((r) => ({
          label: vscode.l10n.t('$(clock) Later, when you say so: delete {0}', r.resource),
          detail: r.detail,
          value: 'line' as const,
        })),
      ],
    });
    if (v === undefined) return undefined;
    if (v === BACK) return BACK;
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
