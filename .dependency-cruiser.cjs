// The layers' import rule. Its one description is the table in docs/architecture.md: each row's layer may import
// itself and the paths its row lists (and npm packages); only the composition root and ui/ may import vscode.
const fs = require('node:fs');
const path = require('node:path');

const doc = fs.readFileSync(path.join(__dirname, 'docs', 'architecture.md'), 'utf8');
const table = /<!-- layers[^>]*-->([\s\S]*?)<!-- \/layers -->/.exec(doc);
if (!table) throw new Error('docs/architecture.md has no layers table between <!-- layers --> and <!-- /layers -->');
const paths = (cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
const layers = table[1]
  .split('\n')
  .filter((l) => l.startsWith('|') && l.includes('`'))
  .map((l) => {
    const [name, at, mayImport] = l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    return { name, at: paths(at)[0], mayImport: paths(mayImport) };
  });
if (layers.length < 5) throw new Error(`docs/architecture.md's layers table has ${layers.length} rows`);

const pattern = (p) => `^${p.replace(/[.]/g, '\\.')}${p.endsWith('/') ? '' : '$'}`;
const anyOf = (ps) => ps.map(pattern).join('|');
const uncovered = `^src/(?!${layers.map((l) => l.at.slice(4).replace(/[.]/g, '\\.') + (l.at.endsWith('/') ? '' : '$')).join('|')})`;

module.exports = {
  forbidden: [
    ...layers.map((l) => ({
      name: `layer: ${l.name}`,
      comment: `${l.at} may import only ${[l.at, ...l.mayImport].join(' ')} (docs/architecture.md)`,
      severity: 'error',
      from: { path: pattern(l.at) },
      to: { path: '^src/', pathNot: anyOf([l.at, ...l.mayImport]) },
    })),
    {
      name: 'vscode only in ui/',
      comment: 'Only src/extension.ts and src/ui/ import vscode: the domain runs without it (docs/architecture.md)',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(['src/extension.ts', 'src/ui/']) },
      to: { path: '^vscode$|@types/vscode' },
    },
    {
      name: 'every file in a layer',
      comment: 'A file of src/ that no row of docs/architecture.md covers has no rule: add a row for it',
      severity: 'error',
      from: { path: uncovered },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    exclude: { path: '^(out|dist|node_modules)/' },
  },
};
