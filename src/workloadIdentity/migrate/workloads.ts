import * as l10n from '@vscode/l10n';
import { describeError, errorMessage, errorNamed } from '../../errors';
import { mapLimit } from '../../util/concurrency';
import type { Binding } from '../binding';
import { planLive, toLiveWorkload } from '../connect/live';
import type { ConnectDeps, ConnectResult, WorkspaceFiles } from '../connect/model';
import { runConnect } from '../connect/run';
import { findCandidates, planConnect, type WorkspaceFile } from '../connect/workspace';
import {
  TOKEN_PROXY_CHANGE,
  USE_AZURE_TOKEN_PROXY,
  YamlEditError,
  secretProviderClassesIn,
  useTokenProxyInYaml,
} from '../connect/yamlEdit';
import type { ClusterSummary } from '../cluster';
import {
  switchName,
  type ClusterMigration,
  type MigrateDeps,
  type MigratePlan,
  type WorkloadSwitch,
  type WorkloadSwitches,
} from './model';

const migrated = (cluster: ClusterSummary, namespace: string, serviceAccount: string): Binding => ({
  cluster,
  namespace,
  serviceAccount,
  viaIdentityBinding: true,
});

/**
 * A SecretProviderClass of a migrated namespace, with the parameter to set unless it has it. Its binding is any of the
 * namespace's ServiceAccounts: a class serves every pod of its namespace that mounts it.
 */
const classSwitch = (
  where: 'secretsFile' | 'secretsCluster',
  m: ClusterMigration,
  at: { name: string; namespace: string; path?: string; index?: number },
  proxied: boolean,
): WorkloadSwitch => ({
  where,
  binding: migrated(m.cluster, at.namespace, m.serviceAccounts.find((s) => s.namespace === at.namespace)!.name),
  plan: { ...at, changes: proxied ? [] : [TOKEN_PROXY_CHANGE], warnings: [] },
});

/**
 * The open folders' SecretProviderClasses that name the identity, in a migrated namespace or in none (kubectl -n or
 * Kustomize sets it). Files that are not YAML are skipped here: the workloads' search reports them.
 */
function secretProviderClassFiles(
  yaml: WorkspaceFile[],
  clusters: ClusterMigration[],
  sameClient: (id: unknown) => boolean,
): WorkloadSwitch[] {
  const out: WorkloadSwitch[] = [];
  for (const f of yaml) {
    let found: ReturnType<typeof secretProviderClassesIn> = [];
    try {
      found = secretProviderClassesIn(f.text);
    } catch (e) {
      if (!errorNamed(e, 'YamlEditError')) throw e;
    }
    for (const c of found) {
      if (!sameClient(c.clientId)) continue;
      const m = clusters.find((x) =>
        x.serviceAccounts.some((s) => c.namespace === undefined || s.namespace === c.namespace),
      );
      if (!m) continue;
      const namespace = c.namespace ?? m.serviceAccounts[0]!.namespace;
      out.push(classSwitch('secretsFile', m, { name: c.name, namespace, path: f.path, index: c.index }, c.proxied));
    }
  }
  return out;
}

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
  const clientId = plan.request.identity.clientId.toLowerCase();
  const sameClient = (id: unknown) => typeof id === 'string' && id.toLowerCase() === clientId;
  const unreadable: string[] = [];
  const live = await mapLimit(clusters, 8, async (m): Promise<WorkloadSwitch[]> => {
    try {
      const kube = await deps.kube(m.cluster);
      const namespaces = [...new Set(m.serviceAccounts.map((s) => s.namespace))];
      const found = await Promise.all(namespaces.map(async (ns) => (await kube.listWorkloads(ns)).map(toLiveWorkload)));
      const classes = await Promise.all(
        namespaces.map(async (ns) =>
          (await kube.listSecretProviderClasses(ns))
            .filter((o) => sameClient(o.spec?.parameters?.clientID))
            .map((o) =>
              classSwitch(
                'secretsCluster',
                m,
                { name: o.metadata.name, namespace: ns },
                o.spec.parameters[USE_AZURE_TOKEN_PROXY] === 'true',
              ),
            ),
        ),
      );
      const workloads = found.flat().flatMap((w): WorkloadSwitch[] => {
        const sa = m.serviceAccounts.find((s) => s.namespace === w.namespace && s.name === w.serviceAccountName);
        if (!sa) return [];
        const binding = migrated(m.cluster, sa.namespace, sa.name);
        return [{ where: 'cluster', binding, plan: planLive(w, binding, []) }];
      });
      // A SecretProviderClass first: pods that roll out mount it through the proxy.
      return [...classes.flat(), ...workloads];
    } catch (e) {
      unreadable.push(`${m.cluster.name}: ${errorMessage(e)}`);
      return [];
    }
  });
  const inWorkspace: WorkloadSwitch[] = [];
  if (files) {
    const yaml = await files.yamlFiles();
    const seen = new Set<string>();
    // The files are parsed once per namespace, whatever the number of clusters and ServiceAccounts in it.
    for (const namespace of new Set(clusters.flatMap((m) => m.serviceAccounts.map((s) => s.namespace)))) {
      const { candidates, skipped } = findCandidates(yaml, namespace);
      for (const s of skipped) unreadable.push(`${s.path}: ${s.reason}`);
      for (const candidate of candidates) {
        const key = `${candidate.path}#${candidate.workload.index}`;
        const name = candidate.workload.serviceAccountName;
        const m = clusters.find((x) => x.serviceAccounts.some((s) => s.namespace === namespace && s.name === name));
        if (!m || seen.has(key)) continue;
        seen.add(key);
        const binding = migrated(m.cluster, namespace, name!);
        const text = yaml.find((f) => f.path === candidate.path)!.text;
        try {
          inWorkspace.push({ where: 'file', binding, plan: planConnect(text, candidate, binding, []) });
        } catch (e) {
          // A template Connect cannot edit in place (an alias, an empty key) is named, not taken as switched.
          if (!errorNamed(e, 'YamlEditError')) throw e;
          unreadable.push(`${candidate.path}: ${errorMessage(e)}`);
        }
      }
    }
    inWorkspace.unshift(...secretProviderClassFiles(yaml, clusters, sameClient));
  }
  const inCluster = live.flat();
  return {
    inWorkspace,
    inCluster: inCluster.filter((s) => s.where !== 'cluster' || !s.plan.blocked),
    blocked: inCluster.flatMap((s) =>
      s.where === 'cluster' && s.plan.blocked ? [{ name: switchName(s), reason: s.plan.blocked }] : [],
    ),
    unreadable: [...new Set(unreadable)],
  };
}

/** What a switch did: changed something, or found it done; for a rollout, what the new pods have. */
export type SwitchOutcome = { switch: WorkloadSwitch } & (
  { changed: boolean; pods?: ConnectResult['pods'] } | { error: unknown }
);

/**
 * Connect's run for each workload, and the one parameter for each SecretProviderClass: each reads first, so what is
 * switched is left as it is and a rerun finishes what failed. Clusters at once, one after another within a cluster
 * (each workload waits for its rollout); files in turn. One that fails does not stop the others.
 */
export async function switchWorkloads(
  switches: WorkloadSwitch[],
  deps: ConnectDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<SwitchOutcome[]> {
  const byCluster = new Map<string, WorkloadSwitch[]>();
  for (const s of switches) {
    const key = s.where === 'file' || s.where === 'secretsFile' ? 'files' : s.binding.cluster.id.toLowerCase();
    byCluster.set(key, [...(byCluster.get(key) ?? []), s]);
  }
  const outcomes = await Promise.all(
    [...byCluster.values()].map(async (group) => {
      const out: SwitchOutcome[] = [];
      for (const s of group) {
        try {
          out.push({ switch: s, ...(await switchOne(s, deps, opts)) });
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

async function switchOne(
  s: WorkloadSwitch,
  deps: ConnectDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<{ changed: boolean; pods?: ConnectResult['pods'] }> {
  if (s.where === 'secretsFile') {
    const { path, index, name } = s.plan;
    const text = await deps.files.read(path!);
    if (text === undefined || secretProviderClassesIn(text).find((c) => c.index === index)?.name !== name)
      throw new YamlEditError(
        l10n.t('{0} no longer defines SecretProviderClass {1} where it did: migrate again.', path!, name),
      );
    const edited = useTokenProxyInYaml(text, index!);
    if (edited.changes.length) await deps.files.write(path!, edited.text);
    return { changed: edited.changes.length > 0 };
  }
  if (s.where === 'secretsCluster') {
    const kube = await deps.kube(s.binding.cluster);
    const { name, namespace } = s.plan;
    const current = (await kube.listSecretProviderClasses(namespace)).find((o) => o.metadata.name === name);
    if (!current)
      throw new Error(l10n.t('SecretProviderClass {0} is no longer in {1}: migrate again.', name, namespace));
    if (current.spec?.parameters?.[USE_AZURE_TOKEN_PROXY] === 'true') return { changed: false };
    // Only the one key, by server-side apply: the class's other parameters stay its owner's.
    await kube.applySecretProviderClass({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name, namespace },
      spec: { provider: 'azure', parameters: { [USE_AZURE_TOKEN_PROXY]: 'true' } },
    });
    return { changed: true };
  }
  const result = await runConnect({ binding: s.binding, serviceAccounts: [], change: s }, deps, {
    signal: opts.signal,
    progress: (m) => opts.progress?.(`${switchName(s)}: ${m}`),
  });
  return {
    changed: [...result.records.values()].some((r) => r.result === 'written' || r.result === 'updated'),
    ...(result.pods ? { pods: result.pods } : {}),
  };
}
