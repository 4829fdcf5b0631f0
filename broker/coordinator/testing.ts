// Test helpers shared by the coordinator's parts: a manual clock and timer queue.
import type { Scheduler, TimerHandle } from './types.js';

/** Timers run only when the test advances the clock, in due-time order (ties: scheduling order). */
export class ManualScheduler implements Scheduler {
  private now = 1_700_000_000_000;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];

  nowMs(): number {
    return this.now;
  }

  after(delayMs: number, fn: () => void): TimerHandle {
    const timer = { at: this.now + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.at > until) break;
      this.timers.shift();
      this.now = next.at;
      next.fn();
    }
    this.now = until;
  }

  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}
