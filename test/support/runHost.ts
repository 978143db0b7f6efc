/**
 * Runs the extension-host suite inside code-server: code-server rejects --extensionDevelopmentPath, so the
 * workbench gets it through the `payload` query, and reports the result through window.codeAutomationExit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { Simulator } from '../sim/server';
import { launchBrowser } from './browser';
import { startCodeServer } from './codeServer';
import { REPO, RESULTS_DIR } from './paths';
import { redact } from '../../src/log';
import { scanForSecrets } from './secretScan';

type Workspace = 'folder' | 'multiroot' | 'untrusted';
/** The tier's name in result files: host, or host-newest when scripts/test.sh runs it on the newest code-server. */
const TIER = process.env.AKSWI_COUNTS ?? 'host';

/**
 * Three workspaces, each in its own code-server: one folder (most tests), two folders (*.multiroot.test.ts) and one
 * folder in Restricted Mode (*.untrusted.test.ts). test/host/index.ts picks each one's files.
 */
async function main() {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  let ok = true;
  const log: string[] = [];
  for (const workspace of ['folder', 'multiroot', 'untrusted'] as Workspace[]) {
    const r = await runIn(workspace);
    log.push(`== ${workspace}`, ...r.lines);
    totals.passed += r.counts.passed;
    totals.failed += r.counts.failed;
    totals.skipped += r.counts.skipped;
    ok &&= r.ok;
  }
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, `${TIER}.log`), log.join('\n'));
  fs.writeFileSync(path.join(REPO, 'out', `counts-${TIER}.json`), JSON.stringify(totals));
  console.log(
    `Extension host, all workspaces: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
  );
  process.exitCode = ok ? 0 : 1;
}

async function runIn(
  workspace: Workspace,
): Promise<{ ok: boolean; counts: { passed: number; failed: number; skipped: number }; lines: string[] }> {
  const sim = await Simulator.start();
  const cs = await startCodeServer({
    sim: sim.info,
    restricted: workspace === 'untrusted',
    extensionDevelopment: true,
  });
  const b = await launchBrowser();
  let closing = '';
  const lines: string[] = [];
  let open = `folder=${encodeURIComponent(cs.workspace)}`;
  if (workspace === 'multiroot') {
    const file = path.join(cs.home, 'two.code-workspace');
    for (const f of ['api', 'ops']) fs.mkdirSync(path.join(cs.home, f), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ folders: [{ path: 'api' }, { path: 'ops' }] }));
    open = `workspace=${encodeURIComponent(file)}`;
  }
  if (workspace === 'untrusted') {
    // What a cloned repository could carry: Restricted Mode must not apply it.
    fs.mkdirSync(path.join(cs.workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(cs.workspace, '.vscode', 'settings.json'),
      JSON.stringify({ 'aksWorkloadIdentity.manifestPath': '../outside/${serviceAccount}.yaml' }),
    );
  }
  console.log(
    `== extension host tests in ${workspace === 'folder' ? 'one folder' : workspace === 'multiroot' ? 'a workspace of two folders' : 'a folder in Restricted Mode'}`,
  );
  try {
    const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(REPO)],
      ['extensionTestsPath', remote(path.join(REPO, 'out', 'test', 'host', 'index.js'))],
      ['skipWelcome', 'true'],
    ];
    const exit = new Promise<number>((resolve) => {
      void b.page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await b.page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const text = redact(format(...(args as [unknown, ...unknown[]])));
      for (const line of text.split('\n')) {
        lines.push(line);
        if (/^host: \d+ passed, \d+ failed/.test(line)) closing = line.replace(/^host: /, '');
        else process.stdout.write(`  ${line}\n`);
      }
    });
    await b.page.goto(`${cs.url}/?${open}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const timeout = new Promise<number>((resolve) =>
      setTimeout(() => {
        lines.push('timed out after 10 minutes');
        resolve(124);
      }, 600_000),
    );
    const code = await Promise.race([exit, timeout]);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const logFile = path.join(RESULTS_DIR, `${TIER}-${workspace}.log`);
    fs.writeFileSync(logFile, lines.join('\n'));
    // The test log itself must not carry a credential of the run.
    const leaks = scanForSecrets([logFile], [sim.info.tokenSecret, sim.info.controlSecret]);
    if (leaks.length) console.log(`Secrets in the test log: ${JSON.stringify(leaks)}`);
    if (code !== 0)
      await b.page
        .screenshot({ path: path.join(RESULTS_DIR, `${TIER}-${workspace}-failure.png`) })
        .catch(() => undefined);
    console.log(
      closing
        ? `Extension host (${workspace}): ${closing}`
        : `Extension host (${workspace}): no result line (see ${path.relative(REPO, logFile)})`,
    );
    const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(closing);
    if (!closing) console.log(redact(cs.output()).slice(-4000));
    return {
      ok: code === 0 && !!m && !leaks.length,
      counts: m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : { passed: 0, failed: 1, skipped: 0 },
      lines,
    };
  } finally {
    await bounded('browser', b.close());
    await bounded('code-server', cs.stop());
    await bounded('simulator', sim.stop());
  }
}

/** Cleanup that cannot hang the test command; it says so only when it did not finish in time. */
function bounded(what: string, p: Promise<unknown>, ms = 15_000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.catch((e) => console.error(`closing ${what}: ${e}`)),
    new Promise((r) => {
      timer = setTimeout(() => {
        console.error(`closing ${what} took over ${ms} ms; going on`);
        r(undefined);
      }, ms).unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
