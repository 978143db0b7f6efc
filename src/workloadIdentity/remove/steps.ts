import * as l10n from '@vscode/l10n';
import { CREATED_BY_TAG } from '../../azure/identities';
import { FIELD_MANAGER, otherManagers } from '../../kube/fieldManager';
import type { KubeTarget } from '../../kube/access';
import type { RoleAssignmentInfo } from '../../azure/vaults';
import { ExecuteStep } from '../../wizard/wizard';
import { StepError, toStepError } from '../../errors';
import type { Permission } from '../../azure/keyVaultRoles';
import { removalTitle, Removal, RemovalKind, RemoveDeps, RemovePlan } from './model';
import { withoutServiceAccount } from '../identityBindingAccess';
import { bindingsThrough } from '../binding';

/** What the steps share: the plan's lines, the cluster connection once made, and each vault's role assignments read once. */
export interface RemoveState {
  plan: RemovePlan;
  kube?: Promise<KubeTarget>;
  roleAssignments?: Map<string, Promise<RoleAssignmentInfo[]>>;
}

const REMEDY: Partial<Record<RemovalKind, () => string>> = {
  credential: () =>
    l10n.t(
      'You need Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete (for example Managed Identity Contributor).',
    ),
  accessPolicy: () =>
    l10n.t('You need Microsoft.KeyVault/vaults/accessPolicies/write on the vault (for example Key Vault Contributor).'),
  roleAssignment: () =>
    l10n.t(
      'You need Microsoft.Authorization/roleAssignments/delete on the vault (Owner, User Access Administrator or Role Based Access Control Administrator).',
    ),
  annotations: () => l10n.t('Your Kubernetes role does not allow patching serviceaccounts in this namespace.'),
  serviceAccount: () => l10n.t('Your Kubernetes role does not allow deleting serviceaccounts in this namespace.'),
  identity: () =>
    l10n.t(
      'You need Microsoft.ManagedIdentity/userAssignedIdentities/delete (for example Managed Identity Contributor).',
    ),
  rbacSubject: () => l10n.t('Your Kubernetes role does not allow patching clusterrolebindings.'),
  rbacObjects: () => l10n.t('Your Kubernetes role does not allow deleting clusterroles and clusterrolebindings.'),
  identityBinding: () =>
    l10n.t(
      'You need Microsoft.ContainerService/managedClusters/identityBindings/delete on the cluster (for example Azure Kubernetes Service Contributor).',
    ),
  managedCredential: () =>
    l10n.t(
      'You need Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete (for example Managed Identity Contributor).',
    ),
};

/**
 * One step per kind; it acts on each planned line of its kind, reading first, so a line already gone is reported
 * as such and a rerun converges. A failed line fails the step after its other lines ran.
 */
function step<S extends { plan: Pick<RemovePlan, 'removals'> } = RemoveState>(
  kind: RemovalKind,
  priority: number,
  act: (r: Removal, s: S, signal: AbortSignal) => Promise<'removed' | 'alreadyGone'>,
): ExecuteStep<S> {
  return {
    id: kind,
    title: removalTitle(kind),
    priority,
    shouldExecute: (s) => s.plan.removals.some((r) => r.kind === kind && r.decision === 'remove'),
    async execute(s, progress, signal) {
      const lines = s.plan.removals.filter(
        (r) => r.kind === kind && r.decision === 'remove' && r.result !== 'removed' && r.result !== 'alreadyGone',
      );
      const settled = await Promise.allSettled(
        lines.map(async (r) => {
          progress(l10n.t('{0}: {1}…', r.title, r.resource));
          try {
            r.result = await act(r, s, signal);
          } catch (e) {
            r.result = 'failed';
            throw toStepError(`${r.title} ${r.resource}`, e, REMEDY[kind]);
          }
        }),
      );
      const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/**
 * Deletes the planned federated credentials, each read first: one gone, or rewritten for something else since the
 * review, is not ours to delete any more. Remove Binding and Clean Up Credentials run it.
 */
export function credentialRemovalStep(
  deps: Pick<RemoveDeps, 'identities'>,
): ExecuteStep<{ plan: Pick<RemovePlan, 'removals'> }> {
  return step('credential', 1, async (r, _s, signal) => {
    const c = r.credential!;
    const current = (await deps.identities.listCredentials(c.identity, signal)).find(
      (x) => x.name.toLowerCase() === c.name.toLowerCase(),
    );
    if (!current || current.subject !== c.subject || current.issuer !== c.issuer) return 'alreadyGone';
    await deps.identities.deleteCredential(c.identity, c.name, signal);
    return 'removed';
  });
}

/** Credentials, grants and annotations first (they are independent); the ServiceAccount and the identity after them. */
export function removeSteps(deps: RemoveDeps): ExecuteStep<RemoveState>[] {
  const kube = (s: RemoveState) => (s.kube ??= deps.kube(s.plan.target.cluster));
  return [
    credentialRemovalStep(deps),
    step('accessPolicy', 1, async (r, _s, signal) => {
      const a = r.accessPolicy!;
      const vault = await deps.vaults.get(a.vault, signal);
      const policy = vault.accessPolicies.find((p) => p.objectId === a.objectId);
      const present = a.permissions.filter((k) =>
        (policy?.permissions[k] ?? []).some((p) => p.toLowerCase() === 'get'),
      );
      if (!present.length) return 'alreadyGone';
      const permissions = Object.fromEntries(present.map((k) => [k, ['get']])) as Partial<Record<Permission, string[]>>;
      await deps.vaults.removeAccessPolicy(
        a.vault,
        { tenantId: policy!.tenantId, objectId: a.objectId, permissions },
        signal,
      );
      return 'removed';
    }),
    step('roleAssignment', 1, async (r, s, signal) => {
      const ra = r.roleAssignment!;
      const read = (s.roleAssignments ??= new Map<string, Promise<RoleAssignmentInfo[]>>());
      const key = ra.vault.id.toLowerCase();
      if (!read.has(key))
        read.set(
          key,
          deps.vaults.roleAssignmentsFor(ra.vault.id, ra.subscriptionId, s.plan.identity!.principalId, signal),
        );
      const current = await read.get(key)!;
      if (!current.some((x) => x.id.toLowerCase() === ra.id.toLowerCase())) return 'alreadyGone';
      await deps.vaults.deleteRoleAssignment(ra.id, ra.subscriptionId, signal);
      return 'removed';
    }),
    step('annotations', 1, async (r, s) => {
      const { namespace, serviceAccount } = s.plan.target;
      const k = await kube(s);
      const sa = await k.getServiceAccount(namespace, serviceAccount);
      const ownedByUs = (key: string) => (sa?.fieldManagers[`annotations/${key}`] ?? []).includes(FIELD_MANAGER);
      if (!sa || !r.annotations!.some(ownedByUs)) return 'alreadyGone';
      // Re-apply what else this manager set, without the workload identity annotations: only those are released.
      const keep = Object.fromEntries(
        Object.entries(sa.annotations).filter(([key]) => ownedByUs(key) && !r.annotations!.includes(key)),
      );
      await k.releaseServiceAccountFields(namespace, serviceAccount, keep);
      return 'removed';
    }),
    step('serviceAccount', 2, async (_r, s) => {
      const { namespace, serviceAccount } = s.plan.target;
      const k = await kube(s);
      const sa = await k.getServiceAccount(namespace, serviceAccount);
      if (!sa) return 'alreadyGone';
      const others = otherManagers(sa.fieldManagers);
      if (others.length)
        throw new StepError(
          removalTitle('serviceAccount'),
          'ManagedByOthers',
          l10n.t('{0}/{1} is now also managed by {2}; it was kept.', namespace, serviceAccount, others.join(', ')),
        );
      await k.deleteServiceAccount(namespace, serviceAccount);
      return 'removed';
    }),
    step('rbacSubject', 1, async (r, s) => {
      const { namespace, serviceAccount } = s.plan.target;
      const sa = { namespace, name: serviceAccount };
      const k = await kube(s);
      const b = (await k.listClusterRbac()).bindings.find((x) => x.metadata.name === r.rbac!.name);
      const left = withoutServiceAccount(b?.subjects, sa);
      if (!b || left.length === (b.subjects ?? []).length) return 'alreadyGone';
      // The subjects as read just now, without this ServiceAccount: others' stay.
      await k.applyClusterRbac({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: b.metadata.name },
        roleRef: b.roleRef,
        subjects: left,
      });
      return 'removed';
    }),
    step('rbacObjects', 2, async (r, s) => {
      const k = await kube(s);
      const { roles, bindings } = await k.listClusterRbac();
      const b = bindings.find((x) => x.metadata.name === r.rbac!.name);
      const role = roles.find((x) => x.metadata.name === r.rbac!.name);
      if (!b && !role) return 'alreadyGone';
      const others = [...(b?.metadata.managers ?? []), ...(role?.metadata.managers ?? [])].filter(
        (m) => m !== FIELD_MANAGER,
      );
      if ((b?.subjects ?? []).length || others.length)
        throw new StepError(
          removalTitle('rbacObjects'),
          'RbacStillUsed',
          l10n.t('{0} now has other subjects or managers ({1}); it was kept.', r.rbac!.name, others.join(', ') || '—'),
        );
      if (b) await k.deleteClusterRbac('ClusterRoleBinding', r.rbac!.name);
      if (role) await k.deleteClusterRbac('ClusterRole', r.rbac!.name);
      return 'removed';
    }),
    step('identityBinding', 2, async (r, s, signal) => {
      const { cluster, name } = r.identityBinding!;
      const identity = s.plan.identity!;
      const found = (await deps.identityBindings.list(cluster, signal)).find((b) => b.name === name);
      if (!found) return 'alreadyGone';
      // Read again: a ServiceAccount given the identity since the review keeps the binding.
      const rbac = await (await kube(s)).listClusterRbac();
      const { namespace, serviceAccount } = s.plan.target;
      const users = bindingsThrough(found, identity, rbac).filter(
        (b) => !(b.namespace === namespace && b.serviceAccount === serviceAccount),
      );
      if (users.length)
        throw new StepError(
          removalTitle('identityBinding'),
          'IdentityBindingStillUsed',
          l10n.t(
            '{0} is now used by {1}; it was kept.',
            name,
            users.map((b) => `${b.namespace}/${b.serviceAccount}`).join(', '),
          ),
        );
      await deps.identityBindings.delete(cluster, name, signal);
      return 'removed';
    }),
    step('managedCredential', 3, async (r, s, signal) => {
      const c = r.credential!;
      // After the binding's own delete: AKS may still be taking the binding away.
      const current = (await deps.identities.listCredentials(c.identity, signal)).find((x) => x.name === c.name);
      if (!current) return 'alreadyGone';
      await deps.identities.deleteCredential(c.identity, c.name, signal);
      return 'removed';
    }),
    step('identity', 2, async (_r, s, signal) => {
      const identity = s.plan.identity!;
      const current = await deps.identities.find(identity, signal);
      if (!current) return 'alreadyGone';
      if (current.tags?.[CREATED_BY_TAG.name] !== CREATED_BY_TAG.value)
        throw new StepError(
          removalTitle('identity'),
          'NotCreatedByExtension',
          l10n.t('{0} was not created by this extension; it was kept.', identity.name),
        );
      const [credentials, roles] = await Promise.all([
        deps.identities.listCredentials(identity, signal),
        deps.vaults.roleAssignmentsFor(
          `/subscriptions/${identity.subscriptionId}`,
          identity.subscriptionId,
          identity.principalId,
          signal,
        ),
      ]);
      if (credentials.length || roles.length) {
        throw new StepError(
          removalTitle('identity'),
          'IdentityStillUsed',
          l10n.t(
            '{0} still has {1}; it was kept.',
            identity.name,
            [
              ...credentials.map((c) => l10n.t('credential {0}', c.name)),
              ...roles.map((x) => l10n.t('role assignment {0}', x.name)),
            ].join(', '),
          ),
          l10n.t('Remove the other bindings first, or keep the identity.'),
        );
      }
      await deps.identities.delete(identity, signal);
      return 'removed';
    }),
  ];
}
