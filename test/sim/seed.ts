import { addWorkload } from './workloads';
import { randomUUID } from 'node:crypto';
import { ClusterRecord, KubeObject, SimState, armId, emptyKube, keyOf, kubeMeta } from './model';
import { addDefaultServiceAccount, installWebhook } from './kube';

export const TENANT_CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const TENANT_FABRIKAM = 'a70a1586-9c4a-4373-b907-1d310660dbd1';
export const SUB_PROD = '291bba3f-e0a5-47bc-a099-3bdcb2a50a05';
export const SUB_DEV = '72ac930a-f34e-42d8-b06d-dc2a9e12ed71';
export const SUB_FABRIKAM = 'c267c0e7-0a73-4789-9e17-d26aeb0904e5';
export const USER_OBJECT_ID = '0b5fe924-9a61-425c-96af-cfe6e287ca2d';

export interface ClusterSeed {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
  oidc?: boolean;
  workloadIdentity?: boolean;
  entraId?: boolean;
  private?: boolean;
  kubernetesVersion?: string;
  namespaces?: string[];
  tags?: Record<string, string>;
}

/** A cluster shaped like the official ManagedClustersCreate_Update / Get examples, with many settings to preserve. */
export function clusterResource(s: ClusterSeed, tenantId: string) {
  const location = s.location ?? 'eastus';
  const v = s.kubernetesVersion ?? '1.33.2';
  const id = armId(s.subscriptionId, s.resourceGroup, 'Microsoft.ContainerService/managedClusters', s.name);
  const dns = `${s.name}-dns`;
  const suffix = randomUUID().slice(0, 8);
  const properties: any = {
    provisioningState: 'Succeeded',
    powerState: { code: 'Running' },
    maxAgentPools: 100,
    kubernetesVersion: v,
    currentKubernetesVersion: v,
    dnsPrefix: dns,
    fqdn: `${dns}-${suffix}.hcp.${location}.azmk8s.io`,
    azurePortalFQDN: `${dns}-${suffix}.portal.hcp.${location}.azmk8s.io`,
    agentPoolProfiles: [
      {
        name: 'systempool',
        count: 3,
        vmSize: 'Standard_D4ds_v5',
        osDiskSizeGB: 128,
        osDiskType: 'Ephemeral',
        kubeletDiskType: 'OS',
        maxPods: 110,
        type: 'VirtualMachineScaleSets',
        availabilityZones: ['1', '2', '3'],
        enableAutoScaling: true,
        minCount: 3,
        maxCount: 6,
        provisioningState: 'Succeeded',
        powerState: { code: 'Running' },
        orchestratorVersion: v,
        currentOrchestratorVersion: v,
        enableNodePublicIP: false,
        mode: 'System',
        osType: 'Linux',
        osSKU: 'AzureLinux',
        nodeImageVersion: 'AKSAzureLinux-V3gen2-202511.01.0',
        upgradeSettings: { maxSurge: '33%' },
        enableFIPS: false,
        nodeTaints: ['CriticalAddonsOnly=true:NoSchedule'],
      },
      {
        name: 'userpool',
        count: 2,
        vmSize: 'Standard_D8ds_v5',
        osDiskSizeGB: 128,
        osDiskType: 'Managed',
        kubeletDiskType: 'OS',
        maxPods: 50,
        type: 'VirtualMachineScaleSets',
        availabilityZones: ['1', '2'],
        enableAutoScaling: false,
        provisioningState: 'Succeeded',
        powerState: { code: 'Running' },
        orchestratorVersion: v,
        currentOrchestratorVersion: v,
        enableNodePublicIP: false,
        mode: 'User',
        osType: 'Linux',
        osSKU: 'Ubuntu',
        nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202511.01.0',
        nodeLabels: { workload: 'apps' },
        upgradeSettings: { maxSurge: '10%' },
        scaleDownMode: 'Deallocate',
      },
    ],
    linuxProfile: {
      adminUsername: 'azureuser',
      ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0simulated azureuser@contoso' }] },
    },
    windowsProfile: { adminUsername: 'azureuser', enableCSIProxy: true },
    servicePrincipalProfile: { clientId: 'msi' },
    addonProfiles: {
      azureKeyvaultSecretsProvider: {
        enabled: true,
        config: { enableSecretRotation: 'true', rotationPollInterval: '2m' },
      },
      omsagent: {
        enabled: true,
        config: {
          logAnalyticsWorkspaceResourceID: `/subscriptions/${s.subscriptionId}/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-${s.name}`,
        },
      },
    },
    nodeResourceGroup: `MC_${s.resourceGroup}_${s.name}_${location}`,
    enableRBAC: true,
    supportPlan: 'KubernetesOfficial',
    networkProfile: {
      networkPlugin: 'azure',
      networkPluginMode: 'overlay',
      networkPolicy: 'cilium',
      networkDataplane: 'cilium',
      podCidr: '10.244.0.0/16',
      serviceCidr: '10.0.0.0/16',
      dnsServiceIP: '10.0.0.10',
      outboundType: 'loadBalancer',
      loadBalancerSku: 'standard',
      loadBalancerProfile: {
        managedOutboundIPs: { count: 2 },
        allocatedOutboundPorts: 2000,
        idleTimeoutInMinutes: 10,
        effectiveOutboundIPs: [
          {
            id: `/subscriptions/${s.subscriptionId}/resourceGroups/MC_${s.resourceGroup}/providers/Microsoft.Network/publicIPAddresses/mgdoutboundip1`,
          },
        ],
      },
      podCidrs: ['10.244.0.0/16'],
      serviceCidrs: ['10.0.0.0/16'],
      ipFamilies: ['IPv4'],
    },
    autoUpgradeProfile: { upgradeChannel: 'patch', nodeOSUpgradeChannel: 'NodeImage' },
    autoScalerProfile: {
      'balance-similar-node-groups': 'true',
      expander: 'priority',
      'max-node-provision-time': '15m',
      'scan-interval': '20s',
      'skip-nodes-with-system-pods': 'false',
    },
    disableLocalAccounts: !!s.entraId,
    storageProfile: {
      diskCSIDriver: { enabled: true },
      fileCSIDriver: { enabled: true },
      snapshotController: { enabled: true },
      blobCSIDriver: { enabled: false },
    },
    oidcIssuerProfile: { enabled: !!s.oidc },
    securityProfile: {
      defender: {
        logAnalyticsWorkspaceResourceId: `/subscriptions/${s.subscriptionId}/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-defender`,
        securityMonitoring: { enabled: true },
      },
      imageCleaner: { enabled: true, intervalHours: 48 },
    },
    workloadAutoScalerProfile: { keda: { enabled: false } },
  };
  if (s.oidc)
    properties.oidcIssuerProfile.issuerURL = `https://${location}.oic.prod-aks.azure.com/${tenantId}/${randomUUID()}/`;
  if (s.workloadIdentity) properties.securityProfile.workloadIdentity = { enabled: true };
  // Every managed-identity cluster has its kubelet identity (az aks update refuses a cluster without one).
  properties.identityProfile = {
    kubeletidentity: {
      resourceId: `/subscriptions/${s.subscriptionId}/resourcegroups/MC_${s.resourceGroup}_${s.name}_${location}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${s.name}-agentpool`,
      clientId: randomUUID(),
      objectId: randomUUID(),
    },
  };
  if (s.entraId)
    properties.aadProfile = {
      managed: true,
      enableAzureRBAC: true,
      tenantID: tenantId,
      adminGroupObjectIDs: ['b1f2c3d4-0000-4000-8000-00000000a001'],
    };
  if (s.private) {
    properties.apiServerAccessProfile = {
      enablePrivateCluster: true,
      privateDNSZone: 'system',
      enablePrivateClusterPublicFQDN: false,
    };
    properties.privateFQDN = `${dns}-${suffix}.privatelink.${location}.azmk8s.io`;
    delete properties.fqdn;
  }
  return {
    id,
    name: s.name,
    type: 'Microsoft.ContainerService/managedClusters',
    location,
    tags: { environment: 'production', 'cost-center': '4711', ...(s.tags ?? {}) },
    sku: { name: 'Base', tier: 'Standard' },
    identity: { type: 'SystemAssigned', principalId: randomUUID(), tenantId },
    properties,
  };
}

export function addCluster(state: SimState, s: ClusterSeed): ClusterRecord {
  const tenantId = state.subscriptions.find((x) => x.subscriptionId === s.subscriptionId)?.tenantId ?? TENANT_CONTOSO;
  const resource = clusterResource(s, tenantId);
  const kube = emptyKube();
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', ...(s.namespaces ?? [])]) {
    kube.namespaces.set(ns, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: kubeMeta(ns, undefined, { labels: { 'kubernetes.io/metadata.name': ns } }),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    kube.serviceAccounts.set(`${ns}/default`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: kubeMeta('default', ns),
    });
  }
  if (s.workloadIdentity) installWebhook(kube);
  const rec: ClusterRecord = {
    subscriptionId: s.subscriptionId,
    resourceGroup: s.resourceGroup,
    name: s.name,
    key: `${s.name}-${randomUUID().slice(0, 8)}`,
    resource,
    userToken: `sim-kube-${randomUUID()}`,
    kube,
    violations: [],
  };
  state.clusters.set(keyOf(resource.id), rec);
  state.resourceGroups.add(`${s.subscriptionId}/${s.resourceGroup}`.toLowerCase());
  return rec;
}

export function addVault(
  state: SimState,
  sub: string,
  rg: string,
  name: string,
  opts: { rbac: boolean; location?: string; policies?: any[] },
) {
  const tenantId = state.subscriptions.find((x) => x.subscriptionId === sub)?.tenantId ?? TENANT_CONTOSO;
  const id = armId(sub, rg, 'Microsoft.KeyVault/vaults', name);
  const v = {
    id,
    name,
    type: 'Microsoft.KeyVault/vaults',
    location: opts.location ?? 'eastus',
    tags: { environment: 'production' },
    systemData: {
      createdBy: 'keyVaultUser1',
      createdByType: 'User',
      createdAt: '2025-01-01T12:00:00.0000000Z',
      lastModifiedBy: 'keyVaultUser2',
      lastModifiedByType: 'User',
      lastModifiedAt: '2025-03-01T12:00:00.0000000Z',
    },
    properties: {
      tenantId,
      sku: { family: 'A', name: 'standard' },
      accessPolicies:
        opts.policies ??
        (opts.rbac
          ? []
          : [
              {
                tenantId,
                objectId: USER_OBJECT_ID,
                permissions: {
                  keys: ['get', 'list', 'create'],
                  secrets: ['get', 'list', 'set', 'delete'],
                  certificates: ['get', 'list'],
                },
              },
            ]),
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      enableRbacAuthorization: opts.rbac,
      enablePurgeProtection: true,
      vaultUri: `https://${name}.vault.azure.net/`,
      provisioningState: 'Succeeded',
      publicNetworkAccess: 'Enabled',
    },
  };
  state.vaults.set(keyOf(id), v);
  state.resourceGroups.add(`${sub}/${rg}`.toLowerCase());
  for (const p of v.properties.accessPolicies) markPolicyOthers(state, v, p);
  return v;
}

/** Every permission of an access policy entry is someone else's grant. */
export function markPolicyOthers(
  state: SimState,
  vault: any,
  policy: { objectId: string; permissions: Record<string, string[]> },
  only?: string[],
) {
  for (const [kind, perms] of Object.entries(policy.permissions)) {
    for (const perm of perms)
      if (!only || only.includes(perm))
        state.othersOwn.add(`policy:${keyOf(vault.id)}:${policy.objectId}:${kind}:${perm}`.toLowerCase());
  }
}

export function addIdentity(state: SimState, sub: string, rg: string, name: string, location = 'eastus') {
  const tenantId = state.subscriptions.find((x) => x.subscriptionId === sub)?.tenantId ?? TENANT_CONTOSO;
  const id = `/subscriptions/${sub}/resourcegroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const resource = {
    id,
    name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    location,
    tags: {},
    properties: { clientId: randomUUID(), principalId: randomUUID(), tenantId, isolationScope: 'None' },
  };
  const rec = { resource, createdAt: 0, credentials: new Map<string, any>(), writeBusyUntil: 0 };
  state.identities.set(keyOf(id), rec);
  // Seeded identities were made by someone else; only those the extension creates may be deleted.
  state.othersOwn.add(`identity:${keyOf(id)}`);
  state.resourceGroups.add(`${sub}/${rg}`.toLowerCase());
  return rec;
}

export function addCredential(
  state: SimState,
  identity: ReturnType<typeof addIdentity>,
  name: string,
  issuer: string,
  subject: string,
  audiences = ['api://AzureADTokenExchange'],
) {
  const fic = {
    id: `${identity.resource.id}/federatedIdentityCredentials/${name}`,
    name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    properties: { issuer, subject, audiences },
  };
  identity.credentials.set(name.toLowerCase(), fic);
  return fic;
}

/**
 * A flexible federated credential (api-version 2025-01-31-preview), as GitHub Actions deployments use: it matches
 * tokens by claimsMatchingExpression and has no subject. Someone else's: deleting it is a violation.
 */
export function addFlexibleCredential(
  state: SimState,
  identity: ReturnType<typeof addIdentity>,
  name: string,
  issuer: string,
  expression: string,
) {
  const fic = {
    id: `${identity.resource.id}/federatedIdentityCredentials/${name}`,
    name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    properties: {
      issuer,
      audiences: ['api://AzureADTokenExchange'],
      claimsMatchingExpression: { value: expression, languageVersion: 1 },
    },
  };
  identity.credentials.set(name.toLowerCase(), fic);
  state.othersOwn.add(`credential:${keyOf(fic.id)}`);
  return fic;
}

/** A ServiceAccount created by someone else (kubectl client-side apply), owning its own labels and annotations. */
export function addServiceAccount(
  c: ClusterRecord,
  ns: string,
  name: string,
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> },
  manager = 'kubectl-client-side-apply',
) {
  const f = (m?: Record<string, string>) => Object.fromEntries(Object.keys(m ?? {}).map((k) => [`f:${k}`, {}]));
  const sa: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: kubeMeta(name, ns, {
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      managedFields: [
        {
          manager,
          operation: 'Update',
          apiVersion: 'v1',
          time: new Date().toISOString(),
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              ...(meta.labels ? { 'f:labels': f(meta.labels) } : {}),
              ...(meta.annotations ? { 'f:annotations': f(meta.annotations) } : {}),
            },
          },
        },
      ],
    }),
  };
  c.kube.serviceAccounts.set(`${ns}/${name}`, sa);
  return sa;
}

/** A Deployment's pod, with or without the label and the webhook's injected environment. */
export function addPod(
  c: ClusterRecord,
  ns: string,
  deployment: string,
  sa: string,
  opts: { labelled: boolean; injected: boolean; createdAt?: string },
) {
  const rsName = `${deployment}-7d9f8c6b5`;
  const depUid = randomUUID(),
    rsUid = randomUUID();
  const labels = { app: deployment, ...(opts.labelled ? { 'azure.workload.identity/use': 'true' } : {}) };
  const revision = { 'deployment.kubernetes.io/revision': '1' };
  c.kube.deployments.set(`${ns}/${deployment}`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: kubeMeta(deployment, ns, { uid: depUid, annotations: revision, generation: 1 }),
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: deployment } },
      template: { metadata: { labels }, spec: { serviceAccountName: sa } },
    },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  });
  c.kube.replicaSets.set(`${ns}/${rsName}`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: kubeMeta(rsName, ns, {
      uid: rsUid,
      annotations: revision,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: depUid, controller: true }],
    }),
  });
  const env = opts.injected
    ? [
        { name: 'AZURE_CLIENT_ID', value: 'injected' },
        { name: 'AZURE_TENANT_ID', value: TENANT_CONTOSO },
        { name: 'AZURE_FEDERATED_TOKEN_FILE', value: '/var/run/secrets/azure/tokens/azure-identity-token' },
        { name: 'AZURE_AUTHORITY_HOST', value: 'https://login.microsoftonline.com/' },
      ]
    : [];
  const podName = `${rsName}-${randomUUID().slice(0, 5)}`;
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: kubeMeta(podName, ns, {
      labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid, controller: true }],
      ...(opts.createdAt ? { creationTimestamp: opts.createdAt } : {}),
    }),
    spec: {
      serviceAccountName: sa,
      containers: [{ name: deployment, image: `contoso.azurecr.io/${deployment}:1.0`, env }],
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: deployment, ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } },
      ],
    },
  };
  c.kube.pods.set(`${ns}/${podName}`, pod);
  return pod;
}

export function addSubscription(
  state: SimState,
  subscriptionId: string,
  displayName: string,
  tenantId = TENANT_CONTOSO,
) {
  state.subscriptions.push({ subscriptionId, displayName, tenantId, state: 'Enabled' });
}

/** The demo and the tests' world: clusters in every state, vaults of both models, an existing binding. */
export function seedStandard(state: SimState): void {
  state.tenants.push(
    { tenantId: TENANT_CONTOSO, displayName: 'Contoso', defaultDomain: 'contoso.onmicrosoft.com' },
    { tenantId: TENANT_FABRIKAM, displayName: 'Fabrikam', defaultDomain: 'fabrikam.onmicrosoft.com' },
  );
  addSubscription(state, SUB_PROD, 'Contoso Production');
  addSubscription(state, SUB_DEV, 'Contoso Dev/Test');
  addSubscription(state, SUB_FABRIKAM, 'Fabrikam Sandbox', TENANT_FABRIKAM);
  state.knownPrincipals.add(USER_OBJECT_ID);

  addCluster(state, {
    subscriptionId: SUB_PROD,
    resourceGroup: 'rg-petclinic',
    name: 'aks-petclinic',
    namespaces: ['spring-petclinic'],
  });
  addCluster(state, {
    subscriptionId: SUB_PROD,
    resourceGroup: 'rg-petclinic',
    name: 'aks-oidc-only',
    location: 'westeurope',
    oidc: true,
    namespaces: ['spring-petclinic'],
  });
  const payments = addCluster(state, {
    subscriptionId: SUB_PROD,
    resourceGroup: 'rg-payments',
    name: 'aks-payments',
    oidc: true,
    workloadIdentity: true,
    namespaces: ['payments'],
  });
  addCluster(state, {
    subscriptionId: SUB_PROD,
    resourceGroup: 'rg-payments',
    name: 'aks-entra',
    oidc: true,
    workloadIdentity: true,
    entraId: true,
    namespaces: ['payments'],
  });
  addCluster(state, {
    subscriptionId: SUB_PROD,
    resourceGroup: 'rg-secure',
    name: 'aks-private',
    location: 'northeurope',
    oidc: true,
    workloadIdentity: true,
    private: true,
    namespaces: ['ledger'],
  });
  addCluster(state, {
    subscriptionId: SUB_DEV,
    resourceGroup: 'rg-dev',
    name: 'aks-dev',
    location: 'westus3',
    namespaces: ['spring-petclinic'],
  });
  addCluster(state, {
    subscriptionId: SUB_FABRIKAM,
    resourceGroup: 'rg-sandbox',
    name: 'aks-sandbox',
    oidc: true,
    workloadIdentity: true,
  });

  addVault(state, SUB_PROD, 'rg-petclinic', 'kv-petclinic', { rbac: false });
  addVault(state, SUB_PROD, 'rg-payments', 'kv-payments', { rbac: true });
  addVault(state, SUB_DEV, 'rg-dev', 'kv-dev-shared', { rbac: false, location: 'westus3' });
  addVault(state, SUB_FABRIKAM, 'rg-sandbox', 'kv-sandbox', { rbac: true });

  const idPayments = addIdentity(state, SUB_PROD, 'rg-payments', 'id-payments-api');
  addIdentity(state, SUB_PROD, 'rg-petclinic', 'id-shared-tools');
  addCredential(
    state,
    idPayments,
    'fic-aks-payments-payments-api',
    payments.resource.properties.oidcIssuerProfile.issuerURL,
    'system:serviceaccount:payments:payments-api',
  );
  // The same identity deploys from GitHub Actions through a credential without a subject.
  addFlexibleCredential(
    state,
    idPayments,
    'github-payments-deploy',
    'https://token.actions.githubusercontent.com',
    "claims['sub'] matches 'repo:contoso/payments:environment:*'",
  );
  addServiceAccount(
    payments,
    'payments',
    'payments-api',
    {
      labels: { 'app.kubernetes.io/part-of': 'payments' },
      annotations: {
        'azure.workload.identity/client-id': idPayments.resource.properties.clientId,
        'meta.helm.sh/release-name': 'payments',
      },
    },
    'helm',
  );
  addPod(payments, 'payments', 'payments-api', 'payments-api', { labelled: true, injected: true });
  state.roleAssignments.set(
    keyOf(
      `/subscriptions/${SUB_PROD}/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments/providers/Microsoft.Authorization/roleAssignments/5f7e3f3a-93a1-4b43-9c49-5a3f1c5b6d01`,
    ),
    {
      id: `/subscriptions/${SUB_PROD}/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments/providers/Microsoft.Authorization/roleAssignments/5f7e3f3a-93a1-4b43-9c49-5a3f1c5b6d01`,
      name: '5f7e3f3a-93a1-4b43-9c49-5a3f1c5b6d01',
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
        principalId: idPayments.resource.properties.principalId,
        principalType: 'ServicePrincipal',
        scope: `/subscriptions/${SUB_PROD}/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments`,
      },
    },
  );
  // Granted by hand under a random name: Remove lists it as not ours and leaves it.
  state.othersOwn.add(
    keyOf(
      `roleAssignment:/subscriptions/${SUB_PROD}/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-payments/providers/Microsoft.Authorization/roleAssignments/5f7e3f3a-93a1-4b43-9c49-5a3f1c5b6d01`,
    ),
  );
  seedBrokenBinding(state, payments);
  // Workloads not yet connected: one plain, one Helm owns (its serviceAccountName is Helm's field), one CronJob.
  addWorkload(payments, 'payments', 'Deployment', 'payments-worker', {});
  addWorkload(payments, 'payments', 'Deployment', 'payments-reports', {
    serviceAccount: 'reports',
    manager: 'helm',
    meta: {
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': 'reports', 'meta.helm.sh/release-namespace': 'payments' },
    },
  });
  addWorkload(payments, 'payments', 'CronJob', 'payments-nightly', {});
  state.secrets.set('kv-payments/db-password', { value: `sim-secret-value-${randomUUID()}`, enabled: true });
  state.secrets.set('kv-payments/old-password', { value: `sim-secret-value-${randomUUID()}`, enabled: false });
}

/**
 * A binding set up by hand with two classic mistakes, for Verify to find: the issuer was pasted without its trailing
 * slash, and the vault uses Azure RBAC but got an access policy.
 */
export function seedBrokenBinding(state: SimState, cluster: ClusterRecord) {
  const id = addIdentity(state, cluster.subscriptionId, cluster.resourceGroup, 'id-checkout');
  const issuer: string = cluster.resource.properties.oidcIssuerProfile.issuerURL;
  addCredential(state, id, 'fic-checkout', issuer.replace(/\/$/, ''), 'system:serviceaccount:checkout:checkout-api');
  cluster.kube.namespaces.set('checkout', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: kubeMeta('checkout', undefined, { labels: { 'kubernetes.io/metadata.name': 'checkout' } }),
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });
  addDefaultServiceAccount(cluster.kube, 'checkout');
  addServiceAccount(cluster, 'checkout', 'checkout-api', {
    annotations: { 'azure.workload.identity/client-id': id.resource.properties.clientId },
  });
  addPod(cluster, 'checkout', 'checkout-api', 'checkout-api', { labelled: true, injected: true });
  const vault = [...state.vaults.values()].find((v) => v.name === 'kv-payments')!;
  const policy = {
    tenantId: vault.properties.tenantId,
    objectId: id.resource.properties.principalId,
    permissions: { secrets: ['get', 'list'] },
  };
  vault.properties.accessPolicies.push(policy);
  // Bind grants only get; list was someone's own choice and must survive a Remove.
  markPolicyOthers(state, vault, policy, ['list']);
  return id;
}

/** Many subscriptions, each with clusters and vaults: for the tree's scale test and the benchmarks. */
export function seedScale(state: SimState, subscriptions: number, clustersPer: number, vaultsPer: number): void {
  state.tenants.push({ tenantId: TENANT_CONTOSO, displayName: 'Contoso', defaultDomain: 'contoso.onmicrosoft.com' });
  for (let i = 0; i < subscriptions; i++) {
    const sub = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    addSubscription(state, sub, `Scale ${String(i).padStart(4, '0')}`);
    for (let c = 0; c < clustersPer; c++)
      addCluster(state, {
        subscriptionId: sub,
        resourceGroup: `rg-${c % 4}`,
        name: `aks-${i}-${c}`,
        oidc: c % 2 === 0,
        workloadIdentity: c % 4 === 0,
      });
    for (let v = 0; v < vaultsPer; v++) addVault(state, sub, `rg-${v % 4}`, `kv-${i}-${v}`, { rbac: v % 2 === 0 });
  }
}

/** The standard world with seedCredentialBudgets' identities: the demo, `sim.reset('budgets')` and their tests. */
export function seedStandardWithBudgets(state: SimState): void {
  seedStandard(state);
  seedCredentialBudgets(state);
}

/**
 * Identities near and at the limit of 20 federated credentials, and one whose credentials name a rebuilt cluster's old
 * issuer: for the tree's credential budget and the demo. Needs seedStandard's aks-payments.
 */
export function seedCredentialBudgets(state: SimState): void {
  const payments = [...state.clusters.values()].find((c) => c.resource.name === 'aks-payments')!;
  const issuer: string = payments.resource.properties.oidcIssuerProfile.issuerURL;
  for (const [name, count] of [
    ['id-fleet-19', 19],
    ['id-fleet-20', 20],
  ] as const) {
    const identity = addIdentity(state, SUB_PROD, 'rg-fleet', name);
    for (let i = 1; i <= count; i++)
      addCredential(state, identity, `fic-team-${i}`, issuer, `system:serviceaccount:team-${i}:api`);
  }
  const rebuilt = addIdentity(state, SUB_PROD, 'rg-fleet', 'id-orders');
  addCredential(state, rebuilt, 'fic-aks-payments-orders', issuer, 'system:serviceaccount:orders:orders-api');
  // aks-payments before it was rebuilt: its issuer is no cluster's now.
  const old = `https://eastus.oic.prod-aks.azure.com/${TENANT_CONTOSO}/0b0e5d2c-6c1e-4f5e-9d55-2f0f3c1d0a11/`;
  addCredential(state, rebuilt, 'fic-aks-payments-blue-orders', old, 'system:serviceaccount:orders:orders-api');
  addCredential(state, rebuilt, 'fic-aks-payments-blue-jobs', old, 'system:serviceaccount:orders:orders-jobs');
}

/** Clusters with workload identity on, all in one resource group of Contoso Production: a fleet for Bind to bind at once. */
export function seedFleet(state: SimState, clusters: number): void {
  for (let i = 0; i < clusters; i++)
    addCluster(state, {
      subscriptionId: SUB_PROD,
      resourceGroup: 'rg-fleet',
      name: `aks-fleet-${i}`,
      oidc: true,
      workloadIdentity: true,
    });
}
