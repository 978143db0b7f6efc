/**
 * Microsoft.ContainerService/managedClusters/identityBindings (api-version 2026-06-01, @azure/arm-containerservice
 * 25.5.0): a PUT is a long-running operation; when it succeeds, AKS has made, or reuses, the one federated credential
 * `aks-identity-binding` on the identity, whose issuer every binding of that identity shares.
 */
import { randomUUID } from 'node:crypto';
import type { Reply, RequestContext, Route } from '../http';
import { keyOf, type ClusterRecord, type IdentityBindingRecord } from '../model';
import { fail, AKS, re, ArmKit } from './common';

/** The first api-version with identity bindings outside preview. */
export const IDENTITY_BINDINGS_API = '2026-06-01';
export const IDENTITY_BINDING_CREDENTIAL = 'aks-identity-binding';
export const IDENTITY_BINDING_AUDIENCE = 'api://AKSIdentityBinding';
/** The subject the simulated AKS writes in its credential and presents as (not documented for the real one). */
export const IDENTITY_BINDING_SUBJECT = 'aks-identity-binding';
const ISSUER_HOST = 'https://ib.oic.prod-aks.azure.com';
export const identityBindingIssuer = (tenantId: string, clientId: string) => `${ISSUER_HOST}/${tenantId}/${clientId}`;

export function identityBindingRoutes(kit: ArmKit): Route[] {
  const { state, config, now, iso, ok, page, clusterById, ctx } = kit;

  /** Preview versions had the type too; a stable version before the first stable one did not. */
  const requireVersion = (req: RequestContext) => {
    const v = req.query.get('api-version')!;
    if (!v.endsWith('-preview') && v < IDENTITY_BINDINGS_API)
      fail(
        400,
        'InvalidResourceType',
        `The resource type 'managedClusters/identityBindings' could not be found in the namespace 'Microsoft.ContainerService' for api version '${v}'.`,
      );
  };

  const bindingsOf = (c: ClusterRecord) => (c.identityBindings ??= new Map());

  /** A finished operation's effect: the binding succeeded, and the identity has AKS's credential. */
  const settle = (b: IdentityBindingRecord) => {
    if (!b.operation || b.operation.status !== 'InProgress' || now() < b.operation.doneAt) return;
    b.operation.status = 'Succeeded';
    b.operation.endTime = iso();
    b.resource.properties.provisioningState = 'Succeeded';
    const identity = state.identities.get(keyOf(b.resource.properties.managedIdentity.resourceId));
    if (identity && !identity.credentials.has(IDENTITY_BINDING_CREDENTIAL)) {
      const { tenantId, clientId } = identity.resource.properties;
      identity.credentials.set(IDENTITY_BINDING_CREDENTIAL, {
        id: `${identity.resource.id}/federatedIdentityCredentials/${IDENTITY_BINDING_CREDENTIAL}`,
        name: IDENTITY_BINDING_CREDENTIAL,
        type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
        properties: {
          issuer: identityBindingIssuer(tenantId, clientId),
          subject: IDENTITY_BINDING_SUBJECT,
          audiences: [IDENTITY_BINDING_AUDIENCE],
        },
      });
    }
  };
  const settled = (c: ClusterRecord) => [...bindingsOf(c).values()].map((b) => (settle(b), b));

  const binding = (c: ClusterRecord, name: string) => {
    const b = bindingsOf(c).get(name.toLowerCase());
    if (!b)
      fail(
        404,
        'NotFound',
        `The identity binding '${name}' was not found in managed cluster '${c.name}' of resource group '${c.resourceGroup}'.`,
      );
    settle(b!);
    return b!;
  };

  const put = (req: RequestContext): Reply => {
    requireVersion(req);
    const [sub, rg, clusterName, name] = req.params;
    const c = clusterById(sub, rg, clusterName);
    const p = c.resource.properties;
    if (p.apiServerAccessProfile?.enableVnetIntegration)
      fail(
        400,
        'BadRequest',
        `Identity bindings are not supported on managed cluster '${c.name}': its API server uses VNet integration.`,
      );
    if (!p.oidcIssuerProfile?.enabled || !p.securityProfile?.workloadIdentity?.enabled)
      fail(
        400,
        'BadRequest',
        `Identity bindings need the OIDC issuer and workload identity enabled on managed cluster '${c.name}'.`,
      );
    const resourceId = req.json()?.properties?.managedIdentity?.resourceId;
    if (typeof resourceId !== 'string')
      fail(400, 'InvalidParameter', "The value of parameter 'properties.managedIdentity.resourceId' is required.");
    const identity = state.identities.get(keyOf(resourceId));
    if (!identity)
      fail(400, 'InvalidParameter', `The managed identity '${resourceId}' was not found or is not accessible.`);
    const existing = bindingsOf(c).get(name.toLowerCase());
    if (existing) settle(existing);
    if (existing?.operation?.status === 'InProgress')
      fail(409, 'OperationNotAllowed', `Another operation on identity binding '${name}' is in progress.`);
    if (
      existing &&
      existing.resource.properties.managedIdentity.resourceId.toLowerCase() !== String(resourceId).toLowerCase()
    )
      fail(
        400,
        'BadRequest',
        `The identity binding '${name}' already binds another managed identity; its managed identity cannot change.`,
      );
    const { clientId, principalId, tenantId } = identity!.resource.properties;
    const opId = randomUUID();
    const resource = {
      id: `${c.resource.id}/identityBindings/${name}`,
      name,
      type: 'Microsoft.ContainerService/managedClusters/identityBindings',
      properties: {
        managedIdentity: { resourceId: identity!.resource.id, clientId, objectId: principalId, tenantId },
        oidcIssuer: { oidcIssuerUrl: identityBindingIssuer(tenantId, clientId) },
        provisioningState: existing ? 'Updating' : 'Creating',
      },
    };
    bindingsOf(c).set(name.toLowerCase(), {
      resource,
      operation: { id: opId, status: 'InProgress', startTime: iso(), doneAt: now() + config.identityBindingMs },
    });
    const asyncUrl = `${ctx.armUrl()}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/${c.resource.location}/identityBindingOperations/${opId}?api-version=${req.query.get('api-version')}`;
    return ok(resource, existing ? 200 : 201, {
      'Azure-AsyncOperation': asyncUrl,
      'Retry-After': String(config.pollRetryAfterSeconds),
    });
  };

  const del = (req: RequestContext): Reply => {
    requireVersion(req);
    const [sub, rg, clusterName, name] = req.params;
    const c = clusterById(sub, rg, clusterName);
    // AKS leaves its credential on the identity: the last binding's removal does not delete it.
    if (!bindingsOf(c).delete(name.toLowerCase())) return ok(undefined, 204);
    return ok(undefined, 200);
  };

  const operationStatus = (req: RequestContext): Reply => {
    const [, , opId] = req.params;
    const b = [...state.clusters.values()].flatMap(settled).find((x) => x.operation?.id === opId);
    if (!b) fail(404, 'NotFound', `Operation ${opId} was not found.`);
    const op = b!.operation!;
    const body: any = { id: req.path, name: op.id, status: op.status, startTime: op.startTime };
    if (op.endTime) body.endTime = op.endTime;
    return ok(body, 200, op.status === 'InProgress' ? { 'Retry-After': String(config.pollRetryAfterSeconds) } : {});
  };

  return [
    {
      method: 'GET',
      pattern: re(`${AKS}/([^/]+)/identityBindings`),
      op: 'identityBindings.listByManagedCluster',
      handle: (r) => {
        requireVersion(r);
        return page(settled(clusterById(r.params[0], r.params[1], r.params[2])).map((b) => b.resource));
      },
    },
    {
      method: 'GET',
      pattern: re(`${AKS}/([^/]+)/identityBindings/([^/]+)`),
      op: 'identityBindings.get',
      handle: (r) => {
        requireVersion(r);
        return ok(binding(clusterById(r.params[0], r.params[1], r.params[2]), r.params[3]).resource);
      },
    },
    {
      method: 'PUT',
      pattern: re(`${AKS}/([^/]+)/identityBindings/([^/]+)`),
      op: 'identityBindings.createOrUpdate',
      handle: put,
    },
    {
      method: 'DELETE',
      pattern: re(`${AKS}/([^/]+)/identityBindings/([^/]+)`),
      op: 'identityBindings.delete',
      handle: del,
    },
    {
      method: 'GET',
      pattern: re(
        `/subscriptions/([^/]+)/providers/Microsoft\\.ContainerService/locations/([^/]+)/identityBindingOperations/([^/]+)`,
      ),
      op: 'identityBindings.getOperation',
      handle: operationStatus,
    },
  ];
}
