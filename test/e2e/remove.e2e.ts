import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Workbench, assertNoSecretsLeft, openExtensionView, openWorkbench, quickInput, treeRow } from './fixture';

describe('Remove Binding in the browser', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('remove');
  });
  after(async () => {
    await wb?.close();
  });

  it("right-click a binding → Remove Binding…: the review marks what is not ours, and only the binding's credential goes", async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'aks-payments').click();
    const row = treeRow(view, 'payments/payments-api');
    await row.waitFor({ timeout: 60_000 });
    await row.click({ button: 'right' });
    await wb.page.locator('.monaco-menu .action-item', { hasText: 'Remove Binding…' }).click({ delay: 50 });

    const review = await quickInput(wb.page, 'nothing has been removed yet');
    await review.locator('.monaco-list-row', { hasText: 'User-assigned managed identity' }).waitFor();
    const text = await review.textContent();
    assert.match(text!, /Remove: make 1 change/);
    assert.match(text!, /1 pod still runs as payments\/payments-api/);
    assert.match(text!, /Not ours: Key Vault role assignment/);
    assert.match(text!, /Not ours: ServiceAccount annotations/);
    await wb.shot('review', 'remove-review');
    await wb.page.keyboard.press('Enter');

    await wb.page
      .locator('.notification-toast', {
        hasText: 'Removed the binding of payments/payments-api on aks-payments: 1 removed',
      })
      .waitFor({ timeout: 60_000 });
    await treeRow(view, 'payments/payments-api').waitFor({ state: 'detached', timeout: 30_000 });
    await wb.shot('result');

    const state = wb.sim.snapshot();
    // The binding's credential went; the identity's GitHub Actions credential (no subject) is another tool's and stays.
    assert.deepEqual(
      state.identities.find((i) => i.name === 'id-payments-api')!.credentials.map((c: any) => c.name),
      ['github-payments-deploy'],
    );
    assert.equal(state.roleAssignments.length, 1, 'the hand-granted role assignment stays');
    const sa = (state.clusters.find((c) => c.name === 'aks-payments')!.kube.serviceAccounts as any)[
      'payments/payments-api'
    ];
    assert.ok(sa.metadata.annotations['azure.workload.identity/client-id'], "Helm's annotation stays");
    assert.deepEqual(state.violations, []);
  });

  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
