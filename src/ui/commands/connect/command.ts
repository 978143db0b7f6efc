import * as vscode from 'vscode';
import type { ConnectPlan, ConnectTarget, PatchPlan, SecretsRequest, WorkloadCandidate } from '../../../workloadIdentity/connect/workspace';
import type { KeyVaultObjectType } from '../../../workloadIdentity/connect/secretProviderClass';
import { validateObjectName } from '../../../workloadIdentity/names';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../../../workloadIdentity/manifest';
import type { VaultSummary } from '../../../workloadIdentity/inventory';
import { writeManifest } from '../../manifestWriter';
import { StepError, describeError } from '../../../workloadIdentity/errors';
import type { LivePlan, LiveWorkload } from '../../../workloadIdentity/connect/live';
import type { BindDeps } from '../../../workloadIdentity/bind/model';
import { verifyBinding } from '../../../workloadIdentity/verify/verify';
import { withCancellableProgress } from '../../progress';
import { proposedContent } from '../../proposedContent';
import { BACK, PromptDismissed } from '../../../wizard/prompter';
import { answered, runPrompts } from '../../../wizard/wizard';
import { CommandContext, requireSession } from '../../context';
import { markDone } from '../../walkthrough';
import type { ClusterSummary } from '../../../workloadIdentity/cluster';
import { VerifyWizardContext, verifyPromptSteps } from '../verify/prompts';

export const CONNECT_TITLE = 'Connect Workload';
/** The YAML editing and live apply load with the SDKs (services.ts), not at activation. */
const connectDomain = (ctx: CommandContext) => ctx.auth.session!.services.workloads;
/** Folders no one keeps manifests in. */
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/dist/**,**/out/**}';

/**
 * Connect Workload: the workload's pod template gets the ServiceAccount and the use label, in the open folders' YAML
 * or live in the cluster. Prompts → the change and what it means, reviewed → the edit or apply (reading first: a
 * rerun changes nothing) → what to do next.
 */
export async function connectWorkloadCommand(ctx: CommandContext, from?: { cluster: ClusterSummary; namespace: string; serviceAccount: string }): Promise<ConnectPlan | LivePlan | PatchPlan | undefined> {
  const session = await requireSession(ctx);
  if (!session) return undefined;
  const prompter = ctx.prompter();
  const deps = session.services.bindDeps();
  try {
    const wizard: VerifyWizardContext = {
      title: CONNECT_TITLE, vault: null,
      ...(from ? { cluster: from.cluster, namespace: from.namespace, serviceAccount: from.serviceAccount } : {}),
      sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
    };
    await runPrompts(verifyPromptSteps, wizard, prompter);
    const target: ConnectTarget = { clusterName: wizard.cluster!.name, namespace: wizard.namespace!, serviceAccount: wizard.serviceAccount! };
    const serviceAccounts = deps.kube(wizard.cluster!).then((k) => k.listServiceAccounts(target.namespace)).catch(() => []);
    const where = answered(await prompter.pick<'cluster' | 'workspace'>({
      title: CONNECT_TITLE, placeholder: `Where is the workload that should run as ${target.serviceAccount}?`,
      items: [
        { label: 'In the workspace', description: 'recommended where a pipeline, Helm, Flux or Argo CD applies it', detail: 'Edit its YAML in the open folders; you apply it as usual', value: 'workspace' },
        { label: 'In the cluster', detail: `Change the ${target.namespace} workload on ${target.clusterName} now (server-side apply of the two fields); its pods roll out`, value: 'cluster' },
      ],
    }));
    if (where === BACK) return undefined;
    if (where === 'cluster') return await connectInCluster(ctx, deps, wizard.cluster!, target, await serviceAccounts);

    for (;;) {
      const files = await readWorkspaceYaml();
      const { candidates, skipped } = connectDomain(ctx).findCandidates(files, target.namespace);
      for (const s of skipped) ctx.log.warn(`${CONNECT_TITLE}: ${s.path} skipped: ${s.reason}`);
      if (!candidates.length) {
        void prompter.notify('info', `No Deployment, StatefulSet, DaemonSet, Job or CronJob of namespace ${target.namespace} is defined in the YAML files of the open folders${skipped.length ? ` (${skipped.length} file${skipped.length === 1 ? '' : 's'} could not be read: see the log)` : ''}.`);
        return undefined;
      }
      const picked = answered(await prompter.pick<WorkloadCandidate>({
        title: CONNECT_TITLE, placeholder: `Which workload should run as ${target.serviceAccount}?`,
        items: candidates.map((c) => ({
          label: `${c.workload.kind} ${c.workload.name}`, description: c.path,
          detail: `serviceAccountName: ${c.workload.serviceAccountName ?? '(default)'} · ${c.workload.labelled ? 'labelled' : 'no azure.workload.identity/use label'}${c.workload.namespace ? '' : ' · no namespace in the file'}`,
          value: c,
        })),
      }));
      if (picked === BACK) return undefined;
      const overlays = connectDomain(ctx).overlaysOf(files, picked.path);
      if (overlays.length) {
        const how = answered(await prompter.pick<string | null>({ title: CONNECT_TITLE, placeholder: `${picked.path} is a base that Kustomize overlays build: where should the change go?`, items: [
          ...overlays.map((k) => ({ label: `Add a patch in ${k.slice(0, k.lastIndexOf('/')) || '.'}`, description: 'the base stays as it is', value: k })),
          { label: `Change ${picked.path}`, description: 'every overlay gets it', value: null },
        ] }));
        if (how === BACK) continue;
        if (how) return await patchOverlay(ctx, how, picked, target);
      }
      const secrets = await askSecrets(ctx, deps, wizard.cluster!, target, await serviceAccounts);
      if (secrets === BACK) continue;
      const plan = connectDomain(ctx).planConnect(await readText(picked.path), picked, target, await serviceAccounts, secrets);
      if (!plan.changes.length) {
        void prompter.notify('info', `${picked.workload.kind} ${picked.workload.name} in ${picked.path} already runs as ${target.serviceAccount} with the azure.workload.identity/use label.`);
        return plan;
      }
      const decision = await review(ctx, plan);
      if (decision === 'back') continue;
      if (decision === 'dismissed') return undefined;
      return await execute(ctx, plan, target, await serviceAccounts, wizard.cluster!, secrets);
    }
  } catch (e) {
    if (e instanceof PromptDismissed) return undefined;
    const d = describeError(e);
    ctx.log.error(`${CONNECT_TITLE}: ${d.code}: ${d.message}`);
    void prompter.notify('error', `${CONNECT_TITLE}: ${(e as Error)?.name === 'YamlEditError' ? '' : `${d.code}: `}${d.message}`);
    return undefined;
  }
}

/**
 * The live path: the namespace's workloads with their ServiceAccount, label and controller; a review of the fields and
 * what restarts (a workload that Helm, Flux or Argo CD manages needs an explicit yes); the apply and the rollout with
 * progress; then Verify's pod check on the new pods.
 */
async function connectInCluster(ctx: CommandContext, deps: BindDeps, cluster: ClusterSummary, target: ConnectTarget, serviceAccounts: { name: string; annotations: Record<string, string> }[]): Promise<LivePlan | undefined> {
  const prompter = ctx.prompter();
  const kube = await deps.kube(cluster);
  const list = (await kube.listWorkloads(target.namespace)).map(connectDomain(ctx).toLiveWorkload);
  if (!list.length) { void prompter.notify('info', `${target.namespace} on ${cluster.name} has no Deployment, StatefulSet, DaemonSet, Job or CronJob.`); return undefined; }
  const w = answered(await prompter.pick<LiveWorkload>({
    title: CONNECT_TITLE, placeholder: `Which workload on ${cluster.name} should run as ${target.serviceAccount}?`,
    items: list.map((x) => ({ label: `${x.kind} ${x.name}`, description: x.managedBy ? `managed by ${x.managedBy}` : undefined,
      detail: `serviceAccountName: ${x.serviceAccountName ?? '(default)'} · ${x.labelled ? 'labelled' : 'no azure.workload.identity/use label'}`, value: x })),
  }));
  if (w === BACK) return undefined;
  const secrets = await askSecrets(ctx, deps, cluster, target, serviceAccounts);
  if (secrets === BACK) return undefined;
  const plan = connectDomain(ctx).planLive(w, target, serviceAccounts, secrets);
  if (!plan.changes.length) { void prompter.notify('info', `${w.kind} ${w.name} already runs as ${target.serviceAccount} with the azure.workload.identity/use label.`); return plan; }
  if (plan.blocked) { void prompter.notify('warning', plan.blocked); return plan; }
  const v = await prompter.pick<'run' | 'line'>({
    title: `${CONNECT_TITLE}: review`, placeholder: `${plan.changes.length} field${plan.changes.length === 1 ? '' : 's'} of ${w.kind} ${w.name} on ${cluster.name}; nothing has been written yet`,
    items: [
      { label: `$(check) Connect: apply to ${w.kind} ${w.name}`, description: 'confirm', value: 'run' as const },
      ...plan.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const })),
      ...plan.warnings.map((x) => ({ label: `$(warning) ${x}`, value: 'line' as const })),
    ],
  });
  if (v !== 'run') return undefined;
  if (w.managedBy && !(await prompter.confirm({ message: `${w.kind} ${w.name} is managed by ${w.managedBy}. Change it live anyway?`, detail: `${w.managedBy} will undo the change at its next sync unless its source changes too.`, confirm: 'Change it live' }))) return undefined;
  for (;;) {
    try {
      const result = await withCancellableProgress(`Connecting ${w.kind} ${w.name} on ${cluster.name}`, (progress, signal) =>
        connectDomain(ctx).connectLive(kube, w, target.serviceAccount, { signal, progress, sleep: deps.sleep, ...(plan.secrets ? { secrets: plan.secrets } : {}) }));
      ctx.log.info(`${CONNECT_TITLE}: ${w.kind} ${w.name} on ${cluster.name}: ${result}; ${plan.changes.join('; ')}.`);
      markDone('connected');
      const verifyTarget = { cluster, namespace: target.namespace, serviceAccount: target.serviceAccount };
      const pods = w.kind === 'CronJob' ? undefined : (await verifyBinding(verifyTarget, ctx.auth.session!.services.verifyDeps(ctx.tree))).report.checks.find((c) => c.id === 'pods');
      void prompter.notify(pods && pods.status !== 'pass' ? 'warning' : 'info',
        `${w.kind} ${w.name} on ${cluster.name} now runs as ${target.serviceAccount} with the azure.workload.identity/use label.${pods ? ` ${pods.message}` : ' Its next Jobs get the token.'}`, 'Verify')
        .then((a) => { if (a === 'Verify') void vscode.commands.executeCommand('aksWorkloadIdentity.verifyWorkloadIdentity', verifyTarget); });
      return plan;
    } catch (e) {
      // The apply runs in the services bundle: its error classes are not this bundle's, so they are told by name.
      if (['CancelledError', 'AbortError'].includes((e as Error).name)) { void prompter.notify('info', `Connect cancelled. Run it again to finish: it reads first and does only what is missing.`); return undefined; }
      const d = describeError(e);
      const remedy = (e as StepError).remedy ? ` ${(e as StepError).remedy}` : '';
      ctx.log.error(`${CONNECT_TITLE}: ${d.code}: ${d.message}`);
      if (await prompter.notify('error', `${CONNECT_TITLE}: ${d.code}: ${d.message}${remedy}`, 'Retry') !== 'Retry') return undefined;
    }
  }
}

/** The overlay gets a patch of the two fields and lists it in patches:; the base file is not touched. */
async function patchOverlay(ctx: CommandContext, kustomization: string, picked: WorkloadCandidate, target: ConnectTarget): Promise<PatchPlan | undefined> {
  const plan = connectDomain(ctx).planKustomizePatch(kustomization, await readText(kustomization), picked, target);
  const patchUri = fileUri(plan.patch.path);
  const existing = await vscode.workspace.fs.readFile(patchUri).then((b) => Buffer.from(b).toString('utf8'), () => undefined);
  if (existing === plan.patch.text && plan.changes.length === 1) {
    void ctx.prompter().notify('info', `${plan.patch.path} is already in place and listed in ${kustomization}.`);
    return plan;
  }
  await vscode.commands.executeCommand('vscode.diff', fileUri(kustomization), proposedContent.show(kustomization, plan.kustomizationText), `${kustomization}: now ↔ with the patch`);
  const v = await ctx.prompter().pick<'run' | 'line'>({
    title: `${CONNECT_TITLE}: review`, placeholder: 'Nothing has been written yet (the kustomization\'s diff is open)',
    items: [{ label: `$(check) Connect: add the patch to ${kustomization}`, description: 'confirm', value: 'run' as const }, ...plan.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const }))],
  });
  if (v !== 'run') return undefined;
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === fileUri(kustomization).toString());
  if (open?.isDirty) { void ctx.prompter().notify('warning', `${kustomization} has unsaved changes in an editor: save or revert them, then connect again. Nothing was written.`); return undefined; }
  // Read again: an edit made meanwhile is kept.
  const fresh = connectDomain(ctx).planKustomizePatch(kustomization, await readText(kustomization), picked, target);
  await writeManifest(ctx.prompter(), fresh.patch.path, fresh.patch.text);
  if (fresh.kustomizationText !== await readText(kustomization)) await vscode.workspace.fs.writeFile(fileUri(kustomization), Buffer.from(fresh.kustomizationText, 'utf8'));
  ctx.log.info(`${CONNECT_TITLE}: ${fresh.changes.join('; ')}.`);
  markDone('connected');
  void ctx.prompter().notify('info', `${kustomization} now patches ${picked.workload.kind} ${picked.workload.name} to run as ${target.serviceAccount} with the azure.workload.identity/use label. Build and apply the overlay to roll out pods that get the token.`);
  return fresh;
}

/**
 * Optional: secrets as files through the Secrets Store CSI driver. Asks for the vault and the objects (kind:name,
 * a secret when no kind is given); the identity is the one the ServiceAccount names.
 */
async function askSecrets(ctx: CommandContext, deps: BindDeps, cluster: ClusterSummary, target: ConnectTarget, serviceAccounts: { name: string; annotations: Record<string, string> }[]): Promise<SecretsRequest | undefined | typeof BACK> {
  const p = ctx.prompter();
  const want = answered(await p.pick<boolean>({ title: CONNECT_TITLE, placeholder: 'Also mount Key Vault objects as files (Secrets Store CSI driver)?', items: [
    { label: 'No', description: 'the app reads Key Vault with an Azure SDK', value: false },
    { label: 'Yes: add a SecretProviderClass', description: 'files in /mnt/secrets-store', value: true },
  ] }));
  if (want === BACK || !want) return want === BACK ? BACK : undefined;
  const sa = serviceAccounts.find((s) => s.name === target.serviceAccount);
  const clientId = sa?.annotations[CLIENT_ID_ANNOTATION];
  if (!clientId) throw Object.assign(new Error(`${target.namespace}/${target.serviceAccount} has no ${CLIENT_ID_ANNOTATION} annotation: bind it first.`), { name: 'YamlEditError' });
  const vault = answered(await p.pick<VaultSummary>({ title: CONNECT_TITLE, placeholder: 'Which Key Vault holds the objects?', items: ctx.tree.vaults().then((vs) => vs.map((v) => ({ label: v.name, description: v.resourceGroup, value: v }))) }));
  if (vault === BACK) return BACK;
  const names = answered(await p.input({ title: CONNECT_TITLE, prompt: 'Objects to mount, comma separated: a secret name, or key:name or cert:name', validate: (v) => {
    const items = v.split(',').map((x) => x.trim()).filter(Boolean);
    if (!items.length) return 'Name at least one object.';
    for (const i of items) { const e = validateObjectName(i.replace(/^(secret|key|cert):/, '')); if (e) return `${i}: ${e}`; }
    return undefined;
  } }));
  if (names === BACK) return BACK;
  const mc = await deps.clusters.get(cluster);
  return {
    clientId, tenantId: sa!.annotations[TENANT_ID_ANNOTATION] ?? vault.tenantId ?? '', vaultName: vault.name, cloud: ctx.auth.session!.cloud.name,
    objects: names.split(',').map((x) => x.trim()).filter(Boolean).map((x) => { const m = /^(secret|key|cert):(.+)$/.exec(x); return { objectName: m ? m[2] : x, objectType: (m ? m[1] : 'secret') as KeyVaultObjectType }; }),
    addonEnabled: mc.addonProfiles?.azureKeyvaultSecretsProvider?.enabled === true, clusterResourceGroup: cluster.resourceGroup,
  };
}

/** The diff beside the editor, and the changes and what they mean in the list. */
async function review(ctx: CommandContext, plan: ConnectPlan): Promise<'run' | 'back' | 'dismissed'> {
  const uri = fileUri(plan.candidate.path);
  await vscode.commands.executeCommand('vscode.diff', uri, proposedContent.show(plan.candidate.path, plan.text), `${plan.candidate.path}: now ↔ connected`);
  const v = await ctx.prompter().pick<'run' | 'line'>({
    title: `${CONNECT_TITLE}: review`, placeholder: `${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'} to ${plan.candidate.path}; nothing has been written yet (the diff is open)`,
    items: [
      { label: `$(check) Connect: change ${plan.candidate.path}`, description: 'confirm', value: 'run' as const },
      ...plan.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const })),
      ...plan.warnings.map((w) => ({ label: `$(warning) ${w}`, value: 'line' as const })),
    ],
  });
  if (v === BACK) return 'back';
  if (v === undefined) return 'dismissed';
  return v === 'run' ? 'run' : review(ctx, plan);
}

/** Reads the file again and edits what it finds: an edit made meanwhile is kept, an unsaved one stops the write. */
async function execute(ctx: CommandContext, reviewed: ConnectPlan, target: ConnectTarget, serviceAccounts: { name: string; annotations: Record<string, string> }[], cluster: ClusterSummary, secrets?: SecretsRequest): Promise<ConnectPlan | undefined> {
  const uri = fileUri(reviewed.candidate.path);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) {
    void ctx.prompter().notify('warning', `${reviewed.candidate.path} has unsaved changes in an editor: save or revert them, then connect again. Nothing was written.`);
    return undefined;
  }
  const plan = connectDomain(ctx).planConnect(await readText(reviewed.candidate.path), reviewed.candidate, target, serviceAccounts, secrets);
  if (plan.changes.length) await vscode.workspace.fs.writeFile(uri, Buffer.from(plan.text, 'utf8'));
  if (plan.secretProviderClass) await writeManifest(ctx.prompter(), plan.secretProviderClass.path, plan.secretProviderClass.text);
  await vscode.window.showTextDocument(uri, { preview: false });
  ctx.log.info(`${CONNECT_TITLE}: ${reviewed.candidate.path}: ${plan.changes.join('; ') || 'already connected'}.`);
  markDone('connected');
  void ctx.prompter().notify('info',
    `${plan.candidate.workload.kind} ${plan.candidate.workload.name} in ${plan.candidate.path} now runs as ${target.serviceAccount} with the azure.workload.identity/use label. Apply the file to ${target.clusterName} (kubectl apply -f ${plan.candidate.path}, or your pipeline) to roll out pods that get the token; then Verify.`,
    'Verify').then((a) => { if (a === 'Verify') void vscode.commands.executeCommand('aksWorkloadIdentity.verifyWorkloadIdentity', { cluster, namespace: target.namespace, serviceAccount: target.serviceAccount }); });
  return plan;
}

function fileUri(relative: string): vscode.Uri {
  const [folderName, ...rest] = relative.split('/');
  const folders = vscode.workspace.workspaceFolders ?? [];
  const folder = folders.length > 1 ? folders.find((f) => f.name === folderName) : folders[0];
  return vscode.Uri.joinPath(folder!.uri, ...(folders.length > 1 ? rest : [folderName, ...rest]));
}

async function readText(relative: string): Promise<string> {
  return Buffer.from(await vscode.workspace.fs.readFile(fileUri(relative))).toString('utf8');
}

/** The YAML files of the open folders, with paths as the user sees them (folder name first with several folders). */
async function readWorkspaceYaml() {
  const uris = await vscode.workspace.findFiles('**/*.{yaml,yml}', EXCLUDE, 2000);
  return Promise.all(uris.map(async (uri) => ({ path: vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1), text: Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8') })));
}
