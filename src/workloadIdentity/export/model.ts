import type { BindMode, BindRequest } from '../bind/model';
import type { FleetRequest } from '../bind/fleet';
import { workloadIdentityState } from '../cluster';
import { FIELD_MANAGER } from '../../kube/fieldManager';
import { Permission, ROLE_FOR } from '../../azure/keyVaultRoles';
import { TOKEN_EXCHANGE_AUDIENCE, credentialName, identityBindingName, serviceAccountSubject } from '../names';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../manifest';

/**
 * A binding as code sees it: Bind's request with the names Bind derives, so every format says exactly what Bind
 * would do. Nothing in it is secret: the client id and issuer are read at run time by the script and Terraform.
 */
export interface ClusterSpec {
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  private: boolean;
  entraId: boolean;
  workloadIdentityOn: boolean;
  /** The federated credential that names this cluster's issuer. */
  credentialName: string;
}

export interface BindingSpec {
  /** One or more: a Bind to several clusters exports as one file that loops over them. */
  clusters: ClusterSpec[];
  namespace: string;
  serviceAccount: string;
  subject: string;
  audience: string;
  identity: {
    name: string;
    resourceGroup: string;
    subscriptionId: string;
    location: string;
    exists: boolean;
    /** Known when the identity exists. */
    clientId?: string;
  };
  vault: { name: string; resourceGroup: string; subscriptionId: string; rbac: boolean };
  /** The kinds Bind grants get on, each with the role that grants it on an RBAC vault. */
  grants: { kind: Permission; roleGuid: string; roleName: string }[];
  fieldManager: string;
  annotations: { clientId: string; tenantId: string };
  mode: BindMode;
  /** The identity binding's name on each cluster (identity-binding mode). */
  identityBindingName: string;
}

export function bindingSpec(r: BindRequest | FleetRequest): BindingSpec {
  const clusters = 'clusters' in r ? r.clusters : [r.cluster];
  const identity =
    r.identity.kind === 'existing'
      ? {
          name: r.identity.identity.name,
          resourceGroup: r.identity.identity.resourceGroup,
          subscriptionId: r.identity.identity.subscriptionId,
          location: r.identity.identity.location,
          exists: true,
          clientId: r.identity.identity.clientId,
        }
      : {
          name: r.identity.name,
          resourceGroup: r.identity.resourceGroup,
          subscriptionId: r.identity.subscriptionId,
          location: r.identity.location,
          exists: false,
        };
  return {
    clusters: clusters.map((c) => ({
      name: c.name,
      resourceGroup: c.resourceGroup,
      subscriptionId: c.subscriptionId,
      private: c.private,
      entraId: c.entraId,
      workloadIdentityOn: workloadIdentityState(c) === 'on',
      credentialName: credentialName(c.name, r.namespace, r.serviceAccount),
    })),
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
    fieldManager: FIELD_MANAGER,
    annotations: { clientId: CLIENT_ID_ANNOTATION, tenantId: TENANT_ID_ANNOTATION },
    mode: r.mode ?? 'direct',
    identityBindingName: identityBindingName(identity.name),
  };
}

export type ExportFormat = 'azcli' | 'bicep' | 'terraform';

export interface ExportedFile {
  name: string;
  language: string;
  content: string;
}
