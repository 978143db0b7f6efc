import * as l10n from '@vscode/l10n';
import { ClusterSummary, clusterFromSdk, workloadIdentityState } from '../../../workloadIdentity/cluster';
import {
  ClusterBusyError,
  UpdateStillRunningError,
  enableWorkloadIdentity,
} from '../../../workloadIdentity/enable/run';
import { CancelledError, StepError, describeError } from '../../../errors';
import { CommandContext, requireSession } from '../../context';
import { withCancellableProgress } from '../../progress';
import { pickCluster } from '../pickCluster';
import type { ClusterNode } from '../../tree/nodes';

/** Right-click a cluster → Enable Workload Identity, or from the palette (asks for the cluster first). */
export async function enableWorkloadIdentityCommand(
  ctx: CommandContext,
  node?: ClusterNode,
  copy?: (text: string) => Thenable<void>,
): Promise<ClusterSummary | undefined> {
  const session = await requireSession(ctx);
  if (!session) return;
  const prompter = ctx.prompter();
  const picked = node?.cluster ?? (await pickCluster(ctx, l10n.t('Enable Workload Identity')));
  if (!picked || typeof picked === 'symbol') return;
  const api = session.services.clusters;

  let current: ClusterSummary;
  try {
    current = clusterFromSdk(await api.get(picked));
  } catch (e) {
    const d = describeError(e);
    void prompter.notify('error', l10n.t('Could not read {0}: {1}: {2}', picked.name, d.code, d.message));
    return;
  }
  ctx.tree.updateCluster(current);
  const offerCopy = async (c: ClusterSummary, message: string) => {
    const copyIssuer = l10n.t('Copy Issuer URL');
    const action = await prompter.notify('info', message, copyIssuer);
    if (action === copyIssuer && c.issuerUrl) await copy?.(c.issuerUrl);
  };
  if (workloadIdentityState(current) === 'on') {
    void offerCopy(
      current,
      l10n.t('Workload identity is already on for {0}. Issuer URL: {1}', current.name, current.issuerUrl ?? ''),
    );
    return current;
  }
  const confirmed = await prompter.confirm({
    message: current.oidcIssuerEnabled
      ? l10n.t('Enable workload identity on {0}?', current.name)
      : l10n.t('Enable the OIDC issuer and workload identity on {0}?', current.name),
    detail: current.oidcIssuerEnabled
      ? l10n.t('The cluster is updated in place; this takes several minutes. Only these settings change.')
      : l10n.t(
          'The cluster is updated in place; this takes several minutes. Only these settings change. The OIDC issuer cannot be disabled once it is enabled.',
        ),
    confirm: l10n.t('Enable'),
  });
  if (!confirmed) return;

  const run = ctx.clusterUpdates.run(current.id.toLowerCase(), async () =>
    withCancellableProgress(l10n.t('Enabling workload identity on {0}', current.name), (report, signal) =>
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
      l10n.t('Workload identity is on for {0}. Issuer URL: {1}', current.name, outcome.cluster.issuerUrl ?? ''),
    );
    return outcome.cluster;
  } catch (e) {
    if (e instanceof UpdateStillRunningError) {
      ctx.tree.watchUntilSettled(current);
      void prompter.notify('info', e.message);
      return;
    }
    ctx.tree.setUpdating(current, false);
    if (e instanceof CancelledError) {
      void prompter.notify('info', e.message);
      return;
    }
    if (e instanceof ClusterBusyError) {
      const retry = l10n.t('Retry');
      void prompter.notify('warning', e.message, retry).then((a) => {
        if (a === retry) void enableWorkloadIdentityCommand(ctx, undefined, copy);
      });
      return;
    }
    const d = e instanceof StepError ? e : describeError(e);
    ctx.log.error(`Enable workload identity on ${current.name} failed: ${d.code}: ${d.message}`);
    void ctx.tree.refreshCluster(current).catch(() => undefined);
    void prompter.notify(
      'error',
      l10n.t(
        'Enabling workload identity on {0} failed: {1}: {2}{3}',
        current.name,
        d.code,
        d.message,
        e instanceof StepError && e.remedy ? ` ${e.remedy}` : '',
      ),
    );
  }
}
