import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Workbench,
  assertNoSecretsLeft,
  openExtensionView,
  notified,
  openWorkbench,
  quickInput,
  report,
  runCommand,
  treeRow,
  watchQuickInputFocus,
} from './fixture';
import { SUB_PROD, addCredential, addIdentity } from '../sim/seed';
import { addWorkload } from '../sim/workloads';

/** What identity bindings change in the simulated Azure and clusters: bindings, RBAC, credentials. */
const footprint = (wb: Workbench) => {
  const s = wb.sim.snapshot();
  return {
    clusters: s.clusters
      .filter((c) => ['aks-payments', 'aks-entra'].includes(c.name))
      .map((c) => ({
        name: c.name,
        bindings: (c.identityBindings as any[]).length,
        roles: Object.keys(c.kube.clusterRoles),
        roleBindings: Object.keys(c.kube.clusterRoleBindings),
      })),
    credentials: s.identities.map((i) => `${i.name}: ${i.credentials.map((c: any) => c.name).join(', ')}`),
  };
};

describe('Identity bindings in the browser: Bind to two clusters, Verify, Remove; Migrate', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench('identity-binding');
  });
  after(async () => {
    await wb?.close();
  });

  it('checks two clusters in the palette, picks identity binding, binds; Verify is green; Remove on each returns the clusters to where they were', async () => {
    const page = wb.page;
    const kb = page.keyboard;
    const view = await openExtensionView(page);
    await treeRow(view, 'aks-payments').waitFor({ timeout: 60_000 });
    const before = footprint(wb);

    await runCommand(page, 'AKS Workload Identity: Bind Key Vault…');
    // Several clusters, with the keyboard: the arrows highlight a row, Space checks it, Enter takes the checked.
    const clusters = await quickInput(page, 'The AKS clusters whose pods get access');
    await clusters.locator('.quick-input-list .monaco-list-row', { hasText: 'aks-payments' }).first().waitFor();
    for (const name of ['aks-payments', 'aks-entra']) {
      const row = clusters.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
      for (let i = 0; i < 12 && !(await row.evaluate((e) => e.classList.contains('focused'))); i++)
        await kb.press('ArrowDown');
      await kb.press('Space');
      await clusters
        .locator('.quick-input-list .monaco-list-row[aria-checked="true"]', { hasText: name })
        .first()
        .waitFor({ timeout: 10_000 });
    }
    await kb.press('Enter');
    const answer = async (question: string, text: string, row = text) => {
      const w = await quickInput(page, question);
      await kb.type(text);
      await w.locator('.quick-input-list .monaco-list-row.focused', { hasText: row }).first().waitFor();
      await kb.press('Enter');
    };
    await answer('Namespace of the workload', 'payments');
    await answer('ServiceAccount the pods run as', 'ib-api', 'New ServiceAccount "ib-api"');
    await answer('The Key Vault to read', 'kv-payments');
    await answer('The managed identity the pods use', 'Create a new', 'Create a new user-assigned identity');
    for (const q of ['Name of the new identity', 'Resource group of the new identity', 'Region of the new identity']) {
      await quickInput(page, q);
      await kb.press('Enter');
    }
    await answer('How the pods on the 2 clusters reach the identity', 'Identity binding');
    const permissions = await quickInput(page, 'What the identity may read');
    await permissions.locator('.quick-input-list .monaco-list-row[aria-checked="true"]').first().waitFor();
    await kb.press('Enter');
    const review = await quickInput(page, 'changes on 2 clusters; nothing has been written yet');
    await review.locator('.monaco-list-row', { hasText: 'Mode: identity binding' }).waitFor();
    await review.locator('.monaco-list-row', { hasText: '0 now, 1 after, of 20' }).waitFor();
    await wb.shot('identity-binding-review', 'identity-binding');
    await kb.press('Enter');
    await page
      .locator('.notification-toast', { hasText: 'Bound kv-payments to payments/ib-api on 2 clusters' })
      .waitFor({ timeout: 120_000 });
    const bound = footprint(wb);
    const identity = bound.credentials.find((c) => c.startsWith('id-payments-ib-api:'));
    assert.equal(identity, 'id-payments-ib-api: aks-identity-binding', 'one credential, made by AKS');
    assert.deepEqual(
      bound.clusters.map((c) => [c.name, c.bindings, c.roleBindings.length]),
      [
        ['aks-payments', 1, 1],
        ['aks-entra', 1, 1],
      ],
    );

    // The tree shows the identity binding; Verify on its ServiceAccount passes every identity-binding check.
    await treeRow(view, 'aks-payments').click();
    await treeRow(view, 'id-payments-ib-api').click();
    const sa = treeRow(view, 'payments/ib-api');
    await sa.waitFor({ timeout: 30_000 });
    await sa.click({ button: 'right' });
    await page.locator('.monaco-menu .action-item', { hasText: 'Verify Workload Identity' }).click({ delay: 50 });
    for (const key of ['identityBinding', 'managedCredential', 'useIdentityRbac', 'webhookVersion'])
      await report(page).locator(`section[data-key="${key}"][data-status="pass"]`).waitFor({ timeout: 60_000 });
    assert.equal(await report(page).locator('section[data-key="issuer"]').count(), 0, 'no credential of its own');
    await wb.shot('identity-binding-verify');
    // Closed by its tab. A webview editor given focus back by a closing palette or notification center takes it
    // again 50 ms later, from whatever opened meanwhile; these steps open the palette faster than anyone types.
    await page.locator('.tabs-container .tab.active', { hasText: 'Verify payments/ib-api' }).hover();
    await page.locator('.tabs-container .tab.active .tab-actions .action-label').click();
    await page.locator('iframe.webview').waitFor({ state: 'detached' });

    // Remove on each cluster: the ServiceAccount, the RBAC and the binding go; AKS's credential stays.
    const focus = await watchQuickInputFocus(page);
    for (const cluster of ['aks-payments', 'aks-entra']) {
      await runCommand(page, 'AKS Workload Identity: Remove Binding…');
      await answer('The cluster the workload runs on', cluster);
      await focus.take();
      await answer('Namespace of the workload', 'payments');
      await answer('ServiceAccount the pods run as', 'ib-api');
      // What else may go (the ServiceAccount, the manifest): nothing checked, so they stay.
      await quickInput(page, 'Also remove');
      await kb.press('Enter');
      const removal = await quickInput(page, 'nothing has been removed yet');
      await removal.locator('.monaco-list-row', { hasText: 'Remove: make 4 changes' }).first().waitFor();
      // From the namespace to the review, through the read of the cluster: focus never left the questions.
      assert.deepEqual(await focus.take(), [], 'questions that lost focus to the editor');
      if (cluster === 'aks-payments') await wb.shot('identity-binding-remove');
      await kb.press('Enter');
      await notified(page, `Removed the binding of payments/ib-api on ${cluster}`);
    }
    const after = footprint(wb);
    assert.deepEqual(after.clusters, before.clusters, 'the clusters are back where they were');
  });

  it('Migrate on an identity bound directly to two clusters: the workloads switch in the cluster, then the direct credentials go after a yes', async () => {
    const page = wb.page;
    const kb = page.keyboard;
    // An identity bound directly on both clusters, whose app runs there as payments/mig-api.
    const state = wb.sim.state;
    const identity = addIdentity(state, SUB_PROD, 'rg-payments', 'id-mig');
    for (const name of ['aks-payments', 'aks-entra']) {
      const c = [...state.clusters.values()].find((x) => x.name === name)!;
      addCredential(
        state,
        identity,
        `fic-${name}-payments-mig-api`,
        c.resource.properties.oidcIssuerProfile.issuerURL,
        'system:serviceaccount:payments:mig-api',
      );
      addWorkload(c, 'payments', 'Deployment', 'mig-api', {
        serviceAccount: 'mig-api',
        labels: { 'azure.workload.identity/use': 'true' },
      });
    }
    const view = await openExtensionView(page);
    await runCommand(page, 'AKS Workload Identity: Refresh');
    const identities = view
      .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^Managed identities$/ }) })
      .nth(1);
    await identities.click();
    await treeRow(view, 'id-mig').waitFor({ timeout: 60_000 });
    await treeRow(view, 'id-mig').click({ button: 'right' });
    await page.locator('.monaco-menu .action-item', { hasText: 'Migrate to Identity Bindings…' }).click({ delay: 50 });

    const how = await quickInput(page, 'how should they switch to the identity bindings?');
    await kb.type('In the cluster');
    await how.locator('.quick-input-list .monaco-list-row.focused', { hasText: '2 workloads on 2 clusters' }).waitFor();
    await kb.press('Enter');
    const review = await quickInput(page, 'the direct credentials go only when you say');
    await review.locator('.monaco-list-row', { hasText: 'Switch Deployment mig-api (aks-entra)' }).waitFor();
    await wb.shot('migrate-review');
    await kb.press('Enter');
    const done = page.locator('.notification-toast', {
      hasText: 'and 2 workloads switched to them (the workloads rolled out)',
    });
    await done.waitFor({ timeout: 120_000 });
    const snapshot = wb.sim.snapshot();
    for (const name of ['aks-payments', 'aks-entra']) {
      const c = snapshot.clusters.find((x) => x.name === name)!;
      assert.equal(
        c.kube.deployments['payments/mig-api'].spec.template.metadata.annotations[
          'azure.workload.identity/use-identity-binding'
        ],
        'true',
        name,
      );
    }
    assert.deepEqual(
      snapshot.identities
        .find((i) => i.name === 'id-mig')!
        .credentials.map((c: any) => c.name)
        .sort(),
      ['aks-identity-binding', 'fic-aks-entra-payments-mig-api', 'fic-aks-payments-payments-mig-api'],
      'both work until the yes',
    );
    await done.locator('.monaco-button', { hasText: 'Retire the direct credentials' }).click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match((await dialog.textContent()) ?? '', /Delete 2 direct federated credentials of id-mig\?/);
    await dialog.locator('.monaco-button', { hasText: 'Delete' }).click();
    await notified(page, 'Retired 2 direct credentials of id-mig.');
    assert.deepEqual(
      wb.sim
        .snapshot()
        .identities.find((i) => i.name === 'id-mig')!
        .credentials.map((c: any) => c.name),
      ['aks-identity-binding'],
    );
  });

  it('leaves no token, kubeconfig or secret in the log, the storage, the workspace or the output of code-server', () =>
    assertNoSecretsLeft(wb));
});
