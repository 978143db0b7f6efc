/**
 * AKS's identity-binding proxy, as the facts describe it: a pod's SDK (WorkloadIdentityCredential with the Azure proxy
 * option) sends Entra ID's token request to it instead of Entra ID. The proxy takes the pod's ServiceAccount token
 * (audience api://AKSIdentityBinding), asks the cluster's RBAC whether the ServiceAccount may `use-managed-identity`
 * on the client id, and exchanges with the identity binding's own credential on the pod's behalf.
 */
import { HttpError, type Route } from './http';
import {
  clusterOfServiceAccountToken,
  exchange,
  identityBindingAssertion,
  loginRoutes,
  type EntraContext,
} from './entra';
import { serviceAccountMay } from './rbac';
import { IDENTITY_BINDING_AUDIENCE, IDENTITY_BINDING_SUBJECT } from './arm/identityBindings';

/** The TLS name pods reach the proxy by (AZURE_KUBERNETES_SNI_NAME); the simulator's certificate carries it. */
export const PROXY_SNI_NAME = 'ib-proxy.sim.test';

/** The proxy's refusals, in Entra ID's error shape so the SDK surfaces them; their texts are the API server's. */
const refuse = (status: number, error: string, description: string): never => {
  throw new HttpError(status, { error, error_description: description, error_codes: [] });
};

export function aksProxyRoutes(ctx: EntraContext): Route[] {
  return [
    // The SDK sends every request of the exchange here, the authority's discovery document included.
    ...loginRoutes(ctx).filter((r) => r.method === 'GET'),
    {
      method: 'POST',
      pattern: /^\/([0-9a-f-]{36})\/oauth2\/v2\.0\/token$/i,
      op: 'aksProxy.token',
      handle: (r) => {
        const form = new URLSearchParams(r.rawBody);
        const presented = clusterOfServiceAccountToken(ctx.state, form.get('client_assertion') ?? '');
        if (!presented)
          refuse(401, 'invalid_client', 'The client assertion is not a valid ServiceAccount token of this cluster.');
        const { cluster, claims } = presented!;
        if (![claims.aud].flat().includes(IDENTITY_BINDING_AUDIENCE))
          refuse(
            401,
            'invalid_client',
            `The ServiceAccount token's audience is '${[claims.aud].flat().join(',')}'; the identity binding proxy takes '${IDENTITY_BINDING_AUDIENCE}'.`,
          );
        const clientId = (form.get('client_id') ?? '').toLowerCase();
        const binding = [...(cluster.identityBindings?.values() ?? [])].find(
          (b) =>
            b.resource.properties.managedIdentity?.clientId?.toLowerCase() === clientId &&
            (b.resource.properties.provisioningState === 'Succeeded' ||
              (b.operation && Date.now() >= b.operation.doneAt)),
        );
        if (!binding)
          refuse(
            403,
            'unauthorized_client',
            `Managed cluster '${cluster.name}' has no identity binding for the managed identity with client id '${clientId}'.`,
          );
        const [, , namespace = '', serviceAccount = ''] = String(claims.sub).split(':');
        if (
          !serviceAccountMay(
            cluster.kube,
            namespace,
            serviceAccount,
            'use-managed-identity',
            'cid.wi.aks.azure.com',
            clientId,
          )
        )
          refuse(
            403,
            'unauthorized_client',
            `User "${claims.sub}" cannot use-managed-identity resource "${clientId}" in API group "cid.wi.aks.azure.com" at the cluster scope`,
          );
        const issuer = binding!.resource.properties.oidcIssuer.oidcIssuerUrl;
        form.set(
          'client_assertion',
          identityBindingAssertion(issuer, IDENTITY_BINDING_SUBJECT, IDENTITY_BINDING_AUDIENCE),
        );
        return exchange(ctx, r.params[0]!, form);
      },
    },
  ];
}
