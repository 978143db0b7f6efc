import * as vscode from 'vscode';
import { StepError, describeError, errorNamed } from '../../../errors';
import type { Binding } from '../../../workloadIdentity/binding';
import type { ConnectChange, ConnectDeps } from '../../../workloadIdentity/connect/model';
import type { Prompter } from '../../../wizard/prompter';
import { runPrompts } from '../../../wizard/wizard';
import type { AzureSession } from '../../auth';
import type { CommandContext } from '../../context';
import { withCancellableProgress } from '../../progress';
import { bindingPromptSteps } from '../../prompts/binding';
import type { BindingNode } from '../../tree/nodes';
import { markDone } from '../../walkthrough';
import { workspaceFiles, workspaceUri } from '../../workspaceFiles';
import { bindingFrom, remedyText, runCommand } from '../command';
import { ConnectWizardContext, bindingOf, connectTitle, whereStep } from './prompts';

/**
 * Connect Workload: the workload's pod template gets the ServiceAccount and the use label, in the open folders' YAML
 * (its file, or a patch in a Kustomize overlay) or live in the cluster. Prompts, with a branch per place → the change
 * and what it means, reviewed → steps that read first and write only what is missing → what to do next.
 */
export function connectWorkloadCommand(
  ctx: CommandContext,
  from?: BindingNode | Binding,
): Promise<ConnectChange['plan'] | undefined> {
  return runCommand(ctx, connectTitle(), async ({ session, prompter }) => {
    try {
      return await connect(ctx, session, prompter, bindingFrom(from));
    } catch (e) {
      // A refusal to edit is the whole message: no code before it.
      if (!errorNamed(e, 'YamlEditError', 'NotBoundError', 'UnsavedFileError')) throw e;
      const { message } = describeError(e);
      ctx.log.error(`${connectTitle()}: ${message}`);
      if (errorNamed(e, 'UnsavedFileError')) void prompter.notify('warning', message);
      else void prompter.notify('error', vscode.l10n.t('{0}: {1}', connectTitle(), message));
      return undefined;
    }
  });
}

async function connect(ctx: CommandContext, session: AzureSession, prompter: Prompter, from: Binding | undefined) {
  const deps = session.services.bindDeps();
  const files = workspaceFiles(prompter);
  const wizard: ConnectWizardContext = {
    title: connectTitle(),
    vault: null,
    ...(from ? { cluster: from.cluster, namespace: from.namespace, serviceAccount: from.serviceAccount } : {}),
    ...(from?.viaIdentityBinding ? { viaIdentityBinding: true } : {}),
    sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
    domain: session.services.workloads,
    deps,
    files,
    cloud: session.cloud.name,
  };
  await runPrompts([...bindingPromptSteps, whereStep], wizard, prompter);
  prompter.doneAsking();
  if (wizard.ended) {
    if (wizard.ended.message) void prompter.notify(wizard.ended.level, wizard.ended.message);
    return wizard.ended.result;
  }
  const state = {
    binding: bindingOf(wizard),
    serviceAccounts: await wizard.serviceAccounts!,
    change: wizard.change!,
    ...(wizard.secrets ? { secrets: wizard.secrets } : {}),
  };
  const connectDeps: ConnectDeps = { files, kube: deps.kube, sleep: deps.sleep, log: deps.log };
  const run = (signal: AbortSignal, progress?: (m: string) => void) =>
    session.services.workloads.runConnect(state, connectDeps, { signal, ...(progress ? { progress } : {}) });
  return state.change.where === 'cluster'
    ? await inCluster(ctx, prompter, state.binding, state.change.plan.workload, run)
    : await inWorkspace(ctx, prompter, state.binding, run);
}

const offerVerify = (prompter: Prompter, level: 'info' | 'warning', message: string, binding: Binding) => {
  const verify = vscode.l10n.t('Verify');
  void prompter.notify(level, message, verify).then((a) => {
    if (a === verify)
      void vscode.commands.executeCommand('aksWorkloadIdentity.verifyWorkloadIdentity', {
        cluster: binding.cluster,
        namespace: binding.namespace,
        serviceAccount: binding.serviceAccount,
      });
  });
};

type Run = (
  signal: AbortSignal,
  progress?: (m: string) => void,
) => ReturnType<AzureSession['services']['workloads']['runConnect']>;

/** The file or the overlay's patch is written; the user applies it as usual. */
async function inWorkspace(ctx: CommandContext, prompter: Prompter, binding: Binding, run: Run) {
  const { done } = await run(new AbortController().signal);
  markDone('connected');
  if (done.where === 'overlay') {
    const { plan } = done;
    ctx.log.info(`Connect: ${plan.changes.join('; ')}.`);
    void prompter.notify(
      'info',
      vscode.l10n.t(
        '{0} now patches {1} {2} to run as {3} with the azure.workload.identity/use label. Build and apply the overlay to roll out pods that get the token.',
        plan.kustomization,
        plan.candidate.workload.kind,
        plan.candidate.workload.name,
        binding.serviceAccount,
      ),
    );
    return plan;
  }
  if (done.where !== 'file') return undefined;
  const { plan } = done;
  const { path } = plan.candidate;
  await vscode.window.showTextDocument(workspaceUri(path)!, { preview: false });
  ctx.log.info(`Connect: ${path}: ${plan.changes.join('; ') || 'already connected'}.`);
  offerVerify(
    prompter,
    'info',
    vscode.l10n.t(
      '{0} {1} in {2} now runs as {3} with the azure.workload.identity/use label. Apply the file to {4} (kubectl apply -f {5}, or your pipeline) to roll out pods that get the token; then Verify.',
      plan.candidate.workload.kind,
      plan.candidate.workload.name,
      path,
      binding.serviceAccount,
      binding.cluster.name,
      path,
    ),
    binding,
  );
  return plan;
}

/** The apply and the rollout with progress, then the new pods' check; a failure offers Retry, which reads first. */
async function inCluster(
  ctx: CommandContext,
  prompter: Prompter,
  binding: Binding,
  w: { kind: string; name: string },
  run: Run,
) {
  const cluster = binding.cluster.name;
  for (;;) {
    try {
      const result = await withCancellableProgress(
        vscode.l10n.t('Connecting {0} {1} on {2}', w.kind, w.name, cluster),
        (progress, signal) => run(signal, progress),
      );
      if (result.done.where !== 'cluster') return undefined;
      const { plan } = result.done;
      ctx.log.info(
        `Connect: ${w.kind} ${w.name} on ${cluster}: ${result.records.get('live')?.result}; ${plan.changes.join('; ')}.`,
      );
      markDone('connected');
      offerVerify(
        prompter,
        result.pods?.level ?? 'info',
        vscode.l10n.t(
          '{0} {1} on {2} now runs as {3} with the azure.workload.identity/use label.{4}',
          w.kind,
          w.name,
          cluster,
          binding.serviceAccount,
          result.pods ? ` ${result.pods.message}` : ` ${vscode.l10n.t('Its next Jobs get the token.')}`,
        ),
        binding,
      );
      return plan;
    } catch (e) {
      if (errorNamed(e, 'CancelledError', 'AbortError')) {
        void prompter.notify(
          'info',
          vscode.l10n.t('Connect cancelled. Run it again to finish: it reads first and does only what is missing.'),
        );
        return undefined;
      }
      const d = describeError(e);
      ctx.log.error(`Connect: ${d.code}: ${d.message}`);
      const retry = vscode.l10n.t('Retry');
      const remedy = errorNamed(e, 'StepError') ? remedyText(e as StepError) : '';
      const message = vscode.l10n.t('{0}: {1}: {2}{3}', connectTitle(), d.code, d.message, remedy);
      if ((await prompter.notify('error', message, retry)) !== retry) return undefined;
    }
  }
}
