import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { StepError, describeError, errorNamed } from '../../errors';
import { applyFix } from '../../workloadIdentity/verify/fix';
import type { VerifyFacts, VerifyReport } from '../../workloadIdentity/verify/model';
import type { ProbeDeps } from '../../workloadIdentity/testBinding/model';
import { verifyAndTest } from '../../workloadIdentity/testBinding/run';
import { withCancellableProgress } from '../progress';
import { validateObjectName } from '../../workloadIdentity/names';
import { reportHtml, reportMarkdown, summarize } from './render';
import { markDone } from '../walkthrough';
import { verifyBinding } from '../../workloadIdentity/verify/verify';
import type { CommandContext } from '../context';
import type { Binding } from '../../workloadIdentity/binding';
import { remedyText } from '../commands/command';

const keyOf = (t: Binding) => `${t.cluster.id}/${t.namespace}/${t.serviceAccount}/${t.vault?.id ?? '*'}`.toLowerCase();

/**
 * One report per binding: opening Verify again on the same binding reuses its panel and runs the checks again.
 * The webview runs only the report's own script; every action comes back here as a message.
 */
export class VerifyPanel {
  private static readonly open = new Map<string, VerifyPanel>();
  private facts?: VerifyFacts;
  /** The dependencies the facts were read with: a fix writes through the same cluster connection. */
  private deps?: ProbeDeps;
  /** Once the user asked for the token exchange test, every run includes it. */
  private testing = false;
  /** A secret the workload reads, tested for being readable (never read). */
  private secretName?: string;
  report?: VerifyReport;
  private busy?: string;
  private disposed = false;

  /**
   * `makeDeps` is called for every run: a panel can stay open for hours, past the lifetime of a cluster token, and
   * across a sign-out and sign-in.
   */
  static async show(
    ctx: CommandContext,
    makeDeps: () => ProbeDeps,
    target: Binding,
    test = false,
  ): Promise<VerifyPanel> {
    const key = keyOf(target);
    let p = VerifyPanel.open.get(key);
    if (p) p.panel.reveal();
    else {
      const panel = vscode.window.createWebviewPanel(
        'aksWorkloadIdentity.verifyReport',
        vscode.l10n.t('Verify {0}/{1}', target.namespace, target.serviceAccount),
        vscode.ViewColumn.Active,
        { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false },
      );
      p = new VerifyPanel(ctx, makeDeps, target, panel);
      VerifyPanel.open.set(key, p);
      const opened = p;
      panel.onDidDispose(() => {
        opened.disposed = true;
        VerifyPanel.open.delete(key);
      });
    }
    p.testing ||= test;
    await p.run();
    return p;
  }

  private constructor(
    private readonly ctx: CommandContext,
    private readonly makeDeps: () => ProbeDeps,
    readonly target: Binding,
    readonly panel: vscode.WebviewPanel,
  ) {
    panel.webview.onDidReceiveMessage((m: { type: string; key?: string }) => {
      if (m.type === 'fix' && m.key) void this.fix(m.key);
      if (m.type === 'rerun') void this.run();
      if (m.type === 'test') {
        this.testing = true;
        void this.run();
      }
      if (m.type === 'secret') void this.testNamedSecret();
      if (m.type === 'connect')
        void vscode.commands.executeCommand('aksWorkloadIdentity.connectWorkload', {
          cluster: target.cluster,
          namespace: target.namespace,
          serviceAccount: target.serviceAccount,
        });
      if (m.type === 'copy') void this.copy();
    });
  }

  /** Runs every check (and the test, once asked for) again and shows the result; undefined when they could not run. */
  async run(): Promise<VerifyReport | undefined> {
    this.busy = this.testing ? vscode.l10n.t('Checking and testing the token exchange…') : vscode.l10n.t('Checking…');
    this.render();
    try {
      const deps = this.makeDeps();
      const waitSeconds = vscode.workspace
        .getConfiguration('aksWorkloadIdentity')
        .get<number>('testBinding.propagationWaitSeconds', 180);
      const { report, facts } = this.testing
        ? await withCancellableProgress(
            vscode.l10n.t(
              'Testing {0}/{1} on {2}',
              this.target.namespace,
              this.target.serviceAccount,
              this.target.cluster.name,
            ),
            (progress, signal) =>
              verifyAndTest(this.target, deps, {
                signal,
                progress,
                propagationWaitMs: Math.max(0, waitSeconds) * 1000,
                ...(this.secretName ? { secretName: this.secretName } : {}),
              }),
          )
        : await vscode.window.withProgress({ location: { viewId: 'aksWorkloadIdentity.resources' } }, () =>
            verifyBinding(this.target, deps),
          );
      this.report = report;
      this.facts = facts;
      this.deps = deps;
      const n = summarize(report);
      if (!n.fail && !n.error) markDone('verified');
      if (this.testing && report.checks.some((c) => c.id === 'keyVault' && c.status === 'pass')) markDone('tested');
      this.ctx.log.info(
        `Verify ${this.target.namespace}/${this.target.serviceAccount} on ${this.target.cluster.name}: ${n.pass} passed, ${n.warn} warnings, ${n.fail} failed, ${n.error} unreadable.`,
      );
      return report;
    } catch (e) {
      const d = describeError(e);
      if (d.code === 'CancelledError' || d.code === 'Cancelled') {
        this.ctx.log.info('Test Binding cancelled.');
        return undefined;
      }
      this.ctx.log.error(`Verify: ${d.code}: ${d.message}`);
      void this.ctx.prompter().notify('error', vscode.l10n.t('Verify Workload Identity: {0}: {1}', d.code, d.message));
      return undefined;
    } finally {
      this.busy = undefined;
      this.render();
    }
  }

  /** Asks, runs the Bind step behind the check's fix, then runs the checks again. */
  async fix(key: string): Promise<boolean> {
    const check = this.report?.checks.find((c) => c.key === key);
    if (!check?.fix || !this.facts || !this.deps || this.busy) return false;
    const fix = check.fix;
    const ok = await this.ctx.prompter().confirm({ message: `${fix.label}?`, detail: fix.detail, confirm: fix.label });
    if (!ok) return false;
    this.busy = `${fix.label}…`;
    this.render();
    try {
      await applyFix(fix, this.facts, this.deps!, new AbortController().signal, {
        runClusterUpdate: (id, fn) => this.ctx.clusterUpdates.run(id, fn).promise,
      });
      this.ctx.log.info(`Verify fix "${fix.label}" for ${check.title}: ${fix.detail}`);
      void this.ctx.tree
        .refreshCluster(this.target.cluster)
        .then((c) => c && this.ctx.tree.refreshBindings(c))
        .catch(() => undefined);
    } catch (e) {
      const d = describeError(e);
      const remedy = errorNamed(e, 'StepError') ? remedyText(e as StepError) : '';
      this.ctx.log.error(`Verify fix "${fix.label}": ${d.code}: ${d.message}`);
      void this.ctx
        .prompter()
        .notify('error', vscode.l10n.t('{0} failed: {1}: {2}{3}', fix.label, d.code, d.message, remedy));
    } finally {
      this.busy = undefined;
    }
    await this.run();
    return true;
  }

  /** Asks for the name of a secret the workload reads, and tests that the identity can read it. */
  async testNamedSecret(): Promise<VerifyReport | undefined> {
    const name = await this.ctx.prompter().input({
      title: vscode.l10n.t('Test Binding'),
      prompt: vscode.l10n.t(
        'Name of a secret the workload reads: Test Binding checks the identity can read it; its value is never read, shown or kept',
      ),
      validate: validateObjectName,
    });
    this.ctx.prompter().doneAsking();
    if (typeof name !== 'string') return undefined;
    this.secretName = name;
    this.testing = true;
    return this.run();
  }

  async copy(): Promise<string | undefined> {
    if (!this.report) return undefined;
    const md = reportMarkdown(this.report);
    await vscode.env.clipboard.writeText(md);
    void this.ctx.prompter().notify('info', vscode.l10n.t('The report is on the clipboard as Markdown.'));
    return md;
  }

  private render() {
    if (this.disposed) return;
    const nonce = randomBytes(16).toString('base64');
    const report = this.report ?? { target: this.target, checkedAt: '', checks: [], notes: [] };
    this.panel.webview.html = reportHtml(report, {
      lang: vscode.env.language,
      nonce,
      cspSource: this.panel.webview.cspSource,
      busy: this.busy,
      tested: this.testing,
    });
  }
}
