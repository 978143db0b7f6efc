import * as l10n from '@vscode/l10n';
import type { TokenCredential } from '@azure/core-auth';
import { type PipelinePolicy, createDefaultHttpClient } from '@azure/core-rest-pipeline';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import { AzureCloud, armScope } from '../auth/cloud';
import { Logger, loggableUrl } from '../log';
import { errorNamed } from '../errors';

/** A request that gets no answer fails after this long, and the retry policy takes over. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** Logs each attempt: method, URL without query secrets, status, duration. Never headers or bodies. */
export function loggingPolicy(log: Logger): PipelinePolicy {
  return {
    name: 'aksWorkloadIdentityLogging',
    async sendRequest(request, next) {
      const started = Date.now();
      const what = `${request.method} ${loggableUrl(request.url)}`;
      try {
        const response = await next(request);
        const line = `${what} ${response.status} ${Date.now() - started}ms`;
        if (response.status >= 400) log.warn(line);
        else log.info(line);
        return response;
      } catch (e) {
        log.warn(
          `${what} failed after ${Date.now() - started}ms: ${(e as { code?: string }).code ?? (e as Error).name}`,
        );
        throw e;
      }
    },
  };
}

const timeoutPolicy = (ms: number): PipelinePolicy => ({
  name: 'aksWorkloadIdentityTimeout',
  sendRequest(request, next) {
    if (!request.timeout) request.timeout = ms;
    return next(request);
  },
});

/**
 * The SDK's retry policy does not retry a request that timed out. ARM calls are idempotent (PUT bodies are whole),
 * so a timed-out call is sent again, twice at most; a user's cancel is never retried.
 */
const timeoutRetryPolicy = (retries: number): PipelinePolicy => ({
  name: 'aksWorkloadIdentityTimeoutRetry',
  async sendRequest(request, next) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await next(request);
      } catch (e) {
        const timedOut = errorNamed(e, 'AbortError') && !request.abortSignal?.aborted;
        if (!timedOut) throw e;
        if (attempt >= retries)
          throw Object.assign(
            new Error(l10n.t('No answer from {0} within {1} ms.', loggableUrl(request.url), request.timeout)),
            { name: 'RestError', code: 'TIMEOUT' },
          );
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
  },
});

export interface ClientOptions {
  /** A request with no answer after this long fails, and is retried. */
  requestTimeoutMs?: number;
  /** The first retry's delay; later ones back off exponentially (the SDK's default is 800 ms). */
  retryDelayMs?: number;
}

/**
 * The one place that builds Azure clients. Every client gets the cloud's endpoint and token scope,
 * the logging policy and a request timeout; nothing else in the extension calls `new XClient`.
 */
export class AzureClientFactory {
  constructor(
    readonly cloud: AzureCloud,
    readonly credential: TokenCredential,
    private readonly log: Logger,
    private readonly clientOptions: ClientOptions = {},
  ) {}

  /**
   * One HTTP client, so one pool of keep-alive connections, for every client: the SDKs built on core-client and
   * those built on ts-http-runtime each keep a default of their own, and calls to the same host opened new ones.
   */
  private readonly httpClient = createDefaultHttpClient();

  private options() {
    const endpoint = this.cloud.resourceManagerEndpoint.replace(/\/$/, '');
    const scopes = [armScope(this.cloud)];
    return {
      endpoint,
      baseUri: endpoint,
      httpClient: this.httpClient,
      credentials: { scopes },
      credentialScopes: scopes,
      additionalPolicies: [
        { policy: timeoutRetryPolicy(2), position: 'perCall' as const },
        {
          policy: timeoutPolicy(this.clientOptions.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
          position: 'perCall' as const,
        },
        { policy: loggingPolicy(this.log), position: 'perRetry' as const },
      ],
      userAgentOptions: { userAgentPrefix: 'vscode-aks-workload-identity' },
      ...(this.clientOptions.retryDelayMs
        ? {
            retryOptions: {
              retryDelayInMs: this.clientOptions.retryDelayMs,
              maxRetryDelayInMs: this.clientOptions.retryDelayMs * 8,
            },
          }
        : {}),
    };
  }

  /**
   * For the calls outside ARM (the token exchange a pod makes, Key Vault's data plane): the same HTTP client, request
   * timeout, retry of a timed-out call and logging. Without them an Entra ID or Key Vault that never answers would
   * keep Test Binding waiting for good.
   */
  dataPlaneOptions() {
    const { endpoint: _e, baseUri: _b, credentials: _c, credentialScopes: _s, ...options } = this.options();
    return options;
  }

  /** One client per kind and subscription: its pipeline keeps connections alive, so calls skip the TLS handshake. */
  private readonly cache = new Map<string, unknown>();
  private cached<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key) as T;
  }

  containerService(subscriptionId: string) {
    return this.cached(
      `aks/${subscriptionId}`,
      () => new ContainerServiceClient(this.credential, subscriptionId, this.options()),
    );
  }
  managedIdentity(subscriptionId: string) {
    return this.cached(
      `msi/${subscriptionId}`,
      () => new ManagedServiceIdentityClient(this.credential, subscriptionId, this.options()),
    );
  }
  keyVault(subscriptionId: string) {
    return this.cached(
      `kv/${subscriptionId}`,
      () => new KeyVaultManagementClient(this.credential, subscriptionId, this.options()),
    );
  }
  authorization(subscriptionId: string) {
    return this.cached(
      `authz/${subscriptionId}`,
      () => new AuthorizationManagementClient(this.credential, subscriptionId, this.options()),
    );
  }
  resourceGraph() {
    return this.cached('graph', () => new ResourceGraphClient(this.credential, this.options()));
  }
  subscriptions() {
    return this.cached('subscriptions', () => new SubscriptionClient(this.credential, this.options()));
  }
}
