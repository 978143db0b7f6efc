import { CLIENT_ID_ANNOTATION } from '../manifest';
import { WorkloadInFile, YamlEditError, connectInYaml, mountSecretsStoreInYaml, workloadsIn } from './yamlEdit';
import { SecretProviderClassInput, secretProviderClassYaml } from './secretProviderClass';

/** What Connect Workload connects: a ServiceAccount on a cluster, bound to an identity. */
export interface ConnectTarget {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
}

export interface WorkspaceFile { path: string; text: string }

export interface WorkloadCandidate { path: string; workload: WorkloadInFile }

/**
 * The workloads of the namespace that the workspace's YAML files define. A document without a namespace counts:
 * the namespace then comes from `kubectl -n` or Kustomize. Files that are not valid YAML are listed with the reason.
 */
export function findCandidates(files: WorkspaceFile[], namespace: string): { candidates: WorkloadCandidate[]; skipped: { path: string; reason: string }[] } {
  const candidates: WorkloadCandidate[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const f of files) {
    try {
      for (const w of workloadsIn(f.text)) if (w.namespace === undefined || w.namespace === namespace) candidates.push({ path: f.path, workload: w });
    } catch (e) {
      if (e instanceof YamlEditError) skipped.push({ path: f.path, reason: e.message }); else throw e;
    }
  }
  return { candidates: candidates.sort((a, b) => a.path.localeCompare(b.path) || a.workload.index - b.workload.index), skipped };
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
export function planConnect(current: string, candidate: WorkloadCandidate, t: ConnectTarget, serviceAccounts: { name: string; annotations: Record<string, string> }[], secrets?: SecretsRequest): ConnectPlan {
  const fresh = workloadsIn(current).find((w) => w.index === candidate.workload.index && w.kind === candidate.workload.kind && w.name === candidate.workload.name);
  if (!fresh) throw new YamlEditError(`${candidate.path} no longer defines ${candidate.workload.kind} ${candidate.workload.name} where it did: pick the workload again.`);
  const connected = connectInYaml(current, candidate.workload.index, t.serviceAccount);
  let { text } = connected;
  const changes = [...connected.changes];
  const warnings: string[] = [];
  let secretProviderClass: ConnectPlan['secretProviderClass'];
  if (secrets) {
    const name = `${t.serviceAccount}-${secrets.vaultName}`.slice(0, 253);
    const mounted = mountSecretsStoreInYaml(text, candidate.workload.index, name);
    text = mounted.text;
    changes.push(...mounted.changes);
    const dir = candidate.path.includes('/') ? candidate.path.slice(0, candidate.path.lastIndexOf('/') + 1) : '';
    secretProviderClass = { path: `${dir}${name}.secretproviderclass.yaml`, text: secretProviderClassYaml({ ...secrets, name, namespace: t.namespace }) };
    changes.push(`${secretProviderClass.path}: SecretProviderClass ${name} (${secrets.objects.map((o) => `${o.objectType} ${o.objectName}`).join(', ')} of ${secrets.vaultName})`);
    if (!secrets.addonEnabled) warnings.push(`The Secrets Store CSI driver add-on is off on ${t.clusterName}, so pods that mount it will not start: turn it on with az aks enable-addons --addons azure-keyvault-secrets-provider -n ${t.clusterName} -g ${secrets.clusterResourceGroup}. It is not turned on here.`);
  }
  const before = fresh.serviceAccountName;
  if (before && before !== t.serviceAccount) {
    const other = serviceAccounts.find((s) => s.name === before)?.annotations[CLIENT_ID_ANNOTATION];
    warnings.push(other
      ? `${fresh.kind} ${fresh.name} runs as ${before} now, which is bound to the identity with client id ${other}: it will stop using that identity.`
      : `${fresh.kind} ${fresh.name} runs as ${before} now; it will run as ${t.serviceAccount}.`);
  }
  if (changes.length) warnings.push(`Applying ${candidate.path} to ${t.clusterName} replaces the pods of ${fresh.kind} ${fresh.name}${fresh.kind === 'CronJob' || fresh.kind === 'Job' ? ' from its next run' : ' (a rollout)'}; pods started before keep running without the token until then.`);
  return { candidate: { ...candidate, workload: fresh }, text, changes, warnings, ...(secretProviderClass ? { secretProviderClass } : {}) };
}
