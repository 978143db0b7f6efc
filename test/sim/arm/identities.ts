/** Microsoft.ManagedIdentity: user-assigned identities and their federated credentials. */
import { randomUUID } from 'node:crypto';
import type { Reply, RequestContext, Route } from '../http';
import { keyOf } from '../model';
import { fail, SUB, MSI, re, IDENTITY_NAME, CREDENTIAL_NAME, MAX_CREDENTIALS_PER_IDENTITY, ArmKit } from './common';

export function identityRoutes(kit: ArmKit): Route[] {
  const { state, config, now, claimsOf, ok, page, inSub, inRg, requireRg, guardOthers } = kit;
  const identityId = (sub: string, rg: string, name: string) =>
    `/subscriptions/${sub}/resourcegroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  const identity = (sub: string, rg: string, name: string) => {
    const rec = state.identities.get(keyOf(identityId(sub, rg, name)));
    if (!rec)
      fail(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${name}' under resource group '${rg}' was not found.`,
      );
    return rec!;
  };
  const putIdentity = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    requireRg(sub, rg);
    if (!IDENTITY_NAME.test(name))
      fail(
        400,
        'InvalidResourceName',
        `Resource name '${name}' is invalid. The name can contain only letters, numbers, underscores and hyphens, must start with a letter or number, and be 3 to 128 characters long.`,
      );
    const body = req.json();
    if (!body.location) fail(400, 'LocationRequired', 'The location property is required for this definition.');
    const key = keyOf(identityId(sub, rg, name));
    const existing = state.identities.get(key);
    if (existing) {
      if (existing.resource.location.toLowerCase() !== String(body.location).toLowerCase())
        fail(
          400,
          'InvalidResourceLocation',
          `The resource '${name}' already exists in location '${existing.resource.location}'.`,
        );
      existing.resource.tags = body.tags ?? existing.resource.tags;
      return ok(existing.resource, 200);
    }
    const resource = {
      id: identityId(sub, rg, name),
      name,
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
      location: body.location,
      tags: body.tags ?? {},
      properties: {
        clientId: randomUUID(),
        principalId: randomUUID(),
        tenantId: claimsOf(req).tid,
        isolationScope: 'None',
      },
    };
    state.identities.set(key, { resource, createdAt: now(), credentials: new Map(), writeBusyUntil: 0 });
    return ok(resource, 201);
  };

  const credentialBody = (idRes: any, name: string, props: any) => ({
    id: `${idRes.id}/federatedIdentityCredentials/${name}`,
    name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    properties: props,
  });
  const putCredential = async (req: RequestContext): Promise<Reply> => {
    const [sub, rg, idName, name] = req.params;
    const rec = identity(sub, rg, idName);
    if (!CREDENTIAL_NAME.test(name))
      fail(
        400,
        'BadRequest',
        `Invalid federated identity credential name '${name}': it must match ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$ (3-120 characters, letters, digits, '-' and '_', starting with a letter or digit).`,
      );
    const p = req.json().properties ?? {};
    if (typeof p.issuer !== 'string' || !/^https:\/\//.test(p.issuer))
      fail(400, 'BadRequest', "The issuer must be a URL that starts with 'https://'.");
    if (typeof p.subject !== 'string' || !p.subject || p.subject.length > 600)
      fail(400, 'BadRequest', 'The subject is required and must be at most 600 characters.');
    if (!Array.isArray(p.audiences) || p.audiences.length !== 1 || typeof p.audiences[0] !== 'string')
      fail(400, 'BadRequest', 'Exactly one audience is required.');
    if (now() < rec.writeBusyUntil) {
      fail(
        409,
        'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
        'Too many Federated Identity Credentials are written concurrently for the managed identity. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.',
      );
    }
    const key = name.toLowerCase();
    for (const [k, fic] of rec.credentials) {
      if (k !== key && fic.properties.issuer === p.issuer && fic.properties.subject === p.subject) {
        fail(
          400,
          'BadRequest',
          `A federated identity credential with issuer '${p.issuer}' and subject '${p.subject}' already exists under the name '${fic.name}'.`,
        );
      }
    }
    const exists = rec.credentials.has(key);
    if (!exists && rec.credentials.size >= MAX_CREDENTIALS_PER_IDENTITY) {
      fail(
        400,
        'BadRequest',
        `The managed identity '${idName}' already has the maximum of ${MAX_CREDENTIALS_PER_IDENTITY} federated identity credentials.`,
      );
    }
    rec.writeBusyUntil = now() + config.credentialWriteMs;
    await new Promise((r) => setTimeout(r, config.credentialWriteMs));
    const fic = credentialBody(rec.resource, name, { issuer: p.issuer, subject: p.subject, audiences: p.audiences });
    rec.credentials.set(key, fic);
    state.credentialWrittenAt.set(keyOf(fic.id), now());
    return ok(fic, exists ? 200 : 201);
  };

  return [
    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities`),
      op: 'userAssignedIdentities.listBySubscription',
      handle: (r) =>
        page([...state.identities.values()].map((x) => x.resource).filter((x) => inSub(r.params[0])(x.id))),
    },
    {
      method: 'GET',
      pattern: re(MSI),
      op: 'userAssignedIdentities.listByResourceGroup',
      handle: (r) =>
        page([...state.identities.values()].map((x) => x.resource).filter((x) => inRg(r.params[0], r.params[1])(x.id))),
    },
    {
      method: 'GET',
      pattern: re(`${MSI}/([^/]+)`),
      op: 'userAssignedIdentities.get',
      handle: (r) => ok(identity(r.params[0], r.params[1], r.params[2]).resource),
    },
    { method: 'PUT', pattern: re(`${MSI}/([^/]+)`), op: 'userAssignedIdentities.createOrUpdate', handle: putIdentity },
    {
      method: 'DELETE',
      pattern: re(`${MSI}/([^/]+)`),
      op: 'userAssignedIdentities.delete',
      handle: (r) => {
        const id = identityId(r.params[0], r.params[1], r.params[2]);
        if (state.identities.has(keyOf(id))) guardOthers(`identity:${keyOf(id)}`, `delete the identity ${r.params[2]}`);
        const existed = state.identities.delete(keyOf(id));
        return ok(undefined, existed ? 200 : 204);
      },
    },
    {
      method: 'GET',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials`),
      op: 'federatedIdentityCredentials.list',
      handle: (r) => page([...identity(r.params[0], r.params[1], r.params[2]).credentials.values()]),
    },
    {
      method: 'GET',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials/([^/]+)`),
      op: 'federatedIdentityCredentials.get',
      handle: (r) => {
        const fic = identity(r.params[0], r.params[1], r.params[2]).credentials.get(r.params[3].toLowerCase());
        if (!fic) fail(404, 'NotFound', `Federated identity credential '${r.params[3]}' was not found.`);
        return ok(fic);
      },
    },
    {
      method: 'PUT',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials/([^/]+)`),
      op: 'federatedIdentityCredentials.createOrUpdate',
      handle: putCredential,
    },
    {
      method: 'DELETE',
      pattern: re(`${MSI}/([^/]+)/federatedIdentityCredentials/([^/]+)`),
      op: 'federatedIdentityCredentials.delete',
      handle: (r) => {
        const rec = identity(r.params[0], r.params[1], r.params[2]);
        const fic = rec.credentials.get(r.params[3].toLowerCase());
        if (fic)
          guardOthers(`credential:${keyOf(fic.id)}`, `delete the federated credential ${fic.name} of ${r.params[2]}`);
        const existed = rec.credentials.delete(r.params[3].toLowerCase());
        return ok(undefined, existed ? 200 : 204);
      },
    },
  ];
}
