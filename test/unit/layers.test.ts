import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../support/paths';

/** dependency-cruiser with the project's rule (read from docs/architecture.md), over the src/ under `cwd`. */
function cruise(cwd: string) {
  const r = spawnSync(
    process.execPath,
    [
      path.join(REPO, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      'src',
      '--config',
      path.join(REPO, '.dependency-cruiser.cjs'),
      '--output-type',
      'json',
    ],
    { cwd, encoding: 'utf8' },
  );
  const out = JSON.parse(r.stdout) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] };
  };
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('the layers rule (docs/architecture.md)', () => {
  it('holds for src/', () => {
    assert.deepEqual(cruise(REPO), []);
  });

  it('fails an upward import, vscode outside ui/, and a file of no layer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-layers-'));
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    write('src/ui/log.ts', 'export const x = 1;\n');
    write(
      'src/workloadIdentity/up.ts',
      "import * as vscode from 'vscode';\nimport { x } from '../ui/log';\nexport const y = [vscode, x];\n",
    );
    write('src/kube/k.ts', "import { y } from '../workloadIdentity/up';\nexport const z = y;\n");
    write('src/elsewhere/n.ts', "import { z } from '../kube/k';\nexport const w = z;\n");
    try {
      assert.deepEqual(cruise(dir), [
        'every file in a layer: src/elsewhere/n.ts → src/kube/k.ts',
        'layer: Kubernetes access: src/kube/k.ts → src/workloadIdentity/up.ts',
        'layer: domain: src/workloadIdentity/up.ts → src/ui/log.ts',
        'vscode only in ui/: src/workloadIdentity/up.ts → vscode',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
