import { setMaxListeners } from 'node:events';
import * as l10n from '@vscode/l10n';
import type { ClusterSummary } from '../cluster';
import { MAX_CREDENTIALS_PER_IDENTITY } from '../names';
import type { IdentityInfo } from '../../azure/identities';
import { deferred } from '../../util/concurrency';
import type { BindDeps, BindRequest, BindResult, StepRecord } from './model';
import { planBind } from './plan';
import { RunClusterUpdate } from './steps';
import { runBind } from './run';

/** One Bind for several clusters: the same namespace, ServiceAccount, vault, identity and permissions on each. */
export interface FleetRequest extends Omit<BindRequest, 'cluster'> {
  clusters: ClusterSummary[];
}

export const clusterRequest = (f: FleetRequest, cluster: ClusterSummary): BindRequest => {
  const { clusters: _all, ...rest } = f;
  return { ...rest, cluster };
};

export interface FleetPlan {
  clusters: { cluster: ClusterSummary; steps: StepRecord[] }[];
  /** The identity's federated credentials now and after the run, of its limit. */
  budget: { before: number; after: number; limit: number };
}

/** Each cluster's plan, read side by side, and what the run does to the identity's credential budget. */
export async function planFleet(f: FleetRequest, deps: BindDeps, signal?: AbortSignal): Promise<FleetPlan> {
  const [clusters, before] = await Promise.all([
    Promise.all(
      f.clusters.map(async (cluster) => ({ cluster, steps: await planBind(clusterRequest(f, cluster), deps, signal) })),
    ),
    f.identity.kind === 'existing'
      ? deps.identities.listCredentials(f.identity.identity, signal).then((l) => l.length)
      : Promise.resolve(0),
  ]);
  // The identity and the grant are made once, by the first cluster's run, and AKS's credential of identity bindings
  // with the first binding: the others' plans find them in place.
  const [first] = f.clusters;
  const once = new Set(['identity', 'vault', 'managedCredential']);
  for (const c of clusters.slice(1))
    for (const s of c.steps)
      if (once.has(s.id) && (s.planned === 'create' || s.planned === 'update')) {
        s.planned = 'unchanged';
        s.detail = l10n.t('made once, with {0}', first!.name);
      }
  // Direct federation adds a credential per cluster; identity bindings share AKS's one.
  const added = clusters.filter((c) =>
    c.steps.some((s) => (s.id === 'credential' || s.id === 'managedCredential') && s.planned === 'create'),
  ).length;
  return { clusters, budget: { before, after: before + added, limit: MAX_CREDENTIALS_PER_IDENTITY } };
}

export const overBudget = (p: FleetPlan) => p.budget.after > p.budget.limit;

export type FleetOutcome = { cluster: ClusterSummary } & ({ result: BindResult } | { error: unknown });

/**
 * Binds each cluster with Bind's own run, all at once. The first makes the identity and the vault grant; the others
 * reach their clusters meanwhile; their identity step takes the first's identity as soon as it has one, and their
 * grant step the first's grant, then find them in place
 * (credential writes on the identity queue one at a time, as Azure requires). A failure on one cluster does not stop the others; running again for the failed ones
 * finishes the work.
 */
export async function runFleet(
  f: FleetRequest,
  deps: BindDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void; runClusterUpdate?: RunClusterUpdate },
): Promise<FleetOutcome[]> {
  const [first, ...rest] = f.clusters;
  if (!first) return [];
  // Every cluster's run listens on the one signal (Node warns past 10 listeners by default).
  setMaxListeners(Math.max(10, f.clusters.length * 8), opts.signal);
  const identity = deferred<IdentityInfo | undefined>();
  const granted = deferred<boolean>();
  const one = (cluster: ClusterSummary, hooks: Pick<Parameters<typeof runBind>[2], 'onStepEnded' | 'shared'>) =>
    runBind(clusterRequest(f, cluster), deps, {
      ...opts,
      ...hooks,
      progress: (m) => opts.progress?.(`${cluster.name}: ${m}`),
    }).then(
      (result): FleetOutcome => ({ cluster, result }),
      (error: unknown): FleetOutcome => ({ cluster, error }),
    );
  const head = one(first, {
    onStepEnded: (id, state) => {
      const result = state.records.get(id)?.result;
      if (id === 'identity') identity.resolve(state.identity);
      if (id === 'vault') granted.resolve(result === 'created' || result === 'unchanged');
    },
  }).finally(() => {
    // The first stopped before these steps: the others read for themselves.
    identity.resolve(undefined);
    granted.resolve(false);
  });
  // The others reach their clusters meanwhile; only their identity and grant steps wait for the first's.
  const tail = Promise.all(
    rest.map((c) => one(c, { shared: { identity: identity.promise, granted: granted.promise } })),
  );
  return [await head, ...(await tail)];
}
