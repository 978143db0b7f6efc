/** The field manager of every server-side apply the extension makes: labels and annotations of others stay. */
export const FIELD_MANAGER = 'aks-workload-identity';
