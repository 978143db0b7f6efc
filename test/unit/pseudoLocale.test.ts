import * as assert from 'node:assert/strict';
import * as l10n from '@vscode/l10n';
import { after, before, describe, it } from 'node:test';
import { BindRequest } from '../../src/workloadIdentity/bind/model';
import { planBind } from '../../src/workloadIdentity/bind/plan';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import {
  validateIdentityName,
  validateManifestPath,
  validateNamespace,
  validateServiceAccountName,
} from '../../src/workloadIdentity/names';
import { bindingsOf } from '../../src/workloadIdentity/binding';
import { bindingLook, clusterLook, vaultLook } from '../../src/ui/tree/looks';
import { verifyAndTest } from '../../src/workloadIdentity/testBinding/run';
import { observeRemoval, planRemoval } from '../../src/workloadIdentity/remove/plan';
import { reportHtml, reportMarkdown } from '../../src/ui/report/render';
import { SUB_PROD, addCredential, addIdentity, addServiceAccount } from '../sim/seed';
import { dataWords, looksPseudo, pseudoBundle, unlocalizedWords } from '../support/pseudoLocale';
import { probeDepsFor, removeDepsFor, withSim } from './helpers';

/**
 * The text that code without `vscode` makes, in the pseudo-locale, down the paths the browser test does not walk:
 * failed checks and their fixes, AADSTS and Key Vault answers, Bind's plan, Remove's review, the rules of names.
 */
describe("the domain's text in the pseudo-locale (qps-ploc)", () => {
  let env: Awaited<ReturnType<typeof withSim>>;
  before(async () => {
    l10n.config({ contents: pseudoBundle('l10n/bundle.l10n.json') });
    env = await withSim();
  });
  after(async () => {
    l10n.config({ contents: {} });
    await env.sim.stop();
  });

  it("Verify and Test Binding on bindings with mistakes, Bind's plan, Remove's review, the tree's looks and the name rules have no English left", async () => {
    const state = env.sim.state;
    const clusterRec = (name: string) => [...state.clusters.values()].find((c) => c.name === name)!;
    const cluster = clusterFromRaw(clusterRec('aks-payments').resource);
    const vault = (name: string) => vaultFromRaw([...state.vaults.values()].find((v) => v.name === name)!);
    // A binding whose credential names another cluster's issuer and whose ServiceAccount has no label on its pods.
    const id = addIdentity(state, SUB_PROD, 'rg-payments', 'id-mistaken');
    addCredential(
      state,
      id,
      'fic-mistaken',
      clusterRec('aks-petclinic').resource.properties.oidcIssuerProfile.issuerURL ?? 'https://example.test/',
      'system:serviceaccount:payments:mistaken',
      ['api://Other'],
    );
    addServiceAccount(clusterRec('aks-payments'), 'payments', 'mistaken', {
      annotations: { 'azure.workload.identity/client-id': id.resource.properties.clientId },
    });
    const texts: Record<string, string> = {};
    /** What Microsoft Entra ID answered, quoted as evidence: the service's words, not the extension's. */
    const serviceSaid: string[] = [];
    const deps = probeDepsFor(env.services);
    for (const [namespace, serviceAccount] of [
      ['payments', 'mistaken'],
      ['checkout', 'checkout-api'],
      ['payments', 'payments-api'],
      ['payments', 'nobody'],
    ]) {
      const { report } = await verifyAndTest({ cluster, namespace, serviceAccount }, deps, { propagationWaitMs: 0 });
      serviceSaid.push(
        ...report.checks.flatMap((c) =>
          c.evidence.filter((e) => e.label === l10n.t('Microsoft Entra ID said')).map((e) => e.value),
        ),
      );
      texts[`report ${serviceAccount}`] = [
        reportMarkdown(report),
        reportHtml(report, { nonce: 'n', cspSource: 'c' }).replace(
          /<style[\s\S]*?<\/style>|<script[\s\S]*?<\/script>|<[^>]+>/g,
          ' ',
        ),
      ].join('\n');
    }
    const request: BindRequest = {
      cluster: clusterFromRaw(clusterRec('aks-oidc-only').resource),
      namespace: 'new-ns',
      serviceAccount: 'new-sa',
      vault: vault('kv-payments'),
      identity: {
        kind: 'new',
        subscriptionId: SUB_PROD,
        resourceGroup: 'rg-petclinic',
        name: 'id-new',
        location: 'westeurope',
      },
      permissions: ['secrets', 'keys'],
    };
    texts.bindPlan = (await planBind(request, deps))
      .map((r) => `${r.title} ${r.resource} ${r.detail ?? ''}`)
      .join('\n');
    for (const [namespace, serviceAccount] of [
      ['payments', 'payments-api'],
      ['checkout', 'checkout-api'],
    ]) {
      const plan = planRemoval(
        await observeRemoval({ cluster, namespace, serviceAccount }, removeDepsFor(env.services)),
        { deleteIdentity: true, deleteServiceAccount: true },
      );
      texts[`remove ${serviceAccount}`] = [
        ...plan.removals.map((r) => `${r.title} ${r.resource} ${r.detail}`),
        plan.identityKept ?? '',
        plan.serviceAccountKept ?? '',
      ].join('\n');
    }
    const looks = [
      clusterLook(cluster, true),
      vaultLook(vault('kv-petclinic')),
      ...bindingsOf(cluster.issuerUrl, [
        {
          id: id.resource.id,
          name: 'id-x',
          clientId: 'c',
          credentials: [{ name: 'f', issuer: `${cluster.issuerUrl}x`, subject: 'system:serviceaccount:a:b' }],
        },
      ]).map(bindingLook),
    ];
    // Markdown escapes (\-) are not words.
    texts.tree = looks
      .map((l) => `${l.description ?? ''} ${l.tooltip ?? ''}`.replace(/\\(.)/g, '$1').replace(/\*\*/g, ' '))
      .join('\n');
    texts.names = [
      validateNamespace('Bad_Name'),
      validateServiceAccountName(''),
      validateIdentityName('x'),
      validateManifestPath('../out.txt'),
    ].join('\n');

    assert.ok(serviceSaid.length > 0, 'a token exchange was refused, so its answer is in a report');
    const data = dataWords([
      env.sim.snapshot(),
      serviceSaid,
      'id-mistaken fic-mistaken mistaken nobody new-ns new-sa id-new',
    ]);
    for (const [where, text] of Object.entries(texts))
      assert.ok(looksPseudo(text), `${where} is pseudo-localized:\n${text}`);
    const english = Object.fromEntries(
      Object.entries(texts)
        .map(([where, text]) => [where, [...new Set(unlocalizedWords(text, data))]])
        .filter(([, w]) => w.length),
    );
    assert.deepEqual(english, {}, `English left in:\n${JSON.stringify(english, null, 1)}`);
  });
});
