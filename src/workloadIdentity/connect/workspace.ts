import * as l10n from '@vscode/l10n';
import { CLIENT_ID_ANNOTATION, USE_LABEL } from '../manifest';
import { USE_IDENTITY_BINDING_ANNOTATION, appSideOfIdentityBinding } from '../binding';
import { parseAllDocuments } from 'yaml';
import {
  workloadTemplate,
  WorkloadInFile,
  YamlEditError,
  addPatchEntry,
  connectInYaml,
  mountSecretsStoreInYaml,
  workloadsIn,
} from './yamlEdit';
import { SecretProviderClassInput, secretProviderClassYaml } from './secretProviderClass';
import { errorMessage, errorNamed } from '../../errors';
import type { Binding } from '../binding';

export interface WorkspaceFile {
  path: string;
  text: string;
}

export interface WorkloadCandidate {
  path: string;
  workload: WorkloadInFile;
}

/**
 * The workloads of the namespace that the workspace's YAML files define. A document without a namespace counts:
 * the namespace then comes from `kubectl -n` or Kustomize. Files that are not valid YAML are listed with the reason.
 */
export function findCandidates(
  files: WorkspaceFile[],
  namespace: string,
): { candidates: WorkloadCandidate[]; skipped: { path: string; reason: string }[] } {
  const candidates: WorkloadCandidate[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const f of files) {
    try {
      for (const w of workloadsIn(f.text))
        if (w.namespace === undefined || w.namespace === namespace) candidates.push({ path: f.path, workload: w });
    } catch (e) {
      if (errorNamed(e, 'YamlEditError')) skipped.push({ path: f.path, reason: errorMessage(e) });
      else throw e;
    }
  }
  return {
    candidates: candidates.sort((a, b) => a.path.localeCompare(b.path) || a.workload.index - b.workload.index),
    skipped,
  };
}

/** The optional SecretProviderClass: the objects to mount, and where the cluster stands on the CSI driver add-on. */
export interface SecretsRequest extends Omit<SecretProviderClassInput, 'name' | 'namespace'> {
  addonEnabled: boolean;
  clusterResourceGroup: string;
}

export interface ConnectPlan {
  candidate: WorkloadCandidate;
  /** The SecretProviderClass file to write beside the workload's. */
  secretProviderClass?: { path: string; text: string };
  /** The file as it will be; equal to the current text when nothing changes. */
  text: string;
  changes: string[];
  /** What the user should know before saying yes. */
  warnings: string[];
}

/**
 * The edit, and what it means: the ServiceAccount the workload used before may be bound to another identity, which the
 * workload then stops using; applying the change rolls out new pods.
 */
export function planConnect(
  current: string,
  candidate: WorkloadCandidate,
  t: Binding,
  serviceAccounts: { name: string; annotations: Record<string, string> }[],
  secrets?: SecretsRequest,
): ConnectPlan {
  const fresh = workloadsIn(current).find(
    (w) =>
      w.index === candidate.workload.index && w.kind === candidate.workload.kind && w.name === candidate.workload.name,
  );
  if (!fresh)
    throw new YamlEditError(
      l10n.t(
        '{0} no longer defines {1} {2} where it did: pick the workload again.',
        candidate.path,
        candidate.workload.kind,
        candidate.workload.name,
      ),
    );
  const connected = connectInYaml(current, candidate.workload.index, t.serviceAccount, t.viaIdentityBinding);
  let { text } = connected;
  const changes = [...connected.changes];
  const warnings: string[] = t.viaIdentityBinding ? [appSideOfIdentityBinding()] : [];
  let secretProviderClass: ConnectPlan['secretProviderClass'];
  if (secrets) {
    const name = `${t.serviceAccount}-${secrets.vaultName}`.slice(0, 253);
    const mounted = mountSecretsStoreInYaml(text, candidate.workload.index, name);
    text = mounted.text;
    changes.push(...mounted.changes);
    const dir = candidate.path.includes('/') ? candidate.path.slice(0, candidate.path.lastIndexOf('/') + 1) : '';
    secretProviderClass = {
      path: `${dir}${name}.secretproviderclass.yaml`,
      text: secretProviderClassYaml({
        ...secrets,
        name,
        namespace: t.namespace,
        ...(t.viaIdentityBinding ? { viaIdentityBinding: true } : {}),
      }),
    };
    changes.push(
      l10n.t(
        '{0}: SecretProviderClass {1} ({2} of {3})',
        secretProviderClass.path,
        name,
        secrets.objects.map((o) => `${o.objectType} ${o.objectName}`).join(', '),
        secrets.vaultName,
      ),
    );
    if (!secrets.addonEnabled)
      warnings.push(
        l10n.t(
          'The Secrets Store CSI driver add-on is off on {0}, so pods that mount it will not start: turn it on with az aks enable-addons --addons azure-keyvault-secrets-provider -n {1} -g {2}. It is not turned on here.',
          t.cluster.name,
          t.cluster.name,
          secrets.clusterResourceGroup,
        ),
      );
  }
  const before = fresh.serviceAccountName;
  if (before && before !== t.serviceAccount) {
    const other = serviceAccounts.find((s) => s.name === before)?.annotations[CLIENT_ID_ANNOTATION];
    warnings.push(
      other
        ? l10n.t(
            '{0} {1} runs as {2} now, which is bound to the identity with client id {3}: it will stop using that identity.',
            fresh.kind,
            fresh.name,
            before,
            other,
          )
        : l10n.t('{0} {1} runs as {2} now; it will run as {3}.', fresh.kind, fresh.name, before, t.serviceAccount),
    );
  }
  if (changes.length)
    warnings.push(
      fresh.kind === 'CronJob' || fresh.kind === 'Job'
        ? l10n.t(
            'Applying {0} to {1} replaces the pods of {2} {3} from its next run; pods started before keep running without the token until then.',
            candidate.path,
            t.cluster.name,
            fresh.kind,
            fresh.name,
          )
        : l10n.t(
            'Applying {0} to {1} replaces the pods of {2} {3} (a rollout); pods started before keep running without the token until then.',
            candidate.path,
            t.cluster.name,
            fresh.kind,
            fresh.name,
          ),
    );
  return {
    candidate: { ...candidate, workload: fresh },
    text,
    changes,
    warnings,
    ...(secretProviderClass ? { secretProviderClass } : {}),
  };
}

const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;
const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
/** a/b/../c → a/c; refuses paths that leave the workspace. */
function normalize(p: string): string | undefined {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!out.length) return undefined;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

/**
 * The Kustomize overlays that build the file: kustomizations (other than one beside it) whose resources reach it,
 * directly or through other kustomization folders. A patch there changes the workload without touching the base.
 */
export function overlaysOf(files: WorkspaceFile[], path: string): string[] {
  const byPath = new Map(files.map((f) => [f.path, f.text]));
  const kustomizationIn = (dir: string) =>
    ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
      .map((n) => (dir ? `${dir}/${n}` : n))
      .find((p) => byPath.has(p));
  const reaches = (k: string, seen: Set<string>): boolean => {
    if (seen.has(k) || seen.size > 20) return false;
    seen.add(k);
    let resources: unknown[];
    try {
      resources = (parseAllDocuments(byPath.get(k)!)[0]?.toJS()?.resources ?? []) as unknown[];
    } catch {
      return false;
    }
    return resources.some((r) => {
      const target = typeof r === 'string' ? normalize(`${dirOf(k)}/${r}`) : undefined;
      if (target === undefined) return false;
      if (target === path) return true;
      const inner = kustomizationIn(target);
      return !!inner && reaches(inner, seen);
    });
  };
  return files
    .map((f) => f.path)
    .filter((p) => KUSTOMIZATION.test(p) && dirOf(p) !== dirOf(path) && reaches(p, new Set()))
    .sort();
}

export interface PatchPlan {
  kustomization: string;
  /** The workload the patch changes. */
  candidate: WorkloadCandidate;
  /** The kustomization as it will be (patches entry added), and the patch file. */
  kustomizationText: string;
  patch: { path: string; text: string };
  changes: string[];
}

/** A strategic-merge patch with only the two fields, and its entry in the overlay's `patches:`. */
export function planKustomizePatch(
  kustomization: string,
  kustomizationText: string,
  candidate: WorkloadCandidate,
  t: Binding,
): PatchPlan {
  const w = candidate.workload;
  const name = `${w.name}-workload-identity.patch.yaml`;
  const patchPath = `${dirOf(kustomization) ? `${dirOf(kustomization)}/` : ''}${name}`;
  const text = [
    `# Connect Workload: ${w.kind} ${w.name} runs as ${t.serviceAccount} with the ${USE_LABEL} label (workload identity).`,
    `apiVersion: ${w.kind === 'Job' || w.kind === 'CronJob' ? 'batch/v1' : 'apps/v1'}`,
    `kind: ${w.kind}`,
    'metadata:',
    `  name: ${w.name}`,
    ...(w.namespace ? [`  namespace: ${w.namespace}`] : []),
    'spec:',
    ...patchLines(workloadTemplate(w.kind).slice(1), t.serviceAccount, '  ', !!t.viaIdentityBinding),
    '',
  ].join('\n');
  const doc = parseAllDocuments(kustomizationText)[0];
  if (!doc || doc.errors.length) throw new YamlEditError(l10n.t('{0} is not valid YAML.', kustomization));
  const patches: any[] = (doc.toJS()?.patches ?? []) as any[];
  const listed = patches.some((p) => (typeof p === 'string' ? p : p?.path) === name);
  const kustomizationText2 = listed ? kustomizationText : addPatchEntry(kustomizationText, name);
  return {
    kustomization,
    candidate,
    kustomizationText: kustomizationText2,
    patch: { path: patchPath, text },
    changes: [
      l10n.t(
        '{0}: a patch setting serviceAccountName: {1} and {2}: "true" on {3} {4}',
        patchPath,
        t.serviceAccount,
        USE_LABEL,
        w.kind,
        w.name,
      ) + (t.viaIdentityBinding ? l10n.t(', and the annotation {0}: "true"', USE_IDENTITY_BINDING_ANNOTATION) : ''),
      ...(listed ? [] : [`${kustomization}: patches: + path: ${name}`]),
    ],
  };
}

function patchLines(path: string[], serviceAccount: string, indent: string, viaIdentityBinding: boolean): string[] {
  if (path.length === 0)
    return [
      `${indent}metadata:`,
      `${indent}  labels:`,
      `${indent}    ${USE_LABEL}: "true"`,
      ...(viaIdentityBinding
        ? [`${indent}  annotations:`, `${indent}    ${USE_IDENTITY_BINDING_ANNOTATION}: "true"`]
        : []),
      `${indent}spec:`,
      `${indent}  serviceAccountName: ${serviceAccount}`,
    ];
  return [`${indent}${path[0]}:`, ...patchLines(path.slice(1), serviceAccount, `${indent}  `, viaIdentityBinding)];
}
