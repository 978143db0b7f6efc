// Loaded by the extension host of code-server (extensionTestsPath): runs the mocha suite there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  const dir = __dirname;
  const only = process.env.AKSWI_HOST_GREP;
  if (only) mocha.grep(only);
  // test/support/runHost.ts opens three workspaces in turn; each runs the files written for it.
  const kind = !vscode.workspace.isTrusted
    ? 'untrusted'
    : (vscode.workspace.workspaceFolders?.length ?? 0) > 1
      ? 'multiroot'
      : undefined;
  const forKind = (f: string) =>
    kind ? f.endsWith(`.${kind}.test.js`) : !/\.(untrusted|multiroot)\.test\.js$/.test(f);
  for (const f of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js') && forKind(f))
    .sort())
    mocha.addFile(path.join(dir, f));
  return new Promise((resolve, reject) => {
    mocha
      .run((failures) => {
        if (failures > 0) reject(new Error(`${failures} extension-host tests failed.`));
        else resolve();
      })
      .on('end', function (this: Mocha.Runner) {
        // The closing line the test command reads back from the extension host's console.
        console.log(
          `host: ${this.stats?.passes ?? 0} passed, ${this.stats?.failures ?? 0} failed, ${this.stats?.pending ?? 0} skipped`,
        );
      });
  });
}
