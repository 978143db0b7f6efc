import type { IdentityBindingInfo } from '../azure/identityBindings';
import { errorMessage } from '../errors';
import { mapLimit } from '../util/concurrency';
import type { ClusterSummary } from './cluster';

/** Where an identity has identity bindings, among the clusters given; a cluster whose list failed is unreadable. */
export interface IdentityBindingReach {
  served: { cluster: ClusterSummary; binding: IdentityBindingInfo }[];
  unreadable: { cluster: ClusterSummary; error: string }[];
}

/**
 * The clusters an identity serves through identity bindings. ARM has no list by identity (Resource Graph does not
 * index the child resource), so each cluster's list is read, 8 at a time. A cluster gone since it was listed (404)
 * serves nothing; any other failure is reported, never read as "not bound".
 */
export async function identityBindingReach(
  identityId: string,
  clusters: ClusterSummary[],
  list: (cluster: ClusterSummary, signal?: AbortSignal) => Promise<IdentityBindingInfo[]>,
  signal?: AbortSignal,
): Promise<IdentityBindingReach> {
  const id = identityId.toLowerCase();
  const reach: IdentityBindingReach = { served: [], unreadable: [] };
  type Answer = { cluster: ClusterSummary } & ({ bindings: IdentityBindingInfo[] } | { error: string });
  const answers = await mapLimit(clusters, 8, async (cluster): Promise<Answer> => {
    try {
      return { cluster, bindings: await list(cluster, signal) };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return { cluster, bindings: [] };
      return { cluster, error: errorMessage(e) };
    }
  });
  for (const a of answers) {
    if ('error' in a) reach.unreadable.push({ cluster: a.cluster, error: a.error });
    else
      for (const binding of a.bindings)
        if (binding.identityId.toLowerCase() === id) reach.served.push({ cluster: a.cluster, binding });
  }
  return reach;
}
