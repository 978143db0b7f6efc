import type { Binding } from '../../../workloadIdentity/binding';
import { CommandContext } from '../../context';
import { IdentityReportPanel } from '../../report/identityPanel';
import type { VerifyPanel } from '../../report/panel';
import { reportDeps, reportTitle, showReport } from '../../report/show';
import type { BindingNode, ClusterNode, IdentityNode } from '../../tree/nodes';
import { bindingFrom, clusterNodeFrom, runCommand } from '../command';

/**
 * Palette "Verify Workload Identity…" asks for cluster, namespace, ServiceAccount and vault; a cluster's menu starts
 * at the namespace; a binding's menu asks nothing.
 */
export function verifyWorkloadIdentityCommand(
  ctx: CommandContext,
  node?: ClusterNode | BindingNode | Binding,
): Promise<VerifyPanel | undefined> {
  return runCommand(ctx, reportTitle(), ({ session, prompter }) =>
    showReport(ctx, session, prompter, bindingFrom(node), clusterNodeFrom(node), false),
  );
}

/** An identity's "Verify Bindings on Every Cluster": one report, a section per binding its credentials make. */
export function verifyIdentityCommand(ctx: CommandContext, node?: IdentityNode) {
  return runCommand(ctx, reportTitle(), async ({ session }) =>
    node ? IdentityReportPanel.show(ctx, reportDeps(ctx, session).makeDeps, node.identity) : undefined,
  );
}
