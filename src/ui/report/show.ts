import * as vscode from 'vscode';
import { runPrompts } from '../../wizard/wizard';
import type { Prompter } from '../../wizard/prompter';
import type { Binding } from '../../workloadIdentity/binding';
import type { AzureSession } from '../auth';
import type { CommandContext } from '../context';
import { BindingWizardContext, bindingPromptSteps } from '../prompts/binding';
import type { ClusterNode } from '../tree/nodes';
import { VerifyPanel } from './panel';

export const reportTitle = () => vscode.l10n.t('Verify Workload Identity');

/**
 * Verify's and Test Binding's start: the binding as given, or asked for (from the palette: cluster, namespace,
 * ServiceAccount and vault; from a cluster's menu: from the namespace on), then its report.
 */
export async function showReport(
  ctx: CommandContext,
  session: AzureSession,
  prompter: Prompter,
  given: Binding | undefined,
  from: ClusterNode | undefined,
  test: boolean,
): Promise<VerifyPanel | undefined> {
  const { deps, makeDeps } = reportDeps(ctx, session);
  let target = given;
  if (!target) {
    const wizard: BindingWizardContext = {
      title: reportTitle(),
      cluster: from?.cluster,
      // From a cluster's menu, every vault: the binding's own grants say which.
      vault: from ? null : undefined,
      sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
    };
    await runPrompts(bindingPromptSteps, wizard, prompter);
    target = {
      cluster: wizard.cluster!,
      namespace: wizard.namespace!,
      serviceAccount: wizard.serviceAccount!,
      ...(wizard.vault ? { vault: wizard.vault } : {}),
    };
  }
  prompter.doneAsking();
  return VerifyPanel.show(ctx, makeDeps, target, test);
}

/**
 * A report's dependencies: the first run uses the cluster connections the prompts opened; later runs connect afresh,
 * with whoever is signed in then (a panel can stay open for hours, past a cluster token's life and across a sign-in).
 */
export function reportDeps(ctx: CommandContext, session: AzureSession) {
  const inventory = { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults() };
  const deps = session.services.probeDeps(inventory);
  let unused: typeof deps | undefined = deps;
  const makeDeps = () => {
    const current = ctx.auth.session;
    if (!current)
      throw Object.assign(new Error(vscode.l10n.t('Sign in to Azure to run the checks.')), { code: 'NotSignedIn' });
    const next = unused && current === session ? unused : current.services.probeDeps(inventory);
    unused = undefined;
    return next;
  };
  return { deps, makeDeps };
}
