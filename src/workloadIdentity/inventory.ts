import * as l10n from '@vscode/l10n';
import { ClusterSummary, clusterFromRaw } from './cluster';
import { limiter } from '../util/concurrency';
import { describeError } from '../errors';
import { ResourceRef, parseResourceId } from '../azure/resourceId';
import type { GraphPage, InventorySource } from '../azure/inventorySource';

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
  return {
    ...parseResourceId(r.id),
    location: r.location,
    tenantId: p.tenantId,
    rbac: p.enableRbacAuthorization === true,
    vaultUri: p.vaultUri,
  };
}

/**
 * The documented form: a projected `resources` query (only the fields the tree shows), paged with `$top` and
 * `$skipToken`. Ordered by subscription, so a page's subscriptions before its last one are complete.
 */
export const INVENTORY_QUERY = [
  'resources',
  "| where type in~ ('microsoft.containerservice/managedclusters', 'microsoft.keyvault/vaults')",
  '| project id, name, type, location, subscriptionId, kubernetesVersion = properties.currentKubernetesVersion,',
  'provisioningState = properties.provisioningState, oidcIssuerEnabled = properties.oidcIssuerProfile.enabled,',
  'issuerUrl = properties.oidcIssuerProfile.issuerURL, workloadIdentityEnabled = properties.securityProfile.workloadIdentity.enabled,',
  'entraId = isnotnull(properties.aadProfile), privateCluster = properties.apiServerAccessProfile.enablePrivateCluster,',
  'rbac = properties.enableRbacAuthorization, vaultTenantId = properties.tenantId, vaultUri = properties.vaultUri',
  '| order by subscriptionId asc, id asc',
].join(' ');

const TYPES = ['microsoft.containerservice/managedclusters', 'microsoft.keyvault/vaults'];
const BOOLEAN_COLUMNS = ['oidcIssuerEnabled', 'workloadIdentityEnabled', 'entraId', 'privateCluster', 'rbac'];
const STRING_COLUMNS = [
  'name',
  'location',
  'kubernetesVersion',
  'provisioningState',
  'issuerUrl',
  'vaultTenantId',
  'vaultUri',
];

/** Why a row is not what INVENTORY_QUERY asks for, or undefined when it is. */
export function rowShapeError(row: any, subscriptions: ReadonlySet<string>): string | undefined {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return 'a row is not an object';
  if (
    typeof row.id !== 'string' ||
    !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+$/i.test(row.id)
  )
    return `a row has no resource id (${String(JSON.stringify(row.id)).slice(0, 80)})`;
  if (typeof row.type !== 'string' || !TYPES.includes(row.type.toLowerCase()))
    return `${row.id} has type ${JSON.stringify(row.type)}, which was not asked for`;
  if (typeof row.subscriptionId !== 'string' || !subscriptions.has(row.subscriptionId.toLowerCase()))
    return `${row.id} is in subscription ${JSON.stringify(row.subscriptionId)}, which was not asked for`;
  for (const c of BOOLEAN_COLUMNS)
    if (row[c] != null && typeof row[c] !== 'boolean')
      return `${row.id} has ${c} = ${JSON.stringify(row[c])}, not a boolean`;
  for (const c of STRING_COLUMNS)
    if (row[c] != null && typeof row[c] !== 'string')
      return `${row.id} has ${c} = ${JSON.stringify(row[c])}, not a string`;
  return undefined;
}

/** A resource as the inventory query projects it. */
export function summaryFromGraph(r: any): { cluster?: ClusterSummary; vault?: VaultSummary } {
  const type = String(r.type).toLowerCase();
  const ref = parseResourceId(r.id);
  if (type === 'microsoft.keyvault/vaults')
    return {
      vault: {
        ...ref,
        location: r.location,
        tenantId: r.vaultTenantId ?? r.tenantId,
        rbac: r.rbac === true,
        vaultUri: r.vaultUri ?? undefined,
      },
    };
  if (type !== 'microsoft.containerservice/managedclusters') return {};
  return {
    cluster: {
      ...ref,
      location: r.location,
      kubernetesVersion: r.kubernetesVersion ?? undefined,
      provisioningState: r.provisioningState ?? undefined,
      oidcIssuerEnabled: r.oidcIssuerEnabled === true,
      issuerUrl: r.issuerUrl ?? undefined,
      workloadIdentityEnabled: r.workloadIdentityEnabled === true,
      entraId: r.entraId === true,
      private: r.privateCluster === true,
    },
  };
}

/** Resource Graph's page size, and the largest group of subscriptions its throttling guidance recommends. */
const PAGE_ROWS = 1000;
const MAX_SUBSCRIPTIONS_PER_QUERY = 300;
/** The first wave groups at least this many subscriptions a query: small accounts take one query. */
const MIN_SUBSCRIPTIONS_PER_QUERY = 10;

export interface InventoryOptions {
  log?: { warn(m: string): void };
  /** Called once for each subscription as soon as its rows are in (or it failed), before the others finish. */
  onSubscription?(inventory: SubscriptionInventory): void;
}

class ShapeError extends Error {}

/**
 * Clusters and vaults of all given subscriptions. Subscriptions are queried in groups at once, as many as the
 * user's quota allows. A group whose result runs past one page is split by the rows per subscription seen on that
 * page, so the rest comes in one more wave instead of page after page. Each subscription is reported as soon as
 * it is complete. When Resource Graph is denied, subscriptions are listed one by one instead; a group whose
 * answer is not in the shape asked for fails with that reason rather than showing an empty list.
 */
export async function loadInventory(
  source: InventorySource,
  subscriptionIds: string[],
  options: InventoryOptions = {},
): Promise<SubscriptionInventory[]> {
  const result = new Map(
    subscriptionIds.map((s) => [
      s.toLowerCase(),
      { subscriptionId: s, clusters: [], vaults: [] } as SubscriptionInventory,
    ]),
  );
  const reported = new Set<string>();
  const report = (key: string) => {
    if (reported.has(key)) return;
    reported.add(key);
    const inv = result.get(key)!;
    inv.clusters.sort(byName);
    inv.vaults.sort(byName);
    options.onSubscription?.(inv);
  };
  const fail = (keys: string[], message: string) => {
    for (const k of keys)
      if (!reported.has(k)) {
        const inv = result.get(k)!;
        inv.clusters = [];
        inv.vaults = [];
        inv.error = message;
        report(k);
      }
  };
  let graphRefused = false;

  const listing = limiter(8);
  const listEach = (keys: string[]) =>
    Promise.all(
      keys
        .filter((k) => !reported.has(k))
        .map((key) =>
          listing(async () => {
            const inv = result.get(key)!;
            try {
              const [clusters, vaults] = await Promise.all([
                source.listClusters(inv.subscriptionId),
                source.listVaults(inv.subscriptionId),
              ]);
              inv.clusters = clusters.map(clusterFromRaw);
              inv.vaults = vaults.map(vaultFromRaw);
              report(key);
            } catch (e) {
              const d = describeError(e);
              fail([key], `${d.code}: ${d.message}`);
            }
          }),
        ),
    );

  const addRows = (rows: any[]) => {
    for (const row of rows) {
      const inv = result.get(row.subscriptionId.toLowerCase())!;
      const { cluster, vault } = summaryFromGraph(row);
      if (cluster) inv.clusters.push(cluster);
      if (vault) inv.vaults.push(vault);
    }
  };

  /** Queries one group (sorted keys); pages on through one large subscription, else splits what is left. */
  const query = async (group: string[], skipToken?: string): Promise<void> => {
    if (graphRefused) return void (await listEach(group));
    let page: GraphPage;
    try {
      page = await source.queryPage(
        group.map((k) => result.get(k)!.subscriptionId),
        INVENTORY_QUERY,
        skipToken,
      );
    } catch (e) {
      const d = describeError(e);
      if (d.status === 401 || d.status === 403 || d.status === 400) {
        // Another group's page may have set it during the await: the compiler's narrowing does not see that.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
        if (!graphRefused)
          options.log?.warn(`Resource Graph refused the query (${d.code}); listing each subscription instead.`);
        graphRefused = true;
        return void (await listEach(group));
      }
      return fail(group, `${d.code}: ${d.message}`);
    }
    let rows: any[];
    try {
      rows = checkPage(page, new Set(group));
    } catch (e) {
      const message = l10n.t('Resource Graph answered in a shape that was not asked for: {0}.', (e as Error).message);
      options.log?.warn(`${message} Subscriptions: ${group.join(', ')}`);
      return fail(group, message);
    }
    if (!page.skipToken) {
      addRows(rows);
      for (const k of group) report(k);
      return;
    }
    // Ordered by subscription: those before the last row's are complete; the last may continue on the next page.
    const last = rows[rows.length - 1].subscriptionId.toLowerCase();
    const done = group.filter((k) => k < last);
    const rest = group.filter((k) => k >= last);
    // One subscription on the whole page (or none left after it): page on; splitting would read it again.
    if (rest.length === 1 || rows[0].subscriptionId.toLowerCase() === last) {
      addRows(rows);
      for (const k of done) report(k);
      return query(group, page.skipToken);
    }
    addRows(rows.filter((r) => r.subscriptionId.toLowerCase() < last));
    for (const k of done) report(k);
    const perSubscription = Math.ceil(rows.length / new Set(rows.map((r) => r.subscriptionId.toLowerCase())).size);
    await Promise.all(chunks(rest, Math.max(1, Math.floor(PAGE_ROWS / perSubscription))).map((c) => query(c)));
  };

  const keys = [...result.keys()].sort();
  const groups = Math.max(
    Math.ceil(keys.length / MAX_SUBSCRIPTIONS_PER_QUERY),
    Math.min(Math.max(1, source.queryBudget()), Math.ceil(keys.length / MIN_SUBSCRIPTIONS_PER_QUERY)),
  );
  await Promise.all(chunks(keys, Math.ceil(keys.length / groups)).map((g) => query(g)));
  return [...result.values()];
}

/** The page's rows, or a ShapeError naming the first thing that was not asked for. */
function checkPage(page: GraphPage, group: ReadonlySet<string>): any[] {
  if (!Array.isArray(page.data))
    throw new ShapeError(`the data is ${page.data === null ? 'null' : typeof page.data}, not a list of rows`);
  if (String(page.resultTruncated).toLowerCase() === 'true' && !page.skipToken)
    throw new ShapeError('the result was truncated without a $skipToken to continue');
  if (page.skipToken && page.data.length === 0) throw new ShapeError('an empty page with a $skipToken');
  for (const row of page.data) {
    const why = rowShapeError(row, group);
    if (why) throw new ShapeError(why);
  }
  return page.data;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** A vault's permission model as the tree, the prompts and the checks name it. */
export const permissionModel = (rbac: boolean) => (rbac ? 'Azure RBAC' : l10n.t('access policies'));
