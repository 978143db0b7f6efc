import * as vscode from 'vscode';
import { ClusterSummary, workloadIdentityState } from '../../workloadIdentity/cluster';
import { stateText } from '../tree/looks';
import { Back, PickItem } from '../../wizard/prompter';
import { CommandContext } from '../context';

export function clusterItems(clusters: ClusterSummary[]): PickItem<ClusterSummary>[] {
  return clusters.map((c) => ({
    label: c.name,
    description: stateText(workloadIdentityState(c)),
    detail: [
      c.resourceGroup,
      c.location,
      ...(c.private ? [vscode.l10n.t('private')] : []),
      ...(c.entraId ? ['Entra ID'] : []),
    ].join(' · '),
    value: c,
  }));
}

export async function pickCluster(
  ctx: CommandContext,
  title: string,
  step?: { step: number; totalSteps: number },
): Promise<ClusterSummary | Back | undefined> {
  return ctx.prompter().pick({
    title,
    ...step,
    placeholder: vscode.l10n.t('Select an AKS cluster'),
    items: ctx.tree.clusters().then(clusterItems),
  });
}
