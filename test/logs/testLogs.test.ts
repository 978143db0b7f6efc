// Runs after every other tier (scripts/test.sh): the output of the test runs themselves holds no secret either.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RESULTS_DIR } from '../support/paths';
import { scanForSecrets } from '../support/secretScan';

describe('test logs', () => {
  it('the saved output of the unit, extension-host and e2e runs holds no token, cluster credential or kubeconfig', () => {
    const logs = [
      'unit-run.log',
      'host-run.log',
      'host-newest-run.log',
      'e2e-run.log',
      'e2e-newest-run.log',
      'host.log',
      'host-newest.log',
    ]
      .map((f) => path.join(RESULTS_DIR, f))
      .filter((f) => fs.existsSync(f));
    assert.ok(logs.length > 0, `no test log in ${RESULTS_DIR}: run scripts/test.sh, which saves them`);
    for (const f of logs) assert.ok(fs.statSync(f).size > 1000, `${f} holds the run's output`);
    assert.deepEqual(
      scanForSecrets([...logs, path.join(RESULTS_DIR, 'e2e')], [], 0, (p) => p.endsWith('.png')),
      [],
    );
  });
});
