import * as l10n from '@vscode/l10n';

/** A file of the workspace, by workspace path. */
export interface SourceFile {
  path: string;
  text: string;
}

/**
 * The Azure Identity libraries and their identity-binding option, from their release notes (2025-11 to 2026-10): the
 * option only some versions have, so the version is named with it.
 */
const LIBRARIES: { language: string; manifest: RegExp; uses: RegExp; option: string; version: () => string }[] = [
  {
    language: 'JavaScript',
    manifest: /(^|\/)package\.json$/,
    uses: /"@azure\/identity"\s*:/,
    option: 'new WorkloadIdentityCredential({ enableAzureProxy: true })',
    version: () => l10n.t('@azure/identity 4.14.0 or later'),
  },
  {
    language: 'Python',
    manifest: /(^|\/)(requirements[^/]*\.txt|pyproject\.toml)$/,
    uses: /azure-identity/,
    option: 'WorkloadIdentityCredential(enable_azure_proxy=True)',
    version: () => l10n.t('azure-identity 1.27.0 or later'),
  },
  {
    language: 'Go',
    manifest: /(^|\/)go\.mod$/,
    uses: /sdk\/azidentity/,
    option: 'WorkloadIdentityCredentialOptions{EnableAzureProxy: true}',
    version: () =>
      l10n.t('azidentity v1.14.0-beta.3 or a later beta: v1.14.0 dropped it, and it returns in v1.15.0-beta.1'),
  },
  {
    language: 'Java',
    manifest: /(^|\/)(pom\.xml|build\.gradle(\.kts)?)$/,
    uses: /azure-identity/,
    option: 'new WorkloadIdentityCredentialBuilder().enableAzureProxy()',
    version: () => l10n.t('azure-identity 1.19.0-beta.2 or later (a beta)'),
  },
  {
    language: '.NET',
    manifest: /\.csproj$/,
    uses: /"Azure\.Identity"/,
    option: 'new WorkloadIdentityCredentialOptions { IsAzureProxyEnabled = true }',
    version: () => l10n.t('a beta of Azure.Identity 1.18 or later: the 1.18.0 release does not have it'),
  },
];

/** Credentials that never use the identity binding's proxy. */
const WITHOUT_PROXY = /\b(DefaultAzureCredential|ManagedIdentityCredential)\b/;

/**
 * What the app's own files say about its side of an identity binding: for each Azure Identity library a manifest
 * names, the option to set and the versions that have it; and the source files that create a credential which does
 * not use the proxy. A text search: nothing is changed.
 */
export function appSideHints(manifests: SourceFile[], sources: SourceFile[]): string[] {
  const out: string[] = [];
  for (const lib of LIBRARIES) {
    const found = manifests.find((f) => lib.manifest.test(f.path) && lib.uses.test(f.text));
    if (found)
      out.push(
        l10n.t(
          '{0} names the {1} Azure Identity library: create {2}, with {3}.',
          found.path,
          lib.language,
          lib.option,
          lib.version(),
        ),
      );
  }
  const without = sources.filter((f) => WITHOUT_PROXY.test(f.text));
  for (const f of without.slice(0, 3))
    out.push(
      l10n.t(
        '{0} uses {1}, which does not go through the identity binding: use WorkloadIdentityCredential with the proxy option there.',
        f.path,
        WITHOUT_PROXY.exec(f.text)![1]!,
      ),
    );
  if (without.length > 3) out.push(l10n.t('{0} more files use them.', without.length - 3));
  return out;
}
