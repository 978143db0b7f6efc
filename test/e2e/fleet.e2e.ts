import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Workbench, assertNoSecretsLeft, openExtensionView, openWorkbench, quickInput, treeRow } from './fixture';

describe('Bind with several clusters selected, in the browser', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('fleet');
  });
  after(async () => {
    await wb?.close();
  });

  it('select three clusters in the tree → Bind Key Vault… → one review → bound on each; the identity holds 3 more credentials', async () => {
    const view = await openExtensionView(wb.page);
    const kb = wb.page.keyboard;
    await treeRow(view, 'aks-payments').waitFor({ timeout: 60_000 });
    await treeRow(view, 'aks-payments').click();
    await treeRow(view, 'aks-entra').click({ modifiers: ['Control'] });
    await treeRow(view, 'aks-private').click({ modifiers: ['Control'] });
    await treeRow(view, 'aks-private').click({ button: 'right' });
    await wb.page.locator('.monaco-menu .action-item', { hasText: 'Bind Key Vault…' }).click({ delay: 50 });
    const answer = async (question: string, text: string, row = text) => {
      const w = await quickInput(wb.page, question);
      await kb.type(text);
      await w.locator('.quick-input-list .monaco-list-row.focused', { hasText: row }).first().waitFor();
      await kb.press('Enter');
    };
    await answer('Namespace of the workload', 'orders', 'Create namespace "orders"');
    await answer('ServiceAccount the pods run as', 'orders-api', 'New ServiceAccount "orders-api"');
    await answer('The Key Vault to read', 'kv-payments');
    await answer('The managed identity the pods use', 'Create a new', 'Create a new user-assigned identity');
    for (const q of ['Name of the new identity', 'Resource group of the new identity', 'Region of the new identity']) {
      await quickInput(wb.page, q);
      await kb.press('Enter');
    }
    await answer('How the pods on the 3 clusters reach the identity', 'Direct federation');
    const permissions = await quickInput(wb.page, 'What the identity may read');
    await permissions.locator('.quick-input-list .monaco-list-row[aria-checked="true"]').first().waitFor();
    await kb.press('Enter');
    const review = await quickInput(wb.page, '11 changes on 3 clusters; nothing has been written yet');
    await review.locator('.monaco-list-row', { hasText: '0 now, 3 after, of 20' }).waitFor();
    // The blocks come in the selection's order, which the tree decides; the first one is in view.
    await review.locator('.monaco-list-row .codicon-server-environment').first().waitFor();
    await wb.shot('fleet-review', 'bind-fleet');
    await kb.press('Enter');
    // The notification names the clusters in the selection's order too.
    const message = wb.page
      .locator('.notification-toast .notification-list-item-message')
      .filter({ hasText: /^Bound kv-payments to orders\/orders-api on 3 clusters: / });
    await message.waitFor({ timeout: 120_000 });
    const said = (await message.textContent()) ?? '';
    const named = /on 3 clusters: ([\w-]+), ([\w-]+), ([\w-]+)/.exec(said)?.slice(1) ?? [];
    assert.deepEqual(named.sort(), ['aks-entra', 'aks-payments', 'aks-private'], said);
    await wb.shot('fleet-result');
    const identity = wb.sim.snapshot().identities.find((i) => i.name === 'id-orders-orders-api')!;
    assert.ok(
      identity,
      wb.sim
        .snapshot()
        .identities.map((i) => i.name)
        .join(', '),
    );
    assert.equal(identity.credentials.length, 3);
    const issuers = new Set(identity.credentials.map((c: any) => c.properties.issuer));
    assert.equal(issuers.size, 3, "one credential per cluster's issuer");
  });

  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
