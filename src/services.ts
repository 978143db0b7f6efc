/**
 * Everything that loads the Azure SDKs and @kubernetes/client-node. extension.ts requires this module
 * on first use, so activation loads none of them.
 */
import type { TokenCredential } from '@azure/core-auth';
import { AzureCliCredential } from '@azure/identity';
import { AzureCloud } from './auth/cloud';
import { AzureClientFactory, ClientOptions } from './azure/clients';
import { ClusterGateway } from './azure/clusters';
import { IdentityGateway } from './azure/identities';
import { ArmInventorySource } from './azure/inventorySource';
import { Logger } from './log';

export interface TenantInfo { tenantId: string; displayName?: string; defaultDomain?: string }
export interface SubscriptionInfo { subscriptionId: string; displayName: string; tenantId?: string }

export function createAzureServices(cloud: AzureCloud, credential: TokenCredential, log: Logger, options: ClientOptions = {}) {
  const clients = new AzureClientFactory(cloud, credential, log, options);
  return {
    clients,
    clusters: new ClusterGateway(clients),
    identities: new IdentityGateway(clients),
    inventory: new ArmInventorySource(clients),
    async listSubscriptions(): Promise<SubscriptionInfo[]> {
      const out: SubscriptionInfo[] = [];
      for await (const s of clients.subscriptions().subscriptions.list()) {
        if (s.state && s.state !== 'Enabled') continue;
        out.push({ subscriptionId: s.subscriptionId!, displayName: s.displayName ?? s.subscriptionId!, tenantId: s.tenantId });
      }
      return out.sort((a, b) => a.displayName.localeCompare(b.displayName));
    },
    async listTenants(): Promise<TenantInfo[]> {
      const out: TenantInfo[] = [];
      for await (const t of clients.subscriptions().tenants.list()) out.push({ tenantId: t.tenantId!, displayName: t.displayName, defaultDomain: t.defaultDomain });
      return out;
    },
  };
}

export type AzureServices = ReturnType<typeof createAzureServices>;

export function createAzureCliCredential(tenantId?: string): TokenCredential {
  return new AzureCliCredential(tenantId ? { tenantId } : {});
}
