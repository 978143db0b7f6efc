import type { IdentityBinding } from '@azure/arm-containerservice';
import { AzureClientFactory } from './clients';
import { ResourceRef } from './resourceId';

/** AKS's one federated credential on an identity that identity bindings share; AKS makes it, never the extension. */
export const IDENTITY_BINDING_CREDENTIAL = 'aks-identity-binding';
/** The audience of the tokens a pod presents through AKS's proxy in identity-binding mode. */
export const IDENTITY_BINDING_AUDIENCE = 'api://AKSIdentityBinding';

/** An identity binding as the extension uses it: which identity it binds, its issuer, and whether it succeeded. */
export interface IdentityBindingInfo {
  id: string;
  name: string;
  identityId: string;
  clientId?: string;
  tenantId?: string;
  /** Shared by every binding of the identity: `https://ib.oic.prod-aks.azure.com/<tenant>/<client-id>`. */
  issuerUrl?: string;
  provisioningState?: string;
}

const toInfo = (b: IdentityBinding): IdentityBindingInfo => ({
  id: b.id!,
  name: b.name!,
  identityId: b.properties!.managedIdentity.resourceId,
  clientId: b.properties?.managedIdentity.clientId,
  tenantId: b.properties?.managedIdentity.tenantId,
  issuerUrl: b.properties?.oidcIssuer?.oidcIssuerUrl,
  provisioningState: b.properties?.provisioningState,
});

/** A cluster's identity bindings (managedClusters/identityBindings, api-version 2026-06-01): the calls made, no others. */
export class IdentityBindingGateway {
  constructor(private readonly clients: AzureClientFactory) {}

  async list(cluster: ResourceRef, signal?: AbortSignal): Promise<IdentityBindingInfo[]> {
    const out: IdentityBindingInfo[] = [];
    for await (const b of this.clients
      .containerService(cluster.subscriptionId)
      .identityBindings.listByManagedCluster(cluster.resourceGroup, cluster.name, { abortSignal: signal }))
      out.push(toInfo(b));
    return out;
  }

  /** undefined when it does not exist. */
  async find(cluster: ResourceRef, name: string, signal?: AbortSignal): Promise<IdentityBindingInfo | undefined> {
    try {
      return toInfo(
        await this.clients
          .containerService(cluster.subscriptionId)
          .identityBindings.get(cluster.resourceGroup, cluster.name, name, { abortSignal: signal }),
      );
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  /** PUTs the binding and follows its long-running operation to the end. */
  async put(
    cluster: ResourceRef,
    name: string,
    identityId: string,
    opts: { signal?: AbortSignal; onProgress?: (status: string) => void } = {},
  ): Promise<IdentityBindingInfo> {
    const poller = this.clients
      .containerService(cluster.subscriptionId)
      .identityBindings.createOrUpdate(
        cluster.resourceGroup,
        cluster.name,
        name,
        { properties: { managedIdentity: { resourceId: identityId } } },
        { updateIntervalInMs: 2000, abortSignal: opts.signal },
      );
    poller.onProgress((s) => opts.onProgress?.(s.status));
    return toInfo(await poller.pollUntilDone({ abortSignal: opts.signal }));
  }

  /** Deleting what is gone is no error. AKS keeps its credential on the identity. */
  async delete(cluster: ResourceRef, name: string, signal?: AbortSignal): Promise<void> {
    await this.clients
      .containerService(cluster.subscriptionId)
      .identityBindings.delete(cluster.resourceGroup, cluster.name, name, { abortSignal: signal })
      .pollUntilDone({ abortSignal: signal });
  }
}
