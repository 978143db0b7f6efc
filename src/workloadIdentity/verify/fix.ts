import * as l10n from '@vscode/l10n';
import type { VaultDetails } from '../../azure/vaults';
import { BindRequest, BindState, BindStepId, stepTitle, StepRecord } from '../bind/model';
import {
  RunClusterUpdate,
  credentialStep,
  identityBindingStep,
  putCredentialRetrying,
  useIdentityRbacStep,
  runDirectly,
  serviceAccountStep,
  vaultStep,
} from '../bind/steps';
import type { ExecuteStep } from '../../wizard/wizard';
import { enableWorkloadIdentity } from '../enable/run';
import { TOKEN_EXCHANGE_AUDIENCE, serviceAccountSubject } from '../names';
import { closestCredential, meantForThisCluster } from './checks';
import { Fix, VerifyDeps, VerifyFacts } from './model';

/**
 * Runs the Bind step that repairs a failed check: the same idempotent code, so a fix never duplicates what exists.
 * A near-miss credential meant for this cluster (see meantForThisCluster) is rewritten in place rather than left
 * beside a new one.
 */
export async function applyFix(
  fix: Fix,
  facts: VerifyFacts,
  deps: VerifyDeps,
  signal: AbortSignal,
  opts: {
    progress?: (m: string) => void;
    /** Shares the one-update-per-cluster guard with Enable and Bind. */
    runClusterUpdate?: RunClusterUpdate;
  } = {},
): Promise<void> {
  const progress = opts.progress ?? (() => undefined);
  const t = facts.target;
  if (fix.kind === 'cluster') {
    // Enable's own run: it reads the cluster and changes only the two flags.
    const cluster = facts.cluster.ok ? facts.cluster.value : t.cluster;
    const run = () => enableWorkloadIdentity(deps.clusters, cluster, { signal, onProgress: progress });
    await (opts.runClusterUpdate ?? runDirectly)(cluster.id.toLowerCase(), run);
    return;
  }
  const runStep = async (step: ExecuteStep<BindState>, request: BindRequest, extra: Partial<BindState>) => {
    const id = step.id as BindStepId;
    const records = new Map<BindStepId, StepRecord>([
      [id, { id, title: stepTitle(id), resource: '', planned: 'update' }],
    ]);
    await step.execute({ request, records, ...extra }, progress, signal);
  };
  const identity = facts.identity.ok ? facts.identity.value.identity : undefined;
  const cluster = facts.cluster.ok ? facts.cluster.value : undefined;
  if (!identity || !cluster?.issuerUrl)
    throw new Error(
      l10n.t("This fix needs the identity and the cluster's issuer, which could not be read. Run the checks again."),
    );
  const subject = serviceAccountSubject(t.namespace, t.serviceAccount);

  if (fix.kind === 'credential' && facts.credentials.ok) {
    const near = closestCredential(facts.credentials.value, cluster.issuerUrl, subject);
    if (near && meantForThisCluster(near, cluster.issuerUrl)) {
      progress(l10n.t('Rewriting federated credential {0}…', near.name));
      await putCredentialRetrying(
        deps,
        identity,
        { name: near.name, issuer: cluster.issuerUrl, subject, audiences: [TOKEN_EXCHANGE_AUDIENCE] },
        signal,
      );
      return;
    }
  }

  const vault: VaultDetails | undefined =
    fix.kind === 'grant' && facts.vaults.ok
      ? facts.vaults.value.find((g) => g.vault.id === fix.vaultId)?.vault
      : undefined;
  if (fix.kind === 'grant' && !vault)
    throw new Error(l10n.t('The vault of this fix is no longer in the report. Run the checks again.'));
  const request: BindRequest = {
    cluster,
    namespace: t.namespace,
    serviceAccount: t.serviceAccount,
    // Only the grant step reads the vault.
    vault: vault ? { ...vault, location: '' } : (t.vault as BindRequest['vault']),
    identity: { kind: 'existing', identity },
    permissions: fix.kind === 'grant' ? fix.permissions : [],
  };
  const extra = { identity, issuerUrl: cluster.issuerUrl };
  if (fix.kind === 'credential') await runStep(credentialStep(deps), request, extra);
  else if (fix.kind === 'identityBinding') await runStep(identityBindingStep(deps), request, extra);
  else if (fix.kind === 'useIdentityRbac')
    await runStep(useIdentityRbacStep(), request, { ...extra, kube: await deps.kube(cluster) });
  else if (fix.kind === 'annotation')
    await runStep(serviceAccountStep(), request, { ...extra, kube: await deps.kube(cluster) });
  else await runStep(vaultStep(deps), request, extra);
}
