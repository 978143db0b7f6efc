/**
 * A client-side budget of requests per time window, learnt from the service's answers (Resource Graph's
 * x-ms-user-quota-remaining and -resets-after). It starts from the documented default, never spends more than
 * the last answer allows, and raises its limit when an answer shows a larger quota.
 */
export class QuotaGate {
  private remaining: number;
  private resetAt = 0;
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private limit = 15,
    private readonly windowMs = 5000,
    private readonly now = () => Date.now(),
  ) {
    this.remaining = limit;
  }

  /** How many requests may go now. */
  available(): number {
    this.refill();
    return this.remaining;
  }

  /** Waits for a place in the budget, and takes it. */
  async take(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.remaining > 0) {
        this.remaining--;
        this.inFlight++;
        // Without an answer yet, assume the window began with this request.
        if (!this.resetAt) this.resetAt = this.now() + this.windowMs;
        return;
      }
      // Until the window resets, or sooner when an answer tells more.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.max(10, this.resetAt - this.now()));
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.push(wake);
      });
    }
  }

  private wakeWaiters() {
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** An answer's quota headers (remaining after it; time until the window resets). */
  observe(remaining: number | undefined, resetsAfterMs: number | undefined): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (
      remaining === undefined ||
      resetsAfterMs === undefined ||
      !Number.isFinite(remaining) ||
      !Number.isFinite(resetsAfterMs)
    )
      return;
    this.resetAt = this.now() + resetsAfterMs;
    // The answer counted the requests the service had received; those still in flight may not be counted yet.
    const left = Math.max(0, remaining - this.inFlight);
    if (remaining + 1 > this.limit) {
      this.limit = remaining + 1;
      this.remaining = Math.max(this.remaining, left);
    } else this.remaining = Math.min(this.remaining, left);
    this.wakeWaiters();
  }

  /** A 429: nothing may go until Retry-After has passed. */
  throttled(retryAfterMs: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.remaining = 0;
    this.resetAt = Math.max(this.resetAt, this.now() + retryAfterMs);
    this.wakeWaiters();
  }

  /** A request that got no answer with headers (an error): it no longer counts as in flight. */
  settled(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  private refill() {
    if (this.resetAt && this.now() >= this.resetAt) {
      this.remaining = this.limit;
      this.resetAt = 0;
    }
  }
}

/** "hh:mm:ss" (Resource Graph's x-ms-user-quota-resets-after) in milliseconds. */
export function parseDuration(text: string | undefined | null): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text?.trim() ?? '');
  return m ? ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 : undefined;
}
