/**
 * What proves a binding works, simulated as the services behave (workload-identity-facts.md, "Proving a binding
 * works without a pod"): the Kubernetes TokenRequest API issuing RS256 tokens whose `iss` is the cluster's issuer
 * URL, the issuer's discovery document and JWKS, Microsoft Entra ID's token endpoint checking a client assertion
 * against the identity's federated credentials with the real AADSTS errors. Key Vault's data plane is in
 * keyVaultData.ts.
 */
import { KeyObject, createPublicKey, generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import { HttpError, Reply, Route } from './http';
import { ClusterRecord, SimState, keyOf } from './model';
import { issueToken } from './tokens';

export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** Simulated vaults live under this domain (resolved to 127.0.0.1 by test/sim/resolve.ts), as real ones under vault.azure.net. */
export const VAULT_DOMAIN = 'vault.sim.test';
export const VAULT_RESOURCE = `https://${VAULT_DOMAIN}`;

/** Every token this process's simulators issued for a workload, for the tests that check none leaks. */
export const issuedWorkloadTokens: string[] = [];

export interface WorkloadIdentityConfig {
  /** A federated credential answers AADSTS70021 for this long after it was written. */
  credentialPropagationMs: number;
  /** A role assignment gives no data access for this long after it was made. */
  roleAssignmentPropagationMs: number;
  /** How far Microsoft Entra ID's clock runs ahead of the clusters' (a skewed clock makes tokens look expired). */
  entraClockSkewSeconds: number;
}

export interface EntraContext {
  state: SimState;
  config: WorkloadIdentityConfig;
  tokenSecret: string;
  loginUrl: () => string;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

// ---- the clusters' service account issuers -------------------------------------------------------------------

/** One signing key per issuer URL, made on first use (as AKS makes one per cluster). */
const signingKeys = new Map<string, { kid: string; privateKey: KeyObject; publicKey: KeyObject }>();
function keyFor(issuer: string) {
  let k = signingKeys.get(issuer);
  if (!k) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    k = { kid: randomUUID().replace(/-/g, '').slice(0, 20), privateKey, publicKey };
    signingKeys.set(issuer, k);
  }
  return k;
}

/** An RS256 JWT signed with the issuer's key. */
function signedToken(issuer: string, claims: Record<string, unknown>): string {
  const key = keyFor(issuer);
  const head = b64url(JSON.stringify({ alg: 'RS256', kid: key.kid }));
  const body = b64url(JSON.stringify({ ...claims, iss: issuer }));
  const sig = sign('sha256', Buffer.from(`${head}.${body}`), key.privateKey).toString('base64url');
  issuedWorkloadTokens.push(`${head}.${body}.${sig}`);
  return `${head}.${body}.${sig}`;
}

/** What AKS's identity-binding proxy presents to Entra ID: a token of the identity's binding issuer. */
export function identityBindingAssertion(issuer: string, subject: string, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signedToken(issuer, { aud: [audience], sub: subject, iat: now, nbf: now, exp: now + 300, jti: randomUUID() });
}

/**
 * A ServiceAccount token checked as the cluster that issued it would: signed by that cluster's issuer key and in
 * date. Undefined when no cluster issued it.
 */
export function clusterOfServiceAccountToken(state: SimState, jwt: string) {
  const [head, body, sig] = jwt.split('.');
  try {
    const header = JSON.parse(Buffer.from(head ?? '', 'base64url').toString());
    const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString());
    const cluster = [...state.clusters.values()].find(
      (c) => c.resource.properties.oidcIssuerProfile?.issuerURL === claims.iss,
    );
    const key = signingKeys.get(claims.iss);
    const valid =
      cluster &&
      key &&
      key.kid === header.kid &&
      verify('sha256', Buffer.from(`${head}.${body}`), key.publicKey, Buffer.from(sig ?? '', 'base64url')) &&
      claims.exp > Date.now() / 1000;
    return valid ? { cluster, claims } : undefined;
  } catch {
    return undefined;
  }
}

/** The TokenRequest API's JWT: RS256, `iss` the cluster's issuer URL exactly (trailing slash included). */
export function serviceAccountToken(
  cluster: ClusterRecord,
  namespace: string,
  serviceAccount: string,
  audiences: string[],
  expirationSeconds: number,
) {
  const issuer =
    cluster.resource.properties.oidcIssuerProfile?.issuerURL ?? 'https://kubernetes.default.svc.cluster.local';
  const now = Math.floor(Date.now() / 1000);
  const sa = cluster.kube.serviceAccounts.get(`${namespace}/${serviceAccount}`)!;
  const claims = {
    aud: audiences,
    exp: now + expirationSeconds,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount, uid: sa.metadata.uid } },
  };
  return { token: signedToken(issuer, claims), expirationTimestamp: new Date(claims.exp * 1000).toISOString() };
}

/** `<issuer>/.well-known/openid-configuration` and its `jwks_uri`, for the clusters that have an issuer. */
export function issuerDocuments(issuer: string) {
  const { kid, publicKey } = keyFor(issuer);
  const jwk = publicKey.export({ format: 'jwk' });
  const base = issuer.replace(/\/$/, '');
  return {
    openidConfiguration: {
      issuer,
      jwks_uri: `${base}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    },
    jwks: { keys: [{ ...jwk, kid, use: 'sig', alg: 'RS256' }] },
  };
}

/**
 * What Entra ID would fetch from the issuer: undefined where nothing is served (no cluster has that issuer, and no
 * identity binding: AKS serves the binding issuer of every identity that has one).
 */
function fetchIssuer(state: SimState, issuer: string) {
  const served = [...state.clusters.values()].some(
    (c) =>
      c.resource.properties.oidcIssuerProfile?.issuerURL === issuer ||
      [...(c.identityBindings?.values() ?? [])].some((b) => b.resource.properties.oidcIssuer?.oidcIssuerUrl === issuer),
  );
  return served ? issuerDocuments(issuer) : undefined;
}

// ---- Microsoft Entra ID ------------------------------------------------------------------------------------

function aadError(status: number, error: string, code: number, description: string): never {
  const trace = randomUUID();
  throw new HttpError(status, {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: trace,
    correlation_id: randomUUID(),
    error_uri: 'https://login.microsoftonline.com/error?code=' + code,
  });
}

/** Entra ID answers a tenant it does not know, at discovery and at the token endpoint, with AADSTS90002. */
function unknownTenant(state: SimState, tenant: string) {
  const known = new Set(
    [...state.tenants.map((t) => t.tenantId), ...state.subscriptions.map((s) => s.tenantId)].map((t) =>
      t.toLowerCase(),
    ),
  );
  if (!known.has(tenant.toLowerCase())) {
    aadError(
      400,
      'invalid_tenant',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }
}

/** Checks a client assertion as Entra ID does for a managed identity's federated credentials; returns an access token. */
export function exchange(ctx: EntraContext, tenant: string, form: URLSearchParams): Reply {
  const { state, config } = ctx;
  if (form.get('grant_type') !== 'client_credentials')
    aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  const clientId = form.get('client_id') ?? '';
  const scope = form.get('scope') ?? '';
  const assertion = form.get('client_assertion') ?? '';
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !assertion) {
    aadError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  unknownTenant(state, tenant);
  const identity = [...state.identities.values()].find(
    (r) =>
      r.resource.properties.clientId.toLowerCase() === clientId.toLowerCase() &&
      r.resource.properties.tenantId === tenant,
  );
  if (!identity)
    aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );

  const [head, body, sig] = assertion.split('.');
  let header: any, claims: any;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString());
    claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  } catch {
    aadError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  }
  const docs = fetchIssuer(state, claims.iss);
  if (!docs)
    aadError(
      400,
      'invalid_request',
      90061,
      `Request to External OIDC endpoint failed. Could not fetch the openid-configuration of issuer '${claims.iss}'.`,
    );
  const jwk = docs!.jwks.keys.find((k) => k.kid === header.kid);
  const valid =
    header.alg === 'RS256' &&
    jwk &&
    verify(
      'sha256',
      Buffer.from(`${head}.${body}`),
      createPublicKey({ key: jwk as any, format: 'jwk' }),
      Buffer.from(sig ?? '', 'base64url'),
    );
  if (!valid)
    aadError(
      401,
      'invalid_client',
      5002727,
      'Invalid JWT token. The signature could not be verified with the keys of the issuer.',
    );
  const now = Date.now() / 1000 + config.entraClockSkewSeconds;
  if (claims.exp < now || (claims.nbf ?? 0) > now + 300)
    aadError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');

  // Exact, case-sensitive comparison of issuer, subject and audience, as Entra ID makes it.
  const fics = [...identity!.credentials.values()].map((f) => ({ ...f.properties, id: f.id }));
  const audiences: string[] = [claims.aud].flat();
  const presented = `Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${audiences.join(',')}'.`;
  const byIssuer = fics.filter((f) => f.issuer === claims.iss);
  if (!byIssuer.length)
    aadError(
      400,
      'invalid_request',
      700211,
      `No matching federated identity record found for presented assertion issuer '${claims.iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    );
  const bySubject = byIssuer.filter((f) => f.subject === claims.sub);
  if (!bySubject.length) {
    if (byIssuer.some((f) => f.subject?.toLowerCase() === String(claims.sub).toLowerCase())) {
      aadError(
        400,
        'invalid_request',
        7002138,
        `No matching federated identity record found for presented assertion subject '${claims.sub}'. The subject matches a federated identity credential only when case is ignored; the comparison is case-sensitive.`,
      );
    }
    aadError(
      400,
      'invalid_request',
      700213,
      `No matching federated identity record found for presented assertion subject '${claims.sub}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    );
  }
  const match = bySubject.find((f) => f.audiences.some((a: string) => audiences.includes(a)));
  if (!match)
    aadError(
      400,
      'invalid_request',
      700212,
      `No matching federated identity record found for presented assertion audience '${audiences.join(',')}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    );
  const written = state.credentialWrittenAt.get(keyOf(match.id)) ?? 0;
  if (Date.now() - written < config.credentialPropagationMs) {
    aadError(
      400,
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. ${presented} https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    );
  }
  const resource = scope.replace(/\/\.default$/, '');
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const access = issueToken(ctx.tokenSecret, {
    aud: resource,
    tid: tenant,
    oid: identity!.resource.properties.principalId,
    upn: '',
    exp,
  });
  issuedWorkloadTokens.push(access);
  return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: access } };
}

export function loginRoutes(ctx: EntraContext): Route[] {
  const TENANT = '/([0-9a-f-]{36})';
  return [
    {
      method: 'GET',
      pattern: new RegExp(`^${TENANT}/v2\\.0/\\.well-known/openid-configuration$`, 'i'),
      op: 'entra.openidConfiguration',
      handle: (r) => {
        unknownTenant(ctx.state, r.params[0]);
        const base = `${ctx.loginUrl()}/${r.params[0]}`;
        return {
          status: 200,
          body: {
            token_endpoint: `${base}/oauth2/v2.0/token`,
            authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
            issuer: `${base}/v2.0`,
            jwks_uri: `${ctx.loginUrl()}/${r.params[0]}/discovery/v2.0/keys`,
            end_session_endpoint: `${base}/oauth2/v2.0/logout`,
            token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
            response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
            scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['RS256'],
            tenant_region_scope: 'NA',
          },
        };
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${TENANT}/oauth2/v2\\.0/token$`, 'i'),
      op: 'entra.token',
      handle: (r) => exchange(ctx, r.params[0], new URLSearchParams(r.rawBody)),
    },
  ];
}
