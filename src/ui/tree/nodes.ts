import * as vscode from 'vscode';
import { ClusterSummary } from '../../workloadIdentity/cluster';
import { VaultSummary } from '../../workloadIdentity/inventory';
import type { FoundBinding } from '../../workloadIdentity/binding';
import { NodeLook, bindingLook, clusterLook, md, vaultLook } from './looks';

export type TreeNode =
  AccountNode | SubscriptionNode | GroupNode | ClusterNode | VaultNode | BindingNode | ErrorNode | MessageNode;

function item(look: NodeLook, state: vscode.TreeItemCollapsibleState, id?: string): vscode.TreeItem {
  const t = new vscode.TreeItem(look.label, state);
  t.id = id;
  t.description = look.description;
  t.contextValue = look.contextValue;
  t.iconPath = new vscode.ThemeIcon(look.icon);
  if (look.tooltip) {
    const tip = new vscode.MarkdownString(look.tooltip);
    tip.supportHtml = false;
    tip.isTrusted = false;
    t.tooltip = tip;
  }
  return t;
}

export class AccountNode {
  readonly kind = 'account';
  constructor(
    readonly account: string,
    readonly method: string,
    readonly cloud: string,
    readonly tenantId: string,
  ) {}
  toTreeItem() {
    const t = item(
      {
        label: this.account,
        description: `${this.method} · ${this.cloud}`,
        contextValue: 'account',
        icon: 'account',
        tooltip: vscode.l10n.t(
          'Signed in as **{0}** through {1}  \nCloud: {2}  \nTenant: {3}',
          md(this.account),
          md(this.method),
          md(this.cloud),
          md(this.tenantId),
        ),
      },
      vscode.TreeItemCollapsibleState.None,
      'account',
    );
    return t;
  }
}

export class SubscriptionNode {
  readonly kind = 'subscription';
  constructor(
    readonly subscriptionId: string,
    readonly displayName: string,
  ) {}
  toTreeItem() {
    return item(
      {
        label: this.displayName,
        description: this.subscriptionId,
        contextValue: 'subscription',
        icon: 'symbol-namespace',
      },
      vscode.TreeItemCollapsibleState.Expanded,
      `sub/${this.subscriptionId}`,
    );
  }
}

export class GroupNode {
  readonly kind = 'group';
  constructor(
    readonly subscriptionId: string,
    readonly group: 'clusters' | 'vaults',
    readonly count: number,
  ) {}
  toTreeItem() {
    const label = this.group === 'clusters' ? vscode.l10n.t('Kubernetes clusters') : vscode.l10n.t('Key Vaults');
    return item(
      {
        label,
        description: String(this.count),
        contextValue: `group.${this.group}`,
        icon: this.group === 'clusters' ? 'server-environment' : 'lock',
      },
      vscode.TreeItemCollapsibleState.Expanded,
      `sub/${this.subscriptionId}/${this.group}`,
    );
  }
}

export class ClusterNode {
  readonly kind = 'cluster';
  updating = false;
  constructor(public cluster: ClusterSummary) {}
  toTreeItem() {
    return item(
      clusterLook(this.cluster, this.updating),
      vscode.TreeItemCollapsibleState.Collapsed,
      this.cluster.id.toLowerCase(),
    );
  }
}

export class VaultNode {
  readonly kind = 'vault';
  constructor(readonly vault: VaultSummary) {}
  toTreeItem() {
    return item(vaultLook(this.vault), vscode.TreeItemCollapsibleState.None, this.vault.id.toLowerCase());
  }
}

export class BindingNode {
  readonly kind = 'binding';
  constructor(
    readonly cluster: ClusterSummary,
    readonly binding: FoundBinding,
  ) {}
  toTreeItem() {
    return item(
      bindingLook(this.binding),
      vscode.TreeItemCollapsibleState.None,
      `${this.cluster.id.toLowerCase()}/binding/${this.binding.namespace}/${this.binding.serviceAccount}/${this.binding.identityId.toLowerCase()}`,
    );
  }
}

/** An error where it happened, with Retry. */
export class ErrorNode {
  readonly kind = 'error';
  constructor(
    readonly message: string,
    readonly retry: () => void,
    readonly id: string,
  ) {}
  toTreeItem() {
    const t = item(
      { label: this.message, contextValue: 'error', icon: 'error', tooltip: md(this.message) },
      vscode.TreeItemCollapsibleState.None,
      this.id,
    );
    t.command = { command: 'aksWorkloadIdentity.retry', title: vscode.l10n.t('Retry'), arguments: [this] };
    return t;
  }
}

export class MessageNode {
  readonly kind = 'message';
  constructor(
    readonly text: string,
    readonly id: string,
    readonly icon = 'info',
  ) {}
  toTreeItem() {
    return item(
      { label: this.text, contextValue: 'message', icon: this.icon },
      vscode.TreeItemCollapsibleState.None,
      this.id,
    );
  }
}
