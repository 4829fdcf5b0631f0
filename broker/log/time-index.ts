// The time index of a segment (`<baseOffset>.timeindex`), Kafka's layout: entries of
//
//   8 bytes  timestamp in ms (int64)
//   4 bytes  offset relative to the segment's base offset (int32)
//
// An entry (t, o) says: the largest timestamp in the segment up to the batch ending at offset o is
// t, and o's batch is the first to reach it. Timestamps strictly increase from entry to entry, so
// every batch before o's has a smaller maximum; a search for "first record with timestamp >= T"
// starts at the batch of the last entry with t <= T. Closing a segment appends one final entry with
// the segment's largest timestamp (even past the "full" count, as Kafka does), so a closed segment's
// largest timestamp is its last entry.
import assert from 'node:assert/strict';
import { IndexFile } from './index-file.js';
import type { FaultInjector } from './types.js';

export const TIME_INDEX_ENTRY_BYTES = 12;
const INT32_MAX = 0x7fff_ffff;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  readonly baseOffset: number;
  readonly #entryBuf = Buffer.allocUnsafe(TIME_INDEX_ENTRY_BYTES);

  constructor(file: string, baseOffset: number, maxIndexBytes: number, faults: FaultInjector) {
    super(file, TIME_INDEX_ENTRY_BYTES, maxIndexBytes, faults);
    this.baseOffset = baseOffset;
  }

  #timestampAt(i: number): number {
    return Number(this.entry(i).readBigInt64BE(0));
  }

  entryAt(i: number): TimestampOffset {
    const e = this.entry(i);
    return { timestamp: Number(e.readBigInt64BE(0)), offset: this.baseOffset + e.readInt32BE(8) };
  }

  lastEntry(): TimestampOffset | null {
    return this.entries === 0 ? null : this.entryAt(this.entries - 1);
  }

  /**
   * Appends (timestamp, offset) if the timestamp is larger than the last entry's. Negative
   * timestamps (Kafka's "none", -1) are never indexed. `final` is the closing entry, allowed past
   * the full count.
   */
  maybeAppend(timestamp: number, offset: number, final = false): void {
    if (timestamp < 0) return;
    const last = this.lastEntry();
    if (last !== null && timestamp <= last.timestamp) return;
    if (!final) assert.ok(!this.isFull, `${this.file}: append to a full index`);
    const relative = offset - this.baseOffset;
    assert.ok(relative >= 0 && relative <= INT32_MAX, `${this.file}: offset ${offset} is not within int32 of ${this.baseOffset}`);
    // Paired with problem(): offsets never decrease.
    assert.ok(last === null || offset >= last.offset, `${this.file}: offset ${offset} after ${last?.offset}`);
    assert.ok(Number.isSafeInteger(timestamp));
    this.#entryBuf.writeBigInt64BE(BigInt(timestamp), 0);
    this.#entryBuf.writeInt32BE(relative, 8);
    this.appendEntry(this.#entryBuf);
  }

  /** The last entry with timestamp <= target, or (-1, baseOffset) when there is none. */
  lookup(targetMs: number): TimestampOffset {
    const i = this.largestLowerBound(targetMs, (j) => this.#timestampAt(j));
    return i < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entryAt(i);
  }

  /** Drops entries for offsets >= `offset`. */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entryAt(keep - 1).offset >= offset) keep--;
    this.truncateToEntries(keep);
  }

  /**
   * Why this index cannot be trusted for a segment whose last offset is `lastOffset`, or null:
   * partial entries, timestamps that do not strictly increase, offsets that decrease or lie outside
   * the segment.
   */
  problem(lastOffset: number): string | null {
    const sizeProblem = this.sizeProblem();
    if (sizeProblem !== null) return sizeProblem;
    const all = this.allEntries();
    let prevTs = -1n;
    let prevRel = 0;
    for (let i = 0; i < this.entries; i++) {
      const ts = all.readBigInt64BE(i * TIME_INDEX_ENTRY_BYTES);
      const rel = all.readInt32BE(i * TIME_INDEX_ENTRY_BYTES + 8);
      if (ts <= prevTs || ts > BigInt(Number.MAX_SAFE_INTEGER)) return `entry ${i} has timestamp ${ts} after ${prevTs}`;
      if (rel < prevRel) return `entry ${i} has relative offset ${rel} after ${prevRel}`;
      if (this.baseOffset + rel > lastOffset) return `entry ${i} names offset ${this.baseOffset + rel}, beyond the segment's last offset ${lastOffset}`;
      prevTs = ts;
      prevRel = rel;
    }
    return null;
  }
}
