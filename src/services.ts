/**
 * Everything that loads the Azure SDKs and @kubernetes/client-node. extension.ts requires this module
 * on first use, so activation loads none of them.
 */
import * as l10n from '@vscode/l10n';
import type { TokenCredential } from '@azure/core-auth';
import { AzureCliCredential, ClientAssertionCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { KeyClient } from '@azure/keyvault-keys';
import { CertificateClient } from '@azure/keyvault-certificates';
import { keyVaultAuthenticationPolicy } from '@azure/keyvault-common';
import { createPipelineFromOptions, createPipelineRequest } from '@azure/core-rest-pipeline';
import { AzureCloud } from './auth/cloud';
import { SharedTokenCredential } from './auth/tokenCache';
import { AzureClientFactory, ClientOptions } from './azure/clients';
import { ClusterGateway } from './azure/clusters';
import { IdentityGateway } from './azure/identities';
import { ArmInventorySource } from './azure/inventorySource';
import { VaultGateway } from './azure/vaults';
import { KubeTarget, connectToCluster } from './kube/access';
import type { ClusterSummary } from './workloadIdentity/cluster';
import type { BindDeps, BindRequest } from './workloadIdentity/bind/model';
import type { ExportFormat } from './workloadIdentity/export/model';
import type { VerifyDeps } from './workloadIdentity/verify/model';
import type { ProbeDeps } from './workloadIdentity/probe/model';
import type { RemoveDeps } from './workloadIdentity/remove/model';
import { serviceAccountManifest } from './workloadIdentity/manifestYaml';
import { findCandidates, overlaysOf, planConnect, planKustomizePatch } from './workloadIdentity/connect/workspace';
import { connectLive, newPodsReport, planLive, toLiveWorkload } from './workloadIdentity/connect/live';
import { bindingSpec } from './workloadIdentity/export/model';
import { render } from './workloadIdentity/export/formats';
import { Logger } from './log';
import { firstLine } from './util/text';

/** VS Code's translations for this bundle's copy of @vscode/l10n (undefined in English). */
export function useTranslations(contents: Record<string, string> | undefined) {
  if (contents) l10n.config({ contents });
}

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

export interface ServiceOptions extends ClientOptions {
  /** The tenant signed in to. */
  tenantId?: string;
}

export function createAzureServices(
  cloud: AzureCloud,
  signedIn: TokenCredential,
  log: Logger,
  options: ServiceOptions = {},
) {
  // Every client of the session shares one token per scope.
  const credential = new SharedTokenCredential(signedIn);
  const clients = new AzureClientFactory(cloud, credential, log, options);
  const clusters = new ClusterGateway(clients);
  const identities = new IdentityGateway(clients);
  const vaults = new VaultGateway(clients);
  /** Dependencies of one Bind flow: the cluster connection is made once and kept in memory for it. */
  const bindDeps = (): BindDeps => {
    const connections = new Map<string, Promise<KubeTarget>>();
    return {
      clusters,
      identities,
      vaults,
      log,
      kube: (cluster) => {
        const key = cluster.id.toLowerCase();
        if (!connections.has(key))
          connections.set(
            key,
            connectToCluster(clusters, credential, cluster, log, options).catch((e) => {
              connections.delete(key);
              throw e;
            }),
          );
        return connections.get(key)!;
      },
      sleep: (ms, signal) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(resolve, ms);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              reject(Object.assign(new Error('Cancelled.'), { name: 'AbortError' }));
            },
            { once: true },
          );
        }),
    };
  };
  return {
    clients,
    clusters,
    identities,
    vaults,
    inventory: new ArmInventorySource(clients),
    /** YAML rendering lives here so the yaml library loads with the SDKs, not at activation. */
    serviceAccountManifest,
    /** Connect Workload's YAML editing and live apply: they load with the SDKs, not at activation. */
    workloads: {
      findCandidates,
      overlaysOf,
      planConnect,
      planKustomizePatch,
      planLive,
      connectLive,
      newPodsReport,
      toLiveWorkload,
    },
    bindDeps,
    /** Export's three formats: their text loads with the SDKs, not at activation. */
    exportAsCode: (format: ExportFormat, request: BindRequest) => render(format, bindingSpec(request)),
    connect: (cluster: ClusterSummary) => connectToCluster(clusters, credential, cluster, log, options),
    /** Dependencies of one Verify run: Bind's, plus what the user can see (the tree's inventory). */
    verifyDeps(inventory: VerifyDeps['inventory']): VerifyDeps {
      return { ...bindDeps(), identities, inventory };
    },
    /** Dependencies of one Remove run: Verify's reads, plus the gateways' deletes. */
    removeDeps(inventory: VerifyDeps['inventory']): RemoveDeps {
      return { ...bindDeps(), identities, vaults, inventory };
    },
    /** Dependencies of one Test Binding run: Verify's, plus the exchange a pod makes and Key Vault's data plane. */
    probeDeps(inventory: VerifyDeps['inventory']): ProbeDeps {
      return {
        ...bindDeps(),
        identities,
        inventory,
        cloud,
        signedInTenantId: options.tenantId,
        workloadCredential: (tenantId, clientId, assertion) =>
          new ClientAssertionCredential(tenantId, clientId, assertion, {
            ...clients.dataPlaneOptions(),
            authorityHost: cloud.activeDirectoryEndpoint,
            // Outside the public cloud, MSAL would first validate the authority against the public cloud's discovery.
            disableInstanceDiscovery: cloud.name !== 'AzureCloud',
            additionallyAllowedTenants: ['*'],
          }),
        readSecretStatus: async (vaultUri, name, credential, signal) => {
          // Key Vault's own challenge policy, and a streamed 200 that is closed unread: the value never reaches memory as text.
          const { httpClient, additionalPolicies, ...pipelineOptions } = clients.dataPlaneOptions();
          const pipeline = createPipelineFromOptions(pipelineOptions);
          for (const p of additionalPolicies)
            pipeline.addPolicy(p.policy, { phase: p.position === 'perRetry' ? 'Retry' : undefined });
          pipeline.addPolicy(keyVaultAuthenticationPolicy(credential));
          const res = await pipeline.sendRequest(
            httpClient,
            createPipelineRequest({
              url: `${vaultUri.replace(/\/?$/, '/')}secrets/${encodeURIComponent(name)}?api-version=7.5`,
              method: 'GET',
              abortSignal: signal,
              streamResponseStatusCodes: new Set([200]),
            }),
          );
          log.info(`GET ${vaultUri}secrets/<named secret> ${res.status}`);
          if (res.status === 200) {
            (res.readableStreamBody as unknown as { destroy?(): void } | undefined)?.destroy?.();
            return { status: 200, code: 'Readable', message: `${name} is readable.` };
          }
          let error: KeyVaultError | undefined;
          try {
            error = JSON.parse(res.bodyAsText ?? '{}').error;
          } catch {
            /* not JSON */
          }
          return vaultAnswer(res.status, error);
        },
        probeVault: async (vaultUri, kind, name, credential, signal) => {
          const options = { abortSignal: signal };
          const clientOptions = clients.dataPlaneOptions();
          try {
            // The clients answer the vault's 401 challenge with a token for the resource it names, as a pod's SDK does.
            if (kind === 'secrets')
              await new SecretClient(vaultUri, credential, clientOptions).getSecret(name, options);
            else if (kind === 'keys') await new KeyClient(vaultUri, credential, clientOptions).getKey(name, options);
            else await new CertificateClient(vaultUri, credential, clientOptions).getCertificate(name, options);
            return { status: 200, code: 'Found', message: `${name} exists.` };
          } catch (e) {
            const err = e as {
              statusCode?: number;
              code?: string;
              message?: string;
              details?: { error?: KeyVaultError };
            };
            if (typeof err.statusCode !== 'number') throw e;
            return vaultAnswer(err.statusCode, { code: err.code, message: err.message, ...err.details?.error });
          }
        },
      };
    },
    async listSubscriptions(): Promise<SubscriptionInfo[]> {
      const out: SubscriptionInfo[] = [];
      for await (const s of clients.subscriptions().subscriptions.list()) {
        if (s.state && s.state !== 'Enabled') continue;
        out.push({
          subscriptionId: s.subscriptionId!,
          displayName: s.displayName ?? s.subscriptionId!,
          tenantId: s.tenantId,
        });
      }
      return out.sort((a, b) => a.displayName.localeCompare(b.displayName));
    },
    async listTenants(): Promise<TenantInfo[]> {
      const out: TenantInfo[] = [];
      for await (const t of clients.subscriptions().tenants.list())
        out.push({ tenantId: t.tenantId!, displayName: t.displayName, defaultDomain: t.defaultDomain });
      return out;
    },
  };
}

export type AzureServices = ReturnType<typeof createAzureServices>;

/** Key Vault's error body; the clients' deserializer names the inner error innerError, the wire innererror. */
interface KeyVaultError {
  code?: string;
  message?: string;
  innererror?: { code?: string };
  innerError?: { code?: string };
}

/** Key Vault says why in the inner error (ForbiddenByRbac, AccessDenied, ForbiddenByFirewall, SecretDisabled). */
const vaultAnswer = (status: number, e?: KeyVaultError) => ({
  status,
  code: e?.innerError?.code ?? e?.innererror?.code ?? e?.code ?? `HTTP${status}`,
  message: firstLine(e?.message ?? ''),
});

export function createAzureCliCredential(tenantId?: string): TokenCredential {
  return new AzureCliCredential(tenantId ? { tenantId } : {});
}
