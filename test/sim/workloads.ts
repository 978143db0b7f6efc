/**
 * Workloads as the API server and their controllers treat them: Deployments, StatefulSets, DaemonSets, Jobs and
 * CronJobs; server-side apply of a pod template's `serviceAccountName`, `azure.workload.identity/use` label and
 * `use-identity-binding` annotation with
 * field ownership (a field another manager owns with another value is a conflict unless forced); a template change
 * rolls out new pods, which the workload identity webhook (when installed) mutates as AKS's does.
 */
import { createHash, randomUUID } from 'node:crypto';
import { HttpError } from './http';
import { ClusterRecord, KubeObject, KubeState, kubeMeta, kubeStatus, nextResourceVersion } from './model';

export const USE_LABEL = 'azure.workload.identity/use';
const USE_IDENTITY_BINDING = 'azure.workload.identity/use-identity-binding';
export const WORKLOADS: Record<string, { group: string; plural: string; template: string[] }> = {
  Deployment: { group: 'apps/v1', plural: 'deployments', template: ['spec', 'template'] },
  StatefulSet: { group: 'apps/v1', plural: 'statefulsets', template: ['spec', 'template'] },
  DaemonSet: { group: 'apps/v1', plural: 'daemonsets', template: ['spec', 'template'] },
  Job: { group: 'batch/v1', plural: 'jobs', template: ['spec', 'template'] },
  CronJob: { group: 'batch/v1', plural: 'cronjobs', template: ['spec', 'jobTemplate', 'spec', 'template'] },
};

const status = (code: number, reason: string, message: string): never => {
  throw new HttpError(code, kubeStatus(code, reason, message));
};

/** Each kind's objects, keyed "<ns>/<name>". */
export function storeFor(kube: KubeState, kind: string): Map<string, KubeObject> {
  return (
    {
      Deployment: kube.deployments,
      StatefulSet: kube.statefulSets,
      DaemonSet: kube.daemonSets,
      Job: kube.jobs,
      CronJob: kube.cronJobs,
    } as Record<string, Map<string, KubeObject>>
  )[kind];
}

const getIn = (o: any, path: string[]) => path.reduce((v, k) => (v == null ? undefined : v[k]), o);
const setIn = (o: any, path: string[], value: unknown) => {
  let cur = o;
  for (const k of path.slice(0, -1)) cur = cur[k] ??= {};
  if (value === undefined) delete cur[path[path.length - 1]];
  else cur[path[path.length - 1]] = value;
};

/** The fields Connect Workload sets (the annotation in identity-binding mode), as paths into the workload and fieldsV1. */
function fieldsOf(kind: string) {
  const t = WORKLOADS[kind].template;
  return {
    serviceAccountName: {
      path: [...t, 'spec', 'serviceAccountName'],
      owned: [...t, 'spec', 'serviceAccountName'].map((k) => `f:${k}`),
    },
    label: {
      path: [...t, 'metadata', 'labels', USE_LABEL],
      owned: [...t, 'metadata', 'labels', USE_LABEL].map((k) => `f:${k}`),
    },
    identityBinding: {
      path: [...t, 'metadata', 'annotations', USE_IDENTITY_BINDING],
      owned: [...t, 'metadata', 'annotations', USE_IDENTITY_BINDING].map((k) => `f:${k}`),
    },
  };
}
const owns = (entry: any, owned: string[]) => getIn(entry?.fieldsV1, owned) !== undefined;

/** Records that `manager` (by kubectl apply or an operator's update) owns every leaf of the template it set. */
export function ownershipOf(obj: KubeObject, manager: string, operation: 'Apply' | 'Update') {
  const fields = fieldsOf(obj.kind);
  const fieldsV1: any = {};
  for (const f of Object.values(fields)) if (getIn(obj, f.path) !== undefined) setIn(fieldsV1, f.owned, {});
  for (const k of Object.keys(getIn(obj, [...WORKLOADS[obj.kind].template, 'metadata', 'labels']) ?? {}))
    setIn(
      fieldsV1,
      [...WORKLOADS[obj.kind].template, 'metadata', 'labels', k].map((x) => `f:${x}`),
      {},
    );
  return {
    manager,
    operation,
    apiVersion: WORKLOADS[obj.kind].group,
    time: new Date().toISOString(),
    fieldsType: 'FieldsV1' as const,
    fieldsV1,
  };
}

/**
 * Server-side apply of a workload by `manager`. The simulated API server takes only the two fields Connect Workload
 * manages (anything else in the body is refused, so the product cannot send more than it says).
 */
export function applyWorkload(
  c: ClusterRecord,
  kind: string,
  ns: string,
  name: string,
  body: any,
  manager: string,
  force: boolean,
): KubeObject {
  if (!WORKLOADS[kind] || body?.kind !== kind || body?.apiVersion !== WORKLOADS[kind].group)
    status(400, 'BadRequest', `the body must be a ${kind} of ${WORKLOADS[kind]?.group}`);
  const store = storeFor(c.kube, kind);
  const existing = store.get(`${ns}/${name}`);
  if (!existing)
    status(
      422,
      'Invalid',
      `${kind}.${WORKLOADS[kind].group.split('/')[0]} "${name}" is invalid: spec.selector: Required value; spec.template: Required value`,
    );
  const fields = fieldsOf(kind);
  const leaves = leafPaths(body).filter(
    (p) => !['apiVersion', 'kind', 'metadata.name', 'metadata.namespace'].includes(p),
  );
  const t = WORKLOADS[kind].template;
  // Mounting a SecretProviderClass: volumes merged by name, and containers (by name) getting volumeMounts.
  const lists = { volumes: [...t, 'spec', 'volumes'], containers: [...t, 'spec', 'containers'] };
  const allowed = [
    ...Object.values(fields).map((f) => f.path.join('.')),
    ...Object.values(lists).map((p) => p.join('.')),
  ];
  const extra = leaves.filter((p) => !allowed.includes(p));
  if (extra.length)
    status(
      400,
      'BadRequest',
      `the simulated API server applies only ${allowed.join(' and ')} to workloads, not ${extra.join(', ')}`,
    );

  const obj: KubeObject = JSON.parse(JSON.stringify(existing));
  const entries = (obj.metadata.managedFields ??= []);
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const conflicts: string[] = [];
  for (const f of Object.values(fields)) {
    const incoming = getIn(body, f.path);
    if (incoming === undefined) continue;
    for (const other of entries) {
      if (other === mine || !owns(other, f.owned)) continue;
      if (getIn(obj, f.path) !== incoming && !force)
        conflicts.push(
          `conflict with "${other.manager}"${other.operation === 'Update' ? ' using ' + other.apiVersion : ''}: .${f.path.join('.')}`,
        );
    }
  }
  if (conflicts.length)
    status(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('\n')}`,
    );
  if (
    kind === 'Job' &&
    Object.values(fields).some((f) => getIn(body, f.path) !== undefined && getIn(obj, f.path) !== getIn(body, f.path))
  ) {
    status(422, 'Invalid', `Job.batch "${name}" is invalid: spec.template: Invalid value: field is immutable`);
  }
  const before = JSON.stringify(getIn(obj, WORKLOADS[kind].template));
  for (const v of getIn(body, lists.volumes) ?? []) {
    const current: any[] = getIn(obj, lists.volumes) ?? [];
    const same = current.find((x) => x.name === v.name);
    if (same && JSON.stringify(same) !== JSON.stringify(v) && !force)
      status(
        409,
        'Conflict',
        `Apply failed with 1 conflict: conflict with another manager: .${lists.volumes.join('.')}[name="${v.name}"]`,
      );
    setIn(obj, lists.volumes, [...current.filter((x) => x.name !== v.name), v]);
  }
  for (const c of getIn(body, lists.containers) ?? []) {
    const target = (getIn(obj, lists.containers) ?? []).find((x: any) => x.name === c.name);
    if (!target)
      status(
        422,
        'Invalid',
        `${kind}.${WORKLOADS[kind].group.split('/')[0]} "${name}" is invalid: ${lists.containers.join('.')}[name="${c.name}"].image: Required value`,
      );
    for (const m of c.volumeMounts ?? []) {
      target.volumeMounts = [...(target.volumeMounts ?? []).filter((x: any) => x.mountPath !== m.mountPath), m];
    }
  }
  const fieldsV1: any = {};
  for (const f of Object.values(fields)) {
    const incoming = getIn(body, f.path);
    if (incoming !== undefined) {
      setIn(obj, f.path, incoming);
      setIn(fieldsV1, f.owned, {});
    }
    // A field this manager applied before and no longer sends goes, unless another manager owns it too.
    else if (mine && owns(mine, f.owned) && !entries.some((e) => e !== mine && owns(e, f.owned)))
      setIn(obj, f.path, undefined);
  }
  const entry = {
    manager,
    operation: 'Apply' as const,
    apiVersion: WORKLOADS[kind].group,
    time: new Date().toISOString(),
    fieldsType: 'FieldsV1' as const,
    fieldsV1,
  };
  if (mine) Object.assign(mine, entry);
  else entries.push(entry);
  if (JSON.stringify(getIn(obj, WORKLOADS[kind].template)) !== before) {
    obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
    obj.metadata.resourceVersion = nextResourceVersion();
    store.set(`${ns}/${name}`, obj);
    rollOut(c, obj);
  } else store.set(`${ns}/${name}`, obj);
  return obj;
}

function leafPaths(v: any, prefix = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [prefix];
  return Object.entries(v).flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
}

const REVISION = 'deployment.kubernetes.io/revision';
const stagedKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const rolloutKey = (w: KubeObject) => `${w.kind}/${w.metadata.namespace}/${w.metadata.name}`;

/**
 * What the controller and the webhook do after a template change: new pods, the old ones gone, and the marks the
 * controllers leave (a Deployment's revision on it and its ReplicaSet, a StatefulSet's updateRevision and its pods'
 * controller-revision-hash, a DaemonSet's pod-template-generation). With stagedRollouts, it happens one phase per
 * read of the workload (advanceRollout). CronJobs wait for their next run.
 */
export function rollOut(c: ClusterRecord, w: KubeObject) {
  const ns = w.metadata.namespace!;
  const template = getIn(w, WORKLOADS[w.kind].template);
  const replicas =
    w.kind === 'Deployment' || w.kind === 'StatefulSet' ? (w.spec.replicas ?? 1) : w.kind === 'DaemonSet' ? 1 : 0;
  if (w.kind === 'CronJob' || w.kind === 'Job') {
    w.status = { observedGeneration: w.metadata.generation ?? 1 };
    return;
  }
  const ownedBy = (p: KubeObject) =>
    (p.metadata.ownerReferences ?? []).some(
      (r) =>
        r.uid === w.metadata.uid ||
        (r.kind === 'ReplicaSet' &&
          c.kube.replicaSets.get(`${ns}/${r.name}`)?.metadata.ownerReferences?.some((o) => o.uid === w.metadata.uid)),
    );
  const old = [...c.kube.pods].filter(([, p]) => p.metadata.namespace === ns && ownedBy(p)).map(([k]) => k);
  const hash = createHash('sha1').update(JSON.stringify(template)).digest('hex').slice(0, 9);
  if (w.kind === 'Deployment') {
    const revision = String(Number(w.metadata.annotations?.[REVISION] ?? 0) + 1);
    w.metadata.annotations = { ...w.metadata.annotations, [REVISION]: revision };
    const owner = {
      apiVersion: WORKLOADS[w.kind].group,
      kind: w.kind,
      name: w.metadata.name,
      uid: w.metadata.uid,
      controller: true,
    };
    const rsName = `${w.metadata.name}-${hash}`;
    c.kube.replicaSets.set(`${ns}/${rsName}`, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: kubeMeta(rsName, ns, { ownerReferences: [owner], annotations: { [REVISION]: revision } }),
      spec: { replicas, template },
    });
  }
  if (w.kind === 'StatefulSet') {
    const update = `${w.metadata.name}-${hash}`;
    w.status = {
      ...w.status,
      updateRevision: update,
      ...(w.status?.currentRevision ? {} : { currentRevision: update }),
    };
  }
  if (c.kube.stagedRollouts && stagedKinds.has(w.kind) && w.status?.observedGeneration) {
    // The controller has not looked yet: the status still describes the old generation.
    c.kube.rollouts.set(rolloutKey(w), { phase: 0, old, fresh: [], stuckReads: 0 });
    return;
  }
  for (const k of old) c.kube.pods.delete(k);
  const failing = c.kube.failingPods.get(`${ns}/${w.metadata.name}`);
  const fresh = startPods(c, w);
  for (const k of fresh) {
    const p = c.kube.pods.get(k)!;
    p.status = podStatus(p, failing ? { ready: false, waiting: failing } : { ready: true });
  }
  w.status = statusOf(w, replicas, {
    old: 0,
    fresh: fresh.length,
    ready: failing ? 0 : fresh.length,
    current: !failing,
  });
}

/** A workload's status as its controller writes it, from how many old and new pods there are and how many are ready. */
function statusOf(
  w: KubeObject,
  replicas: number,
  n: { old: number; fresh: number; ready: number; oldReady?: number; current: boolean; deadline?: boolean },
): any {
  const generation = w.metadata.generation ?? 1;
  const ready = n.ready + (n.oldReady ?? 0);
  if (w.kind === 'Deployment') {
    return {
      observedGeneration: generation,
      replicas: n.old + n.fresh,
      updatedReplicas: n.fresh,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(n.old + n.fresh - ready > 0 ? { unavailableReplicas: n.old + n.fresh - ready } : {}),
      conditions: [
        {
          type: 'Available',
          status: ready >= replicas ? 'True' : 'False',
          reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        },
        n.deadline
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet has timed out progressing.`,
            }
          : { type: 'Progressing', status: 'True', reason: n.current ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' },
      ],
    };
  }
  if (w.kind === 'StatefulSet') {
    const update = w.status?.updateRevision;
    return {
      observedGeneration: generation,
      replicas,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: n.current ? replicas : 0,
      updatedReplicas: n.fresh,
      currentRevision: n.current ? update : w.status?.currentRevision,
      updateRevision: update,
    };
  }
  return {
    observedGeneration: generation,
    desiredNumberScheduled: 1,
    currentNumberScheduled: 1,
    updatedNumberScheduled: n.fresh,
    numberReady: ready,
    numberAvailable: ready,
    ...(ready < 1 ? { numberUnavailable: 1 } : {}),
  };
}

/** A staged rollout moves one phase on each read of its workload, as a real one moves on while kubectl watches it. */
export function advanceRollout(c: ClusterRecord, w: KubeObject | undefined) {
  const r = w && c.kube.rollouts.get(rolloutKey(w));
  if (!w || !r) return;
  const ns = w.metadata.namespace!;
  const replicas = w.kind === 'DaemonSet' ? 1 : (w.spec.replicas ?? 1);
  const failing = c.kube.failingPods.get(`${ns}/${w.metadata.name}`);
  const setReady = (keys: string[], ready: boolean) =>
    keys.forEach((k) => {
      const p = c.kube.pods.get(k);
      if (p)
        p.status = podStatus(
          p,
          ready ? { ready: true } : { ready: false, waiting: failing ?? { reason: 'ContainerCreating', message: '' } },
        );
    });
  if (r.phase === 0) {
    // A StatefulSet or DaemonSet replaces pods in place: the old ones go first. A Deployment surges: they stay.
    if (w.kind !== 'Deployment') {
      for (const k of r.old) c.kube.pods.delete(k);
      r.old = [];
    }
    r.fresh = startPods(c, w);
    setReady(r.fresh, false);
    r.phase = 1;
    w.status = statusOf(w, replicas, {
      old: r.old.length,
      oldReady: r.old.length,
      fresh: r.fresh.length,
      ready: 0,
      current: false,
    });
  } else if (r.phase === 1 && failing) {
    r.stuckReads++;
    w.status = statusOf(w, replicas, {
      old: r.old.length,
      oldReady: r.old.length,
      fresh: r.fresh.length,
      ready: 0,
      current: false,
      deadline: r.stuckReads >= 3,
    });
  } else if (r.phase === 1) {
    setReady(r.fresh, true);
    r.phase = 2;
    // Old pods are terminating but not gone; a StatefulSet has not yet moved its currentRevision.
    w.status = statusOf(w, replicas, {
      old: r.old.length,
      oldReady: r.old.length,
      fresh: r.fresh.length,
      ready: r.fresh.length,
      current: w.kind === 'DaemonSet',
    });
  } else {
    for (const k of r.old) c.kube.pods.delete(k);
    c.kube.rollouts.delete(rolloutKey(w));
    w.status = statusOf(w, replicas, { old: 0, fresh: r.fresh.length, ready: r.fresh.length, current: true });
  }
}

/** The new revision's pods of a workload whose template changed (the marks were set by rollOut). */
function startPods(c: ClusterRecord, w: KubeObject): string[] {
  const ns = w.metadata.namespace!;
  const template = getIn(w, WORKLOADS[w.kind].template);
  const replicas = w.kind === 'DaemonSet' ? 1 : (w.spec.replicas ?? 1);
  const hash = createHash('sha1').update(JSON.stringify(template)).digest('hex').slice(0, 9);
  let owner: any = {
    apiVersion: WORKLOADS[w.kind].group,
    kind: w.kind,
    name: w.metadata.name,
    uid: w.metadata.uid,
    controller: true,
  };
  let prefix = w.metadata.name;
  const labels: Record<string, string> = {};
  if (w.kind === 'Deployment') {
    const rs = c.kube.replicaSets.get(`${ns}/${w.metadata.name}-${hash}`)!;
    owner = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      name: rs.metadata.name,
      uid: rs.metadata.uid,
      controller: true,
    };
    prefix = rs.metadata.name;
    labels['pod-template-hash'] = hash;
  }
  if (w.kind === 'StatefulSet') labels['controller-revision-hash'] = `${w.metadata.name}-${hash}`;
  if (w.kind === 'DaemonSet') labels['pod-template-generation'] = String(w.metadata.generation ?? 1);
  return Array.from({ length: replicas }, (_, i) => {
    const name = w.kind === 'StatefulSet' ? `${w.metadata.name}-${i}` : `${prefix}-${randomUUID().slice(0, 5)}`;
    c.kube.pods.set(`${ns}/${name}`, podFrom(c, ns, name, template, owner, labels, { ready: false }));
    return `${ns}/${name}`;
  });
}

/** A pod's status: Ready, or its first container waiting with a reason (ContainerCreating, CrashLoopBackOff, ...). */
function podStatus(p: KubeObject, s: { ready: boolean; waiting?: { reason: string; message: string } }) {
  const name = p.spec.containers?.[0]?.name ?? 'app';
  return {
    phase: s.ready || s.waiting?.reason === 'CrashLoopBackOff' ? 'Running' : 'Pending',
    conditions: [
      { type: 'Ready', status: s.ready ? 'True' : 'False', ...(s.ready ? {} : { reason: 'ContainersNotReady' }) },
    ],
    containerStatuses: [
      {
        name,
        ready: s.ready,
        restartCount: s.waiting?.reason === 'CrashLoopBackOff' ? 4 : 0,
        state: s.ready
          ? { running: { startedAt: new Date().toISOString() } }
          : {
              waiting: {
                reason: s.waiting?.reason ?? 'ContainerCreating',
                ...(s.waiting?.message ? { message: s.waiting.message } : {}),
              },
            },
      },
    ],
  };
}

/** A pod from a template, mutated as the workload identity webhook does: labelled, running as an annotated ServiceAccount. */
export function podFrom(
  c: ClusterRecord,
  ns: string,
  name: string,
  template: any,
  owner: any | undefined,
  labels: Record<string, string> = {},
  state: { ready: boolean; waiting?: { reason: string; message: string } } = { ready: true },
): KubeObject {
  const spec = JSON.parse(JSON.stringify(template.spec ?? {}));
  const sa = spec.serviceAccountName ?? 'default';
  const annotations = c.kube.serviceAccounts.get(`${ns}/${sa}`)?.metadata.annotations ?? {};
  const webhook = [...c.kube.webhooks.values()].some((h) =>
    (h.webhooks ?? []).some((x: any) => x.name === 'mutation.azure-workload-identity.io'),
  );
  const mutate =
    webhook && template.metadata?.labels?.[USE_LABEL] === 'true' && annotations['azure.workload.identity/client-id'];
  // From webhook v1.6, a pod that asks for it gets its token through the identity binding's proxy.
  const viaProxy =
    mutate &&
    template.metadata?.annotations?.['azure.workload.identity/use-identity-binding'] === 'true' &&
    atLeast(c.kube.webhookVersion, '1.6.0');
  spec.serviceAccountName = sa;
  spec.containers = (spec.containers ?? [{ name: 'app', image: 'app' }]).map((ct: any) => ({
    ...ct,
    env: [
      ...(ct.env ?? []),
      ...(mutate
        ? [
            { name: 'AZURE_CLIENT_ID', value: annotations['azure.workload.identity/client-id'] },
            { name: 'AZURE_TENANT_ID', value: annotations['azure.workload.identity/tenant-id'] ?? '' },
            // Webhook v1.6.0 moved the projected token.
            {
              name: 'AZURE_FEDERATED_TOKEN_FILE',
              value: atLeast(c.kube.webhookVersion, '1.6.0')
                ? '/var/run/secrets/azure/wi/token/azure-identity-token'
                : '/var/run/secrets/azure/tokens/azure-identity-token',
            },
            { name: 'AZURE_AUTHORITY_HOST', value: 'https://login.microsoftonline.com/' },
          ]
        : []),
      ...(viaProxy
        ? [
            { name: 'AZURE_KUBERNETES_TOKEN_PROXY', value: 'https://aks-identity-binding-proxy.kube-system.svc:443' },
            { name: 'AZURE_KUBERNETES_SNI_NAME', value: 'ib.oic.prod-aks.azure.com' },
            { name: 'AZURE_KUBERNETES_CA_FILE', value: '/var/run/secrets/azure/wi/ca/ca.crt' },
          ]
        : []),
    ],
  }));
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: kubeMeta(name, ns, {
      labels: { ...template.metadata?.labels, ...labels },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ...(owner ? { ownerReferences: [owner] } : {}),
    }),
    spec,
  };
  pod.status = podStatus(pod, state);
  return pod;
}

/** A workload someone else created: its manager owns the template fields it set. */
export function addWorkload(
  c: ClusterRecord,
  ns: string,
  kind: string,
  name: string,
  o: {
    serviceAccount?: string;
    labels?: Record<string, string>;
    /** The pod template's annotations. */
    podAnnotations?: Record<string, string>;
    meta?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    manager?: string;
    replicas?: number;
  },
) {
  const templateLabels = { app: name, ...o.labels };
  const template = {
    metadata: { labels: templateLabels, ...(o.podAnnotations ? { annotations: o.podAnnotations } : {}) },
    spec: {
      ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
      containers: [{ name, image: `contoso.azurecr.io/${name}:1.0` }],
    },
  };
  const w: KubeObject = {
    apiVersion: WORKLOADS[kind].group,
    kind,
    metadata: kubeMeta(name, ns, { labels: o.meta?.labels, annotations: o.meta?.annotations }),
    spec: {},
  };
  w.metadata.generation = 1;
  if (kind === 'CronJob') w.spec = { schedule: '0 1 * * *', jobTemplate: { spec: { template } } };
  else
    w.spec = {
      ...(kind === 'Deployment' || kind === 'StatefulSet' ? { replicas: o.replicas ?? 1 } : {}),
      selector: { matchLabels: { app: name } },
      template,
    };
  w.metadata.managedFields = [ownershipOf(w, o.manager ?? 'kubectl-client-side-apply', 'Update')];
  storeFor(c.kube, kind).set(`${ns}/${name}`, w);
  rollOut(c, w);
  return w;
}

/** A SecretProviderClass: its CRD is there only while the cluster's azureKeyvaultSecretsProvider add-on is on. */
export function applySecretProviderClass(
  c: ClusterRecord,
  ns: string,
  name: string,
  body: any,
  manager: string,
): KubeObject {
  if (c.resource.properties.addonProfiles?.azureKeyvaultSecretsProvider?.enabled !== true) {
    status(
      404,
      'NotFound',
      'the server could not find the requested resource (patch secretproviderclasses.secrets-store.csi.x-k8s.io)',
    );
  }
  if (
    body?.apiVersion !== 'secrets-store.csi.x-k8s.io/v1' ||
    body?.kind !== 'SecretProviderClass' ||
    body?.spec?.provider !== 'azure'
  )
    status(
      400,
      'BadRequest',
      'the body must be a SecretProviderClass of secrets-store.csi.x-k8s.io/v1 for the azure provider',
    );
  const existing = c.kube.secretProviderClasses.get(`${ns}/${name}`);
  // Server-side apply: spec.parameters is a map (granular), so a manager that sends some keys sets those and keeps
  // the others' keys; the rest of the spec is this manager's as sent. Each manager's entry names what it sent.
  const parameters = { ...existing?.spec?.parameters, ...body.spec.parameters };
  const obj: KubeObject = {
    apiVersion: body.apiVersion,
    kind: body.kind,
    metadata: existing?.metadata ?? kubeMeta(name, ns),
    spec: { ...existing?.spec, ...body.spec, parameters },
  };
  const others = (existing?.metadata.managedFields ?? []).filter((e: any) => e.manager !== manager);
  const keysOf = (e: any) => Object.keys(e?.fieldsV1?.['f:spec']?.['f:parameters'] ?? {}).map((k) => k.slice(2));
  // A key this manager applied before and no longer sends goes, unless another manager owns it too.
  const mine = existing?.metadata.managedFields?.find((e: any) => e.manager === manager);
  for (const k of keysOf(mine))
    if (!(k in (body.spec.parameters ?? {})) && !others.some((e: any) => keysOf(e).includes(k))) delete parameters[k];
  obj.metadata.managedFields = [
    ...others,
    {
      manager,
      operation: 'Apply',
      apiVersion: body.apiVersion,
      time: new Date().toISOString(),
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': {
          ...Object.fromEntries(
            Object.keys(body.spec)
              .filter((k) => k !== 'parameters')
              .map((k) => [`f:${k}`, {}]),
          ),
          'f:parameters': Object.fromEntries(Object.keys(body.spec.parameters ?? {}).map((k) => [`f:${k}`, {}])),
        },
      },
    },
  ];
  c.kube.secretProviderClasses.set(`${ns}/${name}`, obj);
  return obj;
}

/** Semantic versions, with or without a leading v. */
function atLeast(version: string, min: string) {
  const parts = (v: string) =>
    v
      .replace(/^v/, '')
      .split('.')
      .map((x) => parseInt(x, 10) || 0);
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Someone's SecretProviderClass, applied by `manager`; the CSI driver's add-on (which brings its resource) is turned on. */
export function addSecretProviderClass(
  c: ClusterRecord,
  ns: string,
  name: string,
  parameters: Record<string, string>,
  manager = 'kubectl',
) {
  c.resource.properties.addonProfiles = {
    ...c.resource.properties.addonProfiles,
    azureKeyvaultSecretsProvider: { enabled: true },
  };
  return applySecretProviderClass(
    c,
    ns,
    name,
    {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name, namespace: ns },
      spec: { provider: 'azure', parameters },
    },
    manager,
  );
}
