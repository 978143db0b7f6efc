import * as l10n from '@vscode/l10n';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

/** A token is fetched again this long before it expires. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * One token per scope and tenant for every SDK client of a session. Each client's pipeline otherwise asks the
 * credential on its first request, and for the Azure CLI each ask runs `az` (about a second): the first Bind in
 * a window made several such asks on its critical path. Concurrent asks share one fetch. Tokens stay in memory.
 */
export class SharedTokenCredential implements TokenCredential {
  private readonly tokens = new Map<string, Promise<AccessToken>>();

  constructor(
    private readonly inner: TokenCredential,
    private readonly now = () => Date.now(),
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const key = JSON.stringify([[scopes].flat().sort(), options?.tenantId ?? '', options?.claims ?? '']);
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresOnTimestamp - REFRESH_MARGIN_MS > this.now()) return token;
    }
    // One caller's cancel must not fail the others waiting on the same fetch.
    const { abortSignal: _ignored, ...shared } = options ?? {};
    const fetching = this.inner.getToken(scopes, shared).then((t) => {
      if (!t)
        throw Object.assign(new Error(l10n.t('The credential returned no token.')), {
          name: 'CredentialUnavailableError',
        });
      return t;
    });
    this.tokens.set(key, fetching);
    fetching.catch(() => {
      if (this.tokens.get(key) === fetching) this.tokens.delete(key);
    });
    return fetching;
  }
}
