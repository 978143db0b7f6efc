import { ClusterSummary, clusterFromRaw } from './cluster';
import { describeError } from './errors';
import { ResourceRef, parseResourceId } from '../azure/resourceId';

export interface VaultSummary extends ResourceRef {
  location: string;
  tenantId?: string;
  /** true: Azure RBAC; false: access policies. */
  rbac: boolean;
  vaultUri?: string;
}

export interface SubscriptionInventory {
  subscriptionId: string;
  clusters: ClusterSummary[];
  vaults: VaultSummary[];
  /** Set when this subscription could not be read; the others still show. */
  error?: string;
}

export function vaultFromRaw(r: any): VaultSummary {
  const p = r.properties ?? {};
  return { ...parseResourceId(r.id), location: r.location, tenantId: p.tenantId, rbac: p.enableRbacAuthorization === true, vaultUri: p.vaultUri };
}

/** What the inventory needs from Azure: one query API and one listing API per subscription. */
export interface InventorySource {
  /** One Resource Graph page; skipToken continues a query. */
  queryPage(subscriptions: string[], query: string, skipToken?: string): Promise<{ data: any[]; skipToken?: string }>;
  listClusters(subscriptionId: string): Promise<any[]>;
  listVaults(subscriptionId: string): Promise<any[]>;
}

export const INVENTORY_QUERY = "resources | where type in~ ('microsoft.containerservice/managedclusters', 'microsoft.keyvault/vaults') | project id, name, type, location, resourceGroup, subscriptionId, tenantId, properties, tags | order by id asc";

/** Resource Graph takes at most this many subscriptions a query. */
const GRAPH_SUBSCRIPTIONS_PER_QUERY = 1000;

/**
 * Clusters and vaults of all given subscriptions in as few round trips as Resource Graph allows
 * (one a page of 1000 rows). Falls back to per-subscription listing when Resource Graph is denied.
 */
export async function loadInventory(source: InventorySource, subscriptionIds: string[], log?: { warn(m: string): void }): Promise<SubscriptionInventory[]> {
  const result = new Map(subscriptionIds.map((s) => [s.toLowerCase(), { subscriptionId: s, clusters: [], vaults: [] } as SubscriptionInventory]));
  try {
    const batches: string[][] = [];
    for (let i = 0; i < subscriptionIds.length; i += GRAPH_SUBSCRIPTIONS_PER_QUERY) batches.push(subscriptionIds.slice(i, i + GRAPH_SUBSCRIPTIONS_PER_QUERY));
    await Promise.all(batches.map(async (batch) => {
      let token: string | undefined;
      do {
        const page = await source.queryPage(batch, INVENTORY_QUERY, token);
        for (const row of page.data) addRow(result, row);
        token = page.skipToken;
      } while (token);
    }));
    return [...result.values()];
  } catch (e) {
    const d = describeError(e);
    if (d.status !== 403 && d.status !== 401 && d.status !== 400) throw e;
    log?.warn(`Resource Graph refused the query (${d.code}); listing each subscription instead.`);
  }
  for (const inv of result.values()) { inv.clusters = []; inv.vaults = []; }
  await mapLimit([...result.values()], 8, async (inv) => {
    try {
      const [clusters, vaults] = await Promise.all([source.listClusters(inv.subscriptionId), source.listVaults(inv.subscriptionId)]);
      inv.clusters = clusters.map(clusterFromRaw);
      inv.vaults = vaults.map(vaultFromRaw);
    } catch (e) {
      const d = describeError(e);
      inv.error = `${d.code}: ${d.message}`;
    }
  });
  return [...result.values()];
}

function addRow(result: Map<string, SubscriptionInventory>, row: any) {
  const inv = result.get(String(row.subscriptionId).toLowerCase());
  if (!inv) return;
  const type = String(row.type).toLowerCase();
  try {
    if (type === 'microsoft.containerservice/managedclusters') inv.clusters.push(clusterFromRaw(row));
    else if (type === 'microsoft.keyvault/vaults') inv.vaults.push(vaultFromRaw(row));
  } catch {
    // A row without a parseable id is skipped rather than blanking the tree.
  }
}

/** Runs fn over items with at most `limit` at once. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  }));
  return out;
}
