/**
 * Debian's azure-cli 2.45 and kubectl, signed in to the simulated Azure: the cloud registered from a file, the run's
 * CA trusted through REQUESTS_CA_BUNDLE, `az login --identity` through the simulator's MSI endpoint. Used by the
 * real-client tests and by the bench's measured run of the lab.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { SimInfo } from '../sim/server';
import { AZ_STAND_IN_DIR } from './paths';

const run = promisify(execFile);

export interface AzSession {
  dir: string;
  vars: NodeJS.ProcessEnv;
  /** Runs a bash file with az and kubectl on PATH; a non-zero exit rejects with the last lines of stderr (no warnings). */
  bash(file: string, extraEnv?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
}

export async function azSession(info: SimInfo): Promise<AzSession> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-az-'));
  const { armUrl, loginUrl, msiUrl, caPath } = info;
  const other = (name: string) => `https://${name}.sim.test/`;
  fs.writeFileSync(
    path.join(dir, 'cloud.json'),
    JSON.stringify({
      endpoints: {
        management: `${armUrl}/`,
        resourceManager: `${armUrl}/`,
        activeDirectory: loginUrl,
        activeDirectoryResourceId: `${armUrl}/`,
        activeDirectoryGraphResourceId: other('graph'),
        microsoftGraphResourceId: other('graph'),
        sqlManagement: other('sql'),
        gallery: other('gallery'),
        batchResourceId: other('batch'),
        mediaResourceId: other('media'),
        logAnalyticsResourceId: other('loganalytics'),
        appInsightsResourceId: other('appinsights'),
        appInsightsTelemetryChannelResourceId: other('appinsights'),
        synapseAnalyticsResourceId: other('synapse'),
        attestationResourceId: other('attest'),
        portal: other('portal'),
      },
      suffixes: {
        keyvaultDns: '.vault.sim.test',
        storageEndpoint: 'core.sim.test',
        sqlServerHostname: '.database.sim.test',
        acrLoginServerEndpoint: '.azurecr.sim.test',
        mysqlServerEndpoint: '.mysql.sim.test',
        postgresqlServerEndpoint: '.postgres.sim.test',
        mariadbServerEndpoint: '.mariadb.sim.test',
        synapseAnalyticsEndpoint: '.dev.azuresynapse.sim.test',
        attestationEndpoint: '.attest.sim.test',
      },
    }),
  );
  // requests trusts only the bundle it is given: the system's CAs plus the run's.
  fs.writeFileSync(
    path.join(dir, 'ca-bundle.pem'),
    fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + fs.readFileSync(caPath, 'utf8'),
  );
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    // Debian's az, never the stand-in that other tests put on PATH.
    PATH: ['/usr/bin', ...(process.env.PATH ?? '').split(':').filter((p) => p && p !== AZ_STAND_IN_DIR)].join(':'),
    AZURE_CONFIG_DIR: path.join(dir, 'config'),
    REQUESTS_CA_BUNDLE: path.join(dir, 'ca-bundle.pem'),
    MSI_ENDPOINT: msiUrl,
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
  await run('/usr/bin/az', ['cloud', 'register', '-n', 'Sim', '--cloud-config', `@${path.join(dir, 'cloud.json')}`], {
    env: vars,
  });
  await run('/usr/bin/az', ['cloud', 'set', '-n', 'Sim'], { env: vars });
  await run('/usr/bin/az', ['login', '--identity', '--output', 'none'], { env: vars });
  return {
    dir,
    vars,
    async bash(file, extraEnv = {}) {
      try {
        return await run('bash', [file], { env: { ...vars, ...extraEnv }, cwd: dir, maxBuffer: 16 * 1024 * 1024 });
      } catch (e) {
        const x = e as { code?: number; stderr?: string };
        // The process error holds the script's whole output: only the last lines of stderr go on.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(
          `exited ${x.code}: ${x.stderr
            ?.split('\n')
            .filter((l) => !/^WARNING/.test(l))
            .slice(-6)
            .join('\n')}`,
        );
      }
    },
  };
}

/**
 * The lab's commands as the seed writes them (../shared/seed/lab-enable-workload-identity.md), on a cluster whose
 * workload identity is already on: az 2.45 has no --enable-workload-identity, so step 1 cannot run. `--object-id`
 * stands in for `--spn`, which needs Microsoft Graph. kubectl uses a kubeconfig from `az aks get-credentials`, as the
 * lab's earlier steps set up.
 */
export async function runLab(
  session: AzSession,
  v: {
    resourceGroup: string;
    cluster: string;
    vault: string;
    namespace: string;
    location: string;
    identity: string;
    credential: string;
  },
) {
  const file = path.join(session.dir, 'lab.sh');
  fs.writeFileSync(
    file,
    `set -euo pipefail
RESOURCE_GROUP='${v.resourceGroup}'; AKSCLUSTER='${v.cluster}'; KEYVAULT_NAME='${v.vault}'; NAMESPACE='${v.namespace}'; LOCATION='${v.location}'
KUBECONFIG="$(mktemp)"; export KUBECONFIG; trap 'rm -f "$KUBECONFIG"' EXIT
az aks get-credentials -n $AKSCLUSTER -g $RESOURCE_GROUP --file "$KUBECONFIG" 2>/dev/null
# --- the lab from step 2
export AKS_OIDC_ISSUER="$(az aks show -n $AKSCLUSTER -g $RESOURCE_GROUP --query "oidcIssuerProfile.issuerUrl" -otsv)"
echo $AKS_OIDC_ISSUER
USER_ASSIGNED_IDENTITY_NAME='${v.identity}'
az identity create --name "\${USER_ASSIGNED_IDENTITY_NAME}" --resource-group "\${RESOURCE_GROUP}" --location "\${LOCATION}"
az identity show --resource-group "\${RESOURCE_GROUP}" --name "\${USER_ASSIGNED_IDENTITY_NAME}"
USER_ASSIGNED_CLIENT_ID="$(az identity show --resource-group "\${RESOURCE_GROUP}" --name "\${USER_ASSIGNED_IDENTITY_NAME}" --query 'clientId' -otsv)"
echo $USER_ASSIGNED_CLIENT_ID
USER_ASSIGNED_OBJECT_ID="$(az identity show --resource-group "\${RESOURCE_GROUP}" --name "\${USER_ASSIGNED_IDENTITY_NAME}" --query 'principalId' -otsv)"
az keyvault set-policy -g $RESOURCE_GROUP -n $KEYVAULT_NAME --key-permissions get --object-id $USER_ASSIGNED_OBJECT_ID
az keyvault set-policy -g $RESOURCE_GROUP -n $KEYVAULT_NAME --secret-permissions get --object-id $USER_ASSIGNED_OBJECT_ID
az keyvault set-policy -g $RESOURCE_GROUP -n $KEYVAULT_NAME --certificate-permissions get --object-id $USER_ASSIGNED_OBJECT_ID
SERVICE_ACCOUNT_NAME="workload-identity-sa"
cat <<EOF | kubectl apply -f -
apiVersion: v1
kind: ServiceAccount
metadata:
  annotations:
    azure.workload.identity/client-id: "\${USER_ASSIGNED_CLIENT_ID}"
  name: "\${SERVICE_ACCOUNT_NAME}"
  namespace: "\${NAMESPACE}"
EOF
FEDERATED_IDENTITY_CREDENTIAL_NAME='${v.credential}'
az identity federated-credential create --name \${FEDERATED_IDENTITY_CREDENTIAL_NAME} --identity-name "\${USER_ASSIGNED_IDENTITY_NAME}" --resource-group "\${RESOURCE_GROUP}" --issuer "\${AKS_OIDC_ISSUER}" --subject system:serviceaccount:"\${NAMESPACE}":"\${SERVICE_ACCOUNT_NAME}" --audience api://AzureADTokenExchange
`,
  );
  return session.bash(file);
}
