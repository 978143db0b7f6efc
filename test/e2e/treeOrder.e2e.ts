import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { Workbench, fixtureVsix, openExtensionView, openWorkbench, runCommand, treeRow } from './fixture';

/**
 * Guards the tree that showed Dev/Test's vault as Production's only child. VS Code's workbench (TreeDataSource in
 * treeView.ts) takes each getChildren answer by its index in the batch open when its timer fires; on a walk over
 * children it has cached, a batch resolves between two timers, the next calls open a new batch, and a node gets
 * another's children. A root change that reaches the workbench while its first root request is unanswered starts such
 * a walk: the change clears the root's cache and waits for the walk under way; the answer then fills that cache again,
 * and the second walk runs from it. Here the extension signs in with its view closed, the extension host blocks with a
 * refresh due when the block ends, and the view opens during the block (Node runs due timers before it reads its
 * socket, so the refresh leaves before the view's request is read). With the provider from before its gate, every run
 * of this test showed Production with kv-dev-shared as its only child, on VS Code 1.100 and 1.139. Every subscription
 * must show its own groups. (The provider's gate itself is tested in test/host/treeEvents.test.ts.)
 */
describe('the tree under its right parents', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('tree-order', {}, { vsix: [fixtureVsix('busy-extension-host')] });
  });
  after(async () => {
    await wb?.close();
  });

  /** The rows as the view shows them, each with its depth: what a user sees. */
  const rows = (view: Locator) =>
    view
      .locator('.monaco-list-row')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('aria-level')}:${e.querySelector('.label-name')?.textContent ?? ''}`),
      );

  it("signed in with the view closed and the extension host busy, the view opens with every subscription's own children", async () => {
    // A command activates the extension without opening its view; the sign-in then happens in the background.
    // The busy extension host registers the extension's commands late: ask the palette again until it lists them.
    for (let attempt = 1; ; attempt++) {
      try {
        await runCommand(wb.page, 'AKS Workload Identity: Refresh', 5000);
        break;
      } catch (e) {
        await wb.page.keyboard.press('Escape');
        if (attempt >= 12) {
          await wb.shot('palette');
          throw e;
        }
      }
    }
    await new Promise((r) => setTimeout(r, 3000));
    // The block is 8 s from when the extension host reads the command, which is after `blocked`.
    const blocked = Date.now();
    await runCommand(wb.page, 'Busy Extension Host: Refresh the AKS Tree After a Block');
    const view = await openExtensionView(wb.page);
    const openedAfter = Date.now() - blocked;
    console.log(`view opened ${openedAfter} ms into the block`);
    assert.ok(openedAfter < 7000, `the view opened ${openedAfter} ms after the block began, not during it`);
    await treeRow(view, 'Contoso Production').waitFor({ timeout: 60_000 });
    const expected = [
      '1:Contoso Dev/Test',
      '2:Kubernetes clusters',
      '3:aks-dev',
      '2:Key Vaults',
      '3:kv-dev-shared',
      '2:Managed identities',
      '1:Contoso Production',
      '2:Kubernetes clusters',
      '3:aks-entra',
      '3:aks-oidc-only',
      '3:aks-payments',
      '3:aks-petclinic',
      '3:aks-private',
      '2:Key Vaults',
      '3:kv-payments',
      '3:kv-petclinic',
      '2:Managed identities',
    ];
    let shown: string[] = [];
    // Rows arrive as their answers do: wait until the view has settled on all of them, or shows something else for good.
    for (let i = 0; i < 100; i++) {
      shown = (await rows(view)).filter((r) => !r.endsWith(':platform.engineer@contoso.com') && !/^1:Fabrikam/.test(r));
      if (shown.join('\n') === expected.join('\n')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (shown.join('\n') !== expected.join('\n')) await wb.shot('wrong-parent');
    assert.deepEqual(shown, expected, 'each subscription shows its own groups, and each group its own resources');
  });
});
