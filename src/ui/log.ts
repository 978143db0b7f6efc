import * as vscode from 'vscode';
import { Logger, redact } from '../log';

/** The extension's LogOutputChannel, with every line passed through redact() on its way in. */
export function createLog(): { channel: vscode.LogOutputChannel; logger: Logger } {
  const channel = vscode.window.createOutputChannel('AKS Workload Identity', { log: true });
  const logger: Logger = {
    trace: (m) => channel.trace(redact(m)),
    info: (m) => channel.info(redact(m)),
    warn: (m) => channel.warn(redact(m)),
    error: (m) => channel.error(redact(m)),
  };
  return { channel, logger };
}
