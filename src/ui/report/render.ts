import * as l10n from '@vscode/l10n';
// The report as Markdown and as a page: no vscode here (unit tests render both), so @vscode/l10n translates.
import type { CheckResult, CheckStatus, VerifyReport } from '../../workloadIdentity/verify/model';

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

export function summarize(r: VerifyReport): Record<CheckStatus, number> {
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

/**
 * The report as a page for a webview. Everything from Azure or the cluster is escaped, and the content security policy
 * allows only this page's own script and style (by nonce): a name with markup stays text.
 */
export function reportHtml(
  r: VerifyReport,
  opts: { nonce: string; cspSource: string; busy?: string; tested?: boolean; lang?: string },
): string {
  const n = summarize(r);
  // Problems first, linked to their place in the chain.
  const attention = r.checks.filter((c) => c.status === 'fail' || c.status === 'error' || c.status === 'warn');
  const rows = r.checks
    .map(
      (c) => `
    <section class="check ${c.status}" id="check-${esc(c.key)}" data-key="${esc(c.key)}" data-status="${c.status}" aria-labelledby="title-${esc(c.key)}">
      <h3 id="title-${esc(c.key)}"><span class="mark">${esc(textMark(c.status))}</span> ${esc(c.title)}${qualifier(c) ? ` <small>${esc(qualifier(c)!)}</small>` : ''}</h3>
      <p class="message">${esc(c.message)}</p>
      ${c.evidence.length ? `<dl>${c.evidence.map((e) => `<dt>${esc(e.label)}</dt><dd>${esc(e.value)}</dd>`).join('')}</dl>` : ''}
      ${c.fix ? `<p class="fix"><button data-fix="${esc(c.key)}" aria-describedby="fix-${esc(c.key)}" ${opts.busy ? 'disabled' : ''}>${esc(c.fix.label)}</button> <span class="detail" id="fix-${esc(c.key)}">${esc(c.fix.detail)}</span></p>` : ''}
    </section>`,
    )
    .join('');
  return `<!DOCTYPE html>
<html lang="${esc(opts.lang ?? 'en')}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${esc(opts.cspSource)}; style-src 'nonce-${opts.nonce}'; script-src 'nonce-${opts.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(l10n.t('Verify {0}', subjectOf(r)))}</title>
<style nonce="${opts.nonce}">
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
  .note { border-left: 4px solid var(--vscode-textLink-foreground); padding: .2em .9em; }
  .mark { display: inline-block; min-width: 5.5em; }
  .pass .mark { color: var(--vscode-testing-iconPassed, green); } .warn .mark { color: var(--vscode-editorWarning-foreground, orange); }
  .fail .mark, .error .mark { color: var(--vscode-editorError-foreground, red); }
</style></head>
<body>
<main aria-labelledby="heading">
<h2 id="heading">${esc(l10n.t('Workload identity: {0}', subjectOf(r)))}</h2>
<p class="meta" id="summary" aria-live="polite">${esc([...counts(n), l10n.t('checked {0}', r.checkedAt), ...(r.identity ? [l10n.t('identity {0} ({1})', r.identity.name, r.identity.clientId)] : [])].join(' · '))}</p>
${attention.length ? `<nav aria-label="${esc(l10n.t('Checks that need attention'))}"><ul class="attention">${attention.map((c) => `<li><a href="#check-${esc(c.key)}">${esc(textMark(c.status))}: ${esc(c.title)}${qualifier(c) ? ` (${esc(qualifier(c)!)})` : ''}</a></li>`).join('')}</ul></nav>` : ''}
${r.notes.map((x) => `<p class="note">${esc(x)}</p>`).join('')}
<div role="toolbar" aria-label="${esc(l10n.t('Report actions'))}"><button id="rerun" class="secondary" ${opts.busy ? 'disabled' : ''}>${esc(l10n.t('Run checks again'))}</button> ${opts.tested ? '' : `<button id="test" class="secondary" ${opts.busy ? 'disabled' : ''} title="${esc(l10n.t('Get a ServiceAccount token, exchange it at Microsoft Entra ID and ask Key Vault, as a pod would'))}">${esc(l10n.t('Test the token exchange'))}</button> `}${opts.tested ? `<button id="secret" class="secondary" ${opts.busy ? 'disabled' : ''}>${esc(l10n.t('Read a named secret…'))}</button> <button id="connect" class="secondary" ${opts.busy ? 'disabled' : ''}>${esc(l10n.t('Connect a workload'))}</button> ` : ''}<button id="copy" class="secondary">${esc(l10n.t('Copy report'))}</button> <span id="busy" class="meta" role="status">${esc(opts.busy ?? '')}</span></div>
${rows}
</main>
<script nonce="${opts.nonce}">
  const vscode = acquireVsCodeApi();
  document.body.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b || b.disabled) return;
    if (b.dataset.fix) vscode.postMessage({ type: 'fix', key: b.dataset.fix });
    else if (b.id === 'rerun') vscode.postMessage({ type: 'rerun' });
    else if (b.id === 'test') vscode.postMessage({ type: 'test' });
    else if (b.id === 'connect') vscode.postMessage({ type: 'connect' });
    else if (b.id === 'secret') vscode.postMessage({ type: 'secret' });
    else if (b.id === 'copy') vscode.postMessage({ type: 'copy' });
  });
</script>
</body></html>`;
}
