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

/**
 * One row per subscription with only the fields the tree shows: 1000 subscriptions fit in one page
 * (a row per resource would take 40 pages for 1000 subscriptions of 40 resources).
 */
export const INVENTORY_QUERY = [
  'resources',
  "| where type in~ ('microsoft.containerservice/managedclusters', 'microsoft.keyvault/vaults')",
  '| project id, name, type, location, subscriptionId, tenantId, kubernetesVersion = properties.currentKubernetesVersion,',
  'provisioningState = properties.provisioningState, oidcIssuerEnabled = properties.oidcIssuerProfile.enabled,',
  'issuerUrl = properties.oidcIssuerProfile.issuerURL, workloadIdentityEnabled = properties.securityProfile.workloadIdentity.enabled,',
  'entraId = isnotnull(properties.aadProfile), privateCluster = properties.apiServerAccessProfile.enablePrivateCluster,',
  'rbac = properties.enableRbacAuthorization, vaultTenantId = properties.tenantId, vaultUri = properties.vaultUri',
  '| summarize resources = make_list(pack_all()) by subscriptionId',
].join(' ');

/** A resource as the inventory query projects it. */
export function summaryFromGraph(r: any): { cluster?: ClusterSummary; vault?: VaultSummary } {
  const type = String(r.type).toLowerCase();
  const ref = parseResourceId(r.id);
  if (type === 'microsoft.keyvault/vaults') return { vault: { ...ref, location: r.location, tenantId: r.vaultTenantId ?? r.tenantId, rbac: r.rbac === true, vaultUri: r.vaultUri ?? undefined } };
  if (type !== 'microsoft.containerservice/managedclusters') return {};
  return {
    cluster: {
      ...ref, location: r.location, kubernetesVersion: r.kubernetesVersion ?? undefined, provisioningState: r.provisioningState ?? undefined,
      oidcIssuerEnabled: r.oidcIssuerEnabled === true, issuerUrl: r.issuerUrl ?? undefined, workloadIdentityEnabled: r.workloadIdentityEnabled === true,
      entraId: r.entraId === true, private: r.privateCluster === true,
    },
  };
}

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
    for (const inv of result.values()) { inv.clusters.sort(byName); inv.vaults.sort(byName); }
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
      inv.clusters = clusters.map(clusterFromRaw).sort(byName);
      inv.vaults = vaults.map(vaultFromRaw).sort(byName);
    } catch (e) {
      const d = describeError(e);
      inv.error = `${d.code}: ${d.message}`;
    }
  });
  return [...result.values()];
}

function addRow(result: Map<string, SubscriptionInventory>, row: any) {
  const inv = result.get(String(row.subscriptionId).toLowerCase());
  if (!inv || !Array.isArray(row.resources)) return;
  for (const r of row.resources) {
    try {
      const { cluster, vault } = summaryFromGraph(r);
      if (cluster) inv.clusters.push(cluster);
      if (vault) inv.vaults.push(vault);
    } catch {
      // A row without a parseable id is skipped rather than blanking the tree.
    }
  }
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** Runs fn over items with at most `limit` at once. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  }));
  return out;
}
