import { randomUUID, createHash } from 'node:crypto';
import { HttpError, Reply, RequestContext, Route } from './http';
import { ClusterRecord, SimState, clone, keyOf } from './model';
import { AKS_SERVER_APP_ID, SimClaims, verifyToken } from './tokens';
import { applyManifest, createObject, deleteServiceAccount, getObjectJson, refuseOthers, webhookFor } from './kube';
import { readStoredZip } from './zip';
import { serviceAccountToken } from './entra';

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
}

export const armError = (status: number, code: string, message: string) => ({ error: { code, message } });
const fail = (status: number, code: string, message: string, headers?: Record<string, string>): never => {
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
const MIN_API_VERSION: Record<string, string> = {
  'microsoft.containerservice': '2022-11-01',
  'microsoft.managedidentity': '2022-01-31-preview',
  'microsoft.keyvault': '2019-09-01',
  'microsoft.authorization': '2020-04-01-preview',
  'microsoft.resourcegraph': '2021-03-01',
  resources: '2016-06-01',
};

/** Read-only members of a cluster: a PUT may omit or differ in them. */
const CLUSTER_READ_ONLY = [
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
const CLUSTER_WORKLOAD_IDENTITY_FLAGS = [
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

const graphError = (message: string, detail: string) => ({
  error: { code: 'BadRequest', message, details: [{ code: 'InvalidQuery', message: detail }] },
});
const badQuery = (detail: string): never => {
  throw new HttpError(
    400,
    graphError(
      'Please provide below info when asking for support: timestamp, correlation id. Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.',
      detail,
    ),
  );
};

/**
 * Evaluates the part of Resource Graph's KQL this simulator supports: `resources`, `where type in~ (...)` or
 * `type =~ '...'`, `project` of columns, `alias = properties.a.b` and `alias = isnotnull(...)`, and `order by`.
 * Everything else is refused, naming the rule, so the product cannot come to rely on a form that the service does
 * not document for its use: `summarize` is "simplified first page only" (its results are not paged),
 * `pack_all()`/`make_list()` are not in the documented function list, and `limit`/`take` do not work with `$skip`.
 */
export function evaluateGraphQuery(query: string, rows: any[], opts: { skip?: boolean } = {}): any[] {
  const [table, ...ops] = query.split('|').map((x) => x.trim());
  if (!/^resources$/i.test(table))
    badQuery(`The simulated Resource Graph evaluates only the 'resources' table, not '${table}'.`);
  let out = rows;
  for (const op of ops) {
    const word = /^(\w+)(?:\s+by\b)?/i.exec(op)?.[0].toLowerCase().replace(/\s+/, ' ') ?? '';
    if (/\bpack_all\s*\(|\bmake_list\s*\(/i.test(op))
      badQuery(
        "pack_all() and make_list() are not in Resource Graph's documented functions, and their row sizes are not documented.",
      );
    switch (word) {
      case 'where': {
        const inList = /^where\s+type\s+in~\s*\(([^)]*)\)$/i.exec(op);
        const eq = /^where\s+type\s+=~\s*'([^']*)'$/i.exec(op);
        if (!inList && !eq)
          badQuery(
            `The simulated Resource Graph evaluates only "where type in~ (...)" and "where type =~ '...'", not "${op}".`,
          );
        const types = inList
          ? [...inList[1].matchAll(/'([^']*)'/g)].map((m) => m[1].toLowerCase())
          : [eq![1].toLowerCase()];
        out = out.filter((r) => types.includes(String(r.type).toLowerCase()));
        break;
      }
      case 'project': {
        const items = op
          .slice('project'.length)
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        const path = (row: any, p: string) => p.split('.').reduce((v, k) => (v == null ? undefined : v[k]), row);
        const columns = items.map((item) => {
          const m = /^(\w+)\s*=\s*(.+)$/.exec(item);
          const expr = (m ? m[2] : item).trim();
          const nn = /^isnotnull\(([\w.]+)\)$/.exec(expr);
          if (!nn && !/^[\w.]+$/.test(expr))
            badQuery(
              `The simulated Resource Graph evaluates only columns, property paths and isnotnull() in project, not "${expr}".`,
            );
          return {
            name: m ? m[1] : item,
            get: (row: any) => (nn ? path(row, nn[1]) != null : (path(row, expr) ?? null)),
          };
        });
        out = out.map((row) => Object.fromEntries(columns.map((c) => [c.name, c.get(row)])));
        break;
      }
      case 'order by':
      case 'sort by': {
        const keys = op
          .replace(/^(order|sort)\s+by\s+/i, '')
          .split(',')
          .map((k) => {
            const m = /^(\w+)(?:\s+(asc|desc))?$/i.exec(k.trim());
            if (!m) badQuery(`Cannot order by "${k.trim()}".`);
            return { col: m![1], dir: m![2]?.toLowerCase() === 'asc' ? 1 : -1 }; // KQL's default order is descending
          });
        out = [...out].sort((a, b) => {
          for (const k of keys) {
            const x = String(a[k.col] ?? ''),
              y = String(b[k.col] ?? '');
            if (x !== y) return (x < y ? -1 : 1) * k.dir;
          }
          return 0;
        });
        break;
      }
      case 'summarize':
        badQuery(
          'summarize results are "simplified first page only" in Resource Graph: they are not paged, so rows past the first page are lost.',
        );
        break;
      case 'limit':
      case 'take':
        if (opts.skip) badQuery(`${word} does not work with $skip.`);
        out = out.slice(0, Number(/\d+/.exec(op)?.[0] ?? 0));
        break;
      default:
        badQuery(`The simulated Resource Graph does not evaluate "${op}".`);
    }
  }
  return out;
}

const subOf = (id: string) => id.slice('/subscriptions/'.length, id.indexOf('/', '/subscriptions/'.length));

/** Clusters and vaults by subscription (lower case). No route creates or deletes them; seeds do, so sizes key it. */
const indexes = new WeakMap<
  Map<string, unknown>,
  { key: string; clusters: Map<string, ClusterRecord[]>; vaults: Map<string, [string, any][]> }
>();
function resourcesBySubscription(state: SimState) {
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

const SUB = '/subscriptions/([^/]+)';
const RG = `${SUB}/resourceGroups/([^/]+)`;
const AKS = `${RG}/providers/Microsoft\\.ContainerService/managedClusters`;
const MSI = `${RG}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities`;
const KV = `${RG}/providers/Microsoft\\.KeyVault/vaults`;
const re = (s: string) => new RegExp(`^${s}$`, 'i');

const IDENTITY_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/;
const CREDENTIAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_CREDENTIALS_PER_IDENTITY = 20;

export function armGuard(ctx: ArmContext) {
  return (req: RequestContext, _route: Route) => {
    const auth = String(req.headers.authorization ?? '');
    const claims = auth.startsWith('Bearer ') ? verifyToken(ctx.tokenSecret, auth.slice(7)) : undefined;
    if (!claims) fail(401, 'InvalidAuthenticationToken', 'The access token is invalid or has expired.');
    if (claims!.aud.includes(AKS_SERVER_APP_ID))
      fail(401, 'InvalidAuthenticationToken', `The access token has an invalid audience '${claims!.aud}'.`);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(req.path)?.[1];
    if (sub) {
      const s = ctx.state.subscriptions.find((x) => x.subscriptionId.toLowerCase() === sub.toLowerCase());
      if (!s) fail(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
      if (s!.tenantId !== claims!.tid)
        fail(
          401,
          'InvalidAuthenticationTokenTenant',
          `The access token is from the wrong issuer. It must match the tenant associated with subscription '${sub}'.`,
        );
    }
    (req as RequestContext & { claims: SimClaims }).claims = claims!;
    const version = req.query.get('api-version');
    if (!version)
      fail(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    const provider = /\/providers\/(Microsoft\.\w+)/i.exec(req.path)?.[1]?.toLowerCase() ?? 'resources';
    const min = MIN_API_VERSION[provider] ?? '2015-01-01';
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(version!) || version! < min || version! > '2026-12-31') {
      fail(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions for '${provider}' start at '${min}'.`,
      );
    }
  };
}

export function armRoutes(ctx: ArmContext): Route[] {
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

  // ---- clusters -------------------------------------------------------------------------------------------
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
      if (c.resource.properties.securityProfile?.workloadIdentity?.enabled) {
        const hook = webhookFor('azure-wi-webhook-mutating-webhook-configuration', 'azure-wi-webhook-webhook-service');
        if (!c.kube.webhooks.has(hook.metadata.name)) c.kube.webhooks.set(hook.metadata.name, hook);
      }
    }
  };
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
  const allClusters = () => [...state.clusters.values()].map((c) => (settle(c), c));

  const putCluster = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    const body = req.json();
    const c = clusterById(sub, rg, name); // this fake updates clusters; it does not create them
    if (c.operation?.status === 'InProgress') {
      fail(
        409,
        'OperationNotAllowed',
        `Operation is not allowed because there's an in progress update managed cluster operation on the managed cluster started at ${c.operation.startTime}.`,
      );
    }
    if (!body.location) fail(400, 'InvalidParameter', "The value of parameter 'location' is invalid: it is required.");
    if (!body.properties || typeof body.properties !== 'object')
      fail(400, 'InvalidParameter', "The value of parameter 'properties' is required.");
    const p = body.properties;
    const oidcBefore = !!c.resource.properties.oidcIssuerProfile?.enabled;
    const oidcAfter = !!p.oidcIssuerProfile?.enabled;
    if (oidcBefore && !oidcAfter)
      fail(400, 'InvalidParameter', 'OIDC issuer cannot be disabled once it has been enabled.');
    if (p.securityProfile?.workloadIdentity?.enabled && !oidcAfter) {
      fail(400, 'InvalidParameter', 'Enabling workload identity requires enabling OIDC issuer.');
    }
    const changes = unexpectedChanges(c.resource, body, CLUSTER_WORKLOAD_IDENTITY_FLAGS);
    if (changes.length) {
      c.violations.push(...changes);
      fail(
        400,
        'SimulatorUnexpectedPropertyChange',
        `This PUT would change properties other than the workload identity flags: ${changes.join('; ')}`,
      );
    }
    const target = clone(body);
    // Keep read-only members as the service does.
    for (const k of ['id', 'name', 'type', 'eTag']) target[k] = c.resource[k];
    for (const k of [
      'fqdn',
      'privateFQDN',
      'azurePortalFQDN',
      'currentKubernetesVersion',
      'maxAgentPools',
      'powerState',
      'resourceUID',
    ]) {
      if (c.resource.properties[k] !== undefined) target.properties[k] = c.resource.properties[k];
    }
    target.properties.agentPoolProfiles = c.resource.properties.agentPoolProfiles;
    if (c.resource.properties.networkProfile) target.properties.networkProfile = c.resource.properties.networkProfile;
    if (c.resource.identity) target.identity = c.resource.identity;
    if (oidcAfter) {
      target.properties.oidcIssuerProfile = {
        enabled: true,
        issuerURL:
          c.resource.properties.oidcIssuerProfile?.issuerURL ??
          `https://${c.resource.location}.oic.prod-aks.azure.com/${claimsOf(req).tid}/${randomUUID()}/`,
      };
    }
    const lroFailed = req.faults.find((f) => f.kind === 'lroFailed');
    const opId = randomUUID();
    c.operation = {
      id: opId,
      status: 'InProgress',
      startTime: iso(),
      doneAt: now() + config.clusterUpdateMs,
      target,
      previous: c.resource,
      error: lroFailed
        ? {
            code: 'ReconcileVMSSAgentPoolFailed',
            message: 'Reconcile VMSS agent pool failed: the node pool could not be updated in time.',
          }
        : undefined,
    };
    c.resource = { ...clone(target), properties: { ...clone(target.properties), provisioningState: 'Updating' } };
    if (!oidcBefore) delete c.resource.properties.oidcIssuerProfile?.issuerURL;
    const apiVersion = req.query.get('api-version')!;
    const asyncUrl = `${ctx.armUrl()}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/${c.resource.location}/operations/${opId}?api-version=${apiVersion}`;
    return ok(c.resource, 200, {
      'Azure-AsyncOperation': asyncUrl,
      'Retry-After': String(config.pollRetryAfterSeconds),
    });
  };

  const operationStatus = (req: RequestContext): Reply => {
    const [, , opId] = req.params;
    const c = allClusters().find((x) => x.operation?.id === opId);
    if (!c) fail(404, 'NotFound', `Operation ${opId} was not found.`);
    const op = c!.operation!;
    const body: any = { id: req.path, name: op.id, status: op.status, startTime: op.startTime };
    if (op.endTime) body.endTime = op.endTime;
    if (op.status === 'Failed') body.error = op.error;
    return ok(body, 200, op.status === 'InProgress' ? { 'Retry-After': String(config.pollRetryAfterSeconds) } : {});
  };

  const kubeconfigFor = (c: ClusterRecord, claims: SimClaims) => {
    const p = c.resource.properties;
    // A private API server is out of reach from outside its network. Real kubeconfigs name its privatelink FQDN;
    // here a closed loopback port stands in, so the refusal needs no DNS and no traffic off this machine.
    const server = p.apiServerAccessProfile?.enablePrivateCluster
      ? 'https://127.0.0.1:1'
      : `${ctx.kubeUrl()}/clusters/${c.key}`;
    const user = p.aadProfile
      ? {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'kubelogin',
            interactiveMode: 'IfAvailable',
            args: [
              'get-token',
              '--environment',
              'AzurePublicCloud',
              '--server-id',
              AKS_SERVER_APP_ID,
              '--client-id',
              '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
              '--tenant-id',
              claims.tid,
              '--login',
              'devicecode',
            ],
          },
        }
      : { token: c.userToken };
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- cluster:',
      `    certificate-authority-data: ${Buffer.from(ctx.ca).toString('base64')}`,
      `    server: ${server}`,
      `  name: ${c.name}`,
      'contexts:',
      '- context:',
      `    cluster: ${c.name}`,
      `    user: clusterUser_${c.resourceGroup}_${c.name}`,
      `  name: ${c.name}`,
      `current-context: ${c.name}`,
      'preferences: {}',
      'users:',
      `- name: clusterUser_${c.resourceGroup}_${c.name}`,
      '  user:',
      ...JSON.stringify(user, null, 2)
        .split('\n')
        .map((l) => `    ${l}`),
      '',
    ].join('\n');
    return Buffer.from(yaml).toString('base64');
  };

  const runCommand = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    const c = clusterById(sub, rg, name);
    const body = req.json();
    if (typeof body.command !== 'string' || !body.command)
      fail(400, 'InvalidParameter', "The value of parameter 'command' is required.");
    if (c.resource.properties.aadProfile && !body.clusterToken)
      fail(400, 'InvalidParameter', 'clusterToken is required for clusters with Microsoft Entra ID integration.');
    const id = randomUUID().replace(/-/g, '');
    const startedAt = iso();
    const files = body.context ? readStoredZip(Buffer.from(body.context, 'base64')) : new Map<string, string>();
    let exitCode = 0,
      logs: string;
    try {
      logs = runKubectl(c, body.command, files);
    } catch (e) {
      exitCode = 1;
      logs = (e as Error).message;
    }
    state.commandResults.set(id, {
      doneAt: now() + config.runCommandMs,
      result: { id, properties: { provisioningState: 'succeeded', exitCode, startedAt, finishedAt: iso(), logs } },
    });
    const location = `${ctx.armUrl()}/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}/commandResults/${id}?api-version=${req.query.get('api-version')}`;
    return ok(undefined, 202, { Location: location, 'Retry-After': String(config.pollRetryAfterSeconds) });
  };

  const commandResult = (req: RequestContext): Reply => {
    const r = state.commandResults.get(req.params[3]);
    if (!r) fail(404, 'NotFound', `Command result ${req.params[3]} was not found.`);
    if (now() < r!.doneAt)
      return ok(undefined, 202, {
        Location: `${ctx.armUrl()}${req.path}?api-version=${req.query.get('api-version')}`,
        'Retry-After': String(config.pollRetryAfterSeconds),
      });
    return ok(r!.result);
  };

  // ---- identities -----------------------------------------------------------------------------------------
  const identityId = (sub: string, rg: string, name: string) =>
    `/subscriptions/${sub}/resourcegroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const identity = (sub: string, rg: string, name: string) => {
    const rec = state.identities.get(keyOf(identityId(sub, rg, name)));
    if (!rec)
      fail(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${name}' under resource group '${rg}' was not found.`,
      );
    return rec!;
  };
  const putIdentity = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    requireRg(sub, rg);
    if (!IDENTITY_NAME.test(name))
      fail(
        400,
        'InvalidResourceName',
        `Resource name '${name}' is invalid. The name can contain only letters, numbers, underscores and hyphens, must start with a letter or number, and be 3 to 128 characters long.`,
      );
    const body = req.json();
    if (!body.location) fail(400, 'LocationRequired', 'The location property is required for this definition.');
    const key = keyOf(identityId(sub, rg, name));
    const existing = state.identities.get(key);
    if (existing) {
      if (existing.resource.location.toLowerCase() !== String(body.location).toLowerCase())
        fail(
          400,
          'InvalidResourceLocation',
          `The resource '${name}' already exists in location '${existing.resource.location}'.`,
        );
      existing.resource.tags = body.tags ?? existing.resource.tags;
      return ok(existing.resource, 200);
    }
    const resource = {
      id: identityId(sub, rg, name),
      name,
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      location: body.location,
      tags: body.tags ?? {},
      properties: {
        clientId: randomUUID(),
        principalId: randomUUID(),
        tenantId: claimsOf(req).tid,
        isolationScope: 'None',
      },
    };
    state.identities.set(key, { resource, createdAt: now(), credentials: new Map(), writeBusyUntil: 0 });
    return ok(resource, 201);
  };

  const credentialBody = (idRes: any, name: string, props: any) => ({
    id: `${idRes.id}/federatedIdentityCredentials/${name}`,
    name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    properties: props,
  });
  const putCredential = async (req: RequestContext): Promise<Reply> => {
    const [sub, rg, idName, name] = req.params;
    const rec = identity(sub, rg, idName);
    if (!CREDENTIAL_NAME.test(name))
      fail(
        400,
        'BadRequest',
        `Invalid federated identity credential name '${name}': it must match ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$ (3-120 characters, letters, digits, '-' and '_', starting with a letter or digit).`,
      );
    const p = req.json().properties ?? {};
    if (typeof p.issuer !== 'string' || !/^https:\/\//.test(p.issuer))
      fail(400, 'BadRequest', "The issuer must be a URL that starts with 'https://'.");
    if (typeof p.subject !== 'string' || !p.subject || p.subject.length > 600)
      fail(400, 'BadRequest', 'The subject is required and must be at most 600 characters.');
    if (!Array.isArray(p.audiences) || p.audiences.length !== 1 || typeof p.audiences[0] !== 'string')
      fail(400, 'BadRequest', 'Exactly one audience is required.');
    if (now() < rec.writeBusyUntil) {
      fail(
        409,
        'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
        'Too many Federated Identity Credentials are written concurrently for the managed identity. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.',
      );
    }
    const key = name.toLowerCase();
    for (const [k, fic] of rec.credentials) {
      if (k !== key && fic.properties.issuer === p.issuer && fic.properties.subject === p.subject) {
        fail(
          400,
          'BadRequest',
          `A federated identity credential with issuer '${p.issuer}' and subject '${p.subject}' already exists under the name '${fic.name}'.`,
        );
      }
    }
    const exists = rec.credentials.has(key);
    if (!exists && rec.credentials.size >= MAX_CREDENTIALS_PER_IDENTITY) {
      fail(
        400,
        'BadRequest',
        `The managed identity '${idName}' already has the maximum of ${MAX_CREDENTIALS_PER_IDENTITY} federated identity credentials.`,
      );
    }
    rec.writeBusyUntil = now() + config.credentialWriteMs;
    await new Promise((r) => setTimeout(r, config.credentialWriteMs));
    const fic = credentialBody(rec.resource, name, { issuer: p.issuer, subject: p.subject, audiences: p.audiences });
    rec.credentials.set(key, fic);
    state.credentialWrittenAt.set(keyOf(fic.id), now());
    return ok(fic, exists ? 200 : 201);
  };

  const guardOthers = (key: string, what: string) => refuseOthers(state, key, what, fail);

  // ---- vaults ---------------------------------------------------------------------------------------------
  const vault = (sub: string, rg: string, name: string) => {
    const v = state.vaults.get(
      keyOf(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`),
    );
    if (!v)
      fail(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.KeyVault/vaults/${name}' under resource group '${rg}' was not found.`,
      );
    return v;
  };
  const updateAccessPolicy = (req: RequestContext): Reply => {
    const [sub, rg, name, kind] = req.params;
    const v = vault(sub, rg, name);
    const incoming = req.json().properties?.accessPolicies;
    if (!Array.isArray(incoming) || incoming.length === 0)
      fail(400, 'BadRequest', 'properties.accessPolicies is required.');
    if (v.properties.enableRbacAuthorization) {
      fail(
        400,
        'BadRequest',
        `The vault '${name}' uses Azure role-based access control; access policies cannot be changed on it.`,
      );
    }
    const perms = ['keys', 'secrets', 'certificates', 'storage'] as const;
    for (const ap of incoming) {
      if (!GUID.test(ap.objectId ?? '') || !GUID.test(ap.tenantId ?? ''))
        fail(400, 'BadRequest', 'Each access policy needs a tenantId and objectId that are GUIDs.');
      const list: any[] = v.properties.accessPolicies;
      const i = list.findIndex((x) => x.objectId === ap.objectId && x.tenantId === ap.tenantId);
      if (kind.toLowerCase() === 'add') {
        if (list.length >= 1024 && i < 0) fail(400, 'BadRequest', 'A vault can have at most 1024 access policies.');
        if (i < 0)
          list.push({ tenantId: ap.tenantId, objectId: ap.objectId, permissions: clone(ap.permissions ?? {}) });
        else
          for (const k of perms) {
            const merged = new Set([...(list[i].permissions[k] ?? []), ...(ap.permissions?.[k] ?? [])]);
            if (merged.size) list[i].permissions[k] = [...merged];
          }
      } else if (kind.toLowerCase() === 'replace') {
        if (i < 0) list.push(clone(ap));
        else list[i] = clone(ap);
      } else if (i >= 0) {
        // remove takes the listed permissions away; the entry goes when none is left.
        for (const k of perms) {
          for (const perm of ap.permissions?.[k] ?? []) {
            if ((list[i].permissions[k] ?? []).includes(perm))
              guardOthers(
                `policy:${keyOf(v.id)}:${ap.objectId}:${k}:${perm}`,
                `remove ${k}/${perm} of ${ap.objectId} on ${v.name}`,
              );
          }
        }
        for (const k of perms) {
          const left = (list[i].permissions[k] ?? []).filter(
            (x: string) => !(ap.permissions?.[k] ?? []).map((y: string) => y.toLowerCase()).includes(x.toLowerCase()),
          );
          if (left.length) list[i].permissions[k] = left;
          else delete list[i].permissions[k];
        }
        if (!perms.some((k) => list[i].permissions[k]?.length)) list.splice(i, 1);
      }
    }
    return ok({
      id: `${v.id}/accessPolicies/`,
      type: 'Microsoft.KeyVault/vaults/accessPolicies',
      properties: { accessPolicies: incoming },
    });
  };

  /**
   * A whole-vault PUT (what `az keyvault set-policy` sends after its GET): access policies may change, nothing else,
   * and no one else's permission may go.
   */
  const putVault = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    const v = vault(sub, rg, name);
    const body = req.json();
    if (!body.location || !body.properties?.tenantId || !body.properties?.sku)
      fail(400, 'BadRequest', 'A vault needs location, properties.tenantId and properties.sku.');
    const lost = (v.properties.accessPolicies as any[]).flatMap((p) =>
      Object.entries(p.permissions as Record<string, string[]>).flatMap(([k, perms]) =>
        perms
          .filter(
            (perm) =>
              !(body.properties.accessPolicies ?? []).some(
                (q: any) =>
                  q.objectId === p.objectId &&
                  (q.permissions?.[k] ?? []).map((x: string) => x.toLowerCase()).includes(perm.toLowerCase()),
              ),
          )
          .map((perm) => ({
            key: `policy:${keyOf(v.id)}:${p.objectId}:${k}:${perm}`,
            what: `remove ${k}/${perm} of ${p.objectId} on ${v.name}`,
          })),
      ),
    );
    for (const l of lost) guardOthers(l.key, l.what);
    const changes = unexpectedChanges(v, body, []).filter(
      (p) => !/^(systemData|properties\.(accessPolicies|vaultUri|provisioningState|hsmPoolResourceId))(\.|$)/.test(p),
    );
    if (changes.length) {
      state.violations.push(...changes.map((c) => `${v.name}: ${c}`));
      fail(
        400,
        'SimulatorUnexpectedPropertyChange',
        `This PUT would change properties of ${v.name} other than its access policies: ${changes.join('; ')}`,
      );
    }
    v.properties.accessPolicies = clone(body.properties.accessPolicies ?? []);
    return ok(v);
  };

  // ---- role assignments -----------------------------------------------------------------------------------
  const principalKnown = (id: string, typed: boolean, forceMissing: boolean) => {
    if (forceMissing) return false;
    if (state.knownPrincipals.has(id)) return true;
    const rec = [...state.identities.values()].find((r) => r.resource.properties.principalId === id);
    if (!rec) return false;
    return typed || now() - rec.createdAt >= config.principalReplicationMs;
  };
  const scopeExists = (scope: string) => {
    const s = scope.toLowerCase();
    if (/^\/subscriptions\/[^/]+$/.test(s)) return true;
    if (/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+$/.test(s)) return true;
    return state.vaults.has(s) || state.clusters.has(s) || state.identities.has(s);
  };
  const putRoleAssignment = (req: RequestContext): Reply => {
    const [scope, name] = req.params;
    if (!GUID.test(name))
      fail(
        400,
        'InvalidRoleAssignmentId',
        `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
      );
    if (!scopeExists(scope)) fail(404, 'ResourceNotFound', `The scope '${scope}' does not exist.`);
    const p = req.json().properties ?? {};
    const roleGuid = /roleDefinitions\/([^/]+)$/i.exec(p.roleDefinitionId ?? '')?.[1]?.toLowerCase();
    if (!roleGuid || !BUILT_IN_ROLES[roleGuid])
      fail(
        400,
        'RoleDefinitionDoesNotExist',
        `The specified role definition with ID '${p.roleDefinitionId}' does not exist.`,
      );
    const tenant = claimsOf(req).tid;
    if (
      !principalKnown(
        p.principalId,
        !!p.principalType,
        req.faults.some((f) => f.kind === 'principalNotFound'),
      )
    ) {
      fail(
        400,
        'PrincipalNotFound',
        `Principal ${p.principalId} does not exist in the directory ${tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.`,
      );
    }
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    const existing = state.roleAssignments.get(keyOf(id));
    const duplicate = [...state.roleAssignments.values()].find(
      (ra) =>
        ra.name !== name &&
        ra.properties.scope.toLowerCase() === scope.toLowerCase() &&
        ra.properties.principalId === p.principalId &&
        ra.properties.roleDefinitionId.toLowerCase().endsWith(roleGuid!),
    );
    if (duplicate) fail(409, 'RoleAssignmentExists', 'The role assignment already exists.');
    if (existing) {
      if (
        existing.properties.principalId !== p.principalId ||
        !existing.properties.roleDefinitionId.toLowerCase().endsWith(roleGuid!)
      ) {
        fail(
          400,
          'RoleAssignmentUpdateNotPermitted',
          'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
        );
      }
      return ok(existing, 200);
    }
    const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    const ra = {
      id,
      name,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
        principalId: p.principalId,
        principalType: p.principalType ?? 'ServicePrincipal',
        scope,
        createdOn: iso(),
        updatedOn: iso(),
        createdBy: claimsOf(req).oid,
        updatedBy: claimsOf(req).oid,
      },
    };
    state.roleAssignments.set(keyOf(id), ra);
    return ok(ra, 201);
  };
  const listRoleAssignments = (req: RequestContext): Reply => {
    const scope = req.params[0] || '/';
    const filter = req.query.get('$filter') ?? '';
    const principal = /principalId eq '([^']+)'/i.exec(filter)?.[1];
    const atScope = /atScope\(\)/i.test(filter);
    const s = scope.toLowerCase();
    const rows = [...state.roleAssignments.values()].filter((ra) => {
      const rs = ra.properties.scope.toLowerCase();
      // ARM lists assignments at, above and below the scope; atScope() keeps those at and above.
      const related = atScope ? s.startsWith(rs) : s.startsWith(rs) || rs.startsWith(s);
      return related && (!principal || ra.properties.principalId === principal);
    });
    return page(rows);
  };
  const roleDefinition = (scope: string, guid: string) => {
    const roleName = BUILT_IN_ROLES[guid.toLowerCase()];
    if (!roleName) fail(404, 'RoleDefinitionDoesNotExist', `The role definition '${guid}' does not exist.`);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    return {
      id: `${sub ? `/subscriptions/${sub}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      name: guid,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName,
        type: 'BuiltInRole',
        description: roleName,
        assignableScopes: ['/'],
        permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [] }],
      },
    };
  };

  // ---- Resource Graph -------------------------------------------------------------------------------------
  const graphRow = (id: string, res: any, sub: string, tenants: Map<string, string>) => ({
    id: res.id,
    name: res.name,
    type: String(res.type).toLowerCase(),
    location: res.location,
    tenantId: tenants.get(sub),
    resourceGroup: /resourceGroups\/([^/]+)/i.exec(id)?.[1]?.toLowerCase(),
    subscriptionId: sub,
    properties: res.properties,
    tags: res.tags ?? {},
  });
  /** The user's quota: every answer carries what is left and when it resets; past it, 429 with Retry-After. */
  const spendGraphQuota = (req: RequestContext): Record<string, string> => {
    const user = claimsOf(req).oid;
    const t = now();
    let q = state.graphQuota.get(user);
    if (!q || t - q.windowStart >= config.graphQuotaWindowMs)
      state.graphQuota.set(user, (q = { windowStart: t, used: 0 }));
    const resetsMs = q.windowStart + config.graphQuotaWindowMs - t;
    const s = Math.ceil(resetsMs / 1000);
    const headers = {
      'x-ms-user-quota-remaining': String(Math.max(0, config.graphQuota - q.used - 1)),
      'x-ms-user-quota-resets-after': `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`,
    };
    if (q.used >= config.graphQuota) {
      throw new HttpError(
        429,
        {
          error: {
            code: 'RateLimiting',
            message:
              'Please provide below info when asking for support: timestamp, correlation id. Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed.',
          },
        },
        { ...headers, 'x-ms-user-quota-remaining': '0', 'Retry-After': String(Math.max(1, s)) },
      );
    }
    q.used++;
    return headers;
  };
  const queryResources = (req: RequestContext): Reply => {
    const quotaHeaders = spendGraphQuota(req);
    const body = req.json();
    const subs: string[] = body.subscriptions ?? [];
    if (typeof body.query !== 'string' || !body.query.trim()) fail(400, 'BadRequest', 'The query is required.');
    if (subs.length > 1000) fail(400, 'BadRequest', 'A query can name at most 1000 subscriptions.');
    const claims = claimsOf(req);
    const visible = new Set(
      state.subscriptions.filter((s) => s.tenantId === claims.tid).map((s) => s.subscriptionId.toLowerCase()),
    );
    const scope = new Set(
      (subs.length ? subs : [...visible]).map((s) => s.toLowerCase()).filter((s) => visible.has(s)),
    );
    const all: any[] = [];
    const tenants = new Map(state.subscriptions.map((s) => [s.subscriptionId, s.tenantId]));
    // A scale world has 40,000 resources and a query reads a few subscriptions: read them through the index.
    const index = resourcesBySubscription(state);
    for (const sub of scope) {
      for (const c of index.clusters.get(sub) ?? []) {
        settle(c);
        all.push(graphRow(c.resource.id, c.resource, subOf(c.resource.id), tenants));
      }
      for (const [id, v] of index.vaults.get(sub) ?? []) all.push(graphRow(id, v, subOf(id), tenants));
    }
    for (const [id, r] of state.identities)
      if (scope.has(subOf(id).toLowerCase())) all.push(graphRow(id, r.resource, subOf(id), tenants));
    const opts = body.options ?? {};
    const rows = evaluateGraphQuery(body.query, all, { skip: opts.$skip !== undefined });
    if (opts.$top !== undefined && !(Number(opts.$top) >= 1 && Number(opts.$top) <= 1000))
      badQuery('$top must be between 1 and 1000.');
    const top = Number(opts.$top ?? 100);
    let skip = Number(opts.$skip ?? 0);
    if (opts.$skipToken) {
      try {
        skip = JSON.parse(Buffer.from(opts.$skipToken, 'base64').toString('utf8')).skip;
      } catch {
        fail(400, 'BadRequest', 'The $skipToken is invalid.');
      }
    }
    let data = rows.slice(skip, skip + top);
    if (req.faults.some((f) => f.kind === 'malformedRows')) {
      const bySub = new Map<string, any[]>();
      for (const r of data) bySub.set(r.subscriptionId, [...(bySub.get(r.subscriptionId) ?? []), r]);
      data = [...bySub].map(([subscriptionId, resources]) => ({ subscriptionId, resources }));
    }
    const next =
      skip + top < rows.length
        ? Buffer.from(
            JSON.stringify({ skip: skip + top, q: createHash('sha1').update(body.query).digest('hex') }),
          ).toString('base64')
        : undefined;
    return ok(
      {
        totalRecords: rows.length,
        count: data.length,
        resultTruncated: 'false',
        facets: [],
        data,
        ...(next ? { $skipToken: next } : {}),
      },
      200,
      quotaHeaders,
    );
  };

  const subsOf = (req: RequestContext) => state.subscriptions.filter((s) => s.tenantId === claimsOf(req).tid);

  return [
    {
      method: 'GET',
      pattern: re('/subscriptions'),
      op: 'subscriptions.list',
      handle: (r) =>
        page(
          subsOf(r).map((s) => ({
            id: `/subscriptions/${s.subscriptionId}`,
            ...s,
            authorizationSource: 'RoleBased',
            subscriptionPolicies: {
              locationPlacementId: 'Public_2014-09-01',
              quotaId: 'PayAsYouGo_2014-09-01',
              spendingLimit: 'Off',
            },
          })),
        ),
    },
    {
      method: 'GET',
      pattern: re('/tenants'),
      op: 'tenants.list',
      handle: () =>
        page(
          state.tenants.map((t) => ({
            id: `/tenants/${t.tenantId}`,
            tenantId: t.tenantId,
            displayName: t.displayName,
            defaultDomain: t.defaultDomain,
            domains: [t.defaultDomain],
            tenantCategory: 'Home',
            tenantType: 'AAD',
            countryCode: 'US',
          })),
        ),
    },
    {
      method: 'POST',
      pattern: re('/providers/Microsoft\\.ResourceGraph/resources'),
      op: 'resources.query',
      handle: queryResources,
    },

    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.ContainerService/managedClusters`),
      op: 'managedClusters.list',
      handle: (r) =>
        page(
          allClusters()
            .filter((c) => c.subscriptionId.toLowerCase() === r.params[0].toLowerCase())
            .map((c) => c.resource),
        ),
    },
    {
      method: 'GET',
      pattern: re(AKS),
      op: 'managedClusters.listByResourceGroup',
      handle: (r) =>
        page(
          allClusters()
            .filter((c) => inRg(r.params[0], r.params[1])(c.resource.id))
            .map((c) => c.resource),
        ),
    },
    {
      method: 'GET',
      pattern: re(`${AKS}/([^/]+)`),
      op: 'managedClusters.get',
      handle: (r) => ok(clusterById(r.params[0], r.params[1], r.params[2]).resource),
    },
    { method: 'PUT', pattern: re(`${AKS}/([^/]+)`), op: 'managedClusters.createOrUpdate', handle: putCluster },
    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.ContainerService/locations/([^/]+)/operations/([^/]+)`),
      op: 'managedClusters.getOperation',
      handle: operationStatus,
    },
    {
      method: 'POST',
      pattern: re(`${AKS}/([^/]+)/listClusterUserCredential`),
      op: 'managedClusters.listClusterUserCredentials',
      handle: (r) => {
        const c = clusterById(r.params[0], r.params[1], r.params[2]);
        return ok({ kubeconfigs: [{ name: 'clusterUser', value: kubeconfigFor(c, claimsOf(r)) }] });
      },
    },
    { method: 'POST', pattern: re(`${AKS}/([^/]+)/runCommand`), op: 'managedClusters.runCommand', handle: runCommand },
    {
      method: 'GET',
      pattern: re(`${AKS}/([^/]+)/commandResults/([^/]+)`),
      op: 'managedClusters.getCommandResult',
      handle: commandResult,
    },

    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities`),
      op: 'userAssignedIdentities.listBySubscription',
      handle: (r) =>
        page([...state.identities.values()].map((x) => x.resource).filter((x) => inSub(r.params[0])(x.id))),
    },
    {
      method: 'GET',
      pattern: re(MSI),
      op: 'userAssignedIdentities.listByResourceGroup',
      handle: (r) =>
        page([...state.identities.values()].map((x) => x.resource).filter((x) => inRg(r.params[0], r.params[1])(x.id))),
    },
    {
      method: 'GET',
      pattern: re(`${MSI}/([^/]+)`),
      op: 'userAssignedIdentities.get',
      handle: (r) => ok(identity(r.params[0], r.params[1], r.params[2]).resource),
    },
    { method: 'PUT', pattern: re(`${MSI}/([^/]+)`), op: 'userAssignedIdentities.createOrUpdate', handle: putIdentity },
    {
      method: 'DELETE',
      pattern: re(`${MSI}/([^/]+)`),
      op: 'userAssignedIdentities.delete',
      handle: (r) => {
        const id = identityId(r.params[0], r.params[1], r.params[2]);
        if (state.identities.has(keyOf(id))) guardOthers(`identity:${keyOf(id)}`, `delete the identity ${r.params[2]}`);
        const existed = state.identities.delete(keyOf(id));
        return ok(undefined, existed ? 200 : 204);
      },
    },
    {
      method: 'GET',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials`),
      op: 'federatedIdentityCredentials.list',
      handle: (r) => page([...identity(r.params[0], r.params[1], r.params[2]).credentials.values()]),
    },
    {
      method: 'GET',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials/([^/]+)`),
      op: 'federatedIdentityCredentials.get',
      handle: (r) => {
        const fic = identity(r.params[0], r.params[1], r.params[2]).credentials.get(r.params[3].toLowerCase());
        if (!fic) fail(404, 'NotFound', `Federated identity credential '${r.params[3]}' was not found.`);
        return ok(fic);
      },
    },
    {
      method: 'PUT',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials/([^/]+)`),
      op: 'federatedIdentityCredentials.createOrUpdate',
      handle: putCredential,
    },
    {
      method: 'DELETE',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials/([^/]+)`),
      op: 'federatedIdentityCredentials.delete',
      handle: (r) => {
        const rec = identity(r.params[0], r.params[1], r.params[2]);
        const fic = rec.credentials.get(r.params[3].toLowerCase());
        if (fic)
          guardOthers(`credential:${keyOf(fic.id)}`, `delete the federated credential ${fic.name} of ${r.params[2]}`);
        const existed = rec.credentials.delete(r.params[3].toLowerCase());
        return ok(undefined, existed ? 200 : 204);
      },
    },

    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.KeyVault/vaults`),
      op: 'vaults.listBySubscription',
      handle: (r) => page([...state.vaults.values()].filter((v) => inSub(r.params[0])(v.id))),
    },
    {
      method: 'GET',
      pattern: re(KV),
      op: 'vaults.listByResourceGroup',
      handle: (r) => page([...state.vaults.values()].filter((v) => inRg(r.params[0], r.params[1])(v.id))),
    },
    {
      method: 'GET',
      pattern: re(`${KV}/([^/]+)`),
      op: 'vaults.get',
      handle: (r) => ok(vault(r.params[0], r.params[1], r.params[2])),
    },
    {
      method: 'PUT',
      pattern: re(`${KV}/([^/]+)/accessPolicies/(add|replace|remove)`),
      op: 'vaults.updateAccessPolicy',
      handle: updateAccessPolicy,
    },
    { method: 'PUT', pattern: re(`${KV}/([^/]+)`), op: 'vaults.createOrUpdate', handle: putVault },

    {
      method: 'PUT',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments/([^/]+)'),
      op: 'roleAssignments.create',
      handle: putRoleAssignment,
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments/([^/]+)'),
      op: 'roleAssignments.get',
      handle: (r) => {
        const ra = state.roleAssignments.get(
          keyOf(`${r.params[0]}/providers/Microsoft.Authorization/roleAssignments/${r.params[1]}`),
        );
        if (!ra) fail(404, 'RoleAssignmentNotFound', 'The role assignment does not exist.');
        return ok(ra);
      },
    },
    {
      method: 'DELETE',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments/([^/]+)'),
      op: 'roleAssignments.delete',
      handle: (r) => {
        const key = keyOf(`${r.params[0]}/providers/Microsoft.Authorization/roleAssignments/${r.params[1]}`);
        const ra = state.roleAssignments.get(key);
        if (ra) guardOthers(`roleAssignment:${key}`, `delete the role assignment ${ra.name}`);
        state.roleAssignments.delete(key);
        return ok(ra, ra ? 200 : 204);
      },
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments'),
      op: 'roleAssignments.listForScope',
      handle: listRoleAssignments,
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleDefinitions/([^/]+)'),
      op: 'roleDefinitions.get',
      handle: (r) => ok(roleDefinition(r.params[0], r.params[1])),
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleDefinitions'),
      op: 'roleDefinitions.list',
      handle: (r) => {
        const name = /roleName eq '([^']+)'/i.exec(r.query.get('$filter') ?? '')?.[1];
        return page(
          Object.keys(BUILT_IN_ROLES)
            .map((g) => roleDefinition(r.params[0], g))
            .filter((d) => !name || d.properties.roleName === name),
        );
      },
    },
  ];

  function runKubectl(c: ClusterRecord, command: string, files: Map<string, string>): string {
    const apply = /^kubectl apply --server-side --field-manager=([\w-]+)( --force-conflicts)? -f ([\w./-]+)$/.exec(
      command.trim(),
    );
    if (apply) {
      const text = files.get(apply[3]);
      if (text === undefined) throw new Error(`error: the path "${apply[3]}" does not exist`);
      return applyManifest(c, text, apply[1], !!apply[2]);
    }
    const token = /^kubectl create token ([\w.-]+) -n ([\w-]+) --audience ([^\s]+) --duration 10m$/.exec(
      command.trim(),
    );
    if (token) {
      if (!c.kube.serviceAccounts.has(`${token[2]}/${token[1]}`))
        throw new Error(`error: failed to create token: serviceaccounts "${token[1]}" not found`);
      return serviceAccountToken(c, token[2], token[1], [token[3]], 600).token;
    }
    const del = /^kubectl delete serviceaccount ([\w.-]+) -n ([\w-]+) --ignore-not-found$/.exec(command.trim());
    if (del) {
      try {
        return deleteServiceAccount(state, c, del[2], del[1]) ? `serviceaccount "${del[1]}" deleted` : '';
      } catch (e) {
        if (e instanceof HttpError)
          throw new Error(
            `Error from server (${(e.body as any).reason ?? (e.body as any).code}): ${(e.body as any).message}`,
            { cause: e },
          );
        throw e;
      }
    }
    // What an exported script sends: a jsonpath read of one annotation, a name-only existence check, a create.
    const annotation =
      /^kubectl get serviceaccount ([\w.-]+) -n ([\w-]+) --ignore-not-found -o jsonpath='\{\.metadata\.annotations\.([^}']+)\}'$/.exec(
        command.trim(),
      );
    if (annotation)
      return (
        c.kube.serviceAccounts.get(`${annotation[2]}/${annotation[1]}`)?.metadata.annotations?.[
          annotation[3].replace(/\\\./g, '.')
        ] ?? ''
      );
    const exists = /^kubectl get namespace ([\w-]+) --ignore-not-found -o name$/.exec(command.trim());
    if (exists) return c.kube.namespaces.has(exists[1]) ? `namespace/${exists[1]}\n` : '';
    const create = /^kubectl create namespace ([\w-]+)$/.exec(command.trim());
    if (create) {
      try {
        createObject(c.kube, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: create[1] } }, 'kubectl-create');
      } catch (e) {
        if (e instanceof HttpError)
          throw new Error(`Error from server (${(e.body as any).reason}): ${(e.body as any).message}`, { cause: e });
        throw e;
      }
      return `namespace/${create[1]} created\n`;
    }
    const get = /^kubectl get (namespace|serviceaccount) ([\w.-]+)(?: -n ([\w-]+))? -o json$/.exec(command.trim());
    if (get) return getObjectJson(c.kube, get[1], get[2], get[3]);
    const list =
      /^kubectl get (namespaces|serviceaccounts|pods|replicasets|mutatingwebhookconfigurations|deployments|statefulsets|daemonsets|jobs|cronjobs)(?: -n ([\w-]+))? -o json$/.exec(
        command.trim(),
      );
    if (list) {
      const source = {
        namespaces: c.kube.namespaces,
        serviceaccounts: c.kube.serviceAccounts,
        pods: c.kube.pods,
        replicasets: c.kube.replicaSets,
        mutatingwebhookconfigurations: c.kube.webhooks,
        deployments: c.kube.deployments,
        statefulsets: c.kube.statefulSets,
        daemonsets: c.kube.daemonSets,
        jobs: c.kube.jobs,
        cronjobs: c.kube.cronJobs,
      }[list[1]]!;
      const items = [...source.values()].filter((o) => !list[2] || o.metadata.namespace === list[2]);
      return JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 4);
    }
    throw new Error(`simulated run-command: unsupported command '${command}'`);
  }
}
