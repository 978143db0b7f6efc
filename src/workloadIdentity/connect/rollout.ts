import * as l10n from '@vscode/l10n';
import type { PodInfo } from '../../kube/access';
import { TOKEN_FILE_ENV, TOKEN_PROXY_ENV } from '../verify/checks';

/** Where a rollout stands, as `kubectl rollout status` would say it. */
export type RolloutState = { done: true } | { done: false; waiting: string } | { done: false; failed: string };

const REVISION = 'deployment.kubernetes.io/revision';

/**
 * kubectl's rules (rollout_status.go), per kind. A Deployment is done when the controller has seen the change, every
 * replica is updated, no old replica is left, and the updated ones are available; availableReplicas alone counts old
 * pods too.
 */
export function rolloutState(o: any): RolloutState {
  const s = o.status ?? {};
  const generation = o.metadata?.generation ?? 1;
  const observed = s.observedGeneration ?? 0;
  if (o.kind === 'Deployment') {
    if (observed < generation)
      return { done: false, waiting: l10n.t('Waiting for the deployment spec update to be observed.') };
    const progressing = (s.conditions ?? []).find((c: any) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded')
      return { done: false, failed: l10n.t('Deployment {0} exceeded its progress deadline.', o.metadata.name) };
    const want = o.spec?.replicas ?? 1;
    const updated = s.updatedReplicas ?? 0,
      replicas = s.replicas ?? 0,
      available = s.availableReplicas ?? 0;
    if (updated < want)
      return { done: false, waiting: l10n.t('{0} out of {1} new replicas have been updated.', updated, want) };
    if (replicas > updated)
      return { done: false, waiting: l10n.t('{0} old replicas are pending termination.', replicas - updated) };
    if (available < updated)
      return { done: false, waiting: l10n.t('{0} of {1} updated replicas are available.', available, updated) };
    return { done: true };
  }
  if (o.kind === 'StatefulSet') {
    if (o.spec?.updateStrategy?.type === 'OnDelete') return { done: true };
    if (observed === 0 || observed < generation)
      return { done: false, waiting: l10n.t('Waiting for the statefulset spec update to be observed.') };
    const want = o.spec?.replicas ?? 1;
    if ((s.readyReplicas ?? 0) < want)
      return { done: false, waiting: l10n.t('{0} of {1} pods are ready.', s.readyReplicas ?? 0, want) };
    const partition = o.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (partition > 0)
      return (s.updatedReplicas ?? 0) < want - partition
        ? {
            done: false,
            waiting: l10n.t('{0} of {1} pods updated (partitioned).', s.updatedReplicas ?? 0, want - partition),
          }
        : { done: true };
    if (s.updateRevision !== s.currentRevision)
      return {
        done: false,
        waiting: l10n.t('{0} pods at revision {1}.', s.updatedReplicas ?? 0, s.updateRevision ?? '?'),
      };
    return { done: true };
  }
  if (o.kind === 'DaemonSet') {
    if (o.spec?.updateStrategy?.type === 'OnDelete') return { done: true };
    if (observed < generation)
      return { done: false, waiting: l10n.t('Waiting for the daemon set spec update to be observed.') };
    const want = s.desiredNumberScheduled ?? 0;
    if ((s.updatedNumberScheduled ?? 0) < want)
      return {
        done: false,
        waiting: l10n.t('{0} out of {1} new pods have been updated.', s.updatedNumberScheduled ?? 0, want),
      };
    if ((s.numberAvailable ?? 0) < want)
      return { done: false, waiting: l10n.t('{0} of {1} updated pods are available.', s.numberAvailable ?? 0, want) };
    return { done: true };
  }
  return { done: true };
}

/** The pods of the workload's current revision: the ones its rollout made. */
export function newRevisionPods(o: any, pods: PodInfo[]): PodInfo[] {
  const ownedBy = (p: PodInfo) => p.owner?.kind === o.kind && p.owner?.name === o.metadata.name;
  if (o.kind === 'Deployment') {
    const revision = o.metadata.annotations?.[REVISION];
    return pods.filter((p) => ownedBy(p) && p.replicaSetRevision === revision);
  }
  if (o.kind === 'StatefulSet')
    return pods.filter((p) => ownedBy(p) && p.labels['controller-revision-hash'] === o.status?.updateRevision);
  if (o.kind === 'DaemonSet')
    return pods.filter((p) => ownedBy(p) && p.labels['pod-template-generation'] === String(o.metadata.generation ?? 1));
  return [];
}

/** Reasons a container waits that waiting longer does not clear: the rollout cannot finish on its own. */
const STUCK = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** A new pod that will not become ready by itself, with its reason. */
export const stuckPod = (pods: PodInfo[]) => pods.find((p) => !p.ready && p.waiting && STUCK.has(p.waiting.reason));

/** What to run to see why a pod does not start. */
export const podRemedy = (pod: string, namespace: string) =>
  l10n.t(
    'The change is applied. See why: kubectl describe pod {0} -n {1}, and kubectl logs {0} -n {1}. Fix the workload, then Retry: Connect reads first and follows the rollout.',
    pod,
    namespace,
  );

/**
 * The rollout's new, ready pods, and whether each got the federated token (and, through an identity binding, the
 * proxy: a webhook older than v1.6 gives the token alone): what Connect reports when it is done.
 */
export function newPodsSummary(
  o: any,
  pods: PodInfo[],
  serviceAccount: string,
  viaIdentityBinding = false,
): { level: 'info' | 'warning'; message: string } {
  const wanted = viaIdentityBinding ? [TOKEN_FILE_ENV, TOKEN_PROXY_ENV] : [TOKEN_FILE_ENV];
  const ready = newRevisionPods(o, pods).filter((p) => p.ready && p.serviceAccount === serviceAccount);
  const missing = ready.filter((p) => wanted.some((e) => !p.env.includes(e)));
  if (!ready.length)
    return { level: 'warning', message: l10n.t('No ready pod of the new revision runs as {0} yet.', serviceAccount) };
  if (missing.length)
    return {
      level: 'warning',
      message: l10n.t(
        '{0} of {1} new pods have no {2}: {3}. Run Verify to see why.',
        missing.length,
        ready.length,
        wanted.filter((e) => missing.some((p) => !p.env.includes(e))).join(', '),
        missing.map((p) => p.name).join(', '),
      ),
    };
  const have = wanted.join(', ');
  return {
    level: 'info',
    message:
      ready.length === 1
        ? l10n.t('Its new pod is ready and has {0}.', have)
        : l10n.t('All {0} new pods are ready and have {1}.', ready.length, have),
  };
}
