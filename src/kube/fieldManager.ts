/** The field manager of every server-side apply the extension makes: labels and annotations of others stay. */
export const FIELD_MANAGER = 'aks-workload-identity';

/** Everyone but this extension who has fields on an object (its `fieldManagers`, by field). */
export const otherManagers = (fieldManagers: Record<string, string[]>) =>
  [...new Set(Object.values(fieldManagers).flat())].filter((m) => m !== FIELD_MANAGER);
