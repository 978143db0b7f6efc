import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Workbench, openExtensionView, openWorkbench, treeRow } from './fixture';

describe('workbench (code-server in Chromium)', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('workbench');
  });
  after(async () => {
    await wb?.close();
  });

  it('opens, activates the extension and shows its view with the simulated clusters and their states', async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'aks-petclinic').waitFor({ timeout: 60_000 });
    const text = async (label: string) =>
      (await treeRow(view, label).locator('.label-description').textContent())?.trim();
    assert.equal(await text('platform.engineer@contoso.com'), 'Azure CLI · Simulated Azure (demo data)');
    assert.equal(await text('aks-petclinic'), 'workload identity off');
    assert.equal(await text('aks-oidc-only'), 'OIDC issuer only');
    assert.equal(await text('aks-payments'), 'workload identity on');
    assert.equal(await text('kv-payments'), 'Azure RBAC');
    assert.equal(await text('kv-petclinic'), 'access policies');
    await wb.shot('tree', 'tree');
  });

  it("a subscription's managed identities open with each one's credential budget and its credentials by cluster and by tool", async () => {
    const view = await openExtensionView(wb.page);
    const identities = view
      .locator('.monaco-list-row', { has: wb.page.locator('.label-name', { hasText: /^Managed identities$/ }) })
      .nth(1);
    await identities.click();
    await treeRow(view, 'id-payments-api').waitFor({ timeout: 60_000 });
    assert.equal(
      (await treeRow(view, 'id-payments-api').locator('.label-description').textContent())?.trim(),
      '2/20 credentials',
    );
    await treeRow(view, 'id-payments-api').click();
    await treeRow(view, 'GitHub Actions').waitFor({ timeout: 30_000 });
    await wb.shot('identities', 'identities');
    // Closed again, so the next test sees the tree as before.
    await identities.click();
    await treeRow(view, 'id-payments-api').waitFor({ state: 'detached', timeout: 30_000 });
  });

  it('right-click a cluster → Enable Workload Identity: confirms, updates the cluster, shows the issuer URL', async () => {
    const view = await openExtensionView(wb.page);
    const row = treeRow(view, 'aks-petclinic');
    await row.click({ button: 'right' });
    const item = wb.page.locator('.monaco-menu .action-item', { hasText: 'Enable Workload Identity…' });
    await item.waitFor();
    await item.click({ delay: 50 });
    const dialog = wb.page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /Enable the OIDC issuer and workload identity on aks-petclinic\?/);
    await wb.shot('enable-confirm', 'enable');
    await dialog.locator('.monaco-button', { hasText: 'Enable' }).click();
    const toast = wb.page.locator('.notification-toast', { hasText: 'Workload identity is on for aks-petclinic' });
    await toast.waitFor({ timeout: 60_000 });
    await treeRow(view, 'aks-petclinic')
      .locator('.label-description', { hasText: /^workload identity on$/ })
      .waitFor({ timeout: 30_000 });
    const cluster = wb.sim.snapshot().clusters.find((c) => c.name === 'aks-petclinic')!;
    const issuer = cluster.properties.oidcIssuerProfile.issuerURL;
    assert.match(issuer, /^https:\/\/eastus\.oic\.prod-aks\.azure\.com\/.+\/$/);
    assert.ok((await toast.textContent())!.includes(issuer), 'the notification shows the issuer URL verbatim');
    assert.equal(cluster.properties.securityProfile.workloadIdentity.enabled, true);
    assert.deepEqual(cluster.violations, [], 'no other property of the cluster changed');
    await wb.shot('enable-done');
  });

  it('right-click a vault → Open in Azure Portal opens the resource in the portal of the cloud', async () => {
    const view = await openExtensionView(wb.page);
    await treeRow(view, 'kv-payments').click({ button: 'right' });
    const item = wb.page.locator('.monaco-menu .action-item', { hasText: 'Open in Azure Portal' });
    await item.waitFor();
    // No internet here: answer for the portal so the new tab keeps its address.
    await wb.page
      .context()
      .route('https://portal.azure.com/**', (r) =>
        r.fulfill({ status: 200, contentType: 'text/html', body: '<title>portal</title>' }),
      );
    const popup = wb.page.context().waitForEvent('page', { timeout: 30_000 });
    await item.click({ delay: 50 });
    // VS Code asks before opening an external site that is not trusted yet.
    const dialog = wb.page.locator('.monaco-dialog-box');
    await Promise.race([
      dialog.waitFor({ timeout: 10_000 }).then(() => dialog.locator('.monaco-button', { hasText: /^Open$/ }).click()),
      popup,
    ]);
    const page = await popup;
    await page.waitForURL(/portal\.azure\.com/, { timeout: 30_000 });
    const vault = wb.sim.snapshot().vaults.find((v) => v.name === 'kv-payments')!;
    assert.equal(
      decodeURIComponent(page.url()),
      `https://portal.azure.com/#@72f988bf-86f1-41af-91ab-2d7cd011db47/resource${vault.id}`,
    );
    await page.close();
  });
});
