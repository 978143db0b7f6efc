import * as l10n from '@vscode/l10n';
import type { CredentialInfo, IdentityInfo } from '../../azure/identities';
import {
  IDENTITY_BINDING_AUDIENCE,
  IDENTITY_BINDING_CREDENTIAL,
  type IdentityBindingInfo,
} from '../../azure/identityBindings';
import { USE_MANAGED_IDENTITY, mayUseIdentity, rbacObjectName } from '../identityBindingAccess';
import type { PodInfo } from '../../kube/access';
import { workloadIdentityState } from '../cluster';
import { CLIENT_ID_ANNOTATION } from '../manifest';
import {
  MAX_CREDENTIALS_PER_IDENTITY,
  TOKEN_EXCHANGE_AUDIENCE,
  sameIgnoringTrailingSlash,
  serviceAccountSubject,
} from '../names';
import { ALL_PERMISSIONS, Permission, keyVaultRole } from '../../azure/keyVaultRoles';
import { USE_IDENTITY_BINDING_ANNOTATION, credentialMatch } from '../binding';
import { permissionModel } from '../inventory';
import { CheckId, CheckResult, CheckStatus, Fix, VaultGrants, VerifyFacts } from './model';
import { USE_LABEL } from '../manifest';

export const checkTitle = (id: CheckId): string =>
  ({
    cluster: l10n.t('OIDC issuer and workload identity are on'),
    webhook: l10n.t('Workload identity webhook is installed once'),
    serviceAccount: l10n.t('ServiceAccount carries the client-id annotation'),
    identity: l10n.t('The client id belongs to a managed identity you can see'),
    issuer: l10n.t("Federated credential issuer equals the cluster's issuer"),
    subject: l10n.t('Federated credential subject names this ServiceAccount'),
    audience: l10n.t('Federated credential audience is {0}', TOKEN_EXCHANGE_AUDIENCE),
    credentialCount: l10n.t(
      'The identity is under the limit of {0} federated credentials',
      MAX_CREDENTIALS_PER_IDENTITY,
    ),
    vault: l10n.t('Key Vault grants get under its permission model'),
    pods: l10n.t('Pods of the ServiceAccount get the token injected'),
    namespace: l10n.t('Namespace is not kube-system'),
    identityBinding: l10n.t('An identity binding binds the identity to the cluster'),
    managedCredential: l10n.t("AKS's credential for identity bindings is on the identity"),
    useIdentityRbac: l10n.t('Kubernetes RBAC lets the ServiceAccount use the identity'),
    webhookVersion: l10n.t('The webhook is v1.6 or later (identity bindings)'),
    token: l10n.t('Test: the cluster issues a token for the ServiceAccount'),
    exchange: l10n.t('Test: Microsoft Entra ID exchanges it for the identity'),
    keyVault: l10n.t('Test: the identity reaches Key Vault'),
  })[id];

/** The issuer a cluster without the OIDC issuer uses for its own tokens: Entra ID never trusts it. */
export const IN_CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const TOKEN_FILE_ENV = 'AZURE_FEDERATED_TOKEN_FILE';
/** What the webhook (v1.6 or later) injects into pods that use an identity binding. */
export const TOKEN_PROXY_ENV = 'AZURE_KUBERNETES_TOKEN_PROXY';

const WARN_AT_CREDENTIALS = 18;
const onOff = (on: boolean | undefined) => (on ? l10n.t('enabled') : l10n.t('disabled'));

export type Ev = [label: string, value: string | undefined];
export const check = (
  id: CheckId,
  status: CheckStatus,
  message: string,
  evidence: Ev[] = [],
  fix?: Fix,
  key: string = id,
): CheckResult => ({
  key,
  id,
  title: checkTitle(id),
  status,
  message,
  evidence: evidence.map(([label, v]) => ({ label, value: v ?? l10n.t('(none)') })),
  ...(fix ? { fix } : {}),
});
const unreadable = (id: CheckId, error: string) =>
  check(id, 'error', l10n.t('Could not read what this check needs: {0}', error));
const skipped = (id: CheckId, why: string) => check(id, 'skip', why);

/** How a credential's issuer relates to the cluster's. */
/**
 * A credential for this subject that can only ever have been meant for this cluster: its issuer is the cluster's, differs
 * by a slash, or is the in-cluster issuer. The fix rewrites it in place; one with another cluster's issuer may serve
 * that cluster, so the fix leaves it and adds a credential.
 */
export const meantForThisCluster = (c: CredentialInfo, clusterIssuer: string) =>
  c.issuer === clusterIssuer ||
  sameIgnoringTrailingSlash(c.issuer, clusterIssuer) ||
  sameIgnoringTrailingSlash(c.issuer, IN_CLUSTER_ISSUER);

function issuerVerdict(
  issuer: string,
  clusterIssuer: string,
  knownIssuers: Map<string, string>,
  clusterName: string,
): { ok: boolean; message: string } {
  if (issuer === clusterIssuer) return { ok: true, message: l10n.t('exact match') };
  if (sameIgnoringTrailingSlash(issuer, clusterIssuer)) {
    return {
      ok: false,
      message: l10n.t(
        "The issuer differs from the cluster's only by a trailing slash. Entra ID compares issuers exactly, so token exchange fails with AADSTS70021: the credential must use {0} as the cluster reports it.",
        clusterIssuer,
      ),
    };
  }
  if (sameIgnoringTrailingSlash(issuer, IN_CLUSTER_ISSUER)) {
    return {
      ok: false,
      message: l10n.t(
        'The issuer is {0}, which a cluster uses before its OIDC issuer is enabled. Entra ID cannot reach it: the credential must use {1}.',
        IN_CLUSTER_ISSUER,
        clusterIssuer,
      ),
    };
  }
  const other = knownIssuers.get(issuer);
  if (other && other !== clusterName) {
    return {
      ok: false,
      message: l10n.t(
        "The issuer belongs to another cluster, {0}. Tokens from {1} are not accepted: this identity needs a credential with {2}'s issuer {3}.",
        other,
        clusterName,
        clusterName,
        clusterIssuer,
      ),
    };
  }
  return { ok: false, message: l10n.t("The issuer {0} is not {1}'s issuer {2}.", issuer, clusterName, clusterIssuer) };
}

/**
 * The credential that serves this ServiceAccount on this cluster, or the closest one meant to: its subject names the
 * ServiceAccount, at least up to case. Credentials for other ServiceAccounts are other bindings, not near misses.
 */
export function closestCredential(
  credentials: CredentialInfo[],
  clusterIssuer: string,
  subject: string,
): CredentialInfo | undefined {
  const subj = (c: CredentialInfo) =>
    c.subject === subject ? 2 : c.subject?.toLowerCase() === subject.toLowerCase() ? 1 : 0;
  const iss = (c: CredentialInfo) =>
    c.issuer === clusterIssuer
      ? 2
      : sameIgnoringTrailingSlash(c.issuer, clusterIssuer) || sameIgnoringTrailingSlash(c.issuer, IN_CLUSTER_ISSUER)
        ? 1
        : 0;
  return credentials
    .filter((c) => subj(c) > 0)
    .map((c) => ({ c, score: subj(c) * 3 + iss(c), aud: c.audiences.includes(TOKEN_EXCHANGE_AUDIENCE) ? 1 : 0 }))
    .sort((a, b) => b.score - a.score || b.aud - a.aud)[0]?.c;
}

/**
 * The chain, check by check: each result carries the values it compared and, where the fix is safe, the Bind step
 * that repairs it. Pure: it reads only the facts.
 */
export function evaluate(f: VerifyFacts): CheckResult[] {
  const t = f.target;
  const subject = serviceAccountSubject(t.namespace, t.serviceAccount);
  const out: CheckResult[] = [];
  const cluster = f.cluster.ok ? f.cluster.value : undefined;
  const issuer = cluster?.issuerUrl;
  const identity = f.identity.ok ? f.identity.value.identity : undefined;
  const credentials = f.credentials.ok ? f.credentials.value : undefined;

  // 1. Cluster
  if (!cluster) out.push(unreadable('cluster', (f.cluster as { error: string }).error));
  else {
    const state = workloadIdentityState(cluster);
    const ev: Ev[] = [
      [l10n.t('OIDC issuer'), onOff(cluster.oidcIssuerEnabled)],
      [l10n.t('Workload identity'), onOff(cluster.workloadIdentityEnabled)],
      [l10n.t('Issuer URL'), issuer],
    ];
    out.push(
      state === 'on'
        ? check('cluster', 'pass', l10n.t('{0} has the OIDC issuer and workload identity on.', cluster.name), ev)
        : check(
            'cluster',
            'fail',
            state === 'off'
              ? l10n.t(
                  '{0} has neither the OIDC issuer nor workload identity on, so no pod gets a token.',
                  cluster.name,
                )
              : l10n.t('{0} has the OIDC issuer but not workload identity on, so no pod gets a token.', cluster.name),
            ev,
            {
              kind: 'cluster',
              label: l10n.t('Enable workload identity'),
              detail:
                state === 'off'
                  ? l10n.t(
                      'Update {0}: turn on the OIDC issuer and workload identity; every other setting stays. AKS takes several minutes, and the issuer cannot be turned off again.',
                      cluster.name,
                    )
                  : l10n.t(
                      'Update {0}: turn on workload identity; every other setting stays. AKS takes several minutes, and the issuer cannot be turned off again.',
                      cluster.name,
                    ),
            },
          ),
    );
  }

  // 2. Webhook
  if (!f.webhooks.ok) out.push(unreadable('webhook', f.webhooks.error));
  else {
    const hooks = f.webhooks.value;
    const ev: Ev[] = [
      [
        l10n.t('Mutating webhook configurations'),
        hooks.map((h) => l10n.t('{0} (service in {1})', h.name, h.serviceNamespace ?? '?')).join(', ') || undefined,
      ],
    ];
    if (!hooks.length)
      out.push(
        check(
          'webhook',
          'fail',
          cluster?.workloadIdentityEnabled
            ? l10n.t(
                "No workload identity webhook is installed, so pods get no {0}. AKS installs it when workload identity is enabled; it is enabled, so check the cluster's kube-system pods named azure-wi-webhook.",
                TOKEN_FILE_ENV,
              )
            : l10n.t(
                'No workload identity webhook is installed, so pods get no {0}. AKS installs it when workload identity is enabled.',
                TOKEN_FILE_ENV,
              ),
          ev,
        ),
      );
    else if (hooks.length > 1)
      out.push(
        check(
          'webhook',
          'warn',
          l10n.t(
            '{0} workload identity webhooks are installed: the AKS add-on and a second one, usually the azure-workload-identity Helm chart. Both mutate the same pods; uninstall the Helm release.',
            hooks.length,
          ),
          ev,
        ),
      );
    else out.push(check('webhook', 'pass', l10n.t('One workload identity webhook is installed.'), ev));
  }

  // 3. ServiceAccount
  const sa = f.serviceAccount.ok ? f.serviceAccount.value : undefined;
  const clientId = sa?.annotations[CLIENT_ID_ANNOTATION];
  const annotationFix = identity
    ? {
        kind: 'annotation' as const,
        label: l10n.t('Set the annotation'),
        detail: l10n.t(
          'Server-side apply {0}/{1} with {2}: {3} (its other labels and annotations stay).',
          t.namespace,
          t.serviceAccount,
          CLIENT_ID_ANNOTATION,
          identity.clientId,
        ),
      }
    : undefined;
  if (!f.serviceAccount.ok) out.push(unreadable('serviceAccount', f.serviceAccount.error));
  else if (!sa)
    out.push(
      check(
        'serviceAccount',
        'fail',
        l10n.t('The ServiceAccount {0}/{1} does not exist.', t.namespace, t.serviceAccount),
        [['ServiceAccount', `${t.namespace}/${t.serviceAccount}`]],
        annotationFix && { ...annotationFix, label: l10n.t('Create the ServiceAccount') },
      ),
    );
  else if (!clientId)
    out.push(
      check(
        'serviceAccount',
        'fail',
        l10n.t(
          '{0}/{1} has no {2} annotation, so the webhook does not know which identity to use.',
          t.namespace,
          t.serviceAccount,
          CLIENT_ID_ANNOTATION,
        ),
        [[l10n.t('Annotations'), Object.keys(sa.annotations).join(', ') || undefined]],
        annotationFix,
      ),
    );
  else
    out.push(
      check('serviceAccount', 'pass', l10n.t('{0}/{1} names client id {2}.', t.namespace, t.serviceAccount, clientId), [
        [CLIENT_ID_ANNOTATION, clientId],
      ]),
    );

  // 4. Identity
  if (!f.identity.ok) out.push(unreadable('identity', f.identity.error));
  else if (clientId) {
    out.push(
      identity
        ? check('identity', 'pass', l10n.t('Client id {0} is the managed identity {1}.', clientId, identity.name), [
            [l10n.t('Client id'), clientId],
            [l10n.t('Identity'), identity.id],
          ])
        : check(
            'identity',
            'fail',
            l10n.t(
              "No user-assigned managed identity you can see has client id {0}. It may be an app registration's id, a deleted identity's, or a typo.",
              clientId,
            ),
            [[l10n.t('Client id'), clientId]],
          ),
    );
  } else if (identity) {
    out.push(
      check(
        'identity',
        'warn',
        f.identity.value.via === 'binding'
          ? l10n.t(
              'The ServiceAccount names no client id; the identity {0} was found through the binding you chose.',
              identity.name,
            )
          : l10n.t(
              'The ServiceAccount names no client id; the identity {0} was found through a federated credential for this ServiceAccount.',
              identity.name,
            ),
        [
          [l10n.t('Identity'), identity.id],
          [l10n.t('Client id'), identity.clientId],
        ],
      ),
    );
  } else {
    out.push(
      check(
        'identity',
        'fail',
        l10n.t(
          'No managed identity in subscription {0} has a federated credential for {1}, and the ServiceAccount names none. Run "Bind Key Vault" to create one.',
          t.cluster.subscriptionId,
          subject,
        ),
      ),
    );
  }

  // 5–8. Federated credential
  const credentialChecks: CheckId[] = ['issuer', 'subject', 'audience', 'credentialCount'];
  if (!identity)
    credentialChecks.forEach((id) => out.push(skipped(id, l10n.t('No identity to read credentials from.'))));
  else if (!f.credentials.ok)
    credentialChecks.forEach((id) => out.push(unreadable(id, (f.credentials as { error: string }).error)));
  else if (!issuer)
    credentialChecks.forEach((id) => out.push(skipped(id, l10n.t('The cluster has no OIDC issuer to compare with.'))));
  else {
    const direct = credentialResults(f, credentials!, issuer, subject, identity.name);
    const viaBinding = identityBindingOf(f, identity.id);
    // Through an identity binding, the identity needs no credential of its own for this cluster; one that is there
    // (while moving from direct federation) is still checked.
    // Without a credential of its own and with the cluster's identity bindings unread, the mode is unknown: the
    // credential checks would fail a binding that may work through an identity binding.
    const modeUnknown = !f.identityBindings.ok && !hasOwnCredential(f);
    out.push(
      ...(onlyThroughIdentityBinding(f, identity.id) || modeUnknown
        ? direct.filter((c) => c.id === 'credentialCount')
        : direct),
      ...(viaBinding ? identityBindingResults(f, viaBinding, identity, credentials!) : []),
      ...(f.identityBindings.ok || !modeUnknown ? [] : [unreadable('identityBinding', f.identityBindings.error)]),
    );
  }

  // 9. Vaults
  if (!identity) out.push(skipped('vault', l10n.t('No identity whose grants could be read.')));
  else if (!f.vaults.ok) out.push(unreadable('vault', f.vaults.error));
  else if (!f.vaults.value.length)
    out.push(
      check(
        'vault',
        'warn',
        l10n.t(
          '{0} has no role or access policy on any Key Vault you can see. Run "Bind Key Vault" to grant one.',
          identity.name,
        ),
        [[l10n.t('Principal id'), identity.principalId]],
      ),
    );
  else out.push(...f.vaults.value.map((g) => vaultResult(g, identity.principalId, identity.name)));

  // 10. Pods
  out.push(
    podsResult(
      f,
      clientId,
      sa?.annotationSetAt[CLIENT_ID_ANNOTATION],
      !!identity && !!identityBindingOf(f, identity.id),
    ),
  );

  // 11. Namespace
  out.push(
    t.namespace === 'kube-system'
      ? check(
          'namespace',
          'warn',
          l10n.t(
            "kube-system holds the cluster's own components; AKS can reconcile it and the webhook skips some of its pods. Run workloads in a namespace of their own.",
          ),
          [[l10n.t('Namespace'), t.namespace]],
        )
      : check('namespace', 'pass', l10n.t('{0} is an application namespace.', t.namespace), [
          [l10n.t('Namespace'), t.namespace],
        ]),
  );
  return out;
}

function credentialResults(
  f: VerifyFacts,
  credentials: CredentialInfo[],
  issuer: string,
  subject: string,
  identityName: string,
): CheckResult[] {
  const out: CheckResult[] = [];
  const clusterName = f.cluster.ok ? f.cluster.value.name : f.target.cluster.name;
  const best = closestCredential(credentials, issuer, subject);
  const fix: Fix = {
    kind: 'credential',
    label: best ? l10n.t('Recreate the credential') : l10n.t('Create the credential'),
    detail:
      best && meantForThisCluster(best, issuer)
        ? l10n.t(
            'Rewrite {0} on {1} with issuer {2}, subject {3} and audience {4}.',
            best.name,
            identityName,
            issuer,
            subject,
            TOKEN_EXCHANGE_AUDIENCE,
          )
        : l10n.t(
            'Create a federated credential on {0} with issuer {1}, subject {2} and audience {3}.',
            identityName,
            issuer,
            subject,
            TOKEN_EXCHANGE_AUDIENCE,
          ),
  };
  const all: Ev = [
    l10n.t('Credentials on the identity'),
    credentials.map((c) => `${c.name}: ${c.issuer} · ${credentialMatch(c)}`).join('\n') || undefined,
  ];

  // 5
  if (!best)
    out.push(
      check(
        'issuer',
        'fail',
        l10n.t("{0} has no federated credential for {1} with {2}'s issuer.", identityName, subject, clusterName),
        [[l10n.t('Cluster issuer'), issuer], all],
        fix,
      ),
    );
  else {
    const v = issuerVerdict(best.issuer, issuer, f.knownIssuers, clusterName);
    out.push(
      check(
        'issuer',
        v.ok ? 'pass' : 'fail',
        v.ok ? l10n.t("{0} uses the cluster's issuer exactly.", best.name) : v.message,
        [
          [l10n.t('Cluster issuer'), issuer],
          [l10n.t('Credential issuer'), best.issuer],
          [l10n.t('Credential'), best.name],
        ],
        v.ok ? undefined : fix,
      ),
    );
  }
  // 6
  const sameIssuer = credentials.filter((c) => c.issuer === issuer && c.subject !== undefined);
  if (!best && sameIssuer.length) {
    out.push(
      check(
        'subject',
        'fail',
        l10n.t(
          "No credential names {0}. With {1}'s issuer, {2} federates {3}: is the namespace or ServiceAccount name mistyped?",
          subject,
          clusterName,
          identityName,
          sameIssuer.map((c) => c.subject).join(', '),
        ),
        [
          [l10n.t('Expected'), subject],
          [l10n.t('Subjects with this issuer'), sameIssuer.map((c) => c.subject).join('\n')],
        ],
        fix,
      ),
    );
  } else if (!best) out.push(skipped('subject', l10n.t('No credential to compare.')));
  else if (best.subject === subject)
    out.push(
      check('subject', 'pass', l10n.t('{0} names {1}.', best.name, subject), [
        [l10n.t('Expected'), subject],
        [l10n.t('Credential subject'), best.subject],
      ]),
    );
  else {
    const caseOnly = best.subject?.toLowerCase() === subject.toLowerCase();
    out.push(
      check(
        'subject',
        'fail',
        caseOnly
          ? l10n.t(
              'The subject differs only in case. Kubernetes names are case-sensitive and Entra ID compares subjects exactly (AADSTS700213).',
            )
          : l10n.t('The subject does not name {0}/{1}.', f.target.namespace, f.target.serviceAccount),
        [
          [l10n.t('Expected'), subject],
          [l10n.t('Credential subject'), best.subject],
        ],
        fix,
      ),
    );
  }
  // 7
  if (!best) out.push(skipped('audience', l10n.t('No credential to compare.')));
  else {
    const ok = best.audiences.includes(TOKEN_EXCHANGE_AUDIENCE);
    out.push(
      check(
        'audience',
        ok ? 'pass' : 'fail',
        ok
          ? l10n.t('{0} has the token exchange audience.', best.name)
          : l10n.t(
              "{0} lacks the audience {1}: the projected token's audience is not accepted.",
              best.name,
              TOKEN_EXCHANGE_AUDIENCE,
            ),
        [
          [l10n.t('Expected'), TOKEN_EXCHANGE_AUDIENCE],
          [l10n.t('Credential audiences'), best.audiences.join(', ') || undefined],
        ],
        ok ? undefined : fix,
      ),
    );
  }
  // 8
  const n = credentials.length;
  const ev: Ev[] = [[l10n.t('Credentials'), l10n.t('{0} of {1}', n, MAX_CREDENTIALS_PER_IDENTITY)]];
  out.push(
    n >= MAX_CREDENTIALS_PER_IDENTITY
      ? check(
          'credentialCount',
          'warn',
          l10n.t(
            '{0} has {1} federated credentials, the most Azure allows: no other cluster or ServiceAccount can be added. Remove unused ones or use another identity.',
            identityName,
            n,
          ),
          ev,
        )
      : n >= WARN_AT_CREDENTIALS
        ? check(
            'credentialCount',
            'warn',
            l10n.t(
              '{0} has {1} of {2} federated credentials: close to the limit.',
              identityName,
              n,
              MAX_CREDENTIALS_PER_IDENTITY,
            ),
            ev,
          )
        : check(
            'credentialCount',
            'pass',
            l10n.t('{0} has {1} of {2} federated credentials.', identityName, n, MAX_CREDENTIALS_PER_IDENTITY),
            ev,
          ),
  );
  return out;
}

/** What the principal may get on the vault through access policies and through roles (either may be ignored by the model). */
export function grantsOn(g: VaultGrants, principalId: string) {
  const policies = g.vault.accessPolicies.filter((p) => p.objectId === principalId);
  const byPolicy = ALL_PERMISSIONS.filter((k) =>
    policies.some((p) => (p.permissions[k] ?? []).some((x) => ['get', 'all'].includes(x.toLowerCase()))),
  );
  const roleNames = g.roles.map((r) => keyVaultRole(r.roleDefinitionId)).filter((r) => !!r);
  const byRole = ALL_PERMISSIONS.filter((k) => roleNames.some((r) => r!.grants.includes(k)));
  return { byPolicy, byRole, roleNames };
}

function vaultResult(g: VaultGrants, principalId: string, identityName: string): CheckResult {
  const v = g.vault;
  const { byPolicy, byRole, roleNames } = grantsOn(g, principalId);
  const model = permissionModel(v.rbac);
  const effective = v.rbac ? byRole : byPolicy;
  const ignored = v.rbac ? byPolicy : byRole;
  const key = `vault:${v.name}`;
  const ev: Ev[] = [
    [l10n.t('Permission model'), model],
    [l10n.t('Roles'), roleNames.map((r) => r!.name).join(', ') || undefined],
    [l10n.t('Access policy get on'), byPolicy.join(', ') || undefined],
  ];
  const wanted: Permission[] = ignored.length ? ignored : ['secrets'];
  const fix: Fix = {
    kind: 'grant',
    vaultId: v.id,
    permissions: wanted,
    label: l10n.t('Grant access'),
    detail: v.rbac
      ? l10n.t(
          'Assign {0} on {1} to {2}.',
          wanted
            .map(
              (k) =>
                ({
                  secrets: 'Key Vault Secrets User',
                  keys: 'Key Vault Crypto User',
                  certificates: 'Key Vault Certificate User',
                })[k],
            )
            .join(', '),
          v.name,
          identityName,
        )
      : l10n.t(
          'Add an access policy on {0} giving {1} get on {2} (other policies stay).',
          v.name,
          identityName,
          wanted.join(', '),
        ),
  };
  if (effective.length) {
    const extra = ignored.filter((k) => !effective.includes(k));
    return check(
      'vault',
      extra.length ? 'warn' : 'pass',
      l10n.t('{0} ({1}) lets {2} get {3}.', v.name, model, identityName, effective.join(', ')) +
        (!extra.length
          ? ''
          : ` ${v.rbac ? l10n.t('Its access policy on {0} is granted but ignored under {1}.', extra.join(', '), model) : l10n.t('Its role on {0} is granted but ignored under {1}.', extra.join(', '), model)}`),
      ev,
      extra.length ? { ...fix, permissions: extra } : undefined,
      key,
    );
  }
  if (ignored.length) {
    return check(
      'vault',
      'fail',
      v.rbac
        ? l10n.t(
            'Granted but ignored: {0} has an access policy for {1} on {2}, but the vault uses {3}, so Key Vault answers 403.',
            identityName,
            ignored.join(', '),
            v.name,
            model,
          )
        : l10n.t(
            'Granted but ignored: {0} has a role for {1} on {2}, but the vault uses {3}, so Key Vault answers 403.',
            identityName,
            ignored.join(', '),
            v.name,
            model,
          ),
      ev,
      fix,
      key,
    );
  }
  return check(
    'vault',
    'fail',
    l10n.t('{0} ({1}) gives {2} no get permission, so Key Vault answers 403.', v.name, model, identityName),
    ev,
    fix,
    key,
  );
}

function podsResult(
  f: VerifyFacts,
  clientId: string | undefined,
  annotatedAt: string | undefined,
  viaBinding = false,
): CheckResult {
  const t = f.target;
  // Through an identity binding the webhook also injects the proxy's address, and only into pods that ask for it.
  const injected = viaBinding ? TOKEN_PROXY_ENV : TOKEN_FILE_ENV;
  if (!f.pods.ok) return unreadable('pods', f.pods.error);
  const mine = f.pods.value.filter((p) => p.serviceAccount === t.serviceAccount);
  const owner = (p: PodInfo) => (p.owner ? `${p.owner.kind} ${p.owner.name}` : `pod ${p.name}`);
  if (!mine.length) {
    // A labelled pod running as another ServiceAccount is usually a wrong serviceAccountName.
    const misnamed = f.pods.value.filter((p) => p.labels[USE_LABEL] === 'true');
    return check(
      'pods',
      'warn',
      misnamed.length
        ? l10n.t(
            'No pod runs as {0}, but {1} carries the {2} label with serviceAccountName {3}: set serviceAccountName: {4} on its pod template.',
            t.serviceAccount,
            [...new Set(misnamed.map(owner))].join(', '),
            USE_LABEL,
            [...new Set(misnamed.map((p) => p.serviceAccount))].join(', '),
            t.serviceAccount,
          )
        : l10n.t('No pod in {0} runs as {1} yet.', t.namespace, t.serviceAccount),
      [[l10n.t('Pods in namespace'), String(f.pods.value.length)]],
    );
  }
  const problems: string[] = [];
  for (const p of mine) {
    if (p.env.includes(injected)) continue;
    if (viaBinding && p.labels[USE_LABEL] === 'true' && p.annotations?.[USE_IDENTITY_BINDING_ANNOTATION] !== 'true')
      problems.push(
        l10n.t(
          '{0}: no {1}: "true" annotation, so the webhook does not send its token through the identity binding. Add it to the pod template of {2} (Connect Workload) and restart it.',
          p.name,
          USE_IDENTITY_BINDING_ANNOTATION,
          owner(p),
        ),
      );
    else if (p.labels[USE_LABEL] !== 'true')
      problems.push(
        l10n.t(
          '{0}: no {1}: "true" label. Add it to the pod template of {2} and restart it.',
          p.name,
          USE_LABEL,
          owner(p),
        ),
      );
    else if (annotatedAt && p.createdAt < annotatedAt)
      problems.push(
        l10n.t(
          '{0}: started {1}, before the client-id annotation was set ({2}). Restart {3}.',
          p.name,
          p.createdAt,
          annotatedAt,
          owner(p),
        ),
      );
    else if (f.webhooks.ok && !f.webhooks.value.length)
      problems.push(l10n.t('{0}: labelled, but no webhook is installed to inject the token.', p.name));
    else
      problems.push(
        clientId
          ? l10n.t(
              '{0}: labelled but not injected. Restart {1}: the webhook mutates pods only when they are created.',
              p.name,
              owner(p),
            )
          : l10n.t(
              '{0}: labelled but not injected (the ServiceAccount has no client-id annotation). Restart {1}: the webhook mutates pods only when they are created.',
              p.name,
              owner(p),
            ),
      );
  }
  const ev: Ev[] = mine.map((p) => [
    p.name,
    l10n.t(
      '{0} · label {1} · {2} · started {3}',
      owner(p),
      p.labels[USE_LABEL] ?? l10n.t('missing'),
      p.env.includes(injected) ? injected : viaBinding ? l10n.t('no token proxy') : l10n.t('no token file'),
      p.createdAt,
    ),
  ]);
  return problems.length
    ? check(
        'pods',
        'fail',
        mine.length > 1
          ? l10n.t(
              '{0} of {1} pods get no federated token. Restart or add the label: {2}',
              problems.length,
              mine.length,
              problems.join(' '),
            )
          : l10n.t('The pod gets no federated token. Restart or add the label: {0}', problems.join(' ')),
        ev,
      )
    : check(
        'pods',
        'pass',
        mine.length > 1
          ? l10n.t('All {0} pods running as {1} have {2}.', mine.length, t.serviceAccount, injected)
          : l10n.t('The pod running as {0} has {1}.', t.serviceAccount, injected),
        ev,
      );
}

/**
 * The binding goes through the identity's identity binding alone: no credential of its own names this cluster's
 * issuer and the ServiceAccount (while moving from direct federation both exist, and both are checked).
 */
export function onlyThroughIdentityBinding(f: VerifyFacts, identityId: string): boolean {
  return !!identityBindingOf(f, identityId) && !hasOwnCredential(f);
}

/** A credential of the identity names this cluster's issuer and the ServiceAccount. */
function hasOwnCredential(f: VerifyFacts): boolean {
  const issuer = f.cluster.ok ? f.cluster.value.issuerUrl : undefined;
  const subject = serviceAccountSubject(f.target.namespace, f.target.serviceAccount);
  return f.credentials.ok && f.credentials.value.some((c) => c.issuer === issuer && c.subject === subject);
}

/** The identity's binding on this cluster, when it has one: the binding goes through it. */
export const identityBindingOf = (f: VerifyFacts, identityId: string): IdentityBindingInfo | undefined =>
  f.identityBindings.ok
    ? f.identityBindings.value.find((b) => b.identityId.toLowerCase() === identityId.toLowerCase())
    : undefined;

/** Identity-binding mode: the binding, AKS's credential, and the RBAC that lets the ServiceAccount use the identity. */
function identityBindingResults(
  f: VerifyFacts,
  binding: IdentityBindingInfo,
  identity: IdentityInfo,
  credentials: CredentialInfo[],
): CheckResult[] {
  const t = f.target;
  const clusterName = f.cluster.ok ? f.cluster.value.name : t.cluster.name;
  const out: CheckResult[] = [];
  const succeeded = binding.provisioningState === 'Succeeded';
  out.push(
    check(
      'identityBinding',
      succeeded ? 'pass' : 'fail',
      succeeded
        ? l10n.t('{0} binds {1} to {2}.', binding.name, identity.name, clusterName)
        : l10n.t('The identity binding {0} is {1}, not Succeeded.', binding.name, binding.provisioningState ?? '?'),
      [
        [l10n.t('Identity binding'), binding.id],
        [l10n.t('Issuer'), binding.issuerUrl],
        [l10n.t('State'), binding.provisioningState],
      ],
      succeeded
        ? undefined
        : {
            kind: 'identityBinding',
            label: l10n.t('Create the identity binding again'),
            detail: l10n.t(
              'PUT the identity binding {0} of {1} on {2} and follow it to the end.',
              binding.name,
              identity.name,
              clusterName,
            ),
          },
    ),
  );
  const managed = credentials.find((c) => c.name === IDENTITY_BINDING_CREDENTIAL);
  const managedOk =
    !!managed && managed.issuer === binding.issuerUrl && managed.audiences.includes(IDENTITY_BINDING_AUDIENCE);
  out.push(
    check(
      'managedCredential',
      managedOk ? 'pass' : 'fail',
      managedOk
        ? l10n.t(
            "{0} on {1} has the binding's issuer and audience {2}.",
            IDENTITY_BINDING_CREDENTIAL,
            identity.name,
            IDENTITY_BINDING_AUDIENCE,
          )
        : managed
          ? l10n.t(
              '{0} on {1} does not match the identity binding: AKS owns it; delete it and create the binding again, and AKS writes it anew.',
              IDENTITY_BINDING_CREDENTIAL,
              identity.name,
            )
          : l10n.t(
              '{0} is not on {1}: AKS makes it when a binding of the identity succeeds.',
              IDENTITY_BINDING_CREDENTIAL,
              identity.name,
            ),
      [
        [l10n.t('Binding issuer'), binding.issuerUrl],
        [l10n.t('Credential issuer'), managed?.issuer],
        [l10n.t('Credential audiences'), managed?.audiences.join(', ')],
      ],
    ),
  );
  if (f.webhookVersion)
    out.push(
      !f.webhookVersion.ok
        ? unreadable('webhookVersion', f.webhookVersion.error)
        : !f.webhookVersion.value
          ? check(
              'webhookVersion',
              'warn',
              l10n.t(
                "The webhook's version could not be told from its Deployment's image; identity bindings need v1.6 or later.",
              ),
            )
          : atLeastVersion(f.webhookVersion.value, '1.6')
            ? check('webhookVersion', 'pass', l10n.t('The webhook is v{0}.', f.webhookVersion.value), [
                [l10n.t('Version'), f.webhookVersion.value],
              ])
            : check(
                'webhookVersion',
                'fail',
                l10n.t(
                  "The webhook is v{0}: only v1.6 and later inject {1}, so the pods' tokens do not reach AKS's proxy. AKS upgrades the add-on with the cluster; a Helm install needs its chart upgraded.",
                  f.webhookVersion.value,
                  TOKEN_PROXY_ENV,
                ),
                [[l10n.t('Version'), f.webhookVersion.value]],
              ),
    );
  const sa = { namespace: t.namespace, name: t.serviceAccount };
  const rbacFix: Fix = {
    kind: 'useIdentityRbac',
    label: l10n.t('Let the ServiceAccount use the identity'),
    detail: l10n.t(
      'Apply the ClusterRole {0} (use-managed-identity on {1}) and add {2}/{3} to the ClusterRoleBinding {0}; its other subjects stay.',
      rbacObjectName(identity.clientId),
      identity.clientId,
      t.namespace,
      t.serviceAccount,
    ),
  };
  if (!f.rbac) out.push(skipped('useIdentityRbac', l10n.t('No identity binding to check RBAC for.')));
  else if (!f.rbac.ok) out.push(unreadable('useIdentityRbac', f.rbac.error));
  else {
    const verdict = mayUseIdentity(f.rbac.value.roles, f.rbac.value.bindings, sa, identity.clientId);
    out.push(
      verdict.allowed
        ? check(
            'useIdentityRbac',
            'pass',
            l10n.t('{0}/{1} may use the identity: {2}.', t.namespace, t.serviceAccount, verdict.via),
            [[l10n.t('Verb'), `${USE_MANAGED_IDENTITY} on ${identity.clientId}`]],
          )
        : check(
            'useIdentityRbac',
            'fail',
            l10n.t(
              'No ClusterRoleBinding gives {0}/{1} the verb {2} on {3}: AKS refuses its token exchange.',
              t.namespace,
              t.serviceAccount,
              USE_MANAGED_IDENTITY,
              identity.clientId,
            ),
            [[l10n.t('ClusterRoleBindings read'), String(f.rbac.value.bindings.length)]],
            rbacFix,
          ),
    );
  }
  return out;
}

/** Dotted versions compared part by part. */
function atLeastVersion(version: string, min: string) {
  const a = version.split('.').map((x) => parseInt(x, 10) || 0);
  const b = min.split('.').map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++)
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}
