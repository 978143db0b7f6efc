import * as assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { IDENTITY_BINDING_AUDIENCE, IDENTITY_BINDING_CREDENTIAL } from '../../src/azure/identityBindings';
import { parseResourceId } from '../../src/azure/resourceId';
import {
  mayUseIdentity,
  rbacObjectName,
  useIdentityBinding,
  useIdentityRole,
  withoutServiceAccount,
} from '../../src/workloadIdentity/identityBindingAccess';
import { bindingsThrough } from '../../src/workloadIdentity/binding';
import { SUB_PROD, addIdentity } from '../sim/seed';
import { simCloud, simCredential, withSim } from './helpers';

type Env = Awaited<ReturnType<typeof withSim>>;

describe('identity bindings in the simulated Azure, through @azure/arm-containerservice 25.5.0', () => {
  let env: Env;
  const clusterRef = (name: string) =>
    parseResourceId([...env.sim.state.clusters.values()].find((c) => c.name === name)!.resource.id);
  let identityId: string;

  before(async () => {
    env = await withSim({ config: { identityBindingMs: 100, pollRetryAfterSeconds: 0 } });
  });
  after(() => env?.sim.stop());
  beforeEach(() => {
    env.sim.reset();
    identityId = addIdentity(env.sim.state, SUB_PROD, 'rg-payments', 'id-shared').resource.id;
  });
  const identityRec = () => [...env.sim.state.identities.values()].find((r) => r.resource.id === identityId)!;

  it('a PUT is a long-running operation; when it succeeds, AKS has put its one credential on the identity, shared by every binding of it', async () => {
    const gateway = env.services.identityBindings;
    const progress: string[] = [];
    const first = await gateway.put(clusterRef('aks-payments'), 'id-shared', identityId, {
      onProgress: (s) => progress.push(s),
    });
    assert.equal(first.provisioningState, 'Succeeded');
    assert.ok(progress.includes('running'), progress.join(', '));
    const { clientId, tenantId } = identityRec().resource.properties;
    assert.equal(first.issuerUrl, `https://ib.oic.prod-aks.azure.com/${tenantId}/${clientId}`);
    assert.equal(first.clientId, clientId);
    const credential = identityRec().credentials.get(IDENTITY_BINDING_CREDENTIAL)!;
    assert.deepEqual(credential.properties.audiences, [IDENTITY_BINDING_AUDIENCE]);
    assert.equal(credential.properties.issuer, first.issuerUrl);

    const second = await gateway.put(clusterRef('aks-entra'), 'id-shared', identityId);
    assert.equal(second.issuerUrl, first.issuerUrl, 'the same issuer for every binding of the identity');
    assert.equal(identityRec().credentials.size, 1, 'one credential, however many clusters');

    assert.deepEqual(
      (await gateway.list(clusterRef('aks-payments'))).map((b) => [b.name, b.identityId.toLowerCase()]),
      [['id-shared', identityId.toLowerCase()]],
    );
    await gateway.delete(clusterRef('aks-payments'), 'id-shared');
    await gateway.delete(clusterRef('aks-entra'), 'id-shared');
    assert.equal(await gateway.find(clusterRef('aks-payments'), 'id-shared'), undefined);
    assert.ok(identityRec().credentials.has(IDENTITY_BINDING_CREDENTIAL), 'AKS does not delete its credential');
  });

  it('refuses a cluster whose API server uses VNet integration, and names why', async () => {
    const c = [...env.sim.state.clusters.values()].find((x) => x.name === 'aks-payments')!;
    c.resource.properties.apiServerAccessProfile = { enableVnetIntegration: true };
    await assert.rejects(
      env.services.identityBindings.put(clusterRef('aks-payments'), 'id-shared', identityId),
      (e: any) => {
        assert.equal(e.statusCode, 400);
        assert.match(e.message, /VNet integration/);
        return true;
      },
    );
    assert.equal(identityRec().credentials.size, 0);
  });

  it('refuses an api-version from before identity bindings', async () => {
    const old = new ContainerServiceClient(simCredential(env.sim), SUB_PROD, {
      endpoint: simCloud(env.sim).resourceManagerEndpoint,
      apiVersion: '2025-10-01',
      credentials: { scopes: [`${simCloud(env.sim).resourceManagerEndpoint}.default`] },
    } as any);
    await assert.rejects(old.identityBindings.get('rg-payments', 'aks-payments', 'id-shared'), (e: any) => {
      assert.equal(e.code, 'InvalidResourceType');
      return true;
    });
  });
});

describe('identity bindings: who may use the identity (Kubernetes RBAC)', () => {
  const CLIENT = '6f1c2b0e-0c5e-4c1e-9a53-8a3f2b1e9d10';
  const sa = { namespace: 'orders', name: 'orders-api' };
  const role = useIdentityRole(CLIENT);

  it('the objects are named use-mi-<client-id>; adding a ServiceAccount keeps the other subjects, once', () => {
    assert.equal(role.metadata.name, `use-mi-${CLIENT}`);
    assert.deepEqual(role.rules, [
      { apiGroups: ['cid.wi.aks.azure.com'], resources: [CLIENT], verbs: ['use-managed-identity'] },
    ]);
    const others = [{ kind: 'Group', name: 'platform-team' }];
    const binding = useIdentityBinding(CLIENT, others, sa);
    assert.deepEqual(binding.subjects, [
      ...others,
      { kind: 'ServiceAccount', name: 'orders-api', namespace: 'orders' },
    ]);
    assert.deepEqual(
      useIdentityBinding(CLIENT, binding.subjects, sa).subjects,
      binding.subjects,
      'a rerun adds nothing',
    );
    assert.deepEqual(withoutServiceAccount(binding.subjects, sa), others);
    assert.equal(rbacObjectName(CLIENT.toUpperCase()), `use-mi-${CLIENT}`);
  });

  it('evaluates RBAC as the API server would: the ServiceAccount, its user name, its groups; the verb, the group and the client id must all match', () => {
    const bindingTo = (subjects: any[], roleName = role.metadata.name) => ({
      metadata: { name: 'b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects,
    });
    const cases: [string, any[], any[], boolean][] = [
      [
        'the ServiceAccount',
        [role],
        [bindingTo([{ kind: 'ServiceAccount', name: 'orders-api', namespace: 'orders' }])],
        true,
      ],
      [
        'another namespace',
        [role],
        [bindingTo([{ kind: 'ServiceAccount', name: 'orders-api', namespace: 'payments' }])],
        false,
      ],
      ['its user name', [role], [bindingTo([{ kind: 'User', name: 'system:serviceaccount:orders:orders-api' }])], true],
      ["its namespace's group", [role], [bindingTo([{ kind: 'Group', name: 'system:serviceaccounts:orders' }])], true],
      ['every ServiceAccount', [role], [bindingTo([{ kind: 'Group', name: 'system:serviceaccounts' }])], true],
      [
        "another namespace's group",
        [role],
        [bindingTo([{ kind: 'Group', name: 'system:serviceaccounts:payments' }])],
        false,
      ],
      [
        'a role for another client id',
        [useIdentityRole('00000000-0000-0000-0000-000000000001')],
        [bindingTo([{ kind: 'Group', name: 'system:serviceaccounts' }])],
        false,
      ],
      [
        'a wildcard role',
        [{ metadata: { name: 'all' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] }],
        [bindingTo([{ kind: 'Group', name: 'system:authenticated' }], 'all')],
        true,
      ],
      [
        'a role with another verb',
        [
          {
            metadata: { name: 'get' },
            rules: [{ apiGroups: ['cid.wi.aks.azure.com'], resources: [CLIENT], verbs: ['get'] }],
          },
        ],
        [bindingTo([{ kind: 'Group', name: 'system:serviceaccounts' }], 'get')],
        false,
      ],
      [
        'a binding to a role that does not exist',
        [],
        [bindingTo([{ kind: 'Group', name: 'system:serviceaccounts' }])],
        false,
      ],
    ];
    for (const [what, roles, bindings, allowed] of cases)
      assert.equal(mayUseIdentity(roles, bindings, sa, CLIENT).allowed, allowed, what);
  });
});

describe('the bindings an identity binding makes, as the tree lists them', () => {
  const CLIENT = '6f1c2b0e-0c5e-4c1e-9a53-8a3f2b1e9d10';
  it('each ServiceAccount that RBAC lets use the identity, once; groups name none; a role for another client id gives none', () => {
    const role = useIdentityRole(CLIENT);
    const other = useIdentityRole('00000000-0000-0000-0000-000000000001');
    const found = bindingsThrough(
      {
        name: 'id-orders',
        identityId:
          '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders',
      },
      { name: 'id-orders', clientId: CLIENT },
      {
        roles: [role, other],
        bindings: [
          useIdentityBinding(CLIENT, [{ kind: 'Group', name: 'system:serviceaccounts:ops' }], {
            namespace: 'orders',
            name: 'orders-api',
          }),
          {
            ...useIdentityBinding(CLIENT, [], { namespace: 'orders', name: 'orders-api' }),
            metadata: { name: 'again' },
          },
          { ...useIdentityBinding('00000000-0000-0000-0000-000000000001', [], { namespace: 'jobs', name: 'worker' }) },
        ],
      },
    );
    assert.deepEqual(
      found.map((b) => [`${b.namespace}/${b.serviceAccount}`, b.identityBinding, b.credentialName]),
      [['orders/orders-api', 'id-orders', 'aks-identity-binding']],
    );
  });
});
