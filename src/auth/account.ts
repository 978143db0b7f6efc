import * as l10n from '@vscode/l10n';
import { jwtPayload } from '../util/jwt';
export type AuthMethod = 'vscode' | 'azureCli';
export type AuthSetting = 'auto' | 'vscode' | 'azureCli';

/** Who an access token is for, read without verifying it: only to show who is signed in. */
export function accountClaims(token: string): { upn?: string; tid?: string; oid?: string; name?: string } {
  const c = jwtPayload(token) as Record<string, string | undefined> | undefined;
  if (!c) return {};
  return { upn: c.upn ?? c.unique_name ?? c.preferred_username ?? c.email, tid: c.tid, oid: c.oid, name: c.name };
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
