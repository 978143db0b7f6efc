import type { ManagedCluster } from '@azure/arm-containerservice';
import { ResourceRef, parseResourceId } from '../azure/resourceId';
import { throwIfAborted } from '../errors';

export type WorkloadIdentityState = 'off' | 'oidcOnly' | 'on';

/** What the tree and the commands need to know about a cluster. */
export interface ClusterSummary extends ResourceRef {
  location: string;
  kubernetesVersion?: string;
  provisioningState?: string;
  oidcIssuerEnabled: boolean;
  issuerUrl?: string;
  workloadIdentityEnabled: boolean;
  entraId: boolean;
  private: boolean;
  /** API server VNet integration: identity bindings are not supported there. Known from an ARM read, not the tree's. */
  vnetIntegration?: boolean;
  /** AKS run-command turned off (apiServerAccessProfile.disableRunCommand). Known from an ARM read, not the tree's. */
  runCommandDisabled?: boolean;
}

export const workloadIdentityState = (
  c: Pick<ClusterSummary, 'oidcIssuerEnabled' | 'workloadIdentityEnabled'>,
): WorkloadIdentityState =>
  c.oidcIssuerEnabled && c.workloadIdentityEnabled ? 'on' : c.oidcIssuerEnabled ? 'oidcOnly' : 'off';

/** From a Resource Graph row or an ARM list entry: raw JSON with `properties`. */
export function clusterFromRaw(r: any): ClusterSummary {
  const p = r.properties ?? {};
  return {
    ...parseResourceId(r.id),
    location: r.location,
    kubernetesVersion: p.currentKubernetesVersion ?? p.kubernetesVersion,
    provisioningState: p.provisioningState,
    oidcIssuerEnabled: !!p.oidcIssuerProfile?.enabled,
    issuerUrl: p.oidcIssuerProfile?.issuerURL,
    workloadIdentityEnabled: !!p.securityProfile?.workloadIdentity?.enabled,
    entraId: !!p.aadProfile,
    private: !!p.apiServerAccessProfile?.enablePrivateCluster,
    ...(p.apiServerAccessProfile?.enableVnetIntegration ? { vnetIntegration: true } : {}),
    ...(p.apiServerAccessProfile?.disableRunCommand ? { runCommandDisabled: true } : {}),
  };
}

/** From the SDK's model, whose properties are flattened. */
export function clusterFromSdk(mc: ManagedCluster): ClusterSummary {
  return {
    ...parseResourceId(mc.id!),
    location: mc.location,
    kubernetesVersion: mc.currentKubernetesVersion ?? mc.kubernetesVersion,
    provisioningState: mc.provisioningState,
    oidcIssuerEnabled: !!mc.oidcIssuerProfile?.enabled,
    issuerUrl: mc.oidcIssuerProfile?.issuerURL,
    workloadIdentityEnabled: !!mc.securityProfile?.workloadIdentity?.enabled,
    entraId: !!mc.aadProfile,
    private: !!mc.apiServerAccessProfile?.enablePrivateCluster,
    ...(mc.apiServerAccessProfile?.enableVnetIntegration ? { vnetIntegration: true } : {}),
    ...(mc.apiServerAccessProfile?.disableRunCommand ? { runCommandDisabled: true } : {}),
  };
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);
export const isBusy = (provisioningState?: string) =>
  !!provisioningState && !TERMINAL.has(provisioningState.toLowerCase());

export interface ClusterApi {
  get(ref: ResourceRef, signal?: AbortSignal): Promise<ManagedCluster>;
  put(
    ref: ResourceRef,
    cluster: ManagedCluster,
    opts: { signal?: AbortSignal; onProgress?: (p: { status: string }) => void; onAccepted?: () => void },
  ): Promise<ManagedCluster>;
}

/** Polls until the cluster's operation ends (after the user stopped waiting), then returns its state. */
export async function waitUntilSettled(
  api: ClusterApi,
  ref: ResourceRef,
  intervalMs: number,
  signal?: AbortSignal,
): Promise<ClusterSummary> {
  for (;;) {
    const c = clusterFromSdk(await api.get(ref, signal));
    if (!isBusy(c.provisioningState)) return c;
    await new Promise((r) => setTimeout(r, intervalMs));
    throwIfAborted(signal);
  }
}
