import * as vscode from 'vscode';
import type { AzureSession } from '../auth';
import type { CommandContext } from '../context';
import type { IdentityInfo } from '../../azure/identities';
import type { Permission } from '../../azure/keyVaultRoles';
import type { KubeTarget } from '../../kube/access';
import type { ClusterSummary } from '../../workloadIdentity/cluster';
import type { BindMode, BindRequest, IdentityChoice } from '../../workloadIdentity/bind/model';
import type { FleetRequest } from '../../workloadIdentity/bind/fleet';
import type { VaultSummary } from '../../workloadIdentity/inventory';
import {
  defaultIdentityName,
  validateIdentityName,
  validateNamespace,
  validateResourceGroupName,
  validateServiceAccountName,
} from '../../workloadIdentity/names';
import { permissionModel } from '../../workloadIdentity/inventory';
import { BACK, PickItem } from '../../wizard/prompter';
import { PromptStep, answered } from '../../wizard/wizard';
import { clusterItems } from './cluster';

export const bindTitle = () => vscode.l10n.t('Bind Key Vault');
export const LAB_SERVICE_ACCOUNT = 'workload-identity-sa';

/** What the wizard collects, and the lists it reads on the way (read once, reused on Back). */
export interface BindWizardContext {
  /** The first cluster chosen: its subscription, resource group and region are the new identity's defaults. */
  cluster?: ClusterSummary;
  /** Every cluster chosen, the first being cluster; Bind and Export do each, with the same answers. */
  clusters?: ClusterSummary[];
  namespace?: string;
  serviceAccount?: string;
  vault?: VaultSummary;
  identity?: IdentityChoice | { kind: 'new' };
  newIdentity?: { name?: string; resourceGroup?: string; location?: string };
  permissions?: Permission[];
  /** How the pods reach the identity; asked only for several clusters, and offered in the review. */
  mode?: BindMode;
  readonly sources: {
    clusters(): Promise<ClusterSummary[]>;
    vaults(): Promise<VaultSummary[]>;
    identities(subscriptionId: string): Promise<IdentityInfo[]>;
    kube(cluster: ClusterSummary): Promise<KubeTarget>;
  };
}

type Step = PromptStep<BindWizardContext>;
const info = (step: { step: number; totalSteps: number }) => ({ title: bindTitle(), ...step });

export const clusterStep: Step = {
  shouldPrompt: (c) => !c.cluster,
  async prompt(c, p, pos) {
    const v = answered(
      await p.pickMany<ClusterSummary>({
        ...info(pos),
        placeholder: vscode.l10n.t(
          'The AKS clusters whose pods get access: Enter takes the highlighted one, Space checks several',
        ),
        items: c.sources.clusters().then(clusterItems),
        atLeastOne: true,
      }),
    );
    if (v === BACK) return BACK;
    c.cluster = v[0];
    c.clusters = v;
    c.namespace = undefined;
    c.serviceAccount = undefined;
  },
};

/** The clusters the answers apply to. */
export const chosenClusters = (c: BindWizardContext): ClusterSummary[] => c.clusters ?? (c.cluster ? [c.cluster] : []);

/**
 * Names found on the chosen clusters, each once; on several clusters, one found on only some says where (Bind
 * creates it on the others).
 */
async function namesOnClusters(
  c: BindWizardContext,
  list: (cluster: ClusterSummary) => Promise<string[]>,
): Promise<{ name: string; on: ClusterSummary[] }[]> {
  const clusters = chosenClusters(c);
  const lists = await Promise.all(clusters.map((k, i) => list(k).catch((e) => (i === 0 ? Promise.reject(e) : []))));
  const found = new Map<string, ClusterSummary[]>();
  lists.forEach((names, i) => names.forEach((n) => found.set(n, [...(found.get(n) ?? []), clusters[i]!])));
  return [...found].map(([name, on]) => ({ name, on }));
}

const onSome = (c: BindWizardContext, on: ClusterSummary[]) => {
  const all = chosenClusters(c).length;
  return on.length < all
    ? vscode.l10n.t('on {0} of {1} clusters: {2}', on.length, all, on.map((k) => k.name).join(', '))
    : undefined;
};

export const namespaceStep: Step = {
  // Given by a binding (Export from the tree); the palette and a cluster ask.
  shouldPrompt: (c) => !c.namespace,
  async prompt(c, p, pos) {
    const items = namesOnClusters(c, (cluster) => c.sources.kube(cluster).then((k) => k.listNamespaces())).then(
      (found) =>
        found.map(({ name, on }): PickItem<string> => ({ label: name, description: onSome(c, on), value: name })),
    );
    const v = answered(
      await p.pick<string>({
        ...info(pos),
        placeholder: vscode.l10n.t('Namespace of the workload (type a new name to create it)'),
        items,
        typed: {
          validate: validateNamespace,
          toValue: (t) => t,
          label: (t) => vscode.l10n.t('$(add) Create namespace "{0}"', t),
        },
      }),
    );
    if (v === BACK) return BACK;
    c.namespace = v;
    c.serviceAccount = undefined;
  },
};

export const serviceAccountStep: Step = {
  shouldPrompt: (c) => !c.serviceAccount,
  async prompt(c, p, pos) {
    const items = namesOnClusters(c, (cluster) =>
      c.sources
        .kube(cluster)
        .then((k) => k.listServiceAccounts(c.namespace!))
        .then((list) => list.map((s) => s.name)),
    )
      .catch(() => [])
      .then((found) => {
        const names = found.filter((f) => f.name !== 'default');
        const own = names.map(({ name, on }): PickItem<string> => ({
          label: name,
          description: onSome(c, on) ?? vscode.l10n.t('exists'),
          value: name,
        }));
        return names.some((n) => n.name === LAB_SERVICE_ACCOUNT)
          ? own
          : [
              {
                label: LAB_SERVICE_ACCOUNT,
                description: vscode.l10n.t('new (the name the Azure docs use)'),
                value: LAB_SERVICE_ACCOUNT,
              },
              ...own,
            ];
      });
    const v = answered(
      await p.pick<string>({
        ...info(pos),
        placeholder: vscode.l10n.t('ServiceAccount the pods run as (type a name for a new one)'),
        items,
        typed: {
          validate: validateServiceAccountName,
          toValue: (t) => t,
          label: (t) => vscode.l10n.t('$(add) New ServiceAccount "{0}"', t),
        },
      }),
    );
    if (v === BACK) return BACK;
    c.serviceAccount = v;
  },
};

export const vaultStep: Step = {
  shouldPrompt: (c) => !c.vault,
  async prompt(c, p, pos) {
    const items = c.sources.vaults().then((vs) =>
      vs.map((v) => ({
        label: v.name,
        description: permissionModel(v.rbac),
        detail: `${v.resourceGroup} · ${v.location}`,
        value: v,
      })),
    );
    const v = answered(
      await p.pick<VaultSummary>({ ...info(pos), placeholder: vscode.l10n.t('The Key Vault to read'), items }),
    );
    if (v === BACK) return BACK;
    c.vault = v;
  },
};

const NEW = { kind: 'new' as const };

export const identityStep: Step = {
  shouldPrompt: (c) => !c.identity,
  async prompt(c, p, pos) {
    const items = c.sources.identities(c.cluster!.subscriptionId).then((ids) => [
      {
        label: vscode.l10n.t('$(add) Create a new user-assigned identity'),
        value: NEW as BindWizardContext['identity'],
      },
      ...ids.map((i) => ({
        label: i.name,
        description: i.resourceGroup,
        detail: vscode.l10n.t('client id {0}', i.clientId),
        value: { kind: 'existing', identity: i } as BindWizardContext['identity'],
      })),
    ]);
    const v = answered(
      await p.pick<BindWizardContext['identity']>({
        ...info(pos),
        placeholder: vscode.l10n.t('The managed identity the pods use'),
        items,
      }),
    );
    if (v === BACK) return BACK;
    c.identity = v;
  },
};

async function identityNameTaken(c: BindWizardContext, name: string, resourceGroup: string) {
  const ids = await c.sources.identities(c.cluster!.subscriptionId);
  return ids.some(
    (i) => i.name.toLowerCase() === name.toLowerCase() && i.resourceGroup.toLowerCase() === resourceGroup.toLowerCase(),
  );
}

export const newIdentityNameStep: Step = {
  shouldPrompt: (c) => c.identity?.kind === 'new',
  async prompt(c, p, pos) {
    const rg = c.newIdentity?.resourceGroup ?? c.cluster!.resourceGroup;
    const ids = await c.sources.identities(c.cluster!.subscriptionId);
    const taken = new Set(
      ids.filter((i) => i.resourceGroup.toLowerCase() === rg.toLowerCase()).map((i) => i.name.toLowerCase()),
    );
    let suggestion = defaultIdentityName(c.namespace!, c.serviceAccount!);
    for (let n = 2; taken.has(suggestion.toLowerCase()); n++)
      suggestion = `${defaultIdentityName(c.namespace!, c.serviceAccount!).slice(0, 120)}-${n}`;
    const v = answered(
      await p.input({
        ...info(pos),
        prompt: vscode.l10n.t('Name of the new identity (resource group {0})', rg),
        value: c.newIdentity?.name ?? suggestion,
        validate: (s) =>
          validateIdentityName(s) ??
          (taken.has(s.toLowerCase())
            ? vscode.l10n.t(
                'An identity named {0} exists in {1}: go back and pick it to reuse it, or choose another name.',
                s,
                rg,
              )
            : undefined),
      }),
    );
    if (v === BACK) return BACK;
    c.newIdentity = { ...c.newIdentity, name: v };
  },
};

export const newIdentityGroupStep: Step = {
  shouldPrompt: (c) => c.identity?.kind === 'new',
  async prompt(c, p, pos) {
    const v = answered(
      await p.input({
        ...info(pos),
        prompt: vscode.l10n.t("Resource group of the new identity (default: the cluster's)"),
        value: c.newIdentity?.resourceGroup ?? c.cluster!.resourceGroup,
        validate: validateResourceGroupName,
      }),
    );
    if (v === BACK) return BACK;
    if (await identityNameTaken(c, c.newIdentity!.name!, v)) {
      void p.notify(
        'warning',
        vscode.l10n.t('An identity named {0} already exists in {1}; Bind will reuse it.', c.newIdentity!.name!, v),
      );
    }
    c.newIdentity = { ...c.newIdentity, resourceGroup: v };
  },
};

const REGION = /^[a-z][a-z0-9]{1,39}$/;
export const newIdentityRegionStep: Step = {
  shouldPrompt: (c) => c.identity?.kind === 'new',
  async prompt(c, p, pos) {
    const v = answered(
      await p.input({
        ...info(pos),
        prompt: vscode.l10n.t("Region of the new identity (default: the cluster's)"),
        value: c.newIdentity?.location ?? c.cluster!.location,
        validate: (s) =>
          REGION.test(s)
            ? undefined
            : vscode.l10n.t('Azure region names are lower-case letters and digits, like eastus or westeurope.'),
      }),
    );
    if (v === BACK) return BACK;
    c.newIdentity = { ...c.newIdentity, location: v };
  },
};

/** The two modes as the questions and reviews name them. */
export const modeLabel = (mode: BindMode) =>
  mode === 'identityBinding' ? vscode.l10n.t('identity binding') : vscode.l10n.t('direct federation');

/** The pods' requirements in identity-binding mode, for the question and the review. */
export const identityBindingNeeds = () =>
  vscode.l10n.t(
    'the pods also need the annotation azure.workload.identity/use-identity-binding: "true", webhook v1.6 or later, and WorkloadIdentityCredential with the proxy option; not on clusters with API server VNet integration',
  );

export const modeStep: Step = {
  shouldPrompt: (c) => !c.mode && chosenClusters(c).length > 1,
  async prompt(c, p, pos) {
    const n = chosenClusters(c).length;
    const v = answered(
      await p.pick<BindMode>({
        ...info(pos),
        placeholder: vscode.l10n.t('How the pods on the {0} clusters reach the identity', n),
        items: [
          {
            label: vscode.l10n.t('$(link) Identity binding'),
            description: vscode.l10n.t('one federated credential for all {0} clusters, made by AKS', n),
            detail: identityBindingNeeds(),
            value: 'identityBinding',
          },
          {
            label: vscode.l10n.t('$(key) Direct federation'),
            description: vscode.l10n.t("one federated credential per cluster: {0} of the identity's 20", n),
            detail: vscode.l10n.t('works with every Azure Identity library and webhook version'),
            value: 'direct',
          },
        ],
      }),
    );
    if (v === BACK) return BACK;
    c.mode = v;
  },
};

export const permissionsStep: Step = {
  shouldPrompt: () => true,
  async prompt(c, p, pos) {
    const chosen = new Set(c.permissions ?? ['secrets', 'keys', 'certificates']);
    const all: [Permission, string][] = [
      ['secrets', vscode.l10n.t('get on secrets')],
      ['keys', vscode.l10n.t('get on keys')],
      ['certificates', vscode.l10n.t('get on certificates')],
    ];
    for (;;) {
      const v = answered(
        await p.pickMany<Permission>({
          ...info(pos),
          placeholder: vscode.l10n.t('What the identity may read (at least one)'),
          items: all.map(([value, label]) => ({ label, value, picked: chosen.has(value) })),
        }),
      );
      if (v === BACK) return BACK;
      if (v.length) {
        c.permissions = v;
        return;
      }
      void p.notify('warning', vscode.l10n.t('Choose at least one permission.'));
    }
  },
};

export const bindPromptSteps: Step[] = [
  clusterStep,
  namespaceStep,
  serviceAccountStep,
  vaultStep,
  identityStep,
  newIdentityNameStep,
  newIdentityGroupStep,
  newIdentityRegionStep,
  modeStep,
  permissionsStep,
];

/** The request, once every prompt is answered. */
export function bindRequestOf(c: BindWizardContext): BindRequest {
  return {
    cluster: c.cluster!,
    namespace: c.namespace!,
    serviceAccount: c.serviceAccount!,
    vault: c.vault!,
    identity: identityChoice(c),
    permissions: c.permissions!,
    ...(c.mode === 'identityBinding' ? { mode: c.mode } : {}),
  };
}

/** The request for each chosen cluster at once. */
export function fleetRequestOf(c: BindWizardContext): FleetRequest {
  const { cluster: _first, ...answers } = bindRequestOf(c);
  return { ...answers, clusters: chosenClusters(c) };
}

function identityChoice(c: BindWizardContext): IdentityChoice {
  if (c.identity?.kind === 'existing') return c.identity;
  const n = c.newIdentity!;
  return {
    kind: 'new',
    subscriptionId: c.cluster!.subscriptionId,
    resourceGroup: n.resourceGroup!,
    name: n.name!,
    location: n.location!,
  };
}

/** Bind's questions, with their sources: the tree's clusters and vaults, each subscription's identities read once. */
export function newBindingWizard(
  ctx: CommandContext,
  session: AzureSession,
  deps: ReturnType<AzureSession['services']['bindDeps']>,
  given: Pick<BindWizardContext, 'clusters' | 'vault'>,
): BindWizardContext {
  const identities = new Map<string, ReturnType<typeof session.services.identities.list>>();
  return {
    ...given,
    cluster: given.clusters?.[0],
    sources: {
      clusters: () => ctx.tree.clusters(),
      vaults: () => ctx.tree.vaults(),
      identities: (sub) => {
        if (!identities.has(sub)) identities.set(sub, session.services.identities.list(sub));
        return identities.get(sub)!;
      },
      kube: (cluster) => deps.kube(cluster),
    },
  };
}
