// A worker takes keys from the work queue and reconciles them, turning each outcome into what the
// queue does next (STYLE.md section 9):
//   - done: the back-off is forgotten; with requeueAfterMs the key comes back then (a roll waiting
//     for a pod to become ready polls this way);
//   - a thrown TerminalError: nothing will change until the resource does (the reconcile has
//     already written the condition saying why), so no retry; the next event requeues it;
//   - anything else thrown: retried with the key's exponential back-off.
// Several workers share one queue; the queue guarantees a key is never reconciled twice at once.
import type { WorkQueue } from './queue.js';

export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult>;

/** A failure that retrying cannot fix. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export interface WorkerEvents {
  onError?(key: string, error: unknown, retryInMs: number | null): void;
}

/** Runs until the queue shuts down. */
export async function runWorker(queue: WorkQueue, reconcile: Reconcile, events: WorkerEvents = {}): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === null) return;
    let requeueAfterMs: number | undefined;
    try {
      const r = await reconcile(key);
      queue.forget(key);
      requeueAfterMs = r.requeueAfterMs;
    } catch (e) {
      if (e instanceof TerminalError) {
        queue.forget(key);
        events.onError?.(key, e, null);
      } else {
        events.onError?.(key, e, queue.addRateLimited(key));
      }
    } finally {
      queue.done(key);
    }
    if (requeueAfterMs !== undefined) queue.addAfter(key, requeueAfterMs);
  }
}
