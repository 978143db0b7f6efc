import * as vscode from 'vscode';
import { methodLabel } from '../../auth/account';
import { Logger } from '../../log';
import { ClusterSummary, clusterFromSdk, isBusy, waitUntilSettled } from '../../workloadIdentity/cluster';
import { describeError } from '../../errors';
import { SubscriptionInventory, loadInventory } from '../../workloadIdentity/inventory';
import { bindingsOf, bindingsThrough } from '../../workloadIdentity/binding';
import { identityBindingReach } from '../../workloadIdentity/identityBindingReach';
import { groupCredentials, identitiesWorthShowing } from '../../workloadIdentity/credentialBudget';
import { workloadIdentityState } from '../../workloadIdentity/cluster';
import { markDone } from '../walkthrough';
import { deferred } from '../../util/concurrency';
import type { SubscriptionInfo } from '../../azure/subscriptions';
import { AuthService } from '../auth';
import {
  AccountNode,
  BindingNode,
  ClusterNode,
  CredentialGroupNode,
  CredentialNode,
  ErrorNode,
  GroupNode,
  IdentityBindingNode,
  IdentityNode,
  MessageNode,
  ServedClusterNode,
  ServedClustersNode,
  SubscriptionNode,
  TreeNode,
  VaultNode,
} from './nodes';

const SELECTED_KEY = 'aksWorkloadIdentity.selectedSubscriptions';
/** How long the view must have asked nothing before a change is sent (see flushSoon). */
const QUIET_MS = 150;

/** One load of the selected subscriptions: each subscription's part resolves as soon as its rows are in. */
interface InventoryLoad {
  all: Promise<Map<string, SubscriptionInventory>>;
  subscription(subscriptionId: string): Promise<SubscriptionInventory | undefined>;
}

/**
 * Subscription → clusters and vaults. Resource Graph loads the selected subscriptions in groups; each subscription
 * shows as soon as its rows are in, and a failing one shows its error and Retry without blanking the others.
 */
export class ResourceTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private subscriptions: Promise<SubscriptionInfo[]> | undefined;
  private inventory: Promise<InventoryLoad> | undefined;
  private readonly clusterNodes = new Map<string, ClusterNode>();
  private readonly parents = new Map<TreeNode, TreeNode>();
  private readonly updating = new Set<string>();
  /**
   * The workbench answers getChildren calls in batches, each call taking its result by its index in the batch open
   * when its timer fires (TreeDataSource in VS Code's treeView.ts). A root change that reaches it while a root request
   * is out clears the root's cache and waits for the walk under way; that request's answer fills the cache again, the
   * next walk runs from it, a call lands in the next batch, and a node gets another node's children
   * (test/e2e/treeOrder.e2e.ts makes this happen). So a change is fired only between walks, and only for what the
   * view has: see fire().
   */
  private inFlight = 0;
  /** Bumped by every refresh: an answer computed across one is computed again, so no answer is stale. */
  private generation = 0;
  /** The view has had a root answer since the last root change event: only then is there something stale to redraw. */
  private rootShown = false;
  /** Change events waiting for the walk under way to end; undefined is the root. */
  private readonly pending = new Set<TreeNode | undefined>();

  constructor(
    private readonly auth: AuthService,
    private readonly state: vscode.Memento,
    private readonly log: Logger,
  ) {
    auth.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.subscriptions = undefined;
    this.inventory = undefined;
    this.clusterNodes.clear();
    this.parents.clear();
    this.generation++;
    this.fire(undefined);
  }

  /**
   * The one way a change reaches the workbench. The root: only when the view has shown a root since the last time
   * (otherwise nothing stale is on screen, and its next request gets fresh data). A node: only while the view has it.
   * Either: not during a walk, but once it ends.
   */
  private fire(node: TreeNode | undefined) {
    if (node ? !this.parents.has(node) : !this.rootShown) return;
    this.pending.add(node);
    this.flushSoon();
  }

  /**
   * Sends the waiting changes once the view has asked nothing for a moment: right after an answer, the workbench asks
   * for the children of what it received, and a change sent then would cross that walk.
   */
  private flushSoon() {
    clearTimeout(this.flushTimer);
    if (this.inFlight > 0 || !this.pending.size) return;
    this.flushTimer = setTimeout(() => {
      if (this.inFlight > 0) return;
      const root = this.pending.has(undefined);
      const nodes = [...this.pending].filter((n): n is TreeNode => !!n);
      this.pending.clear();
      if (root) {
        this.rootShown = false;
        this.changed.fire(undefined);
      } else for (const n of nodes) this.changed.fire(n);
    }, QUIET_MS);
  }
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.toTreeItem();
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return this.parents.get(node);
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    this.inFlight++;
    clearTimeout(this.flushTimer);
    try {
      for (;;) {
        const generation = this.generation;
        const children = await this.children(node);
        // A refresh crossed this answer: compute it again rather than give the view what it replaced.
        if (generation !== this.generation && (!node || this.isCurrent(node))) continue;
        if (node) for (const c of children) this.parents.set(c, node);
        if (!node) this.rootShown = true;
        return children;
      }
    } finally {
      this.inFlight--;
      if (this.pending.size) this.flushSoon();
    }
  }

  /** A node of the tree as it is now (a refresh replaces cluster nodes; subscriptions and groups are values). */
  private isCurrent(node: TreeNode) {
    return !(node instanceof ClusterNode) || this.clusterNodes.get(node.cluster.id.toLowerCase()) === node;
  }

  private async children(node?: TreeNode): Promise<TreeNode[]> {
    const session = this.auth.session;
    if (!session) return [];
    if (!node) {
      const account = new AccountNode(
        session.account,
        methodLabel(session.method),
        session.cloud.displayName,
        session.tenantId,
      );
      try {
        const subs = await this.selectedSubscriptions();
        if (subs.length === 0)
          return [account, new MessageNode(vscode.l10n.t('No subscriptions selected or none found.'), 'no-subs')];
        return [account, ...subs.map((s) => new SubscriptionNode(s.subscriptionId, s.displayName))];
      } catch (e) {
        const d = describeError(e);
        this.log.error(`Listing subscriptions failed: ${d.code} ${d.message}`);
        return [
          account,
          new ErrorNode(
            vscode.l10n.t('Could not list subscriptions: {0}', d.message),
            () => this.refresh(),
            'error/subscriptions',
          ),
        ];
      }
    }
    if (node instanceof SubscriptionNode) {
      let inv: SubscriptionInventory | undefined;
      try {
        inv = await (await this.loadInventory()).subscription(node.subscriptionId);
      } catch (e) {
        const d = describeError(e);
        return [
          new ErrorNode(
            vscode.l10n.t('Could not load resources: {0}', d.message),
            () => this.refresh(),
            `error/${node.subscriptionId}`,
          ),
        ];
      }
      if (!inv) return [];
      if (inv.error)
        return [
          new ErrorNode(inv.error, () => this.retrySubscription(node.subscriptionId), `error/${node.subscriptionId}`),
        ];
      return [
        new GroupNode(node.subscriptionId, 'clusters', inv.clusters.length),
        new GroupNode(node.subscriptionId, 'vaults', inv.vaults.length),
        new GroupNode(node.subscriptionId, 'identities'),
      ];
    }
    if (node instanceof GroupNode && node.group === 'identities') return this.identities(node.subscriptionId);
    if (node instanceof IdentityNode)
      return groupCredentials(node.identity.credentials, await this.clusters()).map(
        (g) => new CredentialGroupNode(node.identity, g),
      );
    if (node instanceof CredentialGroupNode) {
      const g = node.group;
      return [
        ...g.credentials.map(
          (c) => new CredentialNode(node.identity, c, false, g.kind === 'cluster' ? g.cluster : undefined),
        ),
        ...(g.kind === 'cluster' ? g.nearMiss.map((c) => new CredentialNode(node.identity, c, true, g.cluster)) : []),
      ];
    }
    if (node instanceof GroupNode) {
      const inv = await (await this.loadInventory()).subscription(node.subscriptionId);
      if (!inv) return [];
      if (node.group === 'vaults')
        return inv.vaults.length
          ? inv.vaults.map((v) => new VaultNode(v))
          : [new MessageNode(vscode.l10n.t('No Key Vaults'), `${node.subscriptionId}/novaults`)];
      if (!inv.clusters.length)
        return [new MessageNode(vscode.l10n.t('No AKS clusters'), `${node.subscriptionId}/noclusters`)];
      return inv.clusters.map((c) => this.clusterNode(c));
    }
    if (node instanceof ClusterNode) return this.bindings(node);
    if (node instanceof IdentityBindingNode) return this.bindingsThrough(node);
    if (node instanceof ServedClustersNode) return this.servedClusters(node);
    return [];
  }

  private clusterNode(c: ClusterSummary): ClusterNode {
    if (workloadIdentityState(c) === 'on') markDone('clusterOn');
    const key = c.id.toLowerCase();
    let n = this.clusterNodes.get(key);
    if (n) n.cluster = c;
    else {
      n = new ClusterNode(c);
      this.clusterNodes.set(key, n);
    }
    n.updating = this.updating.has(key);
    return n;
  }

  private async bindings(node: ClusterNode): Promise<TreeNode[]> {
    const c = node.cluster;
    if (!c.issuerUrl) return [new MessageNode(vscode.l10n.t('No bindings (OIDC issuer is off)'), `${c.id}/nobindings`)];
    const services = this.auth.session!.services;
    try {
      const [identities, identityBindings] = await Promise.all([
        services.identities.listWithCredentials(c.subscriptionId),
        // A cluster whose API version or region has no identity bindings lists none: that is no error here.
        services.identityBindings.list(c).catch(() => []),
      ]);
      const bindings = bindingsOf(c.issuerUrl, identities);
      const byId = new Map(identities.map((i) => [i.id.toLowerCase(), i]));
      const through = identityBindings.map((b) => {
        const i = byId.get(b.identityId.toLowerCase());
        return new IdentityBindingNode(c, b, {
          name: i?.name ?? b.identityId.split('/').pop()!,
          clientId: i?.clientId ?? b.clientId ?? '',
        });
      });
      if (!bindings.length && !through.length)
        return [new MessageNode(vscode.l10n.t('No bindings yet'), `${c.id}/nobindings`)];
      markDone('bound');
      return [...bindings.map((b) => new BindingNode(c, b)), ...through];
    } catch (e) {
      const d = describeError(e);
      return [
        new ErrorNode(vscode.l10n.t('Could not read bindings: {0}', d.message), () => this.fire(node), `${c.id}/error`),
      ];
    }
  }

  /**
   * The ServiceAccounts that RBAC lets use an identity binding's identity (read in the cluster when it is opened), and
   * the group of the clusters it serves.
   */
  private async bindingsThrough(node: IdentityBindingNode): Promise<TreeNode[]> {
    const c = node.cluster;
    const served = new ServedClustersNode(node);
    try {
      const kube = await this.auth.session!.services.bindDeps().kube(c);
      const found = bindingsThrough(node.binding, node.identity, await kube.listClusterRbac());
      return [
        ...(found.length
          ? found.map((b) => new BindingNode(c, b))
          : [new MessageNode(vscode.l10n.t('No ServiceAccount may use it yet'), `${c.id}/${node.binding.name}/none`)]),
        served,
      ];
    } catch (e) {
      const d = describeError(e);
      return [
        new ErrorNode(
          vscode.l10n.t('Could not read who may use it: {0}', d.message),
          () => this.fire(node),
          `${c.id}/${node.binding.name}/error`,
        ),
        served,
      ];
    }
  }

  /** Every cluster you can see where the identity has an identity binding; one that could not be read says so. */
  private async servedClusters(node: ServedClustersNode): Promise<TreeNode[]> {
    const of = node.of;
    const services = this.auth.session!.services;
    try {
      const reach = await identityBindingReach(of.binding.identityId, await this.clusters(), (c, signal) =>
        services.identityBindings.list(c, signal),
      );
      const key = (c: ClusterSummary) => (c.id.toLowerCase() === of.cluster.id.toLowerCase() ? '' : c.name);
      return [
        ...reach.served
          .sort((a, b) => key(a.cluster).localeCompare(key(b.cluster)))
          .map((s) => new ServedClusterNode(of, s.cluster, s.binding)),
        ...reach.unreadable.map(
          (u) =>
            new ErrorNode(
              vscode.l10n.t('Could not read {0}: {1}', u.cluster.name, u.error),
              () => this.fire(node),
              `${of.cluster.id.toLowerCase()}/identityBinding/${of.binding.name}/clusters/error/${u.cluster.id.toLowerCase()}`,
            ),
        ),
      ];
    } catch (e) {
      const d = describeError(e);
      return [
        new ErrorNode(
          vscode.l10n.t('Could not list clusters: {0}', d.message),
          () => this.fire(node),
          `${of.cluster.id.toLowerCase()}/identityBinding/${of.binding.name}/clusters/error`,
        ),
      ];
    }
  }

  /**
   * The subscription's identities that federate with anything or that this extension made, with their credentials:
   * credentials are child resources that Resource Graph does not list, so they are read when the group opens.
   */
  private async identities(subscriptionId: string): Promise<TreeNode[]> {
    try {
      const list = identitiesWorthShowing(
        await this.auth.session!.services.identities.listWithCredentials(subscriptionId),
      );
      if (!list.length)
        return [new MessageNode(vscode.l10n.t('No identities with federated credentials'), `${subscriptionId}/noids`)];
      return list.map((i) => new IdentityNode(i));
    } catch (e) {
      const d = describeError(e);
      return [
        new ErrorNode(
          vscode.l10n.t('Could not read identities: {0}', d.message),
          () => this.fire(undefined),
          `error/${subscriptionId}/identities`,
        ),
      ];
    }
  }

  /** The identity node a binding names, read as the view would; undefined when its subscription is not shown. */
  async identityNodeOf(binding: BindingNode): Promise<IdentityNode | undefined> {
    const id = binding.binding.identityId.toLowerCase();
    const sub = await this.childOf(
      undefined,
      (n) => n instanceof SubscriptionNode && id.startsWith(`/subscriptions/${n.subscriptionId.toLowerCase()}/`),
    );
    const group = sub && (await this.childOf(sub, (n) => n instanceof GroupNode && n.group === 'identities'));
    return (
      group &&
      ((await this.childOf(group, (n) => n instanceof IdentityNode && n.identity.id.toLowerCase() === id)) as
        IdentityNode | undefined)
    );
  }

  /** The binding node a credential makes under the cluster whose issuer it names. */
  async bindingNodeOf(credential: CredentialNode): Promise<BindingNode | undefined> {
    const cluster = credential.cluster;
    if (!cluster) return undefined;
    const sub = await this.childOf(
      undefined,
      (n) => n instanceof SubscriptionNode && n.subscriptionId.toLowerCase() === cluster.subscriptionId.toLowerCase(),
    );
    const group = sub && (await this.childOf(sub, (n) => n instanceof GroupNode && n.group === 'clusters'));
    const node =
      group &&
      (await this.childOf(
        group,
        (n) => n instanceof ClusterNode && n.cluster.id.toLowerCase() === cluster.id.toLowerCase(),
      ));
    return (
      node &&
      ((await this.childOf(
        node,
        (n) =>
          n instanceof BindingNode &&
          n.binding.identityId.toLowerCase() === credential.identity.id.toLowerCase() &&
          n.binding.subject === credential.credential.subject,
      )) as BindingNode | undefined)
    );
  }

  private async childOf(parent: TreeNode | undefined, matches: (n: TreeNode) => boolean) {
    return (await this.getChildren(parent)).find(matches);
  }

  private retrySubscription(subscriptionId: string) {
    this.inventory = undefined;
    this.generation++;
    this.fire(undefined);
    this.log.info(`Retrying subscription ${subscriptionId}`);
  }

  async selectedSubscriptions(): Promise<SubscriptionInfo[]> {
    const all = await this.allSubscriptions();
    const selected = this.state.get<string[]>(this.selectionKey());
    return selected ? all.filter((s) => selected.includes(s.subscriptionId)) : all;
  }

  allSubscriptions(): Promise<SubscriptionInfo[]> {
    const session = this.auth.session;
    if (!session) return Promise.resolve([]);
    this.subscriptions ??= session.services.listSubscriptions();
    this.subscriptions.catch(() => {
      this.subscriptions = undefined;
    });
    return this.subscriptions;
  }

  async setSelectedSubscriptions(ids: string[] | undefined) {
    await this.state.update(this.selectionKey(), ids);
    this.inventory = undefined;
    this.generation++;
    this.fire(undefined);
  }

  /** The selection is remembered per tenant. */
  private selectionKey() {
    return `${SELECTED_KEY}/${this.auth.session?.tenantId ?? ''}`;
  }

  private loadInventory(): Promise<InventoryLoad> {
    if (!this.inventory) {
      const session = this.auth.session!;
      const started = Date.now();
      this.inventory = this.selectedSubscriptions().then((subs) => {
        const parts = new Map(subs.map((s) => [s.subscriptionId.toLowerCase(), deferred<SubscriptionInventory>()]));
        const all = loadInventory(
          session.services.inventory,
          subs.map((s) => s.subscriptionId),
          {
            log: this.log,
            onSubscription: (inv) => parts.get(inv.subscriptionId.toLowerCase())?.resolve(inv),
          },
        ).then((list) => {
          this.log.info(
            `Loaded ${list.reduce((n, i) => n + i.clusters.length, 0)} clusters and ${list.reduce((n, i) => n + i.vaults.length, 0)} vaults from ${list.length} subscriptions in ${Date.now() - started}ms.`,
          );
          return new Map(list.map((i) => [i.subscriptionId.toLowerCase(), i]));
        });
        all.catch((e) => {
          for (const p of parts.values()) p.reject(e);
        });
        for (const p of parts.values()) p.promise.catch(() => undefined);
        return {
          all,
          subscription: (id: string) => parts.get(id.toLowerCase())?.promise ?? Promise.resolve(undefined),
        };
      });
      const load = this.inventory;
      load
        .then((l) => l.all)
        .catch(() => {
          if (this.inventory === load) this.inventory = undefined;
        });
    }
    return this.inventory;
  }

  private async inventoryMap() {
    return (await this.loadInventory()).all;
  }

  /** All clusters the tree knows, for pickers. */
  async clusters(): Promise<ClusterSummary[]> {
    return [...(await this.inventoryMap()).values()].flatMap((i) => i.clusters);
  }

  async vaults() {
    return [...(await this.inventoryMap()).values()].flatMap((i) => i.vaults);
  }

  /** Updates one cluster node after an operation, without reloading the tree. */
  updateCluster(c: ClusterSummary) {
    if (workloadIdentityState(c) === 'on') markDone('clusterOn');
    const key = c.id.toLowerCase();
    void this.inventoryMap()
      .then((inv) => {
        const sub = inv.get(c.subscriptionId.toLowerCase());
        if (sub) sub.clusters = sub.clusters.map((x) => (x.id.toLowerCase() === key ? c : x));
      })
      .catch(() => undefined);
    const node = this.clusterNodes.get(key);
    if (node) {
      node.cluster = c;
      node.updating = this.updating.has(key);
      this.fire(node);
    }
  }

  setUpdating(c: ClusterSummary, updating: boolean) {
    const key = c.id.toLowerCase();
    if (updating) this.updating.add(key);
    else this.updating.delete(key);
    const node = this.clusterNodes.get(key);
    if (node) {
      node.updating = updating;
      this.fire(node);
    }
  }

  /** After the user stopped waiting: polls the cluster until its operation ends, then shows its state. */
  watchUntilSettled(c: ClusterSummary, intervalMs = 10_000) {
    const services = this.auth.session?.services;
    if (!services) return;
    this.setUpdating(c, true);
    void waitUntilSettled(services.clusters, c, intervalMs)
      .then((settled) => {
        this.setUpdating(c, false);
        this.updateCluster(settled);
      })
      .catch((e) => {
        this.setUpdating(c, false);
        this.log.warn(`Watching ${c.name} stopped: ${describeError(e).message}`);
      });
  }

  /** Reloads a cluster's bindings (its children) after Bind changed them. */
  refreshBindings(c: ClusterSummary) {
    const node = this.clusterNodes.get(c.id.toLowerCase());
    if (node) this.fire(node);
  }

  async refreshCluster(c: ClusterSummary) {
    const services = this.auth.session?.services;
    if (!services) return;
    const fresh = clusterFromSdk(await services.clusters.get(c));
    this.updateCluster(fresh);
    if (isBusy(fresh.provisioningState)) this.watchUntilSettled(fresh);
    return fresh;
  }

  dispose() {
    clearTimeout(this.flushTimer);
    this.changed.dispose();
  }
}
