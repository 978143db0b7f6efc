import { randomUUID } from 'node:crypto';

/** Kubernetes objects as the API server stores them. managedFields tracks who owns which label and annotation. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    managedFields?: {
      manager: string;
      operation: 'Apply' | 'Update';
      apiVersion: string;
      time: string;
      fieldsType: 'FieldsV1';
      fieldsV1: any;
    }[];
  };
  [k: string]: any;
}

export interface KubeState {
  namespaces: Map<string, KubeObject>;
  /** key: "<ns>/<name>" */
  serviceAccounts: Map<string, KubeObject>;
  pods: Map<string, KubeObject>;
  replicaSets: Map<string, KubeObject>;
  deployments: Map<string, KubeObject>;
  statefulSets: Map<string, KubeObject>;
  daemonSets: Map<string, KubeObject>;
  jobs: Map<string, KubeObject>;
  cronJobs: Map<string, KubeObject>;
  /** SecretProviderClasses: the CRD exists only while the azureKeyvaultSecretsProvider add-on is on. */
  secretProviderClasses: Map<string, KubeObject>;
  webhooks: Map<string, KubeObject>;
  clusterRoles: Map<string, KubeObject>;
  clusterRoleBindings: Map<string, KubeObject>;
  /** The workload identity webhook's version: from v1.6 it injects the identity-binding proxy's variables. */
  webhookVersion: string;
  /**
   * false: a template change rolls out at once. true: as a controller does, one phase per read of the workload:
   * new pods starting (old ones still serving), new pods ready (old ones terminating), old ones gone.
   */
  stagedRollouts: boolean;
  /** Rollouts under way (staged), keyed "<kind>/<ns>/<name>". */
  rollouts: Map<string, RolloutRecord>;
  /** New pods of these workloads ("<ns>/<name>") never become ready: their first container waits with this reason. */
  failingPods: Map<string, { reason: string; message: string }>;
}

export interface RolloutRecord {
  /** 0 applied, not yet observed; 1 new pods starting; 2 new pods ready, old ones terminating; then done. */
  phase: number;
  /** Pod keys of the old revision, and of the new. */
  old: string[];
  fresh: string[];
  /** Reads while stuck (a failing pod): the progress deadline passes after a few. */
  stuckReads: number;
}

export interface ClusterRecord {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** Path segment of this cluster's API server on the Kubernetes fake. */
  key: string;
  resource: any;
  /** Static token in the cluster-user kubeconfig (local accounts). */
  userToken: string;
  kube: KubeState;
  operation?: ClusterOperation;
  /** Properties a PUT changed that it should not have: the property-preservation check. */
  violations: string[];
  /** managedClusters/identityBindings, by lower-case name. */
  identityBindings?: Map<string, IdentityBindingRecord>;
}

export interface IdentityBindingRecord {
  resource: any;
  operation?: { id: string; status: 'InProgress' | 'Succeeded'; startTime: string; endTime?: string; doneAt: number };
}

export interface ClusterOperation {
  id: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  doneAt: number;
  target: any;
  previous: any;
  error?: { code: string; message: string };
}

export interface IdentityRecord {
  resource: any;
  createdAt: number;
  credentials: Map<string, any>;
  /** A credential write holds the identity until then; another write meanwhile is a 409. */
  writeBusyUntil: number;
}

export interface SimState {
  tenants: { tenantId: string; displayName: string; defaultDomain: string }[];
  subscriptions: { subscriptionId: string; tenantId: string; displayName: string; state: string }[];
  clusters: Map<string, ClusterRecord>;
  identities: Map<string, IdentityRecord>;
  vaults: Map<string, any>;
  roleAssignments: Map<string, any>;
  commandResults: Map<string, { doneAt: number; result: any }>;
  /** Principals other than identities (users, groups) that role assignments may name. */
  knownPrincipals: Set<string>;
  /** "<subscription>/<resource group>" in lower case. */
  resourceGroups: Set<string>;
  /** Resource Graph queries per user (object id) in the current quota window. */
  graphQuota: Map<string, { windowStart: number; used: number }>;
  /** When each federated credential (by id, lower case) was last written: Entra ID needs a while to see it. */
  credentialWrittenAt: Map<string, number>;
  /** Key Vault secrets, keyed "<vault>/<name>" in lower case; values start with sim-secret-value- so scans find leaks. */
  secrets: Map<string, { value: string; enabled: boolean }>;
  /**
   * What others made: keys like "credential:<id>", "roleAssignment:<id>", "identity:<id>", "policy:<vault id>:<object id>:<kind>:<permission>",
   * (lower case). A delete or removal of one is recorded in violations and refused; so is deleting a ServiceAccount another manager has fields on.
   */
  othersOwn: Set<string>;
  /** Deletions of what others own: the nothing-lost check for Remove, as ClusterRecord.violations is for Bind's PUTs. */
  violations: string[];
}

export function emptyKube(): KubeState {
  return {
    namespaces: new Map(),
    serviceAccounts: new Map(),
    pods: new Map(),
    replicaSets: new Map(),
    deployments: new Map(),
    statefulSets: new Map(),
    daemonSets: new Map(),
    jobs: new Map(),
    cronJobs: new Map(),
    secretProviderClasses: new Map(),
    webhooks: new Map(),
    clusterRoles: new Map(),
    clusterRoleBindings: new Map(),
    webhookVersion: '1.6.0',
    stagedRollouts: false,
    rollouts: new Map(),
    failingPods: new Map(),
  };
}

export function emptyState(): SimState {
  return {
    tenants: [],
    subscriptions: [],
    clusters: new Map(),
    identities: new Map(),
    vaults: new Map(),
    roleAssignments: new Map(),
    commandResults: new Map(),
    knownPrincipals: new Set(),
    resourceGroups: new Set(),
    graphQuota: new Map(),
    credentialWrittenAt: new Map(),
    secrets: new Map(),
    othersOwn: new Set(),
    violations: [],
  };
}

let rv = 1000;
export const nextResourceVersion = () => String(++rv);

export function kubeMeta(
  name: string,
  namespace?: string,
  extra: Partial<KubeObject['metadata']> = {},
): KubeObject['metadata'] {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    uid: randomUUID(),
    resourceVersion: nextResourceVersion(),
    creationTimestamp: new Date().toISOString(),
    ...extra,
  };
}

export const armId = (sub: string, rg: string, provider: string, name: string) =>
  `/subscriptions/${sub}/resourceGroups/${rg}/providers/${provider}/${name}`;

export const keyOf = (id: string) => id.toLowerCase();

/** Deep copy through JSON: what the wire would do. */
export const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** A Kubernetes API error body (metav1.Status), as the API server sends it. */
export const kubeStatus = (code: number, reason: string, message: string, details?: object) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});
