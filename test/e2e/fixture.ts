import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { Simulator, SimOptions } from '../sim/server';
import { launchBrowser } from '../support/browser';
import { CodeServer, startCodeServer } from '../support/codeServer';
import { REPO, RESULTS_DIR } from '../support/paths';
import { SECRET_PATTERNS, findFiles, scanForSecrets } from '../support/secretScan';

/** The packaged extension; AKSWI_VSIX runs the browser tests against another build (an older one, to see a test fail). */
export const VSIX = process.env.AKSWI_VSIX ?? path.join(REPO, 'dist-vsix', 'aks-workload-identity.vsix');

/**
 * Set by `npm run screenshots`: the workbench in the light theme, and the shots named for the README also written to
 * media/screenshots/ (at the browser's fixed window size, test/support/browser.ts).
 */
const SCREENSHOTS = !!process.env.AKSWI_SCREENSHOTS;
export const SCREENSHOTS_DIR = path.join(REPO, 'media', 'screenshots');

export interface Workbench {
  sim: Simulator;
  cs: CodeServer;
  page: Page;
  /** A screenshot in the suite's results; `readme` names the README's picture it also makes. */
  shot(name: string, readme?: string): Promise<string>;
  close(): Promise<void>;
}

/** code-server with the packaged extension, against a fresh simulated Azure, in headless Chromium. */
export async function openWorkbench(
  suite: string,
  simOptions: SimOptions = {},
  more: {
    vsix?: string[];
    settings?: Record<string, unknown>;
    locale?: string;
    extensionFiles?: Record<string, string>;
  } = {},
): Promise<Workbench> {
  if (!fs.existsSync(VSIX))
    throw new Error(`${VSIX} is missing: run npm run package first (scripts/run-tests.mjs e2e does).`);
  const sim = await Simulator.start(simOptions);
  const cs = await startCodeServer({
    sim: sim.info,
    vsix: [VSIX, ...(more.vsix ?? [])],
    extraSettings: { ...(SCREENSHOTS ? { 'workbench.colorTheme': 'Default Light Modern' } : {}), ...more.settings },
    locale: more.locale,
    extensionFiles: more.extensionFiles,
  });
  const b = await launchBrowser();
  const dir = path.join(RESULTS_DIR, 'e2e', suite);
  fs.mkdirSync(dir, { recursive: true });
  await b.page.goto(`${cs.url}/?folder=${encodeURIComponent(cs.workspace)}`);
  await b.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return {
    sim,
    cs,
    page: b.page,
    async shot(name, readme) {
      const file = path.join(dir, `${name}.png`);
      await b.page.screenshot({ path: file });
      if (SCREENSHOTS && readme) {
        fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
        fs.copyFileSync(file, path.join(SCREENSHOTS_DIR, `${readme}.png`));
      }
      return file;
    },
    async close() {
      await b.close();
      await cs.stop();
      await sim.stop();
    },
  };
}

/** Packs a test extension of test/fixtures (a stand-in account, a language pack) into a vsix for code-server to install. */
export function fixtureVsix(name: string): string {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `akswi-${name}-`)), `${name}.vsix`);
  execFileSync(
    process.execPath,
    [
      path.join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce'),
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      '--out',
      out,
    ],
    { cwd: path.join(REPO, 'test', 'fixtures', name), stdio: 'pipe' },
  );
  return out;
}

/** Opens the extension's activity bar container and returns its view. */
export async function openExtensionView(page: Page): Promise<Locator> {
  const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Clusters and Key Vaults' }) });
  if (await view.isVisible()) return view;
  const entry = page.locator('.activitybar .action-item a[aria-label^="AKS Workload Identity"]');
  await entry.waitFor({ timeout: 60_000 });
  // From the palette, not by a click on the activity bar: on VS Code 1.139 the item's hover, once shown, stays up
  // over the view's first rows wherever the mouse goes, and takes their clicks.
  await runCommand(page, 'View: Show AKS Workload Identity');
  await view.waitFor({ timeout: 30_000 });
  return view;
}

export const treeRow = (view: Locator, label: string) =>
  view.locator('.monaco-list-row', { has: view.page().locator('.label-name', { hasText: new RegExp(`^${label}$`) }) });

/**
 * Waits for a notification in the notification center, where every one is kept. A toast is not enough: VS Code shows
 * no toast for a notification that comes within 800 ms of three others (its spam protection), as a result does when
 * the test accepts a review at once and the run's progress notifications come and go.
 */
export async function notified(page: Page, text: string, timeout = 60_000) {
  await runCommand(page, 'Notifications: Show Notifications');
  await page.locator('.notifications-center .notification-list-item-message', { hasText: text }).waitFor({ timeout });
  await runCommand(page, 'Notifications: Hide Notifications');
}

/** Runs a command from the palette by its title. */
export async function runCommand(page: Page, title: string, timeout?: number) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout });
  await page.keyboard.press('Enter');
}

/** Waits for the quick input whose placeholder or prompt contains `text`. */
export async function quickInput(page: Page, text: string) {
  const widget = page.locator('.quick-input-widget');
  await widget.locator('input').waitFor();
  await page.waitForFunction(
    (t) => {
      const w = document.querySelector('.quick-input-widget') as HTMLElement | null;
      if (!w || w.style.display === 'none') return false;
      const input = w.querySelector('input') as HTMLInputElement | null;
      const message = w.querySelector('.quick-input-message')?.textContent ?? '';
      return (input?.placeholder ?? '').includes(t) || message.includes(t);
    },
    text,
    { timeout: 30_000 },
  );
  return widget;
}

/**
 * Watches for focus leaving the quick input, as it does when a question closes and VS Code hands focus back to the
 * editor. Between two questions of one flow it must not: a webview editor (the Verify report) takes focus back
 * 50 ms after it is given it, by then from the next question, and typing goes into the report
 * (microsoft/vscode#93950). `take` returns the questions that lost focus since the last call.
 */
export async function watchQuickInputFocus(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { quickInputFocusLeft?: string[] };
    if (w.quickInputFocusLeft) return;
    w.quickInputFocusLeft = [];
    document.addEventListener(
      'focusout',
      (e) => {
        const widget = document.querySelector('.quick-input-widget');
        const to = (e as FocusEvent).relatedTarget as Node | null;
        if (widget?.contains(e.target as Node) && !(to && widget.contains(to)))
          w.quickInputFocusLeft!.push(widget.querySelector('input')?.placeholder ?? '');
      },
      true,
    );
  });
  return {
    take: () =>
      page.evaluate(() => {
        const w = window as unknown as { quickInputFocusLeft: string[] };
        return w.quickInputFocusLeft.splice(0);
      }),
  };
}

/** Types `label` into the quick input asking `placeholder` and picks the first row that shows it. */
export async function pick(page: Page, placeholder: string, label: string) {
  const w = await quickInput(page, placeholder);
  await w.locator('input').fill(label);
  await w.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** After a suite's commands: no token, kubeconfig or secret in code-server's data, the home, the workspace or its output. */
export async function assertNoSecretsLeft(wb: Workbench) {
  // Wait for the log channel to flush to disk.
  await new Promise((r) => setTimeout(r, 1500));
  const found = scanForSecrets(
    [wb.cs.userDataDir, wb.cs.home, wb.cs.workspace],
    [wb.sim.info.tokenSecret, wb.sim.info.controlSecret],
    0,
    (p) => /\/extensions$|node_modules|CachedData|Cache/.test(p),
  );
  assert.deepEqual(found, []);
  assert.deepEqual(
    SECRET_PATTERNS.filter(([, re]) => re.test(wb.cs.output())).map(([what]) => what),
    [],
    'code-server output',
  );
  assert.ok(
    findFiles(wb.cs.userDataDir, /AKS Workload Identity\.log$/).length > 0,
    'the log channel was written, so the scan read it',
  );
}

/** A report panel's page: VS Code nests each webview's content in an inner frame. */
export const report = (page: Page) => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
