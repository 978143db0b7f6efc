import type { KubeTarget, WorkloadKind } from '../../kube/access';
import { WORKLOAD_RESOURCES } from '../../kube/access';
import { CancelledError, StepError, describeError, throwIfAborted } from '../errors';
import { CLIENT_ID_ANNOTATION } from '../manifest';
import { USE_LABEL, WORKLOAD_KINDS } from './yamlEdit';
import type { ConnectTarget } from './workspace';

export const CONNECT_LIVE_STEP = 'Set the ServiceAccount and the label on the workload';

/** A workload in the cluster, as Connect Workload shows it. */
export interface LiveWorkload {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  serviceAccountName?: string;
  labelled: boolean;
  /** The tool that will undo a live change: Helm, Flux or Argo CD. */
  managedBy?: string;
  generation: number;
}

const getIn = (o: any, path: string[]) => path.reduce((v, k) => (v == null ? undefined : v[k]), o);

/** Who reconciles the object from elsewhere, from the marks each tool leaves on it. */
export function controllerOf(meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): string | undefined {
  const labels = meta.labels ?? {}, annotations = meta.annotations ?? {};
  const keys = [...Object.keys(labels), ...Object.keys(annotations)];
  if (labels['app.kubernetes.io/managed-by'] === 'Helm' || annotations['meta.helm.sh/release-name']) return 'Helm';
  if (keys.some((k) => k.startsWith('kustomize.toolkit.fluxcd.io/') || k.startsWith('helm.toolkit.fluxcd.io/'))) return 'Flux';
  if (keys.some((k) => k.startsWith('argocd.argoproj.io/'))) return 'Argo CD';
  return undefined;
}

export function toLiveWorkload(o: any): LiveWorkload {
  const template = WORKLOAD_KINDS[o.kind];
  const sa = getIn(o, [...template, 'spec', 'serviceAccountName']) ?? getIn(o, [...template, 'spec', 'serviceAccount']);
  return {
    kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, ...(sa ? { serviceAccountName: sa } : {}),
    labelled: getIn(o, [...template, 'metadata', 'labels', USE_LABEL]) === 'true', ...(controllerOf(o.metadata) ? { managedBy: controllerOf(o.metadata) } : {}),
    generation: o.metadata.generation ?? 1,
  };
}

export interface LivePlan {
  workload: LiveWorkload;
  changes: string[];
  warnings: string[];
  /** Why it cannot be done live; the workspace path remains. */
  blocked?: string;
}

/** What a live change does, and what the user must know first. */
export function planLive(w: LiveWorkload, t: ConnectTarget, serviceAccounts: { name: string; annotations: Record<string, string> }[]): LivePlan {
  const template = WORKLOAD_KINDS[w.kind].join('.');
  const changes: string[] = [];
  if (w.serviceAccountName !== t.serviceAccount) changes.push(`${template}.spec.serviceAccountName: ${w.serviceAccountName ?? '(default)'} → ${t.serviceAccount}`);
  if (!w.labelled) changes.push(`${template}.metadata.labels["${USE_LABEL}"]: "true"`);
  const warnings: string[] = [];
  if (w.managedBy) warnings.push(`${w.kind} ${w.name} is managed by ${w.managedBy}, which will undo a live change at its next sync: change its source instead (Connect Workload in the workspace).`);
  const other = w.serviceAccountName && w.serviceAccountName !== t.serviceAccount ? serviceAccounts.find((s) => s.name === w.serviceAccountName)?.annotations[CLIENT_ID_ANNOTATION] : undefined;
  if (other) warnings.push(`${w.kind} ${w.name} runs as ${w.serviceAccountName} now, bound to the identity with client id ${other}: it will stop using that identity.`);
  if (changes.length) warnings.push(w.kind === 'CronJob' ? `Jobs that ${w.name} starts from now on get the token; running ones do not.` : `${w.kind} ${w.name} rolls out new pods; pods started before keep running without the token until they are replaced.`);
  const blocked = changes.length && w.kind === 'Job' ? `A Job's pod template cannot be changed once created: change its manifest (Connect Workload in the workspace) and create the Job again.` : undefined;
  return { workload: w, changes, warnings, ...(blocked ? { blocked } : {}) };
}

/** Only the two fields, as a partial object: server-side apply makes aks-workload-identity their owner and nothing else. */
export function applyBody(w: LiveWorkload, serviceAccount: string) {
  const root: any = {};
  let template = root;
  for (const k of WORKLOAD_KINDS[w.kind]) template = template[k] ??= {};
  template.metadata = { labels: { [USE_LABEL]: 'true' } };
  template.spec = { serviceAccountName: serviceAccount };
  return { apiVersion: WORKLOAD_RESOURCES[w.kind].apiVersion, kind: w.kind, metadata: { name: w.name, namespace: w.namespace }, spec: root.spec };
}

const done = (o: any) => {
  const s = o.status ?? {};
  if ((s.observedGeneration ?? 0) < (o.metadata.generation ?? 1)) return false;
  if (o.kind === 'DaemonSet' && s.desiredNumberScheduled !== undefined) return s.updatedNumberScheduled === s.desiredNumberScheduled && s.numberAvailable === s.desiredNumberScheduled;
  const want = o.spec?.replicas ?? 1;
  return (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want;
};

/**
 * Reads the workload, applies the two fields if they are not in place (never forcing another manager's field), then
 * follows the rollout until the new pods are available. Returns what it did.
 */
export async function connectLive(kube: KubeTarget, w: LiveWorkload, serviceAccount: string, opts: { signal?: AbortSignal; progress?: (m: string) => void; sleep: (ms: number, signal?: AbortSignal) => Promise<void>; rolloutTimeoutMs?: number }): Promise<'updated' | 'unchanged'> {
  const fail = (e: unknown): never => {
    if (e instanceof CancelledError || e instanceof StepError) throw e;
    const d = describeError(e);
    throw new StepError(CONNECT_LIVE_STEP, d.code, d.message,
      d.status === 409 ? `Another field manager owns it: change the workload where it is managed (its manifest, chart or repository), or ask its owner. Connect Workload never forces a field another tool owns.`
        : d.status === 403 ? `Your Kubernetes role does not allow patching ${WORKLOAD_RESOURCES[w.kind].plural} in ${w.namespace}.` : undefined, d.status);
  };
  const current = toLiveWorkload(await kube.getWorkload(w.kind, w.namespace, w.name).catch(fail));
  if (current.serviceAccountName === serviceAccount && current.labelled) return 'unchanged';
  throwIfAborted(opts.signal);
  opts.progress?.(`Applying serviceAccountName and the label to ${w.kind} ${w.name}…`);
  await kube.applyWorkload(applyBody(w, serviceAccount)).catch(fail);
  const applied = toLiveWorkload(await kube.getWorkload(w.kind, w.namespace, w.name).catch(fail));
  if (applied.serviceAccountName !== serviceAccount || !applied.labelled) {
    throw new StepError(CONNECT_LIVE_STEP, 'NotApplied', `The API server accepted the change, but ${w.kind} ${w.name} still runs as ${applied.serviceAccountName ?? '(default)'}${applied.labelled ? '' : ' without the label'}: an admission policy may have rewritten it.`);
  }
  if (w.kind === 'CronJob' || w.kind === 'Job') return 'updated';
  const until = Date.now() + (opts.rolloutTimeoutMs ?? 5 * 60_000);
  for (let i = 0; ; i++) {
    const o = await kube.getWorkload(w.kind, w.namespace, w.name).catch(fail);
    if (done(o)) return 'updated';
    if (Date.now() > until) throw new StepError(CONNECT_LIVE_STEP, 'RolloutTimeout', `${w.kind} ${w.name} did not finish rolling out within ${Math.round((opts.rolloutTimeoutMs ?? 300_000) / 1000)} s: ${JSON.stringify(o.status ?? {})}.`, 'The change is applied; check the rollout (kubectl rollout status) and its pods\' events.');
    opts.progress?.(`Rolling out ${w.kind} ${w.name}: ${o.status?.updatedReplicas ?? 0} of ${o.spec?.replicas ?? 1} new pods ready…`);
    await opts.sleep(Math.min(1000 * 2 ** i, 5000), opts.signal);
  }
}
