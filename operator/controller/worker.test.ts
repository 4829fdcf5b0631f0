import { describe, expect, it } from 'vitest';
import { WorkQueue, type Timers } from './queue.js';
import { runWorker, TerminalError } from './worker.js';

/** Timers that record what was scheduled and fire only when the test says. */
function heldTimers() {
  const scheduled: { ms: number; fn: () => void }[] = [];
  const timers: Timers = { setTimeout: (fn, ms) => scheduled.push({ ms, fn }), clearTimeout: () => {} };
  return { timers, scheduled };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('runWorker', () => {
  it('never reconciles one key in two workers at once, and reconciles it again after events that came meanwhile', async () => {
    const { timers } = heldTimers();
    const q = new WorkQueue({ timers });
    const running = new Set<string>();
    const calls: string[] = [];
    let overlap = false;
    const gates: (() => void)[] = [];
    const reconcile = async (key: string) => {
      if (running.has(key)) overlap = true;
      running.add(key);
      calls.push(key);
      await new Promise<void>((r) => gates.push(r));
      running.delete(key);
      return {};
    };
    const workers = [runWorker(q, reconcile), runWorker(q, reconcile)];
    q.add('ns/a');
    await tick();
    q.add('ns/a');
    q.add('ns/a');
    await tick();
    // The second worker got nothing: ns/a is taken.
    expect(calls).toEqual(['ns/a']);
    gates.shift()!();
    await tick();
    expect(calls).toEqual(['ns/a', 'ns/a']);
    gates.shift()!();
    await tick();
    expect(calls).toHaveLength(2);
    expect(overlap).toBe(false);
    q.shutDown();
    await Promise.all(workers);
  });

  it('requeues after the delay a reconcile asks for, retries failures with back-off, and drops terminal errors', async () => {
    const { timers, scheduled } = heldTimers();
    const q = new WorkQueue({ timers });
    const errors: [string, number | null][] = [];
    const outcomes: Record<string, () => Promise<{ requeueAfterMs?: number }>> = {
      'ns/wait': async () => ({ requeueAfterMs: 5000 }),
      'ns/flaky': async () => {
        throw new Error('HTTP 503');
      },
      'ns/bad': async () => {
        throw new TerminalError('spec.config: invalid');
      },
    };
    const worker = runWorker(q, (key) => outcomes[key]!(), { onError: (key, _e, retry) => errors.push([key, retry]) });
    for (const k of Object.keys(outcomes)) q.add(k);
    await tick();
    expect(scheduled.map((s) => s.ms)).toEqual([5000, 500]);
    expect(errors).toEqual([
      ['ns/flaky', 500],
      ['ns/bad', null],
    ]);
    // The retry fires and fails again: the back-off doubles.
    scheduled[1]!.fn();
    await tick();
    expect(scheduled.map((s) => s.ms)).toEqual([5000, 500, 1000]);
    q.shutDown();
    await worker;
  });
});
