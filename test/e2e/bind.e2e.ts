import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { after, before, describe, it } from 'node:test';
import { isWrite } from '../sim/faults';
import {
  Workbench,
  assertNoSecretsLeft,
  openExtensionView,
  openWorkbench,
  pick,
  quickInput,
  runCommand,
  treeRow,
} from './fixture';

async function accept(page: Page, prompt: string, expectedValue: string) {
  const w = await quickInput(page, prompt);
  assert.equal(await w.locator('input').inputValue(), expectedValue, `default for "${prompt}"`);
  await page.keyboard.press('Enter');
}

describe('Bind Key Vault in the browser', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('bind');
  });
  after(async () => {
    await wb?.close();
  });

  it("answers every step from the palette, reviews the plan, and gets the lab's result", async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'aks-petclinic').waitFor({ timeout: 60_000 });
    await runCommand(wb.page, 'AKS Workload Identity: Bind Key Vault…');
    await pick(wb.page, 'The AKS cluster', 'aks-petclinic');
    await pick(wb.page, 'Namespace of the workload', 'spring-petclinic');
    await pick(wb.page, 'ServiceAccount the pods run as', 'workload-identity-sa');
    await pick(wb.page, 'The Key Vault to read', 'kv-petclinic');
    await pick(wb.page, 'The managed identity the pods use', 'Create a new user-assigned identity');
    await accept(wb.page, 'Name of the new identity', 'id-spring-petclinic-workload-identity-sa');
    await accept(wb.page, 'Resource group of the new identity', 'rg-petclinic');
    await accept(wb.page, 'Region of the new identity', 'eastus');
    const permissions = await quickInput(wb.page, 'What the identity may read');
    // Enter before the three picked rows render would accept an empty choice.
    await permissions
      .locator('.quick-input-list .monaco-list-row[aria-checked="true"]', { hasText: 'get on certificates' })
      .waitFor();
    await wb.page.keyboard.press('Enter');
    const review = await quickInput(wb.page, 'nothing has been written yet');
    await review.locator('.monaco-list-row', { hasText: 'Federated identity credential' }).waitFor();
    await wb.shot('plan', 'bind-review');
    const reviewText = await review.textContent();
    assert.match(reviewText!, /Bind: make 5 changes/);

    // Export the plan as a script before binding: it opens as an unsaved editor, and the review comes back.
    await wb.page.keyboard.press('ArrowDown');
    await wb.page.keyboard.press('Enter');
    await pick(wb.page, 'Export the binding of spring-petclinic/workload-identity-sa as', 'az CLI and kubectl script');
    await wb.page.locator('.monaco-editor .view-lines', { hasText: 'set -euo pipefail' }).waitFor({ timeout: 30_000 });
    await quickInput(wb.page, 'nothing has been written yet');
    await wb.shot('export-script', 'export');
    assert.deepEqual(
      wb.sim.log.filter(isWrite).map((r) => r.op),
      [],
      'nothing written before the yes',
    );
    const again = await quickInput(wb.page, 'nothing has been written yet');
    await again.locator('.monaco-list-row', { hasText: 'Federated identity credential' }).waitFor();
    await wb.page.keyboard.press('Enter');

    const toast = wb.page.locator('.notification-toast', {
      hasText: 'Bound kv-petclinic to spring-petclinic/workload-identity-sa',
    });
    await toast.waitFor({ timeout: 90_000 });
    await wb.page.locator('.tabs-container .tab', { hasText: 'workload-identity-sa.serviceaccount.yaml' }).waitFor();
    await wb.shot('result');

    // The lab's end state, in the simulated Azure and Kubernetes.
    const state = wb.sim.snapshot();
    const identity = state.identities.find((i) => i.name === 'id-spring-petclinic-workload-identity-sa')!;
    assert.ok(identity);
    const cluster = state.clusters.find((c) => c.name === 'aks-petclinic')!;
    assert.equal(cluster.properties.securityProfile.workloadIdentity.enabled, true);
    assert.deepEqual(cluster.violations, []);
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
    const policy = state.vaults
      .find((v) => v.name === 'kv-petclinic')!
      .properties.accessPolicies.find((p: any) => p.objectId === identity.properties.principalId);
    assert.deepEqual(policy.permissions, { secrets: ['get'], keys: ['get'], certificates: ['get'] });
    const sa = (cluster.kube.serviceAccounts as any)['spring-petclinic/workload-identity-sa'];
    assert.equal(sa.metadata.annotations['azure.workload.identity/client-id'], identity.properties.clientId);
    const file = path.join(
      wb.cs.workspace,
      'k8s',
      'aks-petclinic',
      'spring-petclinic',
      'workload-identity-sa.serviceaccount.yaml',
    );
    const manifest = fs.readFileSync(file, 'utf8');
    assert.match(manifest, new RegExp(`azure.workload.identity/client-id: ${identity.properties.clientId}`));
    assert.match(manifest, /name: workload-identity-sa\n\s+namespace: spring-petclinic/);
  });
  it("the whole Bind with the keyboard alone: palette, quick input, review and the notification's action", async () => {
    const kb = wb.page.keyboard;
    /** Waits for the question, types, waits for the row that answers it, and takes it with Enter. */
    const answer = async (question: string, text: string, row = text) => {
      const w = await quickInput(wb.page, question);
      await kb.type(text);
      // As a keyboard user does: Enter once the highlighted row is the answer.
      await w.locator('.quick-input-list .monaco-list-row.focused', { hasText: row }).first().waitFor();
      await kb.press('Enter');
    };
    await kb.press('F1');
    await answer('', 'AKS Workload Identity: Bind Key Vault', 'Bind Key Vault…');
    await answer('The AKS cluster', 'aks-payments');
    await answer('Namespace of the workload', 'payments');
    await answer('ServiceAccount the pods run as', 'keyboard-sa', 'New ServiceAccount "keyboard-sa"');
    await answer('The Key Vault to read', 'kv-petclinic');
    await answer('The managed identity the pods use', 'Create a new', 'Create a new user-assigned identity');
    for (const q of ['Name of the new identity', 'Resource group of the new identity', 'Region of the new identity']) {
      await quickInput(wb.page, q);
      await kb.press('Enter');
    }
    const permissions = await quickInput(wb.page, 'What the identity may read');
    await permissions
      .locator('.quick-input-list .monaco-list-row[aria-checked="true"]', { hasText: 'get on certificates' })
      .waitFor();
    await kb.press('Enter');
    const review = await quickInput(wb.page, 'nothing has been written yet');
    await review.locator('.monaco-list-row', { hasText: 'Federated identity credential' }).waitFor();
    await kb.press('Enter');
    try {
      await wb.page
        .locator('.notification-toast', { hasText: 'Bound kv-petclinic to payments/keyboard-sa' })
        .waitFor({ timeout: 90_000 });
    } catch (e) {
      await wb.shot('keyboard-only-failure');
      console.log(await wb.page.locator('.notification-toast').allTextContents());
      throw e;
    }
    // The notification's actions, with the keyboard: focus the toast, Tab to "Open Manifest", Enter.
    await kb.press('F1');
    await answer('', 'Notifications: Focus Notification Toast', 'Focus Notification Toast');
    let onAction = false;
    for (let i = 0; i < 12 && !onAction; i++) {
      await kb.press('Tab');
      onAction = await wb.page.evaluate(() => (document.activeElement?.textContent ?? '').trim() === 'Open Manifest');
    }
    assert.ok(onAction, 'Tab reaches the notification\'s "Open Manifest"');
    await kb.press('Enter');
    await wb.page
      .locator('.tabs-container .tab.active', { hasText: 'keyboard-sa.serviceaccount.yaml' })
      .waitFor({ timeout: 30_000 });
    await wb.shot('keyboard-only-result');
    const sa = (wb.sim.snapshot().clusters.find((c) => c.name === 'aks-payments')!.kube.serviceAccounts as any)[
      'payments/keyboard-sa'
    ];
    assert.ok(sa.metadata.annotations['azure.workload.identity/client-id']);
  });

  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
