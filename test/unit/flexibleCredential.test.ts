// A federated credential without a subject (claimsMatchingExpression, api-version 2025-01-31-preview) on the identity
// of a binding: every flow that reads the identity's credentials reads it, and none takes it for the binding's.
import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BindRequest } from '../../src/workloadIdentity/bind/model';
import { planBind } from '../../src/workloadIdentity/bind/plan';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { bindingsOf } from '../../src/workloadIdentity/binding';
import { verifyAndTest } from '../../src/workloadIdentity/testBinding/run';
import { observeRemoval, planRemoval } from '../../src/workloadIdentity/remove/plan';
import { runRemove } from '../../src/workloadIdentity/remove/run';
import { addCredential } from '../sim/seed';
import { probeDepsFor, removeDepsFor, withSim } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;
const GITHUB = 'github-payments-deploy';
const EXPRESSION = "claims['sub'] matches 'repo:contoso/payments:environment:*'";

const clusterRec = (env: Env, name: string) => [...env.sim.state.clusters.values()].find((c) => c.name === name)!;
const identityRec = (env: Env, name: string) =>
  [...env.sim.state.identities.values()].find((r) => r.resource.name === name)!;
const payments = (env: Env) => clusterFromRaw(clusterRec(env, 'aks-payments').resource);
const existingIdentity = (env: Env) => {
  const r = identityRec(env, 'id-payments-api').resource;
  return {
    id: r.id,
    subscriptionId: r.id.split('/')[2],
    resourceGroup: 'rg-payments',
    name: r.name,
    location: r.location,
    clientId: r.properties.clientId,
    principalId: r.properties.principalId,
    tenantId: r.properties.tenantId,
  };
};

describe('a credential without a subject (matches by expression)', () => {
  let env: Env;
  before(async () => {
    env = await withSim({ config: { credentialWriteMs: 0, principalReplicationMs: 0 } });
  });
  after(async () => {
    await env.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  it("is read with its expression, the SDK's models notwithstanding, and never shows as a binding in the tree", async () => {
    const creds = await env.services.identities.listCredentials(existingIdentity(env));
    const github = creds.find((c) => c.name === GITHUB)!;
    assert.deepEqual(github, {
      name: GITHUB,
      issuer: 'https://token.actions.githubusercontent.com',
      expression: EXPRESSION,
      audiences: ['api://AzureADTokenExchange'],
    });
    const listed = await env.services.identities.listWithCredentials(payments(env).subscriptionId);
    const bindings = bindingsOf(payments(env).issuerUrl, listed);
    assert.deepEqual(
      bindings.filter((b) => b.identityName === 'id-payments-api').map((b) => b.credentialName),
      ['fic-aks-payments-payments-api'],
    );
  });

  it("counts in Bind's budget but is never Bind's match: at 20 with it, Bind is blocked before any write and names it", async () => {
    const request = (sa: string): BindRequest => ({
      cluster: payments(env),
      namespace: 'payments',
      serviceAccount: sa,
      vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!),
      identity: { kind: 'existing', identity: existingIdentity(env) },
      permissions: ['secrets'],
    });
    const id = identityRec(env, 'id-payments-api');
    const issuer = clusterRec(env, 'aks-payments').resource.properties.oidcIssuerProfile.issuerURL;
    for (let i = 0; id.credentials.size < 20; i++)
      addCredential(env.sim.state, id, `team-${i}`, issuer, `system:serviceaccount:team${i}:app`);
    const steps = await planBind(request('orders-api'), removeDepsFor(env.services));
    const credential = steps.find((s) => s.id === 'credential')!;
    assert.equal(credential.planned, 'blocked');
    assert.match(credential.detail!, /already has 20 federated credentials, the maximum: .*github-payments-deploy/);
    // Its own binding is still found as in place, beside it.
    const again = await planBind(request('payments-api'), removeDepsFor(env.services));
    assert.equal(again.find((s) => s.id === 'credential')!.planned, 'unchanged');
    await runBind(request('payments-api'), removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.equal(
      id.credentials.get(GITHUB)!.properties.claimsMatchingExpression.value,
      EXPRESSION,
      'Bind did not touch it',
    );
  });

  it("Remove lists it as another tool's and keeps it, and with it the identity and the grant GitHub Actions may need", async () => {
    const t = { cluster: payments(env), namespace: 'payments', serviceAccount: 'payments-api' };
    const plan = planRemoval(await observeRemoval(t, removeDepsFor(env.services)), {
      deleteIdentity: true,
      deleteServiceAccount: false,
    });
    const github = plan.removals.find((r) => r.key === `credential:${GITHUB}`)!;
    assert.equal(github.decision, 'notOurs');
    assert.equal(
      github.detail,
      `another tool: matches by expression: ${EXPRESSION} from https://token.actions.githubusercontent.com`,
    );
    assert.equal(
      plan.removals.find((r) => r.kind === 'credential' && r.decision === 'remove')!.resource,
      'fic-aks-payments-payments-api on id-payments-api',
    );
    assert.notEqual(plan.removals.find((r) => r.kind === 'identity')?.decision, 'remove', 'the identity is still used');
    await runRemove(plan, removeDepsFor(env.services), { signal: new AbortController().signal });
    assert.ok(identityRec(env, 'id-payments-api').credentials.has(GITHUB));
    assert.deepEqual(env.sim.state.violations, []);
  });

  it('Test Binding passes, and compares it by its expression rather than a subject', async () => {
    const { report } = await verifyAndTest(
      { cluster: payments(env), namespace: 'payments', serviceAccount: 'payments-api' },
      probeDepsFor(env.services),
      { propagationWaitMs: 0 },
    );
    const exchange = report.checks.find((c) => c.id === 'exchange')!;
    assert.equal(exchange.status, 'pass', exchange.message);
    assert.match(
      exchange.evidence.find((e) => e.label === `Credential ${GITHUB}`)!.value,
      new RegExp(`\\nsubject ✗ matches by expression: ${EXPRESSION.replace(/[[\]*.']/g, '\\$&')}\\n`),
    );
  });
});
