import * as vscode from 'vscode';

/**
 * The walkthrough's steps complete from what the extension sees, through these context keys, not from a click:
 * a step's button only runs the command.
 */
export const WALKTHROUGH_DONE = {
  clusterOn: 'aksWorkloadIdentity.walkthrough.clusterOn',
  bound: 'aksWorkloadIdentity.walkthrough.bound',
  tested: 'aksWorkloadIdentity.walkthrough.tested',
  connected: 'aksWorkloadIdentity.walkthrough.connected',
  verified: 'aksWorkloadIdentity.walkthrough.verified',
} as const;

const done = new Set<string>();

export function markDone(step: keyof typeof WALKTHROUGH_DONE) {
  const key = WALKTHROUGH_DONE[step];
  if (done.has(key)) return;
  done.add(key);
  void vscode.commands.executeCommand('setContext', key, true);
}
