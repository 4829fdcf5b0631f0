// A byte budget for requests in flight: a frame's size is reserved once its 4-byte length has been
// read and released when its response has been written. When the budget is spent, connections stop
// reading (back-pressure) instead of buffering more, so many large produces cannot exhaust memory.
import assert from 'node:assert/strict';

export class MemoryPool {
  private used = 0;
  private readonly waiters: { bytes: number; grant: () => void }[] = [];

  constructor(readonly capacityBytes: number) {
    assert.ok(capacityBytes > 0, 'memory pool capacity must be positive');
  }

  get usedBytes(): number {
    return this.used;
  }

  /** Reserves now if there is room; waiters are served first so a large frame is not starved. */
  tryReserve(bytes: number): boolean {
    assert.ok(bytes <= this.capacityBytes, `a reservation of ${bytes} bytes can never fit a pool of ${this.capacityBytes}`);
    if (this.waiters.length > 0 || this.used + bytes > this.capacityBytes) return false;
    this.used += bytes;
    return true;
  }

  /** Calls `grant` once the bytes are reserved, in arrival order. */
  reserveLater(bytes: number, grant: () => void): void {
    if (this.tryReserve(bytes)) grant();
    else this.waiters.push({ bytes, grant });
  }

  release(bytes: number): void {
    this.used -= bytes;
    assert.ok(this.used >= 0, 'memory pool released more than it reserved');
    while (this.waiters.length > 0 && this.used + this.waiters[0]!.bytes <= this.capacityBytes) {
      const w = this.waiters.shift()!;
      this.used += w.bytes;
      w.grant();
    }
  }

  /** Drops a waiter whose connection closed before it was served. */
  cancel(grant: () => void): void {
    const i = this.waiters.findIndex((w) => w.grant === grant);
    if (i >= 0) this.waiters.splice(i, 1);
  }
}
