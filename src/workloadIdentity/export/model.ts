import type { BindRequest } from '../bind/model';
import { workloadIdentityState } from '../cluster';
import { FIELD_MANAGER } from '../../kube/fieldManager';
import { Permission, ROLE_FOR } from '../../azure/keyVaultRoles';
import { TOKEN_EXCHANGE_AUDIENCE, credentialName, serviceAccountSubject } from '../names';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../manifest';

/**
 * A binding as code sees it: Bind's request with the names Bind derives, so every format says exactly what Bind
 * would do. Nothing in it is secret: the client id and issuer are read at run time by the script and Terraform.
 */
export interface BindingSpec {
  cluster: {
    name: string;
    resourceGroup: string;
    subscriptionId: string;
    private: boolean;
    entraId: boolean;
    workloadIdentityOn: boolean;
  };
  namespace: string;
  serviceAccount: string;
  subject: string;
  audience: string;
  identity: { name: string; resourceGroup: string; subscriptionId: string; location: string; exists: boolean };
  vault: { name: string; resourceGroup: string; subscriptionId: string; rbac: boolean };
  /** The kinds Bind grants get on, each with the role that grants it on an RBAC vault. */
  grants: { kind: Permission; roleGuid: string; roleName: string }[];
  credentialName: string;
  fieldManager: string;
  annotations: { clientId: string; tenantId: string };
}

export function bindingSpec(r: BindRequest): BindingSpec {
  const identity =
    r.identity.kind === 'existing'
      ? {
          name: r.identity.identity.name,
          resourceGroup: r.identity.identity.resourceGroup,
          subscriptionId: r.identity.identity.subscriptionId,
          location: r.identity.identity.location,
          exists: true,
        }
      : {
          name: r.identity.name,
          resourceGroup: r.identity.resourceGroup,
          subscriptionId: r.identity.subscriptionId,
          location: r.identity.location,
          exists: false,
        };
  return {
    cluster: {
      name: r.cluster.name,
      resourceGroup: r.cluster.resourceGroup,
      subscriptionId: r.cluster.subscriptionId,
      private: r.cluster.private,
      entraId: r.cluster.entraId,
      workloadIdentityOn: workloadIdentityState(r.cluster) === 'on',
    },
    namespace: r.namespace,
    serviceAccount: r.serviceAccount,
    subject: serviceAccountSubject(r.namespace, r.serviceAccount),
    audience: TOKEN_EXCHANGE_AUDIENCE,
    identity,
    vault: {
      name: r.vault.name,
      resourceGroup: r.vault.resourceGroup,
      subscriptionId: r.vault.subscriptionId,
      rbac: r.vault.rbac,
    },
    grants: r.permissions.map((kind) => ({ kind, roleGuid: ROLE_FOR[kind].guid, roleName: ROLE_FOR[kind].name })),
    credentialName: credentialName(r.cluster.name, r.namespace, r.serviceAccount),
    fieldManager: FIELD_MANAGER,
    annotations: { clientId: CLIENT_ID_ANNOTATION, tenantId: TENANT_ID_ANNOTATION },
  };
}

export type ExportFormat = 'azcli' | 'bicep' | 'terraform';

export interface ExportedFile {
  name: string;
  language: string;
  content: string;
}
