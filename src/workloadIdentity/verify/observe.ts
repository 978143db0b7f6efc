import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import { parseResourceId } from '../../azure/resourceId';
import { clusterFromSdk } from '../cluster';
import { describeError } from '../../errors';
import { mapLimit } from '../../util/concurrency';
import { CLIENT_ID_ANNOTATION } from '../manifest';
import { serviceAccountSubject } from '../names';
import { FoundIdentity, Read, VaultGrants, VerifyDeps, VerifyFacts } from './model';
import type { Binding } from '../binding';
import type { IdentityBindingInfo } from '../../azure/identityBindings';

const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

async function read<T>(fn: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    const d = describeError(e);
    return { ok: false, error: `${d.code}: ${d.message}` };
  }
}
const value = <T>(r: Read<T>): T | undefined => (r.ok ? r.value : undefined);

/** Covers the vault: assigned at the vault or at a scope above it. */
export const covers = (scope: string, vaultId: string) => {
  const s = scope.toLowerCase().replace(/\/$/, ''),
    v = vaultId.toLowerCase();
  return v === s || v.startsWith(`${s}/`);
};

/**
 * Reads everything the checks compare. Sends no write. Reads that do not depend on each other run together, and a
 * failed read marks only the checks that needed it.
 */
export async function observe(target: Binding, deps: VerifyDeps, signal?: AbortSignal): Promise<VerifyFacts> {
  const subject = serviceAccountSubject(target.namespace, target.serviceAccount);
  const kube = read(() => deps.kube(target.cluster));
  const fromKube = <T>(fn: (k: Awaited<ReturnType<VerifyDeps['kube']>>) => Promise<T>) =>
    kube.then((k) => (k.ok ? read(() => fn(k.value)) : { ok: false as const, error: k.error }));

  const [cluster, webhooks, serviceAccount, pods, inventoryClusters] = await Promise.all([
    read(async () => clusterFromSdk(await deps.clusters.get(target.cluster, signal))),
    fromKube((k) => k.listWorkloadIdentityWebhooks()),
    fromKube((k) => k.getServiceAccount(target.namespace, target.serviceAccount)),
    fromKube((k) => k.listPods(target.namespace)),
    deps.inventory.clusters().catch(() => []),
  ]);
  const knownIssuers = new Map(inventoryClusters.filter((c) => c.issuerUrl).map((c) => [c.issuerUrl!, c.name]));
  const subscriptions = [
    ...new Set([target.cluster.subscriptionId, ...inventoryClusters.map((c) => c.subscriptionId)]),
  ];

  const identity = await read(() => findIdentity(target, value(serviceAccount), subject, subscriptions, deps, signal));
  const found = value(identity)?.identity;
  const [credentials, vaults, identityBindings] = await Promise.all([
    found
      ? read(() => deps.identities.listCredentials(found, signal))
      : Promise.resolve<Read<CredentialInfo[]>>({ ok: true, value: [] }),
    found
      ? read(() => vaultGrants(target, found, deps, signal))
      : Promise.resolve<Read<VaultGrants[]>>({ ok: true, value: [] }),
    found
      ? read(() => deps.identityBindings.list(target.cluster, signal))
      : Promise.resolve<Read<IdentityBindingInfo[]>>({ ok: true, value: [] }),
  ]);
  const viaBinding = found && identityBindings.ok && identityBindings.value.some((b) => sameId(b.identityId, found.id));
  const webhookNamespace = (webhooks.ok && webhooks.value[0]?.serviceNamespace) || 'kube-system';
  const [rbac, webhookVersion] = viaBinding
    ? await Promise.all([
        fromKube((k) => k.listClusterRbac()),
        fromKube((k) => k.listWorkloads(webhookNamespace).then(webhookVersionOf)),
      ])
    : [undefined, undefined];
  return {
    target,
    cluster,
    webhooks,
    serviceAccount,
    identity,
    credentials,
    knownIssuers,
    vaults,
    pods,
    identityBindings,
    ...(rbac ? { rbac } : {}),
    ...(webhookVersion ? { webhookVersion } : {}),
  };
}

/** The pod gets the identity whose client id the ServiceAccount names; without one, the binding's, or one federated for this subject. */
async function findIdentity(
  target: Binding,
  sa: { annotations: Record<string, string> } | undefined,
  subject: string,
  subscriptions: string[],
  deps: VerifyDeps,
  signal?: AbortSignal,
): Promise<FoundIdentity> {
  const clientId = sa?.annotations[CLIENT_ID_ANNOTATION];
  if (clientId) {
    const match = (list: IdentityInfo[]) =>
      list.find((i) => i.clientId.toLowerCase() === clientId.trim().toLowerCase());
    // The cluster's subscription first: that is where the lab creates it. Then the others, several at a time.
    const [first, ...rest] = subscriptions;
    const hit =
      (first === undefined ? undefined : match(await deps.identities.list(first, signal))) ??
      (await mapLimit(rest, 8, async (sub) => match(await deps.identities.list(sub, signal)))).find((i) => i);
    return hit ? { identity: hit, via: 'annotation' } : { via: 'none' };
  }
  if (target.identityId) {
    const identity = await deps.identities.find(parseResourceId(target.identityId), signal);
    return identity ? { identity, via: 'binding' } : { via: 'none' };
  }
  const hit = (await deps.identities.listWithCredentials(target.cluster.subscriptionId, signal)).find((i) =>
    i.credentials.some((c) => c.subject?.toLowerCase() === subject.toLowerCase()),
  );
  if (!hit) return { via: 'none' };
  const { credentials: _read, ...identity } = hit;
  return { identity, via: 'credential' };
}

/** The chosen vault, or every vault the user can see on which the identity has a role or an access policy. */
async function vaultGrants(
  target: Binding,
  identity: IdentityInfo,
  deps: VerifyDeps,
  signal?: AbortSignal,
): Promise<VaultGrants[]> {
  if (target.vault) {
    const [vault, roles] = await Promise.all([
      deps.vaults.get(target.vault, signal),
      deps.vaults.roleAssignmentsFor(target.vault.id, target.vault.subscriptionId, identity.principalId, signal),
    ]);
    return [{ vault, roles: roles.filter((r) => covers(r.scope, vault.id)), chosen: true }];
  }
  const vaults = await deps.inventory.vaults();
  // One listing per subscription returns the identity's assignments at, above and below it.
  const subs = [...new Set(vaults.map((v) => v.subscriptionId))];
  const [roles, details] = await Promise.all([
    mapLimit(subs, 4, (sub) =>
      deps.vaults.roleAssignmentsFor(`/subscriptions/${sub}`, sub, identity.principalId, signal),
    ).then((r) => r.flat()),
    mapLimit(vaults, 8, (v) => deps.vaults.get(v, signal)),
  ]);
  return details
    .map((vault) => ({ vault, roles: roles.filter((r) => covers(r.scope, vault.id)), chosen: false }))
    .filter((g) => g.roles.length || g.vault.accessPolicies.some((p) => p.objectId === identity.principalId));
}

/** The workload identity webhook's version: the tag of its Deployment's image (mcr.microsoft.com/…/webhook:v1.6.0). */
export function webhookVersionOf(workloads: any[]): string | undefined {
  for (const w of workloads) {
    if (w?.kind !== 'Deployment') continue;
    for (const c of w.spec?.template?.spec?.containers ?? []) {
      const tag = /workload-identity\/webhook:v?(\d+\.\d+(?:\.\d+)?)/.exec(String(c.image ?? ''))?.[1];
      if (tag) return tag;
    }
  }
  return undefined;
}
