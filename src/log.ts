/** What the domain needs from a log. The VS Code LogOutputChannel is one; tests pass a recorder. */
export interface Logger {
  trace(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const SECRET_PATTERNS: [RegExp, string][] = [
  [/(Bearer\s+)[A-Za-z0-9\-_.~+/=]+/gi, '$1<redacted>'],
  [/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '<redacted-jwt>'],
  [
    /("?(?:access_?token|accessToken|token|client-key-data|client-certificate-data|password|clusterToken)"?\s*[:=]\s*"?)[^"\s,}]+/gi,
    '$1<redacted>',
  ],
  [/([?&](?:sig|code|token|access_token)=)[^&\s]+/gi, '$1<redacted>'],
];

/** Removes anything that looks like a credential. The last line of defence: callers log no secrets to begin with. */
export function redact(text: string): string {
  return SECRET_PATTERNS.reduce((t, [re, by]) => t.replace(re, by), text);
}

/** A URL for the log: path and api-version only, never other query parameters. */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    const v = u.searchParams.get('api-version');
    return `${u.origin}${u.pathname}${v ? `?api-version=${v}` : ''}`;
  } catch {
    return '<unparseable url>';
  }
}
