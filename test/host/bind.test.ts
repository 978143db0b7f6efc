import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Answer, ScriptedPrompter } from '../support/scriptedPrompter';
import { isWrite } from '../sim/faults';
import { confirmBind, extensionApi, newIdentityBindAnswers, signedIn, sim } from './support';

const answers = (): Answer[] => [
  ...newIdentityBindAnswers(['get on secrets', 'get on keys', 'get on certificates']),
  confirmBind,
];

/** A rerun picks the identity the first run created: the wizard refuses a "new" identity whose name is taken. */
const rerunAnswers = (): Answer[] => [
  ...answers().slice(0, 4),
  { pick: 'id-spring-petclinic-workload-identity-sa' },
  { pickMany: ['get on secrets', 'get on keys', 'get on certificates'] },
  confirmBind,
];

describe('Bind Key Vault (extension host)', () => {
  before(async () => {
    await sim.reset();
    const api = await extensionApi();
    await signedIn(api);
    api.context.tree.refresh();
  });
  after(async () => {
    (await extensionApi()).setPrompter(undefined);
  });

  it('runs the whole flow from the palette with scripted answers, and writes the manifest', async () => {
    const api = await extensionApi();
    const prompter = new ScriptedPrompter(answers());
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    assert.equal(prompter.remaining, 0, 'every question was asked');
    const steps = prompter.recorded.filter((r) => r.kind !== 'validation' && r.title === 'Bind Key Vault');
    // The total grows once "new identity" reveals its three questions.
    assert.deepEqual(
      steps.map((s) => `${s.step}/${s.totalSteps}`),
      ['1/6', '2/6', '3/6', '4/6', '5/6', '6/9', '7/9', '8/9', '9/9'],
      'a step counter on every prompt',
    );
    const review = prompter.recorded.find((r) => r.title === 'Bind Key Vault: review')!;
    assert.equal(review.labels![1], '$(export) Export as…');
    assert.deepEqual(
      review.labels!.slice(4).map((l) => l.split(':')[0]),
      ['$(edit) Change', '$(add) Create', '$(pass) In place', '$(add) Create', '$(add) Create', '$(add) Create'],
    );

    const state = await sim.state();
    const identity = state.identities.find((i: any) => i.name === 'id-spring-petclinic-workload-identity-sa');
    assert.ok(identity, 'the identity exists');
    const cluster = state.clusters.find((c: any) => c.name === 'aks-petclinic');
    const issuer = cluster.properties.oidcIssuerProfile.issuerURL;
    assert.deepEqual(
      identity.credentials.map((c: any) => c.properties),
      [
        {
          issuer,
          subject: 'system:serviceaccount:spring-petclinic:workload-identity-sa',
          audiences: ['api://AzureADTokenExchange'],
        },
      ],
    );
    const vault = state.vaults.find((v: any) => v.name === 'kv-petclinic');
    assert.deepEqual(
      vault.properties.accessPolicies.find((p: any) => p.objectId === identity.properties.principalId).permissions,
      { secrets: ['get'], keys: ['get'], certificates: ['get'] },
    );
    const sa = cluster.kube.serviceAccounts['spring-petclinic/workload-identity-sa'];
    assert.equal(sa.metadata.annotations['azure.workload.identity/client-id'], identity.properties.clientId);
    assert.deepEqual(cluster.violations, []);

    const folder = vscode.workspace.workspaceFolders![0].uri;
    const manifest = Buffer.from(
      await vscode.workspace.fs.readFile(
        vscode.Uri.joinPath(
          folder,
          'k8s',
          'aks-petclinic',
          'spring-petclinic',
          'workload-identity-sa.serviceaccount.yaml',
        ),
      ),
    ).toString();
    assert.match(manifest, new RegExp(`azure.workload.identity/client-id: ${identity.properties.clientId}`));
    assert.match(manifest, /#\s+azure\.workload\.identity\/use: "true"/);
    const summary = prompter.notifications.find((n) => n.message.startsWith('Bound kv-petclinic'))!;
    assert.ok(summary.message.includes(identity.properties.clientId) && summary.message.includes(issuer));
    assert.deepEqual(summary.actions, ['Test now', 'Connect a workload', 'Copy Client ID', 'Open Manifest']);
  });

  it('a rerun shows every step in place and sends no write', async () => {
    const api = await extensionApi();
    await sim.clearLog();
    const prompter = new ScriptedPrompter(rerunAnswers());
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const review = prompter.recorded.find((r) => r.title === 'Bind Key Vault: review');
    assert.ok(review, JSON.stringify(prompter.notifications));
    assert.ok(
      review.labels!.slice(4).every((l) => l.startsWith('$(pass) In place')),
      review.labels!.join('\n'),
    );
    const writes = (await sim.log()).filter(isWrite);
    assert.deepEqual(
      writes.map((w) => w.op),
      [],
    );
  });

  it('an edited manifest is not overwritten without asking', async () => {
    const api = await extensionApi();
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const file = vscode.Uri.joinPath(
      folder,
      'k8s',
      'aks-petclinic',
      'spring-petclinic',
      'workload-identity-sa.serviceaccount.yaml',
    );
    await vscode.workspace.fs.writeFile(file, Buffer.from('# my own edits\n'));
    const prompter = new ScriptedPrompter([...rerunAnswers(), { confirm: false }]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const asked = prompter.recorded.find((r) => r.kind === 'confirm');
    assert.ok(asked, JSON.stringify(prompter.notifications));
    assert.match(asked!.message!, /has other content\. Overwrite it/);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(file)).toString(), '# my own edits\n');
  });

  it('bad input is refused with the rule, before anything is sent', async () => {
    const api = await extensionApi();
    await sim.clearLog();
    const prompter = new ScriptedPrompter([{ pick: 'aks-petclinic' }, { type: 'Bad_Namespace' }]);
    api.setPrompter(prompter);
    await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
    const v = prompter.recorded.find((r) => r.kind === 'validation')!;
    assert.match(v.validation!, /DNS-1123 label/);
    assert.ok((await sim.log()).every((r) => r.method === 'GET' || /list|query/i.test(r.op)));
  });

  it('two clusters get two manifests for the same namespace/ServiceAccount; a manifest of the previous layout for the same cluster is updated where it is', async () => {
    const api = await extensionApi();
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const previous = vscode.Uri.joinPath(folder, 'k8s', 'payments', 'layout-sa.serviceaccount.yaml');
    await vscode.workspace.fs.writeFile(
      previous,
      Buffer.from(
        '# ServiceAccount for Azure workload identity on AKS cluster aks-entra.\n# written by an earlier version\n',
      ),
    );
    for (const cluster of ['aks-payments', 'aks-entra']) {
      const prompter = new ScriptedPrompter([
        { pick: cluster },
        { pick: 'payments' },
        { type: 'layout-sa' },
        { pick: 'kv-payments' },
        { pick: '$(add) Create a new user-assigned identity' },
        { input: `id-layout-${cluster}` },
        { input: 'rg-payments' },
        { input: 'eastus' },
        { pickMany: ['get on secrets'] },
        { pick: (items) => items.find((i) => i.label.startsWith('$(check) Bind')) },
        ...(cluster === 'aks-entra' ? [{ confirm: true }] : []),
      ]);
      api.setPrompter(prompter);
      await vscode.commands.executeCommand('aksWorkloadIdentity.bindKeyVault');
      assert.ok(
        prompter.notifications.some((n) => n.message.startsWith('Bound kv-payments')),
        `${cluster}: ${JSON.stringify(prompter.notifications)}`,
      );
    }
    const payments = Buffer.from(
      await vscode.workspace.fs.readFile(
        vscode.Uri.joinPath(folder, 'k8s', 'aks-payments', 'payments', 'layout-sa.serviceaccount.yaml'),
      ),
    ).toString();
    assert.match(payments, /^# ServiceAccount for Azure workload identity on AKS cluster aks-payments\./);
    const entra = Buffer.from(await vscode.workspace.fs.readFile(previous)).toString();
    assert.match(
      entra,
      /^# ServiceAccount for Azure workload identity on AKS cluster aks-entra\.\n# Pods that run as it/,
      'the earlier file was updated in place (after the diff and a yes)',
    );
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, 'k8s', 'aks-entra'))),
      'nothing was written to a second place for aks-entra',
    );
  });
});
