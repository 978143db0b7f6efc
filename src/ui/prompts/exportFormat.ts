import * as vscode from 'vscode';
import type { AzureServices } from '../../services';
import { BACK, Prompter } from '../../wizard/prompter';
import type { BindRequest } from '../../workloadIdentity/bind/model';
import type { FleetRequest } from '../../workloadIdentity/bind/fleet';
import type { ExportFormat } from '../../workloadIdentity/export/model';

export const exportTitle = () => vscode.l10n.t('Export Binding as Code');

const formats = (): { label: string; description: string; value: ExportFormat }[] => [
  {
    label: vscode.l10n.t('az CLI and kubectl script'),
    description: vscode.l10n.t('bash; a second run changes nothing'),
    value: 'azcli',
  },
  { label: 'Bicep', description: vscode.l10n.t('identity, credential and grant; not the cluster'), value: 'bicep' },
  { label: 'Terraform', description: vscode.l10n.t('azurerm and kubernetes providers'), value: 'terraform' },
];

/** Asks the format and opens each file as a new, unsaved editor: the user saves it where they like. */
export async function exportRequest(
  prompter: Prompter,
  services: AzureServices,
  request: BindRequest | FleetRequest,
): Promise<boolean> {
  const format = await prompter.pick<ExportFormat>({
    title: exportTitle(),
    placeholder: vscode.l10n.t('Export the binding of {0}/{1} as', request.namespace, request.serviceAccount),
    items: formats(),
  });
  if (format === undefined || format === BACK) return false;
  const languages = await vscode.languages.getLanguages();
  for (const file of services.exportAsCode(format, request)) {
    const doc = await vscode.workspace.openTextDocument({
      language: languages.includes(file.language) ? file.language : 'plaintext',
      content: file.content,
    });
    await vscode.window.showTextDocument(doc, { preview: false });
  }
  return true;
}
