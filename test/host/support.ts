import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/extension';
import type { TreeNode } from '../../src/ui/tree/nodes';
import { SimControl } from '../sim/control';
import type { Answer } from '../support/scriptedPrompter';

export const sim = SimControl.fromEnv();

/** Bind's answers for spring-petclinic on aks-petclinic with a new identity, up to and with the permissions. */
export const newIdentityBindAnswers = (permissions: string[]): Answer[] => [
  { pick: 'aks-petclinic' },
  { pick: 'spring-petclinic' },
  { pick: 'workload-identity-sa' },
  { pick: 'kv-petclinic' },
  { pick: '$(add) Create a new user-assigned identity' },
  { input: 'id-spring-petclinic-workload-identity-sa' },
  { input: 'rg-petclinic' },
  { input: 'eastus' },
  { pickMany: permissions },
];

/** Confirms Bind's review. */
export const confirmBind: Answer = { pick: (items) => items.find((i) => i.label.startsWith('$(check) Bind')) };

export async function extensionApi(): Promise<ExtensionApi> {
  const ext = vscode.extensions.getExtension<ExtensionApi>('aks-workload-identity.aks-workload-identity');
  assert.ok(ext, 'the extension is installed');
  return ext.activate();
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signed in through the stand-in az (the Azure CLI path), as the user of the demo would be. */
export async function signedIn(api: ExtensionApi) {
  return until('the Azure CLI sign-in', () => api.context.auth.session);
}

/** The tree node with this label, under the subscriptions and their groups. */
export async function findNode(label: string): Promise<TreeNode> {
  const tree = (await extensionApi()).context.tree;
  const walk = async (n?: TreeNode): Promise<TreeNode | undefined> => {
    for (const c of await tree.getChildren(n)) {
      if ((await tree.getTreeItem(c)).label === label) return c;
      // Not into the identities group: opening it reads every identity's credentials.
      const kind = (c as { kind: string; group?: string }).kind;
      if (kind === 'subscription' || (kind === 'group' && (c as { group?: string }).group !== 'identities')) {
        const f = await walk(c);
        if (f) return f;
      }
    }
    return undefined;
  };
  const found = await walk();
  assert.ok(found, `tree node ${label}`);
  return found!;
}

/** A fresh simulated world, signed in, every subscription shown. */
export async function freshWorld(): Promise<ExtensionApi> {
  await sim.reset();
  const api = await extensionApi();
  await signedIn(api);
  await api.context.tree.setSelectedSubscriptions(undefined);
  api.context.tree.refresh();
  return api;
}

/** The scripted prompter removed and every editor closed. */
export async function cleanUp() {
  (await extensionApi()).setPrompter(undefined);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
