import { parseResourceId } from '../../../azure/resourceId';
import { runPrompts } from '../../../wizard/wizard';
import { CommandContext } from '../../context';
import { runCommand } from '../command';
import { exportRequest, exportTitle } from '../../prompts/exportFormat';
import type { BindingNode } from '../../tree/nodes';
import { BindWizardContext, bindPromptSteps, fleetRequestOf } from '../../prompts/newBinding';

/**
 * Palette "Export Binding as Code…" asks Bind's questions (one cluster or several: one file loops over them); a binding's menu asks only the vault and the
 * permissions (the cluster, ServiceAccount and identity are the binding's).
 */
export function exportBindingCommand(ctx: CommandContext, node?: BindingNode) {
  return runCommand(ctx, exportTitle(), async ({ session, prompter }) => {
    const deps = session.services.bindDeps();
    const identity = node
      ? await session.services.identities.find(parseResourceId(node.binding.identityId))
      : undefined;
    const wizard: BindWizardContext = {
      cluster: node?.cluster,
      namespace: node?.binding.namespace,
      serviceAccount: node?.binding.serviceAccount,
      identity: identity ? { kind: 'existing', identity } : undefined,
      mode: node?.binding.identityBinding ? 'identityBinding' : undefined,
      sources: {
        clusters: () => ctx.tree.clusters(),
        vaults: () => ctx.tree.vaults(),
        identities: (sub) => session.services.identities.list(sub),
        kube: (cluster) => deps.kube(cluster),
      },
    };
    await runPrompts(bindPromptSteps, wizard, prompter);
    await exportRequest(prompter, session.services, fleetRequestOf(wizard));
  });
}
