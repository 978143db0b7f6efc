import * as assert from 'node:assert/strict';
import type { TreeNode } from '../../src/ui/tree/nodes';
import { extensionApi, findNode, signedIn, sim } from './support';

/**
 * The workbench takes each getChildren answer by its index in a batch; a change event that reaches it during a walk
 * makes it walk again from its cache and hand a node another's children (VS Code's TreeDataSource). The provider
 * therefore fires only between walks and only for what the view has.
 */
describe('Tree change events (extension host)', () => {
  const events = async () => {
    const tree = (await extensionApi()).context.tree;
    const seen: (TreeNode | undefined)[] = [];
    const sub = tree.onDidChangeTreeData((n) => seen.push(n ?? undefined));
    return { seen, dispose: () => sub.dispose() };
  };
  const settle = () => new Promise((r) => setTimeout(r, 400));

  before(async () => {
    await sim.reset();
    await signedIn(await extensionApi());
  });

  it('a refresh before the view has asked for the root fires nothing; its first answer is fresh', async () => {
    const tree = (await extensionApi()).context.tree;
    tree.refresh();
    await settle();
    const e = await events();
    try {
      tree.refresh();
      tree.refresh();
      await settle();
      assert.deepEqual(e.seen, [], 'nothing on screen is stale');
      const root = await tree.getChildren();
      assert.ok(root.length > 1);
      tree.refresh();
      await settle();
      assert.deepEqual(e.seen, [undefined], 'once shown, one root event');
      tree.refresh();
      await settle();
      assert.deepEqual(e.seen, [undefined], 'and none again until the view has asked again');
    } finally {
      e.dispose();
    }
  });

  it('a refresh during a walk: the answers under way are computed again, and the event waits for the walk to end', async () => {
    const tree = (await extensionApi()).context.tree;
    await tree.getChildren();
    const e = await events();
    try {
      const prod = (await tree.getChildren()).find(
        (n) =>
          (n as { subscriptionId?: string }).subscriptionId &&
          String(tree.getTreeItem(n).label) === 'Contoso Production',
      )!;
      const walk = tree.getChildren(prod);
      tree.refresh();
      assert.deepEqual(e.seen, []);
      const groups = await walk;
      assert.deepEqual(
        groups.map((g) => String(tree.getTreeItem(g).label)),
        ['Kubernetes clusters', 'Key Vaults', 'Managed identities'],
      );
      assert.deepEqual(e.seen, [], 'not while the answer is on its way');
      await settle();
      assert.deepEqual(e.seen, [undefined]);
    } finally {
      e.dispose();
    }
  });

  it('a cluster node is fired only once the view has it, and not during a walk', async () => {
    const api = await extensionApi();
    const tree = api.context.tree;
    tree.refresh();
    await tree.getChildren();
    const cluster = (await findNode('aks-payments')) as TreeNode & { cluster: { id: string } };
    await settle();
    const e = await events();
    try {
      const walk = tree.getChildren(cluster);
      tree.refreshBindings((cluster as any).cluster);
      await walk;
      assert.deepEqual(e.seen, []);
      await settle();
      assert.deepEqual(e.seen, [cluster]);
    } finally {
      e.dispose();
    }
  });
});
