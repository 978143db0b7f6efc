import * as vscode from 'vscode';
import type {
  ConnectPlan,
  ConnectTarget,
  PatchPlan,
  SecretsRequest,
  WorkloadCandidate,
} from '../../../workloadIdentity/connect/workspace';
import type { KeyVaultObjectType } from '../../../workloadIdentity/connect/secretProviderClass';
import { validateObjectName } from '../../../workloadIdentity/names';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../../../workloadIdentity/manifest';
import type { VaultSummary } from '../../../workloadIdentity/inventory';
import { writeManifest } from '../../manifestWriter';
import { readWorkspaceText, workspacePath, workspaceTrusted, workspaceUri } from '../../workspaceFiles';
import { StepError, describeError, errorNamed } from '../../../errors';
import type { LivePlan, LiveWorkload } from '../../../workloadIdentity/connect/live';
import type { BindDeps } from '../../../workloadIdentity/bind/model';
import { withCancellableProgress } from '../../progress';
import { proposedContent } from '../../proposedContent';
import { BACK, Prompter } from '../../../wizard/prompter';
import { answered, runPrompts } from '../../../wizard/wizard';
import { AzureSession } from '../../auth';
import { CommandContext } from '../../context';
import { bindingFrom, runCommand } from '../command';
import type { BindingNode } from '../../tree/nodes';
import type { Binding } from '../../../workloadIdentity/binding';
import { markDone } from '../../walkthrough';
import type { ClusterSummary } from '../../../workloadIdentity/cluster';
import { BindingWizardContext, bindingPromptSteps } from '../../prompts/binding';

const connectTitle = () => vscode.l10n.t('Connect Workload');
const labelState = (labelled: boolean) =>
  labelled ? vscode.l10n.t('labelled') : vscode.l10n.t('no azure.workload.identity/use label');
/** The YAML editing and live apply load with the SDKs (services.ts), not at activation. */
const connectDomain = (ctx: CommandContext) => ctx.auth.session!.services.workloads;
/** Folders no one keeps manifests in. */
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/dist/**,**/out/**}';

/**
 * Connect Workload: the workload's pod template gets the ServiceAccount and the use label, in the open folders' YAML
 * or live in the cluster. Prompts → the change and what it means, reviewed → the edit or apply (reading first: a
 * rerun changes nothing) → what to do next.
 */
export function connectWorkloadCommand(
  ctx: CommandContext,
  from?: BindingNode | Binding,
): Promise<ConnectPlan | LivePlan | PatchPlan | undefined> {
  return runCommand(ctx, connectTitle(), async ({ session, prompter }) => {
    try {
      return await connect(ctx, session, prompter, bindingFrom(from));
    } catch (e) {
      // A YAML edit's refusal is the whole message: no code before it.
      if (!errorNamed(e, 'YamlEditError')) throw e;
      const { message } = describeError(e);
      ctx.log.error(`${connectTitle()}: ${message}`);
      void prompter.notify('error', vscode.l10n.t('{0}: {1}', connectTitle(), message));
      return undefined;
    }
  });
}

async function connect(
  ctx: CommandContext,
  session: AzureSession,
  prompter: Prompter,
  from: Binding | undefined,
): Promise<ConnectPlan | LivePlan | PatchPlan | undefined> {
  const deps = session.services.bindDeps();
  const wizard: BindingWizardContext = {
    title: connectTitle(),
    vault: null,
    ...(from ? { cluster: from.cluster, namespace: from.namespace, serviceAccount: from.serviceAccount } : {}),
    sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
  };
  await runPrompts(bindingPromptSteps, wizard, prompter);
  const target: ConnectTarget = {
    clusterName: wizard.cluster!.name,
    namespace: wizard.namespace!,
    serviceAccount: wizard.serviceAccount!,
  };
  const serviceAccounts = deps
    .kube(wizard.cluster!)
    .then((k) => k.listServiceAccounts(target.namespace))
    .catch(() => []);
  const where = answered(
    await prompter.pick<'cluster' | 'workspace'>({
      title: connectTitle(),
      placeholder: vscode.l10n.t('Where is the workload that should run as {0}?', target.serviceAccount),
      items: [
        {
          label: vscode.l10n.t('In the workspace'),
          description: vscode.l10n.t('recommended where a pipeline, Helm, Flux or Argo CD applies it'),
          detail: vscode.l10n.t('Edit its YAML in the open folders; you apply it as usual'),
          value: 'workspace',
        },
        {
          label: vscode.l10n.t('In the cluster'),
          detail: vscode.l10n.t(
            'Change the {0} workload on {1} now (server-side apply of the two fields); its pods roll out',
            target.namespace,
            target.clusterName,
          ),
          value: 'cluster',
        },
      ],
    }),
  );
  if (where === BACK) return undefined;
  if (where === 'cluster') return await connectInCluster(ctx, deps, wizard.cluster!, target, await serviceAccounts);
  if (!workspaceTrusted(prompter, connectTitle())) return undefined;

  for (;;) {
    const files = await readWorkspaceYaml();
    const { candidates, skipped } = connectDomain(ctx).findCandidates(files, target.namespace);
    for (const s of skipped) ctx.log.warn(`Connect: ${s.path} skipped: ${s.reason}`);
    if (!candidates.length) {
      void prompter.notify(
        'info',
        vscode.l10n.t(
          'No Deployment, StatefulSet, DaemonSet, Job or CronJob of namespace {0} is defined in the YAML files of the open folders{1}.',
          target.namespace,
          skipped.length
            ? ` ${vscode.l10n.t('({0} could not be read: see the log)', skipped.length === 1 ? vscode.l10n.t('1 file') : vscode.l10n.t('{0} files', skipped.length))}`
            : '',
        ),
      );
      return undefined;
    }
    const picked = answered(
      await prompter.pick<WorkloadCandidate>({
        title: connectTitle(),
        placeholder: vscode.l10n.t('Which workload should run as {0}?', target.serviceAccount),
        items: candidates.map((c) => ({
          label: `${c.workload.kind} ${c.workload.name}`,
          description: c.path,
          detail: vscode.l10n.t(
            'serviceAccountName: {0} · {1}{2}',
            c.workload.serviceAccountName ?? '(default)',
            labelState(c.workload.labelled),
            c.workload.namespace ? '' : ` · ${vscode.l10n.t('no namespace in the file')}`,
          ),
          value: c,
        })),
      }),
    );
    if (picked === BACK) return undefined;
    const overlays = connectDomain(ctx).overlaysOf(files, picked.path);
    if (overlays.length) {
      const how = answered(
        await prompter.pick<string | null>({
          title: connectTitle(),
          placeholder: vscode.l10n.t(
            '{0} is a base that Kustomize overlays build: where should the change go?',
            picked.path,
          ),
          items: [
            ...overlays.map((k) => ({
              label: vscode.l10n.t('Add a patch in {0}', k.slice(0, k.lastIndexOf('/')) || '.'),
              description: vscode.l10n.t('the base stays as it is'),
              value: k,
            })),
            {
              label: vscode.l10n.t('Change {0}', picked.path),
              description: vscode.l10n.t('every overlay gets it'),
              value: null,
            },
          ],
        }),
      );
      if (how === BACK) continue;
      if (how) return await patchOverlay(ctx, how, picked, target);
    }
    const secrets = await askSecrets(ctx, deps, wizard.cluster!, target, await serviceAccounts);
    if (secrets === BACK) continue;
    const plan = connectDomain(ctx).planConnect(
      await readWorkspaceText(picked.path),
      picked,
      target,
      await serviceAccounts,
      secrets,
    );
    if (!plan.changes.length) {
      void prompter.notify(
        'info',
        vscode.l10n.t(
          '{0} {1} in {2} already runs as {3} with the azure.workload.identity/use label.',
          picked.workload.kind,
          picked.workload.name,
          picked.path,
          target.serviceAccount,
        ),
      );
      return plan;
    }
    const decision = await review(ctx, plan);
    if (decision === 'back') continue;
    if (decision === 'dismissed') return undefined;
    return await execute(ctx, plan, target, await serviceAccounts, wizard.cluster!, secrets);
  }
}

/**
 * The live path: the namespace's workloads with their ServiceAccount, label and controller; a review of the fields and
 * what restarts (a workload that Helm, Flux or Argo CD manages needs an explicit yes); the apply and the rollout with
 * progress; then Verify's pod check on the new pods.
 */
async function connectInCluster(
  ctx: CommandContext,
  deps: BindDeps,
  cluster: ClusterSummary,
  target: ConnectTarget,
  serviceAccounts: { name: string; annotations: Record<string, string> }[],
): Promise<LivePlan | undefined> {
  const prompter = ctx.prompter();
  const kube = await deps.kube(cluster);
  const list = (await kube.listWorkloads(target.namespace)).map(connectDomain(ctx).toLiveWorkload);
  if (!list.length) {
    void prompter.notify(
      'info',
      vscode.l10n.t(
        '{0} on {1} has no Deployment, StatefulSet, DaemonSet, Job or CronJob.',
        target.namespace,
        cluster.name,
      ),
    );
    return undefined;
  }
  const w = answered(
    await prompter.pick<LiveWorkload>({
      title: connectTitle(),
      placeholder: vscode.l10n.t('Which workload on {0} should run as {1}?', cluster.name, target.serviceAccount),
      items: list.map((x) => ({
        label: `${x.kind} ${x.name}`,
        description: x.managedBy ? vscode.l10n.t('managed by {0}', x.managedBy) : undefined,
        detail: vscode.l10n.t(
          'serviceAccountName: {0} · {1}',
          x.serviceAccountName ?? '(default)',
          labelState(x.labelled),
        ),
        value: x,
      })),
    }),
  );
  if (w === BACK) return undefined;
  const secrets = await askSecrets(ctx, deps, cluster, target, serviceAccounts);
  if (secrets === BACK) return undefined;
  const plan = connectDomain(ctx).planLive(w, target, serviceAccounts, secrets);
  if (!plan.changes.length) {
    void prompter.notify(
      'info',
      vscode.l10n.t(
        '{0} {1} already runs as {2} with the azure.workload.identity/use label.',
        w.kind,
        w.name,
        target.serviceAccount,
      ),
    );
    return plan;
  }
  if (plan.blocked) {
    void prompter.notify('warning', plan.blocked);
    return plan;
  }
  const v = await prompter.pick<'run' | 'line'>({
    title: vscode.l10n.t('{0}: review', connectTitle()),
    placeholder:
      plan.changes.length === 1
        ? vscode.l10n.t('1 field of {0} {1} on {2}; nothing has been written yet', w.kind, w.name, cluster.name)
        : vscode.l10n.t(
            '{0} fields of {1} {2} on {3}; nothing has been written yet',
            plan.changes.length,
            w.kind,
            w.name,
            cluster.name,
          ),
    items: [
      {
        label: vscode.l10n.t('$(check) Connect: apply to {0} {1}', w.kind, w.name),
        description: vscode.l10n.t('confirm'),
        value: 'run' as const,
      },
      ...plan.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const })),
      ...plan.warnings.map((x) => ({ label: `$(warning) ${x}`, value: 'line' as const })),
    ],
  });
  if (v !== 'run') return undefined;
  if (
    w.managedBy &&
    !(await prompter.confirm({
      message: vscode.l10n.t('{0} {1} is managed by {2}. Change it live anyway?', w.kind, w.name, w.managedBy),
      detail: vscode.l10n.t('{0} will undo the change at its next sync unless its source changes too.', w.managedBy),
      confirm: vscode.l10n.t('Change it live'),
    }))
  )
    return undefined;
  for (;;) {
    try {
      const result = await withCancellableProgress(
        vscode.l10n.t('Connecting {0} {1} on {2}', w.kind, w.name, cluster.name),
        (progress, signal) =>
          connectDomain(ctx).connectLive(kube, w, target.serviceAccount, {
            signal,
            progress,
            sleep: deps.sleep,
            ...(plan.secrets ? { secrets: plan.secrets } : {}),
          }),
      );
      ctx.log.info(`Connect: ${w.kind} ${w.name} on ${cluster.name}: ${result}; ${plan.changes.join('; ')}.`);
      markDone('connected');
      const verifyTarget = { cluster, namespace: target.namespace, serviceAccount: target.serviceAccount };
      const pods =
        w.kind === 'CronJob' ? undefined : await connectDomain(ctx).newPodsReport(kube, w, target.serviceAccount);
      const verify = vscode.l10n.t('Verify');
      void prompter
        .notify(
          pods?.level ?? 'info',
          vscode.l10n.t(
            '{0} {1} on {2} now runs as {3} with the azure.workload.identity/use label.{4}',
            w.kind,
            w.name,
            cluster.name,
            target.serviceAccount,
            pods ? ` ${pods.message}` : ` ${vscode.l10n.t('Its next Jobs get the token.')}`,
          ),
          verify,
        )
        .then((a) => {
          if (a === verify)
            void vscode.commands.executeCommand('aksWorkloadIdentity.verifyWorkloadIdentity', verifyTarget);
        });
      return plan;
    } catch (e) {
      // The apply runs in the services bundle: its error classes are not this bundle's, so they are told by name.
      if (['CancelledError', 'AbortError'].includes((e as Error).name)) {
        void prompter.notify(
          'info',
          vscode.l10n.t('Connect cancelled. Run it again to finish: it reads first and does only what is missing.'),
        );
        return undefined;
      }
      const d = describeError(e);
      const remedy = (e as StepError).remedy ? ` ${(e as StepError).remedy}` : '';
      ctx.log.error(`Connect: ${d.code}: ${d.message}`);
      const retry = vscode.l10n.t('Retry');
      if (
        (await prompter.notify(
          'error',
          vscode.l10n.t('{0}: {1}: {2}{3}', connectTitle(), d.code, d.message, remedy),
          retry,
        )) !== retry
      )
        return undefined;
    }
  }
}

/** The overlay gets a patch of the two fields and lists it in patches:; the base file is not touched. */
async function patchOverlay(
  ctx: CommandContext,
  kustomization: string,
  picked: WorkloadCandidate,
  target: ConnectTarget,
): Promise<PatchPlan | undefined> {
  const plan = connectDomain(ctx).planKustomizePatch(
    kustomization,
    await readWorkspaceText(kustomization),
    picked,
    target,
  );
  const patchUri = fileUri(plan.patch.path);
  const existing = await vscode.workspace.fs.readFile(patchUri).then(
    (b) => Buffer.from(b).toString('utf8'),
    () => undefined,
  );
  if (existing === plan.patch.text && plan.changes.length === 1) {
    void ctx
      .prompter()
      .notify('info', vscode.l10n.t('{0} is already in place and listed in {1}.', plan.patch.path, kustomization));
    return plan;
  }
  await vscode.commands.executeCommand(
    'vscode.diff',
    fileUri(kustomization),
    proposedContent.show(kustomization, plan.kustomizationText),
    vscode.l10n.t('{0}: now ↔ with the patch', kustomization),
  );
  const v = await ctx.prompter().pick<'run' | 'line'>({
    title: vscode.l10n.t('{0}: review', connectTitle()),
    placeholder: vscode.l10n.t("Nothing has been written yet (the kustomization's diff is open)"),
    items: [
      {
        label: vscode.l10n.t('$(check) Connect: add the patch to {0}', kustomization),
        description: vscode.l10n.t('confirm'),
        value: 'run' as const,
      },
      ...plan.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const })),
    ],
  });
  if (v !== 'run') return undefined;
  if (refusedUnsaved(ctx, kustomization)) return undefined;
  // Read again: an edit made meanwhile is kept.
  const fresh = connectDomain(ctx).planKustomizePatch(
    kustomization,
    await readWorkspaceText(kustomization),
    picked,
    target,
  );
  await writeManifest(ctx.prompter(), fresh.patch.path, fresh.patch.text);
  if (fresh.kustomizationText !== (await readWorkspaceText(kustomization)))
    await vscode.workspace.fs.writeFile(fileUri(kustomization), Buffer.from(fresh.kustomizationText, 'utf8'));
  ctx.log.info(`Connect: ${fresh.changes.join('; ')}.`);
  markDone('connected');
  void ctx
    .prompter()
    .notify(
      'info',
      vscode.l10n.t(
        '{0} now patches {1} {2} to run as {3} with the azure.workload.identity/use label. Build and apply the overlay to roll out pods that get the token.',
        kustomization,
        picked.workload.kind,
        picked.workload.name,
        target.serviceAccount,
      ),
    );
  return fresh;
}

/**
 * Optional: secrets as files through the Secrets Store CSI driver. Asks for the vault and the objects (kind:name,
 * a secret when no kind is given); the identity is the one the ServiceAccount names.
 */
async function askSecrets(
  ctx: CommandContext,
  deps: BindDeps,
  cluster: ClusterSummary,
  target: ConnectTarget,
  serviceAccounts: { name: string; annotations: Record<string, string> }[],
): Promise<SecretsRequest | undefined | typeof BACK> {
  const p = ctx.prompter();
  const want = answered(
    await p.pick<boolean>({
      title: connectTitle(),
      placeholder: vscode.l10n.t('Also mount Key Vault objects as files (Secrets Store CSI driver)?'),
      items: [
        {
          label: vscode.l10n.t('No'),
          description: vscode.l10n.t('the app reads Key Vault with an Azure SDK'),
          value: false,
        },
        {
          label: vscode.l10n.t('Yes: add a SecretProviderClass'),
          description: vscode.l10n.t('files in /mnt/secrets-store'),
          value: true,
        },
      ],
    }),
  );
  if (want === BACK || !want) return want === BACK ? BACK : undefined;
  const sa = serviceAccounts.find((s) => s.name === target.serviceAccount);
  const clientId = sa?.annotations[CLIENT_ID_ANNOTATION];
  if (!clientId)
    throw Object.assign(
      new Error(
        vscode.l10n.t(
          '{0}/{1} has no {2} annotation: bind it first.',
          target.namespace,
          target.serviceAccount,
          CLIENT_ID_ANNOTATION,
        ),
      ),
      { name: 'YamlEditError' },
    );
  const vault = answered(
    await p.pick<VaultSummary>({
      title: connectTitle(),
      placeholder: vscode.l10n.t('Which Key Vault holds the objects?'),
      items: ctx.tree.vaults().then((vs) => vs.map((v) => ({ label: v.name, description: v.resourceGroup, value: v }))),
    }),
  );
  if (vault === BACK) return BACK;
  const names = answered(
    await p.input({
      title: connectTitle(),
      prompt: vscode.l10n.t('Objects to mount, comma separated: a secret name, or key:name or cert:name'),
      validate: (v) => {
        const items = v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
        if (!items.length) return vscode.l10n.t('Name at least one object.');
        for (const i of items) {
          const e = validateObjectName(i.replace(/^(secret|key|cert):/, ''));
          if (e) return `${i}: ${e}`;
        }
        return undefined;
      },
    }),
  );
  if (names === BACK) return BACK;
  const mc = await deps.clusters.get(cluster);
  return {
    clientId,
    tenantId: sa!.annotations[TENANT_ID_ANNOTATION] ?? vault.tenantId ?? '',
    vaultName: vault.name,
    cloud: ctx.auth.session!.cloud.name,
    objects: names
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => {
        const [, type = 'secret', name = x] = /^(secret|key|cert):(.+)$/.exec(x) ?? [];
        return { objectName: name, objectType: type as KeyVaultObjectType };
      }),
    addonEnabled: mc.addonProfiles?.azureKeyvaultSecretsProvider?.enabled === true,
    clusterResourceGroup: cluster.resourceGroup,
  };
}

/** The diff beside the editor, and the changes and what they mean in the list. */
async function review(ctx: CommandContext, plan: ConnectPlan): Promise<'run' | 'back' | 'dismissed'> {
  const uri = fileUri(plan.candidate.path);
  await vscode.commands.executeCommand(
    'vscode.diff',
    uri,
    proposedContent.show(plan.candidate.path, plan.text),
    vscode.l10n.t('{0}: now ↔ connected', plan.candidate.path),
  );
  const v = await ctx.prompter().pick<'run' | 'line'>({
    title: vscode.l10n.t('{0}: review', connectTitle()),
    placeholder:
      plan.changes.length === 1
        ? vscode.l10n.t('1 change to {0}; nothing has been written yet (the diff is open)', plan.candidate.path)
        : vscode.l10n.t(
            '{0} changes to {1}; nothing has been written yet (the diff is open)',
            plan.changes.length,
            plan.candidate.path,
          ),
    items: [
      {
        label: vscode.l10n.t('$(check) Connect: change {0}', plan.candidate.path),
        description: vscode.l10n.t('confirm'),
        value: 'run' as const,
      },
      ...plan.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const })),
      ...plan.warnings.map((w) => ({ label: `$(warning) ${w}`, value: 'line' as const })),
    ],
  });
  if (v === BACK) return 'back';
  if (v === undefined) return 'dismissed';
  return v === 'run' ? 'run' : review(ctx, plan);
}

/** A file with unsaved edits in an editor is not written: says so, and returns true. */
function refusedUnsaved(ctx: CommandContext, path: string): boolean {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === fileUri(path).toString());
  if (open?.isDirty)
    void ctx
      .prompter()
      .notify(
        'warning',
        vscode.l10n.t(
          '{0} has unsaved changes in an editor: save or revert them, then connect again. Nothing was written.',
          path,
        ),
      );
  return !!open?.isDirty;
}

/** Reads the file again and edits what it finds: an edit made meanwhile is kept, an unsaved one stops the write. */
async function execute(
  ctx: CommandContext,
  reviewed: ConnectPlan,
  target: ConnectTarget,
  serviceAccounts: { name: string; annotations: Record<string, string> }[],
  cluster: ClusterSummary,
  secrets?: SecretsRequest,
): Promise<ConnectPlan | undefined> {
  const uri = fileUri(reviewed.candidate.path);
  if (refusedUnsaved(ctx, reviewed.candidate.path)) return undefined;
  const plan = connectDomain(ctx).planConnect(
    await readWorkspaceText(reviewed.candidate.path),
    reviewed.candidate,
    target,
    serviceAccounts,
    secrets,
  );
  if (plan.changes.length) await vscode.workspace.fs.writeFile(uri, Buffer.from(plan.text, 'utf8'));
  if (plan.secretProviderClass)
    await writeManifest(ctx.prompter(), plan.secretProviderClass.path, plan.secretProviderClass.text);
  await vscode.window.showTextDocument(uri, { preview: false });
  ctx.log.info(`Connect: ${reviewed.candidate.path}: ${plan.changes.join('; ') || 'already connected'}.`);
  markDone('connected');
  const verify = vscode.l10n.t('Verify');
  void ctx
    .prompter()
    .notify(
      'info',
      vscode.l10n.t(
        '{0} {1} in {2} now runs as {3} with the azure.workload.identity/use label. Apply the file to {4} (kubectl apply -f {5}, or your pipeline) to roll out pods that get the token; then Verify.',
        plan.candidate.workload.kind,
        plan.candidate.workload.name,
        plan.candidate.path,
        target.serviceAccount,
        target.clusterName,
        plan.candidate.path,
      ),
      verify,
    )
    .then((a) => {
      if (a === verify)
        void vscode.commands.executeCommand('aksWorkloadIdentity.verifyWorkloadIdentity', {
          cluster,
          namespace: target.namespace,
          serviceAccount: target.serviceAccount,
        });
    });
  return plan;
}

/** The file at a workspace path (workspaceFiles.ts): every path here comes from readWorkspaceYaml, so it resolves. */
const fileUri = (path: string): vscode.Uri => workspaceUri(path)!;

/** The YAML files of the open folders, by workspace path. */
async function readWorkspaceYaml() {
  const uris = await vscode.workspace.findFiles('**/*.{yaml,yml}', EXCLUDE, 2000);
  return Promise.all(
    uris.map(async (uri) => ({
      path: workspacePath(uri),
      text: Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8'),
    })),
  );
}
