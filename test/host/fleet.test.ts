import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BindingNode, TreeNode } from '../../src/ui/tree/nodes';
import type { VerifyPanel } from '../../src/ui/report/panel';
import type { PickItem } from '../../src/wizard/prompter';
import { ScriptedPrompter } from '../support/scriptedPrompter';
import { confirmBind, extensionApi, findNode, freshWorld, sim } from './support';

describe('Bind with several clusters selected (extension host)', () => {
  beforeEach(async () => {
    await freshWorld();
  });
  afterEach(async () => {
    await sim.clearFaults();
    (await extensionApi()).setPrompter(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('asks once, reviews a block per cluster with the credential budget, binds each; a failed cluster is reported, and Retry binds only it', async () => {
    const api = await extensionApi();
    const selected: TreeNode[] = [];
    for (const name of ['aks-payments', 'aks-entra', 'aks-oidc-only']) selected.push(await findNode(name));
    // aks-oidc-only needs enabling, which fails the first time.
    await sim.addFault({ op: 'managedClusters.createOrUpdate', kind: '403', count: 1 });
    const prompter = new ScriptedPrompter([
      { type: 'orders' },
      { type: 'orders-api' },
      { pick: 'kv-payments' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-orders-fleet' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pick: '$(key) Direct federation' },
      { pickMany: ['get on secrets'] },
      confirmBind,
    ]);
    prompter.onNotify((message, actions) =>
      message.startsWith('Bound on') && actions.includes('Retry') ? 'Retry' : undefined,
    );
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault', selected[0], selected);
    // The clusters come from the selection: the first question is the namespace, on the first cluster.
    assert.ok(prompter.recorded[0]!.labels!.includes('payments'), prompter.recorded[0]!.labels!.join(', '));
    const review = prompter.recorded.find((r) => r.title === 'Bind Key Vault: review')!.labels!;
    assert.equal(review[0], '$(check) Bind: 3 clusters');
    assert.equal(review[1], '$(export) Export as…');
    assert.equal(review[2], '$(key) Federated credentials on the identity: 0 now, 3 after, of 20');
    assert.deepEqual(
      review.filter((l) => l.startsWith('$(server-environment)')),
      ['$(server-environment) aks-payments', '$(server-environment) aks-entra', '$(server-environment) aks-oidc-only'],
    );
    const failure = prompter.notifications.find((n) => n.kind === 'error')!;
    assert.match(
      failure.message,
      /^Bound on 2 of 3 clusters\. aks-oidc-only stopped at "Enable workload identity on the cluster": .*Retry binds only the clusters that failed\./,
    );
    assert.match(
      prompter.notifications.at(-1)!.message,
      /^Bound kv-payments to orders\/orders-api on 1 clusters: aks-oidc-only\./,
    );
    const identity = (await sim.state()).identities.find((i: any) => i.name === 'id-orders-fleet');
    assert.equal(identity.credentials.length, 3, 'one credential per cluster');
    const manifests = await vscode.workspace.findFiles('k8s/*/orders/orders-api.serviceaccount.yaml');
    assert.deepEqual(
      manifests.map((u) => u.path.split('/').at(-3)).sort(),
      ['aks-entra', 'aks-oidc-only', 'aks-payments'],
      'a manifest per cluster',
    );
    for (const m of manifests) await vscode.workspace.fs.delete(m);
  });

  it('from the palette: checks two clusters, lists names with where they are found, exports one Terraform loop from the review, then binds both', async () => {
    const api = await extensionApi();
    let namespaces: PickItem<unknown>[] = [];
    const prompter = new ScriptedPrompter([
      { pickMany: ['aks-payments', 'aks-private'] },
      {
        pick: (items) => {
          namespaces = items;
          return items.find((i) => i.label === 'payments');
        },
      },
      { type: 'orders-api' },
      { pick: 'kv-payments' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-orders-palette' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pick: '$(key) Direct federation' },
      { pickMany: ['get on secrets'] },
      { pick: (items) => items.find((i) => i.label.startsWith('$(export)')) },
      { pick: 'Terraform' },
      confirmBind,
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    assert.equal(prompter.remaining, 0);
    assert.deepEqual(
      namespaces.filter((n) => n.description).map((n) => [n.label, n.description]),
      [
        ['payments', 'on 1 of 2 clusters: aks-payments'],
        ['checkout', 'on 1 of 2 clusters: aks-payments'],
        ['ledger', 'on 1 of 2 clusters: aks-private'],
      ],
    );
    const tf = vscode.workspace.textDocuments.find((d) => d.isUntitled && d.getText().startsWith('# Terraform'))!;
    assert.match(tf.getText(), /on clusters aks-payments and aks-private get on secrets/);
    assert.match(tf.getText(), /for_each {12}= local\.clusters/);
    assert.match(tf.getText(), /resource "kubernetes_service_account_v1" "aks-private"/);
    const identity = (await sim.state()).identities.find((i: any) => i.name === 'id-orders-palette');
    assert.deepEqual(identity.credentials.map((c: any) => c.name).sort(), [
      'fic-aks-payments-payments-orders-api',
      'fic-aks-private-payments-orders-api',
    ]);
    for (const m of await vscode.workspace.findFiles('k8s/*/payments/orders-api.serviceaccount.yaml'))
      await vscode.workspace.fs.delete(m);
  });

  it('identity binding: two clusters checked in the palette ask the mode; the review names it; one credential serves both', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pickMany: ['aks-payments', 'aks-entra'] },
      { pick: 'payments' },
      { type: 'ib-api' },
      { pick: 'kv-payments' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-ib-fleet' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pick: '$(link) Identity binding' },
      { pickMany: ['get on secrets'] },
      confirmBind,
    ]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    assert.equal(prompter.remaining, 0);
    const review = prompter.recorded.find((r) => r.title === 'Bind Key Vault: review')!.labels!;
    assert.ok(review.includes('$(link) Mode: identity binding'), review.join('\n'));
    assert.ok(
      review.includes('$(key) Federated credentials on the identity: 0 now, 1 after, of 20'),
      review.join('\n'),
    );
    const state = await sim.state();
    const identity = state.identities.find((i: any) => i.name === 'id-ib-fleet');
    assert.deepEqual(
      identity.credentials.map((c: any) => c.name),
      ['aks-identity-binding'],
    );
    for (const name of ['aks-payments', 'aks-entra']) {
      const c = state.clusters.find((x: any) => x.name === name);
      assert.equal(c.identityBindings.length, 1, name);
      assert.deepEqual(
        Object.values(c.kube.clusterRoleBindings).map((b: any) => b.subjects),
        [[{ kind: 'ServiceAccount', name: 'ib-api', namespace: 'payments' }]],
        name,
      );
    }
    // The tree shows the identity binding under each cluster, and under it the ServiceAccount RBAC lets use it.
    const tree = api.context.tree;
    const cluster = await findNode('aks-entra');
    const through = (await tree.getChildren(cluster)).find((n: TreeNode) => n.kind === 'identityBinding')!;
    assert.equal(tree.getTreeItem(through).label, 'id-ib-fleet');
    assert.equal(tree.getTreeItem(through).description, 'identity binding');
    const [sa, served] = await tree.getChildren(through);
    assert.equal(tree.getTreeItem(sa!).label, 'payments/ib-api');
    assert.equal(tree.getTreeItem(sa!).contextValue, 'viaIdentityBinding');
    // Under it, the clusters it serves: this one first, then the other, each read from its own list.
    assert.equal(tree.getTreeItem(served!).label, 'Clusters it serves');
    await sim.clearLog();
    const servedItems = (await tree.getChildren(served!)).map((n: TreeNode) => tree.getTreeItem(n));
    assert.deepEqual(
      servedItems.map((t: vscode.TreeItem) => [t.label, t.description]),
      [
        ['aks-entra', 'this cluster'],
        ['aks-payments', 'rg-payments'],
      ],
    );
    const lists = (await sim.log()).filter((r) => r.op === 'identityBindings.listByManagedCluster');
    assert.equal(lists.length, (await tree.clusters()).length, 'one list per cluster you can see');
    for (const m of await vscode.workspace.findFiles('k8s/*/payments/ib-api.serviceaccount.yaml'))
      await vscode.workspace.fs.delete(m);
  });

  it('one cluster: the review offers identity binding instead, and plans again in that mode', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter([
      { pick: 'aks-payments' },
      { pick: 'payments' },
      { type: 'ib-single' },
      { pick: 'kv-payments' },
      { pick: 'id-payments-api' },
      { pickMany: ['get on secrets'] },
      { pick: '$(arrow-swap) Use identity binding instead' },
      { dismiss: true },
    ]);
    api.setPrompter(prompter);
    await sim.clearLog();
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const reviews = prompter.recorded.filter((r) => r.title === 'Bind Key Vault: review');
    assert.equal(reviews.length, 2);
    assert.ok(reviews[0]!.labels!.some((l) => l.endsWith('Federated identity credential')));
    assert.ok(reviews[1]!.labels!.includes('$(link) Mode: identity binding'));
    assert.ok(
      reviews[1]!.labels!.some((l) => l.endsWith('Identity binding on the cluster')),
      reviews[1]!.labels!.join('\n'),
    );
    assert.deepEqual(
      (await sim.log()).filter(
        (r) =>
          r.method !== 'GET' && r.op !== 'managedClusters.listClusterUserCredentials' && r.op !== 'resources.query',
      ),
      [],
      'nothing written',
    );
  });

  it('Migrate to Identity Bindings on an identity: a review, the bindings beside the direct credentials, then the direct credentials retired after a yes', async () => {
    const api = await extensionApi();
    const bindAnswers = [
      { pickMany: ['aks-payments', 'aks-entra'] },
      { pick: 'payments' },
      { type: 'mig-api' },
      { pick: 'kv-payments' },
      { pick: '$(add) Create a new user-assigned identity' },
      { input: 'id-mig' },
      { input: 'rg-payments' },
      { input: 'eastus' },
      { pick: '$(key) Direct federation' },
      { pickMany: ['get on secrets'] },
      confirmBind,
    ];
    api.setPrompter(new ScriptedPrompter(bindAnswers as any));
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const credentialsOf = async () =>
      (await sim.state()).identities
        .find((i: any) => i.name === 'id-mig')
        .credentials.map((c: any) => c.name)
        .sort();
    assert.equal((await credentialsOf()).length, 2, 'two direct credentials');

    const tree = api.context.tree;
    tree.refresh();
    const label = (n: TreeNode) => String(tree.getTreeItem(n).label);
    const prod = (await tree.getChildren()).find((n) => label(n) === 'Contoso Production')!;
    const group = (await tree.getChildren(prod)).find((n) => label(n) === 'Managed identities')!;
    const identity = (await tree.getChildren(group)).find((n) => label(n) === 'id-mig')!;
    // The app's Deployment in the open folder runs as the ServiceAccount: Migrate switches it there.
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const deployment = vscode.Uri.joinPath(folder, 'apps/mig/deployment.yaml');
    const yaml = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: mig-api',
      '  namespace: payments',
      'spec:',
      '  template:',
      '    metadata:',
      '      labels:',
      '        azure.workload.identity/use: "true"',
      '    spec:',
      '      serviceAccountName: mig-api',
      '      containers:',
      '        - name: api',
      '          image: contoso.azurecr.io/mig:1.0',
      '',
    ].join('\n');
    await vscode.workspace.fs.writeFile(deployment, Buffer.from(yaml));
    const prompter = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: (items) => items.find((i) => i.label.startsWith('$(check) Migrate')) },
      { confirm: true },
    ]);
    prompter.onNotify((message, actions) =>
      actions.includes('Retire the direct credentials') ? 'Retire the direct credentials' : undefined,
    );
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.migrateToIdentityBindings', identity);
    const review = prompter.recorded.find((r) => r.title === 'Migrate to Identity Bindings: review')!.labels!;
    assert.ok(
      review.some((l) => l.includes('Later, when you say so: delete fic-aks-payments-payments-mig-api')),
      review.join('\n'),
    );
    assert.ok(review.includes('$(edit) Switch Deployment mig-api (apps/mig/deployment.yaml)'), review.join('\n'));
    const edited = Buffer.from(await vscode.workspace.fs.readFile(deployment)).toString();
    assert.equal(
      edited,
      yaml.replace(
        '    metadata:\n',
        '    metadata:\n      annotations:\n        azure.workload.identity/use-identity-binding: "true"\n',
      ),
      'only the annotation is added',
    );
    assert.match(
      prompter.notifications.find((n) => n.message.includes('Identity bindings are in place'))!.message,
      /and 1 workloads in the open folders now ask for them: apply the files as usual/,
    );
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder, 'apps/mig'), { recursive: true });
    assert.match(
      prompter.recorded.find((r) => r.kind === 'confirm')!.message!,
      /Delete 2 direct federated credentials of id-mig\?/,
    );
    assert.deepEqual(await credentialsOf(), ['aks-identity-binding']);
    const state = await sim.state();
    for (const name of ['aks-payments', 'aks-entra'])
      assert.equal(state.clusters.find((c: any) => c.name === name).identityBindings.length, 1, name);
    for (const m of await vscode.workspace.findFiles('k8s/*/payments/mig-api.serviceaccount.yaml'))
      await vscode.workspace.fs.delete(m);
  });

  it('a binding through an identity binding, from the tree: Verify green on its own checks, Test through a pod and the proxy, Connect with the annotation and the app-side hints, Export writes the binding, Remove takes it back', async () => {
    const api = await extensionApi();
    api.setPrompter(
      new ScriptedPrompter([
        { pick: 'aks-payments' },
        { pick: 'payments' },
        { type: 'ib-tree' },
        { pick: 'kv-payments' },
        { pick: 'id-shared-tools' },
        { pickMany: ['get on secrets'] },
        { pick: '$(arrow-swap) Use identity binding instead' },
        confirmBind,
      ]),
    );
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const tree = api.context.tree;
    tree.refresh();
    const through = (await tree.getChildren(await findNode('aks-payments'))).find(
      (n: TreeNode) => n.kind === 'identityBinding',
    )!;
    const node = (await tree.getChildren(through))[0] as BindingNode;
    assert.equal(tree.getTreeItem(node).label, 'payments/ib-tree');

    const verify = (await vscode.commands.executeCommand(
      'aksWorkloadIdentity.verifyWorkloadIdentity',
      node,
    )) as VerifyPanel;
    const marks = Object.fromEntries(verify.report!.checks.map((c) => [c.key, c.status]));
    assert.deepEqual(
      [marks.identityBinding, marks.managedCredential, marks.useIdentityRbac, marks.webhookVersion, marks.issuer],
      ['pass', 'pass', 'pass', 'pass', undefined],
    );
    // Test Binding proves the exchange from a pod the cluster runs, through AKS's proxy.
    const tested = (await vscode.commands.executeCommand('aksWorkloadIdentity.testBinding', node)) as VerifyPanel;
    const exchange = tested.report!.checks.find((c) => c.key === 'exchange')!;
    assert.equal(exchange.status, 'pass', exchange.message);
    assert.match(exchange.message, /through AKS's identity binding proxy/);
    assert.equal(tested.report!.checks.find((c) => c.key === 'keyVault:kv-payments:secrets')!.status, 'pass');

    // Connect in the workspace: the annotation beside the label, and the review says what the app must do.
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const write = (rel: string, text: string) =>
      vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, ...rel.split('/')), Buffer.from(text));
    await write(
      'ib-app/deploy.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ib-app\n  namespace: payments\nspec:\n  template:\n    metadata:\n      labels:\n        app: ib-app\n    spec:\n      containers:\n        - name: app\n          image: contoso.azurecr.io/ib-app:1\n',
    );
    await write('ib-app/package.json', '{ "dependencies": { "@azure/identity": "^4.13.1" } }\n');
    await write('ib-app/index.js', 'const credential = new DefaultAzureCredential();\n');
    const connect = new ScriptedPrompter([
      { pick: 'In the workspace' },
      { pick: 'Deployment ib-app' },
      { pick: 'No' },
      { pick: '$(check) Connect: change ib-app/deploy.yaml' },
    ]);
    api.setPrompter(connect);
    await vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', node);
    const connectReview = connect.recorded.find((r) => r.title === 'Connect Workload: review')!.labels!;
    assert.ok(
      connectReview.includes(
        '$(edit) spec.template.metadata.annotations["azure.workload.identity/use-identity-binding"]: "true"',
      ),
      connectReview.join('\n'),
    );
    assert.ok(
      connectReview.some((l) =>
        /ib-app\/package\.json names the JavaScript Azure Identity library.*4\.14\.0 or later/.test(l),
      ),
      connectReview.join('\n'),
    );
    assert.ok(
      connectReview.some((l) => /ib-app\/index\.js uses DefaultAzureCredential/.test(l)),
      connectReview.join('\n'),
    );
    const connected = Buffer.from(
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, 'ib-app', 'deploy.yaml')),
    ).toString();
    assert.match(connected, /annotations:\n {8}azure\.workload\.identity\/use-identity-binding: "true"/);
    assert.match(connected, /azure\.workload\.identity\/use: "true"/);
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder, 'ib-app'), { recursive: true });

    api.setPrompter(
      new ScriptedPrompter([{ pick: 'kv-payments' }, { pickMany: ['get on secrets'] }, { pick: 'Terraform' }]),
    );
    await vscode.commands.executeCommand('aksWorkloadIdentity.exportBinding', node);
    const tf = vscode.workspace.textDocuments
      .find((d) => d.isUntitled && d.getText().startsWith('# Terraform'))!
      .getText();
    assert.match(tf, /resource "azapi_resource" "identity_binding"/);
    assert.doesNotMatch(tf, /azurerm_federated_identity_credential/);

    const remove = new ScriptedPrompter([
      { pickMany: [] },
      { pick: (items) => items.find((i) => i.label.startsWith('$(trash) Remove: make')) },
    ]);
    api.setPrompter(remove);
    await vscode.commands.executeCommand('aksWorkloadIdentity.removeBinding', node);
    const review = remove.recorded.find((r) => r.title === 'Remove Binding: review')!.labels!;
    assert.ok(review.includes('$(trash) Remove: Identity binding on the cluster'), review.join('\n'));
    const state = await sim.state();
    const cluster = state.clusters.find((c: any) => c.name === 'aks-payments');
    assert.deepEqual(cluster.identityBindings, []);
    assert.deepEqual(Object.keys(cluster.kube.clusterRoleBindings), []);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const m of await vscode.workspace.findFiles('k8s/*/payments/ib-tree.serviceaccount.yaml'))
      await vscode.workspace.fs.delete(m);
  });
});
