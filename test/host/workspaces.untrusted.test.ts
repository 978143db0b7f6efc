// Runs only in the Restricted Mode workspace that test/support/runHost.ts opens (workspace trust on, the folder not
// trusted, its .vscode/settings.json setting aksWorkloadIdentity.manifestPath).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { VerifyPanel } from '../../src/ui/report/panel';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import { isWrite } from '../sim/faults';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { cleanUp, extensionApi, findNode, freshWorld, sim } from './support';

const DEPLOYMENT =
  'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments-api\n  namespace: payments\nspec:\n  template:\n    spec:\n      containers: []\n';

describe('Restricted Mode (extension host)', () => {
  let binding: BindingNode;
  const root = () => vscode.workspace.workspaceFolders![0].uri;
  before(() => assert.equal(vscode.workspace.isTrusted, false, 'the workspace is not trusted'));
  beforeEach(async () => {
    const api = await freshWorld();
    binding = (await api.context.tree.getChildren((await findNode('aks-payments')) as ClusterNode)).find(
      (n: TreeNode) => n.kind === 'binding' && n.binding.serviceAccount === 'payments-api',
    ) as BindingNode;
  });
  afterEach(cleanUp);

  it("the workspace's own manifestPath is not applied (restrictedConfigurations)", async () => {
    const settings = Buffer.from(
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root(), '.vscode', 'settings.json')),
    ).toString();
    assert.match(settings, /"aksWorkloadIdentity\.manifestPath":"\.\.\/outside\//, 'the workspace sets it');
    assert.equal(
      vscode.workspace.getConfiguration('aksWorkloadIdentity').inspect('manifestPath')?.workspaceValue,
      undefined,
      'VS Code withholds it in Restricted Mode',
    );
    assert.equal(
      vscode.workspace.getConfiguration('aksWorkloadIdentity').get('manifestPath'),
      'k8s/${cluster}/${namespace}/${serviceAccount}.serviceaccount.yaml',
    );
  });

  it('the tree, Verify and Test Binding work', async () => {
    assert.ok(binding, 'the tree shows the binding');
    const panel = await vscode.commands.executeCommand<VerifyPanel>(
      'aksWorkloadIdentity.verifyWorkloadIdentity',
      binding,
    );
    assert.deepEqual(
      panel.report!.checks.filter((c) => c.status !== 'pass').map((c) => c.key),
      [],
    );
    const tested = await vscode.commands.executeCommand<VerifyPanel>('aksWorkloadIdentity.testBinding', binding);
    assert.equal(tested.report!.checks.find((c) => c.id === 'exchange')?.status, 'pass');
  });

  it('Connect in the workspace refuses before any question, with the reason and the trust action; the file is untouched', async () => {
    const file = vscode.Uri.joinPath(root(), 'deploy.yaml');
    await vscode.workspace.fs.writeFile(file, Buffer.from(DEPLOYMENT));
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([{ pick: 'In the workspace' }]);
    api.setPrompter(prompter);
    assert.equal(await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding), undefined);
    const n = prompter.notifications.at(-1)!;
    assert.equal(
      n.message,
      'Connect Workload writes into the workspace, which is in Restricted Mode: nothing was written. Trust the folder to let it.',
    );
    assert.deepEqual(n.actions, ['Manage Workspace Trust']);
    assert.equal(prompter.remaining, 0);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(file)).toString(), DEPLOYMENT);
    await vscode.workspace.fs.delete(file);
  });

  it('Bind does its work in Azure and the cluster, and the manifest writer refuses with the reason and the trust action', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'payments' },
      { pick: 'payments-api' },
      { pick: 'kv-payments' },
      { pick: 'id-payments-api' },
      { pickMany: ['get on secrets'] },
      { pick: (items) => items.find((i) => i.label.startsWith('$(check) Bind')) },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const refused = prompter.notifications.find((n) => n.actions.includes('Manage Workspace Trust'));
    assert.ok(refused, JSON.stringify(prompter.notifications));
    assert.match(
      refused.message,
      /^Writing k8s\/aks-payments\/payments\/payments-api\.serviceaccount\.yaml writes into the workspace, which is in Restricted Mode: nothing was written\./,
    );
    const bound = prompter.notifications.find((n) => n.message.startsWith('Bound kv-payments'))!;
    assert.ok(!bound.actions.includes('Open Manifest'));
    assert.deepEqual(
      (await vscode.workspace.fs.readDirectory(root())).map(([n]) => n).filter((n) => n !== '.vscode'),
      [],
    );
    assert.deepEqual(
      (await sim.log()).filter(isWrite).map((r) => r.op),
      ['kube.serviceaccounts.apply'],
      'the cluster got the tenant-id annotation it lacked',
    );
  });
});
