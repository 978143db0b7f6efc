import { describeError, errorMessage } from '../../errors';
import { mapLimit } from '../../util/concurrency';
import type { Binding } from '../binding';
import { planLive, toLiveWorkload } from '../connect/live';
import type { ConnectDeps, ConnectResult, WorkspaceFiles } from '../connect/model';
import { runConnect } from '../connect/run';
import { findCandidates, planConnect } from '../connect/workspace';
import type { ClusterSummary } from '../cluster';
import { switchName, type MigrateDeps, type MigratePlan, type WorkloadSwitch, type WorkloadSwitches } from './model';

const migrated = (cluster: ClusterSummary, namespace: string, serviceAccount: string): Binding => ({
  cluster,
  namespace,
  serviceAccount,
  viaIdentityBinding: true,
});

/**
 * The workloads that run as the ServiceAccounts being migrated: in the cluster (each cluster that can have an identity
 * binding), and in the open folders' YAML when files are given. A file is edited once however many clusters it is
 * applied to.
 */
export async function findWorkloadSwitches(
  plan: MigratePlan,
  deps: Pick<MigrateDeps, 'kube'>,
  files: WorkspaceFiles | undefined,
): Promise<WorkloadSwitches> {
  const clusters = plan.clusters.filter((m) => !m.steps.some((s) => s.planned === 'blocked'));
  const unreadable: string[] = [];
  const live = await mapLimit(clusters, 8, async (m): Promise<WorkloadSwitch[]> => {
    try {
      const kube = await deps.kube(m.cluster);
      const namespaces = [...new Set(m.serviceAccounts.map((s) => s.namespace))];
      const found = await Promise.all(namespaces.map(async (ns) => (await kube.listWorkloads(ns)).map(toLiveWorkload)));
      return found.flat().flatMap((w) => {
        const sa = m.serviceAccounts.find((s) => s.namespace === w.namespace && s.name === w.serviceAccountName);
        if (!sa) return [];
        const binding = migrated(m.cluster, sa.namespace, sa.name);
        return [{ where: 'cluster' as const, binding, plan: planLive(w, binding, []) }];
      });
    } catch (e) {
      unreadable.push(`${m.cluster.name}: ${errorMessage(e)}`);
      return [];
    }
  });
  const inWorkspace: WorkloadSwitch[] = [];
  if (files) {
    const yaml = await files.yamlFiles();
    const seen = new Set<string>();
    for (const m of clusters)
      for (const sa of m.serviceAccounts) {
        const { candidates, skipped } = findCandidates(yaml, sa.namespace);
        for (const s of skipped) unreadable.push(`${s.path}: ${s.reason}`);
        for (const candidate of candidates) {
          const key = `${candidate.path}#${candidate.workload.index}`;
          if (candidate.workload.serviceAccountName !== sa.name || seen.has(key)) continue;
          seen.add(key);
          const binding = migrated(m.cluster, sa.namespace, sa.name);
          const text = yaml.find((f) => f.path === candidate.path)!.text;
          inWorkspace.push({ where: 'file', binding, plan: planConnect(text, candidate, binding, []) });
        }
      }
  }
  const inCluster = live.flat();
  return {
    inWorkspace,
    inCluster: inCluster.filter((s) => s.where === 'cluster' && !s.plan.blocked),
    blocked: inCluster.flatMap((s) =>
      s.where === 'cluster' && s.plan.blocked ? [{ name: switchName(s), reason: s.plan.blocked }] : [],
    ),
    unreadable: [...new Set(unreadable)],
  };
}

export type SwitchOutcome = { switch: WorkloadSwitch } & ({ result: ConnectResult } | { error: unknown });

/**
 * Connect's run for each workload: it reads first, so a switched workload is left as it is and a rerun finishes what
 * failed. Clusters at once, one workload after another within a cluster (each waits for its rollout); files in turn.
 * A workload that fails does not stop the others.
 */
export async function switchWorkloads(
  switches: WorkloadSwitch[],
  deps: ConnectDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<SwitchOutcome[]> {
  const byCluster = new Map<string, WorkloadSwitch[]>();
  for (const s of switches) {
    const key = s.where === 'file' ? 'files' : s.binding.cluster.id.toLowerCase();
    byCluster.set(key, [...(byCluster.get(key) ?? []), s]);
  }
  const outcomes = await Promise.all(
    [...byCluster.values()].map(async (group) => {
      const out: SwitchOutcome[] = [];
      for (const s of group) {
        try {
          const result = await runConnect({ binding: s.binding, serviceAccounts: [], change: s }, deps, {
            signal: opts.signal,
            progress: (m) => opts.progress?.(`${switchName(s)}: ${m}`),
          });
          out.push({ switch: s, result });
        } catch (error) {
          if (opts.signal.aborted) throw error;
          deps.log.error(`Migrate: ${switchName(s)}: ${describeError(error).message}`);
          out.push({ switch: s, error });
        }
      }
      return out;
    }),
  );
  return outcomes.flat();
}
