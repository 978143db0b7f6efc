import * as l10n from '@vscode/l10n';
import type { TokenCredential } from '@azure/core-auth';
import * as https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { AKS_SERVER_SCOPE } from '../auth/cloud';
import { ClusterGateway } from '../azure/clusters';
import { Logger } from '../log';
import { storedZip } from './zip';
import { WORKLOAD_RESOURCES, WorkloadKind } from './workloads';

import { FIELD_MANAGER } from './fieldManager';
import { firstLine } from '../util/text';
import type { ResourceRef } from '../azure/resourceId';
import { errorNamed } from '../errors';

/** What reaching a cluster needs to know of it: which one, and whether it is private or signs in through Entra ID. */
export interface KubeClusterRef extends ResourceRef {
  entraId: boolean;
  private: boolean;
}

export { FIELD_MANAGER };

export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** When each annotation was last set, from managedFields (absent when the server does not track it). */
  annotationSetAt: Record<string, string>;
  /** Who manages which label and annotation, from managedFields: "annotations/<key>" or "labels/<key>" → managers. */
  fieldManagers: Record<string, string[]>;
}

export interface ApplyObject {
  apiVersion: 'v1';
  kind: 'Namespace' | 'ServiceAccount';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface PodInfo {
  name: string;
  serviceAccount: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Names of the environment variables of every container. */
  env: string[];
  createdAt: string;
  /** The controller: a ReplicaSet, resolved to its Deployment where there is one. */
  owner?: { kind: string; name: string };
  /** The pod's Ready condition. */
  ready: boolean;
  /** Why its first waiting container waits (ContainerCreating, CrashLoopBackOff, ImagePullBackOff, ...). */
  waiting?: { reason: string; message?: string };
  /** The deployment.kubernetes.io/revision of the ReplicaSet that made it. */
  replicaSetRevision?: string;
}

/** A MutatingWebhookConfiguration that injects the workload identity token. */
export interface WebhookInfo {
  name: string;
  /** Namespace of the service behind it: kube-system for the AKS add-on, another for a Helm install. */
  serviceNamespace?: string;
}

/** A ClusterRole's rules, as RBAC evaluates them. */
export interface ClusterRoleInfo {
  /** managers: the field managers of the object (who made or changes it). */
  metadata: { name: string; managers?: string[] };
  rules?: { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }[];
}
export interface RbacSubject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}
export interface ClusterRoleBindingInfo {
  metadata: { name: string; managers?: string[] };
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects?: RbacSubject[];
}
type RbacBody = { apiVersion: string; kind: 'ClusterRole' | 'ClusterRoleBinding'; metadata: { name: string } };

/** ClusterRoles and ClusterRoleBindings as the API server lists them, in the shape RBAC is evaluated on. */
function toRbac(roles: any[], bindings: any[]) {
  const managers = (o: any): string[] => [
    ...new Set<string>((o.metadata?.managedFields ?? []).map((m: any) => String(m.manager))),
  ];
  return {
    roles: roles.map((r): ClusterRoleInfo => ({
      metadata: { name: r.metadata.name, managers: managers(r) },
      rules: r.rules ?? [],
    })),
    bindings: bindings.map((b): ClusterRoleBindingInfo => ({
      metadata: { name: b.metadata.name, managers: managers(b) },
      roleRef: b.roleRef,
      subjects: b.subjects ?? [],
    })),
  };
}

/** A cluster's API, reached directly or, for a private cluster out of reach, through AKS run-command. */
export interface KubeTarget {
  readonly mode: 'direct' | 'runCommand';
  listNamespaces(): Promise<string[]>;
  listServiceAccounts(namespace: string): Promise<ServiceAccountInfo[]>;
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountInfo | undefined>;
  /** Server-side apply under FIELD_MANAGER, in order (a namespace before what lives in it). */
  apply(objects: ApplyObject[]): Promise<void>;
  /**
   * Server-side apply under FIELD_MANAGER, not forced, of the ServiceAccount with only the given annotations:
   * those this manager set and no longer applies go away unless another manager set them too.
   */
  releaseServiceAccountFields(namespace: string, name: string, keepAnnotations: Record<string, string>): Promise<void>;
  /** Deletes it; a ServiceAccount that is gone is no error. */
  deleteServiceAccount(namespace: string, name: string): Promise<void>;
  /** Pods of a namespace, each with its owning Deployment where there is one. */
  listPods(namespace: string): Promise<PodInfo[]>;
  /** The webhooks that mutate pods for workload identity. */
  listWorkloadIdentityWebhooks(): Promise<WebhookInfo[]>;
  /** A token for the ServiceAccount from the TokenRequest API (what the kubelet projects into a pod). Kept in memory only. */
  createToken(namespace: string, name: string, audience: string, expirationSeconds: number): Promise<string>;
  /** The Deployments, StatefulSets, DaemonSets, Jobs and CronJobs of a namespace, as the API server returns them. */
  listWorkloads(namespace: string): Promise<any[]>;
  getWorkload(kind: WorkloadKind, namespace: string, name: string): Promise<any>;
  /** Server-side apply of a partial workload under FIELD_MANAGER, never forced: another manager's field is a conflict. */
  applyWorkload(body: {
    apiVersion: string;
    kind: WorkloadKind;
    metadata: { name: string; namespace: string };
    spec: unknown;
  }): Promise<void>;
  /** The namespace's SecretProviderClasses; none where the CSI driver's resource does not exist. */
  listSecretProviderClasses(namespace: string): Promise<any[]>;
  /** Server-side apply of a SecretProviderClass (secrets-store.csi.x-k8s.io/v1) under FIELD_MANAGER, never forced. */
  applySecretProviderClass(
    body: { metadata: { name: string; namespace: string } } & Record<string, unknown>,
  ): Promise<void>;
  /** Every ClusterRole and ClusterRoleBinding: what decides who may use an identity through an identity binding. */
  listClusterRbac(): Promise<{ roles: ClusterRoleInfo[]; bindings: ClusterRoleBindingInfo[] }>;
  /**
   * Server-side apply of a ClusterRole or ClusterRoleBinding under FIELD_MANAGER, forced: a binding's subjects are one
   * atomic list, so the caller sends the whole list it read, others' subjects included.
   */
  applyClusterRbac(body: RbacBody & Record<string, unknown>): Promise<void>;
  /** Deletes it; one that is gone is no error. */
  deleteClusterRbac(kind: 'ClusterRole' | 'ClusterRoleBinding', name: string): Promise<void>;
}

export type { WorkloadKind } from './workloads';

/** The webhook's name in the AKS add-on and in the upstream Helm chart. */
const WI_WEBHOOK = 'mutation.azure-workload-identity.io';

function toWebhooks(items: any[]): WebhookInfo[] {
  return items
    .filter((c) => (c.webhooks ?? []).some((w: any) => w.name === WI_WEBHOOK))
    .map((c) => ({
      name: c.metadata.name,
      serviceNamespace: c.webhooks.find((w: any) => w.name === WI_WEBHOOK)?.clientConfig?.service?.namespace,
    }));
}

/** Pods with their controller resolved through its ReplicaSet to the Deployment that a user edits. */
function toPods(pods: any[], replicaSets: any[]): PodInfo[] {
  const controller = (o: any) =>
    (o?.metadata?.ownerReferences ?? []).find((r: any) => r.controller) as { kind: string; name: string } | undefined;
  const rsOwner = new Map(replicaSets.map((rs) => [rs.metadata.name as string, controller(rs)]));
  const rsRevision = new Map(
    replicaSets.map((rs) => [
      rs.metadata.name as string,
      rs.metadata.annotations?.['deployment.kubernetes.io/revision'] as string | undefined,
    ]),
  );
  return pods.map((p) => {
    const own = controller(p);
    const deployment = own?.kind === 'ReplicaSet' ? rsOwner.get(own.name) : undefined;
    const containers = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])];
    const waiting = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
      .map((c: any) => c.state?.waiting)
      .find((w: any) => w?.reason);
    const revision = own?.kind === 'ReplicaSet' ? rsRevision.get(own.name) : undefined;
    return {
      ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      ...(waiting
        ? {
            waiting: {
              reason: String(waiting.reason),
              ...(waiting.message ? { message: String(waiting.message) } : {}),
            },
          }
        : {}),
      ...(revision ? { replicaSetRevision: revision } : {}),
      name: p.metadata.name,
      annotations: p.metadata.annotations ?? {},
      serviceAccount: p.spec?.serviceAccountName ?? 'default',
      labels: { ...p.metadata.labels },
      env: containers.flatMap((c: any) => (c.env ?? []).map((e: any) => e.name as string)),
      createdAt: new Date(p.metadata.creationTimestamp).toISOString(),
      owner: deployment
        ? { kind: deployment.kind, name: deployment.name }
        : own
          ? { kind: own.kind, name: own.name }
          : undefined,
    };
  });
}

function annotationTimes(managedFields: any[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of managedFields) {
    if (!f.time) continue;
    for (const k of Object.keys(f.fieldsV1?.['f:metadata']?.['f:annotations'] ?? {}))
      out[k.slice(2)] = new Date(f.time).toISOString();
  }
  return out;
}
function fieldManagers(managedFields: any[] = []): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of managedFields) {
    for (const field of ['labels', 'annotations']) {
      for (const k of Object.keys(f.fieldsV1?.['f:metadata']?.[`f:${field}`] ?? {}))
        (out[`${field}/${k.slice(2)}`] ??= []).push(f.manager);
    }
  }
  return out;
}
const toSa = (o: any): ServiceAccountInfo => ({
  namespace: o.metadata.namespace,
  name: o.metadata.name,
  annotations: { ...o.metadata.annotations },
  labels: { ...o.metadata.labels },
  annotationSetAt: annotationTimes(o.metadata.managedFields),
  fieldManagers: fieldManagers(o.metadata.managedFields),
});
const releaseBody = (namespace: string, name: string, annotations: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace, ...(Object.keys(annotations).length ? { annotations } : {}) },
});
const isNotFound = (e: any) => e?.code === 404 || e?.statusCode === 404;

export interface KubeOptions {
  /** A call with no answer after this long fails (and is retried). */
  requestTimeoutMs?: number;
  retryDelayMs?: number;
}

const TRANSIENT_NET = ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'TIMEOUT'];
const transient = (e: any) =>
  e?.code === 429 ||
  (typeof e?.code === 'number' && e.code >= 500) ||
  TRANSIENT_NET.includes(e?.code) ||
  TRANSIENT_NET.includes(e?.cause?.code) ||
  e?.type === 'system';

/**
 * @kubernetes/client-node neither retries nor times out: throttling, server errors, dropped connections and
 * unanswered calls are retried here with backoff (server-side apply and reads are idempotent).
 */
async function resilient<T>(what: () => Promise<T>, opts: KubeOptions, attempts = 4): Promise<T> {
  const timeoutMs = opts.requestTimeoutMs ?? 60_000;
  for (let i = 1; ; i++) {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        what(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                Object.assign(new Error(l10n.t('No answer from the Kubernetes API within {0} ms.', timeoutMs)), {
                  code: 'TIMEOUT',
                }),
              ),
            timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      if (i >= attempts || !transient(e)) throw e;
      const retryAfter = Number((e as any)?.headers?.['retry-after']);
      await new Promise((r) =>
        setTimeout(
          r,
          Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : (opts.retryDelayMs ?? 800) * 2 ** (i - 1),
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

class DirectTarget implements KubeTarget {
  readonly mode = 'direct' as const;
  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly apps: k8s.AppsV1Api,
    private readonly batch: k8s.BatchV1Api,
    private readonly admission: k8s.AdmissionregistrationV1Api,
    private readonly custom: k8s.CustomObjectsApi,
    private readonly rbac: k8s.RbacAuthorizationV1Api,
    private readonly opts: KubeOptions,
  ) {}

  async listClusterRbac() {
    const [roles, bindings] = await Promise.all([
      resilient(() => this.rbac.listClusterRole(), this.opts),
      resilient(() => this.rbac.listClusterRoleBinding(), this.opts),
    ]);
    return toRbac(roles.items, bindings.items);
  }
  async applyClusterRbac(body: RbacBody & Record<string, unknown>) {
    const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    const args = { name: body.metadata.name, body, fieldManager: FIELD_MANAGER, force: true };
    await resilient(
      () =>
        body.kind === 'ClusterRole'
          ? this.rbac.patchClusterRole(args, ssa)
          : this.rbac.patchClusterRoleBinding(args, ssa),
      this.opts,
    );
  }
  async deleteClusterRbac(kind: 'ClusterRole' | 'ClusterRoleBinding', name: string) {
    try {
      await resilient(
        () =>
          kind === 'ClusterRole' ? this.rbac.deleteClusterRole({ name }) : this.rbac.deleteClusterRoleBinding({ name }),
        this.opts,
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async listSecretProviderClasses(namespace: string) {
    try {
      const list: any = await resilient(
        () =>
          this.custom.listNamespacedCustomObject({
            group: 'secrets-store.csi.x-k8s.io',
            version: 'v1',
            namespace,
            plural: 'secretproviderclasses',
          }),
        this.opts,
      );
      return list.items as any[];
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }

  async applySecretProviderClass(body: Parameters<KubeTarget['applySecretProviderClass']>[0]) {
    const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    await resilient(
      () =>
        this.custom.patchNamespacedCustomObject(
          {
            group: 'secrets-store.csi.x-k8s.io',
            version: 'v1',
            namespace: body.metadata.namespace,
            plural: 'secretproviderclasses',
            name: body.metadata.name,
            body,
            fieldManager: FIELD_MANAGER,
            force: false,
          },
          ssa,
        ),
      this.opts,
    );
  }

  /** The typed client calls per workload kind: the generic object API would need discovery documents. */
  private workloadApi(kind: WorkloadKind): {
    list(ns: string): Promise<{ items: any[] }>;
    read(name: string, ns: string): Promise<any>;
    patch(p: any, o: any): Promise<any>;
  } {
    const a = this.apps,
      b = this.batch;
    switch (kind) {
      case 'Deployment':
        return {
          list: (namespace: string) => a.listNamespacedDeployment({ namespace }),
          read: (name: string, namespace: string) => a.readNamespacedDeployment({ name, namespace }),
          patch: (p: any, o: any) => a.patchNamespacedDeployment(p, o),
        };
      case 'StatefulSet':
        return {
          list: (namespace: string) => a.listNamespacedStatefulSet({ namespace }),
          read: (name: string, namespace: string) => a.readNamespacedStatefulSet({ name, namespace }),
          patch: (p: any, o: any) => a.patchNamespacedStatefulSet(p, o),
        };
      case 'DaemonSet':
        return {
          list: (namespace: string) => a.listNamespacedDaemonSet({ namespace }),
          read: (name: string, namespace: string) => a.readNamespacedDaemonSet({ name, namespace }),
          patch: (p: any, o: any) => a.patchNamespacedDaemonSet(p, o),
        };
      case 'Job':
        return {
          list: (namespace: string) => b.listNamespacedJob({ namespace }),
          read: (name: string, namespace: string) => b.readNamespacedJob({ name, namespace }),
          patch: (p: any, o: any) => b.patchNamespacedJob(p, o),
        };
      case 'CronJob':
        return {
          list: (namespace: string) => b.listNamespacedCronJob({ namespace }),
          read: (name: string, namespace: string) => b.readNamespacedCronJob({ name, namespace }),
          patch: (p: any, o: any) => b.patchNamespacedCronJob(p, o),
        };
    }
  }
  async listWorkloads(namespace: string) {
    const lists = await Promise.all(
      (Object.keys(WORKLOAD_RESOURCES) as WorkloadKind[]).map((kind) =>
        resilient(() => this.workloadApi(kind).list(namespace), this.opts).then((l: any) =>
          l.items.map((o: any) => ({ ...o, kind, apiVersion: WORKLOAD_RESOURCES[kind].apiVersion })),
        ),
      ),
    );
    return lists.flat();
  }
  async getWorkload(kind: WorkloadKind, namespace: string, name: string) {
    return {
      ...(await resilient(() => this.workloadApi(kind).read(name, namespace), this.opts)),
      kind,
      apiVersion: WORKLOAD_RESOURCES[kind].apiVersion,
    };
  }
  async applyWorkload(body: Parameters<KubeTarget['applyWorkload']>[0]) {
    const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    await resilient(
      () =>
        this.workloadApi(body.kind).patch(
          {
            name: body.metadata.name,
            namespace: body.metadata.namespace,
            body,
            fieldManager: FIELD_MANAGER,
            force: false,
          },
          ssa,
        ),
      this.opts,
    );
  }

  async listNamespaces() {
    return (await resilient(() => this.core.listNamespace(), this.opts)).items.map((n) => n.metadata!.name!);
  }
  async listServiceAccounts(namespace: string) {
    return (await resilient(() => this.core.listNamespacedServiceAccount({ namespace }), this.opts)).items.map(toSa);
  }
  async getServiceAccount(namespace: string, name: string) {
    try {
      return toSa(await resilient(() => this.core.readNamespacedServiceAccount({ name, namespace }), this.opts));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
  async apply(objects: ApplyObject[]) {
    const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    for (const o of objects) {
      if (o.kind === 'Namespace')
        await resilient(
          () =>
            this.core.patchNamespace({ name: o.metadata.name, body: o, fieldManager: FIELD_MANAGER, force: true }, ssa),
          this.opts,
        );
      else
        await resilient(
          () =>
            this.core.patchNamespacedServiceAccount(
              {
                name: o.metadata.name,
                namespace: o.metadata.namespace!,
                body: o,
                fieldManager: FIELD_MANAGER,
                force: true,
              },
              ssa,
            ),
          this.opts,
        );
    }
  }
  async releaseServiceAccountFields(namespace: string, name: string, keepAnnotations: Record<string, string>) {
    const ssa = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
    await resilient(
      () =>
        this.core.patchNamespacedServiceAccount(
          {
            name,
            namespace,
            body: releaseBody(namespace, name, keepAnnotations),
            fieldManager: FIELD_MANAGER,
            force: false,
          },
          ssa,
        ),
      this.opts,
    );
  }
  async deleteServiceAccount(namespace: string, name: string) {
    try {
      await resilient(() => this.core.deleteNamespacedServiceAccount({ name, namespace }), this.opts);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  async listPods(namespace: string) {
    const [pods, rs] = await Promise.all([
      resilient(() => this.core.listNamespacedPod({ namespace }), this.opts),
      resilient(() => this.apps.listNamespacedReplicaSet({ namespace }), this.opts),
    ]);
    return toPods(pods.items, rs.items);
  }
  async listWorkloadIdentityWebhooks() {
    return toWebhooks((await resilient(() => this.admission.listMutatingWebhookConfiguration(), this.opts)).items);
  }
  async createToken(namespace: string, name: string, audience: string, expirationSeconds: number) {
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [audience], expirationSeconds },
    };
    const r = await resilient(
      () => this.core.createNamespacedServiceAccountToken({ name, namespace, body }),
      this.opts,
    );
    return r.status!.token;
  }
}

export class RunCommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly logs: string,
  ) {
    super(l10n.t("run-command '{0}' exited {1}: {2}", command, exitCode, firstLine(logs)));
    this.name = 'RunCommandError';
  }
}

/** kubectl inside the cluster, through the managed cluster's run-command API (what `az aks command invoke` uses). */
class RunCommandTarget implements KubeTarget {
  readonly mode = 'runCommand' as const;
  constructor(
    private readonly clusters: ClusterGateway,
    private readonly cluster: KubeClusterRef,
    private readonly clusterToken: () => Promise<string | undefined>,
  ) {}

  private async kubectl(command: string, files?: Record<string, string>) {
    const context = files ? storedZip(files).toString('base64') : undefined;
    const r = await this.clusters.runCommand(this.cluster, command, context, await this.clusterToken());
    if (r.exitCode !== 0) throw new RunCommandError(command, r.exitCode, r.logs);
    return r.logs;
  }

  async listNamespaces() {
    return JSON.parse(await this.kubectl('kubectl get namespaces -o json')).items.map((n: any) => n.metadata.name);
  }
  async listServiceAccounts(namespace: string) {
    return JSON.parse(await this.kubectl(`kubectl get serviceaccounts -n ${namespace} -o json`)).items.map(toSa);
  }
  async getServiceAccount(namespace: string, name: string) {
    try {
      return toSa(JSON.parse(await this.kubectl(`kubectl get serviceaccount ${name} -n ${namespace} -o json`)));
    } catch (e) {
      if (errorNamed(e, 'RunCommandError') && /NotFound/.test((e as RunCommandError).logs)) return undefined;
      throw e;
    }
  }
  async apply(objects: ApplyObject[]) {
    const manifest = objects.map((o) => stringify(o)).join('---\n');
    await this.kubectl(
      `kubectl apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f manifest.yaml`,
      { 'manifest.yaml': manifest },
    );
  }
  async releaseServiceAccountFields(namespace: string, name: string, keepAnnotations: Record<string, string>) {
    await this.kubectl(`kubectl apply --server-side --field-manager=${FIELD_MANAGER} -f manifest.yaml`, {
      'manifest.yaml': stringify(releaseBody(namespace, name, keepAnnotations)),
    });
  }
  async deleteServiceAccount(namespace: string, name: string) {
    await this.kubectl(`kubectl delete serviceaccount ${name} -n ${namespace} --ignore-not-found`);
  }
  async listPods(namespace: string) {
    const [pods, rs] = await Promise.all([
      this.kubectl(`kubectl get pods -n ${namespace} -o json`),
      this.kubectl(`kubectl get replicasets -n ${namespace} -o json`),
    ]);
    return toPods(JSON.parse(pods).items, JSON.parse(rs).items);
  }
  async listWorkloadIdentityWebhooks() {
    return toWebhooks(JSON.parse(await this.kubectl('kubectl get mutatingwebhookconfigurations -o json')).items);
  }
  async listWorkloads(namespace: string) {
    const plurals = Object.values(WORKLOAD_RESOURCES).map((r) => r.plural);
    const lists = await Promise.all(
      plurals.map(
        async (p) => JSON.parse(await this.kubectl(`kubectl get ${p} -n ${namespace} -o json`)).items as any[],
      ),
    );
    return lists.flat();
  }
  async getWorkload(kind: WorkloadKind, namespace: string, name: string) {
    return (await this.listWorkloads(namespace)).find((w) => w.kind === kind && w.metadata.name === name);
  }
  async listSecretProviderClasses(namespace: string) {
    try {
      return JSON.parse(
        await this.kubectl(`kubectl get secretproviderclasses.secrets-store.csi.x-k8s.io -n ${namespace} -o json`),
      ).items as any[];
    } catch (e) {
      // The CSI driver's resource type is not installed: kubectl says so, and there is nothing to list.
      if (errorNamed(e, 'RunCommandError') && /doesn't have a resource type/.test((e as RunCommandError).logs))
        return [];
      throw e;
    }
  }
  async applySecretProviderClass(body: Parameters<KubeTarget['applySecretProviderClass']>[0]) {
    await this.kubectl(`kubectl apply --server-side --field-manager=${FIELD_MANAGER} -f manifest.yaml`, {
      'manifest.yaml': stringify(body),
    });
  }
  async applyWorkload(body: Parameters<KubeTarget['applyWorkload']>[0]) {
    await this.kubectl(`kubectl apply --server-side --field-manager=${FIELD_MANAGER} -f manifest.yaml`, {
      'manifest.yaml': stringify(body),
    });
  }
  async listClusterRbac() {
    const [roles, bindings] = await Promise.all([
      this.kubectl('kubectl get clusterroles -o json'),
      this.kubectl('kubectl get clusterrolebindings -o json'),
    ]);
    return toRbac(JSON.parse(roles).items, JSON.parse(bindings).items);
  }
  async applyClusterRbac(body: RbacBody & Record<string, unknown>) {
    await this.kubectl(
      `kubectl apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f manifest.yaml`,
      { 'manifest.yaml': stringify(body) },
    );
  }
  async deleteClusterRbac(kind: 'ClusterRole' | 'ClusterRoleBinding', name: string) {
    await this.kubectl(`kubectl delete ${kind.toLowerCase()} ${name} --ignore-not-found`);
  }
  async createToken(namespace: string, name: string, audience: string, expirationSeconds: number) {
    return (
      await this.kubectl(
        `kubectl create token ${name} -n ${namespace} --audience ${audience} --duration ${Math.round(expirationSeconds / 60)}m`,
      )
    ).trim();
  }
}

/**
 * A command through AKS run-command with files it can read, whether the API server is reachable or not: it runs
 * with the signed-in user's rights (an Entra ID cluster gets the user's token for the AKS server application).
 */
export async function runInCluster(
  clusters: ClusterGateway,
  credential: TokenCredential,
  cluster: KubeClusterRef,
  command: string,
  files: Record<string, string>,
  signal?: AbortSignal,
) {
  const clusterToken = cluster.entraId ? (await credential.getToken(AKS_SERVER_SCOPE))?.token : undefined;
  return clusters.runCommand(cluster, command, storedZip(files).toString('base64'), clusterToken, signal);
}

const IDLE_CONNECTION_MS = 30_000;

/**
 * kc.makeApiClient, except that every client of one connection shares one keep-alive agent. client-node makes a
 * new agent for each request, so each call to the API server paid a TCP and TLS handshake (two more round trips).
 * A connection idle for IDLE_CONNECTION_MS is closed, so a flow resumed after a long review does not write into a
 * connection a load balancer has dropped. A proxy's agent is left as client-node makes it.
 */
function apiClients(kc: k8s.KubeConfig, server: string) {
  let shared: https.Agent | undefined;
  const keepAlive: k8s.Middleware = {
    async pre(context) {
      const made = context.getAgent();
      if (made?.constructor === https.Agent)
        context.setAgent(
          (shared ??= new https.Agent({
            ...(made as https.Agent).options,
            keepAlive: true,
            timeout: IDLE_CONNECTION_MS,
          })),
        );
      return context;
    },
    async post(context) {
      return context;
    },
  };
  const configuration = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [keepAlive],
  });
  return <T>(type: new (configuration: k8s.Configuration) => T): T => new type(configuration);
}

const UNREACHABLE = [
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UNREACHABLE',
];
const unreachable = (e: any) =>
  UNREACHABLE.includes(e?.code) ||
  UNREACHABLE.includes(e?.cause?.code) ||
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(String(e?.message));

/**
 * Connects with the cluster-user kubeconfig, kept in memory only. Entra ID clusters get a bearer token for the AKS
 * server application from the same sign-in instead of kubelogin. A private cluster whose API server cannot be
 * reached is driven through run-command.
 */
export async function connectToCluster(
  clusters: ClusterGateway,
  credential: TokenCredential,
  cluster: KubeClusterRef,
  log: Logger,
  opts: KubeOptions = {},
  probeTimeoutMs = 5000,
): Promise<KubeTarget> {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(await clusters.userKubeconfig(cluster));
  const c = kc.getCurrentCluster();
  if (!c) throw new Error(l10n.t('The cluster-user kubeconfig names no cluster.'));
  const aksToken = async () => (await credential.getToken(AKS_SERVER_SCOPE))?.token;
  if (cluster.entraId) {
    const token = await aksToken();
    if (!token) throw new Error(l10n.t('No token for the AKS server application from the current sign-in.'));
    const fresh = new k8s.KubeConfig();
    fresh.loadFromOptions({
      clusters: [c],
      users: [{ name: 'aks-workload-identity', token }],
      contexts: [{ name: 'ctx', cluster: c.name, user: 'aks-workload-identity' }],
      currentContext: 'ctx',
    });
    kc.loadFromOptions({
      clusters: fresh.clusters,
      users: fresh.users,
      contexts: fresh.contexts,
      currentContext: 'ctx',
    });
  }
  const api = apiClients(kc, c.server);
  const direct = new DirectTarget(
    api(k8s.CoreV1Api),
    api(k8s.AppsV1Api),
    api(k8s.BatchV1Api),
    api(k8s.AdmissionregistrationV1Api),
    api(k8s.CustomObjectsApi),
    api(k8s.RbacAuthorizationV1Api),
    opts,
  );
  if (!cluster.private) return direct;
  try {
    await Promise.race([
      api(k8s.VersionApi).getCode(),
      new Promise((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })), probeTimeoutMs),
      ),
    ]);
    return direct;
  } catch (e) {
    if (!unreachable(e)) throw e;
    log.info(`The API server of ${cluster.name} is private and out of reach from here; using AKS run-command.`);
    return new RunCommandTarget(clusters, cluster, async () => (cluster.entraId ? aksToken() : undefined));
  }
}
