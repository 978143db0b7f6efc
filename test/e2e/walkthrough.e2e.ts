import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { after, before, describe, it } from 'node:test';
import { Workbench, openExtensionView, openWorkbench, pick, runCommand, treeRow } from './fixture';

/** The walkthrough's steps that show as completed. */
const completed = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll('.getting-started-step'))
  .filter((s) => s.classList.contains('complete') || !!s.querySelector('.codicon-pass-filled'))
  .map((s) => s.getAttribute('data-step-id')));

describe('the walkthrough in the browser', () => {
  let wb: Workbench;
  before(async () => { wb = await openWorkbench('walkthrough'); });
  after(async () => { await wb?.close(); });

  it('opens from the Welcome page; its steps tick from what the extension sees as the journey runs', async () => {
    await runCommand(wb.page, 'Help: Welcome');
    await wb.page.locator('.gettingStartedContainer').waitFor({ timeout: 30_000 });
    const entry = wb.page.locator('.getting-started-category', { hasText: 'Give a workload access to Key Vault' });
    await entry.waitFor({ timeout: 30_000 });
    await entry.click();
    await wb.page.locator('.getting-started-step', { hasText: 'Bind a Key Vault' }).waitFor();
    await wb.shot('before');
    console.log(await completed(wb.page));
    console.log(await wb.page.evaluate(() => document.querySelector('.getting-started-step')?.outerHTML.slice(0, 1500)));
  });
});
