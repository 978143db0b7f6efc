import type { TokenCredential } from '@azure/core-auth';
import { createPipelineFromOptions, createPipelineRequest } from '@azure/core-rest-pipeline';
import { ClientAssertionCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { keyVaultAuthenticationPolicy } from '@azure/keyvault-common';
import { KeyClient } from '@azure/keyvault-keys';
import { SecretClient } from '@azure/keyvault-secrets';
import type { AzureCloud } from '../auth/cloud';
import type { Logger } from '../log';
import { firstLine } from '../util/text';
import { AzureClientFactory } from './clients';
import type { Permission } from './keyVaultRoles';

/** What Key Vault answered a GET: the status, and its inner error code (ForbiddenByRbac, SecretDisabled, …). */
export interface VaultAnswer {
  status: number;
  code: string;
  message: string;
}

/**
 * What a pod does with its token: the exchange with Microsoft Entra ID, and GETs on Key Vault's data plane. Built on
 * the client factory's options and HTTP client, like every other Azure call.
 */
export class KeyVaultDataGateway {
  constructor(
    private readonly clients: AzureClientFactory,
    private readonly cloud: AzureCloud,
    private readonly log: Logger,
  ) {}

  /** The credential a pod's SDK builds from its projected token (WorkloadIdentityCredential's exchange). */
  workloadCredential(tenantId: string, clientId: string, assertion: () => Promise<string>): TokenCredential {
    return new ClientAssertionCredential(tenantId, clientId, assertion, {
      ...this.clients.dataPlaneOptions(),
      authorityHost: this.cloud.activeDirectoryEndpoint,
      // Outside the public cloud, MSAL would first validate the authority against the public cloud's discovery.
      disableInstanceDiscovery: this.cloud.name !== 'AzureCloud',
      additionallyAllowedTenants: ['*'],
    });
  }

  /** Whether a named secret can be read: a streamed 200 that is closed unread, so the value never reaches memory. */
  async readSecretStatus(
    vaultUri: string,
    name: string,
    credential: TokenCredential,
    signal: AbortSignal | undefined,
  ): Promise<VaultAnswer> {
    // Key Vault's own challenge policy on the factory's pipeline options.
    const { httpClient, additionalPolicies, ...pipelineOptions } = this.clients.dataPlaneOptions();
    const pipeline = createPipelineFromOptions(pipelineOptions);
    for (const p of additionalPolicies)
      pipeline.addPolicy(p.policy, { phase: p.position === 'perRetry' ? 'Retry' : undefined });
    pipeline.addPolicy(keyVaultAuthenticationPolicy(credential));
    const res = await pipeline.sendRequest(
      httpClient,
      createPipelineRequest({
        url: `${vaultUri.replace(/\/?$/, '/')}secrets/${encodeURIComponent(name)}?api-version=7.5`,
        method: 'GET',
        abortSignal: signal,
        streamResponseStatusCodes: new Set([200]),
      }),
    );
    this.log.info(`GET ${vaultUri}secrets/<named secret> ${res.status}`);
    if (res.status === 200) {
      (res.readableStreamBody as unknown as { destroy?(): void } | undefined)?.destroy?.();
      return { status: 200, code: 'Readable', message: `${name} is readable.` };
    }
    let error: KeyVaultError | undefined;
    try {
      error = JSON.parse(res.bodyAsText ?? '{}').error;
    } catch {
      /* not JSON */
    }
    return vaultAnswer(res.status, error);
  }

  /** A GET of `<kind>/<name>` through the Key Vault clients, which answer the vault's challenge as a pod's SDK does. */
  async probe(
    vaultUri: string,
    kind: Permission,
    name: string,
    credential: TokenCredential,
    signal: AbortSignal | undefined,
  ): Promise<VaultAnswer> {
    const options = { abortSignal: signal };
    const clientOptions = this.clients.dataPlaneOptions();
    try {
      if (kind === 'secrets') await new SecretClient(vaultUri, credential, clientOptions).getSecret(name, options);
      else if (kind === 'keys') await new KeyClient(vaultUri, credential, clientOptions).getKey(name, options);
      else await new CertificateClient(vaultUri, credential, clientOptions).getCertificate(name, options);
      return { status: 200, code: 'Found', message: `${name} exists.` };
    } catch (e) {
      const err = e as { statusCode?: number; code?: string; message?: string; details?: { error?: KeyVaultError } };
      if (typeof err.statusCode !== 'number') throw e;
      return vaultAnswer(err.statusCode, { code: err.code, message: err.message, ...err.details?.error });
    }
  }
}

/** Key Vault's error body; the clients' deserializer names the inner error innerError, the wire innererror. */
interface KeyVaultError {
  code?: string;
  message?: string;
  innererror?: { code?: string };
  innerError?: { code?: string };
}

/** Key Vault says why in the inner error (ForbiddenByRbac, AccessDenied, ForbiddenByFirewall, SecretDisabled). */
const vaultAnswer = (status: number, e?: KeyVaultError): VaultAnswer => ({
  status,
  code: e?.innerError?.code ?? e?.innererror?.code ?? e?.code ?? `HTTP${status}`,
  message: firstLine(e?.message ?? ''),
});
