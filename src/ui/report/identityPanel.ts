import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { IdentityInfo } from '../../azure/identities';
import { StepError, describeError, errorNamed } from '../../errors';
import { applyFix } from '../../workloadIdentity/verify/fix';
import { IdentityReport, verifyIdentity } from '../../workloadIdentity/verify/identity';
import type { ProbeDeps } from '../../workloadIdentity/testBinding/model';
import { remedyText } from '../commands/command';
import type { CommandContext } from '../context';
import { markDone } from '../walkthrough';
import { identityReportHtml, identityReportMarkdown, summarizeIdentity } from './render';

/**
 * Verify on an identity: one page with a section per binding its credentials make, on every cluster you can see.
 * Opening it again on the same identity reuses the panel and runs the checks again. Fixes and Run again work as in
 * a binding's own report; each section opens that report too.
 */
export class IdentityReportPanel {
  private static readonly open = new Map<string, IdentityReportPanel>();
  report?: IdentityReport;
  /** The dependencies the report was read with: a fix writes through the same cluster connections. */
  private deps?: ProbeDeps;
  private busy?: string;
  private disposed = false;

  static async show(ctx: CommandContext, makeDeps: () => ProbeDeps, identity: IdentityInfo) {
    const key = identity.id.toLowerCase();
    let p = IdentityReportPanel.open.get(key);
    if (p) p.panel.reveal();
    else {
      const panel = vscode.window.createWebviewPanel(
        'aksWorkloadIdentity.identityReport',
        vscode.l10n.t('Verify {0}', identity.name),
        vscode.ViewColumn.Active,
        { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false },
      );
      p = new IdentityReportPanel(ctx, makeDeps, identity, panel);
      IdentityReportPanel.open.set(key, p);
      const opened = p;
      panel.onDidDispose(() => {
        opened.disposed = true;
        IdentityReportPanel.open.delete(key);
      });
    }
    await p.run();
    return p;
  }

  private constructor(
    private readonly ctx: CommandContext,
    private readonly makeDeps: () => ProbeDeps,
    readonly identity: IdentityInfo,
    readonly panel: vscode.WebviewPanel,
  ) {
    panel.webview.onDidReceiveMessage((m: { type: string; key?: string }) => {
      if (m.type === 'fix' && m.key) void this.fix(m.key);
      if (m.type === 'open' && m.key) void this.openSection(Number(m.key));
      if (m.type === 'rerun') void this.run();
      if (m.type === 'copy') void this.copy();
    });
  }

  /** Runs every section's checks again; undefined when they could not run. */
  async run(): Promise<IdentityReport | undefined> {
    this.busy = vscode.l10n.t('Checking every binding…');
    this.render();
    try {
      const deps = this.makeDeps();
      const clusters = await this.ctx.tree.clusters();
      const report = await vscode.window.withProgress({ location: { viewId: 'aksWorkloadIdentity.resources' } }, () =>
        verifyIdentity(this.identity, clusters, deps),
      );
      this.report = report;
      this.deps = deps;
      const n = summarizeIdentity(report);
      if (report.sections.length && !n.fail && !n.error) markDone('verified');
      this.ctx.log.info(
        `Verify ${this.identity.name} on ${report.sections.length} bindings: ${n.pass} passed, ${n.warn} warnings, ${n.fail} failed, ${n.error} unreadable; ${report.notChecked.length} credentials not checked.`,
      );
      return report;
    } catch (e) {
      const d = describeError(e);
      this.ctx.log.error(`Verify ${this.identity.name}: ${d.code}: ${d.message}`);
      void this.ctx.prompter().notify('error', vscode.l10n.t('Verify Workload Identity: {0}: {1}', d.code, d.message));
      return undefined;
    } finally {
      this.busy = undefined;
      this.render();
    }
  }

  /** A fix's key is its section's index and the check's key: the Bind step behind it runs, then every check again. */
  async fix(key: string): Promise<boolean> {
    const at = key.indexOf(':');
    const section = this.report?.sections[Number(key.slice(0, at))];
    const check = section?.report.checks.find((c) => c.key === key.slice(at + 1));
    if (!check?.fix || !section?.facts || !this.deps || this.busy) return false;
    const fix = check.fix;
    const where = section.report.target.cluster.name;
    const ok = await this.ctx.prompter().confirm({
      message: vscode.l10n.t('{0} on {1}?', fix.label, where),
      detail: fix.detail,
      confirm: fix.label,
    });
    if (!ok) return false;
    this.busy = `${fix.label}…`;
    this.render();
    try {
      await applyFix(fix, section.facts, this.deps, new AbortController().signal, {
        runClusterUpdate: (id, fn) => this.ctx.clusterUpdates.run(id, fn).promise,
      });
      this.ctx.log.info(`Verify fix "${fix.label}" on ${where} for ${check.title}: ${fix.detail}`);
      this.ctx.tree.refresh();
    } catch (e) {
      const d = describeError(e);
      const remedy = errorNamed(e, 'StepError') ? remedyText(e as StepError) : '';
      this.ctx.log.error(`Verify fix "${fix.label}" on ${where}: ${d.code}: ${d.message}`);
      void this.ctx
        .prompter()
        .notify('error', vscode.l10n.t('{0} failed: {1}: {2}{3}', fix.label, d.code, d.message, remedy));
    } finally {
      this.busy = undefined;
    }
    await this.run();
    return true;
  }

  /** A section's binding in its own report, where Test Binding and Connect are. */
  openSection(index: number) {
    const target = this.report?.sections[index]?.report.target;
    return target
      ? vscode.commands.executeCommand('aksWorkloadIdentity.verifyWorkloadIdentity', target)
      : Promise.resolve(undefined);
  }

  async copy(): Promise<string | undefined> {
    if (!this.report) return undefined;
    const md = identityReportMarkdown(this.report);
    await vscode.env.clipboard.writeText(md);
    void this.ctx.prompter().notify('info', vscode.l10n.t('The report is on the clipboard as Markdown.'));
    return md;
  }

  private render() {
    if (this.disposed) return;
    const report = this.report ?? { identity: this.identity, checkedAt: '', sections: [], notChecked: [] };
    this.panel.webview.html = identityReportHtml(report, {
      lang: vscode.env.language,
      nonce: randomBytes(16).toString('base64'),
      cspSource: this.panel.webview.cspSource,
      busy: this.busy,
    });
  }
}
