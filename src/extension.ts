/**
 * The composition root: builds the services, registers the view and the commands. Nothing else.
 * The Azure SDKs and the Kubernetes client load on first use (services.ts), not at activation.
 */
import * as vscode from 'vscode';
import * as l10n from '@vscode/l10n';
import { SingleFlight } from './util/concurrency';
import { Prompter } from './wizard/prompter';
import { AuthService } from './ui/auth';
import { CommandContext } from './ui/context';
import { createLog } from './ui/log';
import { VsCodePrompter } from './ui/vscodePrompter';
import type { TreeNode } from './ui/tree/nodes';
import { ResourceTreeProvider } from './ui/tree/provider';
import { enableWorkloadIdentityCommand } from './ui/commands/enable/command';
import { bindKeyVaultCommand } from './ui/commands/bind/command';
import { verifyIdentityCommand, verifyWorkloadIdentityCommand } from './ui/commands/verify/command';
import { migrateCommand } from './ui/commands/migrate/command';
import { testBindingCommand } from './ui/commands/testBinding/command';
import { connectWorkloadCommand } from './ui/commands/connect/command';
import { cleanUpCredentialsCommand } from './ui/commands/cleanup/command';
import { removeBindingCommand } from './ui/commands/remove/command';
import { exportBindingCommand } from './ui/commands/export/command';
import { PROPOSED_SCHEME, proposedContent } from './ui/proposedContent';
import {
  copyIssuerUrl,
  copyResourceId,
  openInPortal,
  retry,
  selectSubscriptions,
  showBinding,
  showIdentity,
} from './ui/commands/resources';

type ServicesModule = typeof import('./services');
let servicesModule: ServicesModule | undefined;

const loadServices = (): ServicesModule => {
  if (!servicesModule) {
    // A synchronous require of the second bundle, on first use: an import would load the SDKs at activation.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    servicesModule = require('./services') as ServicesModule;
    servicesModule.useTranslations(vscode.l10n.bundle);
  }
  return servicesModule;
};

/** What tests reach through `extension.exports`: the same objects the commands use. */
export interface ExtensionApi {
  readonly context: CommandContext;
  /** Where the log channel writes its file (tests scan it for secrets). */
  readonly logUri: vscode.Uri;
  /** The extension's storage folders (tests scan them for secrets). */
  readonly storage: vscode.Uri[];
  /** How long activate() took, in milliseconds (the benchmark reads it). */
  readonly activationMs: number;
  /** Replaces the UI seam, so a test can answer every question. */
  setPrompter(prompter: Prompter | undefined): void;
}

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const started = performance.now();
  // Code without `vscode` translates through @vscode/l10n; each bundle configures its own copy (services.ts too).
  if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
  const { channel, logger } = createLog();
  let prompterOverride: Prompter | undefined;
  const vscodePrompter = new VsCodePrompter();
  const prompter = () => prompterOverride ?? vscodePrompter;

  const auth = new AuthService(context.globalState, logger, loadServices, prompter);
  const tree = new ResourceTreeProvider(auth, context.globalState, logger);
  const ctx: CommandContext = { auth, tree, log: logger, prompter, clusterUpdates: new SingleFlight() };
  const view = vscode.window.createTreeView('aksWorkloadIdentity.resources', {
    treeDataProvider: tree,
    showCollapseAll: true,
    // Several clusters selected: Bind binds them all at once.
    canSelectMany: true,
  });
  const copy = (text: string) => vscode.env.clipboard.writeText(text);

  // A command's last answered question is closed when the command ends, whatever it did after asking.
  const register = (id: string, fn: (...args: any[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(`aksWorkloadIdentity.${id}`, async (...args: any[]) => {
        try {
          return await fn(...args);
        } finally {
          prompter().doneAsking();
        }
      }),
    );
  register('signIn', () => auth.signIn());
  register('signOut', () => auth.signOut());
  register('selectTenant', () => auth.selectTenant());
  register('selectSubscriptions', () => selectSubscriptions(ctx));
  register('refresh', () => tree.refresh());
  register('retry', retry);
  register('showLog', () => channel.show());
  register('enableWorkloadIdentity', (node) => enableWorkloadIdentityCommand(ctx, node, copy));
  register('bindKeyVault', (node, selected) => bindKeyVaultCommand(ctx, { cluster: node, selected }));
  register('bindToCluster', (node) => bindKeyVaultCommand(ctx, { vault: node }));
  register('verifyWorkloadIdentity', (node) => verifyWorkloadIdentityCommand(ctx, node));
  register('verifyIdentity', (node) => verifyIdentityCommand(ctx, node));
  register('migrateToIdentityBindings', (node) => migrateCommand(ctx, node));
  register('testBinding', (node) => testBindingCommand(ctx, node));
  register('connectWorkload', (from) => connectWorkloadCommand(ctx, from));
  register('removeBinding', (node) => removeBindingCommand(ctx, node));
  register('cleanUpCredentials', (node) => cleanUpCredentialsCommand(ctx, node));
  register('exportBinding', (node) => exportBindingCommand(ctx, node));
  register('copyIssuerUrl', (node) => copyIssuerUrl(ctx, node));
  register('copyResourceId', copyResourceId);
  register('openInPortal', (node) => openInPortal(ctx, node));
  const reveal = (node: TreeNode) => view.reveal(node, { select: true, focus: true, expand: true });
  register('showIdentity', (node) => showIdentity(ctx, reveal, node));
  register('showBinding', (node) => showBinding(ctx, reveal, node));

  context.subscriptions.push(
    channel,
    auth,
    tree,
    view,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, proposedContent),
  );
  // Restoring the sign-in runs `az` or asks VS Code for a session: not on the activation path.
  setTimeout(() => void auth.restore(), 0);

  const activationMs = performance.now() - started;
  logger.info(`Activated in ${activationMs.toFixed(1)} ms.`);
  const storage = [context.globalStorageUri, ...(context.storageUri ? [context.storageUri] : [])];
  return {
    context: ctx,
    logUri: context.logUri,
    storage,
    activationMs,
    setPrompter: (p) => {
      prompterOverride = p;
    },
  };
}

export function deactivate() {}
