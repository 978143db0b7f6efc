import * as l10n from '@vscode/l10n';
import { IDENTITY_BINDING_AUDIENCE } from '../../azure/identityBindings';
import { randomBytes } from 'node:crypto';
import { CancelledError, describeError, errorMessage, isAbort, throwIfAborted } from '../../errors';
import { CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION } from '../manifest';
import { TOKEN_EXCHANGE_AUDIENCE } from '../names';
import { Permission } from '../../azure/keyVaultRoles';
import { credentialMatch } from '../binding';
import { permissionModel } from '../inventory';
import { Ev, TOKEN_PROXY_ENV, check, grantsOn, onlyThroughIdentityBinding } from '../verify/checks';
import type { CheckResult, VaultGrants, VerifyFacts, VerifyReport } from '../verify/model';
import { verifyBinding } from '../verify/verify';
import { ProbeDeps, ProbeOptions, TokenClaims, VaultAnswer } from './model';
import { TEST_POD_IMAGE, readTestPod, testPodRun } from './inCluster';
import { firstLine } from '../../util/text';
import { sleep } from '../../util/concurrency';
import { jwtPayload } from '../../util/jwt';

/** The TokenRequest API's minimum: the token lives no longer than the test needs it. */
const TOKEN_SECONDS = 600;

/** The claims of a ServiceAccount token that the report shows, read without verifying it. */
export function serviceAccountTokenClaims(jwt: string): TokenClaims {
  const body = jwtPayload(jwt) ?? {};
  return { iss: String(body.iss), sub: String(body.sub), aud: [body.aud].flat().map(String), exp: Number(body.exp) };
}

/** What each Microsoft Entra ID error means for a workload identity binding. */
export const aadstsMeaning = (code: string): string | undefined =>
  (
    ({
      '70021': l10n.t(
        "No federated credential on the identity matches the token's issuer, subject and audience together, or a new credential has not propagated yet.",
      ),
      '700211': l10n.t(
        "No federated credential on the identity has the token's issuer: the credential names another issuer (a trailing slash, another cluster, or the in-cluster issuer).",
      ),
      '700213': l10n.t(
        "No federated credential on the identity has the token's subject: the namespace or ServiceAccount in the credential differs.",
      ),
      '700212': l10n.t(
        "No federated credential on the identity has the token's audience. A token for an identity binding (audience api://AKSIdentityBinding) goes to AKS's proxy, not to Microsoft Entra ID: the app must use WorkloadIdentityCredential's Azure proxy option; a direct credential expects api://AzureADTokenExchange.",
      ),
      '7002138': l10n.t(
        'The subject matches a federated credential only when case is ignored; Microsoft Entra ID compares it exactly.',
      ),
      '700016': l10n.t(
        "Microsoft Entra ID knows no application with the ServiceAccount's client id in this tenant: the annotation names a wrong or deleted identity.",
      ),
      '90061': l10n.t(
        "Microsoft Entra ID could not fetch the issuer's discovery document: the token comes from an issuer it cannot reach (is the OIDC issuer on?).",
      ),
      '700024': l10n.t("The token is outside its validity time: check your computer's clock."),
    }) as Record<string, string>
  )[code];

/**
 * Retries `attempt` while it says the answer may change with propagation, with backoff, for at most waitMs;
 * each wait is reported. Returns the last answer.
 */
async function whilePropagating<T>(
  attempt: () => Promise<T>,
  propagating: (r: T) => string | undefined,
  opts: ProbeOptions,
): Promise<T> {
  const until = Date.now() + opts.propagationWaitMs;
  for (let delay = 2000; ; delay = Math.min(delay * 2, 20_000)) {
    const r = await attempt();
    const why = propagating(r);
    const left = until - Date.now();
    if (!why || left <= 0) return r;
    const wait = Math.min(delay, left);
    opts.progress?.(
      l10n.t(
        '{0} Trying again in {1} s ({2} s left of the wait).',
        why,
        Math.ceil(wait / 1000),
        Math.ceil(left / 1000),
      ),
    );
    await sleep(wait, opts.signal);
  }
}

/** The Kubernetes client takes no signal: a cancel ends the wait, and the answer is dropped. */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new CancelledError());
    signal.addEventListener('abort', abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

type Exchange = { ok: true } | { ok: false; code: string; message: string };

/**
 * Test Binding: the chain a pod goes through, proven from here without a pod and without reading any secret.
 * 1. the cluster issues a ServiceAccount token for the exchange audience (TokenRequest);
 * 2. Microsoft Entra ID exchanges it for a Key Vault token of the identity the ServiceAccount names;
 * 3. with it, Key Vault answers a GET of a name that cannot exist: 404 proves `get`, 403 its absence.
 * Verify's facts give the identity, its credentials and grants, and the fixes offered. Nothing is written.
 */
export async function testBinding(
  facts: VerifyFacts,
  verifyChecks: CheckResult[],
  deps: ProbeDeps,
  opts: ProbeOptions,
): Promise<CheckResult[]> {
  const t = facts.target;
  const found = facts.identity.ok ? facts.identity.value.identity : undefined;
  const sa = facts.serviceAccount.ok ? facts.serviceAccount.value : undefined;
  const clientId = sa?.annotations[CLIENT_ID_ANNOTATION]?.trim();
  const skipRest = (why: string) => [check('exchange', 'skip', why), check('keyVault', 'skip', why)];
  // Through an identity binding (and no credential of its own), pods get tokens for AKS's proxy, not for Entra ID.
  const viaBinding = !!found && onlyThroughIdentityBinding(facts, found.id);
  const audience = viaBinding ? IDENTITY_BINDING_AUDIENCE : TOKEN_EXCHANGE_AUDIENCE;

  // 1. The ServiceAccount token.
  if (!sa)
    return [
      check(
        'token',
        'fail',
        l10n.t(
          'The ServiceAccount {0}/{1} does not exist on {2}{3}.',
          t.namespace,
          t.serviceAccount,
          t.cluster.name,
          facts.serviceAccount.ok ? '' : ` (${facts.serviceAccount.error})`,
        ),
      ),
      ...skipRest(l10n.t('No token to exchange.')),
    ];
  opts.progress?.(l10n.t('1/3 Asking {0} for a token of {1}/{2}…', t.cluster.name, t.namespace, t.serviceAccount));
  let token: string;
  try {
    const kube = await deps.kube(t.cluster);
    token = await untilAborted(kube.createToken(t.namespace, t.serviceAccount, audience, TOKEN_SECONDS), opts.signal);
  } catch (e) {
    if (isAbort(e)) throw new CancelledError();
    const d = describeError(e);
    const forbidden = d.status === 403 || /Forbidden/i.test(d.code);
    return [
      check(
        'token',
        'fail',
        forbidden
          ? l10n.t(
              '{0} Creating a token needs the "create" verb on serviceaccounts/token in {1}: cluster admins and Azure Kubernetes Service RBAC Admin or Writer for the namespace have it.',
              d.message,
              t.namespace,
            )
          : l10n.t('The cluster did not issue a token: {0}: {1}', d.code, d.message),
        [
          [
            l10n.t('Request'),
            l10n.t('serviceaccounts/{0}/token, audience {1}, {2} s', t.serviceAccount, audience, TOKEN_SECONDS),
          ],
        ],
      ),
      ...skipRest(l10n.t('No token to exchange.')),
    ];
  }
  const claims = serviceAccountTokenClaims(token);
  const claimEv: Ev[] = [
    [l10n.t('Token iss'), claims.iss],
    [l10n.t('Token sub'), claims.sub],
    [l10n.t('Token aud'), claims.aud.join(', ')],
    [l10n.t('Token exp'), new Date(claims.exp * 1000).toISOString()],
  ];
  const out: CheckResult[] = [
    check(
      'token',
      'pass',
      l10n.t(
        '{0} issued a token for {1}/{2} (via {3}). Its claims, not the token, are shown.',
        t.cluster.name,
        t.namespace,
        t.serviceAccount,
        (await deps.kube(t.cluster)).mode === 'runCommand' ? 'AKS run-command' : l10n.t('the TokenRequest API'),
      ),
      claimEv,
    ),
  ];

  // 2. The exchange, as the pod's SDK makes it.
  if (viaBinding) return [...out, ...(await exchangeInCluster(facts, verifyChecks, deps, opts, found))];
  if (!clientId)
    return [
      ...out,
      ...skipRest(
        l10n.t(
          'The ServiceAccount has no {0} annotation, so a pod would not know which identity to ask for.',
          CLIENT_ID_ANNOTATION,
        ),
      ),
    ];
  if (!deps.cloud.activeDirectoryEndpoint || !deps.cloud.keyVaultResource) {
    return [
      ...out,
      ...skipRest(
        l10n.t(
          'This custom cloud does not name its Microsoft Entra ID authority or Key Vault DNS suffix: set activeDirectoryEndpointUrl and keyVaultDnsSuffix in microsoft-sovereign-cloud.customEnvironment.',
        ),
      ),
    ];
  }
  // A subscription id is never a tenant: Entra ID would answer AADSTS90002 and hide what is wrong with the identity.
  const annotatedTenant = sa.annotations[TENANT_ID_ANNOTATION]?.trim();
  const [tenantId, tenantSource] = found?.tenantId
    ? [found.tenantId, l10n.t('the identity')]
    : annotatedTenant
      ? [annotatedTenant, l10n.t("the ServiceAccount's {0} annotation", TENANT_ID_ANNOTATION)]
      : [deps.signedInTenantId, l10n.t('the tenant you signed in to')];
  if (!tenantId)
    return [
      ...out,
      ...skipRest(
        l10n.t(
          "Neither the identity (which you cannot see) nor the ServiceAccount's {0} annotation names a tenant, and no tenant is signed in.",
          TENANT_ID_ANNOTATION,
        ),
      ),
    ];
  const credential = deps.workloadCredential(tenantId, clientId, async () => token);
  const scope = `${deps.cloud.keyVaultResource}/.default`;
  opts.progress?.(l10n.t('2/3 Exchanging the token at Microsoft Entra ID for {0}…', clientId));
  const exchange = await whilePropagating<Exchange>(
    async () => {
      throwIfAborted(opts.signal);
      try {
        await credential.getToken(scope, { abortSignal: opts.signal });
        return { ok: true };
      } catch (e) {
        if (isAbort(e) || opts.signal?.aborted) throw new CancelledError();
        // @azure/identity wraps Entra ID's answer: "<error>: Error(s): <codes> - Timestamp: … - Description: AADSTS…".
        const message = errorMessage(e);
        const description = /AADSTS\d+:[^]*/.exec(message)?.[0] ?? message;
        // MSAL's own failures (before Entra ID answers anything) carry an error code such as endpoints_resolution_error.
        const code =
          /AADSTS(\d+)/.exec(message)?.[1] ??
          /\b(endpoints_resolution_error)\b/.exec(message)?.[1] ??
          describeError(e).code;
        return { ok: false, code, message: firstLine(description, /\s*Trace ID:|\r?\n/).trim() };
      }
    },
    (r) =>
      !r.ok && r.code === '70021'
        ? l10n.t('AADSTS70021: right after a credential is written, Microsoft Entra ID needs a few minutes to see it.')
        : undefined,
    opts,
  );
  const credentials = facts.credentials.ok ? facts.credentials.value : [];
  const compare: Ev[] = credentials.map((c) => [
    l10n.t('Credential {0}', c.name),
    [
      l10n.t('issuer {0} {1}', c.issuer === claims.iss ? '✓' : '✗', c.issuer),
      l10n.t('subject {0} {1}', c.subject === claims.sub ? '✓' : '✗', credentialMatch(c)),
      l10n.t('audiences {0} {1}', c.audiences.some((a) => claims.aud.includes(a)) ? '✓' : '✗', c.audiences.join(', ')),
    ].join('\n'),
  ]);
  const exchangeEv: Ev[] = [
    [l10n.t('Client id'), clientId],
    [l10n.t('Tenant'), l10n.t('{0} (from {1})', tenantId, tenantSource)],
    [l10n.t('Authority'), deps.cloud.activeDirectoryEndpoint],
    [l10n.t('Resource'), deps.cloud.keyVaultResource],
    ...claimEv.slice(0, 3),
    ...compare,
  ];
  if (!exchange.ok) {
    // MSAL reads the tenant's discovery document first; Entra ID answers an unknown tenant there (AADSTS90002).
    const meaning =
      exchange.code === 'endpoints_resolution_error'
        ? l10n.t(
            'Microsoft Entra ID does not know the tenant {0}, which {1} names: the exchange cannot start.',
            tenantId,
            tenantSource,
          )
        : aadstsMeaning(exchange.code);
    const fix = verifyChecks.find(
      (c) => ['issuer', 'subject', 'audience', 'serviceAccount'].includes(c.id) && c.fix,
    )?.fix;
    const exact = credentials.some(
      (c) => c.issuer === claims.iss && c.subject === claims.sub && c.audiences.some((a) => claims.aud.includes(a)),
    );
    const propagation =
      exchange.code === '70021' && exact
        ? l10n.t(
            ' A credential matches exactly: it was written recently and has not propagated yet; test again in a few minutes.',
          )
        : '';
    out.push(
      check(
        'exchange',
        'fail',
        `${meaning ? `${/^\d+$/.test(exchange.code) ? 'AADSTS' : ''}${exchange.code}: ${meaning}` : `${exchange.code}: ${exchange.message}`}${propagation}`,
        [[l10n.t('Microsoft Entra ID said'), exchange.message], ...exchangeEv],
        fix,
      ),
    );
    out.push(check('keyVault', 'skip', l10n.t('No Key Vault token to test with.')));
    return out;
  }
  out.push(
    check(
      'exchange',
      'pass',
      l10n.t(
        'Microsoft Entra ID exchanged the ServiceAccount token for a Key Vault token of {0}. The token is not kept.',
        found?.name ?? clientId,
      ),
      exchangeEv,
    ),
  );

  // 3. Key Vault, for each vault the binding covers and each kind granted.
  const vaults = facts.vaults.ok ? facts.vaults.value : [];
  if (!vaults.length) {
    out.push(
      check(
        'keyVault',
        'skip',
        l10n.t('{0} has no grant on any Key Vault you can see: nothing to test.', found?.name ?? clientId),
      ),
    );
    return out;
  }
  for (const g of vaults) {
    const v = g.vault;
    if (!v.vaultUri) {
      out.push(
        check('keyVault', 'error', l10n.t('{0} reports no vault URI.', v.name), [], undefined, `keyVault:${v.name}`),
      );
      continue;
    }
    const { byRole } = grantsOn(g, found!.principalId);
    const fix = verifyChecks.find((c) => c.key === `vault:${v.name}` && c.fix)?.fix;
    for (const { kind, name } of vaultProbes([g], found!.principalId)) {
      opts.progress?.(l10n.t('3/3 Asking {0} for {1}/{2}…', v.name, kind, name));
      const answer = await whilePropagating<VaultAnswer>(
        () =>
          deps.probeVault(v.vaultUri!, kind, name, credential, opts.signal).catch((e) => {
            if (isAbort(e) || opts.signal?.aborted) throw new CancelledError();
            const d = describeError(e);
            return { status: 0, code: d.code, message: d.message };
          }),
        (r) =>
          r.status === 403 && v.rbac && r.code !== 'ForbiddenByFirewall' && byRole.includes(kind)
            ? l10n.t('403 from {0}: a new role assignment can take up to 10 minutes to apply.', v.name)
            : undefined,
        opts,
      );
      out.push(vaultCheck(v.name, v.rbac, kind, name, answer, fix));
    }
    if (opts.secretName) {
      opts.progress?.(l10n.t('3/3 Asking {0} for the secret {1} (its value is not read)…', v.name, opts.secretName));
      const a = await deps.readSecretStatus(v.vaultUri, opts.secretName, credential, opts.signal).catch((e) => {
        if (isAbort(e) || opts.signal?.aborted) throw new CancelledError();
        const d = describeError(e);
        return { status: 0, code: d.code, message: d.message };
      });
      out.push(namedSecretCheck(v.name, v.rbac, opts.secretName, a, fix));
    }
  }
  return out;
}

/** The error_description of an OAuth error body, which the pod may have cut short; else the text as it came. */
function errorDescription(body: string): string {
  const quoted = /"error_description"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(body)?.[1];
  try {
    return quoted ? String(JSON.parse(quoted)) : body;
  } catch {
    return body;
  }
}

/** The GETs Test Binding makes: per vault the binding covers, each kind granted (secrets when none is). */
function vaultProbes(vaults: VaultGrants[], principalId: string) {
  return vaults.flatMap((g) => {
    const { byPolicy, byRole } = grantsOn(g, principalId);
    const kinds: Permission[] = [...new Set([...byPolicy, ...byRole])];
    return (kinds.length ? kinds : (['secrets'] as Permission[])).map((kind) => ({
      grants: g,
      kind,
      name: `akswi-probe-${randomBytes(6).toString('hex')}`,
    }));
  });
}

/**
 * Through an identity binding: a short-lived pod does the exchange through AKS's proxy, and the Key Vault GETs, as the
 * app would (see inCluster.ts). Where run-command is refused, the checks above are what can be proved from here.
 */
async function exchangeInCluster(
  facts: VerifyFacts,
  verifyChecks: CheckResult[],
  deps: ProbeDeps,
  opts: ProbeOptions,
  identity: { name: string; principalId: string },
): Promise<CheckResult[]> {
  const t = facts.target;
  const cannot = (why: string) =>
    l10n.t(
      "{0} Through an identity binding the exchange goes through AKS's proxy inside the cluster ({1}), which VS Code cannot reach; what can be proved from here are the checks above.",
      why,
      TOKEN_PROXY_ENV,
    );
  if (!deps.cloud.keyVaultResource)
    return [
      check('exchange', 'skip', cannot(l10n.t('This custom cloud does not name its Key Vault DNS suffix.'))),
      check('keyVault', 'skip', l10n.t('No Key Vault token to test with.')),
    ];
  if ((facts.cluster.ok ? facts.cluster.value : t.cluster).runCommandDisabled)
    return [
      check(
        'exchange',
        'skip',
        cannot(
          l10n.t('AKS run-command is turned off on {0}, so no test pod can be started from here.', t.cluster.name),
        ),
      ),
      check('keyVault', 'skip', l10n.t('No Key Vault token to test with.')),
    ];
  const vaults = (facts.vaults.ok ? facts.vaults.value : []).filter((g) => g.vault.vaultUri);
  const probes = vaultProbes(vaults, identity.principalId);
  const named = opts.secretName;
  const pod = testPodRun(
    t,
    `${deps.cloud.keyVaultResource}/.default`,
    [
      ...probes.map((p) => ({ vaultUri: p.grants.vault.vaultUri!, kind: p.kind, name: p.name })),
      ...(named ? vaults.map((g) => ({ vaultUri: g.vault.vaultUri!, kind: 'secrets' as const, name: named })) : []),
    ],
    randomBytes(4).toString('hex'),
  );
  const podEv: Ev[] = [
    [
      l10n.t('Test pod'),
      l10n.t('{0}/{1}, image {2}, as {3}, deleted afterwards', t.namespace, pod.name, TEST_POD_IMAGE, t.serviceAccount),
    ],
  ];
  opts.progress?.(
    l10n.t(
      '2/3 Running a pod as {0}/{1} on {2} through AKS run-command, to exchange its token through the identity binding (up to 4 minutes)…',
      t.namespace,
      t.serviceAccount,
      t.cluster.name,
    ),
  );
  let logs: string;
  try {
    const r = await deps.runInCluster(t.cluster, pod.command, pod.files, opts.signal);
    logs = r.logs;
    if (r.exitCode !== 0 && !readTestPod(logs).ran)
      return [
        check('exchange', 'fail', l10n.t('The cluster did not start the test pod: {0}', firstLine(logs)), podEv),
        check('keyVault', 'skip', l10n.t('No Key Vault token to test with.')),
      ];
  } catch (e) {
    if (isAbort(e) || opts.signal?.aborted) throw new CancelledError();
    const d = describeError(e);
    // Refused (no right to run commands, or turned off): not a failure of the binding. Anything else is an error.
    const refused = d.status === 403 || d.status === 400;
    return [
      refused
        ? check('exchange', 'skip', cannot(l10n.t('AKS run-command was refused ({0}: {1}).', d.code, d.message)), podEv)
        : check('exchange', 'error', l10n.t('AKS run-command did not answer: {0}: {1}', d.code, d.message), podEv),
      check('keyVault', 'skip', l10n.t('No Key Vault token to test with.')),
    ];
  }
  const outcome = readTestPod(logs);
  const noToken = check('keyVault', 'skip', l10n.t('No Key Vault token to test with.'));
  if (!outcome.ran) {
    const waiting = outcome.pod?.waiting;
    return [
      check(
        'exchange',
        'fail',
        waiting && /ImagePull|ErrImage/.test(waiting)
          ? l10n.t('The test pod did not start: the cluster could not pull {0} ({1}).', TEST_POD_IMAGE, waiting)
          : l10n.t(
              'The test pod did not finish within 4 minutes ({0}). Look at it with: kubectl describe pod {1} -n {2}',
              [outcome.pod?.phase, waiting].filter(Boolean).join(', ') || l10n.t('no status'),
              pod.name,
              t.namespace,
            ),
        podEv,
      ),
      noToken,
    ];
  }
  if (outcome.noProxy)
    return [
      check(
        'exchange',
        'fail',
        l10n.t(
          "The webhook gave the test pod no {0}, although it carries the label and the annotation: the cluster's workload identity webhook is older than v1.6 (see the webhook check), or {1}/{2} has no client-id annotation.",
          TOKEN_PROXY_ENV,
          t.namespace,
          t.serviceAccount,
        ),
        podEv,
        verifyChecks.find((c) => c.id === 'serviceAccount' && c.fix)?.fix,
      ),
      noToken,
    ];
  if (outcome.noCurl)
    return [
      check('exchange', 'error', l10n.t("The test pod's image {0} has no curl.", TEST_POD_IMAGE), podEv),
      noToken,
    ];
  const ex = outcome.exchange ?? { status: 0, said: l10n.t('the pod printed nothing') };
  const exEv: Ev[] = [...podEv, [l10n.t('Proxy answered'), `${ex.status || l10n.t('no answer')} ${ex.said}`.trim()]];
  if (ex.status !== 200) {
    const description = errorDescription(ex.said);
    const aadsts = /AADSTS(\d+)/.exec(description)?.[1];
    const rbacFix = verifyChecks.find((c) => c.id === 'useIdentityRbac' && c.fix)?.fix;
    const refusedByRbac = /cannot use-managed-identity/.test(description);
    const text = !ex.status
      ? l10n.t("The test pod could not reach AKS's proxy: {0}", description)
      : refusedByRbac
        ? l10n.t(
            "AKS's proxy refused: RBAC does not let {0}/{1} use the identity ({2}).",
            t.namespace,
            t.serviceAccount,
            description,
          )
        : aadsts && aadstsMeaning(aadsts)
          ? `AADSTS${aadsts}: ${aadstsMeaning(aadsts)}`
          : l10n.t("AKS's proxy refused the exchange ({0}): {1}", ex.status, firstLine(description, /\s*Trace ID:/));
    return [check('exchange', 'fail', text, exEv, refusedByRbac ? rbacFix : undefined), noToken];
  }
  const out: CheckResult[] = [
    check(
      'exchange',
      'pass',
      l10n.t(
        "A pod running as {0}/{1} got a Key Vault token of {2} through AKS's identity binding proxy. The token stayed in the pod.",
        t.namespace,
        t.serviceAccount,
        identity.name,
      ),
      exEv,
    ),
  ];
  if (!probes.length) {
    out.push(
      check(
        'keyVault',
        'skip',
        l10n.t('{0} has no grant on any Key Vault you can see: nothing to test.', identity.name),
      ),
    );
    return out;
  }
  const answer = (vaultUri: string, name: string): VaultAnswer =>
    outcome.vaults.find((x) => x.vaultUri === vaultUri && x.name === name) ?? {
      status: 0,
      code: 'NoAnswer',
      message: l10n.t('the pod printed no answer for this vault'),
    };
  const fixOf = (vault: string) => verifyChecks.find((c) => c.key === `vault:${vault}` && c.fix)?.fix;
  for (const p of probes) {
    const v = p.grants.vault;
    const a = answer(v.vaultUri!, p.name);
    out.push(vaultCheck(v.name, v.rbac, p.kind, p.name, a, fixOf(v.name), l10n.t('(from the test pod)')));
  }
  if (named)
    for (const { vault: v } of vaults)
      out.push(namedSecretCheck(v.name, v.rbac, named, answer(v.vaultUri!, named), fixOf(v.name)));
  return out;
}

function namedSecretCheck(
  vault: string,
  rbac: boolean,
  name: string,
  a: VaultAnswer,
  fix: CheckResult['fix'],
): CheckResult {
  const key = `keyVault:${vault}:secret ${name}`;
  const ev: Ev[] = [
    [l10n.t('Request'), l10n.t('GET secrets/{0}', name)],
    [l10n.t('Answer'), `${a.status || l10n.t('no answer')} ${a.code}`],
    [l10n.t('Value'), l10n.t('not read, shown or kept')],
  ];
  if (a.status === 200)
    return check(
      'keyVault',
      'pass',
      l10n.t('{0}: the identity can read the secret {1}. Its value was not read.', vault, name),
      ev,
      undefined,
      key,
    );
  if (a.status === 404)
    return check(
      'keyVault',
      'warn',
      l10n.t('{0}: the identity may get secrets, but there is no secret named {1} in this vault.', vault, name),
      ev,
      undefined,
      key,
    );
  if (a.status === 403 && a.code === 'SecretDisabled')
    return check(
      'keyVault',
      'fail',
      l10n.t('{0}: the secret {1} is disabled; enable it in the vault.', vault, name),
      ev,
      undefined,
      key,
    );
  // Refused or unanswered: the same verdict as for a name that cannot exist.
  return { ...vaultCheck(vault, rbac, 'secrets', name, a, fix), key };
}

function vaultCheck(
  vault: string,
  rbac: boolean,
  kind: Permission,
  name: string,
  a: VaultAnswer,
  fix: CheckResult['fix'],
  from?: string,
): CheckResult {
  const key = `keyVault:${vault}:${kind}`;
  const ev: Ev[] = [
    [l10n.t('Request'), `${l10n.t('GET {0}/{1} (a name that does not exist)', kind, name)}${from ? ` ${from}` : ''}`],
    [l10n.t('Answer'), `${a.status || l10n.t('no answer')} ${a.code}`],
    [l10n.t('Permission model'), permissionModel(rbac)],
  ];
  if ((a.status === 404 && /NotFound$/.test(a.code)) || a.status === 200)
    return check(
      'keyVault',
      'pass',
      l10n.t(
        '{0}: the identity may get {1} (Key Vault answered that the name does not exist, which it tells only a caller allowed to get).',
        vault,
        kind,
      ),
      ev,
      undefined,
      key,
    );
  if (a.status === 403 && a.code === 'ForbiddenByFirewall') {
    return check(
      'keyVault',
      'warn',
      l10n.t(
        "{0}: the vault's firewall does not let your computer in. That says nothing about the pod, whose network may be allowed; the grant could not be tested from here.",
        vault,
      ),
      ev,
      undefined,
      key,
    );
  }
  if (a.status === 403)
    return check(
      'keyVault',
      'fail',
      l10n.t(
        '{0}: Key Vault refused get on {1} ({2}): {3}. {4}',
        vault,
        kind,
        a.code,
        rbac
          ? l10n.t('no role that grants it is assigned (or it is still propagating: up to 10 minutes)')
          : l10n.t('no access policy gives it'),
        a.message,
      ),
      ev,
      fix,
      key,
    );
  if (a.status === 401)
    return check(
      'keyVault',
      'fail',
      l10n.t(
        "{0}: Key Vault did not accept the token (401 {1}): its audience or tenant does not match the vault's. {2}",
        vault,
        a.code,
        a.message,
      ),
      ev,
      undefined,
      key,
    );
  return check(
    'keyVault',
    'error',
    l10n.t('{0}: no usable answer: {1}: {2}', vault, a.code, a.message),
    ev,
    undefined,
    key,
  );
}

/** Verify's checks, then the test of the chain: one report, whose fixes are Verify's. */
export async function verifyAndTest(
  target: VerifyFacts['target'],
  deps: ProbeDeps,
  opts: ProbeOptions,
): Promise<{ report: VerifyReport; facts: VerifyFacts }> {
  const { report, facts } = await verifyBinding(target, deps, opts.signal);
  const tested = await testBinding(facts, report.checks, deps, opts);
  return { facts, report: { ...report, checks: [...report.checks, ...tested], checkedAt: new Date().toISOString() } };
}
