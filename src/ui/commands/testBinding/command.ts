import type { Binding } from '../../../workloadIdentity/binding';
import { CommandContext } from '../../context';
import type { VerifyPanel } from '../../report/panel';
import { reportTitle, showReport } from '../../report/show';
import type { BindingNode, ClusterNode } from '../../tree/nodes';
import { bindingFrom, clusterNodeFrom, runCommand } from '../command';

/**
 * Test Binding: Verify's checks, then the token exchange a pod would make (ServiceAccount token → Microsoft Entra
 * ID → Key Vault). Asks as Verify does; from a binding, asks nothing.
 */
export function testBindingCommand(
  ctx: CommandContext,
  node?: ClusterNode | BindingNode | Binding,
): Promise<VerifyPanel | undefined> {
  return runCommand(ctx, reportTitle(), ({ session, prompter }) =>
    showReport(ctx, session, prompter, bindingFrom(node), clusterNodeFrom(node), true),
  );
}
