import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { simulatedCloudSettings } from '../support/codeServer';
import { dataWords, looksPseudo, pseudoBundle, unlocalizedWords } from '../support/pseudoLocale';
import { Workbench, fixtureVsix, openWorkbench, report, treeRow } from './fixture';

/** Every word of the simulated world and of the test's settings: names the extension shows as they are. */
const worldWords = (wb: Workbench) => dataWords([wb.sim.snapshot(), simulatedCloudSettings(wb.sim.info)]);

describe('the extension in a pseudo-locale (qps-ploc)', () => {
  let wb: Workbench;
  let nls: Record<string, string>;
  let data: Set<string>;
  /** What each surface showed, by surface: the test fails on any English word left in them. */
  const seen: Record<string, string> = {};
  before(async () => {
    nls = pseudoBundle('package.nls.json');
    wb = await openWorkbench(
      'pseudo-locale',
      {},
      {
        vsix: [fixtureVsix('pseudo-language-pack')],
        locale: 'qps-ploc',
        // The bundles l10n-dev generates for the pseudo-locale, where a translation would ship them.
        extensionFiles: {
          'package.nls.qps-ploc.json': JSON.stringify(nls),
          'l10n/bundle.l10n.qps-ploc.json': JSON.stringify(pseudoBundle('l10n/bundle.l10n.json')),
        },
      },
    );
    data = worldWords(wb);
  });
  after(async () => {
    await wb?.close();
  });

  const command = async (page: Page, nlsKey: string) => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill(`>${nls[nlsKey]}`);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: nls[nlsKey] }).first().waitFor();
    await page.keyboard.press('Enter');
  };
  /** The quick input's own text: its title, its placeholder and its rows, not VS Code's buttons. */
  const quickInputText = async (page: Page, rowText: string) => {
    const widget = page.locator('.quick-input-widget');
    await widget
      .locator('.quick-input-list .monaco-list-row', { hasText: rowText })
      .first()
      .waitFor({ timeout: 30_000 });
    return [
      await widget.locator('.quick-input-title').innerText(),
      await widget.locator('input').getAttribute('placeholder'),
      ...(await widget.locator('.quick-input-list .monaco-list-row').allInnerTexts()),
    ].join('\n');
  };

  it('finds an English word in English and none in pseudo-localized text (the check can fail)', () => {
    assert.deepEqual(unlocalizedWords('Kubernetes clusters: 5 · Bind Key Vault', new Set()), [
      'clusters',
      'Bind',
      'Key',
      'Vault',
    ]);
    assert.deepEqual(
      unlocalizedWords(`${nls['command.bindKeyVault.title']} aks-payments kv-payments.vault.azure.net`, new Set()),
      [],
    );
  });

  it('the tree, its tooltip, a prompt, a notification and the report show no English of the extension', async () => {
    const page = wb.page;
    const entry = page.locator(
      `.activitybar .action-item a[aria-label^="${nls['viewsContainer.aksWorkloadIdentity.title']}"]`,
    );
    await entry.waitFor({ timeout: 60_000 });
    await entry.click();
    // VS Code 1.139 keeps the activity bar's hover up under a resting mouse, over the view's rows (fixture.ts does
    // the same in openExtensionView).
    await page.mouse.move(900, 700);
    const view: Locator = page.locator('.pane', {
      has: page.locator('.pane-header', { hasText: nls['view.aksWorkloadIdentity.resources.name'] }),
    });
    await treeRow(view, 'aks-payments').waitFor({ timeout: 60_000 });
    for (let i = 0; i < 4 && !(await treeRow(view, 'payments/payments-api').isVisible()); i++) {
      await treeRow(view, 'aks-payments').click();
      await treeRow(view, 'payments/payments-api')
        .waitFor({ timeout: 10_000 })
        .catch(() => undefined);
    }
    seen.tree = `${await view.locator('.pane-header').innerText()}\n${await view.locator('.pane-body').innerText()}`;
    // From elsewhere: a tooltip shows when the mouse enters the row.
    await page.mouse.move(600, 600);
    await treeRow(view, 'aks-petclinic').hover();
    await treeRow(view, 'aks-payments').locator('.label-name').hover();
    const hover = page
      .locator('.workbench-hover .hover-contents, .monaco-hover .hover-contents')
      .filter({ hasText: 'aks-payments' })
      .first();
    await hover.waitFor({ timeout: 20_000 });
    seen.tooltip = await hover.innerText();
    await wb.shot('tree');

    // A prompt: Bind's first two questions.
    await command(page, 'command.bindKeyVault.title');
    seen.clusterPrompt = await quickInputText(page, 'aks-payments');
    await page.locator('.quick-input-widget input').fill('aks-payments');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: '(2/6)' }).waitFor({ timeout: 30_000 });
    seen.namespacePrompt = await quickInputText(page, 'payments');
    await wb.shot('prompt');
    await page.keyboard.press('Escape');

    // A notification: Enable on a cluster that already has workload identity.
    await command(page, 'command.enableWorkloadIdentity.title');
    await quickInputText(page, 'aks-payments');
    await page.locator('.quick-input-widget input').fill('aks-payments');
    await page.keyboard.press('Enter');
    const toast = page.locator('.notification-toast', { hasText: 'aks-payments' });
    await toast.waitFor({ timeout: 30_000 });
    seen.notification = [
      await toast.locator('.notification-list-item-message').innerText(),
      ...(await toast.locator('.notification-list-item-buttons-container .monaco-button').allInnerTexts()),
    ].join('\n');
    await wb.shot('notification');

    // The report, after the token exchange and Key Vault were tested.
    const binding = treeRow(view, 'payments/payments-api');
    await binding.hover();
    await binding.locator(`.action-label[aria-label="${nls['command.testBinding.title']}"]`).click();
    await report(page)
      .locator('section[data-key="keyVault:kv-payments:secrets"][data-status="pass"]')
      .waitFor({ timeout: 90_000 });
    seen.report = await report(page).locator('body').innerText();
    assert.equal(
      await report(page).locator('html').getAttribute('lang'),
      'qps-ploc',
      'the report page names its language',
    );
    await wb.shot('report');

    for (const [surface, text] of Object.entries(seen))
      assert.ok(looksPseudo(text), `${surface} shows pseudo-localized text:\n${text}`);
    const english = Object.fromEntries(
      Object.entries(seen)
        .map(([surface, text]) => [surface, unlocalizedWords(text, data)])
        .filter(([, words]) => words.length),
    );
    assert.deepEqual(
      english,
      {},
      `English left in:\n${JSON.stringify(english, null, 1)}\n\nThe surfaces:\n${JSON.stringify(seen, null, 1)}`,
    );
  });
});
