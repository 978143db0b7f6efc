import * as https from 'node:https';
import type { FaultSpec, LoggedRequest } from './faults';
import type { SimInfo } from './server';

/** The simulator's control API, for tests that run in another process (the extension host). */
export class SimControl {
  constructor(readonly info: SimInfo) {}

  static fromEnv(): SimControl {
    const raw = process.env.AKSWI_SIM_INFO;
    if (!raw)
      throw new Error(
        'AKSWI_SIM_INFO is not set: these tests run against the simulated Azure started by scripts/run-tests.mjs.',
      );
    return new SimControl(JSON.parse(raw));
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.info.armUrl}${path}`,
        { method, headers: { 'x-sim-control': this.info.controlSecret, 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () =>
            res.statusCode! >= 400
              ? reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
              : resolve(text ? JSON.parse(text) : undefined),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  state(): Promise<any> {
    return this.call('GET', '/_sim/state');
  }
  log(): Promise<LoggedRequest[]> {
    return this.call('GET', '/_sim/log');
  }
  clearLog(): Promise<void> {
    return this.call('DELETE', '/_sim/log');
  }
  addFault(f: FaultSpec): Promise<void> {
    return this.call('POST', '/_sim/faults', f);
  }
  clearFaults(): Promise<void> {
    return this.call('DELETE', '/_sim/faults');
  }
  /** The seeded state again; `budgets` adds identities near and at their credential limit. */
  reset(seed?: 'budgets'): Promise<void> {
    return this.call('POST', '/_sim/reset', seed ? { seed } : undefined);
  }
  configure(c: { latencyMs?: number; config?: Record<string, number> }): Promise<void> {
    return this.call('POST', '/_sim/config', c);
  }
}
