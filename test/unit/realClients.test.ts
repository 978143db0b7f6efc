// The simulator checked against clients nobody here wrote: Debian's azure-cli 2.45 and kubectl, running the script
// that Export writes. If they disagree with the simulator, the simulator is wrong.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BindRequest } from '../../src/workloadIdentity/bind/model';
import { runBind } from '../../src/workloadIdentity/bind/run';
import { clusterFromRaw } from '../../src/workloadIdentity/cluster';
import { bindingSpec } from '../../src/workloadIdentity/export/model';
import { azScript } from '../../src/workloadIdentity/export/formats';
import { vaultFromRaw } from '../../src/workloadIdentity/inventory';
import { roleAssignmentName } from '../../src/workloadIdentity/names';
import { AZ_STAND_IN_DIR } from '../support/paths';
import { withSim, worldOf, writes } from './helpers';

const run = promisify(execFile);
type Env = Awaited<ReturnType<typeof withSim>>;

/** az signed in to the simulated cloud: registered from a file, the run's CA trusted, `az login --identity` through the simulator's MSI endpoint. */
async function azSession(env: Env) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-az-'));
  const { armUrl, loginUrl, msiUrl, caPath } = env.sim.info;
  const other = (name: string) => `https://${name}.sim.test/`;
  fs.writeFileSync(path.join(dir, 'cloud.json'), JSON.stringify({
    endpoints: {
      management: `${armUrl}/`, resourceManager: `${armUrl}/`, activeDirectory: loginUrl, activeDirectoryResourceId: `${armUrl}/`,
      activeDirectoryGraphResourceId: other('graph'), microsoftGraphResourceId: other('graph'), sqlManagement: other('sql'), gallery: other('gallery'),
      batchResourceId: other('batch'), mediaResourceId: other('media'), logAnalyticsResourceId: other('loganalytics'), appInsightsResourceId: other('appinsights'),
      appInsightsTelemetryChannelResourceId: other('appinsights'), synapseAnalyticsResourceId: other('synapse'), attestationResourceId: other('attest'), portal: other('portal'),
    },
    suffixes: {
      keyvaultDns: '.vault.sim.test', storageEndpoint: 'core.sim.test', sqlServerHostname: '.database.sim.test', acrLoginServerEndpoint: '.azurecr.sim.test',
      mysqlServerEndpoint: '.mysql.sim.test', postgresqlServerEndpoint: '.postgres.sim.test', mariadbServerEndpoint: '.mariadb.sim.test',
      synapseAnalyticsEndpoint: '.dev.azuresynapse.sim.test', attestationEndpoint: '.attest.sim.test',
    },
  }));
  // requests trusts only the bundle it is given: the system's CAs plus the run's.
  fs.writeFileSync(path.join(dir, 'ca-bundle.pem'), fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + fs.readFileSync(caPath, 'utf8'));
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    // Debian's az, never the stand-in the other tests put on PATH.
    PATH: ['/usr/bin', ...(process.env.PATH ?? '').split(':').filter((p) => p && p !== AZ_STAND_IN_DIR)].join(':'),
    AZURE_CONFIG_DIR: path.join(dir, 'config'), REQUESTS_CA_BUNDLE: path.join(dir, 'ca-bundle.pem'), MSI_ENDPOINT: msiUrl,
    AZURE_CORE_COLLECT_TELEMETRY: 'false', AZURE_CORE_NO_COLOR: 'true', AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
  await run('/usr/bin/az', ['cloud', 'register', '-n', 'Sim', '--cloud-config', `@${path.join(dir, 'cloud.json')}`], { env: vars });
  await run('/usr/bin/az', ['cloud', 'set', '-n', 'Sim'], { env: vars });
  await run('/usr/bin/az', ['login', '--identity', '--output', 'none'], { env: vars });
  return { dir, vars };
}

function request(env: Env, vault: string, cluster = 'aks-payments', namespace = 'payments'): BindRequest {
  const c = clusterFromRaw([...env.sim.state.clusters.values()].find((x) => x.name === cluster)!.resource);
  return {
    cluster: c, namespace, serviceAccount: 'orders-api', vault: vaultFromRaw([...env.sim.state.vaults.values()].find((v) => v.name === vault)!),
    identity: { kind: 'new', subscriptionId: c.subscriptionId, resourceGroup: c.resourceGroup, name: 'id-orders', location: c.location }, permissions: ['secrets', 'keys', 'certificates'],
  };
}

describe('the exported script, run by the real az and kubectl against the simulated Azure', () => {
  let env: Env;
  let session: Awaited<ReturnType<typeof azSession>>;
  before(async () => {
    assert.ok(fs.existsSync('/usr/bin/az'), 'Debian\'s azure-cli is installed (scripts/lib.sh installs it)');
    env = await withSim({ config: { credentialWriteMs: 0, principalReplicationMs: 0 } });
    session = await azSession(env);
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
      return await run('bash', [file], { env: session.vars, cwd: session.dir });
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      throw new Error(`the script exited ${x.code}: ${x.stderr?.split('\n').filter((l) => !/^WARNING/.test(l)).slice(-6).join('\n')}`);
    }
  };

  for (const vault of ['kv-petclinic', 'kv-payments']) {
    it(`reaches Bind's end state, and a second run writes nothing (${vault === 'kv-payments' ? 'Azure RBAC' : 'access policies'})`, async () => {
      const r = request(env, vault);
      await runBind(r, { ...env.services.bindDeps(), sleep: (ms) => new Promise((res) => setTimeout(res, Math.min(ms, 20))) }, { signal: new AbortController().signal });
      const bound = worldOf(env.sim.state);

      env.sim.reset();
      const { stdout } = await script(request(env, vault));
      assert.match(stdout, /^Bound .* to payments\/orders-api on aks-payments: client id [0-9a-f-]{36}\.\n$/);
      assert.deepEqual(worldOf(env.sim.state), bound);
      const ops = env.sim.log.map((x) => x.op);
      if (vault === 'kv-petclinic') assert.equal(ops.filter((o) => o === 'vaults.createOrUpdate').length, 3, 'set-policy PUTs the whole vault once per kind');
      else {
        assert.equal(ops.filter((o) => o === 'roleAssignments.create').length, 3);
        const ours = [...env.sim.state.roleAssignments.values()].filter((a) => a.properties.scope.toLowerCase() === r.vault.id.toLowerCase() && a.name !== '5f7e3f3a-93a1-4b43-9c49-5a3f1c5b6d01');
        assert.deepEqual(ours.map((a) => a.name), ours.map((a) => roleAssignmentName(a.properties.scope, a.properties.roleDefinitionId.split('/').pop()!, a.properties.principalId)), 'the names Bind gives them');
      }
      assert.ok(ops.includes('kube.discovery.getOpenApi'), 'kubectl read the OpenAPI document before applying');

      env.sim.log.length = 0;
      await script(request(env, vault));
      assert.deepEqual(writes(env.sim).map((x) => x.op), [], 'a second run writes nothing');
      assert.deepEqual(worldOf(env.sim.state), bound);
    });
  }

  it('a private cluster: kubectl runs inside it through az aks command invoke; Bind\'s end state, and a second run only reads', async () => {
    const bindDeps = { ...env.services.bindDeps(), sleep: (ms: number) => new Promise<void>((res) => setTimeout(res, Math.min(ms, 20))) };
    await runBind(request(env, 'kv-petclinic', 'aks-private', 'ledger'), bindDeps, { signal: new AbortController().signal });
    const bound = worldOf(env.sim.state);
    env.sim.reset();
    await script(request(env, 'kv-petclinic', 'aks-private', 'ledger'));
    assert.deepEqual(worldOf(env.sim.state), bound);
    env.sim.log.length = 0;
    await script(request(env, 'kv-petclinic', 'aks-private', 'ledger'));
    // Run-command is a POST either way; the second run sends one, the annotation read, and changes nothing.
    assert.deepEqual(writes(env.sim).map((x) => x.op), ['managedClusters.runCommand']);
    assert.deepEqual(worldOf(env.sim.state), bound);
  });

  it('on a cluster without workload identity, the check sends it to the update, which az 2.45 cannot do: the script stops there', async () => {
    await assert.rejects(script(request(env, 'kv-petclinic', 'aks-oidc-only')), /unrecognized arguments: --enable-workload-identity/);
    assert.deepEqual(writes(env.sim).map((x) => x.op), [], 'nothing written before the cluster is on');
  });
});
