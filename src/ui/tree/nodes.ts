import * as vscode from 'vscode';
import { ClusterSummary } from '../../workloadIdentity/cluster';
import { VaultSummary } from '../../workloadIdentity/inventory';
import type { FoundBinding } from '../../workloadIdentity/binding';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { IdentityBindingInfo } from '../../azure/identityBindings';
import { credentialBudget, type CredentialGroup } from '../../workloadIdentity/credentialBudget';
import {
  NodeLook,
  bindingLook,
  clusterLook,
  credentialGroupLook,
  credentialLook,
  identityBindingLook,
  identityLook,
  md,
  servedClusterLook,
  servedClustersLook,
  vaultLook,
} from './looks';

export type TreeNode =
  | AccountNode
  | SubscriptionNode
  | GroupNode
  | ClusterNode
  | VaultNode
  | BindingNode
  | IdentityBindingNode
  | ServedClustersNode
  | ServedClusterNode
  | IdentityNode
  | CredentialGroupNode
  | CredentialNode
  | ErrorNode
  | MessageNode;

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
    readonly group: 'clusters' | 'vaults' | 'identities',
    /** Unknown for identities until they are listed (on expanding: their credentials are read then). */
    readonly count?: number,
  ) {}
  toTreeItem() {
    const look = {
      clusters: { label: vscode.l10n.t('Kubernetes clusters'), icon: 'server-environment' },
      vaults: { label: vscode.l10n.t('Key Vaults'), icon: 'lock' },
      identities: { label: vscode.l10n.t('Managed identities'), icon: 'key' },
    }[this.group];
    return item(
      {
        ...look,
        ...(this.count === undefined ? {} : { description: String(this.count) }),
        contextValue: `group.${this.group}`,
        ...(this.group === 'identities'
          ? {
              tooltip: vscode.l10n.t(
                'The identities that have federated credentials or that this extension created, each with its credentials by cluster.',
              ),
            }
          : {}),
      },
      this.group === 'identities'
        ? vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.Expanded,
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

/** An identity binding on a cluster; its children are the ServiceAccounts that may use the identity. */
export class IdentityBindingNode {
  readonly kind = 'identityBinding';
  constructor(
    readonly cluster: ClusterSummary,
    readonly binding: IdentityBindingInfo,
    readonly identity: { name: string; clientId: string },
  ) {}
  toTreeItem() {
    return item(
      identityBindingLook(this.binding, this.identity.name),
      vscode.TreeItemCollapsibleState.Collapsed,
      `${this.cluster.id.toLowerCase()}/identityBinding/${this.binding.name.toLowerCase()}`,
    );
  }
}

/** Under an identity binding: the clusters where its identity has one, read when opened (one list per cluster). */
export class ServedClustersNode {
  readonly kind = 'servedClusters';
  constructor(readonly of: IdentityBindingNode) {}
  toTreeItem() {
    return item(
      servedClustersLook(this.of.identity.name),
      vscode.TreeItemCollapsibleState.Collapsed,
      `${this.of.cluster.id.toLowerCase()}/identityBinding/${this.of.binding.name.toLowerCase()}/clusters`,
    );
  }
}

export class ServedClusterNode {
  readonly kind = 'servedCluster';
  constructor(
    readonly of: IdentityBindingNode,
    readonly cluster: ClusterSummary,
    readonly binding: IdentityBindingInfo,
  ) {}
  toTreeItem() {
    return item(
      servedClusterLook(this.cluster, this.binding, this.cluster.id.toLowerCase() === this.of.cluster.id.toLowerCase()),
      vscode.TreeItemCollapsibleState.None,
      `${this.of.cluster.id.toLowerCase()}/identityBinding/${this.of.binding.name.toLowerCase()}/clusters/${this.cluster.id.toLowerCase()}`,
    );
  }
}

/** A managed identity with its budget of federated credentials. */
export class IdentityNode {
  readonly kind = 'identity';
  constructor(readonly identity: IdentityInfo & { credentials: CredentialInfo[] }) {}
  toTreeItem() {
    return item(
      identityLook(this.identity, credentialBudget(this.identity.credentials.length)),
      this.identity.credentials.length
        ? vscode.TreeItemCollapsibleState.Collapsed
        : vscode.TreeItemCollapsibleState.None,
      `identity/${this.identity.id.toLowerCase()}`,
    );
  }
}

export class CredentialGroupNode {
  readonly kind = 'credentialGroup';
  constructor(
    readonly identity: IdentityInfo,
    readonly group: CredentialGroup,
  ) {}
  private get key() {
    return this.group.kind === 'cluster'
      ? this.group.cluster.id.toLowerCase()
      : this.group.kind === 'otherTool'
        ? `tool/${this.group.tool}`
        : 'orphans';
  }
  toTreeItem() {
    return item(
      credentialGroupLook(this.group),
      vscode.TreeItemCollapsibleState.Expanded,
      `identity/${this.identity.id.toLowerCase()}/${this.key}`,
    );
  }
}

export class CredentialNode {
  readonly kind = 'credential';
  constructor(
    readonly identity: IdentityInfo,
    readonly credential: CredentialInfo,
    readonly nearMiss: boolean,
    /** The cluster whose issuer it names: its binding is under that cluster. */
    readonly cluster?: ClusterSummary,
  ) {}
  toTreeItem() {
    return item(
      credentialLook(this.credential, this.nearMiss, !!this.cluster),
      vscode.TreeItemCollapsibleState.None,
      `identity/${this.identity.id.toLowerCase()}/credential/${this.credential.name}`,
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
