import * as l10n from '@vscode/l10n';
import type { ManagedCluster } from '@azure/arm-containerservice';
import type { ResourceRef } from '../../azure/resourceId';
import { CancelledError, StepError, describeError, errorNamed, throwIfAborted } from '../../errors';
import {
  ClusterApi,
  ClusterSummary,
  clusterFromSdk,
  isBusy,
  waitUntilSettled,
  workloadIdentityState,
} from '../cluster';

export type EnableOutcome =
  { kind: 'alreadyOn'; cluster: ClusterSummary } | { kind: 'enabled'; cluster: ClusterSummary };

const enableStep = () => l10n.t('Enable workload identity on the cluster');
export const WRITE_PERMISSION = 'Microsoft.ContainerService/managedClusters/write';

/** The cluster as it will be PUT: the GET unchanged except for the two flags, as az CLI does. */
export function withWorkloadIdentity(mc: ManagedCluster): ManagedCluster {
  return {
    ...mc,
    oidcIssuerProfile: { ...mc.oidcIssuerProfile, enabled: true },
    securityProfile: {
      ...mc.securityProfile,
      workloadIdentity: { ...mc.securityProfile?.workloadIdentity, enabled: true },
    },
  };
}

export class ClusterBusyError extends StepError {
  constructor(name: string, state: string) {
    super(
      enableStep(),
      'ClusterBusy',
      l10n.t(
        'The cluster {0} is busy ({1}). Nothing was sent; try again when its current operation has finished.',
        name,
        state,
      ),
      l10n.t('Retry later.'),
      409,
    );
  }
}

export class UpdateStillRunningError extends CancelledError {
  constructor(readonly clusterName: string) {
    super(l10n.t('Stopped waiting. The update of {0} goes on in Azure; the tree shows when it ends.', clusterName));
  }
}

/**
 * Step 1 and 2 of the lab. Reads the cluster, sends nothing if both flags are on or it is busy,
 * otherwise PUTs it back with only the two flags changed and follows the operation.
 */
export async function enableWorkloadIdentity(
  api: ClusterApi,
  ref: ResourceRef,
  opts: {
    signal?: AbortSignal;
    onProgress?: (message: string) => void;
    onAccepted?: () => void;
    settleIntervalMs?: number;
  } = {},
): Promise<EnableOutcome> {
  const wrap = (e: unknown): never => {
    if (errorNamed(e, 'StepError', 'CancelledError')) throw e;
    if (opts.signal?.aborted)
      throw new CancelledError(l10n.t('Cancelled before the update was sent. Nothing changed.'));
    const d = describeError(e);
    if (d.status === 409) throw new ClusterBusyError(ref.name, d.message);
    if (d.status === 403) {
      throw new StepError(
        enableStep(),
        d.code,
        l10n.t('You lack the permission {0} on {1}. Nothing changed.', WRITE_PERMISSION, ref.name),
        l10n.t('Ask for the Azure Kubernetes Service Contributor role on the cluster.'),
        403,
      );
    }
    throw new StepError(enableStep(), d.code, d.message, undefined, d.status);
  };
  let current: ManagedCluster;
  try {
    current = await api.get(ref, opts.signal);
  } catch (e) {
    return wrap(e);
  }
  const summary = clusterFromSdk(current);
  if (workloadIdentityState(summary) === 'on') {
    // Someone else's update that turns it on is still running: the issuer URL comes when it ends.
    if (isBusy(summary.provisioningState)) {
      opts.onProgress?.(l10n.t('Waiting for the running update of {0} to finish…', ref.name));
      const settled = await waitUntilSettled(api, ref, opts.settleIntervalMs ?? 2000, opts.signal).catch(wrap);
      if (workloadIdentityState(settled) === 'on' && settled.issuerUrl) return { kind: 'alreadyOn', cluster: settled };
      throw new StepError(
        enableStep(),
        'UpdateFailed',
        l10n.t(
          'The running update of {0} ended {1} without workload identity.',
          ref.name,
          settled.provisioningState ?? '?',
        ),
      );
    }
    return { kind: 'alreadyOn', cluster: summary };
  }
  if (isBusy(current.provisioningState)) throw new ClusterBusyError(ref.name, current.provisioningState!);
  throwIfAborted(opts.signal);
  opts.onProgress?.(l10n.t('Updating the cluster (this takes several minutes)…'));
  let accepted = false;
  try {
    const done = await api.put(ref, withWorkloadIdentity(current), {
      signal: opts.signal,
      onAccepted: () => {
        accepted = true;
        opts.onAccepted?.();
      },
      onProgress: (p) => opts.onProgress?.(l10n.t('Cluster update: {0}…', p.status)),
    });
    const after = clusterFromSdk(done);
    if (done.provisioningState && done.provisioningState !== 'Succeeded') {
      throw new StepError(enableStep(), 'UpdateFailed', l10n.t('The update ended {0}.', done.provisioningState));
    }
    return { kind: 'enabled', cluster: after };
  } catch (e) {
    if (errorNamed(e, 'AbortError') || opts.signal?.aborted) {
      // onAccepted may have set it during the await: the compiler's narrowing does not see that.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (accepted) throw new UpdateStillRunningError(ref.name);
      throw new CancelledError(l10n.t('Cancelled before the update was sent. Nothing changed.'));
    }
    return wrap(e);
  }
}
