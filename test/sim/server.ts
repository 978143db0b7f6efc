import { randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { ArmConfig, armError, armGuard, armRoutes } from './arm';
import { FaultInjector, FaultSpec, LoggedRequest } from './faults';
import { send, startHttpsServer } from './http';
import { kubeGuard, kubeRoutes } from './kube';
import { kubeStatus } from './model';
import { SimState, emptyState } from './model';
import { seedStandard, seedStandardWithBudgets } from './seed';
import { SimTls, runTls } from './tls';
import { TENANT_CONTOSO, USER_OBJECT_ID } from './seed';
import { issueToken } from './tokens';
import { VAULT_DOMAIN, loginRoutes } from './entra';
import { vaultGuard, vaultRoutes } from './keyVaultData';
import { aksProxyRoutes } from './aksProxy';

export type SeedFn = (state: SimState) => void;

export interface SimOptions {
  tls?: SimTls;
  seed?: SeedFn;
  latencyMs?: number;
  config?: Partial<ArmConfig>;
}

/** What tests and the demo know about a running simulator. */
export interface SimInfo {
  armUrl: string;
  kubeUrl: string;
  /** Microsoft Entra ID's authority host (token endpoint and discovery). */
  loginUrl: string;
  /** Key Vault's data plane: `https://<vault>.vault.sim.test:<port>/`, resolved to 127.0.0.1 by test/sim/resolve.ts. */
  vaultPort: number;
  /** AKS's identity-binding proxy, as pods reach it (AZURE_KUBERNETES_TOKEN_PROXY). */
  aksProxyUrl: string;
  caPath: string;
  tokenSecret: string;
  controlSecret: string;
  /**
   * A managed-identity token endpoint (plain http on loopback, as IMDS and App Service's MSI_ENDPOINT are): what
   * `az login --identity` of azure-cli 2.45 signs in through, with `MSI_ENDPOINT` pointing here.
   */
  msiUrl: string;
}

export const DEFAULT_CONFIG: ArmConfig = {
  clusterUpdateMs: 1500,
  pollRetryAfterSeconds: 1,
  credentialWriteMs: 50,
  principalReplicationMs: 30_000,
  runCommandMs: 300,
  identityBindingMs: 300,
  graphQuota: 15,
  graphQuotaWindowMs: 5000,
  credentialPropagationMs: 0,
  roleAssignmentPropagationMs: 0,
  entraClockSkewSeconds: 0,
};

export class Simulator {
  state: SimState = emptyState();
  readonly faults = new FaultInjector();
  readonly log: LoggedRequest[] = [];
  config: ArmConfig;
  latencyMs: number;
  info!: SimInfo;
  private closers: (() => Promise<void>)[] = [];

  private constructor(
    private readonly opts: SimOptions,
    readonly tls: SimTls,
    readonly tokenSecret: string,
    readonly controlSecret: string,
  ) {
    this.config = { ...DEFAULT_CONFIG, ...opts.config };
    this.latencyMs = opts.latencyMs ?? 0;
  }

  static async start(opts: SimOptions = {}): Promise<Simulator> {
    const sim = new Simulator(
      opts,
      opts.tls ?? runTls(),
      randomBytes(24).toString('hex'),
      randomBytes(24).toString('hex'),
    );
    (opts.seed ?? seedStandard)(sim.state);
    let armUrl = '',
      kubeUrl = '';
    const armCtx = {
      state: proxyState(sim),
      config: sim.config,
      tokenSecret: sim.tokenSecret,
      armUrl: () => armUrl,
      kubeUrl: () => kubeUrl,
      ca: sim.tls.ca,
      podNetwork: () => ({ proxyUrl: sim.info.aksProxyUrl, caPath: sim.tls.caPath, vaultPort: sim.info.vaultPort }),
    };
    const arm = await startHttpsServer({
      name: 'arm',
      tls: sim.tls,
      faults: sim.faults,
      log: sim.log,
      latencyMs: () => sim.latencyMs,
      guard: armGuard(armCtx),
      errorBody: (s, c, m) => armError(s, c, m),
      routes: armRoutes(armCtx),
      control: (req, res, body) => sim.control(req, res, body),
    });
    const kube = await startHttpsServer({
      name: 'kube',
      tls: sim.tls,
      faults: sim.faults,
      log: sim.log,
      latencyMs: () => sim.latencyMs,
      guard: (ctx) => kubeGuard(sim.state, sim.tokenSecret)(ctx),
      errorBody: (s, c, m) => kubeStatus(s, c === 'AuthorizationFailed' ? 'Forbidden' : c, m),
      routes: kubeRoutes(proxyState(sim)),
    });
    let loginUrl = '';
    const entraCtx = {
      state: proxyState(sim),
      config: sim.config,
      tokenSecret: sim.tokenSecret,
      loginUrl: () => loginUrl,
    };
    const login = await startHttpsServer({
      name: 'login',
      tls: sim.tls,
      faults: sim.faults,
      log: sim.log,
      latencyMs: () => sim.latencyMs,
      guard: () => undefined,
      errorBody: (s, c, m) => ({
        error: c === 'TooManyRequests' ? 'temporarily_unavailable' : 'server_error',
        error_description: `${c}: ${m}`,
        error_codes: [],
      }),
      routes: loginRoutes(entraCtx),
    });
    const vault = await startHttpsServer({
      name: 'vault',
      tls: sim.tls,
      faults: sim.faults,
      log: sim.log,
      latencyMs: () => sim.latencyMs,
      guard: vaultGuard(entraCtx),
      errorBody: (s, c, m) => ({ error: { code: c, message: m } }),
      routes: vaultRoutes(entraCtx),
    });
    const aksProxy = await startHttpsServer({
      name: 'aksProxy',
      tls: sim.tls,
      faults: sim.faults,
      log: sim.log,
      latencyMs: () => sim.latencyMs,
      guard: () => undefined,
      errorBody: (s, c, m) => ({ error: 'server_error', error_description: `${c}: ${m}`, error_codes: [] }),
      routes: aksProxyRoutes(entraCtx),
    });
    const msi = await sim.startMsiEndpoint();
    armUrl = arm.url;
    kubeUrl = kube.url;
    loginUrl = login.url;
    sim.closers.push(arm.close, kube.close, login.close, vault.close, aksProxy.close, msi.close);
    sim.info = {
      armUrl,
      kubeUrl,
      loginUrl,
      vaultPort: Number(new URL(vault.url).port),
      aksProxyUrl: aksProxy.url,
      caPath: sim.tls.caPath,
      tokenSecret: sim.tokenSecret,
      controlSecret: sim.controlSecret,
      msiUrl: msi.url,
    };
    sim.localizeVaults();
    return sim;
  }

  /** msrestazure's protocol: a form POST (or GET) naming `resource`, answered with the token as JSON. */
  private async startMsiEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const resource = new URLSearchParams(body).get('resource') ?? url.searchParams.get('resource');
        this.log.push({
          server: 'msi',
          method: req.method ?? 'GET',
          path: url.pathname,
          op: 'msi.getToken',
          status: resource ? 200 : 400,
          ms: 0,
          at: Date.now(),
        });
        if (!resource) {
          send(res, 400, { error: 'invalid_request', error_description: 'resource is required' });
          return;
        }
        const expiresOn = Math.floor(Date.now() / 1000) + 3600;
        send(res, 200, {
          access_token: this.token(resource),
          refresh_token: '',
          expires_in: '3600',
          expires_on: String(expiresOn),
          not_before: String(expiresOn - 3600),
          resource,
          token_type: 'Bearer',
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return {
      url: `http://127.0.0.1:${port}/msi/token`,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }

  /** A token as the stand-in `az` would print it for this resource. */
  token(resource = `${this.info.armUrl}/`, tenantId = TENANT_CONTOSO): string {
    return issueToken(this.tokenSecret, {
      aud: resource,
      tid: tenantId,
      oid: USER_OBJECT_ID,
      upn: 'platform.engineer@contoso.com',
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
  }

  /** Vaults answer at `https://<name>.vault.sim.test:<port>/`, as real ones at `https://<name>.vault.azure.net/`. */
  localizeVaults(): void {
    for (const v of this.state.vaults.values())
      v.properties.vaultUri = `https://${v.name}.${VAULT_DOMAIN}:${this.info.vaultPort}/`;
  }

  reset(seed: SeedFn = this.opts.seed ?? seedStandard): void {
    this.state = emptyState();
    seed(this.state);
    this.localizeVaults();
    this.faults.clear();
    this.log.length = 0;
    Object.assign(this.config, DEFAULT_CONFIG, this.opts.config);
  }

  addFault(spec: FaultSpec): void {
    this.faults.add(spec);
  }

  /** A JSON view of everything stored, for assertions across processes. */
  snapshot() {
    const kubeOf = (k: any) =>
      Object.fromEntries(
        Object.entries(k)
          .filter(([, m]) => m instanceof Map)
          .map(([n, m]) => [n, Object.fromEntries(m as Map<string, unknown>)]),
      );
    return {
      clusters: [...this.state.clusters.values()].map((c) => ({
        ...c.resource,
        kube: kubeOf(c.kube),
        identityBindings: [...(c.identityBindings?.values() ?? [])].map((b) => b.resource),
        violations: c.violations,
      })),
      identities: [...this.state.identities.values()].map((r) => ({
        ...r.resource,
        credentials: [...r.credentials.values()],
      })),
      vaults: [...this.state.vaults.values()],
      roleAssignments: [...this.state.roleAssignments.values()],
      violations: [...this.state.violations],
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.closers.map((c) => c()));
  }

  private async control(req: IncomingMessage, res: ServerResponse, body: string): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'https://sim.invalid');
    if (!url.pathname.startsWith('/_sim/')) return false;
    if (req.headers['x-sim-control'] !== this.controlSecret) {
      send(res, 403, { error: 'control secret required' });
      return true;
    }
    const json = body ? JSON.parse(body) : {};
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /_sim/state':
        send(res, 200, this.snapshot());
        break;
      case 'GET /_sim/log':
        send(res, 200, this.log);
        break;
      case 'DELETE /_sim/log':
        this.log.length = 0;
        send(res, 204);
        break;
      case 'POST /_sim/faults':
        this.addFault(json);
        send(res, 204);
        break;
      case 'DELETE /_sim/faults':
        this.faults.clear();
        send(res, 204);
        break;
      case 'POST /_sim/config':
        if (typeof json.latencyMs === 'number') this.latencyMs = json.latencyMs;
        Object.assign(this.config, json.config ?? {});
        send(res, 204);
        break;
      case 'POST /_sim/reset':
        // `budgets`: the standard seed with identities near and at their credential limit (seedCredentialBudgets).
        this.reset(json.seed === 'budgets' ? seedStandardWithBudgets : undefined);
        send(res, 204);
        break;
      default:
        send(res, 404, { error: `no control route ${route}` });
    }
    return true;
  }
}

/** The Kubernetes routes read the state through this, so a reset swaps it for them too. */
function proxyState(sim: Simulator): SimState {
  return new Proxy({} as SimState, { get: (_t, p) => (sim.state as any)[p] });
}
