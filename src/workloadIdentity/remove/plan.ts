import { bindingsThrough, credentialMatch } from '../binding';
import type { IdentityInfo } from '../../azure/identities';
import { identityBindingOf } from '../verify/checks';
import { mayUseIdentity, rbacObjectName, withoutServiceAccount } from '../identityBindingAccess';
import { IDENTITY_BINDING_CREDENTIAL } from '../../azure/identityBindings';
import * as l10n from '@vscode/l10n';
import { CREATED_BY_TAG, CredentialInfo } from '../../azure/identities';
import type { RoleAssignmentInfo } from '../../azure/vaults';
import { FIELD_MANAGER, otherManagers } from '../../kube/fieldManager';
import { USE_LABEL } from '../manifest';
import { ALL_PERMISSIONS, Permission, ROLE_FOR, keyVaultRole } from '../../azure/keyVaultRoles';
import { roleAssignmentName, sameIgnoringTrailingSlash, serviceAccountSubject } from '../names';
import { observe } from '../verify/observe';
import type { VerifyFacts } from '../verify/model';
import { removalTitle, Removal, RemovalKind, RemoveChoices, RemoveDeps, RemovePlan } from './model';
import { errorMessage } from '../../errors';
import { identityBindingReach } from '../identityBindingReach';
import type { Binding } from '../binding';

/** What Remove plans from: Verify's observation, plus every role assignment of the identity in its subscription. */
export interface RemoveFacts {
  verify: VerifyFacts;
  identityRoles: RoleAssignmentInfo[] | { error: string };
  /** Identity-binding mode: the other clusters you can see where the identity has an identity binding. */
  boundElsewhere?: string[] | { error: string };
}

const WORKLOAD_IDENTITY_ANNOTATION = /^azure\.workload\.identity\//;

/** Reads everything once; choosing what to keep then re-plans without reading again. */
export async function observeRemoval(target: Binding, deps: RemoveDeps, signal?: AbortSignal): Promise<RemoveFacts> {
  const verify = await observe(target, deps, signal);
  const identity = verify.identity.ok ? verify.identity.value.identity : undefined;
  let identityRoles: RemoveFacts['identityRoles'] = [];
  if (identity) {
    try {
      identityRoles = await deps.vaults.roleAssignmentsFor(
        `/subscriptions/${identity.subscriptionId}`,
        identity.subscriptionId,
        identity.principalId,
        signal,
      );
    } catch (e) {
      identityRoles = { error: errorMessage(e) };
    }
  }
  // The identity's last binding anywhere takes AKS's credential with it only if asked: read where else it is bound.
  let boundElsewhere: RemoveFacts['boundElsewhere'];
  if (identity && identityBindingOf(verify, identity.id)) {
    try {
      const others = (await deps.inventory.clusters()).filter(
        (c) => c.id.toLowerCase() !== target.cluster.id.toLowerCase(),
      );
      const reach = await identityBindingReach(identity.id, others, (c, s) => deps.identityBindings.list(c, s), signal);
      // A cluster not read may use AKS's credential: then where else it is bound is not known.
      boundElsewhere = reach.unreadable.length
        ? { error: reach.unreadable.map((u) => `${u.cluster.name}: ${u.error}`).join('; ') }
        : reach.served.map((s) => s.cluster.name);
    } catch (e) {
      boundElsewhere = { error: errorMessage(e) };
    }
  }
  return { verify, identityRoles, ...(boundElsewhere ? { boundElsewhere } : {}) };
}

/** Bind's role assignments carry deterministic names; one with another name was made by someone else. */
const isBindsRole = (vaultId: string, principalId: string, ra: RoleAssignmentInfo) =>
  ra.scope.toLowerCase() === vaultId.toLowerCase() &&
  ALL_PERMISSIONS.some(
    (p) =>
      ra.roleDefinitionId.toLowerCase().endsWith(ROLE_FOR[p].guid) &&
      ra.name.toLowerCase() === roleAssignmentName(vaultId, ROLE_FOR[p].guid, principalId),
  );

/**
 * The review: each removal with its exact resource, marked remove, keep or not ours. Pure: the same facts and
 * choices give the same plan.
 */
export function planRemoval(facts: RemoveFacts, choices: RemoveChoices): RemovePlan {
  const f = facts.verify,
    target = f.target;
  const subject = serviceAccountSubject(target.namespace, target.serviceAccount);
  const unreadable = [
    ...(!f.cluster.ok ? [l10n.t('the cluster: {0}', f.cluster.error)] : []),
    ...(!f.serviceAccount.ok ? [l10n.t('the ServiceAccount: {0}', f.serviceAccount.error)] : []),
    ...(!f.identity.ok ? [l10n.t('the identity: {0}', f.identity.error)] : []),
    ...(!f.credentials.ok ? [l10n.t('the federated credentials: {0}', f.credentials.error)] : []),
    ...(!f.vaults.ok ? [l10n.t('the vault grants: {0}', f.vaults.error)] : []),
    ...(!f.identityBindings.ok ? [l10n.t('the identity bindings: {0}', f.identityBindings.error)] : []),
    ...(f.rbac && !f.rbac.ok ? [l10n.t('the ClusterRoleBindings: {0}', f.rbac.error)] : []),
    ...('error' in facts.identityRoles
      ? [l10n.t("the identity's role assignments: {0}", facts.identityRoles.error)]
      : []),
  ];
  const identity = f.identity.ok ? f.identity.value.identity : undefined;
  const issuer = f.cluster.ok ? f.cluster.value.issuerUrl : undefined;
  const sa = f.serviceAccount.ok ? f.serviceAccount.value : undefined;
  const removals: Removal[] = [];
  const add = (
    kind: RemovalKind,
    key: string,
    resource: string,
    decision: Removal['decision'],
    detail: string,
    extra: Partial<Removal> = {},
  ) => removals.push({ key: `${kind}:${key}`, kind, title: removalTitle(kind), resource, decision, detail, ...extra });

  // Credentials: this ServiceAccount's on this cluster's issuer (a pasted issuer without its slash counts); others stay.
  const credentials: CredentialInfo[] = f.credentials.ok ? f.credentials.value : [];
  const ours = (c: CredentialInfo) => c.subject === subject && !!issuer && sameIgnoringTrailingSlash(c.issuer, issuer);
  const managedLine = !!facts.boundElsewhere;
  for (const c of credentials) {
    if (managedLine && c.name === IDENTITY_BINDING_CREDENTIAL) continue;
    if (ours(c))
      add(
        'credential',
        c.name,
        l10n.t('{0} on {1}', c.name, identity!.name),
        'remove',
        l10n.t('{0} from {1}', subject, c.issuer),
        { credential: { identity: identity!, name: c.name, issuer: c.issuer, subject } },
      );
    else
      add(
        'credential',
        c.name,
        l10n.t('{0} on {1}', c.name, identity!.name),
        'notOurs',
        l10n.t(
          '{0}: {1} from {2}',
          c.name === IDENTITY_BINDING_CREDENTIAL
            ? l10n.t("AKS's credential for identity bindings")
            : c.subject === undefined
              ? l10n.t('another tool')
              : c.subject === subject
                ? l10n.t('another cluster')
                : l10n.t('another ServiceAccount'),
          credentialMatch(c),
          c.issuer,
        ),
      );
  }
  const othersUseIdentity = credentials.filter((c) => !ours(c));
  const servedBy = (c: CredentialInfo) =>
    c.name === IDENTITY_BINDING_CREDENTIAL ? l10n.t('its identity bindings') : (c.subject ?? credentialMatch(c));

  // Grants: only while no other credential of the identity needs them.
  for (const g of f.vaults.ok ? f.vaults.value : []) {
    const vault = g.vault;
    const policy = vault.accessPolicies.find((p) => p.objectId === identity?.principalId);
    if (policy && identity) {
      const kinds = ALL_PERMISSIONS.filter((k) => (policy.permissions[k] ?? []).some((p) => p.toLowerCase() === 'get'));
      // Partial: a policy may leave a kind out, and Object.entries' type does not say so.
      const rest = Object.entries(policy.permissions).flatMap(([k, ps = []]) =>
        ps.filter((p) => !(kinds.includes(k as Permission) && p.toLowerCase() === 'get')).map((p) => `${k}/${p}`),
      );
      const restNote = rest.length ? l10n.t('; its other permissions stay ({0})', rest.join(', ')) : '';
      if (kinds.length && vault.rbac)
        add(
          'accessPolicy',
          vault.id,
          vault.name,
          'notOurs',
          l10n.t(
            'get on {0}: not made by Bind; the vault uses Azure RBAC, which ignores access policies and refuses changes to them',
            kinds.join(', '),
          ),
        );
      else if (kinds.length && othersUseIdentity.length)
        add(
          'accessPolicy',
          vault.id,
          vault.name,
          'keep',
          l10n.t(
            'get on {0}: the identity still serves {1}{2}',
            kinds.join(', '),
            othersUseIdentity.map(servedBy).join(', '),
            restNote,
          ),
        );
      else if (kinds.length)
        add(
          'accessPolicy',
          vault.id,
          vault.name,
          'remove',
          l10n.t('get on {0} for {1}{2}', kinds.join(', '), identity.name, restNote),
          { accessPolicy: { vault, tenantId: policy.tenantId, objectId: policy.objectId, permissions: kinds } },
        );
      else add('accessPolicy', vault.id, vault.name, 'notOurs', `${rest.join(', ')}: not a get that Bind grants`);
    }
    for (const ra of g.roles) {
      const role = keyVaultRole(ra.roleDefinitionId)?.name ?? ra.roleDefinitionId.split('/').pop();
      const resource = `${role} on ${vault.name} (${ra.name})`;
      if (!identity || !isBindsRole(vault.id, identity.principalId, ra))
        add(
          'roleAssignment',
          ra.id,
          resource,
          'notOurs',
          ra.scope.toLowerCase() === vault.id.toLowerCase()
            ? l10n.t('assigned under another name: not made by Bind')
            : l10n.t('assigned at {0}', ra.scope),
        );
      else if (othersUseIdentity.length)
        add(
          'roleAssignment',
          ra.id,
          resource,
          'keep',
          l10n.t('the identity still serves {0}', othersUseIdentity.map(servedBy).join(', ')),
        );
      else
        add('roleAssignment', ra.id, resource, 'remove', l10n.t('made by Bind for {0}', identity.name), {
          roleAssignment: { id: ra.id, subscriptionId: vault.subscriptionId, vault },
        });
    }
  }

  // Annotations: released through server-side apply; those another manager also set stay.
  const saName = `${target.namespace}/${target.serviceAccount}`;
  if (sa) {
    const keys = Object.keys(sa.annotations).filter((k) => WORKLOAD_IDENTITY_ANNOTATION.test(k));
    const managers = (k: string) => sa.fieldManagers[`annotations/${k}`] ?? [];
    const mine = keys.filter((k) => managers(k).includes(FIELD_MANAGER) && managers(k).length === 1);
    const theirs = keys.filter((k) => !mine.includes(k));
    if (mine.length)
      add(
        'annotations',
        saName,
        `${saName}: ${mine.join(', ')}`,
        'remove',
        l10n.t('released by server-side apply as aks-workload-identity; other labels and annotations stay'),
        { annotations: mine },
      );
    for (const k of theirs)
      add(
        'annotations',
        `${saName}:${k}`,
        `${saName}: ${k}`,
        'notOurs',
        l10n.t(
          'set by {0}: change it where it is managed',
          managers(k)
            .filter((m) => m !== FIELD_MANAGER)
            .join(', ') || l10n.t('someone else'),
        ),
      );
  }

  // The ServiceAccount: only when asked, and only when no one else has fields on it.
  const others = sa ? otherManagers(sa.fieldManagers) : [];
  const serviceAccountKept = others.length ? l10n.t('also managed by {0}', others.join(', ')) : undefined;
  if (sa) {
    if (serviceAccountKept) add('serviceAccount', saName, saName, 'notOurs', serviceAccountKept);
    else
      add(
        'serviceAccount',
        saName,
        saName,
        choices.deleteServiceAccount ? 'remove' : 'keep',
        choices.deleteServiceAccount ? l10n.t('deleted') : l10n.t('kept (you can choose to delete it)'),
      );
  }

  // The identity: only one the extension created, with nothing else left on it, and only when asked.
  let identityKept: string | undefined;
  if (identity) {
    const otherRoles = Array.isArray(facts.identityRoles)
      ? facts.identityRoles.filter(
          (ra) =>
            !removals.some(
              (r) => r.decision === 'remove' && r.roleAssignment?.id.toLowerCase() === ra.id.toLowerCase(),
            ),
        )
      : [];
    const notOurs = identity.tags?.[CREATED_BY_TAG.name] !== CREATED_BY_TAG.value;
    if (notOurs) identityKept = l10n.t('not created by this extension');
    else if (othersUseIdentity.length)
      identityKept = l10n.t(
        'it has other federated credentials ({0})',
        othersUseIdentity.map((c) => c.name).join(', '),
      );
    else if (otherRoles.length)
      identityKept = l10n.t(
        'it has other role assignments ({0})',
        otherRoles
          .map((r) =>
            l10n.t(
              '{0} at {1}',
              keyVaultRole(r.roleDefinitionId)?.name ?? r.roleDefinitionId.split('/').pop()!,
              r.scope,
            ),
          )
          .join(', '),
      );
    else if (!Array.isArray(facts.identityRoles)) identityKept = l10n.t('its role assignments could not be read');
    if (identityKept) add('identity', identity.id, identity.name, notOurs ? 'notOurs' : 'keep', identityKept);
    else
      add(
        'identity',
        identity.id,
        identity.name,
        choices.deleteIdentity ? 'remove' : 'keep',
        choices.deleteIdentity ? l10n.t('deleted') : l10n.t('kept (you can choose to delete it)'),
      );
  }

  let managedCredentialOffered = false;
  if (identity) {
    const bindingGoes = planIdentityBindingRemoval(f, identity, add);
    const managed = credentials.find((c) => c.name === IDENTITY_BINDING_CREDENTIAL);
    if (managed && facts.boundElsewhere) {
      const elsewhere = Array.isArray(facts.boundElsewhere) ? facts.boundElsewhere : undefined;
      managedCredentialOffered = bindingGoes && !!elsewhere && !elsewhere.length;
      add(
        'managedCredential',
        managed.name,
        l10n.t('{0} on {1}', managed.name, identity.name),
        managedCredentialOffered && choices.deleteManagedCredential ? 'remove' : 'keep',
        !elsewhere
          ? l10n.t('kept: where else the identity is bound could not be read')
          : elsewhere.length
            ? l10n.t("kept: the identity's bindings on {0} use it", elsewhere.join(', '))
            : !bindingGoes
              ? l10n.t('kept: the identity binding on this cluster stays')
              : choices.deleteManagedCredential
                ? l10n.t('deleted: no identity binding of the identity is left on a cluster you can see')
                : l10n.t(
                    'kept (AKS does not delete it; you can choose to, as no identity binding of the identity is left)',
                  ),
        { credential: { identity, name: managed.name, issuer: managed.issuer, subject: managed.subject ?? '' } },
      );
    }
  }

  const pods = f.pods.ok ? f.pods.value : [];
  const affectedPods = pods.filter((p) => p.serviceAccount === target.serviceAccount && p.labels[USE_LABEL] === 'true');
  return {
    target,
    identity,
    removals,
    affectedPods,
    managedCredentialOffered,
    identityKept: identity ? identityKept : l10n.t('no identity found'),
    serviceAccountKept: sa ? serviceAccountKept : l10n.t('the ServiceAccount does not exist'),
    unreadable,
  };
}

export const removalCount = (plan: RemovePlan) => plan.removals.filter((r) => r.decision === 'remove').length;

/**
 * Identity-binding mode: the ServiceAccount leaves the ClusterRoleBinding's subjects (the others stay); the RBAC
 * objects go when no subject is left and only this extension manages them; the identity binding goes when no other
 * ServiceAccount on the cluster may use the identity. A grant that is not ours (a group, another binding) is named.
 */
function planIdentityBindingRemoval(
  f: VerifyFacts,
  identity: IdentityInfo,
  add: (
    kind: RemovalKind,
    key: string,
    resource: string,
    decision: Removal['decision'],
    detail: string,
    extra?: Partial<Removal>,
  ) => void,
) {
  const binding = identityBindingOf(f, identity.id);
  if (!binding || !f.rbac?.ok) return false;
  const { roles, bindings } = f.rbac.value;
  const t = f.target;
  const sa = { namespace: t.namespace, name: t.serviceAccount };
  const name = rbacObjectName(identity.clientId);
  const ours = bindings.find((b) => b.metadata.name === name);
  const inOurs =
    !!ours &&
    (ours.subjects ?? []).some(
      (s) => s.kind === 'ServiceAccount' && s.namespace === sa.namespace && s.name === sa.name,
    );
  const left = ours ? withoutServiceAccount(ours.subjects, sa) : [];
  const rbac = { name, clientId: identity.clientId };
  if (inOurs)
    add(
      'rbacSubject',
      name,
      l10n.t('{0}/{1} in {2}', sa.namespace, sa.name, name),
      'remove',
      left.length
        ? l10n.t(
            'taken out of the subjects; the others stay: {0}',
            left.map((s) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`).join(', '),
          )
        : l10n.t('taken out of the subjects; none is left'),
      { rbac },
    );
  // What else lets the ServiceAccount use the identity once it is out of ours: not ours to change.
  const after = bindings.map((b) => (b === ours ? { ...b, subjects: left } : b));
  const still = mayUseIdentity(roles, after, sa, identity.clientId);
  if (still.allowed)
    add(
      'rbacSubject',
      `${name}:other`,
      still.via,
      'notOurs',
      l10n.t('also lets {0}/{1} use the identity: change it where it is managed', sa.namespace, sa.name),
    );
  const onlyOurs = (o?: { metadata: { managers?: string[] } }) =>
    !!o && (o.metadata.managers ?? []).every((m) => m === FIELD_MANAGER);
  const role = roles.find((r) => r.metadata.name === name);
  if (ours && !left.length)
    add(
      'rbacObjects',
      name,
      name,
      onlyOurs(ours) && (!role || onlyOurs(role)) ? 'remove' : 'notOurs',
      onlyOurs(ours) && (!role || onlyOurs(role))
        ? l10n.t('deleted: no subject is left, and only this extension manages them')
        : l10n.t('no subject is left, but others manage them too: they stay'),
      { rbac },
    );
  // Other ServiceAccounts the identity binding still serves on this cluster.
  const others = bindingsThrough(binding, identity, { roles, bindings: after }).filter(
    (b) => !(b.namespace === sa.namespace && b.serviceAccount === sa.name),
  );
  const groups = after.some(
    (b) =>
      (b.subjects ?? []).some((s) => s.kind !== 'ServiceAccount') &&
      mayUseIdentity(roles, [b], { namespace: '*', name: '*' }, identity.clientId).allowed,
  );
  const goes = !(others.length || groups || still.allowed);
  add(
    'identityBinding',
    binding.id,
    l10n.t('{0} on {1}', binding.name, t.cluster.name),
    goes ? 'remove' : 'keep',
    others.length
      ? l10n.t('still used by {0}', others.map((b) => `${b.namespace}/${b.serviceAccount}`).join(', '))
      : groups || still.allowed
        ? l10n.t('a group of ServiceAccounts may still use it')
        : l10n.t('no other ServiceAccount on {0} uses it; AKS keeps its credential on the identity', t.cluster.name),
    { identityBinding: { cluster: t.cluster, name: binding.name } },
  );
  return goes;
}
