import type { TokenCredential } from '@azure/core-auth';
import { AzureCloud } from '../../src/auth/cloud';
import { AzureClientFactory } from '../../src/azure/clients';
import { Logger } from '../../src/log';
import { createAzureServices } from '../../src/services';
import { loadInventory, vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { runBind } from '../../src/workloadIdentity/bind/run';
import type { VerifyDeps } from '../../src/workloadIdentity/verify/model';
import type { ProbeDeps } from '../../src/workloadIdentity/testBinding/model';
import type { RemoveDeps } from '../../src/workloadIdentity/remove/model';
import { UnsavedFileError, type ConnectDeps, type WorkspaceFiles } from '../../src/workloadIdentity/connect/model';
import { VAULT_RESOURCE } from '../sim/entra';
import { isWrite } from '../sim/faults';
import { SUB_DEV, SUB_FABRIKAM, SUB_PROD, TENANT_CONTOSO } from '../sim/seed';
import { Simulator, SimOptions } from '../sim/server';
import type { SimState } from '../sim/model';

export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  trace(m: string) {
    this.lines.push(`trace ${m}`);
  }
  info(m: string) {
    this.lines.push(`info ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  }
  error(m: string) {
    this.lines.push(`error ${m}`);
  }
  get text() {
    return this.lines.join('\n');
  }
}

export const simCloud = (sim: Simulator): AzureCloud => ({
  name: 'custom',
  displayName: 'Simulated Azure',
  resourceManagerEndpoint: `${sim.info.armUrl}/`,
  portalUrl: 'https://portal.azure.com',
  authProviderId: 'microsoft-sovereign-cloud',
  activeDirectoryEndpoint: `${sim.info.loginUrl}/`,
  keyVaultResource: VAULT_RESOURCE,
});

/** A credential that hands out the simulator's tokens, and remembers each one it issued (for leak checks). */
export function simCredential(sim: Simulator, issued: string[] = []): TokenCredential & { issued: string[] } {
  return {
    issued,
    async getToken(scopes) {
      const scope = Array.isArray(scopes) ? scopes[0] : scopes;
      const token = sim.token(scope.replace(/\.default$/, ''));
      issued.push(token);
      return { token, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

export async function withSim(opts: SimOptions & { requestTimeoutMs?: number; retryDelayMs?: number } = {}) {
  const sim = await Simulator.start(opts);
  const log = new RecordingLogger();
  const credential = simCredential(sim);
  // A short timeout keeps tests of unanswered requests short; the product uses 60 s.
  const services = createAzureServices(simCloud(sim), credential, log, {
    requestTimeoutMs: opts.requestTimeoutMs ?? 1500,
    retryDelayMs: opts.retryDelayMs ?? 50,
    tenantId: TENANT_CONTOSO,
  });
  return { sim, log, credential, services, clients: services.clients as AzureClientFactory };
}

/** Requests the simulator saw that change something. */
export const writes = (sim: Simulator) => sim.log.filter(isWrite);

/** The standard world's subscriptions as the tree lists them. */
const standardInventory = (services: ReturnType<typeof createAzureServices>) => {
  const inventory = loadInventory(services.inventory, [SUB_PROD, SUB_DEV, SUB_FABRIKAM]);
  return {
    clusters: async () => (await inventory).flatMap((i) => i.clusters),
    vaults: async () => (await inventory).flatMap((i) => i.vaults),
  };
};
const fastSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 20)));

/** Verify's dependencies over the standard world's subscriptions; retries wait at most 20 ms. */
export function verifyDepsFor(services: ReturnType<typeof createAzureServices>): VerifyDeps {
  return { ...services.verifyDeps(standardInventory(services)), sleep: fastSleep };
}

/** Test Binding's dependencies over the standard world's subscriptions; Bind's retries wait at most 20 ms. */
export function probeDepsFor(services: ReturnType<typeof createAzureServices>): ProbeDeps {
  return { ...services.probeDeps(standardInventory(services)), sleep: fastSleep };
}

/** Remove's dependencies over the standard world's subscriptions. */
export function removeDepsFor(services: ReturnType<typeof createAzureServices>): RemoveDeps {
  return { ...services.removeDeps(standardInventory(services)), sleep: fastSleep };
}

/**
 * Everything Bind, Remove and the exported script touch, without what differs between runs: issuers and client ids
 * are named by their cluster and identity, permissions sorted, role assignments by principal and role (az names
 * them at random, Bind deterministically).
 */
export function worldOf(s: SimState) {
  const principals = new Map(
    [...s.identities.values()].map((r) => [r.resource.properties.principalId, r.resource.name]),
  );
  const names = new Map<string, string>(
    [
      ...[...s.clusters.values()].map(
        (c) =>
          [
            String(c.resource.properties.oidcIssuerProfile?.issuerURL ?? '').replace(/\/$/, ''),
            `issuer-of-${c.name}`,
          ] as [string, string],
      ),
      ...[...s.identities.values()].map(
        (r) => [r.resource.properties.clientId, `client-id-of-${r.resource.name}`] as [string, string],
      ),
    ].filter(([k]) => k),
  );
  const permissions = (p: Record<string, string[]>) =>
    Object.fromEntries(
      Object.keys(p)
        .sort()
        .filter((k) => p[k]?.length)
        .map((k) => [k, p[k].map((x) => x.toLowerCase()).sort()]),
    );
  const world = {
    identities: [...s.identities.values()]
      .map(
        (r) =>
          `${r.resource.name}:${JSON.stringify(r.resource.tags ?? {})}:${[...r.credentials.values()]
            .map((c) => `${c.name}|${c.properties.subject}|${c.properties.issuer}|${c.properties.audiences}`)
            .sort()
            .join(',')}`,
      )
      .sort(),
    policies: [...s.vaults.values()].map(
      (v) =>
        `${v.name}:${v.properties.accessPolicies
          .map((p: any) => `${principals.get(p.objectId) ?? p.objectId}=${JSON.stringify(permissions(p.permissions))}`)
          .sort()
          .join(';')}`,
    ),
    roles: [...s.roleAssignments.values()]
      .map(
        (a) =>
          `${principals.get(a.properties.principalId) ?? a.properties.principalId}:${a.properties.roleDefinitionId.split('/').pop()}:${a.properties.scope.toLowerCase()}:${a.properties.principalType}`,
      )
      .sort(),
    serviceAccounts: [...s.clusters.values()]
      .flatMap((c) =>
        [...c.kube.serviceAccounts.entries()].map(
          ([k, sa]) =>
            `${c.name}/${k}:${JSON.stringify(sa.metadata.annotations ?? {})}:${JSON.stringify(sa.metadata.labels ?? {})}`,
        ),
      )
      .sort(),
    namespaces: [...s.clusters.values()].map((c) => `${c.name}:${[...c.kube.namespaces.keys()].sort().join('+')}`),
    violations: [...s.violations, ...[...s.clusters.values()].flatMap((c) => c.violations)],
  };
  const named = (text: string) => [...names].reduce((t, [k, v]) => t.split(k).join(v), text);
  return JSON.parse(named(JSON.stringify(world)));
}

/** A ServiceAccount on aks-payments (orders/orders-api unless named) bound to kv-payments (get on secrets) through an identity binding of id-orders, made if new. */
export function bindOrdersThroughIdentityBinding(
  env: Awaited<ReturnType<typeof withSim>>,
  namespace = 'orders',
  serviceAccount = 'orders-api',
) {
  const cluster = clusterFromRaw([...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!.resource);
  return runBind(
    {
      cluster,
      namespace,
      serviceAccount,
      vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!),
      identity: {
        kind: 'new',
        subscriptionId: SUB_PROD,
        resourceGroup: 'rg-payments',
        name: 'id-orders',
        location: 'eastus',
      },
      permissions: ['secrets'],
      mode: 'identityBinding',
    },
    verifyDepsFor(env.services),
    { signal: new AbortController().signal },
  );
}

/** The open folders in memory: what a step writes, and which files an editor holds unsaved. */
export function memoryWorkspace(initial: Record<string, string>) {
  const files = new Map(Object.entries(initial));
  const dirty = new Set<string>();
  const writes: string[] = [];
  const checkSaved = (path: string) =>
    dirty.has(path) ? Promise.reject(new UnsavedFileError(path)) : Promise.resolve();
  const api: WorkspaceFiles = {
    yamlFiles: () => Promise.resolve([...files].map(([path, text]) => ({ path, text }))),
    find: () => Promise.resolve([]),
    read: (path) => Promise.resolve(files.get(path)),
    checkSaved,
    async write(path, text) {
      await checkSaved(path);
      writes.push(path);
      files.set(path, text);
    },
    writeGenerated(path, text) {
      if (files.get(path) === text) return Promise.resolve('unchanged' as const);
      writes.push(path);
      files.set(path, text);
      return Promise.resolve('written' as const);
    },
  };
  const deps: ConnectDeps = {
    files: api,
    kube: () => Promise.reject(new Error('no cluster in this test')),
    sleep: () => Promise.resolve(),
    log: { info() {}, warn() {}, error() {} } as unknown as ConnectDeps['log'],
  };
  return { files, dirty, writes, deps };
}
