import * as l10n from '@vscode/l10n';
// The report as Markdown and as a page: no vscode here (unit tests render both), so @vscode/l10n translates.
import type { CheckResult, CheckStatus, VerifyReport } from '../../workloadIdentity/verify/model';
import type { IdentityReport } from '../../workloadIdentity/verify/identity';

const statusWord = (s: CheckStatus) =>
  ({
    pass: l10n.t('pass'),
    warn: l10n.t('warn'),
    fail: l10n.t('fail'),
    skip: l10n.t('skipped'),
    error: l10n.t('unreadable'),
  })[s];
const mark = (s: CheckStatus) =>
  `${{ pass: '✅', warn: '⚠️', fail: '❌', skip: '➖', error: '❗' }[s]} ${statusWord(s)}`;
/** Marks that every font has: the webview may have no emoji font (headless Chromium, some Linux desktops). */
const textMark = (s: CheckStatus) =>
  `${{ pass: '✓', warn: '!', fail: '✗', skip: '–', error: '?' }[s]} ${statusWord(s)}`;

/** The summary's counts: passed, warnings, failed, and unreadable only when there are any. */
const counts = (n: Record<CheckStatus, number>) => [
  l10n.t('{0} passed', n.pass),
  l10n.t('{0} warnings', n.warn),
  l10n.t('{0} failed', n.fail),
  ...(n.error ? [l10n.t('{0} could not be read', n.error)] : []),
];

export function summarize(r: Pick<VerifyReport, 'checks'>): Record<CheckStatus, number> {
  const n: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const c of r.checks) n[c.status]++;
  return n;
}

/** What distinguishes checks of the same kind: the vault's name for vault checks. */
const qualifier = (c: CheckResult) => (c.key !== c.id ? c.key.split(':').slice(1).join(':') : undefined);

const subjectOf = (r: VerifyReport) =>
  l10n.t('{0}/{1} on {2}', r.target.namespace, r.target.serviceAccount, r.target.cluster.name);

/** Markdown for a ticket. Table cells are escaped so names from Azure cannot break the table. */
export function reportMarkdown(r: VerifyReport): string {
  const cell = (s: string) =>
    s.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
  const n = summarize(r);
  const lines = [
    l10n.t('## Workload identity check: {0}', subjectOf(r)),
    '',
    l10n.t('Cluster: `{0}`  ', r.target.cluster.id),
    ...(r.identity ? [l10n.t('Identity: `{0}` (client id {1})  ', r.identity.id, r.identity.clientId)] : []),
    l10n.t('Checked: {0} · {1}', r.checkedAt, counts(n).join(', ')),
    '',
    ...r.notes.map((x) => `> ${x.replace(/</g, '&lt;')}\n`),
    l10n.t('| Check | Result | Details | Evidence |'),
    '|---|---|---|---|',
    ...r.checks.map(
      (c) =>
        `| ${cell(c.title)}${qualifier(c) ? ` (${cell(qualifier(c)!)})` : ''} | ${mark(c.status)} | ${cell(c.message)} | ${cell(c.evidence.map((e) => `${e.label}: ${e.value}`).join('\n'))} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The checks, each a section with its evidence and its fix; a prefix keeps keys apart when sections share a page. */
function checkSections(checks: CheckResult[], prefix: string, busy: string | undefined): string {
  return checks
    .map((c) => {
      const key = `${prefix}${c.key}`;
      return `
    <section class="check ${c.status}" id="check-${esc(key)}" data-key="${esc(key)}" data-status="${c.status}" aria-labelledby="title-${esc(key)}">
      <h3 id="title-${esc(key)}"><span class="mark">${esc(textMark(c.status))}</span> ${esc(c.title)}${qualifier(c) ? ` <small>${esc(qualifier(c)!)}</small>` : ''}</h3>
      <p class="message">${esc(c.message)}</p>
      ${c.evidence.length ? `<dl>${c.evidence.map((e) => `<dt>${esc(e.label)}</dt><dd>${esc(e.value)}</dd>`).join('')}</dl>` : ''}
      ${c.fix ? `<p class="fix"><button data-fix="${esc(key)}" aria-describedby="fix-${esc(key)}" ${busy ? 'disabled' : ''}>${esc(c.fix.label)}</button> <span class="detail" id="fix-${esc(key)}">${esc(c.fix.detail)}</span></p>` : ''}
    </section>`;
    })
    .join('');
}

/** Links to the checks that need attention, problems first. */
const attentionNav = (items: { key: string; c: CheckResult }[]) =>
  items.length
    ? `<nav aria-label="${esc(l10n.t('Checks that need attention'))}"><ul class="attention">${items.map(({ key, c }) => `<li><a href="#check-${esc(key)}">${esc(textMark(c.status))}: ${esc(c.title)}${qualifier(c) ? ` (${esc(qualifier(c)!)})` : ''}</a></li>`).join('')}</ul></nav>`
    : '';
const needsAttention = (c: CheckResult) => c.status === 'fail' || c.status === 'error' || c.status === 'warn';

/** The page's own style, allowed by its nonce. */
const head = (nonce: string) => `<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1.5em 2em; }
  .check { border-left: 4px solid var(--vscode-panel-border); padding: .2em .9em; margin: .8em 0; }
  .check.pass { border-color: var(--vscode-testing-iconPassed, green); }
  .check.warn { border-color: var(--vscode-editorWarning-foreground, orange); }
  .check.fail, .check.error { border-color: var(--vscode-editorError-foreground, red); }
  h3 { margin: .4em 0; font-size: 1.05em; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; font-size: .92em; }
  dt { opacity: .75; } dd { margin: 0; font-family: var(--vscode-editor-font-family); white-space: pre-wrap; word-break: break-all; }
  button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: 0; padding: .35em .9em; cursor: pointer; }
  button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
  .detail, .meta { opacity: .8; font-size: .92em; }
  .attention a { color: var(--vscode-textLink-foreground); }
  .binding { border-top: 1px solid var(--vscode-panel-border); margin-top: 1.5em; }
  .note { border-left: 4px solid var(--vscode-textLink-foreground); padding: .2em .9em; }
  .mark { display: inline-block; min-width: 5.5em; }
  .pass .mark { color: var(--vscode-testing-iconPassed, green); } .warn .mark { color: var(--vscode-editorWarning-foreground, orange); }
  .fail .mark, .error .mark { color: var(--vscode-editorError-foreground, red); }
</style></head>`;

/** Every button posts its id (or the fix or section it belongs to) back to the extension. */
const script = (nonce: string) => `<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  document.body.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b || b.disabled) return;
    if (b.dataset.fix) vscode.postMessage({ type: 'fix', key: b.dataset.fix });
    else if (b.dataset.open) vscode.postMessage({ type: 'open', key: b.dataset.open });
    else vscode.postMessage({ type: b.id });
  });
</script>`;

const pageStart = (title: string, lang: string | undefined, nonce: string, cspSource: string) => `<!DOCTYPE html>
<html lang="${esc(lang ?? 'en')}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${esc(cspSource)}; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
${head(nonce)}
<body>`;

/**
 * The report as a page for a webview. Everything from Azure or the cluster is escaped, and the content security policy
 * allows only this page's own script and style (by nonce): a name with markup stays text.
 */
export function reportHtml(
  r: VerifyReport,
  opts: { nonce: string; cspSource: string; busy?: string; tested?: boolean; lang?: string },
): string {
  const n = summarize(r);
  const disabled = opts.busy ? 'disabled' : '';
  return `${pageStart(l10n.t('Verify {0}', subjectOf(r)), opts.lang, opts.nonce, opts.cspSource)}
<main aria-labelledby="heading">
<h2 id="heading">${esc(l10n.t('Workload identity: {0}', subjectOf(r)))}</h2>
<p class="meta" id="summary" aria-live="polite">${esc([...counts(n), l10n.t('checked {0}', r.checkedAt), ...(r.identity ? [l10n.t('identity {0} ({1})', r.identity.name, r.identity.clientId)] : [])].join(' · '))}</p>
${attentionNav(r.checks.filter(needsAttention).map((c) => ({ key: c.key, c })))}
${r.notes.map((x) => `<p class="note">${esc(x)}</p>`).join('')}
<div role="toolbar" aria-label="${esc(l10n.t('Report actions'))}"><button id="rerun" class="secondary" ${disabled}>${esc(l10n.t('Run checks again'))}</button> ${opts.tested ? '' : `<button id="test" class="secondary" ${disabled} title="${esc(l10n.t('Get a ServiceAccount token, exchange it at Microsoft Entra ID and ask Key Vault, as a pod would'))}">${esc(l10n.t('Test the token exchange'))}</button> `}${opts.tested ? `<button id="secret" class="secondary" ${disabled}>${esc(l10n.t('Read a named secret…'))}</button> <button id="connect" class="secondary" ${disabled}>${esc(l10n.t('Connect a workload'))}</button> ` : ''}<button id="copy" class="secondary">${esc(l10n.t('Copy report'))}</button> <span id="busy" class="meta" role="status">${esc(opts.busy ?? '')}</span></div>
${checkSections(r.checks, '', opts.busy)}
</main>
${script(opts.nonce)}
</body></html>`;
}

/** Checks of every section together. */
export const summarizeIdentity = (r: IdentityReport): Record<CheckStatus, number> =>
  summarize({ checks: r.sections.flatMap((s) => s.report.checks) });

const sectionTitle = (r: VerifyReport) =>
  l10n.t('{0}: {1}/{2}', r.target.cluster.name, r.target.namespace, r.target.serviceAccount);

/** Verify on an identity as Markdown: a section per cluster, then what was not checked and why. */
export function identityReportMarkdown(r: IdentityReport): string {
  const n = summarizeIdentity(r);
  return [
    l10n.t(
      '# Workload identity check: {0} on {1} clusters',
      r.identity.name,
      new Set(r.sections.map((s) => s.report.target.cluster.id)).size,
    ),
    '',
    l10n.t('Identity: `{0}` (client id {1})  ', r.identity.id, r.identity.clientId),
    l10n.t('Checked: {0} · {1}', r.checkedAt, counts(n).join(', ')),
    '',
    ...r.sections.map(({ report }) => reportMarkdown(report).replace(/^## /, '### ')),
    ...(r.notChecked.length
      ? [
          l10n.t('### Not checked'),
          '',
          ...r.notChecked.map(({ credential, why }) => `- \`${credential.name}\` (${credential.issuer}): ${why}`),
          '',
        ]
      : []),
  ].join('\n');
}

/** Verify on an identity as a page: the totals, what needs attention in every section, then a section per binding. */
export function identityReportHtml(
  r: IdentityReport,
  opts: { nonce: string; cspSource: string; busy?: string; lang?: string },
): string {
  const n = summarizeIdentity(r);
  const disabled = opts.busy ? 'disabled' : '';
  const prefix = (i: number) => `${i}:`;
  const attention = r.sections.flatMap(({ report }, i) =>
    report.checks
      .filter(needsAttention)
      .map((c) => ({ key: `${prefix(i)}${c.key}`, c: { ...c, title: `${report.target.cluster.name}: ${c.title}` } })),
  );
  const sections = r.sections
    .map(({ report }, i) => {
      const m = summarize(report);
      return `
  <section class="binding" aria-labelledby="binding-${i}">
    <h2 id="binding-${i}">${esc(sectionTitle(report))}</h2>
    <p class="meta">${esc(counts(m).join(' · '))} <button data-open="${i}" class="secondary" ${disabled}>${esc(l10n.t('Open its own report'))}</button></p>
    ${report.notes.map((x) => `<p class="note">${esc(x)}</p>`).join('')}
    ${checkSections(report.checks, prefix(i), opts.busy)}
  </section>`;
    })
    .join('');
  return `${pageStart(l10n.t('Verify {0}', r.identity.name), opts.lang, opts.nonce, opts.cspSource)}
<main aria-labelledby="heading">
<h1 id="heading">${esc(l10n.t('Identity {0}: its bindings on every cluster', r.identity.name))}</h1>
<p class="meta" id="summary" aria-live="polite">${esc([...counts(n), l10n.t('{0} bindings', r.sections.length), l10n.t('checked {0}', r.checkedAt), l10n.t('client id {0}', r.identity.clientId)].join(' · '))}</p>
${attentionNav(attention)}
<div role="toolbar" aria-label="${esc(l10n.t('Report actions'))}"><button id="rerun" class="secondary" ${disabled}>${esc(l10n.t('Run checks again'))}</button> <button id="copy" class="secondary">${esc(l10n.t('Copy report'))}</button> <span id="busy" class="meta" role="status">${esc(opts.busy ?? '')}</span></div>
${r.sections.length ? '' : `<p class="note">${esc(l10n.t('No credential of this identity names a ServiceAccount of a cluster you can see.'))}</p>`}
${sections}
${
  r.notChecked.length
    ? `<section aria-labelledby="not-checked"><h2 id="not-checked">${esc(l10n.t('Not checked'))}</h2><ul>${r.notChecked.map(({ credential, why }) => `<li><code>${esc(credential.name)}</code> (${esc(credential.issuer)}): ${esc(why)}</li>`).join('')}</ul></section>`
    : ''
}
</main>
${script(opts.nonce)}
</body></html>`;
}
