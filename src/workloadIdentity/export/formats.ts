import { CREATED_BY_TAG } from '../../azure/identities';
import { AKS_SERVER_SCOPE } from '../../auth/cloud';
import type { BindingSpec, ExportFormat, ExportedFile } from './model';

/** What every file says first: what it does, for which binding, and what it leaves to you. */
function header(s: BindingSpec, comment: string, format: string, notCovered: string[]): string {
  const lines = [
    `${format} for Azure workload identity on AKS, exported by the AKS Workload Identity extension.`,
    `Gives the pods of ${s.namespace}/${s.serviceAccount} on cluster ${s.cluster.name} get on ${s.grants.map((g) => g.kind).join(', ')} in Key Vault ${s.vault.name}`,
    `(${s.vault.rbac ? 'Azure RBAC' : 'access policies'}) through the user-assigned identity ${s.identity.name}${s.identity.exists ? ' (it exists)' : ''}: what Bind does.`,
    'Not covered:',
    ...notCovered.map((n) => `- ${n}`),
    '- The workload itself: its pod template needs serviceAccountName and the label azure.workload.identity/use: "true" (Connect Workload).',
  ];
  return lines.map((l) => `${comment} ${l}`).join('\n');
}

const sh = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** The first Azure CLI with `az aks update --enable-workload-identity` (the AKS docs' prerequisite for it). */
export const AZ_FOR_WORKLOAD_IDENTITY = '2.47.0';

/** bash with az and kubectl. Every step checks first, so a second run writes nothing. */
export function azScript(s: BindingSpec): ExportedFile {
  // A private cluster runs kubectl inside it; an Entra ID cluster's kubeconfig needs kubelogin for its tokens.
  const tools = s.cluster.private
    ? []
    : [
        { name: 'kubectl', why: 'az aks install-cli installs it' },
        ...(s.cluster.entraId
          ? [
              {
                name: 'kubelogin',
                why: 'az aks install-cli installs it; the Microsoft Entra ID cluster gets its tokens from it',
              },
            ]
          : []),
      ];
  // The names are DNS labels (checked before export), so the commands need no quoting inside the cluster either.
  const k = (cmd: string) =>
    s.cluster.private ? `in_cluster "kubectl ${cmd}"` : `kubectl --kubeconfig "$KUBECONFIG_FILE" ${cmd}`;
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
  const content = `#!/usr/bin/env bash
${header(s, '#', 'An az CLI and kubectl script', [
  s.cluster.private
    ? 'Nothing else: the private cluster is reached through az aks command invoke.'
    : 'Reaching a private API server (this cluster is public).',
])}
set -euo pipefail

SUBSCRIPTION=${sh(s.cluster.subscriptionId)}
CLUSTER_RG=${sh(s.cluster.resourceGroup)}
CLUSTER=${sh(s.cluster.name)}
NAMESPACE=${sh(s.namespace)}
SERVICE_ACCOUNT=${sh(s.serviceAccount)}
IDENTITY_SUBSCRIPTION=${sh(s.identity.subscriptionId)}
IDENTITY_RG=${sh(s.identity.resourceGroup)}
IDENTITY=${sh(s.identity.name)}
LOCATION=${sh(s.identity.location)}
VAULT_SUBSCRIPTION=${sh(s.vault.subscriptionId)}
VAULT_RG=${sh(s.vault.resourceGroup)}
VAULT=${sh(s.vault.name)}
CREDENTIAL=${sh(s.credentialName)}
SUBJECT="system:serviceaccount:$NAMESPACE:$SERVICE_ACCOUNT"

# 0. The tools, checked before anything is written.
need() {
  command -v "$1" >/dev/null 2>&1 || { echo "This script needs $1 ($2). Nothing was changed." >&2; exit 1; }
}
need az ${sh(`the Azure CLI, ${AZ_FOR_WORKLOAD_IDENTITY} or later where the cluster needs workload identity enabled`)}
${tools.map((t) => `need ${t.name} ${sh(t.why)}`).join('\n')}
version_at_least() { [ "$(printf '%s\\n%s\\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }
AZ_VERSION="$(az version --query '"azure-cli"' -o tsv)"

# 1. The OIDC issuer and workload identity, only when off (the update rewrites the cluster and takes minutes).
az account set --subscription "$SUBSCRIPTION"
# Each check is assigned first: under set -e a failed read stops the script instead of looking like "missing".
ENABLED="$(az aks show -g "$CLUSTER_RG" -n "$CLUSTER" --query "oidcIssuerProfile.enabled && securityProfile.workloadIdentity.enabled" -o tsv)"
if [ "$ENABLED" != "true" ]; then
  # --enable-workload-identity came with Azure CLI ${AZ_FOR_WORKLOAD_IDENTITY}.
  if ! version_at_least "$AZ_VERSION" ${AZ_FOR_WORKLOAD_IDENTITY}; then
    echo "Enabling workload identity on $CLUSTER needs Azure CLI ${AZ_FOR_WORKLOAD_IDENTITY} or later (az aks update --enable-workload-identity); this is $AZ_VERSION. Run az upgrade, or enable it with the extension's Enable Workload Identity, then run this script again. Nothing was changed." >&2
    exit 1
  fi
  az aks update -g "$CLUSTER_RG" -n "$CLUSTER" --enable-oidc-issuer --enable-workload-identity >/dev/null
fi
# The issuer URL verbatim, trailing slash included.
ISSUER="$(az aks show -g "$CLUSTER_RG" -n "$CLUSTER" --query oidcIssuerProfile.issuerUrl -o tsv)"

# 2. The identity, created only when missing.
az account set --subscription "$IDENTITY_SUBSCRIPTION"
FOUND="$(az identity list -g "$IDENTITY_RG" --query "length([?name=='$IDENTITY'])" -o tsv)"
if [ "$FOUND" = "0" ]; then
  az identity create -g "$IDENTITY_RG" -n "$IDENTITY" -l "$LOCATION" --tags ${CREATED_BY_TAG.name}=${CREATED_BY_TAG.value} >/dev/null
fi
CLIENT_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query clientId -o tsv)"
PRINCIPAL_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query principalId -o tsv)"
TENANT_ID="$(az identity show -g "$IDENTITY_RG" -n "$IDENTITY" --query tenantId -o tsv)"

# 3. get on the vault (${s.vault.rbac ? 'Azure RBAC: role assignments' : 'access policies'}).
az account set --subscription "$VAULT_SUBSCRIPTION"
${grant.join('\n')}

# 4. The ServiceAccount with the client id, by server-side apply as ${s.fieldManager} (others' labels and annotations stay).
az account set --subscription "$SUBSCRIPTION"
${
  s.cluster.private
    ? `# kubectl inside the private cluster through AKS run-command; its exit code becomes the function's.
in_cluster() {
  local out
  out="$(az aks command invoke -g "$CLUSTER_RG" -n "$CLUSTER" --command "$1" "\${@:2}" --query "[[exitCode, logs]]" -o tsv)"
  printf '%s' "\${out#*$'\\t'}"
  return "\${out%%$'\\t'*}"
}
`
    : `KUBECONFIG_FILE="$(mktemp)"
trap 'rm -f "$KUBECONFIG_FILE"' EXIT
az aks get-credentials -g "$CLUSTER_RG" -n "$CLUSTER" --file "$KUBECONFIG_FILE" --overwrite-existing 2>/dev/null
${s.cluster.entraId ? 'kubelogin convert-kubeconfig -l azurecli --kubeconfig "$KUBECONFIG_FILE"\n' : ''}`
}ANNOTATED="$(${k(`get serviceaccount $SERVICE_ACCOUNT -n $NAMESPACE --ignore-not-found -o jsonpath='{.metadata.annotations.azure\\.workload\\.identity/client-id}'`)})"
if [ "$ANNOTATED" != "$CLIENT_ID" ]; then
  NAMESPACE_FOUND="$(${k('get namespace $NAMESPACE --ignore-not-found -o name')})"
  if [ -z "$NAMESPACE_FOUND" ]; then ${k('create namespace $NAMESPACE')} >/dev/null; fi
  MANIFEST_DIR="$(mktemp -d)"
  cat > "$MANIFEST_DIR/serviceaccount.yaml" <<EOF
${manifest}
EOF
  ${
    s.cluster.private
      ? `in_cluster "kubectl apply --server-side --field-manager=${s.fieldManager} --force-conflicts -f serviceaccount.yaml" --file "$MANIFEST_DIR/serviceaccount.yaml" >/dev/null`
      : `kubectl --kubeconfig "$KUBECONFIG_FILE" apply --server-side --field-manager=${s.fieldManager} --force-conflicts -f "$MANIFEST_DIR/serviceaccount.yaml" >/dev/null`
  }
  rm -rf "$MANIFEST_DIR"
fi

# 5. The federated credential, unless one with this issuer and subject exists.
az account set --subscription "$IDENTITY_SUBSCRIPTION"
EXISTING="$(az identity federated-credential list -g "$IDENTITY_RG" --identity-name "$IDENTITY" --query "length([?issuer=='$ISSUER' && subject=='$SUBJECT'])" -o tsv)"
if [ "$EXISTING" = "0" ]; then
  az identity federated-credential create -g "$IDENTITY_RG" --identity-name "$IDENTITY" -n "$CREDENTIAL" --issuer "$ISSUER" --subject "$SUBJECT" --audiences ${s.audience} >/dev/null
fi
echo "Bound $VAULT to $NAMESPACE/$SERVICE_ACCOUNT on $CLUSTER: client id $CLIENT_ID."
`;
  return { name: `bind-${s.cluster.name}-${s.namespace}-${s.serviceAccount}.sh`, language: 'shellscript', content };
}

/**
 * Bicep: the identity and its credential in the identity's resource group, the grant as a module at the vault's.
 * The cluster is not in it: a partial managedClusters resource would overwrite the rest of the cluster.
 */
export function bicep(s: BindingSpec): ExportedFile[] {
  const clusterFlags = `The cluster's two flags: a partial Microsoft.ContainerService/managedClusters resource would replace the rest of the cluster, so set oidcIssuerProfile.enabled and securityProfile.workloadIdentity.enabled in the template that owns ${s.cluster.name}, or run: az aks update -g ${s.cluster.resourceGroup} -n ${s.cluster.name} --enable-oidc-issuer --enable-workload-identity.`;
  const main = `${header(s, '//', 'Bicep', [
    clusterFlags,
    `The ServiceAccount: apply Bind's manifest with kubectl apply --server-side --field-manager=${s.fieldManager} (the client id is the output clientId).`,
    `Deploy to the identity's resource group: az deployment group create -g ${s.identity.resourceGroup} --subscription ${s.identity.subscriptionId} -f main.bicep (grant.bicep beside it).`,
  ])}
targetScope = 'resourceGroup'

resource cluster 'Microsoft.ContainerService/managedClusters@2024-02-01' existing = {
  name: '${s.cluster.name}'
  scope: resourceGroup('${s.cluster.subscriptionId}', '${s.cluster.resourceGroup}')
}

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

resource credential 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: '${s.credentialName}'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: '${s.subject}'
    audiences: [
      '${s.audience}'
    ]
  }
}

module grant 'grant.bicep' = {
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
  ];
}

const hcl = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '$${')}"`;

/** Terraform with the azurerm and kubernetes providers; the issuer comes from the cluster's data source. */
export function terraform(s: BindingSpec): ExportedFile {
  const id = s.identity.exists ? 'data.azurerm_user_assigned_identity.this' : 'azurerm_user_assigned_identity.this';
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
  const auth = s.cluster.entraId
    ? `  # Microsoft Entra ID cluster: tokens from kubelogin with the Azure CLI's sign-in.
  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "kubelogin"
    args        = ["get-token", "--login", "azurecli", "--server-id", ${hcl(AKS_SERVER_SCOPE.replace('/.default', ''))}]
  }`
    : `  client_certificate     = base64decode(data.azurerm_kubernetes_cluster.this.kube_config[0].client_certificate)
  client_key             = base64decode(data.azurerm_kubernetes_cluster.this.kube_config[0].client_key)`;
  const content = `${header(s, '#', 'Terraform (azurerm and kubernetes providers)', [
    `The cluster's OIDC issuer and workload identity: set oidc_issuer_enabled and workload_identity_enabled on the azurerm_kubernetes_cluster that owns ${s.cluster.name}.`,
    `An existing ServiceAccount: import it first (terraform import kubernetes_service_account_v1.this ${s.namespace}/${s.serviceAccount}).`,
    ...(s.cluster.private ? ['A private API server: run Terraform from inside its network.'] : []),
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
    }
  }
}

provider "azurerm" {
  features {}
  subscription_id = ${hcl(s.cluster.subscriptionId)}
}

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

data "azurerm_kubernetes_cluster" "this" {
  name                = ${hcl(s.cluster.name)}
  resource_group_name = ${hcl(s.cluster.resourceGroup)}
}

data "azurerm_key_vault" "this" {
  provider            = azurerm.vault
  name                = ${hcl(s.vault.name)}
  resource_group_name = ${hcl(s.vault.resourceGroup)}
}

${identity}

resource "azurerm_federated_identity_credential" "this" {
  provider            = azurerm.identity
  name                = ${hcl(s.credentialName)}
  resource_group_name = ${hcl(s.identity.resourceGroup)}
  parent_id           = ${id}.id
  issuer              = data.azurerm_kubernetes_cluster.this.oidc_issuer_url
  subject             = ${hcl(s.subject)}
  audience            = [${hcl(s.audience)}]
}

${grant}

provider "kubernetes" {
  host                   = data.azurerm_kubernetes_cluster.this.kube_config[0].host
  cluster_ca_certificate = base64decode(data.azurerm_kubernetes_cluster.this.kube_config[0].cluster_ca_certificate)
${auth}
}

resource "kubernetes_service_account_v1" "this" {
  metadata {
    name      = ${hcl(s.serviceAccount)}
    namespace = ${hcl(s.namespace)}
    annotations = {
      ${hcl(s.annotations.clientId)} = ${id}.client_id
      ${hcl(s.annotations.tenantId)} = ${id}.tenant_id
    }
  }
}

output "client_id" {
  value = ${id}.client_id
}
`;
  return { name: `bind-${s.cluster.name}-${s.namespace}-${s.serviceAccount}.tf`, language: 'terraform', content };
}

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
