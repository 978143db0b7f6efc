/** The parts of an ARM resource id that the gateways need. */
export interface ResourceRef {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function parseResourceId(id: string): ResourceRef {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)$/i.exec(id);
  const [, subscriptionId, resourceGroup, name] = m ?? [];
  if (!subscriptionId || !resourceGroup || !name) throw new Error(`Not an Azure resource id: ${id}`);
  return { id, subscriptionId, resourceGroup, name };
}
