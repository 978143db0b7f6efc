import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import { Permission, ROLE_FOR } from '../../azure/keyVaultRoles';
import { ExecuteStep } from '../../wizard/wizard';
import { workloadIdentityState } from '../cluster';
import { enableWorkloadIdentity } from '../enable/run';
import { StepError, describeError, toStepError } from '../../errors';
import { serviceAccountObject } from '../manifest';
import {
  MAX_CREDENTIALS_PER_IDENTITY,
  TOKEN_EXCHANGE_AUDIENCE,
  credentialName,
  identityBindingName,
  roleAssignmentName,
  serviceAccountSubject,
} from '../names';
import { BindDeps, BindMode, BindState, BindStepId, stepTitle } from './model';
import { IDENTITY_BINDING_AUDIENCE, IDENTITY_BINDING_CREDENTIAL } from '../../azure/identityBindings';
import { mayUseIdentity, rbacObjectName, useIdentityBinding, useIdentityRole } from '../identityBindingAccess';
import { credentialMatches, missingGrants, nearMissCredential, serviceAccountIsCurrent } from './plan';

/** Who typically has the permission a 403 says is missing, per step. */
const REMEDY: Record<BindStepId, (s: BindState) => string> = {
  cluster: (s) =>
    l10n.t(
      'You need Microsoft.ContainerService/managedClusters/write on {0} (for example Azure Kubernetes Service Contributor).',
      s.request.cluster.name,
    ),
  identity: () =>
    l10n.t(
      'You need Microsoft.ManagedIdentity/userAssignedIdentities/write on the resource group (for example Managed Identity Contributor).',
    ),
  namespace: (s) =>
    l10n.t(
      'Your Kubernetes role on {0} does not allow creating namespaces; ask a cluster admin, or pick an existing namespace.',
      s.request.cluster.name,
    ),
  vault: (s) =>
    s.request.vault.rbac
      ? l10n.t(
          'You need Microsoft.Authorization/roleAssignments/write on {0}: Owner, User Access Administrator, or Role Based Access Control Administrator typically have it.',
          s.request.vault.name,
        )
      : l10n.t(
          'You need Microsoft.KeyVault/vaults/accessPolicies/write on {0}: Key Vault Contributor typically has it.',
          s.request.vault.name,
        ),
  serviceAccount: (s) =>
    l10n.t(
      'Your Kubernetes role does not allow patching serviceaccounts in {0} on {1}; ask for a role that can (for example Azure Kubernetes Service RBAC Writer for the namespace).',
      s.request.namespace,
      s.request.cluster.name,
    ),
  credential: () =>
    l10n.t(
      'You need Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write (for example Managed Identity Contributor).',
    ),
  identityBinding: (s) =>
    l10n.t(
      'You need Microsoft.ContainerService/managedClusters/identityBindings/write on {0} (for example Azure Kubernetes Service Contributor).',
      s.request.cluster.name,
    ),
  managedCredential: () =>
    l10n.t(
      'You need Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read on the identity.',
    ),
  useIdentityRbac: (s) =>
    l10n.t(
      'Your Kubernetes role on {0} does not allow writing ClusterRoles and ClusterRoleBindings; ask a cluster admin (for example Azure Kubernetes Service RBAC Cluster Admin).',
      s.request.cluster.name,
    ),
};

const stepError = (id: BindStepId, s: BindState, e: unknown) => toStepError(stepTitle(id), e, () => REMEDY[id](s));

/** Retries what Azure says will pass soon: a principal that has not replicated, concurrent credential writes. */
async function withRetry<T>(
  deps: BindDeps,
  what: (e: unknown) => boolean,
  fn: () => Promise<T>,
  signal: AbortSignal,
  attempts = 5,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !what(e) || signal.aborted) throw e;
      const ms = 1000 * 2 ** (i - 1);
      deps.log.info(`${describeError(e).code}: retrying in ${ms / 1000}s (${i}/${attempts - 1})`);
      await deps.sleep(ms, signal);
    }
  }
}
const principalNotFound = (e: unknown) => describeError(e).code === 'PrincipalNotFound';
const concurrentWrite = (e: unknown) => describeError(e).status === 409;

/** Azure answers 409 while another writer changes a credential of the same identity: wait and write again. */
export const putCredentialRetrying = (
  deps: BindDeps,
  identity: IdentityInfo,
  credential: CredentialInfo,
  signal: AbortSignal,
) => withRetry(deps, concurrentWrite, () => deps.identities.putCredential(identity, credential, signal), signal, 4);

function step(
  id: BindStepId,
  priority: number,
  run: (
    s: BindState,
    progress: (m: string) => void,
    signal: AbortSignal,
  ) => Promise<'created' | 'updated' | 'unchanged'>,
): ExecuteStep<BindState> {
  return {
    id,
    title: stepTitle(id),
    priority,
    shouldExecute: () => true,
    async execute(s, progress, signal) {
      const rec = s.records.get(id)!;
      try {
        rec.result = await run(s, progress, signal);
      } catch (e) {
        rec.result = 'failed';
        throw stepError(id, s, e);
      }
    },
  };
}

/** One cluster update at a time per cluster: Enable, Bind and Verify's fixes share the guard. */
export type RunClusterUpdate = <T>(clusterId: string, fn: () => Promise<T>) => Promise<T>;

/** Runs the update at once: for callers without the extension's per-cluster guard (tests, the bench). */
export const runDirectly: RunClusterUpdate = (_id, fn) => fn();

export const clusterStep = (deps: BindDeps, runClusterUpdate: RunClusterUpdate = runDirectly): ExecuteStep<BindState> =>
  step('cluster', 1, async (s, progress, signal) => {
    const outcome = await runClusterUpdate(s.request.cluster.id.toLowerCase(), () =>
      enableWorkloadIdentity(deps.clusters, s.request.cluster, { signal, onProgress: progress }),
    );
    if (s.request.mode === 'identityBinding' && outcome.cluster.vnetIntegration)
      throw new StepError(
        stepTitle('cluster'),
        'IdentityBindingUnsupported',
        l10n.t(
          '{0} uses API server VNet integration, where identity bindings are not supported.',
          s.request.cluster.name,
        ),
        l10n.t('Bind it with a federated credential of its own (direct federation) instead.'),
      );
    s.issuerUrl = outcome.cluster.issuerUrl;
    if (!s.issuerUrl || workloadIdentityState(outcome.cluster) !== 'on')
      throw new StepError(
        stepTitle('cluster'),
        'NoIssuer',
        l10n.t('The cluster reports no OIDC issuer URL after the update.'),
      );
    return outcome.kind === 'alreadyOn' ? 'unchanged' : 'updated';
  });

export const identityStep = (deps: BindDeps): ExecuteStep<BindState> =>
  step('identity', 1, async (s, progress, signal) => {
    const shared = await s.shared?.identity;
    if (shared) {
      s.identity = shared;
      return 'unchanged';
    }
    const choice = s.request.identity;
    const ref = choice.kind === 'existing' ? choice.identity : choice;
    const found = await deps.identities.find(ref, signal);
    if (found) {
      s.identity = found;
      return 'unchanged';
    }
    if (choice.kind === 'existing')
      throw new StepError(
        stepTitle('identity'),
        'IdentityNotFound',
        l10n.t('The identity {0} no longer exists.', choice.identity.name),
      );
    progress(l10n.t('Creating managed identity {0}…', choice.name));
    s.identity = await deps.identities.create(ref, choice.location, signal);
    s.identityCreated = true;
    return 'created';
  });

export const namespaceStep = (deps: BindDeps): ExecuteStep<BindState> =>
  step('namespace', 1, async (s, progress) => {
    s.kube = await deps.kube(s.request.cluster);
    if (s.kube.mode === 'runCommand')
      progress(l10n.t('The API server of {0} is private: applying through AKS run-command…', s.request.cluster.name));
    // Read beside the namespaces, not after them: in a namespace that does not exist the ServiceAccount is not found.
    s.serviceAccount = s.kube.getServiceAccount(s.request.namespace, s.request.serviceAccount);
    s.serviceAccount.catch(() => undefined); // a failed read fails the ServiceAccount step, where it is reported
    if ((await s.kube.listNamespaces()).includes(s.request.namespace)) return 'unchanged';
    await s.kube.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: s.request.namespace } }]);
    return 'created';
  });

export const vaultStep = (deps: BindDeps): ExecuteStep<BindState> =>
  step('vault', 2, async (s, progress, signal) => {
    const r = s.request,
      identity = s.identity!;
    if (await s.shared?.granted) return 'unchanged';
    const vault = await (s.vault ?? deps.vaults.get(r.vault, signal));
    const missing = s.identityCreated ? r.permissions : await missingGrants(vault, identity, r, deps, signal);
    if (!missing.length) return 'unchanged';
    progress(l10n.t('Granting get on {0} in {1}…', missing.join(', '), r.vault.name));
    if (!vault.rbac) {
      const permissions = Object.fromEntries(missing.map((k) => [k, ['get']])) as Record<Permission, string[]>;
      await deps.vaults.addAccessPolicy(
        r.vault,
        { tenantId: vault.tenantId, objectId: identity.principalId, permissions },
        signal,
      );
      return 'created';
    }
    // The roles are independent grants: ask for them at the same time.
    await Promise.all(
      missing.map(async (k) => {
        const role = ROLE_FOR[k];
        const name = roleAssignmentName(r.vault.id, role.guid, identity.principalId);
        try {
          await withRetry(
            deps,
            principalNotFound,
            () =>
              deps.vaults.createRoleAssignment(
                r.vault.id,
                r.vault.subscriptionId,
                name,
                role.guid,
                identity.principalId,
                signal,
              ),
            signal,
          );
        } catch (e) {
          // The same grant under another name is the grant we want.
          if (describeError(e).code !== 'RoleAssignmentExists') throw e;
        }
      }),
    );
    return 'created';
  });

export const serviceAccountStep = (): ExecuteStep<BindState> =>
  step('serviceAccount', 2, async (s) => {
    const r = s.request,
      identity = s.identity!;
    const existing = await (s.serviceAccount ?? s.kube!.getServiceAccount(r.namespace, r.serviceAccount));
    if (serviceAccountIsCurrent(existing, identity.clientId, identity.tenantId)) return 'unchanged';
    await s.kube!.apply([
      serviceAccountObject({
        namespace: r.namespace,
        serviceAccount: r.serviceAccount,
        clientId: identity.clientId,
        tenantId: identity.tenantId,
      }),
    ]);
    return existing ? 'updated' : 'created';
  });

export const credentialStep = (deps: BindDeps): ExecuteStep<BindState> =>
  step('credential', 2, async (s, progress, signal) => {
    // The cluster step runs beside the identity step; this one needs both.
    const r = s.request,
      identity = s.identity!,
      issuer = s.issuerUrl!;
    const subject = serviceAccountSubject(r.namespace, r.serviceAccount);
    const credentials = s.identityCreated ? [] : await deps.identities.listCredentials(identity, signal);
    const exact = credentials.find((c) => credentialMatches(c, issuer, subject));
    if (exact && exact.audiences.includes(TOKEN_EXCHANGE_AUDIENCE)) {
      s.credential = exact;
      return 'unchanged';
    }
    const match = exact ?? nearMissCredential(credentials, issuer, subject);
    if (!match && credentials.length >= MAX_CREDENTIALS_PER_IDENTITY) {
      throw new StepError(
        stepTitle('credential'),
        'TooManyFederatedCredentials',
        l10n.t(
          'The identity {0} already has {1} federated credentials, the most Azure allows: {2}.',
          identity.name,
          credentials.length,
          credentials.map((c) => `${c.name} (${c.subject})`).join(', '),
        ),
        l10n.t('Remove one that is no longer used, or choose another identity.'),
      );
    }
    let name = match?.name ?? credentialName(r.cluster.name, r.namespace, r.serviceAccount);
    // Never overwrite someone else's credential that happens to have our name.
    if (!match && credentials.some((c) => c.name.toLowerCase() === name.toLowerCase()))
      name = credentialName(`${r.cluster.name}-${r.cluster.subscriptionId.slice(0, 8)}`, r.namespace, r.serviceAccount);
    progress(
      match ? l10n.t('Correcting federated credential {0}…', name) : l10n.t('Creating federated credential {0}…', name),
    );
    s.credential = await putCredentialRetrying(
      deps,
      identity,
      { name, issuer, subject, audiences: [TOKEN_EXCHANGE_AUDIENCE] },
      signal,
    );
    return match ? 'updated' : 'created';
  });

/**
 * Identity-binding mode: AKS's binding of the identity to the cluster, PUT and followed to the end; an existing one for
 * this identity, under whatever name, is used as it is.
 */
export const identityBindingStep = (deps: BindDeps): ExecuteStep<BindState> =>
  step('identityBinding', 2, async (s, progress, signal) => {
    const r = s.request,
      identity = s.identity!;
    const existing = (await deps.identityBindings.list(r.cluster, signal)).find(
      (b) => b.identityId.toLowerCase() === identity.id.toLowerCase(),
    );
    if (existing?.provisioningState === 'Succeeded') {
      s.identityBinding = existing;
      return 'unchanged';
    }
    const name = existing?.name ?? identityBindingName(identity.name);
    progress(l10n.t('Creating identity binding {0} on {1}…', name, r.cluster.name));
    s.identityBinding = await deps.identityBindings.put(r.cluster, name, identity.id, { signal });
    if (s.identityBinding.provisioningState !== 'Succeeded')
      throw new StepError(
        stepTitle('identityBinding'),
        'IdentityBindingFailed',
        l10n.t('AKS ended the identity binding {0} as {1}.', name, s.identityBinding.provisioningState ?? '?'),
      );
    return existing ? 'updated' : 'created';
  });

/** AKS makes the one credential all of an identity's bindings share; Bind only checks it is there, and never writes it. */
export const managedCredentialStep = (deps: BindDeps): ExecuteStep<BindState> =>
  step('managedCredential', 3, async (s, _progress, signal) => {
    const identity = s.identity!,
      issuer = s.identityBinding!.issuerUrl;
    const found = (await deps.identities.listCredentials(identity, signal)).find(
      (c) => c.name === IDENTITY_BINDING_CREDENTIAL,
    );
    if (!found || (issuer && found.issuer !== issuer) || !found.audiences.includes(IDENTITY_BINDING_AUDIENCE))
      throw new StepError(
        stepTitle('managedCredential'),
        'IdentityBindingCredentialMissing',
        found
          ? l10n.t(
              '{0} on {1} has issuer {2} and audiences {3}; the identity binding needs issuer {4} and audience {5}.',
              IDENTITY_BINDING_CREDENTIAL,
              identity.name,
              found.issuer,
              found.audiences.join(', '),
              issuer ?? '?',
              IDENTITY_BINDING_AUDIENCE,
            )
          : l10n.t('AKS has not made {0} on {1} yet.', IDENTITY_BINDING_CREDENTIAL, identity.name),
        l10n.t(
          'AKS makes and owns this credential: run Bind again in a minute; if it stays wrong, delete it and Bind again, and AKS makes it anew.',
        ),
      );
    s.issuerUrl = found.issuer;
    s.credential = found;
    return 'unchanged';
  });

/**
 * The ClusterRole that allows use-managed-identity on the client id, and the ClusterRoleBinding that gives it to the
 * ServiceAccount, added to the subjects the binding has (others' stay). Nothing is written when RBAC already allows it.
 */
export const useIdentityRbacStep = (): ExecuteStep<BindState> =>
  step('useIdentityRbac', 2, async (s, progress) => {
    const r = s.request,
      clientId = s.identity!.clientId;
    const sa = { namespace: r.namespace, name: r.serviceAccount };
    const { roles, bindings } = await s.kube!.listClusterRbac();
    if (mayUseIdentity(roles, bindings, sa, clientId).allowed) return 'unchanged';
    const name = rbacObjectName(clientId);
    const role = roles.find((x) => x.metadata.name === name);
    const binding = bindings.find((x) => x.metadata.name === name);
    progress(
      l10n.t(
        'Letting {0}/{1} use the identity (ClusterRole and ClusterRoleBinding {2})…',
        r.namespace,
        r.serviceAccount,
        name,
      ),
    );
    if (!role || !mayUseIdentity([role], [useIdentityBinding(clientId, [], sa)], sa, clientId).allowed) {
      const ours = useIdentityRole(clientId);
      await s.kube!.applyClusterRbac({ ...ours, rules: [...(role?.rules ?? []), ...ours.rules] });
    }
    await s.kube!.applyClusterRbac(useIdentityBinding(clientId, binding?.subjects, sa));
    return role || binding ? 'updated' : 'created';
  });

/**
 * Bind's steps, each idempotent: it reads first and does only what is missing. Priority 1 steps have no
 * dependencies and run together; priority 2 steps need the identity, the issuer and the cluster connection.
 * Their reads that need none of these (the vault, the ServiceAccount) start earlier, so only writes wait.
 */
export function bindSteps(
  deps: BindDeps,
  runClusterUpdate?: RunClusterUpdate,
  mode: BindMode = 'direct',
): ExecuteStep<BindState>[] {
  const common = [
    clusterStep(deps, runClusterUpdate),
    identityStep(deps),
    namespaceStep(deps),
    vaultStep(deps),
    serviceAccountStep(),
  ];
  return mode === 'direct'
    ? [...common, credentialStep(deps)]
    : [...common, identityBindingStep(deps), managedCredentialStep(deps), useIdentityRbacStep()];
}
