/**
 * The simulated AKS identity-binding proxy, reached by a client nobody here wrote: @azure/identity's
 * WorkloadIdentityCredential with its Azure proxy option (4.14), configured by the variables the webhook injects, as
 * an app in a pod would be. The ServiceAccount token is held in memory (/dev/shm) for the test's length only.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkloadIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { PROXY_SNI_NAME } from '../sim/aksProxy';
import { IDENTITY_BINDING_AUDIENCE } from '../sim/arm/identityBindings';
import { VAULT_RESOURCE, serviceAccountToken } from '../sim/entra';
import { bindOrdersThroughIdentityBinding, withSim } from './helpers';

describe("AKS's identity-binding proxy, as the real WorkloadIdentityCredential reaches it", () => {
  let env: Awaited<ReturnType<typeof withSim>>;
  let dir: string;
  const saved: Record<string, string | undefined> = {};
  const proxyEnv = ['AZURE_KUBERNETES_TOKEN_PROXY', 'AZURE_KUBERNETES_SNI_NAME', 'AZURE_KUBERNETES_CA_FILE'];
  const cluster = () => [...env.sim.state.clusters.values()].find((c) => c.name === 'aks-payments')!;

  before(async () => {
    env = await withSim({
      config: { credentialWriteMs: 0, principalReplicationMs: 0, identityBindingMs: 20, pollRetryAfterSeconds: 0 },
    });
    await bindOrdersThroughIdentityBinding(env);
    for (const k of proxyEnv) saved[k] = process.env[k];
    // What the webhook injects (v1.6 and later), pointed at this machine.
    process.env.AZURE_KUBERNETES_TOKEN_PROXY = env.sim.info.aksProxyUrl;
    process.env.AZURE_KUBERNETES_SNI_NAME = PROXY_SNI_NAME;
    process.env.AZURE_KUBERNETES_CA_FILE = env.sim.info.caPath;
    dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'akswi-proxy-'));
  });
  after(async () => {
    for (const k of proxyEnv)
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    fs.rmSync(dir ?? '/nonexistent', { recursive: true, force: true });
    await env?.sim.stop();
  });

  /** The credential as the app in a pod of orders/orders-api makes it, with the token the kubelet projects. */
  const credential = (audience = IDENTITY_BINDING_AUDIENCE) => {
    const id = [...env.sim.state.identities.values()].find((r) => r.resource.name === 'id-orders')!.resource.properties;
    const tokenFilePath = path.join(dir, 'azure-identity-token');
    fs.writeFileSync(tokenFilePath, serviceAccountToken(cluster(), 'orders', 'orders-api', [audience], 3600).token, {
      mode: 0o600,
    });
    return new WorkloadIdentityCredential({
      tenantId: id.tenantId,
      clientId: id.clientId,
      tokenFilePath,
      enableAzureProxy: true,
      authorityHost: env.sim.info.loginUrl,
    });
  };

  it('exchanges through the proxy, and Key Vault answers the token it got as it answers the identity', async () => {
    env.sim.log.length = 0;
    const cred = credential();
    const token = await cred.getToken(`${VAULT_RESOURCE}/.default`);
    assert.ok(token?.token, 'a Key Vault token');
    const ops = env.sim.log.map((l) => `${l.server} ${l.op} ${l.status}`);
    assert.ok(ops.includes('aksProxy aksProxy.token 200'), ops.join('\n'));
    assert.ok(!ops.some((o) => o.startsWith('login ')), 'nothing went to Entra ID directly');
    const vault = [...env.sim.state.vaults.values()].find((v) => v.name === 'kv-payments')!;
    const client = new SecretClient(vault.properties.vaultUri, cred);
    await assert.rejects(client.getSecret('akswi-no-such-secret'), (e: any) => e.statusCode === 404);
  });

  it("refuses a ServiceAccount RBAC does not let use the identity, and a token for Entra ID's own audience", async () => {
    const bindings = new Map(cluster().kube.clusterRoleBindings);
    cluster().kube.clusterRoleBindings.clear();
    try {
      await assert.rejects(credential().getToken(`${VAULT_RESOURCE}/.default`), (e: Error) =>
        /User "system:serviceaccount:orders:orders-api" cannot use-managed-identity resource/.test(e.message),
      );
    } finally {
      for (const [k, v] of bindings) cluster().kube.clusterRoleBindings.set(k, v);
    }
    await assert.rejects(credential('api://AzureADTokenExchange').getToken(`${VAULT_RESOURCE}/.default`), (e: Error) =>
      /the identity binding proxy takes 'api:\/\/AKSIdentityBinding'/.test(e.message),
    );
  });
});
