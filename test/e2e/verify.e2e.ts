import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Workbench,
  assertNoSecretsLeft,
  openExtensionView,
  openWorkbench,
  pick,
  runCommand,
  report,
  treeRow,
} from './fixture';

describe('Verify Workload Identity in the browser', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('verify');
  });
  after(async () => {
    await wb?.close();
  });

  it('shows a report with the seeded mistake, fixes it from the keyboard, and the check passes', async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'aks-payments').waitFor({ timeout: 60_000 });
    await runCommand(wb.page, 'AKS Workload Identity: Verify Workload Identity…');
    await pick(wb.page, 'The cluster the workload runs on', 'aks-payments');
    await pick(wb.page, 'Namespace of the workload', 'checkout');
    await pick(wb.page, 'ServiceAccount the pods run as', 'checkout-api');
    await pick(wb.page, 'Which Key Vault', 'Every vault the identity has a grant on');

    const issuer = report(wb.page).locator('section[data-key="issuer"]');
    await issuer.and(report(wb.page).locator('[data-status="fail"]')).waitFor({ timeout: 60_000 });
    assert.match((await issuer.locator('.message').textContent()) ?? '', /only by a trailing slash/);
    assert.equal(
      await report(wb.page).locator('section[data-key="vault:kv-payments"]').getAttribute('data-status'),
      'fail',
    );
    await wb.shot('report-with-failure', 'verify-fix');
    // The page allows only its own nonce'd script and style: data from Azure cannot run or load anything.
    assert.match(
      (await report(wb.page).locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')) ?? '',
      /^default-src 'none';.*script-src 'nonce-[^']+';$/,
    );

    // For screen readers: every button has a name, every check is a region named by its heading, the actions are a toolbar.
    const a11y = await report(wb.page)
      .locator('body')
      .evaluate((body) => {
        const named = (el: Element) => (el.getAttribute('aria-label') ?? el.textContent ?? '').trim();
        const byId = (id: string | null) => (id ? body.ownerDocument.getElementById(id) : null);
        return {
          unnamedButtons: Array.from(body.querySelectorAll('button')).filter((b) => !named(b)).length,
          checks: Array.from(body.querySelectorAll('section.check')).map(
            (s) => named(byId(s.getAttribute('aria-labelledby')) ?? s).length > 0,
          ),
          fixesDescribed: Array.from(body.querySelectorAll('button[data-fix]')).every(
            (b) => !!named(byId(b.getAttribute('aria-describedby')) ?? b),
          ),
          toolbar: body.querySelector('[role="toolbar"]')?.getAttribute('aria-label'),
          live: body.querySelector('#summary')?.getAttribute('aria-live'),
          main: !!body.querySelector('main'),
        };
      });
    assert.deepEqual(a11y, {
      unnamedButtons: 0,
      checks: a11y.checks.map(() => true),
      fixesDescribed: true,
      toolbar: 'Report actions',
      live: 'polite',
      main: true,
    });
    assert.ok(a11y.checks.length >= 10);
    // The fix is reachable with the keyboard: Tab moves focus through the report's buttons.
    await report(wb.page).locator('#rerun').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await wb.page.keyboard.press('Tab');
      reached = await report(wb.page)
        .locator('button[data-fix="issuer"]')
        .evaluate((b) => b === b.ownerDocument.activeElement);
    }
    assert.ok(reached, 'Tab reaches the fix button');
    await wb.page.keyboard.press('Enter');
    const dialog = wb.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match((await dialog.textContent()) ?? '', /Rewrite fic-checkout on id-checkout/);
    await dialog.locator('.monaco-button', { hasText: 'Recreate the credential' }).click();

    await report(wb.page).locator('section[data-key="issuer"][data-status="pass"]').waitFor({ timeout: 60_000 });
    await wb.shot('report-after-fix', 'hero');
    const cred = wb.sim.snapshot().identities.find((i) => i.name === 'id-checkout')!.credentials;
    const cluster = wb.sim.snapshot().clusters.find((c) => c.name === 'aks-payments')!;
    assert.deepEqual(
      cred.map((c: any) => c.properties.issuer),
      [cluster.properties.oidcIssuerProfile.issuerURL],
      'the credential was rewritten, not duplicated',
    );
  });
  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
