/** Microsoft.KeyVault vaults: GET, PUT and access policies. */
import type { Reply, RequestContext, Route } from '../http';
import { clone, keyOf } from '../model';
import { fail, unexpectedChanges, SUB, KV, re, GUID, ArmKit } from './common';

export function vaultRoutes(kit: ArmKit): Route[] {
  const { state, ok, page, inSub, inRg, guardOthers } = kit;
  const vault = (sub: string, rg: string, name: string) => {
    const v = state.vaults.get(
      keyOf(`/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/${name}`),
    );
    if (!v)
      fail(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.KeyVault/vaults/${name}' under resource group '${rg}' was not found.`,
      );
    return v;
  };
  const updateAccessPolicy = (req: RequestContext): Reply => {
    const [sub, rg, name, kind] = req.params;
    const v = vault(sub, rg, name);
    const incoming = req.json().properties?.accessPolicies;
    if (!Array.isArray(incoming) || incoming.length === 0)
      fail(400, 'BadRequest', 'properties.accessPolicies is required.');
    if (v.properties.enableRbacAuthorization) {
      fail(
        400,
        'BadRequest',
        `The vault '${name}' uses Azure role-based access control; access policies cannot be changed on it.`,
      );
    }
    const perms = ['keys', 'secrets', 'certificates', 'storage'] as const;
    for (const ap of incoming) {
      if (!GUID.test(ap.objectId ?? '') || !GUID.test(ap.tenantId ?? ''))
        fail(400, 'BadRequest', 'Each access policy needs a tenantId and objectId that are GUIDs.');
      const list: any[] = v.properties.accessPolicies;
      const i = list.findIndex((x) => x.objectId === ap.objectId && x.tenantId === ap.tenantId);
      if (kind.toLowerCase() === 'add') {
        if (list.length >= 1024 && i < 0) fail(400, 'BadRequest', 'A vault can have at most 1024 access policies.');
        if (i < 0)
          list.push({ tenantId: ap.tenantId, objectId: ap.objectId, permissions: clone(ap.permissions ?? {}) });
        else
          for (const k of perms) {
            const merged = new Set([...(list[i].permissions[k] ?? []), ...(ap.permissions?.[k] ?? [])]);
            if (merged.size) list[i].permissions[k] = [...merged];
          }
      } else if (kind.toLowerCase() === 'replace') {
        if (i < 0) list.push(clone(ap));
        else list[i] = clone(ap);
      } else if (i >= 0) {
        // remove takes the listed permissions away; the entry goes when none is left.
        for (const k of perms) {
          for (const perm of ap.permissions?.[k] ?? []) {
            if ((list[i].permissions[k] ?? []).includes(perm))
              guardOthers(
                `policy:${keyOf(v.id)}:${ap.objectId}:${k}:${perm}`,
                `remove ${k}/${perm} of ${ap.objectId} on ${v.name}`,
              );
          }
        }
        for (const k of perms) {
          const left = (list[i].permissions[k] ?? []).filter(
            (x: string) => !(ap.permissions?.[k] ?? []).map((y: string) => y.toLowerCase()).includes(x.toLowerCase()),
          );
          if (left.length) list[i].permissions[k] = left;
          else delete list[i].permissions[k];
        }
        if (!perms.some((k) => list[i].permissions[k]?.length)) list.splice(i, 1);
      }
    }
    return ok({
      id: `${v.id}/accessPolicies/`,
      type: 'Microsoft.KeyVault/vaults/accessPolicies',
      properties: { accessPolicies: incoming },
    });
  };

  /**
   * A whole-vault PUT (what `az keyvault set-policy` sends after its GET): access policies may change, nothing else,
   * and no one else's permission may go.
   */
  const putVault = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    const v = vault(sub, rg, name);
    const body = req.json();
    if (!body.location || !body.properties?.tenantId || !body.properties?.sku)
      fail(400, 'BadRequest', 'A vault needs location, properties.tenantId and properties.sku.');
    const lost = (v.properties.accessPolicies as any[]).flatMap((p) =>
      Object.entries(p.permissions as Record<string, string[]>).flatMap(([k, perms]) =>
        perms
          .filter(
            (perm) =>
              !(body.properties.accessPolicies ?? []).some(
                (q: any) =>
                  q.objectId === p.objectId &&
                  (q.permissions?.[k] ?? []).map((x: string) => x.toLowerCase()).includes(perm.toLowerCase()),
              ),
          )
          .map((perm) => ({
            key: `policy:${keyOf(v.id)}:${p.objectId}:${k}:${perm}`,
            what: `remove ${k}/${perm} of ${p.objectId} on ${v.name}`,
          })),
      ),
    );
    for (const l of lost) guardOthers(l.key, l.what);
    const changes = unexpectedChanges(v, body, []).filter(
      (p) => !/^(systemData|properties\.(accessPolicies|vaultUri|provisioningState|hsmPoolResourceId))(\.|$)/.test(p),
    );
    if (changes.length) {
      state.violations.push(...changes.map((c) => `${v.name}: ${c}`));
      fail(
        400,
        'SimulatorUnexpectedPropertyChange',
        `This PUT would change properties of ${v.name} other than its access policies: ${changes.join('; ')}`,
      );
    }
    v.properties.accessPolicies = clone(body.properties.accessPolicies ?? []);
    return ok(v);
  };

  return [
    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.KeyVault/vaults`),
      op: 'vaults.listBySubscription',
      handle: (r) => page([...state.vaults.values()].filter((v) => inSub(r.params[0])(v.id))),
    },
    {
      method: 'GET',
      pattern: re(KV),
      op: 'vaults.listByResourceGroup',
      handle: (r) => page([...state.vaults.values()].filter((v) => inRg(r.params[0], r.params[1])(v.id))),
    },
    {
      method: 'GET',
      pattern: re(`${KV}/([^/]+)`),
      op: 'vaults.get',
      handle: (r) => ok(vault(r.params[0], r.params[1], r.params[2])),
    },
    {
      method: 'PUT',
      pattern: re(`${KV}/([^/]+)/accessPolicies/(add|replace|remove)`),
      op: 'vaults.updateAccessPolicy',
      handle: updateAccessPolicy,
    },
    { method: 'PUT', pattern: re(`${KV}/([^/]+)`), op: 'vaults.createOrUpdate', handle: putVault },
  ];
}
