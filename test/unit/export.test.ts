import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from '@cdktf/hcl2json';
import { parseAllDocuments } from 'yaml';
import type { BindRequest } from '../../src/workloadIdentity/bind/model';
import type { FleetRequest } from '../../src/workloadIdentity/bind/fleet';
import type { ClusterSummary } from '../../src/workloadIdentity/cluster';
import { bindingSpec } from '../../src/workloadIdentity/export/model';
import { azScript, bicep, terraform } from '../../src/workloadIdentity/export/formats';
import { roleAssignmentName } from '../../src/workloadIdentity/names';

const SUB = '11111111-1111-4111-8111-111111111111';
const VAULT_SUB = '22222222-2222-4222-8222-222222222222';
const cluster = (o: Partial<ClusterSummary> = {}): ClusterSummary => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-1`,
  subscriptionId: SUB,
  resourceGroup: 'rg-aks',
  name: 'aks-1',
  location: 'eastus',
  oidcIssuerEnabled: true,
  workloadIdentityEnabled: true,
  entraId: false,
  private: false,
  issuerUrl: 'https://eastus.oic.prod-aks.azure.com/t/c/',
  ...o,
});
function request(o: { rbac: boolean; existing: boolean; cluster?: Partial<ClusterSummary> }): BindRequest {
  return {
    cluster: cluster(o.cluster),
    namespace: 'orders',
    serviceAccount: 'orders-api',
    vault: {
      id: `/subscriptions/${VAULT_SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-1`,
      subscriptionId: VAULT_SUB,
      resourceGroup: 'rg-kv',
      name: 'kv-1',
      location: 'eastus',
      rbac: o.rbac,
    },
    identity: o.existing
      ? {
          kind: 'existing',
          identity: {
            id: `/subscriptions/${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1`,
            subscriptionId: SUB,
            resourceGroup: 'rg-id',
            name: 'id-1',
            location: 'eastus',
            clientId: 'c',
            principalId: 'p',
            tenantId: 't',
          },
        }
      : { kind: 'new', subscriptionId: SUB, resourceGroup: 'rg-id', name: 'id-1', location: 'eastus' },
    permissions: ['secrets', 'keys', 'certificates'],
  };
}

const variants = [
  { name: 'public cluster', cluster: {} },
  { name: 'Entra ID cluster', cluster: { entraId: true } },
  { name: 'private cluster', cluster: { private: true } },
];

describe('Export as code', () => {
  for (const rbac of [false, true])
    for (const existing of [false, true])
      for (const v of variants) {
        const label = `${rbac ? 'RBAC' : 'access policies'}, ${existing ? 'existing' : 'new'} identity, ${v.name}`;
        const spec = bindingSpec(request({ rbac, existing, cluster: v.cluster }));

        it(`az script: ${label}`, () => {
          const { content } = azScript(spec);
          execFileSync('bash', ['-n'], { input: content }); // bash parses it
          assert.match(content, /^#!\/usr\/bin\/env bash\n# An az CLI and kubectl script/);
          assert.match(content, /\nset -euo pipefail\n/);
          assert.match(
            content,
            /ISSUER="\$\(az aks show -g "\$CLUSTER_RG" -n "\$CLUSTER" --query oidcIssuerProfile.issuerUrl -o tsv\)"/,
          );
          assert.match(
            content,
            /ENABLED="\$\(az aks show .*securityProfile\.workloadIdentity\.enabled" -o tsv\)"\n {2}if \[ "\$ENABLED" != "true" \]; then\n[^]*?version_at_least "\$AZ_VERSION" 2\.47\.0[^]*?\n {4}az aks update .* --enable-oidc-issuer --enable-workload-identity/,
          );
          assert.match(
            content,
            /FOUND="\$\(az identity list -g "\$IDENTITY_RG" --query "length\(\[\?name=='\$IDENTITY'\]\)" -o tsv\)"\nif \[ "\$FOUND" = "0" \]; then\n {2}az identity create/,
          );
          assert.doesNotMatch(content, /az keyvault set-policy[^\n]*--spn/);
          if (rbac) {
            assert.equal(
              content.match(
                /az rest --method put --url "\$VAULT_ID\/providers\/Microsoft\.Authorization\/roleAssignments\/\$\(assignment_name "\$VAULT_ID" [0-9a-f-]{36} "\$PRINCIPAL_ID"\)\?api-version=2022-04-01"/g,
              )?.length,
              3,
            );
            assert.equal(content.match(/\\"principalType\\": \\"ServicePrincipal\\"/g)?.length, 3);
            assert.doesNotMatch(content, /set-policy/);
          } else {
            assert.equal(
              content.match(
                /az keyvault set-policy -g "\$VAULT_RG" -n "\$VAULT" --object-id "\$PRINCIPAL_ID" --(secret|key|certificate)-permissions get/g,
              )?.length,
              3,
            );
          }
          assert.match(content, /--field-manager=aks-workload-identity/);
          assert.equal(/az aks command invoke/.test(content), !!v.cluster.private);
          assert.equal(/kubelogin convert-kubeconfig/.test(content), !!v.cluster.entraId);
          assert.match(
            content,
            /length\(\[\?issuer=='\$ISSUER' && subject=='\$SUBJECT'\]\)" -o tsv\)"\n {2}if \[ "\$EXISTING" = "0" \]; then\n {4}az identity federated-credential create .* --audiences api:\/\/AzureADTokenExchange/,
          );
          const access = v.cluster.private ? 'private' : v.cluster.entraId ? 'entra' : 'public';
          assert.ok(
            content.includes(`\nCLUSTERS=(\n  '${SUB} rg-aks aks-1 fic-aks-1-orders-orders-api ${access}'\n)\n`),
            'one row for the cluster',
          );
        });

        it(`Terraform: ${label}`, async () => {
          const { content } = terraform(spec);
          const tf: any = await parse('main.tf', content);
          const id = existing ? '${data.azurerm_user_assigned_identity.this' : '${azurerm_user_assigned_identity.this';
          if (existing)
            assert.deepEqual(tf.data.azurerm_user_assigned_identity.this[0], {
              provider: '${azurerm.identity}',
              name: 'id-1',
              resource_group_name: 'rg-id',
            });
          else
            assert.deepEqual(tf.resource.azurerm_user_assigned_identity.this[0], {
              provider: '${azurerm.identity}',
              name: 'id-1',
              resource_group_name: 'rg-id',
              location: 'eastus',
              tags: { 'created-by': 'vscode-aks-workload-identity' },
            });
          assert.deepEqual(tf.locals[0].clusters, {
            'aks-1': { resource_group_name: 'rg-aks', credential_name: 'fic-aks-1-orders-orders-api' },
          });
          assert.deepEqual(tf.data.azurerm_kubernetes_cluster.this[0], {
            for_each: '${local.clusters}',
            name: '${each.key}',
            resource_group_name: '${each.value.resource_group_name}',
          });
          assert.deepEqual(tf.resource.azurerm_federated_identity_credential.this[0], {
            provider: '${azurerm.identity}',
            for_each: '${local.clusters}',
            name: '${each.value.credential_name}',
            resource_group_name: 'rg-id',
            parent_id: `${id}.id}`,
            issuer: '${data.azurerm_kubernetes_cluster.this[each.key].oidc_issuer_url}',
            subject: 'system:serviceaccount:orders:orders-api',
            audience: ['api://AzureADTokenExchange'],
          });
          if (rbac) {
            assert.equal(tf.resource.azurerm_key_vault_access_policy, undefined);
            for (const kind of ['secrets', 'keys', 'certificates']) {
              const ra = tf.resource.azurerm_role_assignment[kind][0];
              assert.equal(ra.scope, '${data.azurerm_key_vault.this.id}');
              assert.match(
                ra.role_definition_id,
                new RegExp(
                  `^/subscriptions/${VAULT_SUB}/providers/Microsoft.Authorization/roleDefinitions/[0-9a-f-]{36}$`,
                ),
              );
              assert.equal(ra.principal_id, `${id}.principal_id}`);
              assert.equal(ra.principal_type, 'ServicePrincipal');
              assert.equal(ra.skip_service_principal_aad_check, true);
            }
          } else {
            assert.deepEqual(tf.resource.azurerm_key_vault_access_policy.this[0], {
              provider: '${azurerm.vault}',
              key_vault_id: '${data.azurerm_key_vault.this.id}',
              tenant_id: `${id}.tenant_id}`,
              object_id: `${id}.principal_id}`,
              secret_permissions: ['Get'],
              key_permissions: ['Get'],
              certificate_permissions: ['Get'],
            });
          }
          const sa = tf.resource.kubernetes_service_account_v1.this[0].metadata[0];
          assert.deepEqual(sa, {
            name: 'orders-api',
            namespace: 'orders',
            annotations: {
              'azure.workload.identity/client-id': `${id}.client_id}`,
              'azure.workload.identity/tenant-id': `${id}.tenant_id}`,
            },
          });
          const k8s = tf.provider.kubernetes[0];
          assert.equal(!!k8s.exec, !!v.cluster.entraId, 'kubelogin for Entra ID clusters');
          assert.deepEqual(
            tf.provider.azurerm.map((p: any) => p.subscription_id),
            [SUB, SUB, VAULT_SUB],
          );
        });

        it(`Bicep: ${label}`, () => {
          const [main, grant] = bicep(spec);
          for (const f of [main, grant]) {
            const code = f.content
              .split('\n')
              .filter((l) => !l.trim().startsWith('//'))
              .join('\n')
              .replace(/'(?:[^'\\]|\\.)*'/g, "''");
            assert.equal(
              (code.match(/\{/g) ?? []).length,
              (code.match(/\}/g) ?? []).length,
              `${f.name}: braces balance`,
            );
            assert.equal(
              (code.match(/\[/g) ?? []).length,
              (code.match(/\]/g) ?? []).length,
              `${f.name}: brackets balance`,
            );
            assert.match(f.content, /\ntargetScope = 'resourceGroup'\n/);
          }
          assert.match(
            main.content,
            /resource cluster 'Microsoft\.ContainerService\/managedClusters@[\d-]+' existing = \[\n {2}for c in clusters: \{/,
          );
          assert.doesNotMatch(main.content, /managedClusters@[\d-]+' =/, 'the cluster is never deployed');
          assert.match(
            main.content,
            /a partial Microsoft\.ContainerService\/managedClusters resource would replace the rest of the cluster/,
          );
          assert.equal(
            /resource identity 'Microsoft\.ManagedIdentity\/userAssignedIdentities@[\d-]+' existing = \{/.test(
              main.content,
            ),
            existing,
          );
          assert.match(
            main.content,
            /@batchSize\(1\)\nresource credential '[^']+' = \[\n {2}for \(c, i\) in clusters: \{\n {4}parent: identity\n {4}name: c\.credentialName\n {4}properties: \{\n {6}issuer: cluster\[i\]\.properties\.oidcIssuerProfile\.issuerURL\n {6}subject: 'system:serviceaccount:orders:orders-api'\n {6}audiences: \[\n {8}'api:\/\/AzureADTokenExchange'\n {6}\]/,
          );
          assert.match(
            main.content,
            new RegExp(
              `module grant 'grant.bicep' = \\{\\n  name: take\\('grant-id-1', 64\\)\\n  scope: resourceGroup\\('${VAULT_SUB}', 'rg-kv'\\)`,
            ),
          );
          if (rbac) {
            assert.equal(
              grant.content.match(
                /name: guid\(vault\.id, '[0-9a-f-]{36}', principalId\)\n {2}scope: vault\n {2}properties: \{\n {4}roleDefinitionId: subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', '[0-9a-f-]{36}'\)\n {4}principalId: principalId\n {4}principalType: 'ServicePrincipal'/g,
              )?.length,
              3,
            );
          } else {
            assert.match(
              grant.content,
              /resource policy 'Microsoft\.KeyVault\/vaults\/accessPolicies@[\d-]+' = \{\n {2}parent: vault\n {2}name: 'add'/,
            );
            assert.match(
              grant.content,
              /secrets: \[\n {12}'get'\n {10}\]\n {10}keys: \[\n {12}'get'\n {10}\]\n {10}certificates: \[\n {12}'get'\n {10}\]/,
            );
          }
        });
      }

  it('the script checks its tools before anything else, and names what is missing', () => {
    for (const v of variants) {
      const { content } = azScript(bindingSpec(request({ rbac: true, existing: false, cluster: v.cluster })));
      const preflight = content.slice(content.indexOf('# 0. The tools'), content.indexOf('# 1. '));
      assert.match(preflight, /\nneed az 'the Azure CLI, 2\.47\.0 or later/);
      assert.equal(/\nneed kubectl /.test(preflight), !v.cluster.private, v.name);
      assert.equal(/\nneed kubelogin /.test(preflight), !!v.cluster.entraId, v.name);
      assert.ok(
        content.indexOf('version_at_least "$AZ_VERSION" 2.47.0') < content.indexOf('az aks update'),
        'the version is checked before the update',
      );
    }
    // Run with a PATH that has az but no kubectl: it stops at the check, before az is asked anything.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'akswi-tools-'));
    try {
      const calls = path.join(dir, 'az-calls');
      fs.writeFileSync(path.join(dir, 'az'), `#!/bin/bash\necho "$*" >> ${calls}\necho 2.45.0\n`, { mode: 0o755 });
      for (const tool of ['sort', 'head', 'mktemp', 'rm', 'cat'])
        fs.symlinkSync(
          execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(),
          path.join(dir, tool),
        );
      const file = path.join(dir, 'bind.sh');
      fs.writeFileSync(file, azScript(bindingSpec(request({ rbac: true, existing: false }))).content);
      const run = spawnSync('/bin/bash', [file], { env: { PATH: dir }, encoding: 'utf8' });
      assert.equal(run.status, 1);
      assert.equal(
        run.stderr.trim(),
        'This script needs kubectl (az aks install-cli installs it). Nothing was changed.',
      );
      assert.equal(fs.existsSync(calls), false, 'az was not called');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the script names role assignments as Bind does, so Bind, a rerun and Remove recognise them', async () => {
    const { content } = azScript(bindingSpec(request({ rbac: true, existing: false })));
    const fn = /assignment_name\(\) \{[\s\S]*?\n\}/.exec(content)![0];
    const scope = '/subscriptions/X/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/KV',
      role = '4633458b-17de-408a-b874-0445c86b69e6',
      principal = 'A1B2C3D4-0000-4000-8000-000000000001';
    const out = execFileSync('bash', ['-c', `${fn}\nassignment_name '${scope}' ${role} '${principal}'`], {
      encoding: 'utf8',
    }).trim();
    assert.equal(out, roleAssignmentName(scope, role, principal));
  });

  it('only the kinds chosen are granted, in every format', async () => {
    const spec = bindingSpec({ ...request({ rbac: false, existing: false }), permissions: ['secrets'] });
    assert.equal(azScript(spec).content.match(/az keyvault set-policy/g)?.length, 1);
    const tf: any = await parse('main.tf', terraform(spec).content);
    assert.deepEqual(
      Object.keys(tf.resource.azurerm_key_vault_access_policy.this[0]).filter((k) => k.endsWith('_permissions')),
      ['secret_permissions'],
    );
    assert.doesNotMatch(bicep(spec)[1].content, /keys:/);
  });
});

describe('Export as code, several clusters', () => {
  const OTHER_SUB = '33333333-3333-4333-8333-333333333333';
  const fleet = (rbac: boolean): FleetRequest => {
    const { cluster: _one, ...rest } = request({ rbac, existing: false });
    return {
      ...rest,
      clusters: [
        cluster(),
        cluster({ name: 'aks-2', entraId: true, id: cluster().id.replace('aks-1', 'aks-2') }),
        cluster({
          name: 'aks-3',
          private: true,
          subscriptionId: OTHER_SUB,
          resourceGroup: 'rg-west',
          workloadIdentityEnabled: false,
          id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-west/providers/Microsoft.ContainerService/managedClusters/aks-3`,
        }),
      ],
    };
  };

  it('az script: one row per cluster, the identity and grant once, each cluster reached its own way', () => {
    const { name, content } = azScript(bindingSpec(fleet(true)));
    execFileSync('bash', ['-n'], { input: content });
    assert.equal(name, 'bind-3-clusters-orders-orders-api.sh');
    assert.match(content, /on clusters aks-1, aks-2 and aks-3 get on/);
    assert.ok(
      content.includes(
        [
          'CLUSTERS=(',
          `  '${SUB} rg-aks aks-1 fic-aks-1-orders-orders-api public'`,
          `  '${SUB} rg-aks aks-2 fic-aks-2-orders-orders-api entra'`,
          `  '${OTHER_SUB} rg-west aks-3 fic-aks-3-orders-orders-api private'`,
          ')',
        ].join('\n'),
      ),
    );
    assert.equal(content.match(/az identity create/g)?.length, 1, 'the identity once');
    assert.equal(content.match(/az rest --method put/g)?.length, 3, 'each role once');
    // Both ways into a cluster, chosen per row; kubelogin only for the Entra ID one.
    assert.match(
      content,
      /if \[ "\$ACCESS" = private \]; then in_cluster "kubectl apply [^"]*-f serviceaccount\.yaml" --file "\$WORK\/serviceaccount\.yaml"; else kubectl --kubeconfig "\$KUBECONFIG_FILE" apply /,
    );
    assert.match(content, /if \[ "\$ACCESS" = entra \]; then kubelogin convert-kubeconfig/);
    assert.match(content, /\nneed kubectl .*\nneed kubelogin /);
    // Credentials one cluster after another, after the identity exists.
    assert.ok(content.indexOf('az identity create') < content.indexOf('az identity federated-credential create'));
    assert.equal(content.match(/az identity federated-credential create/g)?.length, 1, 'in the loop');
  });

  it('Terraform: for_each over the clusters, one data source per subscription, a provider per cluster', async () => {
    const { name, content } = terraform(bindingSpec(fleet(false)));
    assert.equal(name, 'bind-3-clusters-orders-orders-api.tf');
    const tf: any = await parse('main.tf', content);
    assert.deepEqual(Object.keys(tf.locals[0].clusters), ['aks-1', 'aks-2', 'aks-3']);
    assert.equal(tf.locals[0].clusters['aks-3'].subscription_id, OTHER_SUB);
    assert.deepEqual(Object.keys(tf.data.azurerm_kubernetes_cluster), ['this', 'this_2']);
    assert.equal(tf.data.azurerm_kubernetes_cluster.this_2[0].provider, '${azurerm.clusters_2}');
    assert.match(
      tf.data.azurerm_kubernetes_cluster.this_2[0].for_each,
      new RegExp(`c.subscription_id == "${OTHER_SUB}"`),
    );
    assert.deepEqual(
      tf.provider.azurerm.map((p: any) => [p.alias, p.subscription_id]),
      [
        [undefined, SUB],
        ['clusters_2', OTHER_SUB],
        ['identity', SUB],
        ['vault', VAULT_SUB],
      ],
    );
    const credential = tf.resource.azurerm_federated_identity_credential.this[0];
    assert.equal(credential.for_each, '${local.clusters}');
    assert.match(credential.issuer, /^\$\{merge\(.*data\.azurerm_kubernetes_cluster\.this_2.*\)\[each\.key\]\}$/);
    assert.deepEqual(
      tf.provider.kubernetes.map((p: any) => [p.alias, !!p.exec]),
      [
        ['aks-1', false],
        ['aks-2', true],
        ['aks-3', false],
      ],
    );
    assert.match(tf.provider.kubernetes[2].host, /data\.azurerm_kubernetes_cluster\.this_2\["aks-3"\]/);
    assert.deepEqual(Object.keys(tf.resource.kubernetes_service_account_v1), ['aks-1', 'aks-2', 'aks-3']);
    assert.equal(tf.resource.kubernetes_service_account_v1['aks-2'][0].provider, '${kubernetes.aks-2}');
    assert.equal(tf.resource.azurerm_user_assigned_identity.this.length, 1, 'the identity once');
  });

  it('Bicep: a loop over the clusters, credentials one at a time', () => {
    const [main] = bicep(bindingSpec(fleet(true)));
    const param = /param clusters array = \[\n([^]*?)\n\]/.exec(main!.content)![1]!;
    assert.equal(param.match(/credentialName: 'fic-aks-\d-orders-orders-api'/g)?.length, 3);
    assert.match(
      param,
      new RegExp(`subscriptionId: '${OTHER_SUB}'\\n {4}resourceGroup: 'rg-west'\\n {4}name: 'aks-3'`),
    );
    assert.match(main!.content, /\n@batchSize\(1\)\nresource credential /);
    assert.match(main!.content, /az aks update -g rg-west -n aks-3 --enable-oidc-issuer --enable-workload-identity/);
    assert.doesNotMatch(main!.content, /az aks update -g rg-aks/, 'only the cluster that needs it');
  });
});

describe('Export as code, identity bindings', () => {
  const OTHER_SUB = '33333333-3333-4333-8333-333333333333';
  const spec = (existing: boolean) => {
    const { cluster: _one, ...rest } = request({ rbac: true, existing });
    return bindingSpec({
      ...rest,
      mode: 'identityBinding',
      clusters: [
        cluster(),
        cluster({
          name: 'aks-3',
          private: true,
          subscriptionId: OTHER_SUB,
          resourceGroup: 'rg-west',
          id: `/subscriptions/${OTHER_SUB}/resourceGroups/rg-west/providers/Microsoft.ContainerService/managedClusters/aks-3`,
        }),
      ],
    } as FleetRequest);
  };

  it('az script: the identity binding through az rest and followed, AKS credential checked, RBAC with the subjects read back; no credential of its own', () => {
    const { content } = azScript(spec(false));
    execFileSync('bash', ['-n'], { input: content });
    assert.doesNotMatch(content, /federated-credential create/);
    assert.match(content, /az rest --method put --url "\$BINDINGS_URL\/\$IDENTITY_BINDING\?api-version=2026-06-01"/);
    assert.match(content, /\nIDENTITY_BINDING='id-1'\n/);
    assert.match(content, /STATE="\$\(az rest --method get .* --query properties\.provisioningState -o tsv\)"/);
    assert.match(content, /length\(\[\?name=='aks-identity-binding'\]\)/);
    assert.match(content, /\{range \.subjects\[\*\]\}\{\.kind\}:\{\.namespace\}:\{\.name\} \{end\}/);
    assert.match(content, /verbs: \["use-managed-identity"\]/);
    assert.match(content, /and an identity binding on each cluster: what Bind does/);
  });

  it('Bicep: a module per cluster at its resource group, and the RBAC as a Kubernetes file', () => {
    const files = bicep(spec(true));
    assert.deepEqual(
      files.map((f) => f.name),
      ['main.bicep', 'grant.bicep', 'identityBinding.bicep', 'rbac.yaml'],
    );
    const [main, , module, rbac] = files;
    assert.doesNotMatch(main!.content, /federatedIdentityCredentials/);
    assert.match(
      main!.content,
      /module binding 'identityBinding\.bicep' = \[\n {2}for c in clusters: \{\n {4}name: take\('ib-\$\{c\.name\}', 64\)\n {4}scope: resourceGroup\(c\.subscriptionId, c\.resourceGroup\)/,
    );
    assert.match(
      module!.content,
      /resource binding 'Microsoft\.ContainerService\/managedClusters\/identityBindings@2026-06-01' = \{\n {2}parent: cluster/,
    );
    for (const f of [main!, module!]) {
      const code = f.content
        .split('\n')
        .filter((l) => !l.trim().startsWith('//'))
        .join('\n')
        .replace(/'(?:[^'\\]|\\.)*'/g, "''");
      assert.equal((code.match(/\{/g) ?? []).length, (code.match(/\}/g) ?? []).length, `${f.name}: braces balance`);
    }
    // The identity exists: its client id is in the RBAC file; the objects parse as Kubernetes YAML.
    const docs = parseAllDocuments(rbac!.content).map((d) => d.toJS());
    assert.deepEqual(
      docs.map((d) => [d.kind, d.metadata.name]),
      [
        ['ClusterRole', 'use-mi-c'],
        ['ClusterRoleBinding', 'use-mi-c'],
      ],
    );
    assert.deepEqual(docs[1].subjects, [{ kind: 'ServiceAccount', name: 'orders-api', namespace: 'orders' }]);
    assert.match(bicep(spec(false))[3]!.content, /Replace \$\{CLIENT_ID\}/);
  });

  it('Terraform: azapi identity bindings for_each cluster, and the RBAC per cluster; no credential resource', async () => {
    const tf: any = await parse('main.tf', terraform(spec(false)).content);
    assert.equal(tf.resource.azurerm_federated_identity_credential, undefined);
    assert.ok(tf.terraform[0].required_providers[0].azapi);
    const binding = tf.resource.azapi_resource.identity_binding[0];
    assert.equal(binding.for_each, '${local.clusters}');
    assert.equal(binding.type, 'Microsoft.ContainerService/managedClusters/identityBindings@2026-06-01');
    assert.match(binding.parent_id, /^\$\{merge\(.*\.id \}.*\)\[each\.key\]\}$/);
    assert.deepEqual(binding.body, {
      properties: { managedIdentity: { resourceId: '${azurerm_user_assigned_identity.this.id}' } },
    });
    assert.deepEqual(Object.keys(tf.resource.kubernetes_cluster_role_binding_v1), ['aks-1', 'aks-3']);
    assert.equal(tf.resource.kubernetes_cluster_role_v1['aks-3'][0].provider, '${kubernetes.aks-3}');
    assert.deepEqual(tf.resource.kubernetes_cluster_role_v1['aks-1'][0].rule[0].verbs, ['use-managed-identity']);
  });
});
