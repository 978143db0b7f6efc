/**
 * Identity bindings' Kubernetes side: which ServiceAccounts may use an identity is Kubernetes RBAC, a ClusterRole with
 * the verb `use-managed-identity` on the resource `<client-id>` of API group `cid.wi.aks.azure.com`, given to
 * subjects by a ClusterRoleBinding. The AKS docs name both objects `use-mi-<client-id>`.
 */

import type { ClusterRoleBindingInfo, ClusterRoleInfo, RbacSubject } from '../kube/access';

export const USE_MANAGED_IDENTITY = 'use-managed-identity';
export const IDENTITY_BINDING_API_GROUP = 'cid.wi.aks.azure.com';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

type ClusterRole = ClusterRoleInfo;
type ClusterRoleBinding = ClusterRoleBindingInfo;
type Subject = RbacSubject;
type PolicyRule = NonNullable<ClusterRole['rules']>[number];

export const rbacObjectName = (clientId: string) => `use-mi-${clientId.toLowerCase()}`;

/** The ClusterRole that lets its subjects use the identity, and nothing else. */
export const useIdentityRole = (clientId: string) => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: 'ClusterRole' as const,
  metadata: { name: rbacObjectName(clientId) },
  rules: [{ apiGroups: [IDENTITY_BINDING_API_GROUP], resources: [clientId], verbs: [USE_MANAGED_IDENTITY] }],
});

const isServiceAccount = (s: Subject, namespace: string, name: string) =>
  s.kind === 'ServiceAccount' && s.namespace === namespace && s.name === name;

/**
 * The ClusterRoleBinding with the ServiceAccount among its subjects: the subjects it has (others' included) and this
 * one, added once. Subjects are an atomic list in server-side apply, so the whole list is sent.
 */
export function useIdentityBinding(
  clientId: string,
  existing: Subject[] | undefined,
  sa: { namespace: string; name: string },
) {
  const subjects = [...(existing ?? [])];
  if (!subjects.some((s) => isServiceAccount(s, sa.namespace, sa.name)))
    subjects.push({ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace });
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding' as const,
    metadata: { name: rbacObjectName(clientId) },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: rbacObjectName(clientId) },
    subjects,
  };
}

/** The subjects without the ServiceAccount: what Remove leaves. */
export const withoutServiceAccount = (subjects: Subject[] | undefined, sa: { namespace: string; name: string }) =>
  (subjects ?? []).filter((s) => !isServiceAccount(s, sa.namespace, sa.name));

const matches = (list: string[] | undefined, value: string) => !!list?.some((x) => x === '*' || x === value);

/** A rule that allows use-managed-identity on this client id (resourceNames, when present, do not name a resource here). */
const allows = (rule: PolicyRule, clientId: string) =>
  matches(rule.verbs, USE_MANAGED_IDENTITY) &&
  matches(rule.apiGroups, IDENTITY_BINDING_API_GROUP) &&
  (matches(rule.resources, clientId) || matches(rule.resources, clientId.toLowerCase()));

/**
 * Whether RBAC lets the ServiceAccount use the identity, as the API server would decide: a ClusterRoleBinding whose
 * role allows the verb on the client id, naming the ServiceAccount itself, its user name, or a group it is in
 * (`system:serviceaccounts`, `system:serviceaccounts:<namespace>`, `system:authenticated`).
 */
export function mayUseIdentity(
  roles: ClusterRole[],
  bindings: ClusterRoleBinding[],
  sa: { namespace: string; name: string },
  clientId: string,
): { allowed: true; via: string } | { allowed: false } {
  const granting = new Set(
    roles.filter((r) => (r.rules ?? []).some((rule) => allows(rule, clientId))).map((r) => r.metadata.name),
  );
  const groups = new Set(['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated']);
  const user = `system:serviceaccount:${sa.namespace}:${sa.name}`;
  for (const b of bindings) {
    if (b.roleRef.kind !== 'ClusterRole' || !granting.has(b.roleRef.name)) continue;
    const hit = (b.subjects ?? []).find(
      (s) =>
        isServiceAccount(s, sa.namespace, sa.name) ||
        (s.kind === 'User' && s.name === user) ||
        (s.kind === 'Group' && groups.has(s.name)),
    );
    if (hit)
      return {
        allowed: true,
        via: `${b.metadata.name} (${hit.kind} ${hit.namespace ? `${hit.namespace}/` : ''}${hit.name})`,
      };
  }
  return { allowed: false };
}
