// Runs one tier of tests: unit | host | e2e | bench. Builds first, and makes the run's CA before any
// process that must trust it starts (NODE_EXTRA_CA_CERTS is read at Node start-up).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const tier = process.argv[2];
const rest = process.argv.slice(3);
if (!['unit', 'host', 'e2e', 'logs', 'bench', 'desktop'].includes(tier)) {
  console.error('usage: node scripts/run-tests.mjs unit|host|e2e|logs|bench|desktop [args]');
  process.exit(2);
}
process.chdir(root);

if (!process.env.AKSWI_SKIP_BUILD) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-ca-'));
execFileSync(process.execPath, ['-e', `require('./out/test/sim/tls').createSimTls(${JSON.stringify(tlsDir)})`]);
const env = { ...process.env, AKSWI_SIM_TLS_DIR: tlsDir, NODE_EXTRA_CA_CERTS: path.join(tlsDir, 'ca.pem') };

const node = (args) => spawnSync(process.execPath, args, { stdio: 'inherit', env }).status ?? 1;
// The counts go to out/counts-<tier>.json for the closing line of scripts/test.sh.
const counted = (files) => [
  '--test',
  '--test-concurrency=1',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/count-reporter.mjs',
  `--test-reporter-destination=out/counts-${process.env.AKSWI_COUNTS ?? tier}.json`,
  ...files,
];
let status;
switch (tier) {
  case 'unit': {
    const files = fs
      .readdirSync('out/test/unit')
      .filter((f) => f.endsWith('.test.js'))
      .map((f) => path.join('out/test/unit', f));
    status = node(['--require', './out/test/sim/resolve.js', ...rest, ...counted(files)]);
    break;
  }
  case 'logs':
    status = node(
      counted(
        fs
          .readdirSync('out/test/logs')
          .filter((f) => f.endsWith('.test.js'))
          .map((f) => path.join('out/test/logs', f)),
      ),
    );
    break;
  case 'host':
    status = node(['out/test/support/runHost.js', ...rest]);
    break;
  case 'e2e': {
    if (!rest.includes('--no-package')) {
      execFileSync('npm', ['run', '--silent', 'package'], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const files = fs
      .readdirSync('out/test/e2e')
      .filter((f) => f.endsWith('.e2e.js'))
      .map((f) => path.join('out/test/e2e', f));
    status = node(counted(files));
    break;
  }
  case 'desktop':
    status = node(['out/test/support/runDesktop.js', ...rest]);
    break;
  case 'bench':
    status = node(['--expose-gc', '--require', './out/test/sim/resolve.js', 'out/test/bench/run.js', ...rest]);
    break;
}
fs.rmSync(tlsDir, { recursive: true, force: true });
process.exit(status);
