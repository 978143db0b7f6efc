import { CREATED_BY_TAG } from '../../azure/identities';
import { AKS_SERVER_SCOPE } from '../../auth/cloud';
import type { BindingSpec, ClusterSpec, ExportFormat, ExportedFile } from './model';
import { IDENTITY_BINDING_CREDENTIAL } from '../../azure/identityBindings';
import { FIELD_MANAGER } from '../../kube/fieldManager';
import { IDENTITY_BINDING_API_GROUP, USE_MANAGED_IDENTITY } from '../identityBindingAccess';

/** The identity bindings' api-version the exported files use. */
const IDENTITY_BINDINGS_API = '2026-06-01';

/** "cluster aks-1", or "clusters aks-1, aks-2 and aks-3". */
const clusterNames = (s: BindingSpec) =>
  s.clusters.length === 1
    ? `cluster ${s.clusters[0]!.name}`
    : `clusters ${s.clusters
        .slice(0, -1)
        .map((c) => c.name)
        .join(', ')} and ${s.clusters.at(-1)!.name}`;

/** What every file says first: what it does, for which binding, and what it leaves to you. */
function header(s: BindingSpec, comment: string, format: string, notCovered: string[]): string {
  const lines = [
    `${format} for Azure workload identity on AKS, exported by the AKS Workload Identity extension.`,
    `Gives the pods of ${s.namespace}/${s.serviceAccount} on ${clusterNames(s)} get on ${s.grants.map((g) => g.kind).join(', ')} in Key Vault ${s.vault.name}`,
    `(${s.vault.rbac ? 'Azure RBAC' : 'access policies'}) through the user-assigned identity ${s.identity.name}${s.identity.exists ? ' (it exists)' : ''}${s.mode === 'identityBinding' ? ' and an identity binding on each cluster' : ''}: what Bind does.`,
    ...(s.clusters.length > 1
      ? [
          'One federated credential per cluster, written one at a time: Azure refuses concurrent credential writes on one identity.',
        ]
      : []),
    'Not covered:',
    ...notCovered.map((n) => `- ${n}`),
    '- The workload itself: its pod template needs serviceAccountName and the label azure.workload.identity/use: "true" (Connect Workload).',
    ...(s.mode === 'identityBinding'
      ? [
          '- Through an identity binding, the pod template also needs the annotation azure.workload.identity/use-identity-binding: "true" (Connect Workload adds it), and the app WorkloadIdentityCredential with the proxy option.',
        ]
      : []),
  ];
  return lines.map((l) => `${comment} ${l}`).join('\n');
}

const sh = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** The first Azure CLI with `az aks update --enable-workload-identity` (the AKS docs' prerequisite for it). */
export const AZ_FOR_WORKLOAD_IDENTITY = '2.47.0';

/** How kubectl reaches a cluster's API server. */
const access = (c: ClusterSpec) => (c.private ? 'private' : c.entraId ? 'entra' : 'public');

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');

/** The file's name: the cluster's, or how many clusters. */
const fileStem = (s: BindingSpec) =>
  `bind-${s.clusters.length === 1 ? s.clusters[0]!.name : `${s.clusters.length}-clusters`}-${s.namespace}-${s.serviceAccount}`;

/** Direct federation: the cluster's own federated credential for the ServiceAccount. */
const directPart = (audience: string) => `# The federated credential, unless one with this issuer and subject exists.
az account set --subscription "$IDENTITY_SUBSCRIPTION"
EXISTING="$(az identity federated-credential list -g "$IDENTITY_RG" --identity-name "$IDENTITY" --query "length([?issuer=='$ISSUER' && subject=='$SUBJECT'])" -o tsv)"
if [ "$EXISTING" = "0" ]; then
  az identity federated-credential create -g "$IDENTITY_RG" --identity-name "$IDENTITY" -n "$CREDENTIAL" --issuer "$ISSUER" --subject "$SUBJECT" --audiences ${audience} >/dev/null
fi`;

/**
 * Identity binding: the binding (through az rest, as az aks identity-binding needs the aks-preview extension),
 * followed until AKS says Succeeded; AKS's credential checked, never written; the ClusterRole and this ServiceAccount
 * added to the ClusterRoleBinding's subjects, the others sent back as they were (subjects are one atomic list).
 */
const identityBindingPart = (
  k: (cmd: string, file?: string) => string,
) => `# The identity binding, unless the identity has one on the cluster; followed until AKS says Succeeded.
BINDINGS_URL="/subscriptions/$SUBSCRIPTION/resourceGroups/$CLUSTER_RG/providers/Microsoft.ContainerService/managedClusters/$CLUSTER/identityBindings"
BOUND="$(az rest --method get --url "$BINDINGS_URL?api-version=${IDENTITY_BINDINGS_API}" --query "value[?properties.managedIdentity.resourceId=='$IDENTITY_ID'].name | [0]" -o tsv)"
if [ -z "$BOUND" ]; then
  az rest --method put --url "$BINDINGS_URL/$IDENTITY_BINDING?api-version=${IDENTITY_BINDINGS_API}" \\
    --body "{\\"properties\\": {\\"managedIdentity\\": {\\"resourceId\\": \\"$IDENTITY_ID\\"}}}" >/dev/null
  BOUND="$IDENTITY_BINDING"
fi
for _ in $(seq 1 60); do
  STATE="$(az rest --method get --url "$BINDINGS_URL/$BOUND?api-version=${IDENTITY_BINDINGS_API}" --query properties.provisioningState -o tsv)"
  if [ "$STATE" = "Succeeded" ] || [ "$STATE" = "Failed" ] || [ "$STATE" = "Canceled" ]; then break; fi
  sleep "$POLL_SECONDS"
done
if [ "$STATE" != "Succeeded" ]; then echo "The identity binding $BOUND on $CLUSTER is $STATE." >&2; exit 1; fi
# AKS makes its credential for identity bindings with the first one; this script only checks it.
MANAGED="$(az identity federated-credential list -g "$IDENTITY_RG" --identity-name "$IDENTITY" --subscription "$IDENTITY_SUBSCRIPTION" --query "length([?name=='${IDENTITY_BINDING_CREDENTIAL}'])" -o tsv)"
if [ "$MANAGED" = "0" ]; then echo "AKS has not made ${IDENTITY_BINDING_CREDENTIAL} on $IDENTITY yet: run this script again in a minute." >&2; fi
# Who may use the identity: Kubernetes RBAC.
SUBJECTS="$(${k(`get clusterrolebinding $RBAC_NAME --ignore-not-found -o jsonpath='{range .subjects[*]}{.kind}:{.namespace}:{.name} {end}'`)})"
if [[ " $SUBJECTS " != *" ServiceAccount:$NAMESPACE:$SERVICE_ACCOUNT "* ]]; then
  {
    printf 'apiVersion: rbac.authorization.k8s.io/v1\\nkind: ClusterRole\\nmetadata:\\n  name: %s\\nrules:\\n- apiGroups: ["${IDENTITY_BINDING_API_GROUP}"]\\n  resources: ["%s"]\\n  verbs: ["${USE_MANAGED_IDENTITY}"]\\n---\\n' "$RBAC_NAME" "$CLIENT_ID"
    printf 'apiVersion: rbac.authorization.k8s.io/v1\\nkind: ClusterRoleBinding\\nmetadata:\\n  name: %s\\nroleRef:\\n  apiGroup: rbac.authorization.k8s.io\\n  kind: ClusterRole\\n  name: %s\\nsubjects:\\n' "$RBAC_NAME" "$RBAC_NAME"
    for subject in $SUBJECTS "ServiceAccount:$NAMESPACE:$SERVICE_ACCOUNT"; do
      IFS=: read -r kind ns name <<<"$subject"
      printf -- '- kind: %s\\n  name: %s\\n' "$kind" "$name"
      if [ -n "$ns" ]; then printf '  namespace: %s\\n' "$ns"; fi
      if [ "$kind" != ServiceAccount ]; then printf '  apiGroup: rbac.authorization.k8s.io\\n'; fi
    done
  } > "$WORK/rbac.yaml"
  ${k(`apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f "$WORK/rbac.yaml"`, 'rbac.yaml')} >/dev/null
fi`;

/**
 * bash with az and kubectl, looping over the clusters (one or several). Every step checks first, so a second run
 * writes nothing.
 */
export function azScript(s: BindingSpec): ExportedFile {
  const kinds = new Set(s.clusters.map(access));
  const anyPrivate = kinds.has('private');
  const anyPublic = kinds.has('public') || kinds.has('entra');
  // A private cluster runs kubectl inside it; an Entra ID cluster's kubeconfig needs kubelogin for its tokens.
  const tools = [
    ...(anyPublic ? [{ name: 'kubectl', why: 'az aks install-cli installs it' }] : []),
    ...(kinds.has('entra')
      ? [
          {
            name: 'kubelogin',
            why: 'az aks install-cli installs it; the Microsoft Entra ID cluster gets its tokens from it',
          },
        ]
      : []),
  ];
  // The names are DNS labels (checked before export), so the commands need no quoting inside the cluster either.
  // With both kinds of cluster in the list, each command asks which one this is.
  const k = (cmd: string, file?: string) => {
    const inside = file
      ? `in_cluster "kubectl ${cmd.replace(`"$WORK/${file}"`, file)}" --file "$WORK/${file}"`
      : `in_cluster "kubectl ${cmd}"`;
    const outside = `kubectl --kubeconfig "$KUBECONFIG_FILE" ${cmd}`;
    if (!anyPublic) return inside;
    if (!anyPrivate) return outside;
    return `if [ "$ACCESS" = private ]; then ${inside}; else ${outside}; fi`;
  };
  const grant = s.vault.rbac
    ? [
        'VAULT_ID="$(az keyvault show -g "$VAULT_RG" -n "$VAULT" --query id -o tsv)"',
        "# The role assignment REST calls through az rest: Debian's az 2.45 fails in az role assignment list and create",
        "# (RoleAssignmentsOperations has no config). The name is Bind's: a UUID from scope, role and principal, so Bind,",
        '# a rerun and Remove Binding all recognise it.',
        'assignment_name() {',
        '  local h v',
        '  h="$(printf \'%s|%s|%s\' "${1,,}" "${2,,}" "${3,,}" | sha1sum | cut -c1-32)"',
        '  v="$(printf \'%x\' $(( (16#${h:16:1} & 3) | 8 )))"',
        '  echo "${h:0:8}-${h:8:4}-5${h:13:3}-${v}${h:17:3}-${h:20:12}"',
        '}',
        ...s.grants.map((g) =>
          [
            `# ${g.roleName}: get on ${g.kind}`,
            `ASSIGNED="$(az rest --method get --url "$VAULT_ID/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&\\$filter=principalId%20eq%20'$PRINCIPAL_ID'" --query "length(value[?properties.scope=='$VAULT_ID' && ends_with(properties.roleDefinitionId, '${g.roleGuid}')])" -o tsv)"`,
            'if [ "$ASSIGNED" = "0" ]; then',
            `  az rest --method put --url "$VAULT_ID/providers/Microsoft.Authorization/roleAssignments/$(assignment_name "$VAULT_ID" ${g.roleGuid} "$PRINCIPAL_ID")?api-version=2022-04-01" \\`,
            `    --body "{\\"properties\\": {\\"roleDefinitionId\\": \\"/subscriptions/$VAULT_SUBSCRIPTION/providers/Microsoft.Authorization/roleDefinitions/${g.roleGuid}\\", \\"principalId\\": \\"$PRINCIPAL_ID\\", \\"principalType\\": \\"ServicePrincipal\\"}}" >/dev/null`,
            'fi',
          ].join('\n'),
        ),
      ]
    : s.grants.map((g) => {
        const flag = {
          secrets: '--secret-permissions',
          keys: '--key-permissions',
          certificates: '--certificate-permissions',
        }[g.kind];
        return [
          `# get on ${g.kind}: --object-id, not --spn (which needs Microsoft Graph). set-policy rewrites the vault, so only when missing.`,
          `GRANTED="$(az keyvault show -g "$VAULT_RG" -n "$VAULT" --query "length(properties.accessPolicies[?objectId=='$PRINCIPAL_ID' && contains(permissions.${g.kind} || '', 'get')])" -o tsv)"`,
          'if [ "$GRANTED" = "0" ]; then',
          `  az keyvault set-policy -g "$VAULT_RG" -n "$VAULT" --object-id "$PRINCIPAL_ID" ${flag} get >/dev/null`,
          'fi',
        ].join('\n');
      });
  const manifest = [
    'apiVersion: v1',
    'kind: ServiceAccount',
    'metadata:',
    '  name: ${SERVICE_ACCOUNT}',
    '  namespace: ${NAMESPACE}',
    '  annotations:',
    `    ${s.annotations.clientId}: "\${CLIENT_ID}"`,
    `    ${s.annotations.tenantId}: "\${TENANT_ID}"`,
  ].join('\n');
  const credentials = [
    'az aks get-credentials -g "$CLUSTER_RG" -n "$CLUSTER" --file "$KUBECONFIG_FILE" --overwrite-existing 2>/dev/null',
    ...(kinds.has('entra')
      ? ['if [ "$ACCESS" = entra ]; then kubelogin convert-kubeconfig -l azurecli --kubeconfig "$KUBECONFIG_FILE"; fi']
      : []),
  ].join('\n');
  const reach = !anyPublic
    ? ''
    : anyPrivate
      ? `if [ "$ACCESS" != private ]; then\n${indent(credentials)}\nfi\n`
      : `${credentials}\n`;
  const perCluster = `cluster_row "\${CLUSTERS[$i]}"
ISSUER="\${ISSUERS[$i]}"
az account set --subscription "$SUBSCRIPTION"
${reach}ANNOTATED="$(${k(`get serviceaccount $SERVICE_ACCOUNT -n $NAMESPACE --ignore-not-found -o jsonpath='{.metadata.annotations.azure\\.workload\\.identity/client-id}'`)})"
if [ "$ANNOTATED" != "$CLIENT_ID" ]; then
  NAMESPACE_FOUND="$(${k('get namespace $NAMESPACE --ignore-not-found -o name')})"
  if [ -z "$NAMESPACE_FOUND" ]; then ${k('create namespace $NAMESPACE')} >/dev/null; fi
  ${k(`apply --server-side --field-manager=${s.fieldManager} --force-conflicts -f "$WORK/serviceaccount.yaml"`, 'serviceaccount.yaml')} >/dev/null
fi
${s.mode === 'identityBinding' ? identityBindingPart(k) : directPart(s.audience)}
echo "Bound $VAULT to $NAMESPACE/$SERVICE_ACCOUNT on $CLUSTER: client id $CLIENT_ID."`;
  const content = `#!/usr/bin/env bash
${header(s, '#', 'An az CLI and kubectl script', [
  !anyPublic
    ? 'Nothing else: a private cluster is reached through az aks command invoke.'
    : anyPrivate
      ? 'Nothing else: the private clusters are reached through az aks command invoke.'
      : `Reaching a private API server (${s.clusters.length === 1 ? 'this cluster is' : 'these clusters are'} public).`,
])}
set -euo pipefail

NAMESPACE=${sh(s.namespace)}
SERVICE_ACCOUNT=${sh(s.serviceAccount)}
IDENTITY_SUBSCRIPTION=${sh(s.identity.subscriptionId)}
IDENTITY_RG=${sh(s.identity.resourceGroup)}
IDENTITY=${sh(s.identity.name)}
LOCATION=${sh(s.identity.location)}
VAULT_SUBSCRIPTION=${sh(s.vault.subscriptionId)}
VAULT_RG=${sh(s.vault.resourceGroup)}
VAULT=${sh(s.vault.name)}
SUBJECT="system:serviceaccount:$NAMESPACE:$SERVICE_ACCOUNT"
${
  s.mode === 'identityBinding'
    ? `IDENTITY_BINDING=${sh(s.identityBindingName)}
# Seconds between reads of an identity binding that AKS is still making.
POLL_SECONDS="\${POLL_SECONDS:-5}"
`
    : ''
}# The clusters, one per line: subscription, resource group, name, its federated credential's name, and how kubectl
# reaches its API server (public; entra: with kubelogin's Microsoft Entra ID tokens; private: through AKS run-command).
CLUSTERS=(
${s.clusters.map((c) => `  ${sh([c.subscriptionId, c.resourceGroup, c.name, c.credentialName, access(c)].join(' '))}`).join('\n')}
)
cluster_row() { read -r SUBSCRIPTION CLUSTER_RG CLUSTER CREDENTIAL ACCESS <<<"$1"; }

# 0. The tools, checked before anything is written.
need() {
  command -v "$1" >/dev/null 2>&1 || { echo "This script needs $1 ($2). Nothing was changed." >&2; exit 1; }
}
need az ${sh(`the Azure CLI, ${AZ_FOR_WORKLOAD_IDENTITY} or later where the cluster needs workload identity enabled`)}
${tools.map((t) => `need ${t.name} ${sh(t.why)}\n`).join('')}version_at_least() { [ "$(printf '%s\\n%s\\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }
AZ_VERSION="$(az version --query '"azure-cli"' -o tsv)"

# 1. The OIDC issuer and workload identity, only where off (the update rewrites the cluster and takes minutes).
ISSUERS=()
for row in "\${CLUSTERS[@]}"; do
  cluster_row "$row"
  az account set --subscription "$SUBSCRIPTION"
  # Each check is assigned first: under set -e a failed read stops the script instead of looking like "missing".
  ENABLED="$(az aks show -g "$CLUSTER_RG" -n "$CLUSTER" --query "oidcIssuerProfile.enabled && securityProfile.workloadIdentity.enabled" -o tsv)"
  if [ "$ENABLED" != "true" ]; then
    # --enable-workload-identity came with Azure CLI ${AZ_FOR_WORKLOAD_IDENTITY}; the first cluster that needs it stops here
    # before any write, as the version is the same for all.
    if ! version_at_least "$AZ_VERSION" ${AZ_FOR_WORKLOAD_IDENTITY}; then
      echo "Enabling workload identity on $CLUSTER needs Azure CLI ${AZ_FOR_WORKLOAD_IDENTITY} or later (az aks update --enable-workload-identity); this is $AZ_VERSION. Run az upgrade, or enable it with the extension's Enable Workload Identity, then run this script again. Nothing was changed." >&2
      exit 1
    fi
    az aks update -g "$CLUSTER_RG" -n "$CLUSTER" --enable-oidc-issuer --enable-workload-identity >/dev/null
  fi
  # The issuer URL verbatim, trailing slash included.
  ISSUER="$(az aks show -g "$CLUSTER_RG" -n "$CLUSTER" --query oidcIssuerProfile.issuerUrl -o tsv)"
  ISSUERS+=("$ISSUER")
done

# 2. The identity, created only when missing.
az account set --subscription "$IDENTITY_SUBSCRIPTION"
FOUND="$(az identity list -g "$IDENTITY_RG" --query "length([?name=='$IDENTITY'])" -o tsv)"
if [ "$FOUND" = "0" ]; then
  az identity create -g "$IDENTITY_RG" -n "$IDENTITY" -l "$LOCATION" --tags ${CREATED_BY_TAG.name}=${CREATED_BY_TAG.value} >/dev/null
fi
CLIENT_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query clientId -o tsv)"
PRINCIPAL_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query principalId -o tsv)"
TENANT_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query tenantId -o tsv)"${
    s.mode === 'identityBinding'
      ? `
IDENTITY_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query id -o tsv)"
RBAC_NAME="use-mi-\${CLIENT_ID,,}"`
      : ''
  }

# 3. get on the vault (${s.vault.rbac ? 'Azure RBAC: role assignments' : 'access policies'}).
az account set --subscription "$VAULT_SUBSCRIPTION"
${grant.join('\n')}

# 4. On each cluster: the ServiceAccount with the client id, by server-side apply as ${s.fieldManager} (others' labels
# and annotations stay), then the federated credential. One cluster after another: Azure writes an identity's
# credentials one at a time.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The same on every cluster.
cat > "$WORK/serviceaccount.yaml" <<EOF
${manifest}
EOF
${anyPublic ? 'KUBECONFIG_FILE="$WORK/kubeconfig"\n' : ''}${
    anyPrivate
      ? `# kubectl inside a private cluster through AKS run-command; its exit code becomes the function's.
in_cluster() {
  local out
  out="$(az aks command invoke -g "$CLUSTER_RG" -n "$CLUSTER" --command "$1" "\${@:2}" --query "[[exitCode, logs]]" -o tsv)"
  printf '%s' "\${out#*$'\\t'}"
  return "\${out%%$'\\t'*}"
}
`
      : ''
  }for i in "\${!CLUSTERS[@]}"; do
${indent(perCluster)}
done
`;
  return { name: `${fileStem(s)}.sh`, language: 'shellscript', content };
}

/**
 * Bicep: the identity and its credential in the identity's resource group, the grant as a module at the vault's.
 * The cluster is not in it: a partial managedClusters resource would overwrite the rest of the cluster.
 */
export function bicep(s: BindingSpec): ExportedFile[] {
  const off = s.clusters.filter((c) => !c.workloadIdentityOn);
  const clusterFlags = `The clusters' two flags: a partial Microsoft.ContainerService/managedClusters resource would replace the rest of the cluster, so set oidcIssuerProfile.enabled and securityProfile.workloadIdentity.enabled in the template that owns each cluster${
    off.length
      ? `, or run: ${off.map((c) => `az aks update -g ${c.resourceGroup} -n ${c.name} --enable-oidc-issuer --enable-workload-identity`).join('; ')}`
      : ' (they are on today)'
  }.`;
  const main = `${header(s, '//', 'Bicep', [
    clusterFlags,
    `The ServiceAccount: apply Bind's manifest on each cluster with kubectl apply --server-side --field-manager=${s.fieldManager} (the client id is the output clientId).`,
    ...(s.mode === 'identityBinding'
      ? [
          `Who may use the identity: apply rbac.yaml on each cluster with kubectl apply --server-side --field-manager=${s.fieldManager}; an existing ClusterRoleBinding of that name keeps its other subjects only if you add them to the file.`,
        ]
      : []),
    `Deploy to the identity's resource group: az deployment group create -g ${s.identity.resourceGroup} --subscription ${s.identity.subscriptionId} -f main.bicep (${s.mode === 'identityBinding' ? 'grant.bicep and identityBinding.bicep' : 'grant.bicep'} beside it).`,
  ])}
targetScope = 'resourceGroup'

@description('The clusters, each with the federated credential that names its OIDC issuer.')
param clusters array = [
${s.clusters
  .map(
    (c) => `  {
    subscriptionId: '${c.subscriptionId}'
    resourceGroup: '${c.resourceGroup}'
    name: '${c.name}'
    credentialName: '${c.credentialName}'
  }`,
  )
  .join('\n')}
]

resource cluster 'Microsoft.ContainerService/managedClusters@2024-02-01' existing = [
  for c in clusters: {
    name: c.name
    scope: resourceGroup(c.subscriptionId, c.resourceGroup)
  }
]

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' ${
    s.identity.exists
      ? `existing = {
  name: '${s.identity.name}'
}`
      : `= {
  name: '${s.identity.name}'
  location: '${s.identity.location}'
  tags: {
    '${CREATED_BY_TAG.name}': '${CREATED_BY_TAG.value}'
  }
}`
  }

${
  s.mode === 'identityBinding'
    ? bindingModules(s)
    : `// One at a time: Azure refuses concurrent credential writes on one identity.
@batchSize(1)
resource credential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = [
  for (c, i) in clusters: {
    parent: identity
    name: c.credentialName
    properties: {
      issuer: cluster[i].properties.oidcIssuerProfile.issuerURL
      subject: '${s.subject}'
      audiences: [
        '${s.audience}'
      ]
    }
  }
]

`
}module grant 'grant.bicep' = {
  name: take('grant-${s.identity.name}', 64)
  scope: resourceGroup('${s.vault.subscriptionId}', '${s.vault.resourceGroup}')
  params: {
    principalId: identity.properties.principalId
    tenantId: identity.properties.tenantId
  }
}

output clientId string = identity.properties.clientId
output tenantId string = identity.properties.tenantId
`;
  const grant = s.vault.rbac
    ? s.grants
        .map(
          (g) => `// ${g.roleName}: get on ${g.kind}
resource ${g.kind}Role 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, '${g.roleGuid}', principalId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${g.roleGuid}')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}`,
        )
        .join('\n\n')
    : `// The add operation merges into the vault's policies: no one else's access policy is replaced.
resource policy 'Microsoft.KeyVault/vaults/accessPolicies@2023-07-01' = {
  parent: vault
  name: 'add'
  properties: {
    accessPolicies: [
      {
        tenantId: tenantId
        objectId: principalId
        permissions: {
${s.grants.map((g) => `          ${g.kind}: [\n            'get'\n          ]`).join('\n')}
        }
      }
    ]
  }
}`;
  const grantFile = `// get on ${s.grants.map((g) => g.kind).join(', ')} in ${s.vault.name} (${s.vault.rbac ? 'Azure RBAC' : 'access policies'}), deployed by main.bicep at the vault's resource group.
targetScope = 'resourceGroup'

param principalId string
param tenantId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: '${s.vault.name}'
}

${grant}
`;
  return [
    { name: 'main.bicep', language: 'bicep', content: main },
    { name: 'grant.bicep', language: 'bicep', content: grantFile },
    ...(s.mode === 'identityBinding'
      ? [
          { name: 'identityBinding.bicep', language: 'bicep', content: identityBindingModule() },
          { name: 'rbac.yaml', language: 'yaml', content: rbacYaml(s) },
        ]
      : []),
  ];
}

/** Identity-binding mode: a binding per cluster, each deployed at its cluster's resource group by a module. */
const bindingModules = (
  s: BindingSpec,
) => `// An identity binding on each cluster, in the cluster's resource group; AKS makes the one credential they share.
module binding 'identityBinding.bicep' = [
  for c in clusters: {
    name: take('ib-\${c.name}', 64)
    scope: resourceGroup(c.subscriptionId, c.resourceGroup)
    params: {
      clusterName: c.name
      bindingName: '${s.identityBindingName}'
      identityId: identity.id
    }
  }
]

`;

const identityBindingModule =
  () => `// An identity binding of a user-assigned identity to one cluster (Microsoft.ContainerService/managedClusters/identityBindings).
targetScope = 'resourceGroup'

param clusterName string
param bindingName string
param identityId string

resource cluster 'Microsoft.ContainerService/managedClusters@${IDENTITY_BINDINGS_API}' existing = {
  name: clusterName
}

resource binding 'Microsoft.ContainerService/managedClusters/identityBindings@${IDENTITY_BINDINGS_API}' = {
  parent: cluster
  name: bindingName
  properties: {
    managedIdentity: {
      resourceId: identityId
    }
  }
}

output issuer string = binding.properties.oidcIssuer.oidcIssuerUrl
`;

/** The ClusterRole and ClusterRoleBinding of identity-binding mode, for kubectl apply --server-side. */
function rbacYaml(s: BindingSpec): string {
  const clientId = s.identity.clientId ?? '${CLIENT_ID}';
  const name = `use-mi-${clientId.toLowerCase()}`;
  return [
    `# Lets ${s.namespace}/${s.serviceAccount} use the identity ${s.identity.name} through an identity binding. Apply on each cluster:`,
    `#   kubectl apply --server-side --field-manager=${s.fieldManager} -f rbac.yaml`,
    ...(s.identity.clientId
      ? []
      : [
          "# Replace ${CLIENT_ID} with the deployment's output clientId first (for example: CLIENT_ID=... envsubst < rbac.yaml).",
        ]),
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: ClusterRole',
    'metadata:',
    `  name: ${name}`,
    'rules:',
    `- apiGroups: ["${IDENTITY_BINDING_API_GROUP}"]`,
    `  resources: ["${clientId}"]`,
    `  verbs: ["${USE_MANAGED_IDENTITY}"]`,
    '---',
    'apiVersion: rbac.authorization.k8s.io/v1',
    'kind: ClusterRoleBinding',
    'metadata:',
    `  name: ${name}`,
    'roleRef:',
    '  apiGroup: rbac.authorization.k8s.io',
    '  kind: ClusterRole',
    `  name: ${name}`,
    'subjects:',
    '- kind: ServiceAccount',
    `  name: ${s.serviceAccount}`,
    `  namespace: ${s.namespace}`,
    '',
  ].join('\n');
}

const hcl = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '$${')}"`;

/** A Terraform name for a cluster's provider and ServiceAccount: letters, digits, _ and -, starting with a letter. */
const tfName = (name: string) => (/^[a-zA-Z]/.test(name) ? name : `aks_${name}`).replace(/[^a-zA-Z0-9_-]/g, '_');

/**
 * Terraform with the azurerm and kubernetes providers; the issuers come from the clusters' data sources. The
 * credentials are one resource with for_each over the clusters: the azurerm provider writes one identity's credentials
 * one at a time (it locks the identity: hashicorp/terraform-provider-azurerm#20003). Providers cannot be repeated by
 * for_each, so each cluster's kubernetes provider and ServiceAccount are written out.
 */
export function terraform(s: BindingSpec): ExportedFile {
  const id = s.identity.exists ? 'data.azurerm_user_assigned_identity.this' : 'azurerm_user_assigned_identity.this';
  const one = s.clusters.length === 1;
  // A data source reads clusters through one subscription's provider: one per subscription.
  const subscriptions = [...new Set(s.clusters.map((c) => c.subscriptionId))];
  const source = (i: number) => (i === 0 ? 'this' : `this_${i + 1}`);
  const sourceOf = (c: ClusterSpec) =>
    `data.azurerm_kubernetes_cluster.${source(subscriptions.indexOf(c.subscriptionId))}`;
  const identity = s.identity.exists
    ? `data "azurerm_user_assigned_identity" "this" {
  provider            = azurerm.identity
  name                = ${hcl(s.identity.name)}
  resource_group_name = ${hcl(s.identity.resourceGroup)}
}`
    : `resource "azurerm_user_assigned_identity" "this" {
  provider            = azurerm.identity
  name                = ${hcl(s.identity.name)}
  resource_group_name = ${hcl(s.identity.resourceGroup)}
  location            = ${hcl(s.identity.location)}
  tags = {
    ${hcl(CREATED_BY_TAG.name)} = ${hcl(CREATED_BY_TAG.value)}
  }
}`;
  const grant = s.vault.rbac
    ? s.grants
        .map(
          (g) => `# ${g.roleName}: get on ${g.kind}
resource "azurerm_role_assignment" ${hcl(g.kind)} {
  provider                         = azurerm.vault
  scope                            = data.azurerm_key_vault.this.id
  role_definition_id               = "/subscriptions/${s.vault.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${g.roleGuid}"
  principal_id                     = ${id}.principal_id
  principal_type                   = "ServicePrincipal"
  skip_service_principal_aad_check = true
}`,
        )
        .join('\n\n')
    : `resource "azurerm_key_vault_access_policy" "this" {
  provider     = azurerm.vault
  key_vault_id = data.azurerm_key_vault.this.id
  tenant_id    = ${id}.tenant_id
  object_id    = ${id}.principal_id
${s.grants.map((g) => `  ${{ secrets: 'secret_permissions', keys: 'key_permissions', certificates: 'certificate_permissions' }[g.kind].padEnd(23)} = ["Get"]`).join('\n')}
}`;
  const clusterProviders = subscriptions
    .slice(1)
    .map(
      (sub, i) => `

provider "azurerm" {
  alias           = "clusters_${i + 2}"
  features {}
  subscription_id = ${hcl(sub)}
}`,
    )
    .join('');
  const dataSources = subscriptions
    .map(
      (sub, i) => `data "azurerm_kubernetes_cluster" "${source(i)}" {
${i === 0 ? '' : `  provider            = azurerm.clusters_${i + 1}\n`}  for_each            = ${subscriptions.length === 1 ? 'local.clusters' : `{ for name, c in local.clusters : name => c if c.subscription_id == ${hcl(sub)} }`}
  name                = each.key
  resource_group_name = each.value.resource_group_name
}`,
    )
    .join('\n\n');
  /** A cluster's attribute, for the cluster of each.key, whichever subscription's data source read it. */
  const ofEachCluster = (attribute: string) =>
    subscriptions.length === 1
      ? `data.azurerm_kubernetes_cluster.this[each.key].${attribute}`
      : `merge(${subscriptions.map((_, i) => `{ for name, c in data.azurerm_kubernetes_cluster.${source(i)} : name => c.${attribute} }`).join(', ')})[each.key]`;
  const issuer = ofEachCluster('oidc_issuer_url');
  const kube = (c: ClusterSpec) => {
    const config = `${sourceOf(c)}[${hcl(c.name)}].kube_config[0]`;
    const name = one ? 'this' : tfName(c.name);
    const auth = c.entraId
      ? `  # Microsoft Entra ID cluster: tokens from kubelogin with the Azure CLI's sign-in.
  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "kubelogin"
    args        = ["get-token", "--login", "azurecli", "--server-id", ${hcl(AKS_SERVER_SCOPE.replace('/.default', ''))}]
  }`
      : `  client_certificate     = base64decode(${config}.client_certificate)
  client_key             = base64decode(${config}.client_key)`;
    return `provider "kubernetes" {
${one ? '' : `  alias                  = ${hcl(name)}\n`}  host                   = ${config}.host
  cluster_ca_certificate = base64decode(${config}.cluster_ca_certificate)
${auth}
}

resource "kubernetes_service_account_v1" ${hcl(name)} {
${one ? '' : `  provider = kubernetes.${name}\n`}  metadata {
    name      = ${hcl(s.serviceAccount)}
    namespace = ${hcl(s.namespace)}
    annotations = {
      ${hcl(s.annotations.clientId)} = ${id}.client_id
      ${hcl(s.annotations.tenantId)} = ${id}.tenant_id
    }
  }
}${s.mode === 'identityBinding' ? rbacResources(s, id, name, one) : ''}`;
  };
  const content = `${header(s, '#', 'Terraform (azurerm and kubernetes providers)', [
    `The clusters' OIDC issuer and workload identity: set oidc_issuer_enabled and workload_identity_enabled on the azurerm_kubernetes_cluster that owns each cluster.`,
    `An existing ServiceAccount: import it first (${s.clusters.map((c) => `terraform import kubernetes_service_account_v1.${one ? 'this' : tfName(c.name)} ${s.namespace}/${s.serviceAccount}`).join('; ')}).`,
    ...(s.clusters.some((c) => c.private) ? ['A private API server: run Terraform from inside its network.'] : []),
  ])}
terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.75"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.23"
    }${
      s.mode === 'identityBinding'
        ? `
    azapi = {
      source  = "Azure/azapi"
      version = ">= 2.0"
    }`
        : ''
    }
  }
}

locals {
  # The clusters by name, each with the federated credential that names its OIDC issuer.
  clusters = {
${s.clusters
  .map(
    (c) =>
      `    ${hcl(c.name)} = { resource_group_name = ${hcl(c.resourceGroup)}, credential_name = ${hcl(c.credentialName)}${subscriptions.length === 1 ? '' : `, subscription_id = ${hcl(c.subscriptionId)}`} }`,
  )
  .join('\n')}
  }
}

provider "azurerm" {
  features {}
  subscription_id = ${hcl(subscriptions[0]!)}
}${clusterProviders}

provider "azurerm" {
  alias           = "identity"
  features {}
  subscription_id = ${hcl(s.identity.subscriptionId)}
}

provider "azurerm" {
  alias           = "vault"
  features {}
  subscription_id = ${hcl(s.vault.subscriptionId)}
}

${dataSources}

data "azurerm_key_vault" "this" {
  provider            = azurerm.vault
  name                = ${hcl(s.vault.name)}
  resource_group_name = ${hcl(s.vault.resourceGroup)}
}

${identity}

${
  s.mode === 'identityBinding'
    ? identityBindingResources(s, id, ofEachCluster('id'))
    : `resource "azurerm_federated_identity_credential" "this" {
  provider            = azurerm.identity
  for_each            = local.clusters
  name                = each.value.credential_name
  resource_group_name = ${hcl(s.identity.resourceGroup)}
  parent_id           = ${id}.id
  issuer              = ${issuer}
  subject             = ${hcl(s.subject)}
  audience            = [${hcl(s.audience)}]
}

`
}${grant}

${s.clusters.map(kube).join('\n\n')}

output "client_id" {
  value = ${id}.client_id
}
`;
  return { name: `${fileStem(s)}.tf`, language: 'terraform', content };
}

/** Identity-binding mode: a binding per cluster through azapi (azurerm has no resource for it). */
const identityBindingResources = (
  s: BindingSpec,
  id: string,
  clusterId: string,
) => `# An identity binding on each cluster; AKS makes the one credential they share (aks-identity-binding).
resource "azapi_resource" "identity_binding" {
  for_each  = local.clusters
  type      = "Microsoft.ContainerService/managedClusters/identityBindings@${IDENTITY_BINDINGS_API}"
  name      = ${hcl(s.identityBindingName)}
  parent_id = ${clusterId}
  body = {
    properties = {
      managedIdentity = {
        resourceId = ${id}.id
      }
    }
  }
}

`;

/** Identity-binding mode: the ClusterRole and ClusterRoleBinding that let the ServiceAccount use the identity. */
const rbacResources = (s: BindingSpec, id: string, name: string, one: boolean) => `

resource "kubernetes_cluster_role_v1" ${hcl(name)} {
${one ? '' : `  provider = kubernetes.${name}\n`}  metadata {
    name = "use-mi-${'${'}lower(${id}.client_id)}"
  }
  rule {
    api_groups = [${hcl(IDENTITY_BINDING_API_GROUP)}]
    resources  = [${id}.client_id]
    verbs      = [${hcl(USE_MANAGED_IDENTITY)}]
  }
}

resource "kubernetes_cluster_role_binding_v1" ${hcl(name)} {
${one ? '' : `  provider = kubernetes.${name}\n`}  metadata {
    name = "use-mi-${'${'}lower(${id}.client_id)}"
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.${name}.metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = ${hcl(s.serviceAccount)}
    namespace = ${hcl(s.namespace)}
  }
}`;

export function render(format: ExportFormat, s: BindingSpec): ExportedFile[] {
  switch (format) {
    case 'azcli':
      return [azScript(s)];
    case 'bicep':
      return bicep(s);
    case 'terraform':
      return [terraform(s)];
  }
}
