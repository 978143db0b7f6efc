import { parseAllDocuments } from 'yaml';
import { HttpError, Reply, RequestContext, Route } from './http';
import { RBAC, applyRbac, rbacRoutes, type RbacPlural } from './rbac';
import {
  ClusterRecord,
  KubeObject,
  KubeState,
  SimState,
  clone,
  kubeMeta,
  kubeStatus,
  nextResourceVersion,
} from './model';
import { AKS_SERVER_APP_ID, verifyToken } from './tokens';
import { serviceAccountToken } from './entra';
import { WORKLOADS, advanceRollout, applySecretProviderClass, applyWorkload, storeFor } from './workloads';

const fail = (code: number, reason: string, message: string, details?: object): never => {
  throw new HttpError(code, kubeStatus(code, reason, message, details));
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateName(kind: string, name: unknown) {
  const n = String(name ?? '');
  if (kind === 'Namespace') {
    if (!n || n.length > 63 || !DNS1123_LABEL.test(n)) {
      fail(
        422,
        'Invalid',
        `Namespace "${n}" is invalid: metadata.name: Invalid value: "${n}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        { name: n, kind: 'Namespace' },
      );
    }
  } else if (!n || n.length > 253 || !DNS1123_SUBDOMAIN.test(n)) {
    fail(
      422,
      'Invalid',
      `${kind} "${n}" is invalid: metadata.name: Invalid value: "${n}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      { name: n, kind: kind.toLowerCase() + 's' },
    );
  }
}

function validateMetadataMaps(kind: string, name: string, meta: any) {
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta?.[field];
    if (map === undefined || map === null) continue;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string')
        fail(
          400,
          'BadRequest',
          `${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type string (key ${k})`,
        );
      if (
        field === 'labels' &&
        ((v as string).length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v as string))
      ) {
        fail(
          422,
          'Invalid',
          `${kind} "${name}" is invalid: metadata.labels: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
        );
      }
    }
  }
}

type Owned = { labels: Set<string>; annotations: Set<string> };
const ownedBy = (entry: any): Owned => ({
  labels: new Set(Object.keys(entry?.fieldsV1?.['f:metadata']?.['f:labels'] ?? {}).map((k) => k.slice(2))),
  annotations: new Set(Object.keys(entry?.fieldsV1?.['f:metadata']?.['f:annotations'] ?? {}).map((k) => k.slice(2))),
});
const fieldsFor = (o: Owned) => {
  const meta: any = {};
  if (o.labels.size) meta['f:labels'] = Object.fromEntries([...o.labels].map((k) => [`f:${k}`, {}]));
  if (o.annotations.size) meta['f:annotations'] = Object.fromEntries([...o.annotations].map((k) => [`f:${k}`, {}]));
  return { 'f:metadata': meta };
};

/** Server-side apply of the labels and annotations of a Namespace or ServiceAccount, with field ownership. */
export function applyObject(
  kube: KubeState,
  obj: any,
  manager: string,
  force: boolean,
  namespaceFromPath?: string,
): { object: KubeObject; created: boolean } {
  const kind = obj?.kind;
  if (kind !== 'Namespace' && kind !== 'ServiceAccount')
    fail(400, 'BadRequest', `the simulated API server applies Namespace and ServiceAccount, not ${kind}`);
  if (obj.apiVersion !== 'v1')
    fail(400, 'BadRequest', `no kind "${kind}" is registered for version "${obj.apiVersion}"`);
  const name = obj.metadata?.name;
  validateName(kind, name);
  validateMetadataMaps(kind, name, obj.metadata);
  let map: Map<string, KubeObject>, key: string, ns: string | undefined;
  if (kind === 'Namespace') {
    map = kube.namespaces;
    key = name;
  } else {
    ns = obj.metadata.namespace ?? namespaceFromPath;
    if (namespaceFromPath && obj.metadata.namespace && obj.metadata.namespace !== namespaceFromPath) {
      fail(400, 'BadRequest', `the namespace of the provided object does not match the namespace sent on the request`);
    }
    if (!ns || !kube.namespaces.has(ns))
      fail(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    map = kube.serviceAccounts;
    key = `${ns}/${name}`;
  }
  const existing = map.get(key);
  const target = existing
    ? clone(existing)
    : ({ apiVersion: 'v1', kind, metadata: kubeMeta(name, ns, { managedFields: [] }) } as KubeObject);
  if (kind === 'Namespace' && !existing) {
    target.spec = { finalizers: ['kubernetes'] };
    target.status = { phase: 'Active' };
    addDefaultServiceAccount(kube, name);
  }
  const fields = target.metadata.managedFields ?? (target.metadata.managedFields = []);
  const mine = fields.find((f) => f.manager === manager && f.operation === 'Apply');
  const before = ownedBy(mine);
  const wanted: Owned = {
    labels: new Set(Object.keys(obj.metadata.labels ?? {})),
    annotations: new Set(Object.keys(obj.metadata.annotations ?? {})),
  };

  const conflicts: string[] = [];
  for (const field of ['labels', 'annotations'] as const) {
    for (const k of wanted[field]) {
      const current = target.metadata[field]?.[k];
      const incoming = obj.metadata[field][k];
      for (const other of fields) {
        if (other === mine || !ownedBy(other)[field].has(k)) continue;
        // An equal value is no conflict: the field becomes shared. Forcing a different one takes it from the other manager.
        if (current === incoming) continue;
        if (!force) conflicts.push(`conflict with "${other.manager}" using v1: .metadata.${field}.${k}`);
        else {
          const o = ownedBy(other);
          o[field].delete(k);
          other.fieldsV1 = fieldsFor(o);
        }
      }
    }
  }
  if (conflicts.length)
    fail(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('\n')}`,
    );

  for (const field of ['labels', 'annotations'] as const) {
    const m = target.metadata[field] ?? {};
    // Fields this manager owned and no longer applies go away unless someone else owns them too.
    for (const k of before[field]) {
      if (!wanted[field].has(k) && !fields.some((f) => f !== mine && ownedBy(f)[field].has(k))) delete m[k];
    }
    for (const k of wanted[field]) m[k] = obj.metadata[field][k];
    if (Object.keys(m).length) target.metadata[field] = m;
    else delete target.metadata[field];
  }
  const entry = {
    manager,
    operation: 'Apply' as const,
    apiVersion: 'v1',
    time: new Date().toISOString(),
    fieldsType: 'FieldsV1' as const,
    fieldsV1: fieldsFor(wanted),
  };
  if (mine) Object.assign(mine, entry);
  else fields.push(entry);
  target.metadata.managedFields = fields.filter(
    (f) => Object.keys(f.fieldsV1['f:metadata'] ?? {}).length || f === mine || f.manager === manager,
  );
  const changed =
    JSON.stringify(existing?.metadata.labels) !== JSON.stringify(target.metadata.labels) ||
    JSON.stringify(existing?.metadata.annotations) !== JSON.stringify(target.metadata.annotations);
  if (!existing || changed) target.metadata.resourceVersion = nextResourceVersion();
  map.set(key, target);
  return { object: target, created: !existing };
}

/** A plain create (kubectl create / client-side apply) by a manager with operation Update. */
export function createObject(kube: KubeState, obj: any, manager: string, namespaceFromPath?: string): KubeObject {
  const kind = obj?.kind ?? (namespaceFromPath ? 'ServiceAccount' : 'Namespace');
  const name = obj?.metadata?.name;
  validateName(kind, name);
  validateMetadataMaps(kind, name, obj.metadata);
  const map = kind === 'Namespace' ? kube.namespaces : kube.serviceAccounts;
  const key = kind === 'Namespace' ? name : `${namespaceFromPath}/${name}`;
  if (kind !== 'Namespace' && !kube.namespaces.has(namespaceFromPath!))
    fail(404, 'NotFound', `namespaces "${namespaceFromPath}" not found`);
  if (map.has(key))
    fail(409, 'AlreadyExists', `${kind === 'Namespace' ? 'namespaces' : 'serviceaccounts'} "${name}" already exists`, {
      name,
      kind: kind === 'Namespace' ? 'namespaces' : 'serviceaccounts',
    });
  const owned: Owned = {
    labels: new Set(Object.keys(obj.metadata.labels ?? {})),
    annotations: new Set(Object.keys(obj.metadata.annotations ?? {})),
  };
  const o: KubeObject = {
    apiVersion: 'v1',
    kind,
    metadata: kubeMeta(name, kind === 'Namespace' ? undefined : namespaceFromPath, {
      ...(obj.metadata.labels ? { labels: { ...obj.metadata.labels } } : {}),
      ...(obj.metadata.annotations ? { annotations: { ...obj.metadata.annotations } } : {}),
      managedFields: [
        {
          manager,
          operation: 'Update',
          apiVersion: 'v1',
          time: new Date().toISOString(),
          fieldsType: 'FieldsV1',
          fieldsV1: fieldsFor(owned),
        },
      ],
    }),
    ...(kind === 'Namespace' ? { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } : {}),
  };
  map.set(key, o);
  if (kind === 'Namespace') addDefaultServiceAccount(kube, name);
  return o;
}

/** The ServiceAccount controller gives every new namespace a "default" ServiceAccount. */
export function addDefaultServiceAccount(kube: KubeState, ns: string) {
  if (!kube.serviceAccounts.has(`${ns}/default`))
    kube.serviceAccounts.set(`${ns}/default`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: kubeMeta('default', ns),
    });
}

export function applyManifest(cluster: ClusterRecord, text: string, manager: string, force: boolean): string {
  const kube = cluster.kube;
  const out: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS();
    if (!obj) continue;
    try {
      if (WORKLOADS[obj.kind])
        applyWorkload(cluster, obj.kind, obj.metadata?.namespace, obj.metadata?.name, obj, manager, force);
      else if (obj.kind === 'SecretProviderClass')
        applySecretProviderClass(cluster, obj.metadata?.namespace, obj.metadata?.name, obj, manager);
      else if (obj.kind === 'ClusterRole' || obj.kind === 'ClusterRoleBinding')
        applyRbac(kube, `${String(obj.kind).toLowerCase()}s` as RbacPlural, obj.metadata?.name, obj, manager, force);
      else applyObject(kube, obj, manager, force);
      out.push(`${String(obj.kind).toLowerCase()}/${obj.metadata.name} serverside-applied`);
    } catch (e) {
      if (e instanceof HttpError)
        throw new Error(`Error from server (${(e.body as any).reason}): ${(e.body as any).message}`, { cause: e });
      throw e;
    }
  }
  return out.join('\n');
}

/** Deleting what others made is the one thing Remove must never do: recorded and refused. */
export function refuseOthers(
  state: SimState,
  key: string,
  what: string,
  refuse: (status: number, code: string, message: string) => never = fail,
) {
  if (!state.othersOwn.has(key.toLowerCase())) return;
  state.violations.push(what);
  refuse(400, 'SimulatorForeignDelete', `This request would ${what}, which someone else made.`);
}

/** true when it existed. */
export function deleteServiceAccount(state: SimState, cluster: ClusterRecord, ns: string, name: string): boolean {
  const o = cluster.kube.serviceAccounts.get(`${ns}/${name}`);
  if (!o) return false;
  // Someone else's fields on it make it theirs too.
  const others = (o.metadata.managedFields ?? [])
    .filter((f) => f.manager !== 'aks-workload-identity' && Object.keys(f.fieldsV1?.['f:metadata'] ?? {}).length)
    .map((f) => f.manager);
  if (others.length) {
    state.violations.push(
      `delete the ServiceAccount ${ns}/${name} on ${cluster.name}, which ${others.join(', ')} also manage`,
    );
    fail(
      400,
      'SimulatorForeignDelete',
      `This request would delete the ServiceAccount ${ns}/${name}, which ${others.join(', ')} also manage.`,
    );
  }
  cluster.kube.serviceAccounts.delete(`${ns}/${name}`);
  return true;
}

export function getObjectJson(kube: KubeState, kind: string, name: string, ns?: string): string {
  const o = kind === 'namespace' ? kube.namespaces.get(name) : kube.serviceAccounts.get(`${ns}/${name}`);
  if (!o) throw new Error(`Error from server (NotFound): ${kind}s "${name}" not found`);
  return JSON.stringify(o, null, 4);
}

/**
 * The AKS add-on's webhook: its MutatingWebhookConfiguration, and the Deployment that serves it, whose image tag says
 * its version (identity bindings need v1.6 or later).
 */
export function installWebhook(kube: KubeState) {
  const hook = webhookFor('azure-wi-webhook-mutating-webhook-configuration', 'azure-wi-webhook-webhook-service');
  if (!kube.webhooks.has(hook.metadata.name)) kube.webhooks.set(hook.metadata.name, hook);
  kube.deployments.set('kube-system/azure-wi-webhook-controller-manager', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: kubeMeta('azure-wi-webhook-controller-manager', 'kube-system', { generation: 1 }),
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'azure-workload-identity.io/system': 'true' } },
      template: {
        metadata: { labels: { 'azure-workload-identity.io/system': 'true' } },
        spec: {
          containers: [
            {
              name: 'manager',
              image: `mcr.microsoft.com/oss/v2/azure/workload-identity/webhook:v${kube.webhookVersion}`,
            },
          ],
        },
      },
    },
    status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
  });
}

export function webhookFor(name: string, service: string, serviceNamespace = 'kube-system'): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: kubeMeta(name, undefined, { labels: { 'azure-workload-identity.io/system': 'true' } }),
    webhooks: [
      {
        name: 'mutation.azure-workload-identity.io',
        admissionReviewVersions: ['v1', 'v1beta1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        clientConfig: { service: { name: service, namespace: serviceNamespace, path: '/mutate-v1-pod', port: 443 } },
        objectSelector: { matchLabels: { 'azure.workload.identity/use': 'true' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
      },
    ],
  };
}

const list = (kind: string, items: KubeObject[]) => ({
  kind,
  apiVersion: kind.startsWith('MutatingWebhook')
    ? 'admissionregistration.k8s.io/v1'
    : kind.startsWith('Deployment') || kind.startsWith('ReplicaSet')
      ? 'apps/v1'
      : 'v1',
  metadata: { resourceVersion: nextResourceVersion() },
  items,
});

export function kubeGuard(state: SimState, tokenSecret: string) {
  return (req: RequestContext) => {
    const c = clusterFor(state, req.params[0]);
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const aad = c.resource.properties.aadProfile;
    const claims = token ? verifyToken(tokenSecret, token) : undefined;
    const valid = aad ? !!claims && claims.aud.includes(AKS_SERVER_APP_ID) : token === c.userToken;
    if (!valid) fail(401, 'Unauthorized', 'Unauthorized');
  };
}

function clusterFor(state: SimState, key: string): ClusterRecord {
  const c = [...state.clusters.values()].find((x) => x.key === key);
  if (!c) fail(404, 'NotFound', `cluster ${key} not found`);
  return c!;
}

export function kubeRoutes(state: SimState): Route[] {
  const C = '/clusters/([^/]+)';
  const kube = (r: RequestContext) => clusterFor(state, r.params[0]).kube;
  const ok = (body: unknown, status = 200): Reply => ({ status, body });
  const get = (m: Map<string, KubeObject>, key: string, resource: string, name: string) => {
    const o = m.get(key);
    if (!o) fail(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
    return o!;
  };
  const byNs = (m: Map<string, KubeObject>, ns?: string) =>
    [...m.values()].filter((o) => !ns || o.metadata.namespace === ns);
  const isApply = (r: RequestContext) => String(r.headers['content-type'] ?? '').startsWith('application/apply-patch');
  const applyBody = (r: RequestContext) => {
    if (!isApply(r))
      fail(
        415,
        'UnsupportedMediaType',
        `the simulated API server takes server-side apply patches only, not ${r.headers['content-type']}`,
      );
    const manager = r.query.get('fieldManager');
    if (!manager)
      fail(
        400,
        'BadRequest',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    let obj: any;
    // Clients send JSON, which is YAML; the YAML parser (ms of the simulator's time a call) is for YAML proper.
    try {
      obj = parseJson(r.rawBody) ?? parseAllDocuments(r.rawBody)[0]?.toJS();
    } catch (e) {
      fail(400, 'BadRequest', `error decoding YAML: ${(e as Error).message}`);
    }
    return { obj, manager: manager!, force: r.query.get('force') === 'true' };
  };
  const res = (name: string, kind: string, namespaced: boolean, verbs: string[]) => ({
    name,
    singularName: kind.toLowerCase(),
    namespaced,
    kind,
    verbs,
  });
  const RW = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
  // Discovery, as kubectl reads it before any command (plain JSON; kubectl falls back to it from aggregated discovery).
  const GROUPS: Record<string, ReturnType<typeof res>[]> = {
    'apps/v1': [
      res('deployments', 'Deployment', true, RW),
      res('statefulsets', 'StatefulSet', true, RW),
      res('daemonsets', 'DaemonSet', true, RW),
      res('replicasets', 'ReplicaSet', true, ['get', 'list', 'watch']),
    ],
    'batch/v1': [res('jobs', 'Job', true, RW), res('cronjobs', 'CronJob', true, RW)],
    'admissionregistration.k8s.io/v1': [
      res('mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false, ['get', 'list', 'watch']),
    ],
    [RBAC]: [
      res('clusterroles', 'ClusterRole', false, RW),
      res('clusterrolebindings', 'ClusterRoleBinding', false, RW),
    ],
  };
  const CORE = [
    res('namespaces', 'Namespace', false, RW),
    res('serviceaccounts', 'ServiceAccount', true, RW),
    {
      name: 'serviceaccounts/token',
      singularName: '',
      namespaced: true,
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
      verbs: ['create'],
    },
    res('pods', 'Pod', true, ['get', 'list', 'watch']),
  ];
  const discovery: Route[] = [
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/version$`),
      op: 'kube.discovery.getVersion',
      handle: () => ok({ major: '1', minor: '30', gitVersion: 'v1.30.5', platform: 'linux/amd64' }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api$`),
      op: 'kube.discovery.get',
      handle: () =>
        ok({
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }],
        }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1$`),
      op: 'kube.discovery.get',
      handle: () => ok({ kind: 'APIResourceList', groupVersion: 'v1', resources: CORE }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/apis$`),
      op: 'kube.discovery.get',
      handle: () =>
        ok({
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: Object.keys(GROUPS).map((gv) => {
            const [name, version] = gv.split('/');
            return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
          }),
        }),
    },
    ...Object.entries(GROUPS).map(([gv, resources]): Route => ({
      method: 'GET',
      pattern: new RegExp(`^${C}/apis/${gv.replace(/\./g, '\\.')}$`),
      op: 'kube.discovery.get',
      handle: () => ok({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources }),
    })),
  ];
  // OpenAPI v3, only as far as kubectl reads it: whether PATCH takes fieldValidation (then the server validates).
  const patchWithFieldValidation = (group: string, version: string, kind: string) => ({
    patch: {
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': { group, version, kind },
      parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
        name,
        in: 'query',
        schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
      })),
      responses: { 200: { description: 'OK' } },
    },
  });
  const openapi: Route[] = [
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/openapi/v3$`),
      op: 'kube.discovery.getOpenApi',
      handle: () =>
        ok({
          paths: {
            'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=SIM1' },
            [`apis/${RBAC}`]: { serverRelativeURL: `/openapi/v3/apis/${RBAC}?hash=SIM1` },
          },
        }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/openapi/v3/apis/rbac\\.authorization\\.k8s\\.io/v1$`),
      op: 'kube.discovery.getOpenApi',
      handle: () =>
        ok({
          openapi: '3.0.0',
          info: { title: 'Kubernetes', version: 'v1.30.5' },
          paths: {
            [`/apis/${RBAC}/clusterroles/{name}`]: patchWithFieldValidation(
              'rbac.authorization.k8s.io',
              'v1',
              'ClusterRole',
            ),
            [`/apis/${RBAC}/clusterrolebindings/{name}`]: patchWithFieldValidation(
              'rbac.authorization.k8s.io',
              'v1',
              'ClusterRoleBinding',
            ),
          },
          components: { schemas: {} },
        }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/openapi/v3/api/v1$`),
      op: 'kube.discovery.getOpenApi',
      handle: () =>
        ok({
          openapi: '3.0.0',
          info: { title: 'Kubernetes', version: 'v1.30.5' },
          paths: {
            '/api/v1/namespaces/{name}': patchWithFieldValidation('', 'v1', 'Namespace'),
            '/api/v1/namespaces/{namespace}/serviceaccounts/{name}': patchWithFieldValidation(
              '',
              'v1',
              'ServiceAccount',
            ),
          },
          components: { schemas: {} },
        }),
    },
  ];
  return [
    ...discovery,
    ...openapi,
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1/namespaces$`),
      op: 'kube.namespaces.list',
      handle: (r) => ok(list('NamespaceList', [...kube(r).namespaces.values()])),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)$`),
      op: 'kube.namespaces.get',
      handle: (r) => ok(get(kube(r).namespaces, r.params[1], 'namespaces', r.params[1])),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${C}/api/v1/namespaces$`),
      op: 'kube.namespaces.create',
      handle: (r) =>
        ok(
          createObject(
            kube(r),
            { kind: 'Namespace', ...r.json() },
            String(r.query.get('fieldManager') ?? 'kubectl-create'),
          ),
          201,
        ),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)$`),
      op: 'kube.namespaces.apply',
      handle: (r) => {
        const { obj, manager, force } = applyBody(r);
        if (obj?.metadata?.name !== r.params[1])
          fail(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        const res = applyObject(kube(r), obj, manager, force);
        return ok(res.object, res.created ? 201 : 200);
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/serviceaccounts$`),
      op: 'kube.serviceaccounts.list',
      handle: (r) => ok(list('ServiceAccountList', byNs(kube(r).serviceAccounts, r.params[1]))),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)$`),
      op: 'kube.serviceaccounts.get',
      handle: (r) => ok(get(kube(r).serviceAccounts, `${r.params[1]}/${r.params[2]}`, 'serviceaccounts', r.params[2])),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/serviceaccounts$`),
      op: 'kube.serviceaccounts.create',
      handle: (r) =>
        ok(
          createObject(
            kube(r),
            { kind: 'ServiceAccount', ...r.json() },
            String(r.query.get('fieldManager') ?? 'kubectl-create'),
            r.params[1],
          ),
          201,
        ),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)$`),
      op: 'kube.serviceaccounts.apply',
      handle: (r) => {
        const { obj, manager, force } = applyBody(r);
        if (obj?.metadata?.name !== r.params[2])
          fail(400, 'BadRequest', 'the name of the object does not match the name on the URL');
        const res = applyObject(kube(r), obj, manager, force, r.params[1]);
        return ok(res.object, res.created ? 201 : 200);
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)$`),
      op: 'kube.serviceaccounts.delete',
      handle: (r) => {
        const cluster = clusterFor(state, r.params[0]);
        const o = get(cluster.kube.serviceAccounts, `${r.params[1]}/${r.params[2]}`, 'serviceaccounts', r.params[2]);
        deleteServiceAccount(state, cluster, r.params[1], r.params[2]);
        return ok(o);
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)/token$`),
      op: 'kube.serviceaccounts.token',
      handle: (r) => {
        const cluster = clusterFor(state, r.params[0]);
        if (!cluster.kube.serviceAccounts.has(`${r.params[1]}/${r.params[2]}`))
          fail(404, 'NotFound', `serviceaccounts "${r.params[2]}" not found`, {
            name: r.params[2],
            kind: 'serviceaccounts',
          });
        const body = r.json();
        if (body.kind !== 'TokenRequest' || body.apiVersion !== 'authentication.k8s.io/v1')
          fail(400, 'BadRequest', `the body must be a TokenRequest of authentication.k8s.io/v1`);
        const audiences: string[] = body.spec?.audiences ?? [];
        const seconds = Number(body.spec?.expirationSeconds ?? 3600);
        if (seconds < 600)
          fail(
            422,
            'Invalid',
            `TokenRequest.authentication.k8s.io "${r.params[2]}" is invalid: spec.expirationSeconds: Invalid value: ${seconds}: may not specify a duration less than 10 minutes`,
          );
        const { token, expirationTimestamp } = serviceAccountToken(
          cluster,
          r.params[1],
          r.params[2],
          audiences.length ? audiences : ['https://kubernetes.default.svc'],
          seconds,
        );
        return ok(
          {
            kind: 'TokenRequest',
            apiVersion: 'authentication.k8s.io/v1',
            metadata: { name: r.params[2], namespace: r.params[1], creationTimestamp: null },
            spec: { audiences, expirationSeconds: seconds, boundObjectRef: null },
            status: { token, expirationTimestamp },
          },
          201,
        );
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1/namespaces/([^/]+)/pods$`),
      op: 'kube.pods.list',
      handle: (r) => ok(list('PodList', byNs(kube(r).pods, r.params[1]))),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/api/v1/pods$`),
      op: 'kube.pods.listAll',
      handle: (r) => ok(list('PodList', byNs(kube(r).pods))),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/apis/apps/v1/namespaces/([^/]+)/replicasets$`),
      op: 'kube.replicasets.list',
      handle: (r) => ok(list('ReplicaSetList', byNs(kube(r).replicaSets, r.params[1]))),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/apis/secrets-store\\.csi\\.x-k8s\\.io/v1/namespaces/([^/]+)/secretproviderclasses$`),
      op: 'kube.secretproviderclasses.list',
      handle: (r) => {
        const cluster = clusterFor(state, r.params[0]);
        // The CRD comes with the CSI driver's add-on: without it, the API server has no such resource.
        if (cluster.resource.properties.addonProfiles?.azureKeyvaultSecretsProvider?.enabled !== true)
          throw new HttpError(404, kubeStatus(404, 'NotFound', 'the server could not find the requested resource'));
        return ok({
          ...list('SecretProviderClassList', byNs(cluster.kube.secretProviderClasses, r.params[1])),
          apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        });
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(
        `^${C}/apis/secrets-store\\.csi\\.x-k8s\\.io/v1/namespaces/([^/]+)/secretproviderclasses/([^/]+)$`,
      ),
      op: 'kube.secretproviderclasses.apply',
      handle: (r) => {
        const { obj, manager } = applyBody(r);
        return ok(applySecretProviderClass(clusterFor(state, r.params[0]), r.params[1], r.params[2], obj, manager));
      },
    },
    ...Object.entries(WORKLOADS).flatMap(([kind, w]): Route[] => {
      const base = `^${C}/apis/${w.group.replace('.', '\\.')}/namespaces/([^/]+)/${w.plural}`;
      return [
        {
          method: 'GET',
          pattern: new RegExp(`${base}$`),
          op: `kube.${w.plural}.list`,
          handle: (r) =>
            ok({ ...list(`${kind}List`, byNs(storeFor(kube(r), kind), r.params[1])), apiVersion: w.group }),
        },
        {
          method: 'GET',
          pattern: new RegExp(`${base}/([^/]+)$`),
          op: `kube.${w.plural}.get`,
          handle: (r) => {
            const cluster = clusterFor(state, r.params[0]);
            advanceRollout(cluster, storeFor(cluster.kube, kind).get(`${r.params[1]}/${r.params[2]}`));
            return ok(get(storeFor(cluster.kube, kind), `${r.params[1]}/${r.params[2]}`, w.plural, r.params[2]));
          },
        },
        {
          method: 'PATCH',
          pattern: new RegExp(`${base}/([^/]+)$`),
          op: `kube.${w.plural}.apply`,
          handle: (r) => {
            const { obj, manager, force } = applyBody(r);
            return ok(
              applyWorkload(clusterFor(state, r.params[0]), kind, r.params[1], r.params[2], obj, manager, force),
            );
          },
        },
      ];
    }),
    ...rbacRoutes(C, kube, applyBody),
    {
      method: 'GET',
      pattern: new RegExp(`^${C}/apis/admissionregistration\\.k8s\\.io/v1/mutatingwebhookconfigurations$`),
      op: 'kube.mutatingwebhookconfigurations.list',
      handle: (r) => ok(list('MutatingWebhookConfigurationList', [...kube(r).webhooks.values()])),
    },
  ];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
