import * as vscode from 'vscode';
import type { Logger } from '../log';
import { SingleFlight } from '../util/concurrency';
import { Prompter } from '../wizard/prompter';
import { AuthService, AzureSession } from './auth';
import { ResourceTreeProvider } from './tree/provider';

/** What every command gets from the composition root. */
export interface CommandContext {
  auth: AuthService;
  tree: ResourceTreeProvider;
  log: Logger;
  prompter(): Prompter;
  /** One cluster update at a time per cluster, shared by Enable and Bind. */
  clusterUpdates: SingleFlight;
}

/** The session, signing in first when there is none. undefined when the user did not sign in. */
export async function requireSession(ctx: CommandContext): Promise<AzureSession | undefined> {
  if (ctx.auth.session) return ctx.auth.session;
  const s = await ctx.auth.signIn();
  if (!s) void ctx.prompter().notify('warning', vscode.l10n.t('Sign in to Azure first.'), vscode.l10n.t('Sign in'));
  return s;
}
