// Bundles the extension with esbuild: dist/extension.js (activation: VS Code UI only) and
// dist/services.js (Azure SDKs and @kubernetes/client-node, required on first use).
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
/** What F5's background task waits for (.vscode/tasks.json): a line when a build starts and one when it ends. */
const announce = {
  name: 'announce',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((r) => {
      for (const e of r.errors)
        console.error(`✘ [ERROR] ${e.text}\n    ${e.location?.file}:${e.location?.line}:${e.location?.column}:`);
      console.log('[watch] build finished');
    });
  },
};
const options = {
  entryPoints: { extension: 'src/extension.ts', services: 'src/services.ts' },
  bundle: true,
  outdir: 'dist',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', './services'],
  sourcemap: production ? false : 'linked',
  minify: production,
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
};
if (watch) {
  const context = await esbuild.context({ ...options, plugins: [announce] });
  await context.watch();
  // Runs until the task is stopped.
  await new Promise(() => undefined);
}
const result = await esbuild.build(options);
mkdirSync('dist', { recursive: true });
writeFileSync('dist/meta.json', JSON.stringify(result.metafile));
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.js')) console.log(`${file}: ${(out.bytes / 1024).toFixed(1)} KiB`);
}

// The strings of every l10n.t call, for translators and for the pseudo-locale test (l10n/ is generated, not committed).
execFileSync(process.execPath, ['node_modules/@vscode/l10n-dev/dist/cli.js', 'export', '--outDir', 'l10n', 'src'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
