// The offset index of a segment (`<baseOffset>.index`), Kafka's layout: entries of
//
//   4 bytes  offset relative to the segment's base offset (int32)
//   4 bytes  file position in the segment's .log (int32)
//
// An entry (offset, position) says: the batch whose last offset is `offset` starts at `position`.
// Kafka keys entries by the batch's last offset too (for old message formats it was the only offset
// in the wrapper header); keeping its meaning keeps its tools' index checks valid on our files.
// Entries are taken every index.interval.bytes, so a lookup lands at most that far, plus one batch,
// before the batch wanted; the segment scans the few batch headers in between.
import assert from 'node:assert/strict';
import { IndexFile } from './index-file.js';
import type { FaultInjector } from './types.js';

export const OFFSET_INDEX_ENTRY_BYTES = 8;
const INT32_MAX = 0x7fff_ffff;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  readonly baseOffset: number;
  readonly #entryBuf = Buffer.allocUnsafe(OFFSET_INDEX_ENTRY_BYTES);

  constructor(file: string, baseOffset: number, maxIndexBytes: number, faults: FaultInjector) {
    super(file, OFFSET_INDEX_ENTRY_BYTES, maxIndexBytes, faults);
    this.baseOffset = baseOffset;
  }

  #relativeOffsetAt(i: number): number {
    return this.entry(i).readInt32BE(0);
  }

  entryAt(i: number): OffsetPosition {
    const e = this.entry(i);
    return { offset: this.baseOffset + e.readInt32BE(0), position: e.readInt32BE(4) };
  }

  lastEntry(): OffsetPosition | null {
    return this.entries === 0 ? null : this.entryAt(this.entries - 1);
  }

  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset;
    assert.ok(relative >= 0 && relative <= INT32_MAX, `${this.file}: offset ${offset} is not within int32 of ${this.baseOffset}`);
    assert.ok(position >= 0 && position <= INT32_MAX, `${this.file}: position ${position}`);
    assert.ok(!this.isFull, `${this.file}: append to a full index`);
    const last = this.lastEntry();
    if (last !== null) {
      // Paired with the checks in problem(): entries strictly increase in both offset and position.
      assert.ok(offset > last.offset && position > last.position, `${this.file}: entry (${offset}, ${position}) does not follow (${last.offset}, ${last.position})`);
    }
    this.#entryBuf.writeInt32BE(relative, 0);
    this.#entryBuf.writeInt32BE(position, 4);
    this.appendEntry(this.#entryBuf);
  }

  /** The last entry whose offset is <= target, or (baseOffset, 0): where to start scanning. */
  lookup(target: number): OffsetPosition {
    const i = this.largestLowerBound(target - this.baseOffset, (j) => this.#relativeOffsetAt(j));
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entryAt(i);
  }

  /** Drops entries for offsets >= `offset` (the log was cut there). */
  truncateTo(offset: number): void {
    const i = this.largestLowerBound(offset - 1 - this.baseOffset, (j) => this.#relativeOffsetAt(j));
    this.truncateToEntries(i + 1);
  }

  /**
   * Why this index cannot be trusted for a .log of `logBytes` bytes, or null: a size that is not whole
   * entries, offsets or positions that do not strictly increase, a position past the data.
   */
  problem(logBytes: number): string | null {
    const sizeProblem = this.sizeProblem();
    if (sizeProblem !== null) return sizeProblem;
    const all = this.allEntries();
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < this.entries; i++) {
      const rel = all.readInt32BE(i * OFFSET_INDEX_ENTRY_BYTES);
      const pos = all.readInt32BE(i * OFFSET_INDEX_ENTRY_BYTES + 4);
      if (rel < 0 || rel <= prevRel) return `entry ${i} has relative offset ${rel} after ${prevRel}`;
      if (pos < 0 || pos <= prevPos) return `entry ${i} has position ${pos} after ${prevPos}`;
      if (pos >= logBytes) return `entry ${i} points at byte ${pos}, beyond the ${logBytes}-byte segment`;
      prevRel = rel;
      prevPos = pos;
    }
    return null;
  }
}
