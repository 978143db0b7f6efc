import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { BindRequest } from '../bind/model';
import { planBind } from '../bind/plan';
import type { ClusterSummary } from '../cluster';
import { removalTitle, type Removal } from '../remove/model';
import { bindingsOfIdentity } from '../verify/identity';
import type { ClusterMigration, MigrateDeps, MigratePlan, MigrateRequest } from './model';

/** The identity's direct bindings on the clusters you can see, each with the credential that makes it. */
export function migrateRequest(
  identity: IdentityInfo,
  credentials: CredentialInfo[],
  clusters: ClusterSummary[],
): MigrateRequest {
  const { bindings } = bindingsOfIdentity(identity, credentials, clusters);
  return {
    identity,
    bindings: bindings.flatMap((b) => {
      const credential = credentials.find(
        (c) =>
          c.subject === `system:serviceaccount:${b.namespace}:${b.serviceAccount}` && c.issuer === b.cluster.issuerUrl,
      );
      return credential ? [{ ...b, credential }] : [];
    }),
  };
}

/** Bind's request in identity-binding mode for one ServiceAccount: no vault is granted (it already is). */
export const bindingRequest = (
  identity: IdentityInfo,
  cluster: ClusterSummary,
  namespace: string,
  name: string,
): BindRequest => ({
  cluster,
  namespace,
  serviceAccount: name,
  // Not part of a migration: the identity's grants stay as they are.
  vault: { id: '', subscriptionId: '', resourceGroup: '', name: '', location: '', rbac: false },
  identity: { kind: 'existing', identity },
  permissions: [],
  mode: 'identityBinding',
});

/** Each cluster's identity-binding steps as Bind plans them, and the direct credentials that go last. */
export async function planMigration(r: MigrateRequest, deps: MigrateDeps, signal?: AbortSignal): Promise<MigratePlan> {
  const byCluster = new Map<string, ClusterMigration>();
  for (const b of r.bindings) {
    const key = b.cluster.id.toLowerCase();
    const m = byCluster.get(key) ?? { cluster: b.cluster, serviceAccounts: [], steps: [] };
    m.serviceAccounts.push({ namespace: b.namespace, name: b.serviceAccount });
    byCluster.set(key, m);
  }
  const clusters = [...byCluster.values()];
  await Promise.all(
    clusters.map(async (m) => {
      // The binding and AKS's credential are per cluster; the RBAC per ServiceAccount.
      const plans = await Promise.all(
        m.serviceAccounts.map((sa) =>
          planBind(
            bindingRequest(r.identity, m.cluster, sa.namespace, sa.name),
            { ...deps, vaults: noVault(deps) },
            signal,
          ),
        ),
      );
      const cluster = plans[0]!.find((s) => s.id === 'cluster')!;
      m.steps = [
        ...(cluster.planned === 'blocked' ? [cluster] : []),
        ...plans[0]!.filter((s) => s.id === 'identityBinding' || s.id === 'managedCredential'),
        ...plans.flatMap((p) => p.filter((s) => s.id === 'useIdentityRbac')),
      ];
    }),
  );
  const retire: Removal[] = r.bindings.map((b) => ({
    key: `credential:${b.credential.name}`,
    kind: 'credential',
    title: removalTitle('credential'),
    resource: l10n.t('{0} on {1}', b.credential.name, r.identity.name),
    decision: 'remove',
    detail: l10n.t(
      '{0}/{1} on {2}, direct: the identity binding replaces it',
      b.namespace,
      b.serviceAccount,
      b.cluster.name,
    ),
    credential: {
      identity: r.identity,
      name: b.credential.name,
      issuer: b.credential.issuer,
      subject: b.credential.subject!,
    },
  }));
  return { request: r, clusters, retire };
}

/** The vault is not part of a migration: its grant stays as it is. */
const noVault = (deps: MigrateDeps): MigrateDeps['vaults'] => ({
  ...deps.vaults,
  get: async () => ({ id: '', name: '', rbac: false, tenantId: '', accessPolicies: [] }) as never,
  roleAssignmentsFor: async () => [],
});
