/**
 * The extension-host suite in desktop VS Code, through @vscode/test-electron's runner API, for machines that
 * can download VS Code. Where the download fails, it says so and points at the code-server run of the same suite.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { Simulator } from '../sim/server';
import { simEnv, simulatedCloudSettings } from './codeServer';
import { REPO } from './paths';

async function main() {
  let vscodeExecutablePath: string;
  try {
    vscodeExecutablePath = await Promise.race([
      downloadAndUnzipVSCode({ version: '1.100.3', extensionDevelopmentPath: REPO }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 60 s')), 60_000)),
    ]);
  } catch (e) {
    console.error(
      [
        'test:desktop: VS Code 1.100.3 could not be downloaded, so the desktop run cannot start here.',
        `  Reason: ${(e as Error).message.split('\n')[0]}`,
        '  @vscode/test-electron fetches VS Code builds from the internet; this machine cannot reach them.',
        '  The same extension-host suite runs in code-server instead: npm run test:host (part of npm test).',
      ].join('\n'),
    );
    process.exit(3);
  }
  const sim = await Simulator.start();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-desktop-'));
  const userDataDir = path.join(home, 'user-data');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...simulatedCloudSettings(sim.info), 'http.systemCertificates': false }),
  );
  const env = simEnv(sim.info, home);
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: REPO,
      extensionTestsPath: path.join(REPO, 'out', 'test', 'host', 'index.js'),
      launchArgs: [
        '--user-data-dir',
        userDataDir,
        '--disable-extensions',
        '--disable-workspace-trust',
        path.join(home),
      ],
      extensionTestsEnv: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >,
    });
  } finally {
    await sim.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
