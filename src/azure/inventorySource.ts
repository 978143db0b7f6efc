import { AzureClientFactory } from './clients';
import { InventorySource } from '../workloadIdentity/inventory';

/** Resource Graph and ARM listing behind the inventory's interface. List calls return raw JSON rows. */
export class ArmInventorySource implements InventorySource {
  constructor(private readonly clients: AzureClientFactory) {}

  async queryPage(subscriptions: string[], query: string, skipToken?: string) {
    const res = await this.clients.resourceGraph().resources({ subscriptions, query, options: { top: 1000, ...(skipToken ? { skipToken } : {}), resultFormat: 'objectArray' } } as any);
    return { data: (res.data as any[]) ?? [], skipToken: res.skipToken };
  }

  async listClusters(subscriptionId: string) {
    const out: any[] = [];
    for await (const mc of this.clients.containerService(subscriptionId).managedClusters.list()) out.push(toRaw(mc));
    return out;
  }

  async listVaults(subscriptionId: string) {
    const out: any[] = [];
    for await (const v of this.clients.keyVault(subscriptionId).vaults.listBySubscription()) out.push(v);
    return out;
  }
}

/** The container service SDK flattens `properties`; the inventory reads the wire shape. */
function toRaw(mc: any) {
  const { id, name, type, location, tags, ...properties } = mc;
  return { id, name, type, location, tags, properties };
}
