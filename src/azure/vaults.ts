import { AzureClientFactory } from './clients';
import { ResourceRef } from './resourceId';

import type { Permission } from './keyVaultRoles';

export interface AccessPolicy {
  tenantId: string;
  objectId: string;
  permissions: Partial<Record<Permission | 'storage', string[]>>;
}
export interface VaultDetails extends ResourceRef {
  tenantId: string;
  rbac: boolean;
  accessPolicies: AccessPolicy[];
  vaultUri?: string;
}
export interface RoleAssignmentInfo {
  id: string;
  name: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
}

/** Key Vault management plane and role assignments at a vault's scope. */
export class VaultGateway {
  constructor(private readonly clients: AzureClientFactory) {}

  async get(ref: ResourceRef, signal?: AbortSignal): Promise<VaultDetails> {
    const v = await this.clients
      .keyVault(ref.subscriptionId)
      .vaults.get(ref.resourceGroup, ref.name, { abortSignal: signal });
    return {
      ...ref,
      tenantId: v.properties.tenantId,
      rbac: v.properties.enableRbacAuthorization === true,
      vaultUri: v.properties.vaultUri,
      accessPolicies: (v.properties.accessPolicies ?? []).map((p) => ({
        tenantId: p.tenantId,
        objectId: p.objectId,
        permissions: p.permissions as AccessPolicy['permissions'],
      })),
    };
  }

  /** The `add` operation merges on the service side: no read-modify-write of the whole vault. */
  async addAccessPolicy(ref: ResourceRef, policy: AccessPolicy, signal?: AbortSignal): Promise<void> {
    await this.clients
      .keyVault(ref.subscriptionId)
      .vaults.updateAccessPolicy(
        ref.resourceGroup,
        ref.name,
        'add',
        { properties: { accessPolicies: [policy as any] } },
        { abortSignal: signal },
      );
  }

  /** The `remove` operation takes away only the listed permissions of the principal; its other permissions stay. */
  async removeAccessPolicy(ref: ResourceRef, policy: AccessPolicy, signal?: AbortSignal): Promise<void> {
    await this.clients
      .keyVault(ref.subscriptionId)
      .vaults.updateAccessPolicy(
        ref.resourceGroup,
        ref.name,
        'remove',
        { properties: { accessPolicies: [policy as any] } },
        { abortSignal: signal },
      );
  }

  async deleteRoleAssignment(id: string, subscriptionId: string, signal?: AbortSignal): Promise<void> {
    await this.clients.authorization(subscriptionId).roleAssignments.deleteById(id, { abortSignal: signal });
  }

  async roleAssignmentsFor(
    scope: string,
    subscriptionId: string,
    principalId: string,
    signal?: AbortSignal,
  ): Promise<RoleAssignmentInfo[]> {
    const out: RoleAssignmentInfo[] = [];
    for await (const ra of this.clients
      .authorization(subscriptionId)
      .roleAssignments.listForScope(scope, { filter: `principalId eq '${principalId}'`, abortSignal: signal })) {
      out.push({
        id: ra.id!,
        name: ra.name!,
        scope: ra.scope!,
        roleDefinitionId: ra.roleDefinitionId!,
        principalId: ra.principalId!,
      });
    }
    return out;
  }

  async createRoleAssignment(
    scope: string,
    subscriptionId: string,
    name: string,
    roleGuid: string,
    principalId: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.clients.authorization(subscriptionId).roleAssignments.create(
      scope,
      name,
      {
        roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
        principalId,
        principalType: 'ServicePrincipal',
      },
      { abortSignal: signal },
    );
  }
}
