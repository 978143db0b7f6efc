import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import type { Binding } from '../binding';
import type { ClusterSummary } from '../cluster';
import { groupCredentials } from '../credentialBudget';
import type { VerifyDeps, VerifyFacts, VerifyReport } from './model';
import { verifyBinding } from './verify';
import { describeError } from '../../errors';

const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** Verify on an identity: a report per binding, one per cluster and ServiceAccount its credentials federate. */
export interface IdentityReport {
  identity: IdentityInfo;
  checkedAt: string;
  sections: { report: VerifyReport; facts?: VerifyFacts }[];
  /** Credentials no section checks, with the reason: another tool's, a cluster you cannot see, not a ServiceAccount. */
  notChecked: { credential: CredentialInfo; why: string }[];
}

/**
 * The bindings an identity's credentials make on the clusters you can see (a trailing-slash near miss included: its
 * section shows why it fails), and the credentials that make none.
 */
export function bindingsOfIdentity(
  identity: IdentityInfo,
  credentials: CredentialInfo[],
  clusters: ClusterSummary[],
): { bindings: Binding[]; notChecked: IdentityReport['notChecked'] } {
  const bindings: Binding[] = [];
  const notChecked: IdentityReport['notChecked'] = [];
  for (const group of groupCredentials(credentials, clusters)) {
    if (group.kind === 'otherTool') {
      for (const credential of group.credentials)
        notChecked.push({ credential, why: l10n.t('made by {0}: not a binding of a cluster', group.tool) });
      continue;
    }
    if (group.kind === 'noKnownCluster') {
      for (const credential of group.credentials)
        notChecked.push({
          credential,
          why: l10n.t(
            'its issuer is no cluster you can see: a deleted or rebuilt cluster, or one in a subscription that is not selected',
          ),
        });
      continue;
    }
    for (const credential of [...group.credentials, ...group.nearMiss]) {
      const [, namespace, serviceAccount] = SERVICE_ACCOUNT_SUBJECT.exec(credential.subject ?? '') ?? [];
      if (!namespace || !serviceAccount) {
        notChecked.push({
          credential,
          why: l10n.t('its subject names no ServiceAccount of {0}', group.cluster.name),
        });
        continue;
      }
      const same = bindings.some(
        (b) =>
          b.cluster.id.toLowerCase() === group.cluster.id.toLowerCase() &&
          b.namespace === namespace &&
          b.serviceAccount === serviceAccount,
      );
      if (!same) bindings.push({ cluster: group.cluster, namespace, serviceAccount, identityId: identity.id });
    }
  }
  return { bindings, notChecked };
}

/**
 * Reads for one run, each once: the sections of one identity's report read the same identity, its credentials, the
 * same vaults and grants. Nothing is kept past the run, so Run again reads afresh.
 */
export function readOnce(deps: VerifyDeps): VerifyDeps {
  const seen = new Map<string, Promise<unknown>>();
  const once = <R>(key: string, read: () => Promise<R>): Promise<R> => {
    // A failed read is not kept: the next section tries again.
    if (!seen.has(key))
      seen.set(
        key,
        read().catch((e: unknown) => (seen.delete(key), Promise.reject(e))),
      );
    return seen.get(key) as Promise<R>;
  };
  const id = (r: { id?: string; subscriptionId: string; resourceGroup: string; name: string }) =>
    (r.id ?? `/subscriptions/${r.subscriptionId}/resourceGroups/${r.resourceGroup}/${r.name}`).toLowerCase();
  const { identities: i, vaults: v } = deps;
  return {
    ...deps,
    identities: {
      ...i,
      find: (ref, signal) => once(`find ${id(ref)}`, () => i.find(ref, signal)),
      list: (sub, signal) => once(`list ${sub}`, () => i.list(sub, signal)),
      listCredentials: (ref, signal) => once(`credentials ${id(ref)}`, () => i.listCredentials(ref, signal)),
      listWithCredentials: (sub, signal) =>
        once(`listWithCredentials ${sub}`, () => i.listWithCredentials(sub, signal)),
    },
    vaults: {
      ...v,
      get: (ref, signal) => once(`vault ${id(ref)}`, () => v.get(ref, signal)),
      roleAssignmentsFor: (scope, sub, principal, signal) =>
        once(`roles ${scope} ${principal}`.toLowerCase(), () => v.roleAssignmentsFor(scope, sub, principal, signal)),
    },
  };
}

/**
 * Verify on an identity: reads its credentials, then runs Verify's checks for each binding they make, all at once, each
 * cluster in its own section. Sends no write.
 */
export async function verifyIdentity(
  identity: IdentityInfo,
  clusters: ClusterSummary[],
  deps: VerifyDeps,
  signal?: AbortSignal,
): Promise<IdentityReport> {
  const once = readOnce(deps);
  const credentials = await once.identities.listCredentials(identity, signal);
  const { bindings, notChecked } = bindingsOfIdentity(identity, credentials, clusters);
  const sections = await Promise.all(
    bindings.map((b) =>
      verifyBinding(b, once, signal).catch((e: unknown) => {
        const d = describeError(e);
        return {
          report: {
            target: b,
            checkedAt: new Date().toISOString(),
            notes: [],
            checks: [
              {
                key: 'cluster',
                id: 'cluster' as const,
                title: l10n.t('The checks could run'),
                status: 'error' as const,
                message: `${d.code}: ${d.message}`,
                evidence: [],
              },
            ],
          },
        };
      }),
    ),
  );
  return { identity, checkedAt: new Date().toISOString(), sections, notChecked };
}
