import * as vscode from 'vscode';
import type { BindDeps } from '../../../workloadIdentity/bind/model';
import type { Binding } from '../../../workloadIdentity/binding';
import { NotBoundError, type ConnectChange, type WorkspaceFiles } from '../../../workloadIdentity/connect/model';
import type { KeyVaultObjectType } from '../../../workloadIdentity/connect/secretProviderClass';
import type { LiveWorkload } from '../../../workloadIdentity/connect/live';
import type { SecretsRequest, WorkloadCandidate } from '../../../workloadIdentity/connect/workspace';
import type { VaultSummary } from '../../../workloadIdentity/inventory';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../../../workloadIdentity/manifest';
import { appSideOfIdentityBinding } from '../../../workloadIdentity/binding';
import { validateObjectName } from '../../../workloadIdentity/names';
import { BACK, type Back, type Prompter } from '../../../wizard/prompter';
import { PromptStep, answered } from '../../../wizard/wizard';
import type { AzureSession } from '../../auth';
import { proposedContent } from '../../proposedContent';
import type { BindingWizardContext } from '../../prompts/binding';
import { workspaceTrusted, workspaceUri } from '../../workspaceFiles';

export const connectTitle = () => vscode.l10n.t('Connect Workload');

export interface ConnectWizardContext extends BindingWizardContext {
  readonly domain: AzureSession['services']['workloads'];
  readonly deps: BindDeps;
  readonly files: WorkspaceFiles;
  readonly cloud: AzureSession['cloud']['name'];
  /** The namespace's ServiceAccounts, read once the binding is known: plans name the identity a workload leaves. */
  serviceAccounts?: Promise<{ name: string; annotations: Record<string, string> }[]>;
  candidate?: WorkloadCandidate;
  wantSecrets?: boolean;
  secretsVault?: VaultSummary;
  secrets?: SecretsRequest;
  /** The binding goes through an identity binding (from the tree, or found once the binding is known). */
  viaIdentityBinding?: boolean;
  /** Through an identity binding: what the app's files say about its side (its library's option, credentials). */
  appHints?: Promise<string[]>;
  /** The change the user confirmed. */
  change?: ConnectChange;
  /** Nothing to do, or nothing that can be done here: said instead of a run (nothing said when no message). */
  ended?: { level: 'info' | 'warning'; message?: string; result?: ConnectChange['plan'] };
}

type Step = PromptStep<ConnectWizardContext>;
const position = (pos: { step: number; totalSteps: number }) => ({ title: connectTitle(), ...pos });
export const bindingOf = (c: ConnectWizardContext): Binding => ({
  cluster: c.cluster!,
  namespace: c.namespace!,
  serviceAccount: c.serviceAccount!,
  ...(c.viaIdentityBinding ? { viaIdentityBinding: true } : {}),
});

/** The ServiceAccount's identity has an identity binding on the cluster: the pods then also need its annotation. */
async function throughIdentityBinding(c: ConnectWizardContext): Promise<boolean> {
  const [accounts, bindings] = await Promise.all([
    c.serviceAccounts!,
    c.deps.identityBindings.list(c.cluster!).catch(() => []),
  ]);
  const clientId = accounts.find((a) => a.name === c.serviceAccount)?.annotations[CLIENT_ID_ANNOTATION]?.toLowerCase();
  return !!clientId && bindings.some((b) => b.clientId?.toLowerCase() === clientId);
}
const labelState = (labelled: boolean) =>
  labelled ? vscode.l10n.t('labelled') : vscode.l10n.t('no azure.workload.identity/use label');
const end = (c: ConnectWizardContext, ended: NonNullable<ConnectWizardContext['ended']>) => {
  c.ended = ended;
  return [];
};

async function readOrThrow(files: WorkspaceFiles, path: string): Promise<string> {
  const text = await files.read(path);
  if (text === undefined) throw new Error(vscode.l10n.t('{0} is in no open folder.', path));
  return text;
}

/** The review of a change: the changes and warnings as lines, confirmed by the first; a line click asks again. */
async function confirmed(
  p: Prompter,
  pos: { step: number; totalSteps: number },
  placeholder: string,
  confirm: string,
  lines: { changes: string[]; warnings?: string[] },
  appHints: string[] = [],
): Promise<true | Back> {
  for (;;) {
    const v = answered(
      await p.pick<'run' | 'line'>({
        ...pos,
        title: vscode.l10n.t('{0}: review', connectTitle()),
        placeholder,
        items: [
          { label: confirm, description: vscode.l10n.t('confirm'), value: 'run' as const },
          ...lines.changes.map((c) => ({ label: `$(edit) ${c}`, value: 'line' as const })),
          ...(lines.warnings ?? []).map((w) => ({ label: `$(warning) ${w}`, value: 'line' as const })),
          ...appHints.map((h) => ({ label: `$(code) ${h}`, value: 'line' as const })),
        ],
      }),
    );
    if (v !== 'line') return v === BACK ? BACK : true;
  }
}

const showDiff = (path: string, text: string, title: string) =>
  vscode.commands.executeCommand('vscode.diff', workspaceUri(path), proposedContent.show(path, text), title);

/** Where the workload is defined: a branch for the workspace's YAML and one for the cluster. */
export const whereStep: Step = {
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    c.serviceAccounts = c.deps
      .kube(c.cluster!)
      .then((k) => k.listServiceAccounts(c.namespace!))
      .catch(() => []);
    // Read while the user answers; a binding from the tree already says.
    const mode = c.viaIdentityBinding === undefined ? throughIdentityBinding(c) : Promise.resolve(c.viaIdentityBinding);
    const where = answered(
      await p.pick<'cluster' | 'workspace'>({
        ...position(pos),
        placeholder: vscode.l10n.t('Where is the workload that should run as {0}?', c.serviceAccount!),
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
              c.namespace!,
              c.cluster!.name,
            ),
            value: 'cluster',
          },
        ],
      }),
    );
    if (where === BACK) return BACK;
    c.viaIdentityBinding = await mode;
    // The app's side: read while the next questions are answered.
    if (c.viaIdentityBinding && !c.appHints)
      c.appHints = Promise.all([
        c.files.find(
          '**/{package.json,go.mod,pom.xml,build.gradle,build.gradle.kts,*.csproj,requirements*.txt,pyproject.toml}',
          50,
        ),
        c.files.find('**/*.{ts,js,mjs,cjs,go,java,cs,py}', 500),
      ])
        .then(([manifests, sources]) => c.domain.appSideHints(manifests, sources))
        .catch(() => []);
    if (where === 'cluster') return [liveWorkloadStep];
    if (!workspaceTrusted(p, connectTitle())) return end(c, { level: 'warning' });
    return [fileWorkloadStep];
  },
};

/** The namespace's workloads that the open folders' YAML defines; a base that overlays build opens their branch. */
const fileWorkloadStep: Step = {
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const files = await c.files.yamlFiles();
    const { candidates, skipped } = c.domain.findCandidates(files, c.namespace!);
    for (const s of skipped) c.deps.log.warn(`Connect: ${s.path} skipped: ${s.reason}`);
    if (!candidates.length)
      return end(c, {
        level: 'info',
        message: vscode.l10n.t(
          'No Deployment, StatefulSet, DaemonSet, Job or CronJob of namespace {0} is defined in the YAML files of the open folders{1}.',
          c.namespace!,
          skipped.length
            ? ` ${vscode.l10n.t('({0} could not be read: see the log)', skipped.length === 1 ? vscode.l10n.t('1 file') : vscode.l10n.t('{0} files', skipped.length))}`
            : '',
        ),
      });
    const picked = answered(
      await p.pick<WorkloadCandidate>({
        ...position(pos),
        placeholder: vscode.l10n.t('Which workload should run as {0}?', c.serviceAccount!),
        items: candidates.map((x) => ({
          label: `${x.workload.kind} ${x.workload.name}`,
          description: x.path,
          detail: vscode.l10n.t(
            'serviceAccountName: {0} · {1}{2}',
            x.workload.serviceAccountName ?? '(default)',
            labelState(x.workload.labelled),
            x.workload.namespace ? '' : ` · ${vscode.l10n.t('no namespace in the file')}`,
          ),
          value: x,
        })),
      }),
    );
    if (picked === BACK) return BACK;
    c.candidate = picked;
    const overlays = c.domain.overlaysOf(files, picked.path);
    return overlays.length ? [overlayStep(overlays)] : [...secretsSteps, fileReviewStep];
  },
};

/** A base: a patch in one of its overlays (their branch ends in the patch's review), or the base itself. */
const overlayStep = (overlays: string[]): Step => ({
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const how = answered(
      await p.pick<string | null>({
        ...position(pos),
        placeholder: vscode.l10n.t(
          '{0} is a base that Kustomize overlays build: where should the change go?',
          c.candidate!.path,
        ),
        items: [
          ...overlays.map((k) => ({
            label: vscode.l10n.t('Add a patch in {0}', k.slice(0, k.lastIndexOf('/')) || '.'),
            description: vscode.l10n.t('the base stays as it is'),
            value: k,
          })),
          {
            label: vscode.l10n.t('Change {0}', c.candidate!.path),
            description: vscode.l10n.t('every overlay gets it'),
            value: null,
          },
        ],
      }),
    );
    if (how === BACK) return BACK;
    return how ? [patchReviewStep(how)] : [...secretsSteps, fileReviewStep];
  },
});

/** Optional: secrets as files through the Secrets Store CSI driver, for the identity the ServiceAccount names. */
const wantSecretsStep: Step = {
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const want = answered(
      await p.pick<boolean>({
        ...position(pos),
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
    if (want === BACK) return BACK;
    c.wantSecrets = want;
    c.secrets = undefined;
    const sa = (await c.serviceAccounts!).find((s) => s.name === c.serviceAccount);
    if (want && !sa?.annotations[CLIENT_ID_ANNOTATION]) throw new NotBoundError(c.namespace!, c.serviceAccount!);
  },
};

const secretsVaultStep: Step = {
  shouldPrompt: (c) => c.wantSecrets === true,
  async prompt(c, p, pos) {
    const vault = answered(
      await p.pick<VaultSummary>({
        ...position(pos),
        placeholder: vscode.l10n.t('Which Key Vault holds the objects?'),
        items: c.sources
          .vaults()
          .then((vs) => vs.map((v) => ({ label: v.name, description: v.resourceGroup, value: v }))),
      }),
    );
    if (vault === BACK) return BACK;
    c.secretsVault = vault;
  },
};

const objectNames = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const secretsObjectsStep: Step = {
  shouldPrompt: (c) => c.wantSecrets === true,
  async prompt(c, p, pos) {
    const names = answered(
      await p.input({
        ...position(pos),
        prompt: vscode.l10n.t('Objects to mount, comma separated: a secret name, or key:name or cert:name'),
        validate: (v) => {
          const items = objectNames(v);
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
    const sa = (await c.serviceAccounts!).find((s) => s.name === c.serviceAccount)!;
    const vault = c.secretsVault!;
    const mc = await c.deps.clusters.get(c.cluster!);
    c.secrets = {
      clientId: sa.annotations[CLIENT_ID_ANNOTATION]!,
      tenantId: sa.annotations[TENANT_ID_ANNOTATION] ?? vault.tenantId ?? '',
      vaultName: vault.name,
      cloud: c.cloud,
      objects: objectNames(names).map((x) => {
        const [, type = 'secret', name = x] = /^(secret|key|cert):(.+)$/.exec(x) ?? [];
        return { objectName: name, objectType: type as KeyVaultObjectType };
      }),
      addonEnabled: mc.addonProfiles?.azureKeyvaultSecretsProvider?.enabled === true,
      clusterResourceGroup: c.cluster!.resourceGroup,
    };
  },
};

const secretsSteps = [wantSecretsStep, secretsVaultStep, secretsObjectsStep];

/** The workload's file: the diff beside the editor, the changes and what they mean in the list. */
const fileReviewStep: Step = {
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const { path } = c.candidate!;
    const plan = c.domain.planConnect(
      await readOrThrow(c.files, path),
      c.candidate!,
      bindingOf(c),
      await c.serviceAccounts!,
      c.secrets,
    );
    if (!plan.changes.length)
      return end(c, {
        level: 'info',
        message: vscode.l10n.t(
          '{0} {1} in {2} already runs as {3} with the azure.workload.identity/use label.',
          plan.candidate.workload.kind,
          plan.candidate.workload.name,
          path,
          c.serviceAccount!,
        ),
        result: plan,
      });
    await showDiff(path, plan.text, vscode.l10n.t('{0}: now ↔ connected', path));
    const v = await confirmed(
      p,
      pos,
      plan.changes.length === 1
        ? vscode.l10n.t('1 change to {0}; nothing has been written yet (the diff is open)', path)
        : vscode.l10n.t(
            '{0} changes to {1}; nothing has been written yet (the diff is open)',
            plan.changes.length,
            path,
          ),
      vscode.l10n.t('$(check) Connect: change {0}', path),
      plan,
      await c.appHints,
    );
    if (v === BACK) return BACK;
    c.change = { where: 'file', plan };
  },
};

/** The overlay's patch and its entry in the kustomization, whose diff is open. */
const patchReviewStep = (kustomization: string): Step => ({
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const plan = c.domain.planKustomizePatch(
      kustomization,
      await readOrThrow(c.files, kustomization),
      c.candidate!,
      bindingOf(c),
    );
    if ((await c.files.read(plan.patch.path)) === plan.patch.text && plan.changes.length === 1)
      return end(c, {
        level: 'info',
        message: vscode.l10n.t('{0} is already in place and listed in {1}.', plan.patch.path, kustomization),
        result: plan,
      });
    await showDiff(kustomization, plan.kustomizationText, vscode.l10n.t('{0}: now ↔ with the patch', kustomization));
    const v = await confirmed(
      p,
      pos,
      vscode.l10n.t("Nothing has been written yet (the kustomization's diff is open)"),
      vscode.l10n.t('$(check) Connect: add the patch to {0}', kustomization),
      c.viaIdentityBinding ? { ...plan, warnings: [appSideOfIdentityBinding()] } : plan,
      await c.appHints,
    );
    if (v === BACK) return BACK;
    c.change = { where: 'overlay', plan };
  },
});

/** The namespace's workloads in the cluster, with their ServiceAccount, label and the tool that manages them. */
const liveWorkloadStep: Step = {
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const kube = await c.deps.kube(c.cluster!);
    const list = (await kube.listWorkloads(c.namespace!)).map(c.domain.toLiveWorkload);
    if (!list.length)
      return end(c, {
        level: 'info',
        message: vscode.l10n.t(
          '{0} on {1} has no Deployment, StatefulSet, DaemonSet, Job or CronJob.',
          c.namespace!,
          c.cluster!.name,
        ),
      });
    const w = answered(
      await p.pick<LiveWorkload>({
        ...position(pos),
        placeholder: vscode.l10n.t('Which workload on {0} should run as {1}?', c.cluster!.name, c.serviceAccount!),
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
    if (w === BACK) return BACK;
    return [...secretsSteps, liveReviewStep(w)];
  },
};

/** The fields and what restarts; a workload that Helm, Flux or Argo CD manages needs an explicit yes. */
const liveReviewStep = (w: LiveWorkload): Step => ({
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const plan = c.domain.planLive(w, bindingOf(c), await c.serviceAccounts!, c.secrets);
    if (!plan.changes.length)
      return end(c, {
        level: 'info',
        message: vscode.l10n.t(
          '{0} {1} already runs as {2} with the azure.workload.identity/use label.',
          w.kind,
          w.name,
          c.serviceAccount!,
        ),
        result: plan,
      });
    if (plan.blocked) return end(c, { level: 'warning', message: plan.blocked, result: plan });
    const cluster = c.cluster!.name;
    const v = await confirmed(
      p,
      pos,
      plan.changes.length === 1
        ? vscode.l10n.t('1 field of {0} {1} on {2}; nothing has been written yet', w.kind, w.name, cluster)
        : vscode.l10n.t(
            '{0} fields of {1} {2} on {3}; nothing has been written yet',
            plan.changes.length,
            w.kind,
            w.name,
            cluster,
          ),
      vscode.l10n.t('$(check) Connect: apply to {0} {1}', w.kind, w.name),
      plan,
      await c.appHints,
    );
    if (v === BACK) return BACK;
    if (
      w.managedBy &&
      !(await p.confirm({
        message: vscode.l10n.t('{0} {1} is managed by {2}. Change it live anyway?', w.kind, w.name, w.managedBy),
        detail: vscode.l10n.t('{0} will undo the change at its next sync unless its source changes too.', w.managedBy),
        confirm: vscode.l10n.t('Change it live'),
      }))
    )
      return end(c, { level: 'info' });
    c.change = { where: 'cluster', plan };
  },
});
