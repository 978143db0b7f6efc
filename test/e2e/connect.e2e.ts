import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Workbench, assertNoSecretsLeft, openExtensionView, openWorkbench, pick, treeRow } from './fixture';

const MANIFEST = `# Payments API, kept by the team.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  template:
    metadata:
      labels:
        app: payments-api   # the Service selects this
    spec:
      containers:
        - name: api
          image: contoso.azurecr.io/payments:3
`;

describe('Connect Workload in the browser', () => {
  let wb: Workbench;
  let file: string;
  before(async () => {
    wb = await openWorkbench('connect');
    file = path.join(wb.cs.workspace, 'deploy', 'payments-api.yaml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, MANIFEST);
  });
  after(async () => {
    await wb?.close();
  });

  it('connects the Deployment in the workspace YAML after showing the diff', async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'aks-payments').click();
    const row = treeRow(view, 'payments/payments-api');
    await row.waitFor({ timeout: 60_000 });
    await row.click({ button: 'right' });
    await wb.page.locator('.monaco-menu .action-item', { hasText: 'Connect Workload…' }).click({ delay: 50 });
    await pick(wb.page, 'Where is the workload that should run as payments-api?', 'In the workspace');
    await pick(wb.page, 'Which workload should run as payments-api?', 'Deployment payments-api');
    await pick(wb.page, 'Also mount Key Vault objects as files', 'No');
    // The review: the diff is open beside it.
    await wb.page.locator('.monaco-diff-editor').waitFor({ timeout: 30_000 });
    await wb.page
      .locator('.quick-input-widget', { hasText: 'Connect: change deploy/payments-api.yaml' })
      .waitFor({ timeout: 30_000 });
    await wb.shot('review-with-diff', 'connect-diff');
    assert.equal(fs.readFileSync(file, 'utf8'), MANIFEST, 'nothing written before the review is confirmed');
    await pick(wb.page, 'nothing has been written yet', 'Connect: change deploy/payments-api.yaml');
    await wb.page
      .locator('.notifications-toasts', { hasText: 'now runs as payments-api' })
      .waitFor({ timeout: 30_000 });
    await wb.shot('connected');
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /\n {6}serviceAccountName: payments-api\n {6}containers:/);
    assert.match(
      text,
      /\n {8}azure\.workload\.identity\/use: "true"\n {8}app: payments-api {3}# the Service selects this\n/,
    );
  });

  it('adds a SecretProviderClass for the connected Deployment and mounts it', async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'payments/payments-api').click({ button: 'right' });
    await wb.page.locator('.monaco-menu .action-item', { hasText: 'Connect Workload…' }).click({ delay: 50 });
    await pick(wb.page, 'Where is the workload that should run as payments-api?', 'In the workspace');
    await pick(wb.page, 'Which workload should run as payments-api?', 'Deployment payments-api');
    await pick(wb.page, 'Also mount Key Vault objects as files', 'Yes: add a SecretProviderClass');
    await pick(wb.page, 'Which Key Vault holds the objects?', 'kv-payments');
    const input = wb.page.locator('.quick-input-widget', { hasText: 'Objects to mount' });
    try {
      await input.waitFor({ timeout: 30_000 });
    } catch (e) {
      await wb.shot('objects-not-asked');
      console.log(
        `instead: ${await wb.page
          .locator('.quick-input-widget')
          .innerText()
          .catch(() => '')} / ${await wb.page
          .locator('.notifications-toasts')
          .innerText()
          .catch(() => '')}`,
      );
      throw e;
    }
    // The widget's text changes as the box validates, so the box is found by its place, not by that text.
    await wb.page.locator('.quick-input-widget .quick-input-box input').fill('db-password, cert:tls');
    await wb.page.keyboard.press('Enter');
    await wb.page
      .locator('.quick-input-widget', { hasText: 'SecretProviderClass payments-api-kv-payments' })
      .waitFor({ timeout: 30_000 });
    await wb.shot('secret-provider-class-review');
    await pick(wb.page, 'nothing has been written yet', 'Connect: change deploy/payments-api.yaml');
    const spcFile = path.join(wb.cs.workspace, 'deploy', 'payments-api-kv-payments.secretproviderclass.yaml');
    for (let i = 0; i < 100 && !fs.existsSync(spcFile); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(
      fs.readFileSync(spcFile, 'utf8'),
      /kind: SecretProviderClass[\s\S]*keyvaultName: kv-payments[\s\S]*objectName: tls\n\s+objectType: cert/,
    );
    assert.match(fs.readFileSync(file, 'utf8'), /volumeMounts:\n\s+- name: secrets-store/);
    await wb.shot('secret-provider-class');
  });

  it('connects a Deployment live: the rollout ends and the new pods get the token', async () => {
    const view = await openExtensionView(wb.page);
    const row = treeRow(view, 'payments/payments-api');
    await row.click({ button: 'right' });
    await wb.page.locator('.monaco-menu .action-item', { hasText: 'Connect Workload…' }).click({ delay: 50 });
    await pick(wb.page, 'Where is the workload that should run as payments-api?', 'In the cluster');
    await pick(wb.page, 'Which workload on aks-payments should run as payments-api?', 'Deployment payments-worker');
    await pick(wb.page, 'Also mount Key Vault objects as files', 'No');
    await wb.page
      .locator('.quick-input-widget', { hasText: 'spec.template.spec.serviceAccountName: (default) → payments-api' })
      .waitFor({ timeout: 30_000 });
    await wb.shot('live-review');
    await pick(wb.page, 'nothing has been written yet', 'Connect: apply to Deployment payments-worker');
    const toast = wb.page.locator('.notifications-toasts', {
      hasText: 'Its new pod is ready and has AZURE_FEDERATED_TOKEN_FILE',
    });
    await toast.waitFor({ timeout: 60_000 });
    await wb.page
      .locator('.notifications-toasts', { hasText: 'Connecting Deployment' })
      .waitFor({ state: 'hidden', timeout: 30_000 });
    await wb.shot('live-rollout-result');
    const dep = wb.sim.snapshot().clusters.find((c) => c.name === 'aks-payments')!.kube.deployments[
      'payments/payments-worker'
    ];
    assert.equal(dep.spec.template.spec.serviceAccountName, 'payments-api');
  });

  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
