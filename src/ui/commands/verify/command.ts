import * as l10n from '@vscode/l10n';
import { PromptDismissed } from '../../../wizard/prompter';
import { runPrompts } from '../../../wizard/wizard';
import { describeError } from '../../../errors';
import type { VerifyTarget } from '../../../workloadIdentity/verify/model';
import { CommandContext, requireSession } from '../../context';
import type { BindingNode, ClusterNode } from '../../tree/nodes';
import { VerifyPanel } from './panel';
import { verifyTitle, VerifyWizardContext, verifyPromptSteps } from './prompts';

/**
 * Palette "Verify Workload Identity…" asks for cluster, namespace, ServiceAccount and vault; a cluster's menu starts
 * at the namespace; a binding's menu asks nothing. "Test Binding" is the same with the token exchange test added.
 */
export async function verifyWorkloadIdentityCommand(
  ctx: CommandContext,
  node?: ClusterNode | BindingNode | VerifyTarget,
  options: { test?: boolean } = {},
): Promise<VerifyPanel | undefined> {
  const session = await requireSession(ctx);
  if (!session) return undefined;
  const inventory = { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults() };
  const deps = session.services.probeDeps(inventory);
  // The first run uses the cluster connection the prompts opened; later runs connect afresh, with whoever is signed in then.
  let unused: typeof deps | undefined = deps;
  const makeDeps = () => {
    const current = ctx.auth.session;
    if (!current)
      throw Object.assign(new Error(l10n.t('Sign in to Azure to run the checks.')), { code: 'NotSignedIn' });
    const next = unused && current === session ? unused : current.services.probeDeps(inventory);
    unused = undefined;
    return next;
  };
  try {
    let target: VerifyTarget;
    if (node && 'namespace' in node) target = node;
    else if (node?.kind === 'binding') {
      target = {
        cluster: node.cluster,
        namespace: node.binding.namespace,
        serviceAccount: node.binding.serviceAccount,
        identityId: node.binding.identityId,
      };
    } else {
      const wizard: VerifyWizardContext = {
        cluster: node?.cluster,
        // From a cluster's menu, every vault: the binding's own grants say which.
        vault: node ? null : undefined,
        sources: { clusters: () => ctx.tree.clusters(), vaults: () => ctx.tree.vaults(), kube: (c) => deps.kube(c) },
      };
      await runPrompts(verifyPromptSteps, wizard, ctx.prompter());
      target = {
        cluster: wizard.cluster!,
        namespace: wizard.namespace!,
        serviceAccount: wizard.serviceAccount!,
        ...(wizard.vault ? { vault: wizard.vault } : {}),
      };
    }
    return await VerifyPanel.show(ctx, makeDeps, target, options.test);
  } catch (e) {
    if (e instanceof PromptDismissed) return undefined;
    const d = describeError(e);
    ctx.log.error(`Verify: ${d.code}: ${d.message}`);
    void ctx.prompter().notify('error', l10n.t('{0}: {1}: {2}', verifyTitle(), d.code, d.message));
    return undefined;
  }
}
