// Runs only in the two-folder workspace that test/support/runHost.ts opens (folders "api" and "ops", in that order).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import { Answer, ScriptedPrompter } from '../support/scriptedPrompter';
import { cleanUp, confirmBind, extensionApi, findNode, freshWorld, newIdentityBindAnswers } from './support';

const DEPLOYMENT =
  'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: payments-api\n  namespace: payments\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: contoso.azurecr.io/payments:3\n';
const folder = (name: string) => vscode.workspace.workspaceFolders!.find((f) => f.name === name)!.uri;
const at = (name: string, p: string) => vscode.Uri.joinPath(folder(name), ...p.split('/'));
const read = async (name: string, p: string) => Buffer.from(await vscode.workspace.fs.readFile(at(name, p))).toString();
const exists = (name: string, p: string) =>
  vscode.workspace.fs.stat(at(name, p)).then(
    () => true,
    () => false,
  );
const write = (name: string, p: string, text: string) => vscode.workspace.fs.writeFile(at(name, p), Buffer.from(text));

describe('a workspace of two folders (extension host)', () => {
  let binding: BindingNode;
  before(() =>
    assert.deepEqual(
      vscode.workspace.workspaceFolders?.map((f) => f.name),
      ['api', 'ops'],
    ),
  );
  beforeEach(async () => {
    const api = await freshWorld();
    binding = (await api.context.tree.getChildren((await findNode('aks-payments')) as ClusterNode)).find(
      (n: TreeNode) => n.kind === 'binding' && n.binding.serviceAccount === 'payments-api',
    ) as BindingNode;
    await write('ops', 'apps/payments/deploy.yaml', DEPLOYMENT);
  });
  afterEach(async () => {
    await cleanUp();
    for (const name of ['api', 'ops'])
      for (const dir of ['apps', 'k8s', 'ops'])
        await vscode.workspace.fs.delete(at(name, dir), { recursive: true }).then(undefined, () => undefined);
  });

  it('Connect edits the file in the second folder and writes the SecretProviderClass beside it, in that folder', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment payments-api' },
      { pick: 'Yes: add a SecretProviderClass' },
      { pick: 'kv-payments' },
      { input: 'db-password' },
      { pick: '$(check) Connect: change ops/apps/payments/deploy.yaml' },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding);
    assert.match(await read('ops', 'apps/payments/deploy.yaml'), /serviceAccountName: payments-api/);
    assert.match(
      await read('ops', 'apps/payments/payments-api-kv-payments.secretproviderclass.yaml'),
      /kind: SecretProviderClass/,
    );
    assert.equal(await exists('api', 'ops'), false, 'nothing under <first folder>/<folder name>');
  });

  it("Connect adds the overlay patch in the second folder's overlay", async () => {
    const api = await extensionApi();
    await write(
      'ops',
      'apps/base/deployment.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ledger\nspec:\n  template:\n    spec:\n      containers: []\n',
    );
    await write('ops', 'apps/base/kustomization.yaml', 'resources:\n  - deployment.yaml\n');
    await write('ops', 'apps/overlays/prod/kustomization.yaml', 'namespace: payments\nresources:\n  - ../../base\n');
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment ledger' },
      { pick: 'Add a patch in ops/apps/overlays/prod' },
      { pick: '$(check) Connect: add the patch to ops/apps/overlays/prod/kustomization.yaml' },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding);
    assert.equal(
      await read('ops', 'apps/overlays/prod/kustomization.yaml'),
      'namespace: payments\nresources:\n  - ../../base\npatches:\n  - path: ledger-workload-identity.patch.yaml\n',
    );
    assert.match(
      await read('ops', 'apps/overlays/prod/ledger-workload-identity.patch.yaml'),
      /serviceAccountName: payments-api/,
    );
    assert.equal(await exists('api', 'ops'), false, 'nothing under <first folder>/<folder name>');
  });

  it('Bind writes the ServiceAccount manifest into the first folder, at the path it names', async () => {
    const api = await extensionApi();
    const answers: Answer[] = [...newIdentityBindAnswers(['get on secrets']), confirmBind];
    const prompter = new ScriptedPrompter(answers);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    assert.ok(
      prompter.notifications.some((n) => n.message.startsWith('Bound kv-petclinic')),
      JSON.stringify(prompter.notifications),
    );
    assert.match(
      await read('api', 'k8s/aks-petclinic/spring-petclinic/workload-identity-sa.serviceaccount.yaml'),
      /azure\.workload\.identity\/client-id: /,
    );
    assert.equal(await exists('api', 'api'), false, 'nothing under <first folder>/<folder name>');
    assert.equal(
      vscode.window.activeTextEditor?.document.uri.toString(),
      at('api', 'k8s/aks-petclinic/spring-petclinic/workload-identity-sa.serviceaccount.yaml').toString(),
    );
  });
});
