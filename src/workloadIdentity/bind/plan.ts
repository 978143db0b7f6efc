import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { VaultDetails, RoleAssignmentInfo, AccessPolicy } from '../../azure/vaults';
import { Permission, ROLE_FOR, keyVaultRole } from '../../azure/keyVaultRoles';
import type { ServiceAccountInfo } from '../../kube/access';
import { clusterFromSdk, workloadIdentityState } from '../cluster';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../manifest';
import {
  MAX_CREDENTIALS_PER_IDENTITY,
  TOKEN_EXCHANGE_AUDIENCE,
  identityBindingName,
  sameIgnoringTrailingSlash,
  serviceAccountSubject,
} from '../names';
import { BindDeps, BindRequest, BindStepId, stepTitle, StepRecord } from './model';
import { IDENTITY_BINDING_CREDENTIAL } from '../../azure/identityBindings';
import { mayUseIdentity, rbacObjectName } from '../identityBindingAccess';

/** Permissions a policy or the role assignments already give; `get` is what Bind grants. */
export function missingPolicyPermissions(
  policies: AccessPolicy[],
  tenantId: string,
  principalId: string,
  wanted: Permission[],
): Permission[] {
  const mine = policies.filter((p) => p.objectId === principalId && p.tenantId === tenantId);
  return wanted.filter(
    (k) =>
      !mine.some(
        (p) =>
          (p.permissions[k] ?? []).map((x) => x.toLowerCase()).includes('get') ||
          (p.permissions[k] ?? []).includes('all'),
      ),
  );
}

export function missingRoles(
  assignments: RoleAssignmentInfo[],
  vaultScope: string,
  wanted: Permission[],
): Permission[] {
  const scope = vaultScope.toLowerCase();
  // An assignment at the vault or above it (resource group, subscription) covers the vault.
  const covering = assignments.filter(
    (a) => scope === a.scope.toLowerCase() || scope.startsWith(`${a.scope.toLowerCase().replace(/\/$/, '')}/`),
  );
  return wanted.filter((k) => !covering.some((a) => keyVaultRole(a.roleDefinitionId)?.grants.includes(k)));
}

export const credentialMatches = (c: CredentialInfo, issuer: string, subject: string) =>
  c.issuer === issuer && c.subject === subject;

/** A credential for this subject whose issuer differs only by a trailing slash: meant for this cluster, so it is corrected rather than duplicated. */
export const nearMissCredential = (credentials: CredentialInfo[], issuer: string, subject: string) =>
  credentials.find((c) => c.subject === subject && c.issuer !== issuer && sameIgnoringTrailingSlash(c.issuer, issuer));

export function serviceAccountIsCurrent(sa: ServiceAccountInfo | undefined, clientId: string, tenantId: string) {
  return !!sa && sa.annotations[CLIENT_ID_ANNOTATION] === clientId && sa.annotations[TENANT_ID_ANNOTATION] === tenantId;
}

const identityRef = (r: BindRequest) =>
  r.identity.kind === 'existing'
    ? r.identity.identity
    : { subscriptionId: r.identity.subscriptionId, resourceGroup: r.identity.resourceGroup, name: r.identity.name };

export const identityLabel = (r: BindRequest) => {
  const i = identityRef(r);
  return l10n.t('{0} (resource group {1})', i.name, i.resourceGroup);
};

/**
 * Reads the current state and says, for each step, whether it will create, change, or leave alone the resource it
 * touches. Sends no write. The review shows exactly this.
 */
export async function planBind(r: BindRequest, deps: BindDeps, signal?: AbortSignal): Promise<StepRecord[]> {
  const subject = serviceAccountSubject(r.namespace, r.serviceAccount);
  const record = (id: BindStepId, resource: string, planned: StepRecord['planned'], detail?: string): StepRecord => ({
    id,
    title: stepTitle(id),
    resource,
    planned,
    detail,
  });

  const [mc, identity, vault, kube] = await Promise.all([
    deps.clusters.get(r.cluster, signal),
    r.identity.kind === 'existing'
      ? deps.identities.find(r.identity.identity, signal)
      : deps.identities.find(identityRef(r), signal),
    deps.vaults.get(r.vault, signal),
    deps.kube(r.cluster),
  ]);
  const cluster = clusterFromSdk(mc);
  const clusterOn = workloadIdentityState(cluster) === 'on';
  const [namespaces, sa, credentials, grants] = await Promise.all([
    kube.listNamespaces(),
    kube.getServiceAccount(r.namespace, r.serviceAccount).catch(() => undefined),
    identity ? deps.identities.listCredentials(identity, signal) : Promise.resolve([] as CredentialInfo[]),
    identity ? missingGrants(vault, identity, r, deps, signal) : Promise.resolve(r.permissions),
  ]);

  const viaBinding = r.mode === 'identityBinding';
  const steps: StepRecord[] = [];
  steps.push(
    record(
      'cluster',
      l10n.t('{0} (resource group {1})', cluster.name, cluster.resourceGroup),
      viaBinding && cluster.vnetIntegration ? 'blocked' : clusterOn ? 'unchanged' : 'update',
      viaBinding && cluster.vnetIntegration
        ? l10n.t('its API server uses VNet integration, where identity bindings are not supported: bind it directly')
        : clusterOn
          ? l10n.t('OIDC issuer and workload identity are on')
          : l10n.t(
              'will enable {0} (several minutes)',
              cluster.oidcIssuerEnabled ? l10n.t('workload identity') : l10n.t('the OIDC issuer and workload identity'),
            ),
    ),
  );
  steps.push(
    record(
      'identity',
      identityLabel(r),
      identity ? 'unchanged' : 'create',
      identity
        ? l10n.t('exists, client id {0}', identity.clientId)
        : l10n.t('will be created in {0}', r.identity.kind === 'new' ? r.identity.location : ''),
    ),
  );
  steps.push(
    record(
      'namespace',
      r.namespace,
      namespaces.includes(r.namespace) ? 'unchanged' : 'create',
      namespaces.includes(r.namespace) ? l10n.t('exists') : l10n.t('will be created'),
    ),
  );
  const model = vault.rbac ? 'Azure RBAC' : l10n.t('access policy');
  steps.push(
    record(
      'vault',
      `${r.vault.name} (${model})`,
      grants.length ? 'create' : 'unchanged',
      grants.length
        ? l10n.t(
            'will grant get on {0}{1}',
            grants.join(', '),
            vault.rbac ? ` (${grants.map((g) => ROLE_FOR[g].name).join(', ')})` : '',
          )
        : l10n.t('get on {0} already granted', r.permissions.join(', ')),
    ),
  );
  const saCurrent = identity && serviceAccountIsCurrent(sa, identity.clientId, identity.tenantId);
  steps.push(
    record(
      'serviceAccount',
      `${r.namespace}/${r.serviceAccount}`,
      !sa ? 'create' : saCurrent ? 'unchanged' : 'update',
      !sa
        ? l10n.t('will be created with the client-id annotation')
        : saCurrent
          ? l10n.t('annotated with this identity')
          : l10n.t('will be annotated; its other labels and annotations stay'),
    ),
  );
  if (viaBinding) return [...steps, ...(await planIdentityBinding(r, deps, identity, credentials, kube, signal))];
  const issuer = cluster.issuerUrl;
  const existing = issuer ? credentials.find((c) => credentialMatches(c, issuer, subject)) : undefined;
  if (existing) {
    const audienceOk = existing.audiences.includes(TOKEN_EXCHANGE_AUDIENCE);
    steps.push(
      record(
        'credential',
        l10n.t('{0} on {1}', existing.name, identityRef(r).name),
        audienceOk ? 'unchanged' : 'update',
        audienceOk
          ? l10n.t('issuer and subject {0} already federated', subject)
          : l10n.t('audience will be set to {0}', TOKEN_EXCHANGE_AUDIENCE),
      ),
    );
  } else if (issuer && nearMissCredential(credentials, issuer, subject)) {
    steps.push(
      record(
        'credential',
        l10n.t('{0} on {1}', nearMissCredential(credentials, issuer, subject)!.name, identityRef(r).name),
        'update',
        l10n.t("its issuer differs from the cluster's by a trailing slash and will be corrected"),
      ),
    );
  } else if (credentials.length >= MAX_CREDENTIALS_PER_IDENTITY) {
    steps.push(
      record(
        'credential',
        identityRef(r).name,
        'blocked',
        l10n.t(
          'the identity already has {0} federated credentials, the maximum: {1}',
          credentials.length,
          credentials.map((c) => c.name).join(', '),
        ),
      ),
    );
  } else {
    steps.push(
      record(
        'credential',
        l10n.t('{0} on {1}', subject, identityRef(r).name),
        'create',
        l10n.t("will be created with the cluster's issuer and audience api://AzureADTokenExchange"),
      ),
    );
  }
  return steps;
}

export async function missingGrants(
  vault: VaultDetails,
  identity: IdentityInfo,
  r: BindRequest,
  deps: BindDeps,
  signal?: AbortSignal,
): Promise<Permission[]> {
  if (!vault.rbac)
    return missingPolicyPermissions(vault.accessPolicies, vault.tenantId, identity.principalId, r.permissions);
  return missingRoles(
    await deps.vaults.roleAssignmentsFor(r.vault.id, r.vault.subscriptionId, identity.principalId, signal),
    r.vault.id,
    r.permissions,
  );
}

/** Identity-binding mode's own steps: the binding, AKS's credential, and the RBAC that lets the ServiceAccount use it. */
async function planIdentityBinding(
  r: BindRequest,
  deps: BindDeps,
  identity: IdentityInfo | undefined,
  credentials: CredentialInfo[],
  kube: Awaited<ReturnType<BindDeps['kube']>>,
  signal?: AbortSignal,
): Promise<StepRecord[]> {
  const record = (id: BindStepId, resource: string, planned: StepRecord['planned'], detail: string): StepRecord => ({
    id,
    title: stepTitle(id),
    resource,
    planned,
    detail,
  });
  const sa = { namespace: r.namespace, name: r.serviceAccount };
  const [bindings, rbac] = await Promise.all([
    identity ? deps.identityBindings.list(r.cluster, signal) : Promise.resolve([]),
    identity ? kube.listClusterRbac() : Promise.resolve({ roles: [], bindings: [] }),
  ]);
  const name = identityRef(r).name;
  const bound = identity && bindings.find((b) => b.identityId.toLowerCase() === identity.id.toLowerCase());
  const managed = credentials.find((c) => c.name === IDENTITY_BINDING_CREDENTIAL);
  const allowed = identity
    ? mayUseIdentity(rbac.roles, rbac.bindings, sa, identity.clientId)
    : { allowed: false as const };
  const rbacName = identity ? rbacObjectName(identity.clientId) : 'use-mi-<client id>';
  const rbacExists =
    rbac.roles.some((x) => x.metadata.name === rbacName) || rbac.bindings.some((x) => x.metadata.name === rbacName);
  return [
    record(
      'identityBinding',
      l10n.t('{0} on {1}', bound?.name ?? identityBindingName(name), r.cluster.name),
      bound?.provisioningState === 'Succeeded' ? 'unchanged' : bound ? 'update' : 'create',
      bound?.provisioningState === 'Succeeded'
        ? l10n.t('binds {0} to the cluster', name)
        : l10n.t('will bind {0} to the cluster (AKS takes a minute or two)', name),
    ),
    record(
      'managedCredential',
      l10n.t('{0} on {1}', IDENTITY_BINDING_CREDENTIAL, name),
      managed ? 'unchanged' : 'create',
      managed
        ? l10n.t('made by AKS, shared by every identity binding of {0}', name)
        : l10n.t("AKS makes it with the identity's first binding; Bind checks it, and never writes it"),
    ),
    record(
      'useIdentityRbac',
      l10n.t('{0} on {1}', rbacName, r.cluster.name),
      allowed.allowed ? 'unchanged' : rbacExists ? 'update' : 'create',
      allowed.allowed
        ? l10n.t('{0}/{1} may use the identity: {2}', r.namespace, r.serviceAccount, allowed.via)
        : rbacExists
          ? l10n.t('{0}/{1} will be added to the subjects; the others stay', r.namespace, r.serviceAccount)
          : l10n.t(
              'a ClusterRole with use-managed-identity on the client id, bound to {0}/{1}',
              r.namespace,
              r.serviceAccount,
            ),
    ),
  ];
}
