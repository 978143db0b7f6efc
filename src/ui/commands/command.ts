import * as vscode from 'vscode';
import { IncompleteRunError, StepError, describeError, errorNamed } from '../../errors';
import type { Prompter } from '../../wizard/prompter';
import type { Binding } from '../../workloadIdentity/binding';
import type { AzureSession } from '../auth';
import { CommandContext, requireSession } from '../context';
import type { BindingNode, ClusterNode } from '../tree/nodes';

/** What a command's body works with: the signed-in session and the prompter. */
export interface CommandRun {
  session: AzureSession;
  prompter: Prompter;
}

/**
 * Every command's opening and closing. It signs in first when there is no session; a dismissed prompt ends the
 * command quietly; any other failure is logged and shown as "<title>: <code>: <message>".
 */
export async function runCommand<T>(
  ctx: CommandContext,
  title: string,
  body: (run: CommandRun) => Promise<T>,
): Promise<T | undefined> {
  const session = await requireSession(ctx);
  if (!session) return undefined;
  const prompter = ctx.prompter();
  try {
    return await body({ session, prompter });
  } catch (e) {
    if (errorNamed(e, 'PromptDismissed')) return undefined;
    const d = describeError(e);
    ctx.log.error(`${title}: ${d.code}: ${d.message}`);
    void prompter.notify('error', vscode.l10n.t('{0}: {1}: {2}', title, d.code, d.message));
    return undefined;
  }
}

/** A flow's own words for a run that stopped part-way (each flow has its own, for translators). */
export interface StoppedRunTexts {
  where(done: string, notDone: string): string;
  cancelled(where: string): string;
  failed(cause: StepError, where: string): string;
}

/**
 * A run that stopped part-way: what is done and what is not, with Retry (each step reads first, so running again
 * finishes the work) and Show Log. Anything other than an IncompleteRunError is thrown on to runCommand.
 */
export async function reportStoppedRun(
  prompter: Prompter,
  e: unknown,
  texts: StoppedRunTexts,
  actions: { refresh(): void; retry(): Promise<unknown> },
): Promise<void> {
  if (!errorNamed(e, 'IncompleteRunError')) throw e;
  const run = e as IncompleteRunError;
  actions.refresh();
  const where = texts.where(run.done.length ? run.done.join('; ') : vscode.l10n.t('nothing'), run.notDone.join('; '));
  if (run.cancelled) {
    void prompter.notify('info', texts.cancelled(where));
    return;
  }
  const [retry, showLog] = [vscode.l10n.t('Retry'), vscode.l10n.t('Show Log')];
  const action = await prompter.notify('error', texts.failed(run.cause as StepError, where), retry, showLog);
  if (action === retry) await actions.retry();
  if (action === showLog) void vscode.commands.executeCommand('aksWorkloadIdentity.showLog');
}

/** A remedy as it follows a message: with its leading space, or nothing. */
export const remedyText = (cause: StepError) => (cause.remedy ? ` ${cause.remedy}` : '');

/**
 * The binding a command was started on: a binding node of the tree, or a binding passed by another command (a
 * notification's "Test now", the report's "Connect a workload"). undefined for a cluster node or the palette.
 */
export function bindingFrom(from: BindingNode | ClusterNode | Binding | undefined): Binding | undefined {
  if (!from) return undefined;
  if ('namespace' in from) return from;
  if (from.kind !== 'binding') return undefined;
  return {
    cluster: from.cluster,
    namespace: from.binding.namespace,
    serviceAccount: from.binding.serviceAccount,
    identityId: from.binding.identityId,
    ...(from.binding.identityBinding ? { viaIdentityBinding: true } : {}),
  };
}

/** The cluster node a command was started on, or undefined (a binding, or the palette). */
export function clusterNodeFrom(from: BindingNode | ClusterNode | Binding | undefined): ClusterNode | undefined {
  return from && 'kind' in from && from.kind === 'cluster' ? from : undefined;
}
