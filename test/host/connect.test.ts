import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, ClusterNode, TreeNode } from '../../src/ui/tree/nodes';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { extensionApi, findNode, signedIn, sim } from './support';

const MANIFEST = `# Checkout, as the team keeps it.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  selector:
    matchLabels: {app: payments-api}
  template:
    metadata:
      labels:
        app: payments-api   # used by the Service
    spec:
      containers:
        - name: api
          image: contoso.azurecr.io/payments:3
---
apiVersion: v1
kind: Service
metadata: {name: payments-api, namespace: payments}
`;

describe('Connect Workload, workspace YAML (extension host)', () => {
  const file = () => vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'apps', 'payments', 'deploy.yaml');
  const read = async () => Buffer.from(await vscode.workspace.fs.readFile(file())).toString('utf8');
  let binding: BindingNode;

  beforeEach(async () => {
    await sim.reset();
    const api = await extensionApi();
    await signedIn(api);
    api.context.tree.refresh();
    await vscode.workspace.fs.writeFile(file(), Buffer.from(MANIFEST));
    const cluster = (await findNode('aks-payments')) as ClusterNode;
    binding = (await api.context.tree.getChildren(cluster)).find(
      (n: TreeNode) => n.kind === 'binding' && n.binding.serviceAccount === 'payments-api',
    ) as BindingNode;
  });
  afterEach(async () => {
    (await extensionApi()).setPrompter(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'apps'), {
      recursive: true,
    });
  });

  it('from a binding: picks the Deployment of the namespace, shows the diff and the changes, and edits only those lines; a rerun changes nothing', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment payments-api' },
      { pick: 'No' },
      { pick: '$(check) Connect: change apps/payments/deploy.yaml' },
    ]);
    api.setPrompter(prompter);
    const plan = await vscode.commands.executeCommand<any>('aksWorkloadIdentity.connectWorkload', binding);
    assert.ok(plan, JSON.stringify(prompter.notifications));
    assert.deepEqual(prompter.recorded[1].labels, ['Deployment payments-api'], 'the Service is not offered');
    assert.deepEqual(prompter.recorded[3].labels!.slice(1), [
      '$(edit) spec.template.spec.serviceAccountName: (unset) → payments-api',
      '$(edit) spec.template.metadata.labels["azure.workload.identity/use"]: "true"',
      '$(warning) Applying apps/payments/deploy.yaml to aks-payments replaces the pods of Deployment payments-api (a rollout); pods started before keep running without the token until then.',
    ]);
    assert.ok(
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .some((t) => t.label === 'apps/payments/deploy.yaml: now ↔ connected'),
      'the diff was shown',
    );
    const text = await read();
    assert.equal(
      text,
      MANIFEST.replace(
        '        app: payments-api   # used by the Service\n',
        '        azure.workload.identity/use: "true"\n        app: payments-api   # used by the Service\n',
      ).replace('      containers:\n', '      serviceAccountName: payments-api\n      containers:\n'),
    );
    assert.match(
      prompter.notifications.at(-1)!.message,
      /now runs as payments-api with the azure.workload.identity\/use label. Apply the file to aks-payments/,
    );

    const again = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment payments-api' },
      { pick: 'No' },
    ]);
    api.setPrompter(again);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding);
    assert.match(
      again.notifications.at(-1)!.message,
      /already runs as payments-api with the azure.workload.identity\/use label/,
    );
    assert.equal(await read(), text);
  });

  it('with a SecretProviderClass: writes it beside the workload (clientID, tenantID, the objects) and mounts it', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment payments-api' },
      { pick: 'Yes: add a SecretProviderClass' },
      { pick: 'kv-payments' },
      { input: 'db-password, cert:tls' },
      { pick: '$(check) Connect: change apps/payments/deploy.yaml' },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding);
    const review = prompter.recorded.find((r) => r.title === 'Connect Workload: review')!.labels!;
    assert.ok(
      review.includes(
        '$(edit) apps/payments/payments-api-kv-payments.secretproviderclass.yaml: SecretProviderClass payments-api-kv-payments (secret db-password, cert tls of kv-payments)',
      ),
      review.join('\n'),
    );
    assert.ok(!review.some((l) => /add-on is off/.test(l)), 'the seeded cluster has the add-on');
    const spc = Buffer.from(
      await vscode.workspace.fs.readFile(
        vscode.Uri.joinPath(
          vscode.workspace.workspaceFolders![0].uri,
          'apps',
          'payments',
          'payments-api-kv-payments.secretproviderclass.yaml',
        ),
      ),
    ).toString();
    const clientId = (await sim.state()).clusters.find((c: any) => c.name === 'aks-payments').kube.serviceAccounts[
      'payments/payments-api'
    ].metadata.annotations['azure.workload.identity/client-id'];
    assert.match(spc, new RegExp(`clientID: ${clientId}\n`));
    assert.match(spc, /keyvaultName: kv-payments\n {4}tenantID: /);
    assert.match(
      await read(),
      /\n {6}volumes:\n {8}- name: secrets-store\n {10}csi:\n {12}driver: secrets-store.csi.k8s.io/,
    );
    assert.match(
      await read(),
      /\n {10}volumeMounts:\n {12}- name: secrets-store\n {14}mountPath: \/mnt\/secrets-store/,
    );
  });

  it('a base that a Kustomize overlay builds: the patch goes into the overlay and the base stays as it is', async () => {
    const api = await extensionApi();
    const root = vscode.workspace.workspaceFolders![0].uri;
    const write = (p: string, t: string) =>
      vscode.workspace.fs.writeFile(vscode.Uri.joinPath(root, 'apps', ...p.split('/')), Buffer.from(t));
    const base =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ledger\nspec:\n  template:\n    spec:\n      containers: []\n';
    await write('base/deployment.yaml', base);
    await write('base/kustomization.yaml', 'resources:\n  - deployment.yaml\n');
    await write('overlays/prod/kustomization.yaml', 'namespace: payments\nresources:\n  - ../../base\n');
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment ledger' },
      { pick: 'Add a patch in apps/overlays/prod' },
      { pick: '$(check) Connect: add the patch to apps/overlays/prod/kustomization.yaml' },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding);
    const read = async (p: string) =>
      Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root, 'apps', ...p.split('/')))).toString();
    assert.equal(
      await read('overlays/prod/kustomization.yaml'),
      'namespace: payments\nresources:\n  - ../../base\npatches:\n  - path: ledger-workload-identity.patch.yaml\n',
    );
    assert.match(
      await read('overlays/prod/ledger-workload-identity.patch.yaml'),
      /kind: Deployment\nmetadata:\n {2}name: ledger\nspec:\n {2}template:\n {4}metadata:\n {6}labels:\n {8}azure.workload.identity\/use: "true"\n {4}spec:\n {6}serviceAccountName: payments-api\n/,
    );
    assert.equal(await read('base/deployment.yaml'), base);
  });

  it('unsaved edits in the file stop the write, and say so', async () => {
    const api = await extensionApi();
    const doc = await vscode.workspace.openTextDocument(file());
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '# an edit not yet saved\n'));
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment payments-api' },
      { pick: 'No' },
      { pick: '$(check) Connect: change apps/payments/deploy.yaml' },
    ]);
    api.setPrompter(prompter);
    assert.equal(await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding), undefined);
    assert.match(
      prompter.notifications.at(-1)!.message,
      /has unsaved changes in an editor: save or revert them, then connect again. Nothing was written./,
    );
    assert.equal(await read(), MANIFEST);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('in the cluster: applies the two fields to a Deployment, the rollout ends, and the new pods get the token', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'In the cluster' },
      { pick: 'Deployment payments-worker' },
      { pick: 'No' },
      { pick: '$(check) Connect: apply to Deployment payments-worker' },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    const plan = await vscode.commands.executeCommand<any>('aksWorkloadIdentity.connectWorkload', binding);
    assert.deepEqual(plan?.changes, [
      'spec.template.spec.serviceAccountName: (default) → payments-api',
      'spec.template.metadata.labels["azure.workload.identity/use"]: "true"',
    ]);
    assert.match(
      prompter.notifications.at(-1)!.message,
      /Deployment payments-worker on aks-payments now runs as payments-api with the azure.workload.identity\/use label. Its new pod is ready and has AZURE_FEDERATED_TOKEN_FILE./,
    );
    assert.deepEqual(
      (await sim.log()).filter((r) => r.method === 'PATCH').map((r) => r.op),
      ['kube.deployments.apply'],
    );
    const dep = (await sim.state()).clusters.find((c: any) => c.name === 'aks-payments').kube.deployments[
      'payments/payments-worker'
    ];
    assert.equal(dep.spec.template.spec.serviceAccountName, 'payments-api');
  });

  it('in the cluster: a Helm-managed workload needs an explicit yes, and the field Helm owns is a conflict, not forced', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'In the cluster' },
      { pick: 'Deployment payments-reports' },
      { pick: 'No' },
      { pick: '$(check) Connect: apply to Deployment payments-reports' },
      { confirm: true },
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', binding);
    assert.ok(prompter.recorded[1].labels!.includes('Deployment payments-reports'));
    assert.match(
      prompter.recorded.find((r) => r.kind === 'confirm')!.message!,
      /is managed by Helm. Change it live anyway\?/,
    );
    const error = prompter.notifications.at(-1)!;
    assert.match(
      error.message,
      /Conflict: Apply failed with 1 conflict: conflict with "helm".*serviceAccountName.*never forces a field another tool owns/s,
    );
    const dep = (await sim.state()).clusters.find((c: any) => c.name === 'aks-payments').kube.deployments[
      'payments/payments-reports'
    ];
    assert.equal(dep.spec.template.spec.serviceAccountName, 'reports', 'nothing changed');
  });
});
