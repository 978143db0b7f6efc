export type Permission = 'secrets' | 'keys' | 'certificates';
export const ALL_PERMISSIONS: Permission[] = ['secrets', 'keys', 'certificates'];

/** The built-in role that grants `get` on each kind of vault object (same ids in every subscription). */
export const ROLE_FOR: Record<Permission, { guid: string; name: string }> = {
  secrets: { guid: '4633458b-17de-408a-b874-0445c86b69e6', name: 'Key Vault Secrets User' },
  certificates: { guid: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba', name: 'Key Vault Certificate User' },
  keys: { guid: '12338af0-0e69-4776-bea7-57ae8d297424', name: 'Key Vault Crypto User' },
};
