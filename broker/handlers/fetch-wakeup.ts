// Wakes long-polling fetches when their partitions get records. Waiters per partition key are kept
// in a set; a wait ends on the first append to any of its keys or when its time is up.
import type { FetchWakeup } from './context.js';

export class PartitionWakeup implements FetchWakeup {
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  wait(keys: string[], ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.waiters.get(k);
          set?.delete(done);
          if (set?.size === 0) this.waiters.delete(k);
        }
        resolve(!this.closed);
      };
      const timer = setTimeout(done, ms);
      for (const k of keys) {
        let set = this.waiters.get(k);
        if (set === undefined) this.waiters.set(k, (set = new Set()));
        set.add(done);
      }
    });
  }

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (set === undefined) return;
    for (const done of [...set]) done();
  }

  /** Ends every wait now and every later one at once (shutdown). */
  wakeAll(): void {
    this.closed = true;
    for (const set of [...this.waiters.values()]) for (const done of [...set]) done();
  }
}
