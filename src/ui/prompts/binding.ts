import * as vscode from 'vscode';
import type { KubeTarget } from '../../kube/access';
import type { ClusterSummary } from '../../workloadIdentity/cluster';
import type { VaultSummary } from '../../workloadIdentity/inventory';
import { CLIENT_ID_ANNOTATION } from '../../workloadIdentity/manifest';
import { validateNamespace, validateServiceAccountName } from '../../workloadIdentity/names';
import { permissionModel } from '../../workloadIdentity/inventory';
import { BACK, PickItem } from '../../wizard/prompter';
import { PromptStep, answered } from '../../wizard/wizard';
import { clusterItems } from './cluster';

export interface BindingWizardContext {
  /** The command asking: Verify, Test Binding, Remove and Connect ask these same questions about a binding. */
  title: string;
  cluster?: ClusterSummary;
  namespace?: string;
  serviceAccount?: string;
  /** null: every vault the identity has a grant on. */
  vault?: VaultSummary | null;
  readonly sources: {
    clusters(): Promise<ClusterSummary[]>;
    vaults(): Promise<VaultSummary[]>;
    kube(cluster: ClusterSummary): Promise<KubeTarget>;
  };
}

type Step = PromptStep<BindingWizardContext>;
const info = (c: BindingWizardContext, pos: { step: number; totalSteps: number }) => ({
  title: c.title,
  ...pos,
});

const clusterStep: Step = {
  shouldPrompt: (c) => !c.cluster,
  async prompt(c, p, pos) {
    const v = answered(
      await p.pick<ClusterSummary>({
        ...info(c, pos),
        placeholder: vscode.l10n.t('The cluster the workload runs on'),
        items: c.sources.clusters().then(clusterItems),
      }),
    );
    if (v === BACK) return BACK;
    c.cluster = v;
  },
};

const namespaceStep: Step = {
  shouldPrompt: (c) => !c.namespace,
  async prompt(c, p, pos) {
    const items = c.sources
      .kube(c.cluster!)
      .then((k) => k.listNamespaces())
      .then((list) => list.map((n): PickItem<string> => ({ label: n, value: n })));
    const v = answered(
      await p.pick<string>({
        ...info(c, pos),
        placeholder: vscode.l10n.t('Namespace of the workload'),
        items,
        typed: { validate: validateNamespace, toValue: (t) => t, label: (t) => vscode.l10n.t('Namespace "{0}"', t) },
      }),
    );
    if (v === BACK) return BACK;
    c.namespace = v;
  },
};

/** Annotated ServiceAccounts first: they are the ones meant for workload identity. */
const serviceAccountStep: Step = {
  shouldPrompt: (c) => !c.serviceAccount,
  async prompt(c, p, pos) {
    const items = c.sources
      .kube(c.cluster!)
      .then((k) => k.listServiceAccounts(c.namespace!))
      .then((list) =>
        list
          .map((s): PickItem<string> => ({
            label: s.name,
            description: s.annotations[CLIENT_ID_ANNOTATION]
              ? vscode.l10n.t('client id {0}', s.annotations[CLIENT_ID_ANNOTATION])
              : vscode.l10n.t('no client-id annotation'),
            value: s.name,
          }))
          .sort(
            (a, b) =>
              Number(b.description!.startsWith('client')) - Number(a.description!.startsWith('client')) ||
              a.label.localeCompare(b.label),
          ),
      );
    const v = answered(
      await p.pick<string>({
        ...info(c, pos),
        placeholder: vscode.l10n.t('ServiceAccount the pods run as'),
        items,
        typed: {
          validate: validateServiceAccountName,
          toValue: (t) => t,
          label: (t) => vscode.l10n.t('ServiceAccount "{0}"', t),
        },
      }),
    );
    if (v === BACK) return BACK;
    c.serviceAccount = v;
  },
};

const vaultStep: Step = {
  shouldPrompt: (c) => c.vault === undefined,
  async prompt(c, p, pos) {
    const items = c.sources.vaults().then((vaults) => [
      {
        label: vscode.l10n.t('Every vault the identity has a grant on'),
        description: vscode.l10n.t('recommended'),
        value: null,
      },
      ...vaults.map((v): PickItem<VaultSummary | null> => ({
        label: v.name,
        description: permissionModel(v.rbac),
        detail: v.resourceGroup,
        value: v,
      })),
    ]);
    const v = answered(
      await p.pick<VaultSummary | null>({
        ...info(c, pos),
        placeholder: vscode.l10n.t('Which Key Vault should the workload read?'),
        items,
      }),
    );
    if (v === BACK) return BACK;
    c.vault = v;
  },
};

export const bindingPromptSteps: Step[] = [clusterStep, namespaceStep, serviceAccountStep, vaultStep];
