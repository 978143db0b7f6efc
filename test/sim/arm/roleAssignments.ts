/** Microsoft.Authorization: role assignments and role definitions. */
import type { Reply, RequestContext, Route } from '../http';
import { keyOf } from '../model';
import { fail, BUILT_IN_ROLES, re, GUID, ArmKit } from './common';

export function roleAssignmentRoutes(kit: ArmKit): Route[] {
  const { state, config, now, iso, claimsOf, ok, page, guardOthers } = kit;
  const principalKnown = (id: string, typed: boolean, forceMissing: boolean) => {
    if (forceMissing) return false;
    if (state.knownPrincipals.has(id)) return true;
    const rec = [...state.identities.values()].find((r) => r.resource.properties.principalId === id);
    if (!rec) return false;
    return typed || now() - rec.createdAt >= config.principalReplicationMs;
  };
  const scopeExists = (scope: string) => {
    const s = scope.toLowerCase();
    if (/^\/subscriptions\/[^/]+$/.test(s)) return true;
    if (/^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+$/.test(s)) return true;
    return state.vaults.has(s) || state.clusters.has(s) || state.identities.has(s);
  };
  const putRoleAssignment = (req: RequestContext): Reply => {
    const [scope, name] = req.params;
    if (!GUID.test(name))
      fail(
        400,
        'InvalidRoleAssignmentId',
        `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
      );
    if (!scopeExists(scope)) fail(404, 'ResourceNotFound', `The scope '${scope}' does not exist.`);
    const p = req.json().properties ?? {};
    const roleGuid = /roleDefinitions\/([^/]+)$/i.exec(p.roleDefinitionId ?? '')?.[1]?.toLowerCase();
    if (!roleGuid || !BUILT_IN_ROLES[roleGuid])
      fail(
        400,
        'RoleDefinitionDoesNotExist',
        `The specified role definition with ID '${p.roleDefinitionId}' does not exist.`,
      );
    const tenant = claimsOf(req).tid;
    if (
      !principalKnown(
        p.principalId,
        !!p.principalType,
        req.faults.some((f) => f.kind === 'principalNotFound'),
      )
    ) {
      fail(
        400,
        'PrincipalNotFound',
        `Principal ${p.principalId} does not exist in the directory ${tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.`,
      );
    }
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    const existing = state.roleAssignments.get(keyOf(id));
    const duplicate = [...state.roleAssignments.values()].find(
      (ra) =>
        ra.name !== name &&
        ra.properties.scope.toLowerCase() === scope.toLowerCase() &&
        ra.properties.principalId === p.principalId &&
        ra.properties.roleDefinitionId.toLowerCase().endsWith(roleGuid!),
    );
    if (duplicate) fail(409, 'RoleAssignmentExists', 'The role assignment already exists.');
    if (existing) {
      if (
        existing.properties.principalId !== p.principalId ||
        !existing.properties.roleDefinitionId.toLowerCase().endsWith(roleGuid!)
      ) {
        fail(
          400,
          'RoleAssignmentUpdateNotPermitted',
          'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.',
        );
      }
      return ok(existing, 200);
    }
    const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    const ra = {
      id,
      name,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
        principalId: p.principalId,
        principalType: p.principalType ?? 'ServicePrincipal',
        scope,
        createdOn: iso(),
        updatedOn: iso(),
        createdBy: claimsOf(req).oid,
        updatedBy: claimsOf(req).oid,
      },
    };
    state.roleAssignments.set(keyOf(id), ra);
    return ok(ra, 201);
  };
  const listRoleAssignments = (req: RequestContext): Reply => {
    const scope = req.params[0] || '/';
    const filter = req.query.get('$filter') ?? '';
    const principal = /principalId eq '([^']+)'/i.exec(filter)?.[1];
    const atScope = /atScope\(\)/i.test(filter);
    const s = scope.toLowerCase();
    const rows = [...state.roleAssignments.values()].filter((ra) => {
      const rs = ra.properties.scope.toLowerCase();
      // ARM lists assignments at, above and below the scope; atScope() keeps those at and above.
      const related = atScope ? s.startsWith(rs) : s.startsWith(rs) || rs.startsWith(s);
      return related && (!principal || ra.properties.principalId === principal);
    });
    return page(rows);
  };
  const roleDefinition = (scope: string, guid: string) => {
    const roleName = BUILT_IN_ROLES[guid.toLowerCase()];
    if (!roleName) fail(404, 'RoleDefinitionDoesNotExist', `The role definition '${guid}' does not exist.`);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    return {
      id: `${sub ? `/subscriptions/${sub}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
      name: guid,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName,
        type: 'BuiltInRole',
        description: roleName,
        assignableScopes: ['/'],
        permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [] }],
      },
    };
  };

  return [
    {
      method: 'PUT',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments/([^/]+)'),
      op: 'roleAssignments.create',
      handle: putRoleAssignment,
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments/([^/]+)'),
      op: 'roleAssignments.get',
      handle: (r) => {
        const ra = state.roleAssignments.get(
          keyOf(`${r.params[0]}/providers/Microsoft.Authorization/roleAssignments/${r.params[1]}`),
        );
        if (!ra) fail(404, 'RoleAssignmentNotFound', 'The role assignment does not exist.');
        return ok(ra);
      },
    },
    {
      method: 'DELETE',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments/([^/]+)'),
      op: 'roleAssignments.delete',
      handle: (r) => {
        const key = keyOf(`${r.params[0]}/providers/Microsoft.Authorization/roleAssignments/${r.params[1]}`);
        const ra = state.roleAssignments.get(key);
        if (ra) guardOthers(`roleAssignment:${key}`, `delete the role assignment ${ra.name}`);
        state.roleAssignments.delete(key);
        return ok(ra, ra ? 200 : 204);
      },
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleAssignments'),
      op: 'roleAssignments.listForScope',
      handle: listRoleAssignments,
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleDefinitions/([^/]+)'),
      op: 'roleDefinitions.get',
      handle: (r) => ok(roleDefinition(r.params[0], r.params[1])),
    },
    {
      method: 'GET',
      pattern: re('(.*)/providers/Microsoft\\.Authorization/roleDefinitions'),
      op: 'roleDefinitions.list',
      handle: (r) => {
        const name = /roleName eq '([^']+)'/i.exec(r.query.get('$filter') ?? '')?.[1];
        return page(
          Object.keys(BUILT_IN_ROLES)
            .map((g) => roleDefinition(r.params[0], g))
            .filter((d) => !name || d.properties.roleName === name),
        );
      },
    },
  ];
}
