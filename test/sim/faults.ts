/** What a fault does to the one request it hits. */
export type FaultKind =
  | 'latency' // delay the answer by latencyMs, then answer normally
  | '429' // Too Many Requests with Retry-After
  | '500'
  | '503' // server errors
  | '409' // Conflict
  | '403' // Forbidden: the caller lacks the permission
  | '401' // Unauthorized: the token is not accepted
  | 'reset' // destroy the connection without an answer
  | 'timeout' // never answer (the socket stays open until the client gives up)
  | 'lroFailed' // a long-running operation accepted, then ending Failed
  | 'principalNotFound' // role assignment: the principal has not replicated yet
  | 'malformedRows'; // Resource Graph: 200 with rows in another shape (the old summarize rows)

export interface FaultSpec {
  /** Operation name, e.g. "managedClusters.createOrUpdate" or "kube.serviceaccounts.apply"; "*" for any. */
  op: string;
  kind: FaultKind;
  /** Let this many matching calls through first ("fail the Nth call" is after: N-1). */
  after?: number;
  /** How many matching calls to hit; 0 means every one from then on. */
  count?: number;
  latencyMs?: number;
  retryAfterSeconds?: number;
}

interface ActiveFault extends FaultSpec {
  seen: number;
  hits: number;
}

export class FaultInjector {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    this.faults.push({ after: 0, count: 1, ...spec, seen: 0, hits: 0 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The faults that hit this call, in the order they were added. Latency stacks with one other fault. */
  take(op: string): FaultSpec[] {
    const hit: FaultSpec[] = [];
    for (const f of this.faults) {
      if (f.op !== '*' && f.op !== op) continue;
      f.seen++;
      if (f.seen <= (f.after ?? 0)) continue;
      if (f.count && f.hits >= f.count) continue;
      f.hits++;
      hit.push(f);
    }
    return hit;
  }

  list(): FaultSpec[] {
    return this.faults.map(({ seen: _s, hits: _h, ...spec }) => spec);
  }
}

export interface LoggedRequest {
  server: 'arm' | 'kube' | 'login' | 'vault' | 'aksProxy' | 'msi';
  method: string;
  path: string;
  op: string;
  status: number;
  fault?: FaultKind;
  at: number;
  /** How long the simulator took to answer, latency included. */
  ms?: number;
  /** Which TLS connection carried it, numbered per server: a new number is a new handshake. */
  connection?: number;
}

/** A request that changes something: not a read, a listing, a query or an operation poll. */
export const isWrite = (r: Pick<LoggedRequest, 'method' | 'op'>) =>
  !['GET', 'HEAD'].includes(r.method) && !/\.(list|get|query)\w*$/.test(r.op);
