import { AzureClientFactory } from './clients';

export interface TenantInfo {
  tenantId: string;
  displayName?: string;
  defaultDomain?: string;
}

export interface SubscriptionInfo {
  subscriptionId: string;
  displayName: string;
  tenantId?: string;
}

/** The subscriptions and tenants the signed-in account can see. */
export class SubscriptionGateway {
  constructor(private readonly clients: AzureClientFactory) {}

  /** Enabled subscriptions, by name. */
  async list(): Promise<SubscriptionInfo[]> {
    const out: SubscriptionInfo[] = [];
    for await (const s of this.clients.subscriptions().subscriptions.list()) {
      if (s.state && s.state !== 'Enabled') continue;
      out.push({
        subscriptionId: s.subscriptionId!,
        displayName: s.displayName ?? s.subscriptionId!,
        tenantId: s.tenantId,
      });
    }
    return out.sort((a, b) => a.displayName.localeCompare(b.displayName));
  }

  async listTenants(): Promise<TenantInfo[]> {
    const out: TenantInfo[] = [];
    for await (const t of this.clients.subscriptions().tenants.list())
      out.push({ tenantId: t.tenantId!, displayName: t.displayName, defaultDomain: t.defaultDomain });
    return out;
  }
}
