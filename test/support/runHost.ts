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

async function main() {
  const sim = await Simulator.start();
  const cs = await startCodeServer({ sim: sim.info });
  const b = await launchBrowser();
  let closing = '';
  const lines: string[] = [];
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
    await b.page.goto(`${cs.url}/?folder=${encodeURIComponent(cs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const timeout = new Promise<number>((resolve) => setTimeout(() => { lines.push('timed out after 10 minutes'); resolve(124); }, 600_000));
    const code = await Promise.race([exit, timeout]);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.writeFileSync(path.join(RESULTS_DIR, 'host.log'), lines.join('\n'));
    // The test log itself must not carry a credential of the run.
    const leaks = scanForSecrets([path.join(RESULTS_DIR, 'host.log')], [sim.info.tokenSecret, sim.info.controlSecret]);
    if (leaks.length) { console.log(`Secrets in the test log: ${JSON.stringify(leaks)}`); process.exitCode = 1; }
    if (code !== 0) await b.page.screenshot({ path: path.join(RESULTS_DIR, 'host-failure.png') }).catch(() => undefined);
    console.log(closing ? `Extension host: ${closing}` : 'Extension host: no result line (see test-results/host.log)');
    const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/.exec(closing);
    fs.writeFileSync(path.join(REPO, 'out', 'counts-host.json'), JSON.stringify(m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : { passed: 0, failed: 1, skipped: 0 }));
    if (!closing) console.log(redact(cs.output()).slice(-4000));
    process.exitCode = code === 0 && closing && !process.exitCode ? 0 : 1;
  } finally {
    await bounded('browser', b.close());
    await bounded('code-server', cs.stop());
    await bounded('simulator', sim.stop());
  }
}

/** Cleanup that cannot hang the test command. */
function bounded(what: string, p: Promise<unknown>, ms = 15_000) {
  return Promise.race([p.catch((e) => console.error(`closing ${what}: ${e}`)), new Promise((r) => setTimeout(() => { console.error(`closing ${what} took over ${ms} ms; going on`); r(undefined); }, ms).unref())]);
}

main().then(() => process.exit(process.exitCode ?? 0), (e) => { console.error(e); process.exit(1); });
