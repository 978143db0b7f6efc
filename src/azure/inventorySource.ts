import { AzureClientFactory } from './clients';
import { describeError } from '../errors';
import { QuotaGate, parseDuration } from '../util/quota';

/** One Resource Graph page as the service answered it: `data` is checked against what was asked for. */
export interface GraphPage {
  data: unknown;
  skipToken?: string;
  /** The service's "true" when it cut the result short (e.g. a `summarize` past its first page). */
  resultTruncated?: string;
}

/** What the inventory needs from Azure: one query API and one listing API per subscription. */
export interface InventorySource {
  /** One Resource Graph page; skipToken continues a query. Keeps within the user's query quota. */
  queryPage(subscriptions: string[], query: string, skipToken?: string): Promise<GraphPage>;
  /** How many queries may be sent now without being throttled. */
  queryBudget(): number;
  listClusters(subscriptionId: string): Promise<any[]>;
  listVaults(subscriptionId: string): Promise<any[]>;
}

/** How often one query is sent again after the SDK's own retries still met 429. */
const THROTTLED_RETRIES = 4;

/**
 * Resource Graph and ARM listing behind the inventory's interface. List calls return raw JSON rows. Queries keep
 * within the user's quota as each answer reports it, and a query throttled past the SDK's retries waits out
 * Retry-After and goes again.
 */
export class ArmInventorySource implements InventorySource {
  private readonly gate = new QuotaGate();

  constructor(private readonly clients: AzureClientFactory) {}

  queryBudget() {
    return this.gate.available();
  }

  async queryPage(subscriptions: string[], query: string, skipToken?: string): Promise<GraphPage> {
    for (let attempt = 0; ; attempt++) {
      await this.gate.take();
      try {
        let headers: { get(name: string): string | undefined } | undefined;
        const res = await this.clients.resourceGraph().resources(
          {
            subscriptions,
            query,
            options: { top: 1000, ...(skipToken ? { skipToken } : {}), resultFormat: 'objectArray' },
          },
          {
            onResponse: (raw) => {
              headers = raw.headers;
            },
          },
        );
        const remaining = headers?.get('x-ms-user-quota-remaining');
        this.gate.observe(
          remaining === undefined ? undefined : Number(remaining),
          parseDuration(headers?.get('x-ms-user-quota-resets-after')),
        );
        return { data: res.data, skipToken: res.skipToken, resultTruncated: res.resultTruncated };
      } catch (e) {
        if (describeError(e).status !== 429 || attempt >= THROTTLED_RETRIES) {
          this.gate.settled();
          throw e;
        }
        const retryAfter = Number((e as any).response?.headers?.get?.('retry-after'));
        this.gate.throttled(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 5000);
      }
    }
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
