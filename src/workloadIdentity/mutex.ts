/** Runs tasks with the same key one after another, in the order they arrive. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return result;
  }
}

/** Joins callers of the same key onto one running promise (two Enable commands on one cluster send one update). */
export class SingleFlight {
  private readonly running = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const existing = this.running.get(key) as Promise<T> | undefined;
    if (existing) return { promise: existing, joined: true };
    const p = task().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return { promise: p, joined: false };
  }
}
