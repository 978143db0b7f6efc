import * as fs from 'node:fs';
import * as path from 'node:path';

/** What a leaked credential looks like: a JWT, a simulated cluster token, kubeconfig credential material. */
export const SECRET_PATTERNS: [string, RegExp][] = [
  ['JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  ['cluster token', /sim-kube-[0-9a-f]{8}-[0-9a-f]{4}/],
  ['kubeconfig', /client-key-data|client-certificate-data|certificate-authority-data|kind: Config/],
  ['Key Vault secret value', /sim-secret-value-[0-9a-f]{8}/],
];

/** Files under `roots` (recursively, text up to 5 MB) that contain a secret or one of `exact`. */
export function scanForSecrets(
  roots: string[],
  exact: string[] = [],
  since = 0,
  skip: (p: string) => boolean = () => false,
): { file: string; what: string }[] {
  const found: { file: string; what: string }[] = [];
  const visit = (p: string, depth: number) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isSymbolicLink() || skip(p)) return;
    if (st.isDirectory()) {
      if (depth > 8) return;
      let entries: string[];
      try {
        entries = fs.readdirSync(p);
      } catch {
        return;
      }
      for (const e of entries) visit(path.join(p, e), depth + 1);
      return;
    }
    if (!st.isFile() || st.size > 5 * 1024 * 1024 || st.mtimeMs < since) return;
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch {
      return;
    }
    for (const [what, re] of SECRET_PATTERNS) if (re.test(text)) found.push({ file: p, what });
    for (const s of exact) if (s && text.includes(s)) found.push({ file: p, what: 'a secret of this run' });
  };
  for (const r of roots) visit(r, 0);
  return found;
}

/** Files under `root` whose path matches. */
export function findFiles(root: string, re: RegExp): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
      return;
    }
    if (re.test(p)) out.push(p);
  };
  visit(root);
  return out;
}
