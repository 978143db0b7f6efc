import { AzureClientFactory } from './clients';
import { ResourceRef } from './resourceId';

export type Permission = 'secrets' | 'keys' | 'certificates';
export const ALL_PERMISSIONS: Permission[] = ['secrets', 'keys', 'certificates'];

/** The built-in role that grants `get` on each kind of vault object (same ids in every subscription). */
export const ROLE_FOR: Record<Permission, { guid: string; name: string }> = {
  secrets: { guid: '4633458b-17de-408a-b874-0445c86b69e6', name: 'Key Vault Secrets User' },
  certificates: { guid: 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba', name: 'Key Vault Certificate User' },
  keys: { guid: '12338af0-0e69-4776-bea7-57ae8d297424', name: 'Key Vault Crypto User' },
};

export interface AccessPolicy { tenantId: string; objectId: string; permissions: Partial<Record<Permission | 'storage', string[]>> }
export interface VaultDetails extends ResourceRef { tenantId: string; rbac: boolean; accessPolicies: AccessPolicy[] }
export interface RoleAssignmentInfo { id: string; name: string; scope: string; roleDefinitionId: string; principalId: string }

/** Key Vault management plane and role assignments at a vault's scope. */
export class VaultGateway {
  constructor(private readonly clients: AzureClientFactory) {}

  async get(ref: ResourceRef, signal?: AbortSignal): Promise<VaultDetails> {
    const v = await this.clients.keyVault(ref.subscriptionId).vaults.get(ref.resourceGroup, ref.name, { abortSignal: signal });
    return {
      ...ref, tenantId: v.properties.tenantId, rbac: v.properties.enableRbacAuthorization === true,
      accessPolicies: (v.properties.accessPolicies ?? []).map((p) => ({ tenantId: p.tenantId, objectId: p.objectId, permissions: p.permissions as AccessPolicy['permissions'] })),
    };
  }

  /** The `add` operation merges on the service side: no read-modify-write of the whole vault. */
  async addAccessPolicy(ref: ResourceRef, policy: AccessPolicy, signal?: AbortSignal): Promise<void> {
    await this.clients.keyVault(ref.subscriptionId).vaults.updateAccessPolicy(ref.resourceGroup, ref.name, 'add',
      { properties: { accessPolicies: [policy as any] } }, { abortSignal: signal });
  }

  async roleAssignmentsFor(scope: string, subscriptionId: string, principalId: string, signal?: AbortSignal): Promise<RoleAssignmentInfo[]> {
    const out: RoleAssignmentInfo[] = [];
    for await (const ra of this.clients.authorization(subscriptionId).roleAssignments.listForScope(scope, { filter: `principalId eq '${principalId}'`, abortSignal: signal })) {
      out.push({ id: ra.id!, name: ra.name!, scope: ra.scope!, roleDefinitionId: ra.roleDefinitionId!, principalId: ra.principalId! });
    }
    return out;
  }

  async createRoleAssignment(scope: string, subscriptionId: string, name: string, roleGuid: string, principalId: string, signal?: AbortSignal): Promise<void> {
    await this.clients.authorization(subscriptionId).roleAssignments.create(scope, name, {
      roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      principalId, principalType: 'ServicePrincipal',
    }, { abortSignal: signal });
  }
}
