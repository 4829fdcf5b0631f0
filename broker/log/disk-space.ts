// Refuses appends before a log directory's disk is full, so that a full disk costs produce requests a
// KAFKA_STORAGE_ERROR and nothing else: index entries, checkpoints and producer snapshots, which are
// written after the data, always find room, and the logs stay online and readable.
//
// Free space comes from statfs, asked again at most every REFRESH_MS and whenever the estimate
// (last answer minus what was appended since) falls under the reserve. An append is refused while
// the free space would drop below `reserveBytes`. The segment's own ENOSPC handling stays the last
// line of defence for writers outside the broker filling the disk between two checks.
import { statfsSync } from 'node:fs';
import { LogError } from './errors.js';

const REFRESH_MS = 1000;

export class DiskSpaceGuard {
  #freeBytes = Number.POSITIVE_INFINITY;
  #checkedMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly dir: string,
    readonly reserveBytes: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Free bytes as last measured, less what was appended since. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  #refresh(now: number): void {
    const s = statfsSync(this.dir, { bigint: false });
    this.#freeBytes = s.bavail * s.bsize;
    this.#checkedMs = now;
  }

  /** Throws KAFKA_STORAGE_ERROR when appending `bytes` would leave less than the reserve. */
  check(bytes: number): void {
    const now = this.nowMs();
    if (now - this.#checkedMs >= REFRESH_MS || this.#freeBytes - bytes < this.reserveBytes) this.#refresh(now);
    if (this.#freeBytes - bytes < this.reserveBytes) {
      throw new LogError(
        'KAFKA_STORAGE_ERROR',
        `log directory ${this.dir} has ${this.#freeBytes} bytes free, and ${bytes} more would leave less than the ${this.reserveBytes} it keeps in reserve`,
      );
    }
    this.#freeBytes -= bytes;
  }
}
