import * as vscode from 'vscode';
import type { BindRequest, BindResult } from '../../../workloadIdentity/bind/model';
import type { Prompter } from '../../../wizard/prompter';
import type { AzureSession } from '../../auth';
import { manifestLocation } from '../../manifestLocation';
import { writeManifest } from '../../workspaceFiles';

/** The ServiceAccount manifest of one cluster's binding, where the setting or the layout puts it. */
export async function writeBindingManifest(
  session: AzureSession,
  prompter: Prompter,
  request: BindRequest,
  result: BindResult,
): ReturnType<typeof writeManifest> {
  const target = await manifestLocation({
    cluster: request.cluster.name,
    namespace: request.namespace,
    serviceAccount: request.serviceAccount,
  });
  const content = session.services.serviceAccountManifest({
    namespace: request.namespace,
    serviceAccount: request.serviceAccount,
    clientId: result.identity.clientId,
    tenantId: result.identity.tenantId,
    identityName: result.identity.name,
    clusterName: request.cluster.name,
    vaultName: request.vault.name,
    credentialName: result.credential.name,
  });
  if (!target.error) return writeManifest(prompter, target.path!, content);
  void prompter.notify('error', vscode.l10n.t('The manifest was not written: {0}', target.error));
  return { kind: 'none' };
}
