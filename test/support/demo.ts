/**
 * The demo: the simulated Azure with demo data, and code-server with the packaged extension pointed at it.
 * Prints the URL to open and serves until Ctrl-C.
 */
import { Simulator } from '../sim/server';
import { startCodeServer } from './codeServer';
import { DEMO_SIM_OPTIONS } from './demoConfig';
import { REPO } from './paths';
import * as path from 'node:path';

async function main() {
  const portArg = process.argv.indexOf('--port');
  const port = portArg > 0 ? Number(process.argv[portArg + 1]) : Number(process.env.PORT ?? 8080);
  const sim = await Simulator.start(DEMO_SIM_OPTIONS);
  const cs = await startCodeServer({
    sim: sim.info,
    vsix: path.join(REPO, 'dist-vsix', 'aks-workload-identity.vsix'),
    port,
  });
  console.log('');
  console.log('AKS Workload Identity is running in VS Code (code-server) against a SIMULATED Azure with demo data.');
  console.log(`Open: ${cs.url}/?folder=${encodeURIComponent(cs.workspace)}`);
  console.log('Nothing here touches real Azure. Press Ctrl-C to stop.');
  const stop = async () => {
    await cs.stop();
    await sim.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
