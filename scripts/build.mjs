// Bundles the extension with esbuild: dist/extension.js (activation: VS Code UI only) and
// dist/services.js (Azure SDKs and @kubernetes/client-node, required on first use).
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const result = await esbuild.build({
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
});
mkdirSync('dist', { recursive: true });
writeFileSync('dist/meta.json', JSON.stringify(result.metafile));
for (const [file, out] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.js')) console.log(`${file}: ${(out.bytes / 1024).toFixed(1)} KiB`);
}

// The strings of every l10n.t call, for translators and for the pseudo-locale test (l10n/ is generated, not committed).
execFileSync(process.execPath, ['node_modules/@vscode/l10n-dev/dist/cli.js', 'export', '--outDir', 'l10n', 'src'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
