import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../support/paths';

const read = (f: string) => fs.readFileSync(path.join(REPO, f), 'utf8');
const readme = read('README.md');
const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
const pkg = JSON.parse(read('package.json'));
/** JSON with comments, as VS Code reads launch.json and tasks.json. */
const jsonc = (f: string) => JSON.parse(read(f).replace(/^\s*\/\/.*$/gm, ''));

describe("the README and the contributor's setup", () => {
  it('every image the README shows exists, is a relative path, and ships in the package; there are at least 8', () => {
    assert.ok(images.length >= 8, `${images.length} images`);
    const shipped = new Set(
      execFileSync(process.execPath, [path.join(REPO, 'node_modules/@vscode/vsce/vsce'), 'ls', '--no-dependencies'], {
        cwd: REPO,
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean),
    );
    for (const image of images) {
      assert.ok(!/^[a-z]+:/i.test(image) && !image.startsWith('/'), `${image} is relative`);
      assert.ok(fs.existsSync(path.join(REPO, image)), `${image} exists`);
      assert.ok(shipped.has(image), `${image} is in the vsix`);
    }
  });

  it('every link to a file of the repository resolves', () => {
    for (const f of ['README.md', 'CONTRIBUTING.md', 'docs/features.md', 'docs/simulator.md', 'docs/benchmarks.md']) {
      for (const [, target] of read(f).matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        assert.ok(fs.existsSync(path.join(REPO, path.dirname(f), target!)), `${f} links ${target}`);
      }
    }
  });

  it("every setting of package.json is in the README's settings table, with its default", () => {
    const settings = pkg.contributes.configuration.properties as Record<string, { default?: unknown }>;
    for (const [name, s] of Object.entries(settings)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      assert.ok(row, `${name} has a row`);
      assert.ok(row.includes(`\`${String(s.default)}\``), `${name}'s row shows its default ${String(s.default)}`);
    }
  });

  it("is for users: under 12 KB, and without the team's shorthands", () => {
    assert.ok(Buffer.byteLength(readme) < 12 * 1024, `${Buffer.byteLength(readme)} bytes`);
    assert.doesNotMatch(readme, /\bthe lab\b|\blab\b|this machine/i);
  });

  it('F5: each launch configuration runs tasks that exist, and each npm task a script that exists', () => {
    const launch = jsonc('.vscode/launch.json');
    const tasks = jsonc('.vscode/tasks.json').tasks as {
      label: string;
      type?: string;
      script?: string;
      dependsOn?: string[];
    }[];
    const byLabel = new Map(tasks.map((t) => [t.label, t]));
    const names = launch.configurations.map((c: { name: string }) => c.name);
    assert.deepEqual(names, ['Run Extension', 'Run Extension against the simulator', 'Extension Tests']);
    const check = (label: string) => {
      const t = byLabel.get(label);
      assert.ok(t, `task ${label}`);
      if (t.type === 'npm') assert.ok(pkg.scripts[t.script!], `npm script ${t.script}`);
      for (const d of t.dependsOn ?? []) check(d);
    };
    for (const c of launch.configurations) {
      assert.equal(c.type, 'extensionHost');
      assert.ok(c.args.includes('--extensionDevelopmentPath=${workspaceFolder}'));
      check(c.preLaunchTask);
    }
    assert.equal(pkg.main, './dist/extension.js', 'the watch build writes what the development host loads');
  });
});
