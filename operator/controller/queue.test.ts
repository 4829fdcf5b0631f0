import { describe, expect, it } from 'vitest';
import { BACKOFF_MAX_MS, QueueFullError, WorkQueue, type Timers } from './queue.js';

/** Timers driven by the test: advance(ms) fires what is due, in time order. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    pending: () => pending.size,
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const next = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (next === undefined) break;
        pending.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = until;
    },
  };
}

const queue = () => {
  const t = manualTimers();
  return { t, q: new WorkQueue({ timers: t.timers, now: t.now }) };
};

describe('WorkQueue', () => {
  it('collapses repeated adds of a key and hands keys out in order', async () => {
    const { q } = queue();
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.size).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('never hands out a key that is being reconciled; an add meanwhile queues it again after done', async () => {
    const { q } = queue();
    q.add('ns/a');
    expect(await q.get()).toBe('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(await q.get()).toBe('ns/b');
    let got: string | null | undefined;
    void q.get().then((k) => (got = k));
    await Promise.resolve();
    expect(got).toBeUndefined();
    q.done('ns/a');
    await Promise.resolve();
    expect(got).toBe('ns/a');
    // Only once, however many adds came while it was processing.
    q.done('ns/a');
    q.done('ns/b');
    expect(q.size).toBe(0);
  });

  it('requeues after a delay, keeping the earliest of several', async () => {
    const { t, q } = queue();
    q.addAfter('ns/a', 10_000);
    q.addAfter('ns/a', 3_000);
    q.addAfter('ns/a', 8_000);
    expect(t.pending()).toBe(1);
    t.advance(2_999);
    expect(q.size).toBe(1);
    let got: string | null | undefined;
    void q.get().then((k) => (got = k));
    await Promise.resolve();
    expect(got).toBeUndefined();
    t.advance(1);
    await Promise.resolve();
    expect(got).toBe('ns/a');
  });

  it('backs off exponentially per key up to the cap, and forget starts over', () => {
    const { q } = queue();
    const delays = Array.from({ length: 12 }, () => {
      const ms = q.addRateLimited('ns/a');
      return ms;
    });
    expect(delays.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(delays.at(-1)).toBe(BACKOFF_MAX_MS);
    expect(q.addRateLimited('ns/b')).toBe(500);
    q.forget('ns/a');
    expect(q.addRateLimited('ns/a')).toBe(500);
  });

  it('refuses keys beyond its bound', () => {
    const t = manualTimers();
    const q = new WorkQueue({ timers: t.timers, now: t.now, keysMax: 2 });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(() => q.add('c')).toThrow(QueueFullError);
    expect(() => q.addAfter('c', 100)).toThrow(QueueFullError);
  });

  it('wakes waiting workers with null on shut-down and cancels pending requeues', async () => {
    const { t, q } = queue();
    q.addAfter('ns/a', 1000);
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeNull();
    expect(t.pending()).toBe(0);
    expect(await q.get()).toBeNull();
  });
});
