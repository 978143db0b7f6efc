/**
 * Everything that loads the Azure SDKs and @kubernetes/client-node. extension.ts requires this module
 * on first use, so activation loads none of them.
 */
import * as l10n from '@vscode/l10n';
import type { TokenCredential } from '@azure/core-auth';
import { AzureCliCredential } from '@azure/identity';
import { AzureCloud } from './auth/cloud';
import { SharedTokenCredential } from './auth/tokenCache';
import { AzureClientFactory, ClientOptions } from './azure/clients';
import { ClusterGateway } from './azure/clusters';
import { IdentityGateway } from './azure/identities';
import { ArmInventorySource } from './azure/inventorySource';
import { VaultGateway } from './azure/vaults';
import { KeyVaultDataGateway } from './azure/keyVaultData';
import { SubscriptionGateway } from './azure/subscriptions';
import { KubeTarget, connectToCluster, runInCluster } from './kube/access';
import type { ClusterSummary } from './workloadIdentity/cluster';
import type { BindDeps, BindRequest } from './workloadIdentity/bind/model';
import type { FleetRequest } from './workloadIdentity/bind/fleet';
import { IdentityBindingGateway } from './azure/identityBindings';
import type { ExportFormat } from './workloadIdentity/export/model';
import type { VerifyDeps } from './workloadIdentity/verify/model';
import type { ProbeDeps } from './workloadIdentity/testBinding/model';
import type { RemoveDeps } from './workloadIdentity/remove/model';
import { serviceAccountManifest } from './workloadIdentity/manifestYaml';
import { findCandidates, overlaysOf, planConnect, planKustomizePatch } from './workloadIdentity/connect/workspace';
import { appSideHints } from './workloadIdentity/connect/appSide';
import { planLive, toLiveWorkload } from './workloadIdentity/connect/live';
import { runConnect } from './workloadIdentity/connect/run';
import { findWorkloadSwitches, switchWorkloads } from './workloadIdentity/migrate/workloads';
import { bindingSpec } from './workloadIdentity/export/model';
import { render } from './workloadIdentity/export/formats';
import { Logger } from './log';
import { sleep } from './util/concurrency';

/** VS Code's translations for this bundle's copy of @vscode/l10n (undefined in English). */
export function useTranslations(contents: Record<string, string> | undefined) {
  if (contents) l10n.config({ contents });
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
  const identityBindings = new IdentityBindingGateway(clients);
  const vaults = new VaultGateway(clients);
  const subscriptions = new SubscriptionGateway(clients);
  const keyVaultData = new KeyVaultDataGateway(clients, cloud, log);
  /** Dependencies of one Bind flow: the cluster connection is made once and kept in memory for it. */
  const bindDeps = (): BindDeps => {
    const connections = new Map<string, Promise<KubeTarget>>();
    return {
      clusters,
      identities,
      identityBindings,
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
      sleep,
    };
  };
  return {
    clients,
    clusters,
    identities,
    identityBindings,
    vaults,
    inventory: new ArmInventorySource(clients),
    /** YAML rendering lives here so the yaml library loads with the SDKs, not at activation. */
    serviceAccountManifest,
    /** Connect Workload's YAML editing and live apply: they load with the SDKs, not at activation. */
    workloads: {
      findCandidates,
      appSideHints,
      overlaysOf,
      planConnect,
      planKustomizePatch,
      planLive,
      toLiveWorkload,
      runConnect,
    },
    /** Migrate's switch of the workloads: Connect's edits, loaded with them. */
    migrate: { findWorkloadSwitches, switchWorkloads },
    bindDeps,
    /** Export's three formats: their text loads with the SDKs, not at activation. */
    exportAsCode: (format: ExportFormat, request: BindRequest | FleetRequest) => render(format, bindingSpec(request)),
    connect: (cluster: ClusterSummary) => connectToCluster(clusters, credential, cluster, log, options),
    /** Dependencies of one Verify run: Bind's, plus what the user can see (the tree's inventory). */
    verifyDeps(inventory: VerifyDeps['inventory']): VerifyDeps {
      return { ...bindDeps(), identities, inventory };
    },
    /** Dependencies of one Remove run: Verify's reads, plus the gateways' deletes. */
    removeDeps(inventory: VerifyDeps['inventory']): RemoveDeps {
      return { ...bindDeps(), identities, identityBindings, vaults, inventory };
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
          keyVaultData.workloadCredential(tenantId, clientId, assertion),
        readSecretStatus: (vaultUri, name, credential, signal) =>
          keyVaultData.readSecretStatus(vaultUri, name, credential, signal),
        probeVault: (vaultUri, kind, name, credential, signal) =>
          keyVaultData.probe(vaultUri, kind, name, credential, signal),
        runInCluster: (cluster, command, files, signal) =>
          runInCluster(clusters, credential, cluster, command, files, signal),
      };
    },
    listSubscriptions: () => subscriptions.list(),
    listTenants: () => subscriptions.listTenants(),
  };
}

export type AzureServices = ReturnType<typeof createAzureServices>;

export function createAzureCliCredential(tenantId?: string): TokenCredential {
  return new AzureCliCredential(tenantId ? { tenantId } : {});
}
