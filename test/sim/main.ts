/**
 * Runs the simulated Azure on its own: `node out/test/sim/main.js [--latency 40] [--cluster-update-ms 8000]`.
 * Prints one JSON line with its URLs and secrets, then serves until killed.
 */
import { Simulator } from './server';

async function main() {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i >= 0 ? Number(process.argv[i + 1]) : undefined; };
  const sim = await Simulator.start({
    latencyMs: arg('--latency') ?? 0,
    config: { clusterUpdateMs: arg('--cluster-update-ms') ?? 8000, pollRetryAfterSeconds: 2, runCommandMs: 1500 },
  });
  process.stdout.write(JSON.stringify(sim.info) + '\n');
  const stop = () => sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
