/** Microsoft.Resources: the subscriptions and tenants the caller can see. */
import type { RequestContext, Route } from '../http';
import { re, ArmKit } from './common';

export function subscriptionRoutes(kit: ArmKit): Route[] {
  const { state, claimsOf, page } = kit;
  const subsOf = (req: RequestContext) => state.subscriptions.filter((s) => s.tenantId === claimsOf(req).tid);

  return [
    {
      method: 'GET',
      pattern: re('/subscriptions'),
      op: 'subscriptions.list',
      handle: (r) =>
        page(
          subsOf(r).map((s) => ({
            id: `/subscriptions/${s.subscriptionId}`,
            ...s,
            authorizationSource: 'RoleBased',
            subscriptionPolicies: {
              locationPlacementId: 'Public_2014-09-01',
              quotaId: 'PayAsYouGo_2014-09-01',
              spendingLimit: 'Off',
            },
          })),
        ),
    },
    {
      method: 'GET',
      pattern: re('/tenants'),
      op: 'tenants.list',
      handle: () =>
        page(
          state.tenants.map((t) => ({
            id: `/tenants/${t.tenantId}`,
            tenantId: t.tenantId,
            displayName: t.displayName,
            defaultDomain: t.defaultDomain,
            domains: [t.defaultDomain],
            tenantCategory: 'Home',
            tenantType: 'AAD',
            countryCode: 'US',
          })),
        ),
    },
  ];
}
