import * as l10n from '@vscode/l10n';
import type { ManagedCluster } from '@azure/arm-containerservice';
import { AzureClientFactory } from './clients';
import { ResourceRef } from './resourceId';

export type { ManagedCluster };

export interface PutProgress {
  /** The poller's status: running, succeeded, failed. */
  status: string;
}

/** AKS managed clusters: the calls the extension makes, and no others. */
export class ClusterGateway {
  constructor(private readonly clients: AzureClientFactory) {}

  get(ref: ResourceRef, signal?: AbortSignal): Promise<ManagedCluster> {
    return this.clients
      .containerService(ref.subscriptionId)
      .managedClusters.get(ref.resourceGroup, ref.name, { abortSignal: signal });
  }

  /** PUTs the whole cluster and follows the long-running operation until it ends or the signal aborts the wait. */
  async put(
    ref: ResourceRef,
    cluster: ManagedCluster,
    opts: { signal?: AbortSignal; onProgress?: (p: PutProgress) => void; onAccepted?: () => void } = {},
  ): Promise<ManagedCluster> {
    const poller = this.clients
      .containerService(ref.subscriptionId)
      .managedClusters.createOrUpdate(ref.resourceGroup, ref.name, cluster, {
        updateIntervalInMs: 5000,
        onResponse: (r) => {
          if (r.request.method === 'PUT' && r.status < 300) opts.onAccepted?.();
        },
      });
    poller.onProgress((s) => opts.onProgress?.({ status: s.status }));
    await poller.submitted();
    return poller.pollUntilDone({ abortSignal: opts.signal });
  }

  async userKubeconfig(ref: ResourceRef, signal?: AbortSignal): Promise<string> {
    const res = await this.clients
      .containerService(ref.subscriptionId)
      .managedClusters.listClusterUserCredentials(ref.resourceGroup, ref.name, { abortSignal: signal });
    const value = res.kubeconfigs?.[0]?.value;
    if (!value) throw new Error(l10n.t('AKS returned no user kubeconfig for this cluster.'));
    return Buffer.from(value).toString('utf8');
  }

  async runCommand(
    ref: ResourceRef,
    command: string,
    context: string | undefined,
    clusterToken: string | undefined,
    signal?: AbortSignal,
  ) {
    const poller = this.clients
      .containerService(ref.subscriptionId)
      .managedClusters.runCommand(
        ref.resourceGroup,
        ref.name,
        { command, context, clusterToken },
        { updateIntervalInMs: 2000, abortSignal: signal },
      );
    const result = await poller.pollUntilDone({ abortSignal: signal });
    return { exitCode: result.exitCode ?? -1, logs: result.logs ?? '' };
  }
}
