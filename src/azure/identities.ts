import { AzureClientFactory } from './clients';
import { ResourceRef, parseResourceId } from './resourceId';
import { KeyedMutex, mapLimit } from '../util/concurrency';

export interface IdentityInfo extends ResourceRef {
  location: string;
  clientId: string;
  principalId: string;
  tenantId: string;
  tags?: Record<string, string>;
}

/** The tag on every identity the extension creates: Remove deletes no other. */
export const CREATED_BY_TAG = { name: 'created-by', value: 'vscode-aks-workload-identity' };

export interface CredentialInfo {
  name: string;
  issuer: string;
  /** Absent on a flexible credential, which matches tokens by claimsMatchingExpression instead. */
  subject?: string;
  /** A flexible credential's claimsMatchingExpression, when the service returns it. */
  expression?: string;
  audiences: string[];
}

/** A credential that matches by expression (no subject): never a binding's, and never Bind's or Remove's to change. */
export const matchesByExpression = (c: CredentialInfo) => c.subject === undefined;

/** Flexible credentials come from api-version 2025-01-31-preview; the SDK's models (2024-11-30) drop the expression. */
const expressionsOf = (raw: unknown): Map<string, string> => {
  const out = new Map<string, string>();
  let body: any;
  try {
    body = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    return out;
  }
  for (const c of body?.value ?? []) {
    const e = c?.properties?.claimsMatchingExpression?.value;
    if (typeof c?.name === 'string' && typeof e === 'string') out.set(c.name, e);
  }
  return out;
};

const toCredential = (
  c: { name?: string; issuer?: string; subject?: string; audiences?: string[] },
  expression?: string,
): CredentialInfo => ({
  name: c.name!,
  issuer: c.issuer!,
  ...(c.subject ? { subject: c.subject } : {}),
  ...(expression ? { expression } : {}),
  audiences: c.audiences ?? [],
});

const toIdentity = (i: any): IdentityInfo => ({
  ...parseResourceId(i.id),
  location: i.location,
  clientId: i.clientId ?? i.properties?.clientId,
  principalId: i.principalId ?? i.properties?.principalId,
  tenantId: i.tenantId ?? i.properties?.tenantId,
  tags: { ...i.tags },
});

/** User-assigned identities and their federated credentials. Credential writes on one identity run one at a time. */
export class IdentityGateway {
  private readonly credentialWrites = new KeyedMutex();

  constructor(private readonly clients: AzureClientFactory) {}

  async list(subscriptionId: string, signal?: AbortSignal): Promise<IdentityInfo[]> {
    const out: IdentityInfo[] = [];
    for await (const i of this.clients
      .managedIdentity(subscriptionId)
      .userAssignedIdentities.listBySubscription({ abortSignal: signal }))
      out.push(toIdentity(i));
    return out;
  }

  /** Every identity of a subscription with its federated credentials, read several identities at a time. */
  async listWithCredentials(
    subscriptionId: string,
    signal?: AbortSignal,
  ): Promise<(IdentityInfo & { credentials: CredentialInfo[] })[]> {
    return mapLimit(await this.list(subscriptionId, signal), 8, async (i) => ({
      ...i,
      credentials: await this.listCredentials(i, signal),
    }));
  }

  /** undefined when it does not exist. */
  async find(ref: Omit<ResourceRef, 'id'>, signal?: AbortSignal): Promise<IdentityInfo | undefined> {
    try {
      return toIdentity(
        await this.clients
          .managedIdentity(ref.subscriptionId)
          .userAssignedIdentities.get(ref.resourceGroup, ref.name, { abortSignal: signal }),
      );
    } catch (e) {
      if ((e as any)?.statusCode === 404) return undefined;
      throw e;
    }
  }

  async create(ref: Omit<ResourceRef, 'id'>, location: string, signal?: AbortSignal): Promise<IdentityInfo> {
    const i = await this.clients
      .managedIdentity(ref.subscriptionId)
      .userAssignedIdentities.createOrUpdate(
        ref.resourceGroup,
        ref.name,
        { location, tags: { [CREATED_BY_TAG.name]: CREATED_BY_TAG.value } },
        { abortSignal: signal },
      );
    return toIdentity(i);
  }

  async listCredentials(identity: ResourceRef, signal?: AbortSignal): Promise<CredentialInfo[]> {
    const out: CredentialInfo[] = [];
    const expressions = new Map<string, string>();
    const onResponse = (raw: { bodyAsText?: string | null; parsedBody?: unknown }) => {
      for (const [k, v] of expressionsOf(raw.bodyAsText ?? raw.parsedBody)) expressions.set(k, v);
    };
    for await (const c of this.clients
      .managedIdentity(identity.subscriptionId)
      .federatedIdentityCredentials.list(identity.resourceGroup, identity.name, { abortSignal: signal, onResponse })) {
      out.push(toCredential(c));
    }
    return out.map((c) =>
      c.subject === undefined && expressions.has(c.name) ? { ...c, expression: expressions.get(c.name) } : c,
    );
  }

  /** Deleting what is gone is no error (Azure answers 204). */
  async delete(ref: ResourceRef, signal?: AbortSignal): Promise<void> {
    await this.clients
      .managedIdentity(ref.subscriptionId)
      .userAssignedIdentities.delete(ref.resourceGroup, ref.name, { abortSignal: signal });
  }

  deleteCredential(identity: ResourceRef, name: string, signal?: AbortSignal): Promise<void> {
    return this.credentialWrites.run(identity.id.toLowerCase(), async () => {
      await this.clients
        .managedIdentity(identity.subscriptionId)
        .federatedIdentityCredentials.delete(identity.resourceGroup, identity.name, name, { abortSignal: signal });
    });
  }

  /** Serialized per identity: Azure answers 409 to concurrent credential writes on one identity. */
  putCredential(identity: ResourceRef, credential: CredentialInfo, signal?: AbortSignal): Promise<CredentialInfo> {
    return this.credentialWrites.run(identity.id.toLowerCase(), async () => {
      const c = await this.clients
        .managedIdentity(identity.subscriptionId)
        .federatedIdentityCredentials.createOrUpdate(
          identity.resourceGroup,
          identity.name,
          credential.name,
          { issuer: credential.issuer, subject: credential.subject, audiences: credential.audiences },
          { abortSignal: signal },
        );
      return toCredential(c);
    });
  }
}
