import { ClusterSummary, workloadIdentityState } from '../../workloadIdentity/cluster';
import { Back, PickItem } from '../../wizard/prompter';
import { CommandContext } from '../context';

const STATE = { off: 'workload identity off', oidcOnly: 'OIDC issuer only', on: 'workload identity on' } as const;

export function clusterItems(clusters: ClusterSummary[]): PickItem<ClusterSummary>[] {
  return clusters.map((c) => ({ label: c.name, description: STATE[workloadIdentityState(c)], detail: `${c.resourceGroup} · ${c.location}${c.private ? ' · private' : ''}${c.entraId ? ' · Entra ID' : ''}`, value: c }));
}

export async function pickCluster(ctx: CommandContext, title: string, step?: { step: number; totalSteps: number }): Promise<ClusterSummary | Back | undefined> {
  return ctx.prompter().pick({ title, ...step, placeholder: 'Select an AKS cluster', items: ctx.tree.clusters().then(clusterItems) });
}
