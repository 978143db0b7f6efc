import * as l10n from '@vscode/l10n';
import type { KubeTarget } from '../../kube/access';
import type { Logger } from '../../log';
import type { Binding } from '../binding';
import { CLIENT_ID_ANNOTATION } from '../manifest';
import type { LivePlan } from './live';
import type { ConnectPlan, PatchPlan, SecretsRequest, WorkspaceFile } from './workspace';

/**
 * The open folders as Connect reads and writes them, by workspace path (one convention for single- and multi-root
 * workspaces: ui/workspaceFiles.ts implements it).
 */
export interface WorkspaceFiles {
  /** The YAML files of the open folders. */
  yamlFiles(): Promise<WorkspaceFile[]>;
  /** Files of the open folders matching a glob (dependencies and build output left out), at most max. */
  find(glob: string, max: number): Promise<WorkspaceFile[]>;
  /** The file's text; undefined when there is none. */
  read(path: string): Promise<string | undefined>;
  /** Throws UnsavedFileError while an editor holds unsaved edits of the file. */
  checkSaved(path: string): Promise<void>;
  /** Writes a file the user keeps; throws UnsavedFileError while an editor holds unsaved edits of it. */
  write(path: string, text: string): Promise<void>;
  /** Writes a file the extension generates: one with other content only after the user saw the difference and agreed. */
  writeGenerated(path: string, text: string): Promise<'written' | 'unchanged' | 'kept' | 'none'>;
}

/** An editor holds unsaved edits of a file Connect would write: nothing is written. */
export class UnsavedFileError extends Error {
  constructor(readonly path: string) {
    super(
      l10n.t(
        '{0} has unsaved changes in an editor: save or revert them, then connect again. Nothing was written.',
        path,
      ),
    );
    this.name = 'UnsavedFileError';
  }
}

/** Secrets as files need the identity the ServiceAccount names: one without the annotation is not bound yet. */
export class NotBoundError extends Error {
  constructor(namespace: string, serviceAccount: string) {
    super(l10n.t('{0}/{1} has no {2} annotation: bind it first.', namespace, serviceAccount, CLIENT_ID_ANNOTATION));
    this.name = 'NotBoundError';
  }
}

/** What Connect reviewed, by path: the workload's own file, an overlay's patch, or the workload in the cluster. */
export type ConnectChange =
  { where: 'file'; plan: ConnectPlan } | { where: 'overlay'; plan: PatchPlan } | { where: 'cluster'; plan: LivePlan };

export interface ConnectDeps {
  files: WorkspaceFiles;
  kube(cluster: Binding['cluster']): Promise<KubeTarget>;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  log: Logger;
}

/** One step of a run, and what it did. */
export interface ConnectRecord {
  id: ConnectStepId;
  title: string;
  result?: 'written' | 'updated' | 'unchanged' | 'kept' | 'none';
}

export type ConnectStepId =
  'workloadFile' | 'secretProviderClassFile' | 'patchFile' | 'kustomization' | 'live' | 'pods';

export interface ConnectState {
  binding: Binding;
  /** The ServiceAccounts of the namespace: the plan names the identity a workload stops using. */
  serviceAccounts: { name: string; annotations: Record<string, string> }[];
  /** The change as reviewed; each step plans it again from what it reads. */
  change: ConnectChange;
  /** The SecretProviderClass asked for, if any. */
  secrets?: SecretsRequest;
  records: Map<ConnectStepId, ConnectRecord>;
  /** What the run did, as the steps found it. */
  done?: ConnectChange;
  /** The new pods after a rollout: whether each has the token. */
  pods?: { level: 'info' | 'warning'; message: string };
}

export type ConnectResult = Pick<ConnectState, 'change' | 'records' | 'pods'> & { done: ConnectChange };
