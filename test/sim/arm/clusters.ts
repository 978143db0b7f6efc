/** Microsoft.ContainerService managed clusters: GET, PUT as a long-running operation, credentials. */
import { randomUUID } from 'node:crypto';
import type { Reply, RequestContext, Route } from '../http';
import { ClusterRecord, clone } from '../model';
import { AKS_SERVER_APP_ID, SimClaims } from '../tokens';
import { fail, CLUSTER_WORKLOAD_IDENTITY_FLAGS, unexpectedChanges, SUB, AKS, re, ArmKit } from './common';

export function clusterRoutes(kit: ArmKit): Route[] {
  const { claimsOf, clusterById, config, ctx, inRg, iso, now, ok, page, settle, state } = kit;
  const allClusters = () => [...state.clusters.values()].map((c) => (settle(c), c));

  const putCluster = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    const body = req.json();
    const c = clusterById(sub, rg, name); // this fake updates clusters; it does not create them
    if (c.operation?.status === 'InProgress') {
      fail(
        409,
        'OperationNotAllowed',
        `Operation is not allowed because there's an in progress update managed cluster operation on the managed cluster started at ${c.operation.startTime}.`,
      );
    }
    if (!body.location) fail(400, 'InvalidParameter', "The value of parameter 'location' is invalid: it is required.");
    if (!body.properties || typeof body.properties !== 'object')
      fail(400, 'InvalidParameter', "The value of parameter 'properties' is required.");
    const p = body.properties;
    const oidcBefore = !!c.resource.properties.oidcIssuerProfile?.enabled;
    const oidcAfter = !!p.oidcIssuerProfile?.enabled;
    if (oidcBefore && !oidcAfter)
      fail(400, 'InvalidParameter', 'OIDC issuer cannot be disabled once it has been enabled.');
    if (p.securityProfile?.workloadIdentity?.enabled && !oidcAfter) {
      fail(400, 'InvalidParameter', 'Enabling workload identity requires enabling OIDC issuer.');
    }
    const changes = unexpectedChanges(c.resource, body, CLUSTER_WORKLOAD_IDENTITY_FLAGS);
    if (changes.length) {
      c.violations.push(...changes);
      fail(
        400,
        'SimulatorUnexpectedPropertyChange',
        `This PUT would change properties other than the workload identity flags: ${changes.join('; ')}`,
      );
    }
    const target = clone(body);
    // Keep read-only members as the service does.
    for (const k of ['id', 'name', 'type', 'eTag']) target[k] = c.resource[k];
    for (const k of [
      'fqdn',
      'privateFQDN',
      'azurePortalFQDN',
      'currentKubernetesVersion',
      'maxAgentPools',
      'powerState',
      'resourceUID',
    ]) {
      if (c.resource.properties[k] !== undefined) target.properties[k] = c.resource.properties[k];
    }
    target.properties.agentPoolProfiles = c.resource.properties.agentPoolProfiles;
    if (c.resource.properties.networkProfile) target.properties.networkProfile = c.resource.properties.networkProfile;
    if (c.resource.identity) target.identity = c.resource.identity;
    if (oidcAfter) {
      target.properties.oidcIssuerProfile = {
        enabled: true,
        issuerURL:
          c.resource.properties.oidcIssuerProfile?.issuerURL ??
          `https://${c.resource.location}.oic.prod-aks.azure.com/${claimsOf(req).tid}/${randomUUID()}/`,
      };
    }
    const lroFailed = req.faults.find((f) => f.kind === 'lroFailed');
    const opId = randomUUID();
    c.operation = {
      id: opId,
      status: 'InProgress',
      startTime: iso(),
      doneAt: now() + config.clusterUpdateMs,
      target,
      previous: c.resource,
      error: lroFailed
        ? {
            code: 'ReconcileVMSSAgentPoolFailed',
            message: 'Reconcile VMSS agent pool failed: the node pool could not be updated in time.',
          }
        : undefined,
    };
    c.resource = { ...clone(target), properties: { ...clone(target.properties), provisioningState: 'Updating' } };
    if (!oidcBefore) delete c.resource.properties.oidcIssuerProfile?.issuerURL;
    const apiVersion = req.query.get('api-version')!;
    const asyncUrl = `${ctx.armUrl()}/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/${c.resource.location}/operations/${opId}?api-version=${apiVersion}`;
    return ok(c.resource, 200, {
      'Azure-AsyncOperation': asyncUrl,
      'Retry-After': String(config.pollRetryAfterSeconds),
    });
  };

  const operationStatus = (req: RequestContext): Reply => {
    const [, , opId] = req.params;
    const c = allClusters().find((x) => x.operation?.id === opId);
    if (!c) fail(404, 'NotFound', `Operation ${opId} was not found.`);
    const op = c!.operation!;
    const body: any = { id: req.path, name: op.id, status: op.status, startTime: op.startTime };
    if (op.endTime) body.endTime = op.endTime;
    if (op.status === 'Failed') body.error = op.error;
    return ok(body, 200, op.status === 'InProgress' ? { 'Retry-After': String(config.pollRetryAfterSeconds) } : {});
  };

  const kubeconfigFor = (c: ClusterRecord, claims: SimClaims) => {
    const p = c.resource.properties;
    // A private API server is out of reach from outside its network. Real kubeconfigs name its privatelink FQDN;
    // here a closed loopback port stands in, so the refusal needs no DNS and no traffic off this machine.
    const server = p.apiServerAccessProfile?.enablePrivateCluster
      ? 'https://127.0.0.1:1'
      : `${ctx.kubeUrl()}/clusters/${c.key}`;
    const user = p.aadProfile
      ? {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'kubelogin',
            interactiveMode: 'IfAvailable',
            args: [
              'get-token',
              '--environment',
              'AzurePublicCloud',
              '--server-id',
              AKS_SERVER_APP_ID,
              '--client-id',
              '80faf920-1908-4b52-b5ef-a8e7bedfc67a',
              '--tenant-id',
              claims.tid,
              '--login',
              'devicecode',
            ],
          },
        }
      : { token: c.userToken };
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- cluster:',
      `    certificate-authority-data: ${Buffer.from(ctx.ca).toString('base64')}`,
      `    server: ${server}`,
      `  name: ${c.name}`,
      'contexts:',
      '- context:',
      `    cluster: ${c.name}`,
      `    user: clusterUser_${c.resourceGroup}_${c.name}`,
      `  name: ${c.name}`,
      `current-context: ${c.name}`,
      'preferences: {}',
      'users:',
      `- name: clusterUser_${c.resourceGroup}_${c.name}`,
      '  user:',
      ...JSON.stringify(user, null, 2)
        .split('\n')
        .map((l) => `    ${l}`),
      '',
    ].join('\n');
    return Buffer.from(yaml).toString('base64');
  };

  return [
    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.ContainerService/managedClusters`),
      op: 'managedClusters.list',
      handle: (r) =>
        page(
          allClusters()
            .filter((c) => c.subscriptionId.toLowerCase() === r.params[0].toLowerCase())
            .map((c) => c.resource),
        ),
    },
    {
      method: 'GET',
      pattern: re(AKS),
      op: 'managedClusters.listByResourceGroup',
      handle: (r) =>
        page(
          allClusters()
            .filter((c) => inRg(r.params[0], r.params[1])(c.resource.id))
            .map((c) => c.resource),
        ),
    },
    {
      method: 'GET',
      pattern: re(`${AKS}/([^/]+)`),
      op: 'managedClusters.get',
      handle: (r) => ok(clusterById(r.params[0], r.params[1], r.params[2]).resource),
    },
    { method: 'PUT', pattern: re(`${AKS}/([^/]+)`), op: 'managedClusters.createOrUpdate', handle: putCluster },
    {
      method: 'GET',
      pattern: re(`${SUB}/providers/Microsoft\\.ContainerService/locations/([^/]+)/operations/([^/]+)`),
      op: 'managedClusters.getOperation',
      handle: operationStatus,
    },
    {
      method: 'POST',
      pattern: re(`${AKS}/([^/]+)/listClusterUserCredential`),
      op: 'managedClusters.listClusterUserCredentials',
      handle: (r) => {
        const c = clusterById(r.params[0], r.params[1], r.params[2]);
        return ok({ kubeconfigs: [{ name: 'clusterUser', value: kubeconfigFor(c, claimsOf(r)) }] });
      },
    },
  ];
}
