export type Permission = 'secrets' | 'keys' | 'certificates';
export const ALL_PERMISSIONS: Permission[] = ['secrets', 'keys', 'certificates'];

/** The built-in role that grants `get` on each kind of vault object (same ids in every subscription). */
export const ROLE_FOR: Record<Permission, { guid: string; name: string }> = {
  secrets: { guid: '4633458b-17de-408a-b874-0445c86b69e6', name: 'Key Vault Secrets User' },
  certificates: { guid: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba', name: 'Key Vault Certificate User' },
  keys: { guid: '12338af0-0e69-4776-bea7-57ae8d297424', name: 'Key Vault Crypto User' },
};

/** Built-in Key Vault data roles and the objects each lets a caller `get`. Other roles give no data access. */
const ROLES_WITH_GET: Record<string, { name: string; grants: Permission[] }> = {
  '00482a5a-887f-4fb3-b363-3b7fe8e74483': {
    name: 'Key Vault Administrator',
    grants: ['secrets', 'keys', 'certificates'],
  },
  'b86a8fe4-44ce-4948-aee5-eccb2c155cd7': { name: 'Key Vault Secrets Officer', grants: ['secrets'] },
  '14b46e9e-c2b7-41b4-b07b-48a6ebf60603': { name: 'Key Vault Crypto Officer', grants: ['keys'] },
  'a4417e6f-fecd-4de8-b567-7b0420556985': { name: 'Key Vault Certificates Officer', grants: ['certificates'] },
  ...Object.fromEntries(ALL_PERMISSIONS.map((p) => [ROLE_FOR[p].guid, { name: ROLE_FOR[p].name, grants: [p] }])),
};

/** The role behind a roleDefinitionId, if it is a Key Vault data role. */
export function keyVaultRole(roleDefinitionId: string): { name: string; grants: Permission[] } | undefined {
  return ROLES_WITH_GET[roleDefinitionId.toLowerCase().split('/').pop() ?? ''];
}
