import * as vscode from 'vscode';
import { parseResourceId } from '../../../azure/resourceId';
import { BACK, PromptDismissed, Prompter } from '../../../wizard/prompter';
import { runPrompts } from '../../../wizard/wizard';
import type { BindRequest } from '../../../workloadIdentity/bind/model';
import { describeError } from '../../../errors';
import type { ExportFormat } from '../../../workloadIdentity/export/model';
import type { AzureServices } from '../../../services';
import { CommandContext, requireSession } from '../../context';
import type { BindingNode } from '../../tree/nodes';
import { BindWizardContext, bindPromptSteps, identityChoice } from '../bind/prompts';

const exportTitle = () => vscode.l10n.t('Export Binding as Code');

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
  request: BindRequest,
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

/**
 * Palette "Export Binding as Code…" asks Bind's questions; a binding's menu asks only the vault and the
 * permissions (the cluster, ServiceAccount and identity are the binding's).
 */
export async function exportBindingCommand(ctx: CommandContext, node?: BindingNode) {
  const session = await requireSession(ctx);
  if (!session) return;
  const prompter = ctx.prompter();
  const deps = session.services.bindDeps();
  try {
    const identity = node
      ? await session.services.identities.find(parseResourceId(node.binding.identityId))
      : undefined;
    const wizard: BindWizardContext = {
      cluster: node?.cluster,
      namespace: node?.binding.namespace,
      serviceAccount: node?.binding.serviceAccount,
      identity: identity ? { kind: 'existing', identity } : undefined,
      sources: {
        clusters: () => ctx.tree.clusters(),
        vaults: () => ctx.tree.vaults(),
        identities: (sub) => session.services.identities.list(sub),
        kube: (cluster) => deps.kube(cluster),
      },
    };
    await runPrompts(bindPromptSteps, wizard, prompter);
    await exportRequest(prompter, session.services, {
      cluster: wizard.cluster!,
      namespace: wizard.namespace!,
      serviceAccount: wizard.serviceAccount!,
      vault: wizard.vault!,
      identity: identityChoice(wizard),
      permissions: wizard.permissions!,
    });
  } catch (e) {
    if (e instanceof PromptDismissed) return;
    const d = describeError(e);
    ctx.log.error(`Export: ${d.code}: ${d.message}`);
    void prompter.notify('error', vscode.l10n.t('{0}: {1}: {2}', exportTitle(), d.code, d.message));
  }
}
