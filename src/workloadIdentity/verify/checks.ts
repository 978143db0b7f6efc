import type { CredentialInfo } from '../../azure/identities';
import type { PodInfo } from '../../kube/access';
import { workloadIdentityState } from '../cluster';
import { CLIENT_ID_ANNOTATION } from '../manifest';
import { MAX_CREDENTIALS_PER_IDENTITY, TOKEN_EXCHANGE_AUDIENCE, sameIgnoringTrailingSlash, serviceAccountSubject } from '../names';
import { ALL_PERMISSIONS, Permission, keyVaultRole } from '../permissions';
import { CheckId, CheckResult, CheckStatus, Fix, VaultGrants, VerifyFacts } from './model';

export const CHECK_TITLES: Record<CheckId, string> = {
  cluster: 'OIDC issuer and workload identity are on',
  webhook: 'Workload identity webhook is installed once',
  serviceAccount: 'ServiceAccount carries the client-id annotation',
  identity: 'The client id belongs to a managed identity you can see',
  issuer: 'Federated credential issuer equals the cluster\'s issuer',
  subject: 'Federated credential subject names this ServiceAccount',
  audience: `Federated credential audience is ${TOKEN_EXCHANGE_AUDIENCE}`,
  credentialCount: `The identity is under the limit of ${MAX_CREDENTIALS_PER_IDENTITY} federated credentials`,
  vault: 'Key Vault grants get under its permission model',
  pods: 'Pods of the ServiceAccount get the token injected',
  namespace: 'Namespace is not kube-system',
  token: 'Test: the cluster issues a token for the ServiceAccount',
  exchange: 'Test: Microsoft Entra ID exchanges it for the identity',
  keyVault: 'Test: the identity reaches Key Vault',
};

/** The issuer a cluster without the OIDC issuer uses for its own tokens: Entra ID never trusts it. */
export const IN_CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const USE_LABEL = 'azure.workload.identity/use';
export const TOKEN_FILE_ENV = 'AZURE_FEDERATED_TOKEN_FILE';
const WARN_AT_CREDENTIALS = 18;

export type Ev = [label: string, value: string | undefined];
export const check = (id: CheckId, status: CheckStatus, message: string, evidence: Ev[] = [], fix?: Fix, key: string = id): CheckResult =>
  ({ key, id, title: CHECK_TITLES[id], status, message, evidence: evidence.map(([label, v]) => ({ label, value: v ?? '(none)' })), ...(fix ? { fix } : {}) });
const unreadable = (id: CheckId, error: string) => check(id, 'error', `Could not read what this check needs: ${error}`);
const skipped = (id: CheckId, why: string) => check(id, 'skip', why);


/** How a credential's issuer relates to the cluster's. */
/**
 * A credential for this subject that can only ever have been meant for this cluster: its issuer is the cluster's, differs
 * by a slash, or is the in-cluster issuer. The fix rewrites it in place; one with another cluster's issuer may serve
 * that cluster, so the fix leaves it and adds a credential.
 */
export const meantForThisCluster = (c: CredentialInfo, clusterIssuer: string) =>
  c.issuer === clusterIssuer || sameIgnoringTrailingSlash(c.issuer, clusterIssuer) || sameIgnoringTrailingSlash(c.issuer, IN_CLUSTER_ISSUER);

function issuerVerdict(issuer: string, clusterIssuer: string, knownIssuers: Map<string, string>, clusterName: string): { ok: boolean; message: string } {
  if (issuer === clusterIssuer) return { ok: true, message: 'exact match' };
  if (sameIgnoringTrailingSlash(issuer, clusterIssuer)) {
    return { ok: false, message: `The issuer differs from the cluster's only by a trailing slash. Entra ID compares issuers exactly, so token exchange fails with AADSTS70021: the credential must use ${clusterIssuer} as the cluster reports it.` };
  }
  if (sameIgnoringTrailingSlash(issuer, IN_CLUSTER_ISSUER)) {
    return { ok: false, message: `The issuer is ${IN_CLUSTER_ISSUER}, which a cluster uses before its OIDC issuer is enabled. Entra ID cannot reach it: the credential must use ${clusterIssuer}.` };
  }
  const other = knownIssuers.get(issuer);
  if (other && other !== clusterName) {
    return { ok: false, message: `The issuer belongs to another cluster, ${other}. Tokens from ${clusterName} are not accepted: this identity needs a credential with ${clusterName}'s issuer ${clusterIssuer}.` };
  }
  return { ok: false, message: `The issuer ${issuer} is not ${clusterName}'s issuer ${clusterIssuer}.` };
}

/**
 * The credential that serves this ServiceAccount on this cluster, or the closest one meant to: its subject names the
 * ServiceAccount, at least up to case. Credentials for other ServiceAccounts are other bindings, not near misses.
 */
export function closestCredential(credentials: CredentialInfo[], clusterIssuer: string, subject: string): CredentialInfo | undefined {
  const subj = (c: CredentialInfo) => c.subject === subject ? 2 : c.subject.toLowerCase() === subject.toLowerCase() ? 1 : 0;
  const iss = (c: CredentialInfo) => c.issuer === clusterIssuer ? 2 : sameIgnoringTrailingSlash(c.issuer, clusterIssuer) || sameIgnoringTrailingSlash(c.issuer, IN_CLUSTER_ISSUER) ? 1 : 0;
  return credentials.filter((c) => subj(c) > 0)
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
    const ev: Ev[] = [['OIDC issuer', cluster.oidcIssuerEnabled ? 'enabled' : 'disabled'], ['Workload identity', cluster.workloadIdentityEnabled ? 'enabled' : 'disabled'], ['Issuer URL', issuer]];
    out.push(state === 'on'
      ? check('cluster', 'pass', `${cluster.name} has the OIDC issuer and workload identity on.`, ev)
      : check('cluster', 'fail', `${cluster.name} has ${state === 'off' ? 'neither the OIDC issuer nor workload identity' : 'the OIDC issuer but not workload identity'} on, so no pod gets a token.`, ev,
        { kind: 'cluster', label: 'Enable workload identity', detail: `Update ${cluster.name}: turn on ${state === 'off' ? 'the OIDC issuer and workload identity' : 'workload identity'}; every other setting stays. AKS takes several minutes, and the issuer cannot be turned off again.` }));
  }

  // 2. Webhook
  if (!f.webhooks.ok) out.push(unreadable('webhook', f.webhooks.error));
  else {
    const hooks = f.webhooks.value;
    const ev: Ev[] = [['Mutating webhook configurations', hooks.map((h) => `${h.name} (service in ${h.serviceNamespace ?? '?'})`).join(', ') || undefined]];
    if (!hooks.length) out.push(check('webhook', 'fail', `No workload identity webhook is installed, so pods get no ${TOKEN_FILE_ENV}. AKS installs it when workload identity is enabled${cluster?.workloadIdentityEnabled ? '; it is enabled, so check the cluster\'s kube-system pods named azure-wi-webhook' : ''}.`, ev));
    else if (hooks.length > 1) out.push(check('webhook', 'warn', `${hooks.length} workload identity webhooks are installed: the AKS add-on and a second one, usually the azure-workload-identity Helm chart. Both mutate the same pods; uninstall the Helm release.`, ev));
    else out.push(check('webhook', 'pass', 'One workload identity webhook is installed.', ev));
  }

  // 3. ServiceAccount
  const sa = f.serviceAccount.ok ? f.serviceAccount.value : undefined;
  const clientId = sa?.annotations[CLIENT_ID_ANNOTATION];
  const annotationFix = identity ? { kind: 'annotation' as const, label: 'Set the annotation', detail: `Server-side apply ${t.namespace}/${t.serviceAccount} with ${CLIENT_ID_ANNOTATION}: ${identity.clientId} (its other labels and annotations stay).` } : undefined;
  if (!f.serviceAccount.ok) out.push(unreadable('serviceAccount', f.serviceAccount.error));
  else if (!sa) out.push(check('serviceAccount', 'fail', `The ServiceAccount ${t.namespace}/${t.serviceAccount} does not exist.`, [['ServiceAccount', `${t.namespace}/${t.serviceAccount}`]], annotationFix && { ...annotationFix, label: 'Create the ServiceAccount' }));
  else if (!clientId) out.push(check('serviceAccount', 'fail', `${t.namespace}/${t.serviceAccount} has no ${CLIENT_ID_ANNOTATION} annotation, so the webhook does not know which identity to use.`, [['Annotations', Object.keys(sa.annotations).join(', ') || undefined]], annotationFix));
  else out.push(check('serviceAccount', 'pass', `${t.namespace}/${t.serviceAccount} names client id ${clientId}.`, [[CLIENT_ID_ANNOTATION, clientId]]));

  // 4. Identity
  if (!f.identity.ok) out.push(unreadable('identity', f.identity.error));
  else if (clientId) {
    out.push(identity
      ? check('identity', 'pass', `Client id ${clientId} is the managed identity ${identity.name}.`, [['Client id', clientId], ['Identity', identity.id]])
      : check('identity', 'fail', `No user-assigned managed identity you can see has client id ${clientId}. It may be an app registration's id, a deleted identity's, or a typo.`, [['Client id', clientId]]));
  } else if (identity) {
    out.push(check('identity', 'warn', `The ServiceAccount names no client id; the identity ${identity.name} was found through ${f.identity.value.via === 'binding' ? 'the binding you chose' : 'a federated credential for this ServiceAccount'}.`, [['Identity', identity.id], ['Client id', identity.clientId]]));
  } else {
    out.push(check('identity', 'fail', `No managed identity in subscription ${t.cluster.subscriptionId} has a federated credential for ${subject}, and the ServiceAccount names none. Run "Bind Key Vault" to create one.`));
  }

  // 5–8. Federated credential
  const credentialChecks: CheckId[] = ['issuer', 'subject', 'audience', 'credentialCount'];
  if (!identity) credentialChecks.forEach((id) => out.push(skipped(id, 'No identity to read credentials from.')));
  else if (!f.credentials.ok) credentialChecks.forEach((id) => out.push(unreadable(id, (f.credentials as { error: string }).error)));
  else if (!issuer) credentialChecks.forEach((id) => out.push(skipped(id, 'The cluster has no OIDC issuer to compare with.')));
  else out.push(...credentialResults(f, credentials!, issuer, subject, identity.name));

  // 9. Vaults
  if (!identity) out.push(skipped('vault', 'No identity whose grants could be read.'));
  else if (!f.vaults.ok) out.push(unreadable('vault', f.vaults.error));
  else if (!f.vaults.value.length) out.push(check('vault', 'warn', `${identity.name} has no role or access policy on any Key Vault you can see. Run "Bind Key Vault" to grant one.`, [['Principal id', identity.principalId]]));
  else out.push(...f.vaults.value.map((g) => vaultResult(g, identity.principalId, identity.name)));

  // 10. Pods
  out.push(podsResult(f, clientId, sa?.annotationSetAt[CLIENT_ID_ANNOTATION]));

  // 11. Namespace
  out.push(t.namespace === 'kube-system'
    ? check('namespace', 'warn', 'kube-system holds the cluster\'s own components; AKS can reconcile it and the webhook skips some of its pods. Run workloads in a namespace of their own.', [['Namespace', t.namespace]])
    : check('namespace', 'pass', `${t.namespace} is an application namespace.`, [['Namespace', t.namespace]]));
  return out;
}

function credentialResults(f: VerifyFacts, credentials: CredentialInfo[], issuer: string, subject: string, identityName: string): CheckResult[] {
  const out: CheckResult[] = [];
  const clusterName = f.cluster.ok ? f.cluster.value.name : f.target.cluster.name;
  const best = closestCredential(credentials, issuer, subject);
  const fix: Fix = { kind: 'credential', label: best ? 'Recreate the credential' : 'Create the credential',
    detail: best && meantForThisCluster(best, issuer)
      ? `Rewrite ${best.name} on ${identityName} with issuer ${issuer}, subject ${subject} and audience ${TOKEN_EXCHANGE_AUDIENCE}.`
      : `Create a federated credential on ${identityName} with issuer ${issuer}, subject ${subject} and audience ${TOKEN_EXCHANGE_AUDIENCE}.` };
  const all: Ev = ['Credentials on the identity', credentials.map((c) => `${c.name}: ${c.issuer} · ${c.subject}`).join('\n') || undefined];

  // 5
  if (!best) out.push(check('issuer', 'fail', `${identityName} has no federated credential for ${subject} with ${clusterName}'s issuer.`, [['Cluster issuer', issuer], all], fix));
  else {
    const v = issuerVerdict(best.issuer, issuer, f.knownIssuers, clusterName);
    out.push(check('issuer', v.ok ? 'pass' : 'fail', v.ok ? `${best.name} uses the cluster's issuer exactly.` : v.message, [['Cluster issuer', issuer], ['Credential issuer', best.issuer], ['Credential', best.name]], v.ok ? undefined : fix));
  }
  // 6
  const sameIssuer = credentials.filter((c) => c.issuer === issuer);
  if (!best && sameIssuer.length) {
    out.push(check('subject', 'fail', `No credential names ${subject}. With ${clusterName}'s issuer, ${identityName} federates ${sameIssuer.map((c) => c.subject).join(', ')}: is the namespace or ServiceAccount name mistyped?`,
      [['Expected', subject], ['Subjects with this issuer', sameIssuer.map((c) => c.subject).join('\n')]], fix));
  } else if (!best) out.push(skipped('subject', 'No credential to compare.'));
  else if (best.subject === subject) out.push(check('subject', 'pass', `${best.name} names ${subject}.`, [['Expected', subject], ['Credential subject', best.subject]]));
  else {
    const caseOnly = best.subject.toLowerCase() === subject.toLowerCase();
    out.push(check('subject', 'fail', caseOnly
      ? `The subject differs only in case. Kubernetes names are case-sensitive and Entra ID compares subjects exactly (AADSTS700213).`
      : `The subject does not name ${f.target.namespace}/${f.target.serviceAccount}.`,
    [['Expected', subject], ['Credential subject', best.subject]], fix));
  }
  // 7
  if (!best) out.push(skipped('audience', 'No credential to compare.'));
  else {
    const ok = best.audiences.includes(TOKEN_EXCHANGE_AUDIENCE);
    out.push(check('audience', ok ? 'pass' : 'fail', ok ? `${best.name} has the token exchange audience.` : `${best.name} lacks the audience ${TOKEN_EXCHANGE_AUDIENCE}: the projected token's audience is not accepted.`,
      [['Expected', TOKEN_EXCHANGE_AUDIENCE], ['Credential audiences', best.audiences.join(', ') || undefined]], ok ? undefined : fix));
  }
  // 8
  const n = credentials.length;
  const ev: Ev[] = [['Credentials', `${n} of ${MAX_CREDENTIALS_PER_IDENTITY}`]];
  out.push(n >= MAX_CREDENTIALS_PER_IDENTITY
    ? check('credentialCount', 'warn', `${identityName} has ${n} federated credentials, the most Azure allows: no other cluster or ServiceAccount can be added. Remove unused ones or use another identity.`, ev)
    : n >= WARN_AT_CREDENTIALS
      ? check('credentialCount', 'warn', `${identityName} has ${n} of ${MAX_CREDENTIALS_PER_IDENTITY} federated credentials: close to the limit.`, ev)
      : check('credentialCount', 'pass', `${identityName} has ${n} of ${MAX_CREDENTIALS_PER_IDENTITY} federated credentials.`, ev));
  return out;
}

/** What the principal may get on the vault through access policies and through roles (either may be ignored by the model). */
export function grantsOn(g: VaultGrants, principalId: string) {
  const policies = g.vault.accessPolicies.filter((p) => p.objectId === principalId);
  const byPolicy = ALL_PERMISSIONS.filter((k) => policies.some((p) => (p.permissions[k] ?? []).some((x) => ['get', 'all'].includes(x.toLowerCase()))));
  const roleNames = g.roles.map((r) => keyVaultRole(r.roleDefinitionId)).filter((r) => !!r);
  const byRole = ALL_PERMISSIONS.filter((k) => roleNames.some((r) => r!.grants.includes(k)));
  return { byPolicy, byRole, roleNames };
}

function vaultResult(g: VaultGrants, principalId: string, identityName: string): CheckResult {
  const v = g.vault;
  const { byPolicy, byRole, roleNames } = grantsOn(g, principalId);
  const model = v.rbac ? 'Azure RBAC' : 'access policies';
  const effective = v.rbac ? byRole : byPolicy;
  const ignored = v.rbac ? byPolicy : byRole;
  const key = `vault:${v.name}`;
  const ev: Ev[] = [['Permission model', model], ['Roles', roleNames.map((r) => r!.name).join(', ') || undefined], ['Access policy get on', byPolicy.join(', ') || undefined]];
  const wanted: Permission[] = ignored.length ? ignored : ['secrets'];
  const fix: Fix = { kind: 'grant', vaultId: v.id, permissions: wanted, label: 'Grant access',
    detail: v.rbac ? `Assign ${wanted.map((k) => ({ secrets: 'Key Vault Secrets User', keys: 'Key Vault Crypto User', certificates: 'Key Vault Certificate User' })[k]).join(', ')} on ${v.name} to ${identityName}.`
      : `Add an access policy on ${v.name} giving ${identityName} get on ${wanted.join(', ')} (other policies stay).` };
  if (effective.length) {
    const extra = ignored.filter((k) => !effective.includes(k));
    return check('vault', extra.length ? 'warn' : 'pass',
      `${v.name} (${model}) lets ${identityName} get ${effective.join(', ')}.${extra.length ? ` Its ${v.rbac ? 'access policy' : 'role'} on ${extra.join(', ')} is granted but ignored under ${model}.` : ''}`, ev, extra.length ? { ...fix, permissions: extra } : undefined, key);
  }
  if (ignored.length) {
    return check('vault', 'fail', `Granted but ignored: ${identityName} has ${v.rbac ? 'an access policy' : 'a role'} for ${ignored.join(', ')} on ${v.name}, but the vault uses ${model}, so Key Vault answers 403.`, ev, fix, key);
  }
  return check('vault', 'fail', `${v.name} (${model}) gives ${identityName} no get permission, so Key Vault answers 403.`, ev, fix, key);
}

function podsResult(f: VerifyFacts, clientId: string | undefined, annotatedAt: string | undefined): CheckResult {
  const t = f.target;
  if (!f.pods.ok) return unreadable('pods', f.pods.error);
  const mine = f.pods.value.filter((p) => p.serviceAccount === t.serviceAccount);
  const owner = (p: PodInfo) => (p.owner ? `${p.owner.kind} ${p.owner.name}` : `pod ${p.name}`);
  if (!mine.length) {
    // A labelled pod running as another ServiceAccount is usually a wrong serviceAccountName.
    const misnamed = f.pods.value.filter((p) => p.labels[USE_LABEL] === 'true');
    return check('pods', 'warn', misnamed.length
      ? `No pod runs as ${t.serviceAccount}, but ${[...new Set(misnamed.map(owner))].join(', ')} carries the ${USE_LABEL} label with serviceAccountName ${[...new Set(misnamed.map((p) => p.serviceAccount))].join(', ')}: set serviceAccountName: ${t.serviceAccount} on its pod template.`
      : `No pod in ${t.namespace} runs as ${t.serviceAccount} yet.`, [['Pods in namespace', String(f.pods.value.length)]]);
  }
  const problems: string[] = [];
  for (const p of mine) {
    if (p.env.includes(TOKEN_FILE_ENV)) continue;
    if (p.labels[USE_LABEL] !== 'true') problems.push(`${p.name}: no ${USE_LABEL}: "true" label. Add it to the pod template of ${owner(p)} and restart it.`);
    else if (annotatedAt && p.createdAt < annotatedAt) problems.push(`${p.name}: started ${p.createdAt}, before the client-id annotation was set (${annotatedAt}). Restart ${owner(p)}.`);
    else if (f.webhooks.ok && !f.webhooks.value.length) problems.push(`${p.name}: labelled, but no webhook is installed to inject the token.`);
    else problems.push(`${p.name}: labelled but not injected${clientId ? '' : ' (the ServiceAccount has no client-id annotation)'}. Restart ${owner(p)}: the webhook mutates pods only when they are created.`);
  }
  const ev: Ev[] = mine.map((p) => [p.name, `${owner(p)} · label ${p.labels[USE_LABEL] ?? 'missing'} · ${p.env.includes(TOKEN_FILE_ENV) ? TOKEN_FILE_ENV : 'no token file'} · started ${p.createdAt}`]);
  return problems.length
    ? check('pods', 'fail', `${problems.length} of ${mine.length} pod${mine.length > 1 ? 's' : ''} get no federated token. Restart or add the label: ${problems.join(' ')}`, ev)
    : check('pods', 'pass', `All ${mine.length} pod${mine.length > 1 ? 's' : ''} running as ${t.serviceAccount} have ${TOKEN_FILE_ENV}.`, ev);
}
