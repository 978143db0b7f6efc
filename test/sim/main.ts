/**
 * Runs the simulated Azure on its own: `node out/test/sim/main.js [--latency 40] [--cluster-update-ms 8000]
 * [--scale N] [--fleet N]`.
 * Prints one JSON line with its URLs and secrets, then serves until killed.
 */
import { Simulator } from './server';
import { seedFleet, seedScale, seedStandard } from './seed';

async function main() {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const scale = arg('--scale');
  const fleet = arg('--fleet');
  const sim = await Simulator.start({
    seed: scale
      ? (s) => seedScale(s, scale, 20, 20)
      : (s) => {
          seedStandard(s);
          if (fleet) seedFleet(s, fleet);
        },
    latencyMs: arg('--latency') ?? 0,
    config: {
      graphQuota: arg('--graph-quota') ?? 15,
      clusterUpdateMs: arg('--cluster-update-ms') ?? 8000,
      pollRetryAfterSeconds: arg('--retry-after') ?? 2,
      runCommandMs: 1500,
      credentialWriteMs: arg('--credential-write-ms') ?? 50,
    },
  });
  process.stdout.write(JSON.stringify(sim.info) + '\n');
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
