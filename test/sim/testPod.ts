/**
 * A short-lived pod started through run-command (`kubectl apply -f pod.json`, wait, logs, delete), run for real: the
 * webhook mutates it as any pod, then its container's `sh -c` script runs on this machine with the environment the
 * webhook injected. Paths and addresses the pod would see inside the cluster are mapped to this machine: the projected
 * token (in memory, /dev/shm), AKS's proxy and its CA, and the vaults' names (curl's resolve list).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { ClusterRecord } from './model';
import { podFrom } from './workloads';
import { serviceAccountToken, TOKEN_EXCHANGE_AUDIENCE, VAULT_DOMAIN } from './entra';
import { IDENTITY_BINDING_AUDIENCE } from './arm/identityBindings';
import { PROXY_SNI_NAME } from './aksProxy';

/** Where this machine serves what a pod reaches in the cluster and in Azure. */
export interface PodNetwork {
  proxyUrl: string;
  caPath: string;
  vaultPort: number;
  vaultNames: string[];
}

/** The template run-command receives from Test Binding; anything else is not a test pod. */
export const TEST_POD_COMMAND =
  /^kubectl apply -f (pod\.json) >\/dev\/null && kubectl wait --for=jsonpath='\{\.status\.phase\}'=Succeeded pod\/([\w.-]+) -n ([\w-]+) --timeout=\d+s >\/dev\/null; kubectl logs \2 -n \3; kubectl get pod \2 -n \3 -o jsonpath='[^']*'; kubectl delete pod \2 -n \3 --ignore-not-found --wait=false >\/dev\/null$/;

/** Runs the pod and answers what the command prints: the script's output, then the pod's phase line. */
export async function runTestPod(c: ClusterRecord, manifest: string, net: PodNetwork): Promise<string> {
  const pod = parse(manifest);
  const ns = pod.metadata.namespace;
  const sa = pod.spec.serviceAccountName ?? 'default';
  if (!c.kube.namespaces.has(ns)) throw new Error(`Error from server (NotFound): namespaces "${ns}" not found`);
  if (!c.kube.serviceAccounts.has(`${ns}/${sa}`))
    throw new Error(
      `Error from server (Forbidden): pods "${pod.metadata.name}" is forbidden: error looking up service account ${ns}/${sa}: serviceaccount "${sa}" not found`,
    );
  const admitted = podFrom(c, ns, pod.metadata.name, pod, undefined);
  const key = `${ns}/${pod.metadata.name}`;
  c.kube.pods.set(key, admitted);
  const container = admitted.spec.containers[0];
  const env: Record<string, string> = Object.fromEntries(
    (container.env ?? []).map((e: any) => [e.name, String(e.value ?? '')]),
  );
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'akswi-pod-'));
  try {
    if (env.AZURE_FEDERATED_TOKEN_FILE) {
      const audience = env.AZURE_KUBERNETES_TOKEN_PROXY ? IDENTITY_BINDING_AUDIENCE : TOKEN_EXCHANGE_AUDIENCE;
      const file = path.join(dir, 'token');
      fs.writeFileSync(file, serviceAccountToken(c, ns, sa, [audience], 3600).token, { mode: 0o600 });
      env.AZURE_FEDERATED_TOKEN_FILE = file;
    }
    if (env.AZURE_KUBERNETES_TOKEN_PROXY) {
      env.AZURE_KUBERNETES_TOKEN_PROXY = net.proxyUrl;
      env.AZURE_KUBERNETES_SNI_NAME = PROXY_SNI_NAME;
      env.AZURE_KUBERNETES_CA_FILE = net.caPath;
    }
    // The pod's DNS: every vault's name is this machine; its CA is the one Azure's certificates chain to here.
    fs.writeFileSync(
      path.join(dir, '.curlrc'),
      [
        ...net.vaultNames.map((v) => `resolve = ${v}.${VAULT_DOMAIN}:${net.vaultPort}:127.0.0.1`),
        `cacert = ${net.caPath}`,
      ].join('\n') + '\n',
    );
    const [cmd, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
    const output = await new Promise<string>((resolve) => {
      const child = spawn(cmd, args, {
        env: { ...env, PATH: '/usr/bin:/bin', HOME: dir, CURL_HOME: dir, TMPDIR: dir },
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', () => resolve(out));
      child.on('error', (e) => resolve(`exec: ${e.message}\n`));
    });
    return `${output}akswi-result pod Succeeded \n`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    c.kube.pods.delete(key);
  }
}
