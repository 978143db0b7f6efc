// The simulator checked against clients nobody here wrote: Debian's azure-cli 2.45 and kubectl, running the script
// that Export writes. If they disagree with the simulator, the simulator is wrong.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { BindRequest } from '../../src/workloadIdentity/bind/model';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { runFleet, type FleetRequest } from '../../src/workloadIdentity/bind/fleet';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { enableWorkloadIdentity } from '../../src/workloadIdentity/enable/run';
import { bindingSpec } from '../../src/workloadIdentity/export/model';
import { azScript } from '../../src/workloadIdentity/export/formats';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { roleAssignmentName } from '../../src/workloadIdentity/names';
import { useIdentityBinding, useIdentityRole } from '../../src/workloadIdentity/identityBindingAccess';
import { AzSession, azSession, runLab } from '../support/realAz';
import { withSim, worldOf, writes } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

function request(env: Env, vault: string, cluster = 'aks-payments', namespace = 'payments'): BindRequest {
  const c = clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === cluster)!.resource);
  return {
    cluster: c,
    namespace,
    serviceAccount: 'orders-api',
    vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === vault)!),
    identity: {
      kind: 'new',
      subscriptionId: c.subscriptionId,
      resourceGroup: c.resourceGroup,
      name: 'id-orders',
      location: c.location,
    },
    permissions: ['secrets', 'keys', 'certificates'],
  };
}

describe('the exported script, run by the real az and kubectl against the simulated Azure', () => {
  let env: Env;
  let session: AzSession;
  before(async () => {
    assert.ok(fs.existsSync('/usr/bin/az'), "Debian's azure-cli is installed (scripts/lib.sh installs it)");
    env = await withSim({ config: { credentialWriteMs: 0, principalReplicationMs: 0 } });
    session = await azSession(env.sim.info);
  });
  after(async () => {
    fs.rmSync(session?.dir ?? '/nonexistent', { recursive: true, force: true });
    await env?.sim.stop();
  });
  beforeEach(() => env.sim.reset());

  const script = async (r: BindRequest) => {
    const file = path.join(session.dir, 'bind.sh');
    fs.writeFileSync(file, azScript(bindingSpec(r)).content);
    try {
      return await session.bash(file);
    } catch (e) {
      // The process error holds the script's whole output: only its message goes on.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`the script ${(e as Error).message}`);
    }
  };

  for (const vault of ['kv-petclinic', 'kv-payments']) {
    it(`reaches Bind's end state, and a second run writes nothing (${vault === 'kv-payments' ? 'Azure RBAC' : 'access policies'})`, async () => {
      const r = request(env, vault);
      await runBind(
        r,
        { ...env.services.bindDeps(), sleep: (ms) => new Promise((res) => setTimeout(res, Math.min(ms, 20))) },
        { signal: new AbortController().signal },
      );
      const bound = worldOf(env.sim.state);

      env.sim.reset();
      const { stdout } = await script(request(env, vault));
      assert.match(stdout, /^Bound .* to payments\/orders-api on aks-payments: client id [0-9a-f-]{36}\.\n$/);
      assert.deepEqual(worldOf(env.sim.state), bound);
      const ops = env.sim.log.map((x) => x.op);
      if (vault === 'kv-petclinic')
        assert.equal(
          ops.filter((o) => o === 'vaults.createOrUpdate').length,
          3,
          'set-policy PUTs the whole vault once per kind',
        );
      else {
        assert.equal(ops.filter((o) => o === 'roleAssignments.create').length, 3);
        const ours = [...env.sim.state.roleAssignments.values()].filter(
          (a) =>
            a.properties.scope.toLowerCase() === r.vault.id.toLowerCase() &&
            a.name !== '5f7e3f3a-93a1-4b43-9c49-5a3f1c5b6d01',
        );
        assert.deepEqual(
          ours.map((a) => a.name),
          ours.map((a) =>
            roleAssignmentName(
              a.properties.scope,
              a.properties.roleDefinitionId.split('/').pop()!,
              a.properties.principalId,
            ),
          ),
          'the names Bind gives them',
        );
      }
      assert.ok(ops.includes('kube.discovery.getOpenApi'), 'kubectl read the OpenAPI document before applying');

      env.sim.log.length = 0;
      await script(request(env, vault));
      assert.deepEqual(
        writes(env.sim).map((x) => x.op),
        [],
        'a second run writes nothing',
      );
      assert.deepEqual(worldOf(env.sim.state), bound);
    });
  }

  it("a private cluster: kubectl runs inside it through az aks command invoke; Bind's end state, and a second run only reads", async () => {
    const bindDeps = {
      ...env.services.bindDeps(),
      sleep: (ms: number) => new Promise<void>((res) => setTimeout(res, Math.min(ms, 20))),
    };
    await runBind(request(env, 'kv-petclinic', 'aks-private', 'ledger'), bindDeps, {
      signal: new AbortController().signal,
    });
    const bound = worldOf(env.sim.state);
    env.sim.reset();
    await script(request(env, 'kv-petclinic', 'aks-private', 'ledger'));
    assert.deepEqual(worldOf(env.sim.state), bound);
    env.sim.log.length = 0;
    await script(request(env, 'kv-petclinic', 'aks-private', 'ledger'));
    // Run-command is a POST either way; the second run sends one, the annotation read, and changes nothing.
    assert.deepEqual(
      writes(env.sim).map((x) => x.op),
      ['managedClusters.runCommand'],
    );
    assert.deepEqual(worldOf(env.sim.state), bound);
  });

  it('several clusters, one public and one private: one script loops over them, reaches what runFleet reaches, and a second run only reads', async () => {
    const one = request(env, 'kv-payments');
    const { cluster: _c, ...answers } = one;
    const fleet: FleetRequest = {
      ...answers,
      clusters: ['aks-payments', 'aks-private'].map((name) =>
        clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === name)!.resource),
      ),
    };
    const outcomes = await runFleet(
      fleet,
      { ...env.services.bindDeps(), sleep: (ms) => new Promise((res) => setTimeout(res, Math.min(ms, 20))) },
      { signal: new AbortController().signal },
    );
    assert.deepEqual(
      outcomes.map((o) => ['result' in o, o.cluster.name]),
      [
        [true, 'aks-payments'],
        [true, 'aks-private'],
      ],
    );
    const bound = worldOf(env.sim.state);

    env.sim.reset();
    const file = path.join(session.dir, 'bind-fleet.sh');
    fs.writeFileSync(file, azScript(bindingSpec(fleet)).content);
    const { stdout } = await session.bash(file).catch((e: Error) => {
      throw new Error(`the script ${e.message}`);
    });
    assert.deepEqual(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/client id [0-9a-f-]{36}/, 'client id …')),
      [
        'Bound kv-payments to payments/orders-api on aks-payments: client id ….',
        'Bound kv-payments to payments/orders-api on aks-private: client id ….',
      ],
    );
    assert.deepEqual(worldOf(env.sim.state), bound);
    const id = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
    assert.equal(id.credentials.size, 2, 'one credential per cluster');

    env.sim.log.length = 0;
    await session.bash(file);
    assert.deepEqual(
      writes(env.sim).map((x) => x.op),
      ['managedClusters.runCommand'],
      'a second run only reads (run-command is a POST)',
    );
    assert.deepEqual(worldOf(env.sim.state), bound);
  });

  it('identity bindings, exported: the script on a public and a private cluster reaches what Bind reaches, and a second run only reads', async () => {
    const { cluster: _c, ...answers } = request(env, 'kv-payments');
    const fleet: FleetRequest = {
      ...answers,
      mode: 'identityBinding',
      clusters: ['aks-payments', 'aks-private'].map((name) =>
        clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === name)!.resource),
      ),
    };
    const deps = {
      ...env.services.bindDeps(),
      sleep: (ms: number) => new Promise<void>((res) => setTimeout(res, Math.min(ms, 20))),
    };
    const outcomes = await runFleet(fleet, deps, { signal: new AbortController().signal });
    assert.ok(
      outcomes.every((o) => 'result' in o),
      JSON.stringify(outcomes.map((o) => ('error' in o ? String(o.error) : 'ok'))),
    );
    const rbacOf = () =>
      [...env.sim.state.clusters.values()]
        .filter((c) => ['aks-payments', 'aks-private'].includes(c.name))
        .map((c) => [
          c.name,
          c.identityBindings?.size ?? 0,
          [...c.kube.clusterRoleBindings.values()].map((b) => b.subjects),
        ]);
    const bound = { world: worldOf(env.sim.state), rbac: rbacOf() };

    env.sim.reset();
    const file = path.join(session.dir, 'bind-ib.sh');
    fs.writeFileSync(file, azScript(bindingSpec(fleet)).content);
    const { stdout } = await session.bash(file, { POLL_SECONDS: '0' }).catch((e: Error) => {
      throw new Error(`the script ${e.message}`);
    });
    assert.equal(stdout.trim().split('\n').length, 2, stdout);
    assert.deepEqual({ world: worldOf(env.sim.state), rbac: rbacOf() }, bound);
    const id = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!;
    assert.deepEqual([...id.credentials.keys()], ['aks-identity-binding'], 'one credential, made by AKS');

    env.sim.log.length = 0;
    await session.bash(file, { POLL_SECONDS: '0' });
    assert.deepEqual(
      writes(env.sim).map((x) => x.op),
      ['managedClusters.runCommand', 'managedClusters.runCommand'],
      'a second run only reads: the annotation and the subjects of the private cluster (run-command is a POST)',
    );
  });

  it("identity bindings' RBAC objects, applied by the real kubectl: server-side apply owns the subjects whole, another manager conflicts until it forces, and a delete removes them", async () => {
    const CLIENT = '6f1c2b0e-0c5e-4c1e-9a53-8a3f2b1e9d10';
    const ours = useIdentityBinding(CLIENT, undefined, { namespace: 'payments', name: 'orders-api' });
    const theirs = useIdentityBinding(CLIENT, [{ kind: 'Group', name: 'platform-team' }], {
      namespace: 'payments',
      name: 'orders-api',
    });
    fs.writeFileSync(
      path.join(session.dir, 'rbac.yaml'),
      [useIdentityRole(CLIENT), ours].map((o) => stringify(o)).join('---\n'),
    );
    fs.writeFileSync(path.join(session.dir, 'theirs.yaml'), stringify(theirs));
    const file = path.join(session.dir, 'rbac.sh');
    fs.writeFileSync(
      file,
      `set -euo pipefail
cd "${session.dir}"
export KUBECONFIG="$(mktemp)"; trap 'rm -f "$KUBECONFIG"' EXIT
az aks get-credentials -g rg-payments -n aks-payments --file "$KUBECONFIG" 2>/dev/null
kubectl apply --server-side --field-manager=aks-workload-identity -f rbac.yaml
echo "subjects: $(kubectl get clusterrolebinding use-mi-${CLIENT} -o jsonpath='{.subjects[*].name}')"
echo "verbs: $(kubectl get clusterrole use-mi-${CLIENT} -o jsonpath='{.rules[0].verbs[0]} {.rules[0].apiGroups[0]} {.rules[0].resources[0]}')"
if kubectl apply --server-side --field-manager=platform-team -f theirs.yaml 2>conflict.txt; then echo "no conflict"; else echo "conflict: $(grep -o 'conflict with "[^"]*"' conflict.txt | head -1)"; fi
kubectl apply --server-side --field-manager=platform-team --force-conflicts -f theirs.yaml
echo "after force: $(kubectl get clusterrolebinding use-mi-${CLIENT} -o jsonpath='{.subjects[*].name}')"
kubectl delete clusterrolebinding use-mi-${CLIENT}
kubectl delete clusterrole use-mi-${CLIENT}
echo "left: $(kubectl get clusterrolebindings -o name | grep -c use-mi- || true)"
`,
    );
    const { stdout } = await session.bash(file);
    const lines = stdout.split('\n').filter((l) => /^(subjects|verbs|conflict|no conflict|after force|left):?/.test(l));
    assert.deepEqual(lines, [
      'subjects: orders-api',
      `verbs: use-managed-identity cid.wi.aks.azure.com ${CLIENT}`,
      'conflict: conflict with "aks-workload-identity"',
      'after force: platform-team orders-api',
      'left: 0',
    ]);
    const cluster = [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;
    assert.equal(cluster.kube.clusterRoles.size, 0);
    assert.ok(
      env.sim.log.some((x) => x.op === 'kube.clusterrolebindings.apply'),
      'kubectl applied through the simulated API server',
    );
  });

  it("the lab's own commands (step 2 on, --object-id for --spn): the calls measured, three whole-vault PUTs, nothing of others lost", async () => {
    // az 2.45 cannot do step 1; the product enables the cluster first.
    const cluster = clusterFromRaw(
      [...env.sim.state.clusters.values()].find((x) => x.name === 'aks-petclinic')!.resource,
    );
    await enableWorkloadIdentity(env.services.clusters, cluster, { settleIntervalMs: 50 });
    env.sim.log.length = 0;
    await runLab(session, {
      resourceGroup: 'rg-petclinic',
      cluster: 'aks-petclinic',
      vault: 'kv-petclinic',
      namespace: 'spring-petclinic',
      location: 'eastus',
      identity: 'uid-petclinic-lab',
      credential: 'fedid-petclinic-lab',
    });
    const ops = env.sim.log.filter((x) => x.server === 'arm' || x.server === 'kube').map((x) => x.op);
    assert.equal(
      ops.filter((o) => o === 'vaults.createOrUpdate').length,
      3,
      'set-policy rewrites the whole vault once per kind',
    );
    assert.ok(ops.includes('kube.serviceaccounts.create'), 'client-side apply creates the ServiceAccount');
    const id = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'uid-petclinic-lab')!;
    const vault = [...env.sim.state.vaults.values()].find((v) => v.name === 'kv-petclinic')!;
    assert.deepEqual(
      vault.properties.accessPolicies.find((p: any) => p.objectId === id.resource.properties.principalId).permissions
        .secrets,
      ['get'],
    );
    assert.equal(vault.properties.accessPolicies.length, 2, "the owner's policy is still there");
    const sa = [...env.sim.state.clusters.values()]
      .find((c) => c.name === 'aks-petclinic')!
      .kube.serviceAccounts.get('spring-petclinic/workload-identity-sa')!;
    assert.equal(sa.metadata.annotations!['azure.workload.identity/client-id'], id.resource.properties.clientId);
    assert.deepEqual(
      [...id.credentials.values()].map((c) => c.properties.subject),
      ['system:serviceaccount:spring-petclinic:workload-identity-sa'],
    );
    assert.deepEqual(worldOf(env.sim.state).violations, []);
    // The count the bench reports as the lab's, measured rather than modelled.
    console.log(
      `lab measured: ${ops.length} calls (${ops.filter((o) => !o.startsWith('kube.')).length} ARM, ${ops.filter((o) => o.startsWith('kube.')).length} Kubernetes), ${ops.filter((o) => o === 'vaults.createOrUpdate').length} whole-vault PUTs`,
    );
  });

  it("the lab's step 1 with az 2.45: its GET-then-PUT at api-version 2022-11-01 would drop newer cluster settings; the simulator refuses and names them", async () => {
    const file = path.join(session.dir, 'step1.sh');
    fs.writeFileSync(file, 'az aks update -g rg-petclinic -n aks-petclinic --enable-oidc-issuer -o none\n');
    await assert.rejects(session.bash(file), /SimulatorUnexpectedPropertyChange/);
    const violations = [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-petclinic')!.violations;
    for (const lost of [
      'properties.supportPlan',
      'properties.autoUpgradeProfile.nodeOSUpgradeChannel',
      'properties.networkProfile.networkDataplane',
    ]) {
      assert.ok(
        violations.some((v) => v.startsWith(`${lost}:`)),
        `${lost} would have been lost: ${violations.join('; ')}`,
      );
    }
    assert.equal(
      env.sim.state.clusters.get(
        clusterFromRaw(
          [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-petclinic')!.resource,
        ).id.toLowerCase(),
      )!.resource.properties.oidcIssuerProfile?.enabled ?? false,
      false,
      'nothing changed',
    );
  });

  it('on a cluster without workload identity, az 2.45 cannot enable it: the script says which version it needs before it writes anything', async () => {
    await assert.rejects(script(request(env, 'kv-petclinic', 'aks-oidc-only')), (e: Error) => {
      assert.match(
        e.message,
        /Enabling workload identity on aks-oidc-only needs Azure CLI 2\.47\.0 or later \(az aks update --enable-workload-identity\); this is 2\.45\.0\. .*Nothing was changed\./,
      );
      assert.doesNotMatch(e.message, /unrecognized arguments/);
      return true;
    });
    assert.deepEqual(
      writes(env.sim).map((x) => x.op),
      [],
      'nothing written before the cluster is on',
    );
  });
});
