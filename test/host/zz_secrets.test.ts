import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { scanForSecrets } from '../support/secretScan';
import { extensionApi, sim } from './support';

function tempRoots(since: number): string[] {
  const dir = os.tmpdir();
  return fs
    .readdirSync(dir)
    .map((n) => path.join(dir, n))
    .filter((p) => {
      try {
        const st = fs.lstatSync(p);
        return st.mtimeMs >= since && (st.isFile() || path.basename(p).startsWith('akswi-home-'));
      } catch {
        return false;
      }
    });
}

// Runs last (zz_): after every command of the suite has run against the simulated Azure.
describe('no secret written anywhere (extension host)', () => {
  it('the log, the storage folders, the workspace and the temp folder hold no token, kubeconfig or secret', async () => {
    const api = await extensionApi();
    await new Promise((r) => setTimeout(r, 1000)); // let the log channel flush
    const roots = [
      api.logUri.fsPath,
      ...api.storage.map((u) => u.fsPath),
      ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    ];
    const since = Date.now() - 30 * 60_000;
    const found = [
      ...scanForSecrets(roots, [sim.info.tokenSecret, sim.info.controlSecret]),
      // The temp folder is shared with other programs: its loose files and this run's homes, changed during the run
      // (not source trees, installed extensions or the browser's cache).
      // /dev/shm too: where the simulated kubelet puts a test pod's projected token while the pod runs.
      ...scanForSecrets(
        [...tempRoots(since), ...(fs.existsSync('/dev/shm') ? ['/dev/shm'] : [])],
        [sim.info.tokenSecret],
        since,
        (p) => /node_modules|\/\.git$|\/extensions$|akswi-chromium-|akswi-ca-/.test(p),
      ),
    ];
    assert.deepEqual(found, []);
  });
});
