/**
 * rbac.authorization.k8s.io/v1 ClusterRoles and ClusterRoleBindings, as far as identity bindings use them: server-side
 * apply with field ownership (rules, subjects and roleRef are atomic lists and maps, owned whole), get, list, delete.
 * A binding's roleRef cannot change, as the API server says.
 */
import { HttpError, type Reply, type RequestContext, type Route } from './http';
import { clone, kubeMeta, kubeStatus, nextResourceVersion, type KubeObject, type KubeState } from './model';

export const RBAC = 'rbac.authorization.k8s.io/v1';
const KINDS = {
  clusterroles: { kind: 'ClusterRole', fields: ['rules', 'aggregationRule'] },
  clusterrolebindings: { kind: 'ClusterRoleBinding', fields: ['subjects', 'roleRef'] },
} as const;
export type RbacPlural = keyof typeof KINDS;

const fail = (code: number, reason: string, message: string, details?: object): never => {
  throw new HttpError(code, kubeStatus(code, reason, message, details));
};

const storeOf = (kube: KubeState, plural: RbacPlural) =>
  plural === 'clusterroles' ? kube.clusterRoles : kube.clusterRoleBindings;

/** What a manager owns: whole top-level fields, and single labels and annotations. */
const ownedBy = (entry: any): Set<string> => {
  const f = entry?.fieldsV1 ?? {};
  const meta = f['f:metadata'] ?? {};
  return new Set([
    ...Object.keys(f)
      .filter((k) => k !== 'f:metadata')
      .map((k) => k.slice(2)),
    ...Object.keys(meta['f:labels'] ?? {}).map((k) => `labels.${k.slice(2)}`),
    ...Object.keys(meta['f:annotations'] ?? {}).map((k) => `annotations.${k.slice(2)}`),
  ]);
};
const fieldsFor = (owned: Set<string>) => {
  const out: any = {};
  const meta: any = {};
  for (const o of owned) {
    const [head, ...rest] = o.split('.');
    if (head === 'labels' || head === 'annotations') {
      const key = `f:${head}`;
      (meta[key] ??= {})[`f:${rest.join('.')}`] = {};
    } else out[`f:${o}`] = {};
  }
  if (Object.keys(meta).length) out['f:metadata'] = meta;
  return out;
};
const valueOf = (o: any, field: string) => {
  const [head, ...rest] = field.split('.');
  return head === 'labels' || head === 'annotations' ? o?.metadata?.[head]?.[rest.join('.')] : o?.[head!];
};

function validate(kind: string, obj: any, name: string) {
  if (obj?.kind !== kind) fail(400, 'BadRequest', `the object's kind "${obj?.kind}" does not match the URL's ${kind}`);
  if (obj.apiVersion !== RBAC)
    fail(400, 'BadRequest', `no kind "${kind}" is registered for version "${obj.apiVersion}"`);
  if (obj.metadata?.name !== name) fail(400, 'BadRequest', 'the name of the object does not match the name on the URL');
  if (kind === 'ClusterRoleBinding') {
    const ref = obj.roleRef;
    if (!ref?.name || !ref?.kind || ref.apiGroup !== 'rbac.authorization.k8s.io')
      fail(
        422,
        'Invalid',
        `ClusterRoleBinding.rbac.authorization.k8s.io "${name}" is invalid: roleRef: Required value`,
      );
    for (const [i, s] of (obj.subjects ?? []).entries()) {
      if (!['ServiceAccount', 'User', 'Group'].includes(s?.kind))
        fail(
          422,
          'Invalid',
          `ClusterRoleBinding.rbac.authorization.k8s.io "${name}" is invalid: subjects[${i}].kind: Unsupported value: "${s?.kind}"`,
        );
      if (s.kind === 'ServiceAccount' && !s.namespace)
        fail(
          422,
          'Invalid',
          `ClusterRoleBinding.rbac.authorization.k8s.io "${name}" is invalid: subjects[${i}].namespace: Required value`,
        );
    }
  }
}

/** Server-side apply of a ClusterRole or ClusterRoleBinding: conflicts on fields others own, unless forced. */
export function applyRbac(
  kube: KubeState,
  plural: RbacPlural,
  name: string,
  obj: any,
  manager: string,
  force: boolean,
): { object: KubeObject; created: boolean } {
  const { kind, fields: top } = KINDS[plural];
  validate(kind, obj, name);
  const store = storeOf(kube, plural);
  const existing = store.get(name);
  if (
    existing &&
    kind === 'ClusterRoleBinding' &&
    obj.roleRef &&
    JSON.stringify(existing.roleRef) !== JSON.stringify(obj.roleRef)
  )
    fail(
      422,
      'Invalid',
      `ClusterRoleBinding.rbac.authorization.k8s.io "${name}" is invalid: roleRef: Invalid value: ${JSON.stringify(obj.roleRef)}: cannot change roleRef`,
    );
  const target: KubeObject = existing
    ? clone(existing)
    : ({ apiVersion: RBAC, kind, metadata: kubeMeta(name, undefined, { managedFields: [] }) } as KubeObject);
  const managed = target.metadata.managedFields ?? (target.metadata.managedFields = []);
  const mine = managed.find((f) => f.manager === manager && f.operation === 'Apply');
  const before = ownedBy(mine);
  const wanted = new Set<string>([
    ...top.filter((f) => obj[f] !== undefined),
    ...Object.keys(obj.metadata?.labels ?? {}).map((k) => `labels.${k}`),
    ...Object.keys(obj.metadata?.annotations ?? {}).map((k) => `annotations.${k}`),
  ]);
  const conflicts: string[] = [];
  for (const field of wanted) {
    const same = JSON.stringify(valueOf(target, field)) === JSON.stringify(valueOf(obj, field));
    for (const other of managed) {
      if (other === mine || !ownedBy(other).has(field) || same) continue;
      if (!force)
        conflicts.push(`conflict with "${other.manager}": .${field.includes('.') ? `metadata.${field}` : field}`);
      else {
        const o = ownedBy(other);
        o.delete(field);
        other.fieldsV1 = fieldsFor(o);
      }
    }
  }
  if (conflicts.length)
    fail(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('\n')}`,
    );
  const ownedByOthers = (field: string) => managed.some((f) => f !== mine && ownedBy(f).has(field));
  for (const field of before)
    if (!wanted.has(field) && !ownedByOthers(field)) {
      const [head, ...rest] = field.split('.');
      if (head === 'labels' || head === 'annotations') delete target.metadata[head]?.[rest.join('.')];
      else delete target[head!];
    }
  for (const field of wanted) {
    const [head, ...rest] = field.split('.');
    if (head === 'labels' || head === 'annotations')
      (target.metadata[head] ??= {})[rest.join('.')] = obj.metadata[head][rest.join('.')];
    else target[head!] = clone(obj[head!]);
  }
  const entry = {
    manager,
    operation: 'Apply' as const,
    apiVersion: RBAC,
    time: new Date().toISOString(),
    fieldsType: 'FieldsV1' as const,
    fieldsV1: fieldsFor(wanted),
  };
  if (mine) Object.assign(mine, entry);
  else managed.push(entry);
  if (!existing || JSON.stringify(existing) !== JSON.stringify(target))
    target.metadata.resourceVersion = nextResourceVersion();
  store.set(name, target);
  return { object: target, created: !existing };
}

/** The routes, given how the kube routes parse a request. */
export function rbacRoutes(
  C: string,
  kube: (r: RequestContext) => KubeState,
  applyBody: (r: RequestContext) => { obj: any; manager: string; force: boolean },
): Route[] {
  const ok = (body: unknown, status = 200): Reply => ({ status, body });
  return (Object.keys(KINDS) as RbacPlural[]).flatMap((plural): Route[] => {
    const base = `^${C}/apis/rbac\\.authorization\\.k8s\\.io/v1/${plural}`;
    const { kind } = KINDS[plural];
    const one = (r: RequestContext) => {
      const o = storeOf(kube(r), plural).get(r.params[1]!);
      if (!o)
        fail(404, 'NotFound', `${plural}.rbac.authorization.k8s.io "${r.params[1]}" not found`, {
          name: r.params[1],
          group: 'rbac.authorization.k8s.io',
          kind: plural,
        });
      return o!;
    };
    return [
      {
        method: 'GET',
        pattern: new RegExp(`${base}$`),
        op: `kube.${plural}.list`,
        handle: (r) =>
          ok({
            kind: `${kind}List`,
            apiVersion: RBAC,
            metadata: { resourceVersion: nextResourceVersion() },
            items: [...storeOf(kube(r), plural).values()],
          }),
      },
      { method: 'GET', pattern: new RegExp(`${base}/([^/]+)$`), op: `kube.${plural}.get`, handle: (r) => ok(one(r)) },
      {
        method: 'PATCH',
        pattern: new RegExp(`${base}/([^/]+)$`),
        op: `kube.${plural}.apply`,
        handle: (r) => {
          const { obj, manager, force } = applyBody(r);
          const res = applyRbac(kube(r), plural, r.params[1]!, obj, manager, force);
          return ok(res.object, res.created ? 201 : 200);
        },
      },
      {
        method: 'DELETE',
        pattern: new RegExp(`${base}/([^/]+)$`),
        op: `kube.${plural}.delete`,
        handle: (r) => {
          const o = one(r);
          storeOf(kube(r), plural).delete(r.params[1]!);
          return ok({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Success',
            details: { name: o.metadata.name, group: 'rbac.authorization.k8s.io', kind: plural, uid: o.metadata.uid },
          });
        },
      },
    ];
  });
}

/**
 * Whether RBAC lets a ServiceAccount do `verb` on `resource` in `apiGroup` at the cluster scope, as the API server's
 * authorizer decides: a ClusterRoleBinding naming the ServiceAccount, its user name or one of its groups, whose
 * ClusterRole has a rule covering group, resource and verb (`*` matches any). A rule with resourceNames never
 * matches: the request names no object.
 */
export function serviceAccountMay(
  kube: KubeState,
  namespace: string,
  serviceAccount: string,
  verb: string,
  apiGroup: string,
  resource: string,
): boolean {
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
  const names = (s: any) =>
    (s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace) ||
    (s.kind === 'User' && s.name === user) ||
    (s.kind === 'Group' && groups.includes(s.name));
  const covers = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));
  return [...kube.clusterRoleBindings.values()].some(
    (b: any) =>
      b.roleRef?.kind === 'ClusterRole' &&
      (b.subjects ?? []).some(names) &&
      (kube.clusterRoles.get(b.roleRef.name)?.rules ?? []).some(
        (r: any) =>
          covers(r.apiGroups, apiGroup) &&
          covers(r.verbs, verb) &&
          covers(r.resources, resource) &&
          !r.resourceNames?.length,
      ),
  );
}
