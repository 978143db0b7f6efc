import * as vscode from 'vscode';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { AuthMethod, AuthSetting, chooseAuthMethod, methodLabel, accountClaims } from '../auth/account';
import { AzureCloud, armScope, resolveCloud } from '../auth/cloud';
import { Logger } from '../log';
import type { AzureServices } from '../services';
import { Prompter } from '../wizard/prompter';

export interface AzureSession {
  cloud: AzureCloud;
  method: AuthMethod;
  credential: TokenCredential;
  account: string;
  tenantId: string;
  services: AzureServices;
}

type ServicesModule = typeof import('../services');

/** VS Code's Microsoft (or sovereign-cloud) session as a TokenCredential, for one tenant. */
class VsCodeSessionCredential implements TokenCredential {
  constructor(
    private readonly providerId: string,
    private readonly tenantId: string | undefined,
    private readonly interactive: boolean,
  ) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const list = [
      ...(Array.isArray(scopes) ? scopes : [scopes]),
      ...(this.tenantId ? [`VSCODE_TENANT:${this.tenantId}`] : []),
    ];
    const session = await vscode.authentication.getSession(
      this.providerId,
      list,
      this.interactive ? { createIfNone: true } : { silent: true },
    );
    if (!session)
      throw Object.assign(new Error(vscode.l10n.t('Not signed in to VS Code with a Microsoft account.')), {
        name: 'CredentialUnavailableError',
      });
    // VS Code does not expose the expiry; it refreshes sessions itself, so ask again well before an hour.
    return { token: session.accessToken, expiresOnTimestamp: Date.now() + 30 * 60_000 };
  }
}

const TENANT_KEY = 'aksWorkloadIdentity.tenant';
const SIGNED_OUT_KEY = 'aksWorkloadIdentity.signedOut';

/** Who is signed in, how, to which cloud and tenant. Sign-in through VS Code's account or the Azure CLI. */
export class AuthService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private current: AzureSession | undefined;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(
    private readonly state: vscode.Memento,
    private readonly log: Logger,
    private readonly loadServices: () => ServicesModule,
    private readonly prompter: () => Prompter,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (
          e.affectsConfiguration('microsoft-sovereign-cloud') ||
          e.affectsConfiguration('aksWorkloadIdentity.authentication')
        )
          void this.restore();
      }),
    );
    this.disposables.push(
      vscode.authentication.onDidChangeSessions((e) => {
        if (this.current?.method === 'vscode' && e.provider.id === this.current.cloud.authProviderId)
          void this.restore();
      }),
    );
  }

  get session(): AzureSession | undefined {
    return this.current;
  }

  cloud(): AzureCloud {
    const c = vscode.workspace.getConfiguration('microsoft-sovereign-cloud');
    return resolveCloud({ environment: c.get<string>('environment'), customEnvironment: c.get('customEnvironment') });
  }

  /** Silent: takes an existing session, never prompts. */
  async restore(): Promise<AzureSession | undefined> {
    if (this.state.get<boolean>(SIGNED_OUT_KEY)) return this.set(undefined);
    try {
      return this.set(await this.connect(false));
    } catch (e) {
      this.log.warn(`Sign-in could not be restored: ${(e as Error).message}`);
      return this.set(undefined);
    }
  }

  /** Interactive: may open VS Code's sign-in, and asks for a tenant when the account has several. */
  async signIn(): Promise<AzureSession | undefined> {
    await this.state.update(SIGNED_OUT_KEY, false);
    const session = await this.connect(true);
    if (!session) return this.set(undefined);
    const tenants = await session.services.listTenants().catch(() => []);
    if (tenants.length > 1 && !this.state.get<string>(TENANT_KEY)) {
      const chosen = await this.pickTenant(tenants, session.tenantId);
      // Remembered even when it is the current tenant, so the next sign-in does not ask again.
      if (chosen) await this.state.update(TENANT_KEY, chosen);
      if (chosen && chosen !== session.tenantId) return this.set(await this.connect(true));
    }
    return this.set(session);
  }

  async signOut(): Promise<void> {
    await this.state.update(SIGNED_OUT_KEY, true);
    this.set(undefined);
  }

  async selectTenant(): Promise<void> {
    const s = this.current;
    if (!s) return;
    const tenants = await s.services.listTenants();
    const chosen = await this.pickTenant(tenants, s.tenantId);
    if (!chosen || chosen === s.tenantId) return;
    await this.state.update(TENANT_KEY, chosen);
    this.set(await this.connect(true));
  }

  private async pickTenant(
    tenants: { tenantId: string; displayName?: string; defaultDomain?: string }[],
    currentTenant: string,
  ) {
    const picked = await this.prompter().pick({
      title: vscode.l10n.t('Select Tenant'),
      placeholder: vscode.l10n.t('Your account has several tenants. Which one do you work in?'),
      items: tenants.map((t) => ({
        label: t.displayName ?? t.tenantId,
        description: t.defaultDomain,
        detail: t.tenantId + (t.tenantId === currentTenant ? vscode.l10n.t(' (current)') : ''),
        value: t.tenantId,
      })),
    });
    return typeof picked === 'string' ? picked : undefined;
  }

  private async connect(interactive: boolean): Promise<AzureSession | undefined> {
    const cloud = this.cloud();
    const services = this.loadServices();
    const setting = vscode.workspace.getConfiguration('aksWorkloadIdentity').get<AuthSetting>('authentication', 'auto');
    const tenant = this.state.get<string>(TENANT_KEY);
    const scope = armScope(cloud);
    const vscodeCred = new VsCodeSessionCredential(cloud.authProviderId, tenant, false);
    const cliCred = services.createAzureCliCredential(tenant);
    const tryToken = async (c: TokenCredential) => {
      try {
        return (await c.getToken(scope))?.token;
      } catch (e) {
        this.log.info(
          `No token from ${c === cliCred ? 'the Azure CLI' : 'VS Code'}: ${(e as Error).message.split('\n')[0]}`,
        );
        return undefined;
      }
    };

    // VS Code's Microsoft account does not answer at all for an incomplete custom environment: do not wait for it.
    const vscodeUnusable = cloud.vsCodeAccountMissing
      ? vscode.l10n.t(
          "VS Code's Microsoft account cannot sign in to this custom cloud: microsoft-sovereign-cloud.customEnvironment lacks {0}, which VS Code requires.",
          cloud.vsCodeAccountMissing.join(', '),
        )
      : undefined;
    if (vscodeUnusable) this.log.warn(vscodeUnusable);
    let method: AuthMethod;
    let token: string | undefined;
    if (setting === 'vscode' && vscodeUnusable) {
      if (interactive)
        void this.prompter().notify(
          'error',
          vscode.l10n.t(
            '{0} Complete the setting, or set aksWorkloadIdentity.authentication to azureCli.',
            vscodeUnusable,
          ),
        );
      return undefined;
    }
    if (setting === 'auto') {
      token = vscodeUnusable ? undefined : await tryToken(vscodeCred);
      if (token) method = 'vscode';
      else {
        token = await tryToken(cliCred);
        method = chooseAuthMethod(setting, { vscodeSession: false, azureCli: !!token });
      }
    } else {
      method = setting;
      token = await tryToken(method === 'vscode' ? vscodeCred : cliCred);
    }
    let credential: TokenCredential = method === 'vscode' ? vscodeCred : cliCred;
    if (!token && method === 'vscode' && interactive) {
      credential = new VsCodeSessionCredential(cloud.authProviderId, tenant, true);
      token = await tryToken(credential);
      credential = vscodeCred;
    }
    if (!token) {
      if (interactive && method === 'azureCli') {
        void this.prompter().notify(
          'error',
          vscode.l10n.t(
            "The Azure CLI is not signed in. Run 'az login' (in Codespaces: 'az login --use-device-code') in a terminal, then sign in again.",
          ),
        );
      }
      return undefined;
    }
    const claims = accountClaims(token);
    const tenantId = tenant ?? claims.tid ?? '';
    this.log.info(
      `Signed in as ${claims.upn ?? 'unknown user'} via ${methodLabel(method)} (tenant ${tenantId}, cloud ${cloud.name} ${cloud.resourceManagerEndpoint}).`,
    );
    return {
      cloud,
      method,
      credential,
      account: claims.upn ?? claims.name ?? vscode.l10n.t('signed in'),
      tenantId,
      services: services.createAzureServices(cloud, credential, this.log, { tenantId }),
    };
  }

  private set(s: AzureSession | undefined) {
    this.current = s;
    void vscode.commands.executeCommand('setContext', 'aksWorkloadIdentity.signedIn', !!s);
    this.changed.fire();
    return s;
  }

  dispose() {
    this.disposables.forEach((d) => d.dispose());
  }
}
