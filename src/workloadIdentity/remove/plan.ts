import { CREATED_BY_TAG, CredentialInfo } from '../../azure/identities';
import type { RoleAssignmentInfo } from '../../azure/vaults';
import { FIELD_MANAGER } from '../../kube/fieldManager';
import { USE_LABEL } from '../manifest';
import { ALL_PERMISSIONS, Permission, ROLE_FOR, keyVaultRole } from '../permissions';
import { roleAssignmentName, sameIgnoringTrailingSlash, serviceAccountSubject } from '../names';
import { observe } from '../verify/observe';
import type { VerifyFacts } from '../verify/model';
import { REMOVAL_TITLES, Removal, RemovalKind, RemoveChoices, RemoveDeps, RemovePlan, RemoveTarget } from './model';

/** What Remove plans from: Verify's observation, plus every role assignment of the identity in its subscription. */
export interface RemoveFacts {
  verify: VerifyFacts;
  identityRoles: RoleAssignmentInfo[] | { error: string };
}

const WORKLOAD_IDENTITY_ANNOTATION = /^azure\.workload\.identity\//;

/** Reads everything once; choosing what to keep then re-plans without reading again. */
export async function observeRemoval(target: RemoveTarget, deps: RemoveDeps, signal?: AbortSignal): Promise<RemoveFacts> {
  const verify = await observe(target, deps, signal);
  const identity = verify.identity.ok ? verify.identity.value.identity : undefined;
  let identityRoles: RemoveFacts['identityRoles'] = [];
  if (identity) {
    try {
      identityRoles = await deps.vaults.roleAssignmentsFor(`/subscriptions/${identity.subscriptionId}`, identity.subscriptionId, identity.principalId, signal);
    } catch (e) { identityRoles = { error: String((e as Error).message ?? e) }; }
  }
  return { verify, identityRoles };
}

/** Bind's role assignments carry deterministic names; one with another name was made by someone else. */
const isBindsRole = (vaultId: string, principalId: string, ra: RoleAssignmentInfo) => ra.scope.toLowerCase() === vaultId.toLowerCase()
  && ALL_PERMISSIONS.some((p) => ra.roleDefinitionId.toLowerCase().endsWith(ROLE_FOR[p].guid) && ra.name.toLowerCase() === roleAssignmentName(vaultId, ROLE_FOR[p].guid, principalId));

/**
 * The review: each removal with its exact resource, marked remove, keep or not ours. Pure: the same facts and
 * choices give the same plan.
 */
export function planRemoval(facts: RemoveFacts, choices: RemoveChoices): RemovePlan {
  const f = facts.verify, target = f.target;
  const subject = serviceAccountSubject(target.namespace, target.serviceAccount);
  const unreadable = [
    ...(!f.cluster.ok ? [`the cluster: ${f.cluster.error}`] : []),
    ...(!f.serviceAccount.ok ? [`the ServiceAccount: ${f.serviceAccount.error}`] : []),
    ...(!f.identity.ok ? [`the identity: ${f.identity.error}`] : []),
    ...(!f.credentials.ok ? [`the federated credentials: ${f.credentials.error}`] : []),
    ...(!f.vaults.ok ? [`the vault grants: ${f.vaults.error}`] : []),
    ...('error' in facts.identityRoles ? [`the identity's role assignments: ${facts.identityRoles.error}`] : []),
  ];
  const identity = f.identity.ok ? f.identity.value.identity : undefined;
  const issuer = f.cluster.ok ? f.cluster.value.issuerUrl : undefined;
  const sa = f.serviceAccount.ok ? f.serviceAccount.value : undefined;
  const removals: Removal[] = [];
  const add = (kind: RemovalKind, key: string, resource: string, decision: Removal['decision'], detail: string, extra: Partial<Removal> = {}) =>
    removals.push({ key: `${kind}:${key}`, kind, title: REMOVAL_TITLES[kind], resource, decision, detail, ...extra });

  // Credentials: this ServiceAccount's on this cluster's issuer (a pasted issuer without its slash counts); others stay.
  const credentials: CredentialInfo[] = f.credentials.ok ? f.credentials.value : [];
  const ours = (c: CredentialInfo) => c.subject === subject && !!issuer && sameIgnoringTrailingSlash(c.issuer, issuer);
  for (const c of credentials) {
    if (ours(c)) add('credential', c.name, `${c.name} on ${identity!.name}`, 'remove', `${c.subject} from ${c.issuer}`, { credential: { identity: identity!, name: c.name, issuer: c.issuer, subject: c.subject } });
    else add('credential', c.name, `${c.name} on ${identity!.name}`, 'notOurs', `${c.subject === subject ? 'another cluster' : 'another ServiceAccount'}: ${c.subject} from ${c.issuer}`);
  }
  const othersUseIdentity = credentials.filter((c) => !ours(c));

  // Grants: only while no other credential of the identity needs them.
  for (const g of f.vaults.ok ? f.vaults.value : []) {
    const vault = g.vault;
    const policy = vault.accessPolicies.find((p) => p.objectId === identity?.principalId);
    if (policy && identity) {
      const kinds = ALL_PERMISSIONS.filter((k) => (policy.permissions[k] ?? []).some((p) => p.toLowerCase() === 'get'));
      const rest = Object.entries(policy.permissions).flatMap(([k, ps]) => (ps ?? []).filter((p) => !(kinds.includes(k as Permission) && p.toLowerCase() === 'get')).map((p) => `${k}/${p}`));
      const restNote = rest.length ? `; its other permissions stay (${rest.join(', ')})` : '';
      if (kinds.length && vault.rbac) add('accessPolicy', vault.id, vault.name, 'notOurs', `get on ${kinds.join(', ')}: not made by Bind; the vault uses Azure RBAC, which ignores access policies and refuses changes to them`);
      else if (kinds.length && othersUseIdentity.length) add('accessPolicy', vault.id, vault.name, 'keep', `get on ${kinds.join(', ')}: the identity still serves ${othersUseIdentity.map((c) => c.subject).join(', ')}${restNote}`);
      else if (kinds.length) add('accessPolicy', vault.id, vault.name, 'remove', `get on ${kinds.join(', ')} for ${identity.name}${restNote}`,
        { accessPolicy: { vault, tenantId: policy.tenantId, objectId: policy.objectId, permissions: kinds } });
      else add('accessPolicy', vault.id, vault.name, 'notOurs', `${rest.join(', ')}: not a get that Bind grants`);
    }
    for (const ra of g.roles) {
      const role = keyVaultRole(ra.roleDefinitionId)?.name ?? ra.roleDefinitionId.split('/').pop();
      const resource = `${role} on ${vault.name} (${ra.name})`;
      if (!identity || !isBindsRole(vault.id, identity.principalId, ra)) add('roleAssignment', ra.id, resource, 'notOurs', ra.scope.toLowerCase() === vault.id.toLowerCase() ? 'assigned under another name: not made by Bind' : `assigned at ${ra.scope}`);
      else if (othersUseIdentity.length) add('roleAssignment', ra.id, resource, 'keep', `the identity still serves ${othersUseIdentity.map((c) => c.subject).join(', ')}`);
      else add('roleAssignment', ra.id, resource, 'remove', `made by Bind for ${identity.name}`, { roleAssignment: { id: ra.id, subscriptionId: vault.subscriptionId, vault } });
    }
  }

  // Annotations: released through server-side apply; those another manager also set stay.
  const saName = `${target.namespace}/${target.serviceAccount}`;
  if (sa) {
    const keys = Object.keys(sa.annotations).filter((k) => WORKLOAD_IDENTITY_ANNOTATION.test(k));
    const managers = (k: string) => sa.fieldManagers[`annotations/${k}`] ?? [];
    const mine = keys.filter((k) => managers(k).includes(FIELD_MANAGER) && managers(k).length === 1);
    const theirs = keys.filter((k) => !mine.includes(k));
    if (mine.length) add('annotations', saName, `${saName}: ${mine.join(', ')}`, 'remove', 'released by server-side apply as aks-workload-identity; other labels and annotations stay', { annotations: mine });
    for (const k of theirs) add('annotations', `${saName}:${k}`, `${saName}: ${k}`, 'notOurs', `set by ${managers(k).filter((m) => m !== FIELD_MANAGER).join(', ') || 'someone else'}: change it where it is managed`);
  }

  // The ServiceAccount: only when asked, and only when no one else has fields on it.
  const otherManagers = sa ? [...new Set(Object.values(sa.fieldManagers).flat())].filter((m) => m !== FIELD_MANAGER) : [];
  const serviceAccountKept = !sa ? undefined : otherManagers.length ? `also managed by ${otherManagers.join(', ')}` : undefined;
  if (sa) {
    if (serviceAccountKept) add('serviceAccount', saName, saName, 'notOurs', serviceAccountKept);
    else add('serviceAccount', saName, saName, choices.deleteServiceAccount ? 'remove' : 'keep', choices.deleteServiceAccount ? 'deleted' : 'kept (you can choose to delete it)');
  }

  // The identity: only one the extension created, with nothing else left on it, and only when asked.
  let identityKept: string | undefined;
  if (identity) {
    const otherRoles = Array.isArray(facts.identityRoles)
      ? facts.identityRoles.filter((ra) => !removals.some((r) => r.decision === 'remove' && r.roleAssignment?.id.toLowerCase() === ra.id.toLowerCase()))
      : [];
    if (identity.tags?.[CREATED_BY_TAG.name] !== CREATED_BY_TAG.value) identityKept = 'not created by this extension';
    else if (othersUseIdentity.length) identityKept = `it has other federated credentials (${othersUseIdentity.map((c) => c.name).join(', ')})`;
    else if (otherRoles.length) identityKept = `it has other role assignments (${otherRoles.map((r) => `${keyVaultRole(r.roleDefinitionId)?.name ?? r.roleDefinitionId.split('/').pop()} at ${r.scope}`).join(', ')})`;
    else if (!Array.isArray(facts.identityRoles)) identityKept = 'its role assignments could not be read';
    if (identityKept) add('identity', identity.id, identity.name, identityKept === 'not created by this extension' ? 'notOurs' : 'keep', identityKept);
    else add('identity', identity.id, identity.name, choices.deleteIdentity ? 'remove' : 'keep', choices.deleteIdentity ? 'deleted' : 'kept (you can choose to delete it)');
  }

  const pods = f.pods.ok ? f.pods.value : [];
  const affectedPods = pods.filter((p) => p.serviceAccount === target.serviceAccount && p.labels[USE_LABEL] === 'true');
  return { target, identity, removals, affectedPods, identityKept: identity ? identityKept : 'no identity found', serviceAccountKept: sa ? serviceAccountKept : 'the ServiceAccount does not exist', unreadable };
}

export const removalCount = (plan: RemovePlan) => plan.removals.filter((r) => r.decision === 'remove').length;
