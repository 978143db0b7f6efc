import type { PodNetwork } from '../testPod';
/** What the simulated ARM's providers share: configuration, ARM's error shape, id patterns, and the kit of helpers. */
import { HttpError, Reply, RequestContext } from '../http';
import { ClusterRecord, SimState, keyOf } from '../model';
import type { SimClaims } from '../tokens';
import { installWebhook, refuseOthers } from '../kube';

export interface ArmConfig {
  /** How long a cluster update runs before it ends. */
  clusterUpdateMs: number;
  /** Retry-After the simulated Azure sends while an operation runs, in seconds. */
  pollRetryAfterSeconds: number;
  /** How long a credential write holds its identity (another write meanwhile is a 409). */
  credentialWriteMs: number;
  /** A new identity's principal is unknown to role assignments without principalType for this long. */
  principalReplicationMs: number;
  runCommandMs: number;
  /** How long an identity binding's PUT runs before it succeeds. */
  identityBindingMs: number;
  /** Resource Graph queries a user may send per window, and the window (the documented default: 15 per 5 s). */
  graphQuota: number;
  graphQuotaWindowMs: number;
  /** A federated credential answers AADSTS70021 for this long after it was written. */
  credentialPropagationMs: number;
  /** A role assignment gives no data access for this long after it was made. */
  roleAssignmentPropagationMs: number;
  /** How far Microsoft Entra ID's clock runs ahead of the clusters'. */
  entraClockSkewSeconds: number;
}

export interface ArmContext {
  state: SimState;
  config: ArmConfig;
  tokenSecret: string;
  armUrl: () => string;
  kubeUrl: () => string;
  ca: string;
  /** Where a pod's calls to AKS's proxy and to the vaults land on this machine. */
  podNetwork: () => Omit<PodNetwork, 'vaultNames'>;
}

export const armError = (status: number, code: string, message: string) => ({ error: { code, message } });
export const fail = (status: number, code: string, message: string, headers?: Record<string, string>): never => {
  throw new HttpError(status, armError(status, code, message), headers);
};

export const BUILT_IN_ROLES: Record<string, string> = {
  '4633458b-17de-408a-b874-0445c86b69e6': 'Key Vault Secrets User',
  'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba': 'Key Vault Certificate User',
  '12338af0-0e69-4776-bea7-57ae8d297424': 'Key Vault Crypto User',
  '21090545-7ca7-4776-b22c-e363652d74d2': 'Key Vault Reader',
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  'acdd72a7-3385-48ef-bd42-f606fba81ae7': 'Reader',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
};

/** Oldest api-version per provider that has the features used here; newer valid dates pass. */
export const MIN_API_VERSION: Record<string, string> = {
  'microsoft.containerservice': '2022-11-01',
  'microsoft.managedidentity': '2022-01-31-preview',
  'microsoft.keyvault': '2019-09-01',
  'microsoft.authorization': '2020-04-01-preview',
  'microsoft.resourcegraph': '2021-03-01',
  resources: '2016-06-01',
};

/** Read-only members of a cluster: a PUT may omit or differ in them. */
export const CLUSTER_READ_ONLY = [
  /^(id|name|type|eTag|systemData)$/,
  /^properties\.(provisioningState|powerState|maxAgentPools|currentKubernetesVersion|fqdn|privateFQDN|azurePortalFQDN|resourceUID)(\.|$)/,
  /^properties\.oidcIssuerProfile\.issuerURL$/,
  /^properties\.agentPoolProfiles\.\d+\.(provisioningState|currentOrchestratorVersion|nodeImageVersion|eTag|powerState)(\.|$)/,
  /^properties\.networkProfile\.loadBalancerProfile\.effectiveOutboundIPs(\.|$)/,
  /^identity\.(principalId|tenantId)$/,
  /^identity\.userAssignedIdentities\..*\.(clientId|principalId)$/,
  /^properties\.addonProfiles\.[^.]+\.identity(\.|$)/,
];
/** What the Enable operation is meant to change. */
export const CLUSTER_WORKLOAD_IDENTITY_FLAGS = [
  'properties.oidcIssuerProfile.enabled',
  'properties.securityProfile.workloadIdentity.enabled',
];

export function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) out.set(prefix, Array.isArray(value) ? '[]' : '{}');
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k.replace(/\./g, '\\.')}` : k, out);
  } else if (value !== undefined && value !== null) {
    out.set(prefix, value);
  }
  return out;
}

/** Leaf paths that differ between stored and incoming, leaving out read-only members and the allowed ones. */
export function unexpectedChanges(stored: unknown, incoming: unknown, allowed: string[]): string[] {
  const a = flatten(stored),
    b = flatten(incoming);
  const skip = (p: string) => allowed.includes(p) || CLUSTER_READ_ONLY.some((r) => r.test(p));
  const paths = new Set([...a.keys(), ...b.keys()]);
  const changed: string[] = [];
  for (const p of paths) {
    if (skip(p)) continue;
    const before = a.get(p),
      after = b.get(p);
    // An empty object or array in one and a missing member in the other carry the same settings.
    if (before === undefined && (after === '{}' || after === '[]')) continue;
    if (after === undefined && (before === '{}' || before === '[]')) continue;
    if (before !== after) changed.push(`${p}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`);
  }
  return changed.sort();
}

export const subOf = (id: string) => id.slice('/subscriptions/'.length, id.indexOf('/', '/subscriptions/'.length));

/** Clusters and vaults by subscription (lower case). No route creates or deletes them; seeds do, so sizes key it. */
export const indexes = new WeakMap<
  Map<string, unknown>,
  { key: string; clusters: Map<string, ClusterRecord[]>; vaults: Map<string, [string, any][]> }
>();
export function resourcesBySubscription(state: SimState) {
  const key = `${state.clusters.size}/${state.vaults.size}`;
  let index = indexes.get(state.clusters);
  if (index?.key === key) return index;
  index = { key, clusters: new Map(), vaults: new Map() };
  for (const c of state.clusters.values()) {
    const sub = c.subscriptionId.toLowerCase();
    index.clusters.set(sub, [...(index.clusters.get(sub) ?? []), c]);
  }
  for (const [id, v] of state.vaults) {
    const sub = subOf(id).toLowerCase();
    const list = index.vaults.get(sub);
    if (list) list.push([id, v]);
    else index.vaults.set(sub, [[id, v]]);
  }
  indexes.set(state.clusters, index);
  return index;
}

export const SUB = '/subscriptions/([^/]+)';
export const RG = `${SUB}/resourceGroups/([^/]+)`;
export const AKS = `${RG}/providers/Microsoft\\.ContainerService/managedClusters`;
export const MSI = `${RG}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities`;
export const KV = `${RG}/providers/Microsoft\\.KeyVault/vaults`;
export const re = (s: string) => new RegExp(`^${s}$`, 'i');

export const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;
export const CREDENTIAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_CREDENTIALS_PER_IDENTITY = 20;

export function armKit(ctx: ArmContext) {
  const { state, config } = ctx;
  const now = () => Date.now();
  const iso = (t = now()) => new Date(t).toISOString();
  const claimsOf = (req: RequestContext) => (req as RequestContext & { claims: SimClaims }).claims;
  const ok = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, body, headers });
  const page = (value: unknown[]) => ok({ value });
  const inSub = (sub: string) => (id: string) => id.toLowerCase().startsWith(`/subscriptions/${sub.toLowerCase()}/`);
  const inRg = (sub: string, rg: string) => (id: string) =>
    id.toLowerCase().startsWith(`/subscriptions/${sub}/resourcegroups/${rg}/`.toLowerCase());
  const requireRg = (sub: string, rg: string) => {
    const known =
      [...state.clusters.values()].some(
        (c) => c.subscriptionId === sub && c.resourceGroup.toLowerCase() === rg.toLowerCase(),
      ) ||
      [...state.vaults.keys(), ...state.identities.keys()].some(inRg(sub, rg)) ||
      state.resourceGroups.has(`${sub}/${rg}`.toLowerCase());
    if (!known) fail(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  };

  const settle = (c: ClusterRecord) => {
    const op = c.operation;
    if (!op || op.status !== 'InProgress' || now() < op.doneAt) return;
    op.endTime = iso();
    if (op.error) {
      op.status = 'Failed';
      c.resource = { ...op.previous, properties: { ...op.previous.properties, provisioningState: 'Failed' } };
    } else {
      op.status = 'Succeeded';
      c.resource = { ...op.target, properties: { ...op.target.properties, provisioningState: 'Succeeded' } };
      if (c.resource.properties.securityProfile?.workloadIdentity?.enabled) installWebhook(c.kube);
    }
  };
  const guardOthers = (key: string, what: string) => refuseOthers(state, key, what, fail);

  const clusterById = (sub: string, rg: string, name: string) => {
    const c = state.clusters.get(
      keyOf(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`),
    );
    if (!c)
      fail(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ContainerService/managedClusters/${name}' under resource group '${rg}' was not found.`,
      );
    settle(c!);
    return c!;
  };
  return { ctx, state, config, now, iso, claimsOf, ok, page, inSub, inRg, requireRg, settle, guardOthers, clusterById };
}

/** What every provider's routes share: the state, the clock, and ARM's reply and scope helpers. */
export type ArmKit = ReturnType<typeof armKit>;
