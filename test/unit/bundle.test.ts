import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../support/paths';

describe('the activation bundle', () => {
  it('holds no package from node_modules but @vscode/l10n: the Azure SDKs, the Kubernetes client and yaml load with services.js on first use', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(REPO, 'dist', 'meta.json'), 'utf8'));
    const inputs = Object.keys(meta.outputs['dist/extension.js'].inputs);
    assert.ok(inputs.length > 10, 'the bundle was read');
    // @vscode/l10n (5 KiB, no dependency) translates the strings of the code without `vscode` that the tree shows.
    assert.deepEqual(
      inputs.filter((i) => i.includes('node_modules/')),
      ['node_modules/@vscode/l10n/dist/main.js'],
    );
  });
});
