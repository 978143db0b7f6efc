/** The parts of an ARM resource id that the gateways need. */
export interface ResourceRef {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function parseResourceId(id: string): ResourceRef {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`Not an Azure resource id: ${id}`);
  return { id, subscriptionId: m[1], resourceGroup: m[2], name: m[3] };
}
