/**
 * The simulated Azure Resource Manager: the guard every request passes (token, subscription, api-version), then one
 * file of routes per resource provider in arm/.
 */
import type { RequestContext, Route } from './http';
import { AKS_SERVER_APP_ID, SimClaims, verifyToken } from './tokens';
import { ArmContext, MIN_API_VERSION, armKit, fail } from './arm/common';
import { clusterRoutes } from './arm/clusters';
import { identityRoutes } from './arm/identities';
import { identityBindingRoutes } from './arm/identityBindings';
import { resourceGraphRoutes } from './arm/resourceGraph';
import { roleAssignmentRoutes } from './arm/roleAssignments';
import { runCommandRoutes } from './arm/runCommand';
import { subscriptionRoutes } from './arm/subscriptions';
import { vaultRoutes } from './arm/vaults';

export type { ArmConfig } from './arm/common';
export { armError, unexpectedChanges } from './arm/common';

export function armGuard(ctx: ArmContext) {
  return (req: RequestContext, _route: Route) => {
    const auth = String(req.headers.authorization ?? '');
    const claims = auth.startsWith('Bearer ') ? verifyToken(ctx.tokenSecret, auth.slice(7)) : undefined;
    if (!claims) fail(401, 'InvalidAuthenticationToken', 'The access token is invalid or has expired.');
    if (claims!.aud.includes(AKS_SERVER_APP_ID))
      fail(401, 'InvalidAuthenticationToken', `The access token has an invalid audience '${claims!.aud}'.`);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(req.path)?.[1];
    if (sub) {
      const s = ctx.state.subscriptions.find((x) => x.subscriptionId.toLowerCase() === sub.toLowerCase());
      if (!s) fail(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
      if (s!.tenantId !== claims!.tid)
        fail(
          401,
          'InvalidAuthenticationTokenTenant',
          `The access token is from the wrong issuer. It must match the tenant associated with subscription '${sub}'.`,
        );
    }
    (req as RequestContext & { claims: SimClaims }).claims = claims!;
    const version = req.query.get('api-version');
    if (!version)
      fail(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    const provider = /\/providers\/(Microsoft\.\w+)/i.exec(req.path)?.[1]?.toLowerCase() ?? 'resources';
    const min = MIN_API_VERSION[provider] ?? '2015-01-01';
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(version!) || version! < min || version! > '2026-12-31') {
      fail(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions for '${provider}' start at '${min}'.`,
      );
    }
  };
}

export function armRoutes(ctx: ArmContext): Route[] {
  const kit = armKit(ctx);
  return [
    ...subscriptionRoutes(kit),
    ...resourceGraphRoutes(kit),
    ...clusterRoutes(kit),
    ...identityBindingRoutes(kit),
    ...runCommandRoutes(kit),
    ...identityRoutes(kit),
    ...vaultRoutes(kit),
    ...roleAssignmentRoutes(kit),
  ];
}
