import * as l10n from '@vscode/l10n';
import type { KubeTarget } from '../../kube/access';
import { WORKLOAD_RESOURCES, WorkloadKind } from '../../kube/workloads';
import { StepError, describeError, errorNamed, throwIfAborted } from '../../errors';
import { CLIENT_ID_ANNOTATION } from '../manifest';
import { SECRETS_STORE_MOUNT, SECRETS_STORE_VOLUME, workloadTemplate } from './yamlEdit';
import { USE_LABEL } from '../manifest';
import { USE_IDENTITY_BINDING_ANNOTATION, appSideOfIdentityBinding } from '../binding';
import { secretProviderClassObject } from './secretProviderClass';
import type { SecretsRequest } from './workspace';
import type { Binding } from '../binding';
import { newPodsSummary, newRevisionPods, podRemedy, rolloutState, stuckPod } from './rollout';

const connectLiveStep = () => l10n.t('Set the ServiceAccount and the label on the workload');

/** A workload in the cluster, as Connect Workload shows it. */
export interface LiveWorkload {
  kind: WorkloadKind;
  name: string;
  namespace: string;
  serviceAccountName?: string;
  labelled: boolean;
  /** The pod template asks for its token through an identity binding. */
  annotatedForIdentityBinding?: boolean;
  /** The tool that will undo a live change: Helm, Flux or Argo CD. */
  managedBy?: string;
  generation: number;
  /** The first container's name: a SecretProviderClass is mounted there. */
  firstContainer?: string;
  /** Whether the pod template already has the secrets-store volume. */
  mounted: boolean;
}

const getIn = (o: any, path: string[]) => path.reduce((v, k) => (v == null ? undefined : v[k]), o);

/** Who reconciles the object from elsewhere, from the marks each tool leaves on it. */
export function controllerOf(
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): string | undefined {
  const labels = meta.labels ?? {},
    annotations = meta.annotations ?? {};
  const keys = [...Object.keys(labels), ...Object.keys(annotations)];
  if (labels['app.kubernetes.io/managed-by'] === 'Helm' || annotations['meta.helm.sh/release-name']) return 'Helm';
  if (keys.some((k) => k.startsWith('kustomize.toolkit.fluxcd.io/') || k.startsWith('helm.toolkit.fluxcd.io/')))
    return 'Flux';
  if (keys.some((k) => k.startsWith('argocd.argoproj.io/'))) return 'Argo CD';
  return undefined;
}

export function toLiveWorkload(o: any): LiveWorkload {
  const template = workloadTemplate(o.kind);
  const sa = getIn(o, [...template, 'spec', 'serviceAccountName']) ?? getIn(o, [...template, 'spec', 'serviceAccount']);
  return {
    kind: o.kind,
    name: o.metadata.name,
    namespace: o.metadata.namespace,
    ...(sa ? { serviceAccountName: sa } : {}),
    labelled: getIn(o, [...template, 'metadata', 'labels', USE_LABEL]) === 'true',
    annotatedForIdentityBinding:
      getIn(o, [...template, 'metadata', 'annotations', USE_IDENTITY_BINDING_ANNOTATION]) === 'true',
    ...(controllerOf(o.metadata) ? { managedBy: controllerOf(o.metadata) } : {}),
    generation: o.metadata.generation ?? 1,
    ...(getIn(o, [...template, 'spec', 'containers', '0', 'name'])
      ? { firstContainer: getIn(o, [...template, 'spec', 'containers', '0', 'name']) }
      : {}),
    mounted: (getIn(o, [...template, 'spec', 'volumes']) ?? []).some((v: any) => v.name === SECRETS_STORE_VOLUME),
  };
}

/** The SecretProviderClass to apply and mount, with its name. */
export type LiveSecrets = SecretsRequest & { name: string };

export interface LivePlan {
  workload: LiveWorkload;
  secrets?: LiveSecrets;
  changes: string[];
  warnings: string[];
  /** Why it cannot be done live; the workspace path remains. */
  blocked?: string;
}

/** What a live change does, and what the user must know first. */
export function planLive(
  w: LiveWorkload,
  t: Binding,
  serviceAccounts: { name: string; annotations: Record<string, string> }[],
  secrets?: SecretsRequest,
): LivePlan {
  const template = workloadTemplate(w.kind).join('.');
  const changes: string[] = [];
  if (w.serviceAccountName !== t.serviceAccount)
    changes.push(`${template}.spec.serviceAccountName: ${w.serviceAccountName ?? '(default)'} → ${t.serviceAccount}`);
  if (!w.labelled) changes.push(`${template}.metadata.labels["${USE_LABEL}"]: "true"`);
  if (t.viaIdentityBinding && !w.annotatedForIdentityBinding)
    changes.push(`${template}.metadata.annotations["${USE_IDENTITY_BINDING_ANNOTATION}"]: "true"`);
  const warnings: string[] = t.viaIdentityBinding ? [appSideOfIdentityBinding()] : [];
  if (w.managedBy)
    warnings.push(
      l10n.t(
        '{0} {1} is managed by {2}, which will undo a live change at its next sync: change its source instead (Connect Workload in the workspace).',
        w.kind,
        w.name,
        w.managedBy,
      ),
    );
  const other =
    w.serviceAccountName && w.serviceAccountName !== t.serviceAccount
      ? serviceAccounts.find((s) => s.name === w.serviceAccountName)?.annotations[CLIENT_ID_ANNOTATION]
      : undefined;
  if (other)
    warnings.push(
      l10n.t(
        '{0} {1} runs as {2} now, bound to the identity with client id {3}: it will stop using that identity.',
        w.kind,
        w.name,
        w.serviceAccountName!,
        other,
      ),
    );
  if (changes.length)
    warnings.push(
      w.kind === 'CronJob'
        ? l10n.t('Jobs that {0} starts from now on get the token; running ones do not.', w.name)
        : l10n.t(
            '{0} {1} rolls out new pods; pods started before keep running without the token until they are replaced.',
            w.kind,
            w.name,
          ),
    );
  let spc: LiveSecrets | undefined;
  let blocked =
    changes.length && w.kind === 'Job'
      ? l10n.t(
          "A Job's pod template cannot be changed once created: change its manifest (Connect Workload in the workspace) and create the Job again.",
        )
      : undefined;
  if (secrets) {
    spc = { ...secrets, name: `${t.serviceAccount}-${secrets.vaultName}`.slice(0, 253) };
    changes.push(
      l10n.t(
        'SecretProviderClass {0} in {1} ({2} of {3})',
        spc.name,
        t.namespace,
        secrets.objects.map((o) => `${o.objectType} ${o.objectName}`).join(', '),
        secrets.vaultName,
      ),
    );
    if (!w.mounted)
      changes.push(
        `${template}.spec.volumes: + ${SECRETS_STORE_VOLUME}; containers[${w.firstContainer ?? '?'}].volumeMounts: + ${SECRETS_STORE_MOUNT}`,
      );
    if (!secrets.addonEnabled)
      blocked = l10n.t(
        'The Secrets Store CSI driver add-on is off on {0}, so the cluster has no SecretProviderClass: turn it on first with az aks enable-addons --addons azure-keyvault-secrets-provider -n {1} -g {2}. It is not turned on here.',
        t.cluster.name,
        t.cluster.name,
        secrets.clusterResourceGroup,
      );
    else if (!w.firstContainer) blocked = l10n.t('{0} {1} has no container to mount the secrets in.', w.kind, w.name);
    else if (w.kind === 'Job') blocked ??= l10n.t("A Job's pod template cannot be changed once created.");
  }
  return { workload: w, changes, warnings, ...(spc ? { secrets: spc } : {}), ...(blocked ? { blocked } : {}) };
}

/** Only the two fields, as a partial object: server-side apply makes aks-workload-identity their owner and nothing else. */
export function applyBody(
  w: LiveWorkload,
  serviceAccount: string,
  secretProviderClass?: string,
  viaIdentityBinding = false,
) {
  const root: any = {};
  let template = root;
  for (const k of workloadTemplate(w.kind)) template = template[k] ??= {};
  template.metadata = {
    labels: { [USE_LABEL]: 'true' },
    ...(viaIdentityBinding ? { annotations: { [USE_IDENTITY_BINDING_ANNOTATION]: 'true' } } : {}),
  };
  template.spec = { serviceAccountName: serviceAccount };
  if (secretProviderClass && w.firstContainer) {
    template.spec.volumes = [
      {
        name: SECRETS_STORE_VOLUME,
        csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass } },
      },
    ];
    template.spec.containers = [
      {
        name: w.firstContainer,
        volumeMounts: [{ name: SECRETS_STORE_VOLUME, mountPath: SECRETS_STORE_MOUNT, readOnly: true }],
      },
    ];
  }
  return {
    apiVersion: WORKLOAD_RESOURCES[w.kind].apiVersion,
    kind: w.kind,
    metadata: { name: w.name, namespace: w.namespace },
    spec: root.spec,
  };
}

/**
 * Reads the workload, applies the two fields if they are not in place (never forcing another manager's field), then
 * follows the rollout until kubectl would call it done. A rerun after a failure applies nothing and follows the
 * rollout again. Returns what it did.
 */
export async function connectLive(
  kube: KubeTarget,
  w: LiveWorkload,
  serviceAccount: string,
  opts: {
    signal?: AbortSignal;
    progress?: (m: string) => void;
    sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
    rolloutTimeoutMs?: number;
    secrets?: LiveSecrets;
    namespace?: string;
    viaIdentityBinding?: boolean;
  },
): Promise<'updated' | 'unchanged'> {
  const fail = (e: unknown): never => {
    if (errorNamed(e, 'CancelledError', 'StepError')) throw e;
    const d = describeError(e);
    throw new StepError(
      connectLiveStep(),
      d.code,
      d.message,
      d.status === 409
        ? l10n.t(
            'Another field manager owns it: change the workload where it is managed (its manifest, chart or repository), or ask its owner. Connect Workload never forces a field another tool owns.',
          )
        : d.status === 403
          ? l10n.t(
              'Your Kubernetes role does not allow patching {0} in {1}.',
              WORKLOAD_RESOURCES[w.kind].plural,
              w.namespace,
            )
          : undefined,
      d.status,
    );
  };
  if (opts.secrets) {
    // Server-side apply is idempotent: an equal SecretProviderClass changes nothing.
    opts.progress?.(l10n.t('Applying SecretProviderClass {0}…', opts.secrets.name));
    const { addonEnabled: _a, clusterResourceGroup: _g, name, ...input } = opts.secrets;
    await kube
      .applySecretProviderClass(
        secretProviderClassObject({
          ...input,
          name,
          namespace: w.namespace,
          ...(opts.viaIdentityBinding ? { viaIdentityBinding: true } : {}),
        }),
      )
      .catch(fail);
  }
  const read = () => kube.getWorkload(w.kind, w.namespace, w.name).catch(fail);
  let o = await read();
  const inPlace = (x: LiveWorkload) =>
    x.serviceAccountName === serviceAccount &&
    x.labelled &&
    (!opts.viaIdentityBinding || x.annotatedForIdentityBinding) &&
    (!opts.secrets || x.mounted);
  const current = toLiveWorkload(o);
  const result = inPlace(current) ? 'unchanged' : 'updated';
  if (result === 'updated') {
    throwIfAborted(opts.signal);
    opts.progress?.(l10n.t('Applying serviceAccountName and the label to {0} {1}…', w.kind, w.name));
    await kube
      .applyWorkload(applyBody(current, serviceAccount, opts.secrets?.name, opts.viaIdentityBinding))
      .catch(fail);
    o = await read();
    const applied = toLiveWorkload(o);
    if (!inPlace(applied)) {
      throw new StepError(
        connectLiveStep(),
        'NotApplied',
        applied.labelled
          ? l10n.t(
              'The API server accepted the change, but {0} {1} still runs as {2}: an admission policy may have rewritten it.',
              w.kind,
              w.name,
              applied.serviceAccountName ?? '(default)',
            )
          : l10n.t(
              'The API server accepted the change, but {0} {1} still runs as {2} without the label: an admission policy may have rewritten it.',
              w.kind,
              w.name,
              applied.serviceAccountName ?? '(default)',
            ),
      );
    }
  }
  if (w.kind === 'CronJob' || w.kind === 'Job') return result;
  const timeoutMs = opts.rolloutTimeoutMs ?? 5 * 60_000;
  const until = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const state = rolloutState(o);
    if (state.done) return result;
    // A new pod that cannot start is named now, with its reason, rather than at the deadline.
    const stuck =
      (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 1)
        ? stuckPod(newRevisionPods(o, await kube.listPods(w.namespace).catch(fail)))
        : undefined;
    if (stuck) {
      throw new StepError(
        connectLiveStep(),
        stuck.waiting!.reason,
        l10n.t(
          '{0} {1} is not rolled out: its new pod {2} is not ready ({3}{4}).',
          w.kind,
          w.name,
          stuck.name,
          stuck.waiting!.reason,
          stuck.waiting!.message ? `: ${stuck.waiting!.message}` : '',
        ),
        podRemedy(stuck.name, w.namespace),
      );
    }
    if ('failed' in state)
      throw new StepError(
        connectLiveStep(),
        'ProgressDeadlineExceeded',
        state.failed,
        l10n.t(
          'The change is applied. See why: kubectl rollout status {0}/{1} -n {2}, and kubectl describe {0} {1} -n {2}. Then Retry: Connect reads first and follows the rollout.',
          w.kind.toLowerCase(),
          w.name,
          w.namespace,
        ),
      );
    if (Date.now() > until)
      throw new StepError(
        connectLiveStep(),
        'RolloutTimeout',
        l10n.t(
          '{0} {1} did not finish rolling out within {2} s: {3}',
          w.kind,
          w.name,
          Math.round(timeoutMs / 1000),
          state.waiting,
        ),
        l10n.t("The change is applied; check the rollout (kubectl rollout status) and its pods' events, then Retry."),
      );
    opts.progress?.(l10n.t('Rolling out {0} {1}: {2}', w.kind, w.name, state.waiting));
    await opts.sleep(Math.min(1000 * 2 ** i, 5000), opts.signal);
    o = await read();
  }
}

/** After a rollout: the new revision's ready pods, and whether the webhook gave each the token. Two reads. */
export async function newPodsReport(
  kube: KubeTarget,
  w: LiveWorkload,
  serviceAccount: string,
  viaIdentityBinding = false,
) {
  const [o, pods] = await Promise.all([kube.getWorkload(w.kind, w.namespace, w.name), kube.listPods(w.namespace)]);
  return newPodsSummary(o, pods, serviceAccount, viaIdentityBinding);
}
