import type { Permission } from '../../azure/keyVaultRoles';
import { USE_IDENTITY_BINDING_ANNOTATION } from '../binding';
import { USE_LABEL } from '../manifest';
import type { VaultAnswer } from './model';

/**
 * Through an identity binding, the exchange happens inside the cluster: AKS's proxy takes the pod's token and asks
 * RBAC before it exchanges. Test Binding proves it as a pod would: a short-lived pod, started through AKS run-command,
 * running as the ServiceAccount with the label and the annotation, posts its projected token to the proxy
 * (AZURE_KUBERNETES_TOKEN_PROXY, with its TLS name and CA, as WorkloadIdentityCredential's proxy option does) and,
 * with the Key Vault token it gets, GETs a name that cannot exist in each vault. The token never leaves the pod: the
 * pod prints status codes and error texts only.
 */

/** An image on Microsoft's registry, which AKS clusters may always pull from, that has curl. */
export const TEST_POD_IMAGE = 'mcr.microsoft.com/azure-cli:2.67.0';
/** How long run-command waits for the pod (its image may need pulling first). */
const WAIT_SECONDS = 240;
const RESULT = 'akswi-result';

/** A GET of `<kind>/<name>` in a vault. */
export interface VaultProbe {
  vaultUri: string;
  kind: Permission;
  name: string;
}

/** The pod's script: POSIX sh and curl; every line it prints for us starts with RESULT. */
function script(scope: string, probes: VaultProbe[]): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `r() { echo "${RESULT} $*"; }`,
    'if [ -z "${AZURE_KUBERNETES_TOKEN_PROXY:-}" ]; then r proxy-env missing; exit 0; fi',
    'if ! command -v curl >/dev/null 2>&1; then r curl missing; exit 0; fi',
    'rest=${AZURE_KUBERNETES_TOKEN_PROXY#https://}; authority=${rest%%/*}; prefix=${rest#"$authority"}; prefix=${prefix%/}',
    'case $authority in *:*) port=${authority##*:} ;; *) port=443 ;; esac',
    'host=${authority%:*}; sni=${AZURE_KUBERNETES_SNI_NAME:-$host}',
    'out=$(mktemp); err=$(mktemp)',
    // As the SDKs do: no answer, 429 and 5xx are tried again (four tries), any other answer is the answer.
    'call() { n=0; while :; do n=$((n+1)); code=$(curl -sS --max-time 10 -o "$out" -w "%{http_code}" "$@" 2>"$err") || code=0; ' +
      'case $code in 0|000|429|5??) if [ $n -lt 4 ]; then sleep 1; continue; fi ;; esac; break; done; }',
    'call ${AZURE_KUBERNETES_CA_FILE:+--cacert "$AZURE_KUBERNETES_CA_FILE"} --connect-to "$sni:$port:$host:$port" ' +
      '--data-urlencode "client_assertion@$AZURE_FEDERATED_TOKEN_FILE" ' +
      '--data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer ' +
      '--data-urlencode grant_type=client_credentials --data-urlencode "client_id=$AZURE_CLIENT_ID" ' +
      `--data-urlencode scope=${q(scope)} ` +
      '"https://$sni:$port$prefix/$AZURE_TENANT_ID/oauth2/v2.0/token"',
    'if [ "$code" != 200 ]; then r exchange "$code" "$(cat "$out" "$err" | tr -d \'\\r\\n\' | head -c 800)"; exit 0; fi',
    'at=$(sed -n \'s/.*"access_token" *: *"\\([^"]*\\)".*/\\1/p\' "$out"); : >"$out"',
    'r exchange 200',
    // A 200's body (a secret's value) is never read: only a refusal's error code is.
    ...probes.map(
      (p) =>
        `call -H "Authorization: Bearer $at" ${q(`${p.vaultUri.replace(/\/$/, '')}/${p.kind}/${p.name}?api-version=7.5`)}; c=; ` +
        `[ "$code" = 200 ] || c=$(sed -n 's/.*"code" *: *"\\([^"]*\\)".*/\\1/p' "$out" | head -n 1); : >"$out"; ` +
        `r vault ${q(p.vaultUri)} ${q(p.name)} "$code" "\${c:--}" "$(tr -d '\\r\\n' <"$err" | head -c 300)"`,
    ),
    'rm -f "$out" "$err"',
  ].join('\n');
}

/** The pod, its manifest for run-command's context, and the one command that runs it, prints its lines and deletes it. */
export function testPodRun(
  target: { namespace: string; serviceAccount: string },
  scope: string,
  probes: VaultProbe[],
  suffix: string,
) {
  const name = `akswi-test-${suffix}`;
  const { namespace: ns } = target;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { [USE_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'aks-workload-identity' },
      annotations: { [USE_IDENTITY_BINDING_ANNOTATION]: 'true' },
    },
    spec: {
      serviceAccountName: target.serviceAccount,
      restartPolicy: 'Never',
      activeDeadlineSeconds: WAIT_SECONDS + 60,
      containers: [
        {
          name: 'test',
          image: TEST_POD_IMAGE,
          command: ['sh', '-c', script(scope, probes)],
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
          securityContext: { allowPrivilegeEscalation: false },
        },
      ],
    },
  };
  const command =
    `kubectl apply -f pod.json >/dev/null && kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/${name} -n ${ns} --timeout=${WAIT_SECONDS}s >/dev/null; ` +
    `kubectl logs ${name} -n ${ns}; ` +
    `kubectl get pod ${name} -n ${ns} -o jsonpath='${RESULT} pod {.status.phase} {.status.containerStatuses[0].state.waiting.reason}{"\\n"}'; ` +
    `kubectl delete pod ${name} -n ${ns} --ignore-not-found --wait=false >/dev/null`;
  return { name, files: { 'pod.json': JSON.stringify(pod, null, 2) }, command };
}

export interface TestPodOutcome {
  /** The pod ran its script. */
  ran: boolean;
  /** The webhook gave the pod no proxy: it is older than v1.6, or the pod was not mutated. */
  noProxy: boolean;
  noCurl: boolean;
  exchange?: { status: number; said: string };
  vaults: (VaultAnswer & { vaultUri: string; name: string })[];
  pod?: { phase: string; waiting?: string };
}

/** What the pod printed, read line by line; anything else in the logs (kubectl's own words) is left aside. */
export function readTestPod(logs: string): TestPodOutcome {
  const out: TestPodOutcome = { ran: false, noProxy: false, noCurl: false, vaults: [] };
  for (const line of logs.split(/\r?\n/)) {
    const m = new RegExp(`^${RESULT} (\\S+) ?(.*)$`).exec(line.trim());
    if (!m) continue;
    const [, what, rest = ''] = m;
    if (what === 'pod') {
      const [phase = '', waiting] = rest.split(' ');
      out.pod = { phase, ...(waiting ? { waiting } : {}) };
      continue;
    }
    out.ran = true;
    if (what === 'proxy-env') out.noProxy = true;
    else if (what === 'curl') out.noCurl = true;
    else if (what === 'exchange') {
      const [, status = '0', said = ''] = /^(\d+) ?(.*)$/.exec(rest) ?? [];
      out.exchange = { status: Number(status), said };
    } else if (what === 'vault') {
      const [, vaultUri = '', name = '', status = '0', code = '-', message = ''] =
        /^(\S+) (\S+) (\d+) (\S+) ?(.*)$/.exec(rest) ?? [];
      out.vaults.push({ vaultUri, name, status: Number(status), code: code === '-' ? '' : code, message });
    }
  }
  return out;
}
