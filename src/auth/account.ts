import * as l10n from '@vscode/l10n';
export type AuthMethod = 'vscode' | 'azureCli';
export type AuthSetting = 'auto' | 'vscode' | 'azureCli';

/** Claims of an access token, read without verifying it: only to show who is signed in. */
export function tokenClaims(token: string): { upn?: string; tid?: string; oid?: string; name?: string } {
  try {
    const payload = token.split('.')[1] ?? '';
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return { upn: c.upn ?? c.unique_name ?? c.preferred_username ?? c.email, tid: c.tid, oid: c.oid, name: c.name };
  } catch {
    return {};
  }
}

/**
 * Which sign-in to use. auto: VS Code's account when it has a session; else the Azure CLI when az is signed in;
 * else VS Code's account, interactively.
 */
export function chooseAuthMethod(
  setting: AuthSetting,
  available: { vscodeSession: boolean; azureCli: boolean },
): AuthMethod {
  if (setting === 'vscode' || setting === 'azureCli') return setting;
  if (available.vscodeSession) return 'vscode';
  if (available.azureCli) return 'azureCli';
  return 'vscode';
}

export const methodLabel = (m: AuthMethod) => (m === 'vscode' ? l10n.t('VS Code account') : 'Azure CLI');
