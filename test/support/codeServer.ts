import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SimInfo } from '../sim/server';
import { AZ_STAND_IN_DIR, CODE_SERVER, CODE_SERVER_NODE, REPO } from './paths';

export interface CodeServer {
  url: string;
  port: number;
  home: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string;
  output: () => string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  sim: SimInfo;
  /** Vsix files to install before start (the e2e tests and the demo run what ships). */
  vsix?: string | string[];
  workspace?: string;
  port?: number;
  extraSettings?: Record<string, unknown>;
  /** VS Code's display language (a language pack for it must be among the vsix files). */
  locale?: string;
  /** Files written into this extension's installed folder (the pseudo-locale's bundles), by relative path. */
  extensionFiles?: Record<string, string>;
  /** Workspace Trust on, no folder trusted: the workspace opens in Restricted Mode. Off (everything trusted) otherwise. */
  restricted?: boolean;
  /**
   * The workbench will be given an extension under development through its `payload` query. VS Code 1.10x's
   * workbench reads that query as is; later ones read it only with the smoke-test driver on, which code-server passes
   * through --vscode-option (4.10x has neither).
   */
  extensionDevelopment?: boolean;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** User settings that point the extension at the simulated Azure, through VS Code's own custom-cloud settings. */
export function simulatedCloudSettings(sim: SimInfo): Record<string, unknown> {
  return {
    'microsoft-sovereign-cloud.environment': 'custom',
    'microsoft-sovereign-cloud.customEnvironment': {
      name: 'Simulated Azure (demo data)',
      portalUrl: 'https://portal.azure.com',
      // VS Code's Microsoft account extension requires every field of a custom environment.
      managementEndpointUrl: `${sim.armUrl}/`,
      resourceManagerEndpointUrl: `${sim.armUrl}/`,
      activeDirectoryEndpointUrl: `${sim.loginUrl}/`,
      activeDirectoryResourceId: `${sim.armUrl}/`,
      keyVaultDnsSuffix: '.vault.sim.test',
    },
    'aksWorkloadIdentity.authentication': 'azureCli',
  };
}

/** The environment the extension host sees: the stand-in az on PATH, the run's CA, a private HOME. */
export function simEnv(sim: SimInfo, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_RUNTIME_DIR: path.join(home, '.run'),
    PATH: `${AZ_STAND_IN_DIR}:${process.env.PATH}`,
    NODE_EXTRA_CA_CERTS: sim.caPath,
    AKSWI_SIM_TOKEN_SECRET: sim.tokenSecret,
    AKSWI_SIM_AZ_STATE: path.join(home, '.az-sim'),
    AKSWI_SIM_INFO: JSON.stringify(sim),
    // The simulated vaults' host names resolve to 127.0.0.1 in the extension host (test/sim/resolve.ts).
    NODE_OPTIONS:
      `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(REPO, 'out', 'test', 'sim', 'resolve.js')}`.trim(),
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const entry = path.join(CODE_SERVER, 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry))
    throw new Error(
      `code-server is not installed at ${CODE_SERVER}. Run: bash scripts/test.sh (it installs it), or source scripts/lib.sh && need_code_server.`,
    );
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-home-'));
  for (const d of ['.config', '.local/share', '.cache', '.run', '.az-sim'])
    fs.mkdirSync(path.join(home, d), { recursive: true, mode: 0o700 });
  const userDataDir = path.join(home, 'user-data');
  const extensionsDir = path.join(home, 'extensions');
  const workspace = opts.workspace ?? path.join(home, 'workspace');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  const settings = JSON.stringify(
    {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'security.workspace.trust.enabled': !!opts.restricted,
      'security.workspace.trust.startupPrompt': 'never',
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'update.mode': 'none',
      'window.restoreWindows': 'none',
      'chat.commandCenter.enabled': false,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      // VS Code 1.139 opens Chat in the secondary side bar, which can take focus from a quick pick at start-up.
      'chat.disableAIFeatures': true,
      // The simulated Azure's CA reaches the extension host through NODE_EXTRA_CA_CERTS; VS Code's proxy agent would replace it.
      'http.proxySupport': 'off',
      'http.systemCertificates': false,
      'extensions.gallery.serviceUrl': '',
      ...simulatedCloudSettings(opts.sim),
      ...opts.extraSettings,
    },
    null,
    2,
  );
  // User settings reach the workbench; Machine settings reach the remote extension host (http.* live there).
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), settings);
  fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), settings);
  const env = simEnv(opts.sim, home);
  // The server resolves the extension host's PATH from the user's shell profile, as for a real user.
  const profile = `export PATH="${AZ_STAND_IN_DIR}:$PATH"\n`;
  fs.writeFileSync(path.join(home, '.bashrc'), profile);
  fs.writeFileSync(path.join(home, '.profile'), profile);
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  for (const vsix of [opts.vsix ?? []].flat()) {
    await run(CODE_SERVER_NODE, [entry, ...common, '--install-extension', vsix], env);
  }
  if (opts.extensionFiles) {
    const installed = fs
      .readdirSync(extensionsDir)
      .find((d) => d.startsWith('aks-workload-identity.aks-workload-identity-'));
    if (!installed) throw new Error(`the extension is not installed in ${extensionsDir}`);
    for (const [rel, text] of Object.entries(opts.extensionFiles)) {
      fs.mkdirSync(path.dirname(path.join(extensionsDir, installed, rel)), { recursive: true });
      fs.writeFileSync(path.join(extensionsDir, installed, rel), text);
    }
  }
  if (opts.locale) writeLanguagePacks(userDataDir, extensionsDir);
  const port = opts.port ?? (await freePort());
  let out = '';
  // The preload on the command line too: VS Code 1.139's extension host no longer inherits NODE_OPTIONS, only execArgv.
  const child: ChildProcess = spawn(
    CODE_SERVER_NODE,
    [
      '--require',
      path.join(REPO, 'out', 'test', 'sim', 'resolve.js'),
      entry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      ...common,
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.restricted ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      ...(opts.locale ? ['--locale', opts.locale] : []),
      ...(opts.extensionDevelopment ? developmentFlags(entry) : []),
      workspace,
    ],
    {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited (${child.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    home,
    userDataDir,
    extensionsDir,
    workspace,
    output: () => out,
    async stop() {
      // code-server starts children of its own: end the whole process group.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 300));
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

function developmentFlags(entry: string): string[] {
  const cli = fs.readFileSync(path.join(path.dirname(entry), 'cli.js'), 'utf8');
  return cli.includes('"vscode-option"') ? ['--vscode-option', 'enable-smoke-test-driver'] : [];
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed (${code}):\n${out}`))));
  });
}

/**
 * What VS Code writes to languagepacks.json when a language pack is installed and it restarts: the server reads it
 * at start to resolve --locale, so the pseudo-locale takes effect on the first start.
 */
function writeLanguagePacks(userDataDir: string, extensionsDir: string) {
  const packs: Record<string, unknown> = {};
  for (const dir of fs.readdirSync(extensionsDir)) {
    const manifest = path.join(extensionsDir, dir, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    for (const loc of pkg.contributes?.localizations ?? []) {
      packs[loc.languageId] = {
        hash: `${pkg.publisher}.${pkg.name}-${pkg.version}`.replace(/[^\w.-]/g, ''),
        extensions: [{ extensionIdentifier: { id: `${pkg.publisher}.${pkg.name}` }, version: pkg.version }],
        translations: Object.fromEntries(
          loc.translations.map((t: { id: string; path: string }) => [t.id, path.join(extensionsDir, dir, t.path)]),
        ),
        label: loc.localizedLanguageName ?? loc.languageName,
      };
    }
  }
  fs.writeFileSync(path.join(userDataDir, 'languagepacks.json'), JSON.stringify(packs));
}
