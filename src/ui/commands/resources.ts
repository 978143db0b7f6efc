import * as vscode from 'vscode';
import { portalLink } from '../../auth/cloud';
import { CommandContext, requireSession } from '../context';
import { BindingNode, ClusterNode, CredentialNode, ErrorNode, TreeNode, VaultNode } from '../tree/nodes';

export async function copyIssuerUrl(ctx: CommandContext, node?: ClusterNode) {
  const url = node?.cluster.issuerUrl;
  if (!url) {
    void ctx
      .prompter()
      .notify(
        'warning',
        vscode.l10n.t('{0} has no OIDC issuer yet.', node?.cluster.name ?? vscode.l10n.t('This cluster')),
      );
    return;
  }
  await vscode.env.clipboard.writeText(url);
}

export async function copyResourceId(node: ClusterNode | VaultNode) {
  await vscode.env.clipboard.writeText(node instanceof ClusterNode ? node.cluster.id : node.vault.id);
}

export async function openInPortal(ctx: CommandContext, node: ClusterNode | VaultNode) {
  const session = ctx.auth.session;
  if (!session) return;
  const id = node instanceof ClusterNode ? node.cluster.id : node.vault.id;
  await vscode.env.openExternal(vscode.Uri.parse(portalLink(session.cloud, session.tenantId, id)));
}

export async function selectSubscriptions(ctx: CommandContext) {
  if (!(await requireSession(ctx))) return;
  const all = await ctx.tree.allSubscriptions();
  const selected = new Set((await ctx.tree.selectedSubscriptions()).map((s) => s.subscriptionId));
  const picked = await ctx.prompter().pickMany({
    title: vscode.l10n.t('Select Subscriptions'),
    placeholder: vscode.l10n.t('Subscriptions to show in the tree'),
    items: all.map((s) => ({
      label: s.displayName,
      description: s.subscriptionId,
      value: s.subscriptionId,
      picked: selected.has(s.subscriptionId),
    })),
  });
  if (!Array.isArray(picked)) return;
  await ctx.tree.setSelectedSubscriptions(picked.length === all.length ? undefined : picked);
}

export function retry(node?: ErrorNode) {
  node?.retry();
}

/** Shows a node in the view: selected and focused, its parents expanded. */
export type Reveal = (node: TreeNode) => Thenable<void>;

/** From a binding to its identity, with the identity's credential budget. */
export async function showIdentity(ctx: CommandContext, reveal: Reveal, node: BindingNode) {
  const identity = await ctx.tree.identityNodeOf(node);
  if (identity) return reveal(identity);
  void ctx
    .prompter()
    .notify(
      'info',
      vscode.l10n.t(
        '{0} is in a subscription the tree does not show: select it with Select Subscriptions.',
        node.binding.identityName,
      ),
    );
}

/** From a credential to the binding it makes under its cluster. */
export async function showBinding(ctx: CommandContext, reveal: Reveal, node: CredentialNode) {
  const binding = await ctx.tree.bindingNodeOf(node);
  if (binding) return reveal(binding);
  void ctx.prompter().notify('info', vscode.l10n.t('{0} makes no binding the tree shows.', node.credential.name));
}
