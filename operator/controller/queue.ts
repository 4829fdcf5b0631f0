// The keyed work queue the controller reconciles from ("namespace/name" keys). Levels, not events:
//   - a key is queued at most once, however many events arrive for it (they collapse);
//   - a key is handed to at most one worker at a time; an add while it is being reconciled marks
//     it dirty, and it is queued again when that reconcile is done, so the latest state is always
//     reconciled after the last event;
//   - addAfter schedules a requeue (a roll waiting for a pod), addRateLimited a retry with
//     per-key exponential back-off (a failed API call), forget resets the back-off.
// Keys are bounded (KEYS_MAX): each is one custom resource, so more means a bug, and add throws.
// Time comes from an injected Timers, so the tests drive it without waiting.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** One queue holds keys for every custom resource an operator watches; far above any real count. */
export const KEYS_MAX = 100_000;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 5 * 60_000;

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  readonly code = 'QUEUE_FULL';
}

export class WorkQueue {
  readonly #timers: Timers;
  readonly #keysMax: number;
  /** Keys waiting for a worker, in order; #queued mirrors it for lookups. */
  readonly #order: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #delayed = new Map<string, { at: number; handle: unknown }>();
  readonly #failures = new Map<string, number>();
  readonly #waiters: ((key: string | null) => void)[] = [];
  readonly #now: () => number;
  #shutDown = false;

  constructor(opts: { timers?: Timers; keysMax?: number; now?: () => number } = {}) {
    this.#timers = opts.timers ?? REAL_TIMERS;
    this.#keysMax = opts.keysMax ?? KEYS_MAX;
    this.#now = opts.now ?? (() => Date.now());
  }

  /** Keys known to the queue in any state; bounded by keysMax. */
  get size(): number {
    return new Set([...this.#queued, ...this.#processing, ...this.#delayed.keys()]).size;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    if (this.size >= this.#keysMax && !this.#delayed.has(key)) throw new QueueFullError(`work queue holds ${this.#keysMax} keys; not adding ${key}`);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#order.push(key);
  }

  /** Queues `key` after `ms`; an earlier pending requeue of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending.at <= at) return;
    if (pending !== undefined) this.#timers.clearTimeout(pending.handle);
    if (pending === undefined && this.size >= this.#keysMax && !this.#queued.has(key) && !this.#processing.has(key)) {
      throw new QueueFullError(`work queue holds ${this.#keysMax} keys; not adding ${key}`);
    }
    const handle = this.#timers.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, handle });
  }

  /** Retries `key` after its back-off, which doubles with each failure since the last forget. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, 30));
    this.addAfter(key, ms);
    return ms;
  }

  /** The key reconciled successfully: its back-off starts over. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to reconcile, or null once the queue is shut down. */
  get(): Promise<string | null> {
    if (this.#shutDown) return Promise.resolve(null);
    const key = this.#order.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The worker is finished with `key`; if events came meanwhile it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const { handle } of this.#delayed.values()) this.#timers.clearTimeout(handle);
    this.#delayed.clear();
    for (const w of this.#waiters.splice(0)) w(null);
  }
}
