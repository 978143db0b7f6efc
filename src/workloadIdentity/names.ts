import * as l10n from '@vscode/l10n';
import { createHash } from 'node:crypto';
import type { Validator } from '../wizard/prompter';

// Each validator returns undefined when the value is valid, or a message that names the rule.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const validateNamespace: Validator = (v) => {
  if (!v) return l10n.t('A namespace name is required (Kubernetes DNS-1123 label).');
  if (v.length > 63)
    return l10n.t('Namespace names are DNS-1123 labels: at most 63 characters (this one has {0}).', v.length);
  if (!DNS1123_LABEL.test(v))
    return l10n.t(
      "Namespace names are DNS-1123 labels: lower-case letters, digits and '-', starting and ending with a letter or digit.",
    );
  return undefined;
};

export const validateServiceAccountName: Validator = (v) => {
  if (!v) return l10n.t('A ServiceAccount name is required (Kubernetes DNS-1123 subdomain).');
  if (v.length > 253)
    return l10n.t('ServiceAccount names are DNS-1123 subdomains: at most 253 characters (this one has {0}).', v.length);
  if (!DNS1123_SUBDOMAIN.test(v))
    return l10n.t(
      "ServiceAccount names are DNS-1123 subdomains: lower-case letters, digits, '-' and '.', each part starting and ending with a letter or digit.",
    );
  return undefined;
};

export const validateIdentityName: Validator = (v) => {
  if (!v) return l10n.t('A managed identity name is required.');
  if (v.length < 3 || v.length > 128)
    return l10n.t('Managed identity names have 3 to 128 characters (this one has {0}).', v.length);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(v))
    return l10n.t("Managed identity names use letters, digits, '-' and '_', and start with a letter or digit.");
  return undefined;
};

export const validateCredentialName: Validator = (v) => {
  if (!v) return l10n.t('A federated credential name is required.');
  if (v.length < 3 || v.length > 120)
    return l10n.t('Federated credential names have 3 to 120 characters (this one has {0}).', v.length);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(v))
    return l10n.t("Federated credential names use letters, digits, '-' and '_', and start with a letter or digit.");
  return undefined;
};

export const validateResourceGroupName: Validator = (v) => {
  if (!v) return l10n.t('A resource group name is required.');
  if (v.length > 90) return l10n.t('Resource group names have at most 90 characters (this one has {0}).', v.length);
  if (!/^[-\w.()\p{L}\p{N}]+$/u.test(v))
    return l10n.t("Resource group names use letters, digits, '_', '-', '.', '(' and ')'.");
  if (v.endsWith('.')) return l10n.t("Resource group names cannot end with '.'.");
  return undefined;
};

/** A manifest path relative to the workspace folder: no escape from it, no absolute path, a YAML file. */
export const validateManifestPath: Validator = (v) => {
  if (!v || !v.trim()) return l10n.t('A manifest path is required.');
  if (v.includes('\0')) return l10n.t('The manifest path cannot contain a NUL character.');
  if (v.startsWith('/') || v.startsWith('\\') || /^[a-zA-Z]:/.test(v))
    return l10n.t('The manifest path must be relative to the workspace folder.');
  const parts = v.split(/[\\/]+/);
  if (parts.some((p) => p === '..'))
    return l10n.t("The manifest path must stay inside the workspace folder ('..' is not allowed).");
  if (parts.some((p) => p.trim() !== p || p === ''))
    return l10n.t('Parts of the manifest path cannot be empty or start or end with spaces.');
  if (!/\.ya?ml$/i.test(v)) return l10n.t('The manifest path must end with .yaml or .yml.');
  if (v.length > 1024) return l10n.t('The manifest path is too long (at most 1024 characters).');
  return undefined;
};

const shortHash = (s: string, n = 8) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** Fits letters, digits, '-' and '_' into max characters, keeping it unique with a hash when cut. */
function fitName(raw: string, max: number): string {
  let s = raw
    .replace(/[^a-zA-Z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  if (!/^[a-zA-Z0-9]/.test(s)) s = `x${s}`;
  if (s.length <= max) return s;
  return `${s.slice(0, max - 9).replace(/[-_]+$/, '')}-${shortHash(raw)}`;
}

/** The default for a new identity: `id-<namespace>-<serviceaccount>`, as the lab names it `uid-<app>`. */
export const defaultIdentityName = (namespace: string, serviceAccount: string) =>
  fitName(`id-${namespace}-${serviceAccount}`, 128);

/** Deterministic, valid, and the same on every rerun for this cluster, namespace and ServiceAccount. */
export const credentialName = (clusterName: string, namespace: string, serviceAccount: string) =>
  fitName(`fic-${clusterName}-${namespace}-${serviceAccount}`, 120);

/** A GUID derived from scope, role and principal, so a rerun finds the assignment it made (UUID v5 layout). */
export function roleAssignmentName(scope: string, roleDefinitionGuid: string, principalId: string): string {
  const h = createHash('sha1')
    .update(`${scope.toLowerCase()}|${roleDefinitionGuid.toLowerCase()}|${principalId.toLowerCase()}`)
    .digest();
  h.writeUInt8((h.readUInt8(6) & 0x0f) | 0x50, 6);
  h.writeUInt8((h.readUInt8(8) & 0x3f) | 0x80, 8);
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export const serviceAccountSubject = (namespace: string, serviceAccount: string) =>
  `system:serviceaccount:${namespace}:${serviceAccount}`;
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
export const MAX_CREDENTIALS_PER_IDENTITY = 20;

/** Issuer URLs that differ only by a trailing slash: Entra ID treats them as different, people rarely notice. */
export const sameIgnoringTrailingSlash = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Key Vault object names: 1 to 127 letters, digits and dashes. */
export const validateObjectName: Validator = (v) =>
  /^[0-9a-zA-Z-]{1,127}$/.test(v)
    ? undefined
    : l10n.t('A Key Vault object name has 1 to 127 characters: letters, digits and dashes.');

/** An identity's binding on a cluster is named after it: one binding per identity per cluster. */
export const identityBindingName = (identityName: string) => fitName(identityName.toLowerCase(), 63);
