/**
 * Key Vault's data plane, as the service answers a GET of a secret, key or certificate: the caller's token (issued
 * by the simulated Microsoft Entra ID for the vault's resource), the firewall, the vault's permission model (access
 * policies or Azure RBAC, with role assignments' propagation delay), and the object's state.
 */
import { HttpError, Reply, RequestContext, Route } from './http';
import type { SimState } from './model';
import { verifyToken } from './tokens';
import { EntraContext, VAULT_DOMAIN, VAULT_RESOURCE } from './entra';

type Kind = 'secrets' | 'keys' | 'certificates';
/** The data roles and what each lets a caller get. */
const ROLE_GETS: Record<string, Kind[]> = {
  '00482a5a-887f-4fb3-b363-3b7fe8e74483': ['secrets', 'keys', 'certificates'],
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': ['secrets'],
  '4633458b-17de-408a-b874-0445c86b69e6': ['secrets'],
  '14b46e9e-c2b7-41b4-b07b-48a6ebf60603': ['keys'],
  '12338af0-0e69-4776-bea7-57ae8d297424': ['keys'],
  'a4417e6f-fecd-4de8-b567-7b0420556985': ['certificates'],
  'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba': ['certificates'],
};
const NOT_FOUND: Record<Kind, string> = {
  secrets: 'SecretNotFound',
  keys: 'KeyNotFound',
  certificates: 'CertificateNotFound',
};
const SINGULAR: Record<Kind, string> = { secrets: 'secret', keys: 'key', certificates: 'certificate' };
const ACTION: Record<Kind, string> = {
  secrets: 'secrets/getSecret/action',
  keys: 'keys/read',
  certificates: 'certificates/read',
};

const kvError = (
  status: number,
  code: string,
  message: string,
  inner?: string,
  headers?: Record<string, string>,
): never => {
  throw new HttpError(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, headers);
};

/** The vault a request's host names: `<vault>.vault.sim.test[:port]`. */
const vaultOf = (state: SimState, host: string | undefined) => {
  const name = String(host ?? '')
    .split(':')[0]
    .toLowerCase();
  if (!name.endsWith(`.${VAULT_DOMAIN}`)) return undefined;
  const vaultName = name.slice(0, -(VAULT_DOMAIN.length + 1));
  return [...state.vaults.values()].find((v) => v.name.toLowerCase() === vaultName);
};

export function vaultGuard(ctx: EntraContext) {
  return (req: RequestContext) => {
    const v = vaultOf(ctx.state, req.headers.host);
    if (!v) kvError(404, 'VaultNotFound', `No vault is served at ${req.headers.host}.`);
    const challenge = {
      'WWW-Authenticate': `Bearer authorization="${ctx.loginUrl()}/${v.properties.tenantId}", resource="${VAULT_RESOURCE}"`,
    };
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Bearer '))
      kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, challenge);
    const claims = verifyToken(ctx.tokenSecret, auth.slice(7));
    if (!claims) kvError(401, 'Unauthorized', 'AKV10032: Invalid issuer or signature.', undefined, challenge);
    if (claims!.aud.replace(/\/$/, '') !== VAULT_RESOURCE)
      kvError(
        401,
        'Unauthorized',
        `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: ${claims!.aud}.`,
        undefined,
        challenge,
      );
    if (!req.query.get('api-version')) kvError(400, 'BadParameter', 'The api-version query parameter is required.');
    (req as any).vault = v;
    (req as any).principal = claims!.oid;
  };
}

export function vaultRoutes(ctx: EntraContext): Route[] {
  const get =
    (kind: Kind) =>
    (req: RequestContext): Reply => {
      const v = (req as any).vault,
        oid: string = (req as any).principal,
        name = req.params[0];
      if (v.properties.networkAcls?.defaultAction === 'Deny') {
        kvError(
          403,
          'Forbidden',
          `Client address is not authorized and caller is not a trusted service.\r\nClient address: 127.0.0.1\r\nCaller: appid=;oid=${oid}\r\nVault: ${v.name};location=${v.location}`,
          'ForbiddenByFirewall',
        );
      }
      if (v.properties.enableRbacAuthorization) {
        const now = Date.now();
        const allowed = [...ctx.state.roleAssignments.values()].some(
          (ra) =>
            ra.properties.principalId === oid &&
            v.id.toLowerCase().startsWith(ra.properties.scope.toLowerCase()) &&
            (ROLE_GETS[ra.properties.roleDefinitionId.toLowerCase().split('/').pop()] ?? []).includes(kind) &&
            now - (Date.parse(ra.properties.createdOn ?? '') || 0) >= ctx.config.roleAssignmentPropagationMs,
        );
        if (!allowed) {
          kvError(
            403,
            'Forbidden',
            `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=;oid=${oid}\r\nAction: 'Microsoft.KeyVault/vaults/${ACTION[kind]}'\r\nResource: '${v.id.toLowerCase()}/${kind}/${name.toLowerCase()}'\r\nAssignment: (not found)\r\nVault: ${v.name};location=${v.location}`,
            'ForbiddenByRbac',
          );
        }
      } else {
        const policy = (v.properties.accessPolicies ?? []).find((p: any) => p.objectId === oid);
        const perms: string[] = (policy?.permissions?.[kind] ?? []).map((x: string) => x.toLowerCase());
        if (!perms.includes('get') && !perms.includes('all')) {
          kvError(
            403,
            'Forbidden',
            `The user, group or application 'appid=;oid=${oid}' does not have ${kind} get permission on key vault '${v.name};location=${v.location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
            'AccessDenied',
          );
        }
      }
      // A caller allowed to get learns whether the name exists; only secrets are stored here.
      const stored = kind === 'secrets' ? ctx.state.secrets.get(`${v.name}/${name}`.toLowerCase()) : undefined;
      if (stored && !stored.enabled)
        kvError(403, 'Forbidden', `Operation get is not allowed on a disabled secret.`, 'SecretDisabled');
      if (stored)
        return {
          status: 200,
          body: {
            value: stored.value,
            id: `${v.properties.vaultUri}secrets/${name}/${'0'.repeat(32)}`,
            attributes: { enabled: true, recoveryLevel: 'Recoverable+Purgeable' },
            tags: {},
          },
        };
      return kvError(
        404,
        NOT_FOUND[kind],
        `A ${SINGULAR[kind]} with (name/id) ${name} was not found in this key vault. If you recently deleted this ${SINGULAR[kind]} you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    };
  return (['secrets', 'keys', 'certificates'] as const).map((kind) => ({
    method: 'GET',
    pattern: new RegExp(`^/${kind}/([^/]+)(?:/[^/]*)?$`),
    op: `keyvault.${kind}.get`,
    handle: get(kind),
  }));
}
