import { IncompleteRunError, errorMessage } from '../../errors';
import { runSteps } from '../../wizard/wizard';
import { BindState, BindStepId, StepRecord, stepTitle } from '../bind/model';
import { identityBindingStep, managedCredentialStep, useIdentityRbacStep } from '../bind/steps';
import { credentialRemovalStep } from '../remove/steps';
import type { Removal } from '../remove/model';
import { bindingRequest } from './plan';
import type { ClusterMigration, MigrateDeps, MigratePlan } from './model';

export type ClusterOutcome = { cluster: ClusterMigration['cluster'] } & (
  { records: StepRecord[] } | { error: unknown }
);

/**
 * The first phase: on each cluster, at once, the identity binding, AKS's credential checked, and the RBAC for each
 * ServiceAccount. The direct credentials stay, so both work. Bind's own steps: each reads first, and a rerun writes
 * nothing. A cluster that fails does not stop the others.
 */
export async function runMigration(
  plan: MigratePlan,
  deps: MigrateDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<ClusterOutcome[]> {
  const identity = plan.request.identity;
  return Promise.all(
    plan.clusters
      .filter((m) => !m.steps.some((s) => s.planned === 'blocked'))
      .map(async (m): Promise<ClusterOutcome> => {
        try {
          const kube = await deps.kube(m.cluster);
          const records: StepRecord[] = [];
          for (const [i, sa] of m.serviceAccounts.entries()) {
            const ids: BindStepId[] =
              i === 0 ? ['identityBinding', 'managedCredential', 'useIdentityRbac'] : ['useIdentityRbac'];
            const state: BindState = {
              request: bindingRequest(identity, m.cluster, sa.namespace, sa.name),
              records: new Map(
                ids.map((id) => [
                  id,
                  { id, title: stepTitle(id), resource: `${sa.namespace}/${sa.name}`, planned: 'unchanged' },
                ]),
              ),
              identity,
              kube,
            };
            const steps = [identityBindingStep(deps), managedCredentialStep(deps), useIdentityRbacStep()].filter((s) =>
              ids.includes(s.id as BindStepId),
            );
            await runSteps(steps, state, (p) => opts.progress?.(`${m.cluster.name}: ${p}`), opts.signal);
            records.push(...state.records.values());
          }
          return { cluster: m.cluster, records };
        } catch (error) {
          deps.log.error(`Migrate: ${m.cluster.name}: ${errorMessage(error)}`);
          return { cluster: m.cluster, error };
        }
      }),
  );
}

/** The last phase, once the workloads run through the bindings: the direct credentials, each read first. */
export async function retireDirectCredentials(
  plan: MigratePlan,
  deps: MigrateDeps,
  opts: { signal: AbortSignal; progress?: (message: string) => void },
): Promise<Removal[]> {
  const removals = plan.retire;
  try {
    await runSteps(
      [credentialRemovalStep(deps)],
      { plan: { removals } },
      opts.progress ?? (() => undefined),
      opts.signal,
    );
  } catch (e) {
    for (const r of removals) if (!r.result) r.result = 'notRun';
    const done = (r: Removal) => r.result === 'removed' || r.result === 'alreadyGone';
    throw new IncompleteRunError(
      'Migrate',
      e,
      removals,
      removals.filter(done).map((r) => r.resource),
      removals.filter((r) => !done(r)).map((r) => r.resource),
    );
  }
  return removals;
}
