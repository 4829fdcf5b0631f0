// A sparse index: a file of fixed-size big-endian entries sorted by key, searched by bisection.
// OffsetIndex and TimeIndex add the entry layouts.
//
// The files are exact-size and append-only: the file length is always a whole number of entries
// (a torn last entry shows up as a length that is not, and the index is rebuilt). Kafka preallocates
// index files to segment.index.bytes so it can mmap them, and trims them when the segment rolls;
// Node has no mmap, so preallocation would buy nothing and would need a zero-entry convention to
// find the real end after a crash. "Full" is therefore a count: segmentIndexBytes / entry size.
//
// While a segment is active its index is also mirrored in memory (it is small: one entry per
// index.interval.bytes of data), so lookups on the tail, where consumers read, make no system calls.
// A closed segment's index is read from the file, one 8- or 12-byte read per bisection step.
import assert from 'node:assert/strict';
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync } from 'node:fs';
import { readAt, unlinkIfExists, writeFully } from './files.js';
import type { FaultInjector } from './types.js';

const MIRROR_INITIAL_ENTRIES = 64;

export class IndexFile {
  readonly file: string;
  readonly entryBytes: number;
  /** Entries allowed before the index counts as full. */
  readonly maxEntries: number;
  #fd: number;
  #entries: number;
  #fileBytes: number;
  /** Entry bytes mirrored in memory while writable; null once sealed. */
  #mirror: Buffer | null = null;
  readonly #scratch: Buffer;
  readonly #faults: FaultInjector;

  constructor(file: string, entryBytes: number, maxIndexBytes: number, faults: FaultInjector) {
    this.file = file;
    this.entryBytes = entryBytes;
    // May be 0 (segment.index.bytes below one entry): the index is then always full.
    this.maxEntries = Math.floor(maxIndexBytes / entryBytes);
    this.#faults = faults;
    this.#scratch = Buffer.allocUnsafe(entryBytes);
    // Read-write, created if missing; not O_APPEND, which would ignore the positions we write at.
    this.#fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o644);
    const size = fstatSync(this.#fd).size;
    // A partial trailing entry is reported by problem(); until then count whole entries only.
    this.#entries = Math.floor(size / entryBytes);
    this.#fileBytes = size;
  }

  get entries(): number {
    return this.#entries;
  }

  get isFull(): boolean {
    return this.#entries >= this.maxEntries;
  }

  get sizeBytes(): number {
    return this.#entries * this.entryBytes;
  }

  /** Keeps a memory copy of the entries so lookups avoid the file (active segments). */
  mirror(): void {
    if (this.#mirror !== null) return;
    const bytes = this.#entries * this.entryBytes;
    const buf = Buffer.allocUnsafe(Math.max(bytes, MIRROR_INITIAL_ENTRIES * this.entryBytes));
    if (bytes > 0) {
      const got = readAt(this.#fd, 0, bytes, buf.subarray(0, bytes));
      assert.equal(got.length, bytes, `${this.file}: short read of the index`);
    }
    this.#mirror = buf;
  }

  /** Drops the memory copy (the segment was closed). */
  seal(): void {
    this.#mirror = null;
  }

  /** The raw bytes of entry `i` (valid until the next call). */
  protected entry(i: number): Buffer {
    assert.ok(i >= 0 && i < this.#entries, `${this.file}: entry ${i} of ${this.#entries}`);
    const at = i * this.entryBytes;
    if (this.#mirror !== null) return this.#mirror.subarray(at, at + this.entryBytes);
    const got = readAt(this.#fd, at, this.entryBytes, this.#scratch);
    assert.equal(got.length, this.entryBytes, `${this.file}: entry ${i} is beyond the end of the file`);
    return got;
  }

  /** All entry bytes, read from the file (for checks at load). */
  protected allEntries(): Buffer {
    return readAt(this.#fd, 0, this.#fileBytes);
  }

  protected get fileBytes(): number {
    return this.#fileBytes;
  }

  protected appendEntry(bytes: Buffer): void {
    assert.equal(bytes.length, this.entryBytes);
    this.#faults('index-write', this.file);
    const at = this.#entries * this.entryBytes;
    writeFully(this.#fd, bytes, at);
    this.#entries++;
    this.#fileBytes = at + this.entryBytes;
    if (this.#mirror !== null) {
      if (this.#mirror.length < this.#fileBytes) {
        const grown = Buffer.allocUnsafe(this.#mirror.length * 2);
        this.#mirror.copy(grown, 0, 0, at);
        this.#mirror = grown;
      }
      bytes.copy(this.#mirror, at);
    }
  }

  /**
   * Index of the last entry whose key is <= target, or -1. `keyAt` reads the sort key of entry i;
   * keys never decrease, so bisection finds the boundary.
   */
  protected largestLowerBound(target: number, keyAt: (i: number) => number): number {
    let lo = 0;
    let hi = this.#entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Keeps the first `count` entries. */
  truncateToEntries(count: number): void {
    assert.ok(count >= 0 && count <= this.#entries);
    ftruncateSync(this.#fd, count * this.entryBytes);
    this.#entries = count;
    this.#fileBytes = count * this.entryBytes;
  }

  /** Empties the index (before a rebuild). */
  reset(): void {
    ftruncateSync(this.#fd, 0);
    this.#entries = 0;
    this.#fileBytes = 0;
    if (this.#mirror !== null) this.#mirror = Buffer.allocUnsafe(MIRROR_INITIAL_ENTRIES * this.entryBytes);
  }

  /** Why the file is not a whole number of entries, or null. Subclasses check the entries. */
  protected sizeProblem(): string | null {
    if (this.#fileBytes % this.entryBytes !== 0) {
      return `size ${this.#fileBytes} is not a whole number of ${this.entryBytes}-byte entries`;
    }
    return null;
  }

  flush(): void {
    this.#faults('flush', this.file);
    fsyncSync(this.#fd);
  }

  release(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
    this.#mirror = null;
  }

  deleteFile(): void {
    this.release();
    unlinkIfExists(this.file);
  }
}
