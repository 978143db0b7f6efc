/** Microsoft.ContainerService's run-command: kubectl inside a private cluster, as `az aks command invoke`. */
import { randomUUID } from 'node:crypto';
import { HttpError, Reply, RequestContext, Route } from '../http';
import type { ClusterRecord } from '../model';
import { applyManifest, createObject, deleteServiceAccount, getObjectJson } from '../kube';
import { readStoredZip } from '../zip';
import { serviceAccountToken } from '../entra';
import { fail, AKS, re, ArmKit } from './common';
import { TEST_POD_COMMAND, runTestPod } from '../testPod';

export function runCommandRoutes(kit: ArmKit): Route[] {
  const { clusterById, config, ctx, iso, now, ok, state } = kit;
  const runCommand = (req: RequestContext): Reply => {
    const [sub, rg, name] = req.params;
    const c = clusterById(sub, rg, name);
    const body = req.json();
    if (typeof body.command !== 'string' || !body.command)
      fail(400, 'InvalidParameter', "The value of parameter 'command' is required.");
    if (c.resource.properties.apiServerAccessProfile?.disableRunCommand)
      fail(400, 'BadRequest', `Run command is disabled for managed cluster '${name}'.`);
    if (c.resource.properties.aadProfile && !body.clusterToken)
      fail(400, 'InvalidParameter', 'clusterToken is required for clusters with Microsoft Entra ID integration.');
    const id = randomUUID().replace(/-/g, '');
    const startedAt = iso();
    const files = body.context ? readStoredZip(Buffer.from(body.context, 'base64')) : new Map<string, string>();
    const location = `${ctx.armUrl()}/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}/commandResults/${id}?api-version=${req.query.get('api-version')}`;
    const accepted = ok(undefined, 202, { Location: location, 'Retry-After': String(config.pollRetryAfterSeconds) });
    const finish = (exitCode: number, logs: string) =>
      state.commandResults.set(id, {
        doneAt: now() + config.runCommandMs,
        result: { id, properties: { provisioningState: 'succeeded', exitCode, startedAt, finishedAt: iso(), logs } },
      });
    // A test pod runs for real, so its result comes when its script ends.
    const testPod = TEST_POD_COMMAND.exec(body.command.trim());
    if (testPod) {
      state.commandResults.set(id, { doneAt: Number.POSITIVE_INFINITY, result: undefined });
      void runTestPod(c, files.get(testPod[1]) ?? '', {
        ...ctx.podNetwork(),
        vaultNames: [...state.vaults.values()].map((v) => v.name),
      }).then(
        (logs) => finish(0, logs),
        (e) => finish(1, (e as Error).message),
      );
      return accepted;
    }
    let exitCode = 0,
      logs: string;
    try {
      logs = runKubectl(c, body.command, files);
    } catch (e) {
      exitCode = 1;
      logs = (e as Error).message;
    }
    finish(exitCode, logs);
    return accepted;
  };

  const commandResult = (req: RequestContext): Reply => {
    const r = state.commandResults.get(req.params[3]);
    if (!r) fail(404, 'NotFound', `Command result ${req.params[3]} was not found.`);
    if (now() < r!.doneAt)
      return ok(undefined, 202, {
        Location: `${ctx.armUrl()}${req.path}?api-version=${req.query.get('api-version')}`,
        'Retry-After': String(config.pollRetryAfterSeconds),
      });
    return ok(r!.result);
  };

  function runKubectl(c: ClusterRecord, command: string, files: Map<string, string>): string {
    const apply = /^kubectl apply --server-side --field-manager=([\w-]+)( --force-conflicts)? -f ([\w./-]+)$/.exec(
      command.trim(),
    );
    if (apply) {
      const text = files.get(apply[3]);
      if (text === undefined) throw new Error(`error: the path "${apply[3]}" does not exist`);
      return applyManifest(c, text, apply[1], !!apply[2]);
    }
    const token = /^kubectl create token ([\w.-]+) -n ([\w-]+) --audience ([^\s]+) --duration 10m$/.exec(
      command.trim(),
    );
    if (token) {
      if (!c.kube.serviceAccounts.has(`${token[2]}/${token[1]}`))
        throw new Error(`error: failed to create token: serviceaccounts "${token[1]}" not found`);
      return serviceAccountToken(c, token[2], token[1], [token[3]], 600).token;
    }
    const del = /^kubectl delete serviceaccount ([\w.-]+) -n ([\w-]+) --ignore-not-found$/.exec(command.trim());
    if (del) {
      try {
        return deleteServiceAccount(state, c, del[2], del[1]) ? `serviceaccount "${del[1]}" deleted` : '';
      } catch (e) {
        if (e instanceof HttpError)
          throw new Error(
            `Error from server (${(e.body as any).reason ?? (e.body as any).code}): ${(e.body as any).message}`,
            { cause: e },
          );
        throw e;
      }
    }
    // What an exported script sends: a jsonpath read of one annotation, a name-only existence check, a create.
    const annotation =
      /^kubectl get serviceaccount ([\w.-]+) -n ([\w-]+) --ignore-not-found -o jsonpath='\{\.metadata\.annotations\.([^}']+)\}'$/.exec(
        command.trim(),
      );
    if (annotation)
      return (
        c.kube.serviceAccounts.get(`${annotation[2]}/${annotation[1]}`)?.metadata.annotations?.[
          annotation[3].replace(/\\\./g, '.')
        ] ?? ''
      );
    const exists = /^kubectl get namespace ([\w-]+) --ignore-not-found -o name$/.exec(command.trim());
    if (exists) return c.kube.namespaces.has(exists[1]) ? `namespace/${exists[1]}\n` : '';
    const create = /^kubectl create namespace ([\w-]+)$/.exec(command.trim());
    if (create) {
      try {
        createObject(c.kube, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: create[1] } }, 'kubectl-create');
      } catch (e) {
        if (e instanceof HttpError)
          throw new Error(`Error from server (${(e.body as any).reason}): ${(e.body as any).message}`, { cause: e });
        throw e;
      }
      return `namespace/${create[1]} created\n`;
    }
    // Identity bindings' RBAC: the subjects as an exported script reads them, and deletes.
    const subjects =
      /^kubectl get clusterrolebinding ([\w.-]+) --ignore-not-found -o jsonpath='\{range \.subjects\[\*\]\}\{\.kind\}:\{\.namespace\}:\{\.name\} \{end\}'$/.exec(
        command.trim(),
      );
    if (subjects)
      return (c.kube.clusterRoleBindings.get(subjects[1])?.subjects ?? [])
        .map((x: any) => `${x.kind}:${x.namespace ?? ''}:${x.name} `)
        .join('');
    const rbacDelete = /^kubectl delete (clusterrole|clusterrolebinding) ([\w.-]+) --ignore-not-found$/.exec(
      command.trim(),
    );
    if (rbacDelete) {
      const store = rbacDelete[1] === 'clusterrole' ? c.kube.clusterRoles : c.kube.clusterRoleBindings;
      return store.delete(rbacDelete[2]) ? `${rbacDelete[1]}.rbac.authorization.k8s.io "${rbacDelete[2]}" deleted` : '';
    }
    const get = /^kubectl get (namespace|serviceaccount) ([\w.-]+)(?: -n ([\w-]+))? -o json$/.exec(command.trim());
    if (get) return getObjectJson(c.kube, get[1], get[2], get[3]);
    const list =
      /^kubectl get (namespaces|serviceaccounts|pods|replicasets|mutatingwebhookconfigurations|deployments|statefulsets|daemonsets|jobs|cronjobs|clusterroles|clusterrolebindings)(?: -n ([\w-]+))? -o json$/.exec(
        command.trim(),
      );
    if (list) {
      const source = {
        namespaces: c.kube.namespaces,
        serviceaccounts: c.kube.serviceAccounts,
        pods: c.kube.pods,
        replicasets: c.kube.replicaSets,
        mutatingwebhookconfigurations: c.kube.webhooks,
        deployments: c.kube.deployments,
        statefulsets: c.kube.statefulSets,
        daemonsets: c.kube.daemonSets,
        jobs: c.kube.jobs,
        cronjobs: c.kube.cronJobs,
        clusterroles: c.kube.clusterRoles,
        clusterrolebindings: c.kube.clusterRoleBindings,
      }[list[1]]!;
      const items = [...source.values()].filter((o) => !list[2] || o.metadata.namespace === list[2]);
      return JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 4);
    }
    throw new Error(`simulated run-command: unsupported command '${command}'`);
  }

  return [
    { method: 'POST', pattern: re(`${AKS}/([^/]+)/runCommand`), op: 'managedClusters.runCommand', handle: runCommand },
    {
      method: 'GET',
      pattern: re(`${AKS}/([^/]+)/commandResults/([^/]+)`),
      op: 'managedClusters.getCommandResult',
      handle: commandResult,
    },
  ];
}
