import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { findFiles } from '../support/secretScan';

async function until(what: string, fn: () => boolean, timeoutMs = 60_000) {
  for (const end = Date.now() + timeoutMs; !fn(); await new Promise((r) => setTimeout(r, 200)))
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
}
import { Workbench, fixtureVsix, openExtensionView, openWorkbench, pick, runCommand, treeRow } from './fixture';

describe('Sign in with the VS Code account in the browser', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench(
      'signin',
      {},
      { vsix: [fixtureVsix('vscode-account')], settings: { 'aksWorkloadIdentity.authentication': 'vscode' } },
    );
  });
  after(async () => {
    await wb?.close();
  });

  it('asks for consent, picks a tenant, shows the tree; signing out and in again works', async () => {
    // The stand-in account must be registered before the extension first asks for a session, or VS Code would
    // activate its own Microsoft account extension for the request.
    await until('the stand-in account to activate', () =>
      findFiles(wb.cs.userDataDir, /remoteexthost\.log$/).some((f) =>
        fs
          .readFileSync(f, 'utf8')
          .includes('_doActivateExtension aks-workload-identity-tests.stand-in-microsoft-account'),
      ),
    );
    const view = await openExtensionView(wb.page);
    const signIn = view.locator('.welcome-view-content a.monaco-button', { hasText: 'Sign in to Azure' });
    await signIn.waitFor({ timeout: 60_000 });
    await wb.shot('signed-out');
    await signIn.click();

    // VS Code's own consent dialog for an extension that asks for an account.
    const dialog = wb.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match(
      (await dialog.textContent()) ?? '',
      /AKS Workload Identity.*wants to sign in using Microsoft Sovereign Cloud/,
    );
    await wb.shot('consent');
    await dialog.locator('.monaco-button', { hasText: 'Allow' }).click();

    await pick(wb.page, 'Your account has several tenants', 'Contoso');
    const account = treeRow(view, 'platform.engineer@contoso.com');
    await account.waitFor({ timeout: 60_000 });
    assert.match((await account.textContent()) ?? '', /VS Code account/);
    await treeRow(view, 'aks-payments').waitFor({ timeout: 60_000 });
    await wb.shot('signed-in-vscode-account');

    await runCommand(wb.page, 'AKS Workload Identity: Sign out');
    await signIn.waitFor({ timeout: 30_000 });
    await signIn.click();
    // Consent was given and the tenant remembered: no dialog, no picker this time.
    await treeRow(view, 'aks-payments').waitFor({ timeout: 60_000 });
    assert.equal(await dialog.count(), 0);
    assert.match((await treeRow(view, 'platform.engineer@contoso.com').textContent()) ?? '', /VS Code account/);
  });
});
