import * as assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { after, before, describe, it } from 'node:test';
import { Workbench, assertNoSecretsLeft, openExtensionView, openWorkbench, report, treeRow } from './fixture';

/** The Test Binding button a binding row shows on hover. */
async function clickTest(view: Locator, label: string) {
  const row = treeRow(view, label);
  await row.waitFor({ timeout: 60_000 });
  await row.hover();
  await row.locator('.action-label[aria-label="Test Binding…"]').click();
}

describe('Test Binding in the browser', () => {
  let wb: Workbench;
  // A rewritten credential is refused with AADSTS70021 for a while, as in Azure.
  before(async () => {
    wb = await openWorkbench('probe', { config: { credentialPropagationMs: 6000 } });
  });
  after(async () => {
    await wb?.close();
  });

  it('a working binding passes the token, the exchange and Key Vault', async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'aks-payments').click();
    await clickTest(view, 'payments/payments-api');
    await report(wb.page)
      .locator('section[data-key="keyVault:kv-payments:secrets"][data-status="pass"]')
      .waitFor({ timeout: 90_000 });
    for (const key of ['token', 'exchange'])
      assert.equal(
        await report(wb.page).locator(`section[data-key="${key}"]`).getAttribute('data-status'),
        'pass',
        key,
      );
    await report(wb.page).locator('section[data-key="keyVault:kv-payments:secrets"]').scrollIntoViewIfNeeded();
    await wb.shot('passing-binding', 'test-binding');
    await wb.page.keyboard.press('Control+K');
    await wb.page.keyboard.press('W');
  });

  it('the hand-made binding fails the exchange with AADSTS700211; its fix turns it green once the credential has propagated', async () => {
    const view = await openExtensionView(wb.page);
    await clickTest(view, 'checkout/checkout-api');
    const exchange = report(wb.page).locator('section[data-key="exchange"]');
    await exchange.and(report(wb.page).locator('[data-status="fail"]')).waitFor({ timeout: 90_000 });
    assert.match(
      (await exchange.locator('.message').textContent()) ?? '',
      /^AADSTS700211: No federated credential on the identity has the token's issuer/,
    );
    assert.match((await exchange.locator('dl').textContent()) ?? '', /issuer ✗/);
    await exchange.scrollIntoViewIfNeeded();
    await wb.shot('failing-binding');

    await exchange.locator('button[data-fix="exchange"]').click();
    const dialog = wb.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    await dialog.locator('.monaco-button', { hasText: 'Recreate the credential' }).click();
    // The test runs again by itself, waits out AADSTS70021 while the new credential propagates, then passes.
    await report(wb.page).locator('section[data-key="exchange"][data-status="pass"]').waitFor({ timeout: 120_000 });
    await report(wb.page).locator('section[data-key="exchange"]').scrollIntoViewIfNeeded();
    await wb.shot('failing-binding-after-fix');
    const log = wb.sim.log.filter((r) => r.op === 'entra.token').map((r) => r.status);
    assert.ok(log.filter((s) => s === 400).length >= 2, `AADSTS700211, then AADSTS70021 while propagating: ${log}`);
    assert.equal(log.at(-1), 200);
  });

  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
