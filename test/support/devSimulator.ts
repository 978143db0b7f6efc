/**
 * F5's "Run Extension against the simulator" (.vscode/launch.json): the simulated Azure with the demo data, and what
 * a development host needs to reach it, in out/dev-sim/: `env` (the stand-in az on PATH, the run's CA, the vaults'
 * host names), a user-data folder whose settings point VS Code at the simulated cloud, and an empty workspace.
 * Prints "simulator ready" for the task to wait on, and serves until stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Simulator } from '../sim/server';
import { simEnv, simulatedCloudSettings } from './codeServer';
import { DEMO_SIM_OPTIONS } from './demoConfig';
import { REPO } from './paths';

async function main() {
  const dir = path.join(REPO, 'out', 'dev-sim');
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of ['home/.az-sim', 'user-data/User', 'workspace']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const sim = await Simulator.start(DEMO_SIM_OPTIONS);
  const env = simEnv(sim.info, path.join(dir, 'home'));
  const keys = [
    'PATH',
    'NODE_EXTRA_CA_CERTS',
    'NODE_OPTIONS',
    'AKSWI_SIM_TOKEN_SECRET',
    'AKSWI_SIM_AZ_STATE',
    'AKSWI_SIM_INFO',
  ];
  // The simulator's own signing secret: a file only this user reads, removed with out/.
  fs.writeFileSync(path.join(dir, 'env'), keys.map((k) => `${k}=${env[k] ?? ''}`).join('\n') + '\n', { mode: 0o600 });
  fs.writeFileSync(
    path.join(dir, 'user-data', 'User', 'settings.json'),
    JSON.stringify(
      { ...simulatedCloudSettings(sim.info), 'http.proxySupport': 'off', 'http.systemCertificates': false },
      null,
      2,
    ),
  );
  console.log('simulator ready: the simulated Azure with demo data; nothing here touches real Azure.');
  const stop = async () => {
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
