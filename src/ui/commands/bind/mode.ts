import * as vscode from 'vscode';
import type { BindMode } from '../../../workloadIdentity/bind/model';
import { identityBindingNeeds, modeLabel } from '../../prompts/newBinding';

/** The other mode, and a line that says why one might switch. */
export function modeItems(mode: BindMode, budgetFull: boolean) {
  const other: BindMode = mode === 'identityBinding' ? 'direct' : 'identityBinding';
  return [
    {
      label: vscode.l10n.t('{0} Mode: {1}', mode === 'identityBinding' ? '$(link)' : '$(key)', modeLabel(mode)),
      description:
        mode === 'identityBinding'
          ? identityBindingNeeds()
          : vscode.l10n.t('a federated credential for each cluster and ServiceAccount'),
      value: 'line' as const,
    },
    {
      label: vscode.l10n.t('$(arrow-swap) Use {0} instead', modeLabel(other)),
      description:
        other === 'direct'
          ? vscode.l10n.t('a federated credential for each cluster; no pod or library changes')
          : budgetFull
            ? vscode.l10n.t(
                'the identity is at its limit of 20 federated credentials: an identity binding needs no new one',
              )
            : vscode.l10n.t('one federated credential, made by AKS, for any number of clusters'),
      value: 'switch' as const,
    },
  ];
}
