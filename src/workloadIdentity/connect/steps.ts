import * as l10n from '@vscode/l10n';
import type { ExecuteStep } from '../../wizard/wizard';
import { connectLive, newPodsReport } from './live';
import type { ConnectDeps, ConnectRecord, ConnectState, ConnectStepId } from './model';
import { planConnect, planKustomizePatch } from './workspace';
import { YamlEditError } from './yamlEdit';

export const connectStepTitle = (id: ConnectStepId): string =>
  ({
    workloadFile: l10n.t("Edit the workload's file"),
    secretProviderClassFile: l10n.t('Write the SecretProviderClass'),
    patchFile: l10n.t("Write the overlay's patch"),
    kustomization: l10n.t('List the patch in the kustomization'),
    live: l10n.t('Set the ServiceAccount and the label on the workload'),
    pods: l10n.t('Check the new pods'),
  })[id];

const record = (s: ConnectState, id: ConnectStepId, result: ConnectRecord['result']) => {
  s.records.set(id, { id, title: connectStepTitle(id), result });
};

async function readFile(deps: ConnectDeps, path: string): Promise<string> {
  const text = await deps.files.read(path);
  if (text === undefined) throw new YamlEditError(l10n.t('{0} no longer exists: connect again.', path));
  return text;
}

/** Each step reads what it changes again and writes only what is missing: an edit made since the review is kept. */
export function connectSteps(deps: ConnectDeps): ExecuteStep<ConnectState>[] {
  const step = (
    id: ConnectStepId,
    priority: number,
    shouldExecute: (s: ConnectState) => boolean,
    execute: (s: ConnectState, progress: (m: string) => void, signal: AbortSignal) => Promise<void>,
  ): ExecuteStep<ConnectState> => ({ id, title: connectStepTitle(id), priority, shouldExecute, execute });
  return [
    step(
      'workloadFile',
      1,
      (s) => s.change.where === 'file',
      async (s) => {
        if (s.change.where !== 'file') return;
        const { candidate } = s.change.plan;
        const plan = planConnect(
          await readFile(deps, candidate.path),
          candidate,
          s.binding,
          s.serviceAccounts,
          s.secrets,
        );
        if (plan.changes.length) await deps.files.write(candidate.path, plan.text);
        s.done = { where: 'file', plan };
        record(s, 'workloadFile', plan.changes.length ? 'written' : 'unchanged');
      },
    ),
    step(
      'secretProviderClassFile',
      2,
      (s) => s.done?.where === 'file' && !!s.done.plan.secretProviderClass,
      async (s) => {
        const spc = s.done?.where === 'file' ? s.done.plan.secretProviderClass : undefined;
        if (spc) record(s, 'secretProviderClassFile', await deps.files.writeGenerated(spc.path, spc.text));
      },
    ),
    step(
      'patchFile',
      1,
      (s) => s.change.where === 'overlay',
      async (s) => {
        if (s.change.where !== 'overlay') return;
        const { kustomization, candidate } = s.change.plan;
        // The kustomization is written next: an unsaved edit of it stops the run before anything is written.
        await deps.files.checkSaved(kustomization);
        const plan = planKustomizePatch(kustomization, await readFile(deps, kustomization), candidate, s.binding);
        record(s, 'patchFile', await deps.files.writeGenerated(plan.patch.path, plan.patch.text));
        s.done = { where: 'overlay', plan };
      },
    ),
    step(
      'kustomization',
      2,
      (s) => s.done?.where === 'overlay',
      async (s) => {
        if (s.done?.where !== 'overlay') return;
        const { kustomization, kustomizationText } = s.done.plan;
        const changed = kustomizationText !== (await readFile(deps, kustomization));
        if (changed) await deps.files.write(kustomization, kustomizationText);
        record(s, 'kustomization', changed ? 'written' : 'unchanged');
      },
    ),
    step(
      'live',
      1,
      (s) => s.change.where === 'cluster',
      async (s, progress, signal) => {
        if (s.change.where !== 'cluster') return;
        const { workload, secrets } = s.change.plan;
        const result = await connectLive(await deps.kube(s.binding.cluster), workload, s.binding.serviceAccount, {
          signal,
          progress,
          sleep: deps.sleep,
          ...(secrets ? { secrets } : {}),
          ...(s.binding.viaIdentityBinding ? { viaIdentityBinding: true } : {}),
        });
        s.done = s.change;
        record(s, 'live', result);
      },
    ),
    step(
      'pods',
      2,
      (s) => s.done?.where === 'cluster' && s.done.plan.workload.kind !== 'CronJob',
      async (s) => {
        if (s.done?.where !== 'cluster') return;
        s.pods = await newPodsReport(
          await deps.kube(s.binding.cluster),
          s.done.plan.workload,
          s.binding.serviceAccount,
          s.binding.viaIdentityBinding,
        );
        record(s, 'pods', 'unchanged');
      },
    ),
  ];
}
