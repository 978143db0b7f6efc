import * as vscode from 'vscode';
import { ClusterSummary, clusterFromSdk, workloadIdentityState } from '../../../workloadIdentity/cluster';
import { enableWorkloadIdentity } from '../../../workloadIdentity/enable/run';
import { StepError, describeError, errorMessage, errorNamed } from '../../../errors';
import type { Prompter } from '../../../wizard/prompter';
import type { AzureSession } from '../../auth';
import { CommandContext } from '../../context';
import { remedyText, runCommand } from '../command';
import { withCancellableProgress } from '../../progress';
import { pickCluster } from '../../prompts/cluster';
import type { ClusterNode } from '../../tree/nodes';

/** Right-click a cluster → Enable Workload Identity, or from the palette (asks for the cluster first). */
export function enableWorkloadIdentityCommand(
  ctx: CommandContext,
  node?: ClusterNode,
  copy?: (text: string) => Thenable<void>,
): Promise<ClusterSummary | undefined> {
  return runCommand(ctx, vscode.l10n.t('Enable Workload Identity'), ({ session, prompter }) =>
    enable(ctx, session, prompter, node, copy),
  );
}

async function enable(
  ctx: CommandContext,
  session: AzureSession,
  prompter: Prompter,
  node: ClusterNode | undefined,
  copy: ((text: string) => Thenable<void>) | undefined,
): Promise<ClusterSummary | undefined> {
  const picked = node?.cluster ?? (await pickCluster(ctx, vscode.l10n.t('Enable Workload Identity')));
  if (!picked || typeof picked === 'symbol') return;
  const api = session.services.clusters;

  let current: ClusterSummary;
  try {
    current = clusterFromSdk(await api.get(picked));
  } catch (e) {
    const d = describeError(e);
    void prompter.notify('error', vscode.l10n.t('Could not read {0}: {1}: {2}', picked.name, d.code, d.message));
    return;
  }
  ctx.tree.updateCluster(current);
  const offerCopy = async (c: ClusterSummary, message: string) => {
    const copyIssuer = vscode.l10n.t('Copy Issuer URL');
    const action = await prompter.notify('info', message, copyIssuer);
    if (action === copyIssuer && c.issuerUrl) await copy?.(c.issuerUrl);
  };
  if (workloadIdentityState(current) === 'on') {
    void offerCopy(
      current,
      vscode.l10n.t('Workload identity is already on for {0}. Issuer URL: {1}', current.name, current.issuerUrl ?? ''),
    );
    return current;
  }
  const confirmed = await prompter.confirm({
    message: current.oidcIssuerEnabled
      ? vscode.l10n.t('Enable workload identity on {0}?', current.name)
      : vscode.l10n.t('Enable the OIDC issuer and workload identity on {0}?', current.name),
    detail: current.oidcIssuerEnabled
      ? vscode.l10n.t('The cluster is updated in place; this takes several minutes. Only these settings change.')
      : vscode.l10n.t(
          'The cluster is updated in place; this takes several minutes. Only these settings change. The OIDC issuer cannot be disabled once it is enabled.',
        ),
    confirm: vscode.l10n.t('Enable'),
  });
  if (!confirmed) return;

  const run = ctx.clusterUpdates.run(current.id.toLowerCase(), async () =>
    withCancellableProgress(vscode.l10n.t('Enabling workload identity on {0}', current.name), (report, signal) =>
      enableWorkloadIdentity(api, current, {
        signal,
        onProgress: report,
        onAccepted: () => ctx.tree.setUpdating(current, true),
      }),
    ),
  );
  if (run.joined)
    ctx.log.info(`An update of ${current.name} is already running; waiting for it instead of sending another.`);
  try {
    const outcome = await run.promise;
    ctx.tree.setUpdating(current, false);
    ctx.tree.updateCluster(outcome.cluster);
    ctx.log.info(`Workload identity is on for ${current.name}; issuer ${outcome.cluster.issuerUrl}`);
    void offerCopy(
      outcome.cluster,
      vscode.l10n.t('Workload identity is on for {0}. Issuer URL: {1}', current.name, outcome.cluster.issuerUrl ?? ''),
    );
    return outcome.cluster;
  } catch (e) {
    if (errorNamed(e, 'UpdateStillRunningError')) {
      ctx.tree.watchUntilSettled(current);
      void prompter.notify('info', errorMessage(e));
      return;
    }
    ctx.tree.setUpdating(current, false);
    if (errorNamed(e, 'CancelledError')) {
      void prompter.notify('info', errorMessage(e));
      return;
    }
    if (errorNamed(e, 'ClusterBusyError')) {
      const retry = vscode.l10n.t('Retry');
      void prompter.notify('warning', errorMessage(e), retry).then((a) => {
        if (a === retry) void enableWorkloadIdentityCommand(ctx, undefined, copy);
      });
      return;
    }
    const d = describeError(e);
    ctx.log.error(`Enable workload identity on ${current.name} failed: ${d.code}: ${d.message}`);
    void ctx.tree.refreshCluster(current).catch(() => undefined);
    void prompter.notify(
      'error',
      vscode.l10n.t(
        'Enabling workload identity on {0} failed: {1}: {2}{3}',
        current.name,
        d.code,
        d.message,
        errorNamed(e, 'StepError') ? remedyText(e as StepError) : '',
      ),
    );
  }
}
