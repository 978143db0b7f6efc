import * as fs from 'node:fs';
import * as path from 'node:path';
import { getL10nPseudoLocalized } from '@vscode/l10n-dev';
import { ROLE_FOR } from '../../src/azure/keyVaultRoles';
import { REPO } from './paths';

/**
 * Words the extension leaves in English on purpose: product and API names, and Key Vault's object types as its API
 * and Bind's permissions name them.
 */
const KEPT = new Set([
  'Azure',
  'RBAC',
  'CLI',
  'Kubernetes',
  'Microsoft',
  'Entra',
  'AKS',
  'OIDC',
  'Bicep',
  'Terraform',
  'GET',
  'API',
  'secrets',
  'keys',
  'certificates',
]);

/**
 * English words a user would read in `text`: whole words of ASCII letters that are neither data (names from the simulated
 * Azure and cluster, which stay as they are) nor kept on purpose. Pseudo-localized text has no such word: every letter of
 * it is accented. Tokens with digits, dots, slashes, colons, dashes or @ are ids, names, paths and URLs; camel case
 * (ServiceAccount, SecretNotFound) is an API's name or code.
 */
export function unlocalizedWords(text: string, data: Set<string>): string[] {
  return text
    .split(/\s+/)
    .map((t) => t.replace(/^[("'“«[{…]+|[)"'”»\]},.;:!?…]+$/g, ''))
    .filter((t) => /^[A-Za-z]{3,}$/.test(t) && !/[a-z][A-Z]/.test(t) && !KEPT.has(t) && !data.has(t.toLowerCase()));
}

/** Every word of the string values (not the keys) in `values`, and of Azure's built-in role names: names shown as they are. */
export function dataWords(values: unknown): Set<string> {
  const strings: string[] = Object.values(ROLE_FOR).map((r) => r.name);
  const walk = (v: unknown): void => {
    if (typeof v === 'string') strings.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(values);
  return new Set(strings.flatMap((v) => v.match(/[A-Za-z]{3,}/g) ?? []).map((w) => w.toLowerCase()));
}

/** The pseudo-locale bundle l10n-dev generates from one of the project's bundles (`l10n/bundle.l10n.json`, `package.nls.json`). */
export const pseudoBundle = (file: string): Record<string, string> =>
  getL10nPseudoLocalized(JSON.parse(fs.readFileSync(path.join(REPO, file), 'utf8'))) as Record<string, string>;

/** Pseudo-localized text has accented Latin letters. */
export const looksPseudo = (text: string) => /[\u0100-\u024f\u1e00-\u1eff]/.test(text);
