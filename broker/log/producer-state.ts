// Idempotent producer state of one partition: for each producer id, its epoch and the metadata of
// its last five batches, enough to recognise a retried batch and to check sequence continuity.
//
// The checks, as Kafka (2.5+, KIP-360) makes them for client appends:
//   - epoch below the producer's current one: INVALID_PRODUCER_EPOCH (a zombie; 47 since Kafka 2.7)
//   - same epoch, first and last sequence equal to one of the cached batches: a duplicate; the append
//     is skipped and the original offsets answered, without an error
//   - new epoch (a bump): the first sequence must be 0, else OUT_OF_ORDER_SEQUENCE_NUMBER
//   - same epoch: the first sequence must follow the last one (int32 wrap-around: MAX → 0)
//   - a producer id with no state at all accepts any sequence: its state may have been lost to
//     retention, DeleteRecords or eviction, and refusing would fence a healthy producer (this is why
//     Kafka stopped answering UNKNOWN_PRODUCER_ID).
//
// State survives restarts through snapshots, `<20-digit offset>.snapshot`, holding the state after
// every batch below that offset. They are written at segment roll and at clean close; at load the
// newest valid one at or below the log end is read and the batches after it are replayed.
//
// Snapshot format (version 1), big-endian:
//   4  magic "SPST"
//   2  version (1)
//   4  CRC-32C of every byte after this field
//   8  snapshot offset
//   4  producer count
//   per producer: 8 producerId, 2 epoch, 8 lastTimestamp, 1 batch count (<= 5), then per batch:
//                 4 firstSeq, 4 lastSeq, 8 firstOffset, 8 lastOffset, 8 timestamp
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32c } from '../protocol/records/index.js';
import { LogError } from './errors.js';
import { unlinkIfExists, writeFileAtomic } from './files.js';
import { segmentFileName } from './segment.js';
import type { FaultInjector, LogLogger } from './types.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the producer keeps at most 5 batches in flight. */
export const BATCHES_RETAINED_PER_PRODUCER = 5;
/**
 * Producers tracked per partition. Kafka bounds the map by expiring idle producers
 * (producer.id.expiration.ms); Strata also caps its size, evicting the least recently appending
 * producer, whose next batch is then accepted as from an unknown producer.
 */
export const PRODUCER_IDS_MAX_DEFAULT = 10_000;
export const SNAPSHOT_FILE_SUFFIX = '.snapshot';

const SNAPSHOT_MAGIC = Buffer.from('SPST', 'latin1');
const SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER_BYTES = 4 + 2 + 4 + 8 + 4;
const PRODUCER_FIXED_BYTES = 8 + 2 + 8 + 1;
const BATCH_META_BYTES = 4 + 4 + 8 + 8 + 8;
const INT32_MAX = 0x7fff_ffff;

export interface ProducerBatchMeta {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's max timestamp as stored. */
  timestamp: number;
}

export interface ProducerEntry {
  producerId: bigint;
  epoch: number;
  lastTimestamp: number;
  /** Oldest first, at most BATCHES_RETAINED_PER_PRODUCER. */
  batches: ProducerBatchMeta[];
}

/** A producer batch as the checks need it. */
export interface ProducerBatch {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** The batch's last sequence: base + delta, wrapping past int32 max to 0 as Kafka's producer does. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function cloneEntry(e: ProducerEntry): ProducerEntry {
  return { producerId: e.producerId, epoch: e.epoch, lastTimestamp: e.lastTimestamp, batches: e.batches.map((b) => ({ ...b })) };
}

function addBatch(e: ProducerEntry, epoch: number, meta: ProducerBatchMeta): void {
  if (e.epoch !== epoch) {
    e.epoch = epoch;
    e.batches = [];
  }
  if (e.batches.length === BATCHES_RETAINED_PER_PRODUCER) e.batches.shift();
  e.batches.push(meta);
  e.lastTimestamp = meta.timestamp;
}

export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  readonly code = 'PRODUCER_SNAPSHOT_MALFORMED';
}

/**
 * The producer checks of one append, staged: batches of one request are checked against the state
 * as earlier batches of the same request left it, and nothing changes until commit().
 */
export class ProducerAppend {
  readonly #manager: ProducerStateManager;
  readonly #staged = new Map<bigint, ProducerEntry>();

  constructor(manager: ProducerStateManager) {
    this.#manager = manager;
  }

  #current(producerId: bigint): ProducerEntry | undefined {
    return this.#staged.get(producerId) ?? this.#manager.get(producerId);
  }

  /** The cached batch this one repeats, or null. Checked before anything else, as Kafka does. */
  findDuplicate(b: ProducerBatch): ProducerBatchMeta | null {
    const e = this.#current(b.producerId);
    if (e === undefined || e.epoch !== b.producerEpoch) return null;
    const lastSeq = lastSequenceOf(b.baseSequence, b.lastOffsetDelta);
    return e.batches.find((m) => m.firstSeq === b.baseSequence && m.lastSeq === lastSeq) ?? null;
  }

  /** Checks epoch and sequence (throws LogError) and stages the batch. */
  checkAndStage(b: ProducerBatch): void {
    const current = this.#current(b.producerId);
    if (current !== undefined) {
      if (b.producerEpoch < current.epoch) {
        throw new LogError(
          'INVALID_PRODUCER_EPOCH',
          `producer ${b.producerId} sent epoch ${b.producerEpoch}, older than its current epoch ${current.epoch}`,
        );
      }
      if (b.producerEpoch !== current.epoch) {
        if (b.baseSequence !== 0) {
          throw new LogError(
            'OUT_OF_ORDER_SEQUENCE_NUMBER',
            `producer ${b.producerId} started epoch ${b.producerEpoch} at sequence ${b.baseSequence}; a new epoch starts at 0`,
          );
        }
      } else {
        const last = current.batches.at(-1);
        // An entry with no batches (its epoch known from a marker, later) accepts any sequence.
        if (last !== undefined && !inSequence(last.lastSeq, b.baseSequence)) {
          throw new LogError(
            'OUT_OF_ORDER_SEQUENCE_NUMBER',
            `producer ${b.producerId} epoch ${b.producerEpoch} sent sequence ${b.baseSequence}; expected ${last.lastSeq === INT32_MAX ? 0 : last.lastSeq + 1}`,
          );
        }
      }
    }
    this.#stage(b);
  }

  #stage(b: ProducerBatch): void {
    let e = this.#staged.get(b.producerId);
    if (e === undefined) {
      const committed = this.#manager.get(b.producerId);
      e = committed !== undefined ? cloneEntry(committed) : { producerId: b.producerId, epoch: b.producerEpoch, lastTimestamp: -1, batches: [] };
      this.#staged.set(b.producerId, e);
    }
    addBatch(e, b.producerEpoch, {
      firstSeq: b.baseSequence,
      lastSeq: lastSequenceOf(b.baseSequence, b.lastOffsetDelta),
      firstOffset: b.baseOffset,
      lastOffset: b.lastOffset,
      timestamp: b.maxTimestamp,
    });
  }

  commit(): void {
    for (const e of this.#staged.values()) this.#manager.put(e);
    this.#staged.clear();
  }
}

export class ProducerStateManager {
  readonly dir: string;
  readonly producerIdsMax: number;
  /** Insertion order is recency: put() re-inserts, so the first key is the least recent producer. */
  readonly #producers = new Map<bigint, ProducerEntry>();
  readonly #logger: LogLogger;
  readonly #faults: FaultInjector;

  constructor(dir: string, opts: { logger: LogLogger; faults: FaultInjector; producerIdsMax?: number }) {
    this.dir = dir;
    this.#logger = opts.logger;
    this.#faults = opts.faults;
    this.producerIdsMax = opts.producerIdsMax ?? PRODUCER_IDS_MAX_DEFAULT;
    assert.ok(this.producerIdsMax >= 1);
  }

  get size(): number {
    return this.#producers.size;
  }

  get(producerId: bigint): ProducerEntry | undefined {
    return this.#producers.get(producerId);
  }

  entries(): IterableIterator<ProducerEntry> {
    return this.#producers.values();
  }

  put(e: ProducerEntry): void {
    this.#producers.delete(e.producerId);
    this.#producers.set(e.producerId, e);
    while (this.#producers.size > this.producerIdsMax) {
      const oldest = this.#producers.keys().next().value as bigint;
      this.#producers.delete(oldest);
    }
  }

  beginAppend(): ProducerAppend {
    return new ProducerAppend(this);
  }

  /** Applies a batch read back from the log, unchecked (the checks ran when it was appended). */
  replay(b: ProducerBatch): void {
    if (b.producerId < 0n) return;
    const committed = this.#producers.get(b.producerId);
    const e = committed ?? { producerId: b.producerId, epoch: b.producerEpoch, lastTimestamp: -1, batches: [] };
    addBatch(e, b.producerEpoch, {
      firstSeq: b.baseSequence,
      lastSeq: lastSequenceOf(b.baseSequence, b.lastOffsetDelta),
      firstOffset: b.baseOffset,
      lastOffset: b.lastOffset,
      timestamp: b.maxTimestamp,
    });
    this.put(e);
  }

  clear(): void {
    this.#producers.clear();
  }

  // -------------------------------------------------------------------------------------------------
  // Snapshots

  /** Offsets of the snapshot files present, ascending. */
  snapshotOffsets(): number[] {
    const out: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = /^(\d{20})\.snapshot$/.exec(name);
      if (m !== null) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  #file(offset: number): string {
    return path.join(this.dir, segmentFileName(offset, SNAPSHOT_FILE_SUFFIX));
  }

  encodeSnapshot(offset: number): Buffer {
    let bytes = SNAPSHOT_HEADER_BYTES;
    for (const e of this.#producers.values()) bytes += PRODUCER_FIXED_BYTES + e.batches.length * BATCH_META_BYTES;
    const buf = Buffer.alloc(bytes);
    SNAPSHOT_MAGIC.copy(buf, 0);
    buf.writeUInt16BE(SNAPSHOT_VERSION, 4);
    buf.writeBigInt64BE(BigInt(offset), 10);
    buf.writeUInt32BE(this.#producers.size, 18);
    let p = SNAPSHOT_HEADER_BYTES;
    for (const e of this.#producers.values()) {
      buf.writeBigInt64BE(e.producerId, p);
      buf.writeInt16BE(e.epoch, p + 8);
      buf.writeBigInt64BE(BigInt(e.lastTimestamp), p + 10);
      buf.writeUInt8(e.batches.length, p + 18);
      p += PRODUCER_FIXED_BYTES;
      for (const m of e.batches) {
        buf.writeInt32BE(m.firstSeq, p);
        buf.writeInt32BE(m.lastSeq, p + 4);
        buf.writeBigInt64BE(BigInt(m.firstOffset), p + 8);
        buf.writeBigInt64BE(BigInt(m.lastOffset), p + 16);
        buf.writeBigInt64BE(BigInt(m.timestamp), p + 24);
        p += BATCH_META_BYTES;
      }
    }
    assert.equal(p, bytes);
    buf.writeUInt32BE(crc32c(buf.subarray(10)), 6);
    return buf;
  }

  /** Decodes a snapshot; throws SnapshotFormatError for anything but a well-formed version 1 file. */
  static decodeSnapshot(buf: Buffer, what: string): { offset: number; entries: ProducerEntry[] } {
    const bad = (why: string) => new SnapshotFormatError(`${what}: ${why}`);
    if (buf.length < SNAPSHOT_HEADER_BYTES) throw bad(`${buf.length} bytes is shorter than the header`);
    if (!buf.subarray(0, 4).equals(SNAPSHOT_MAGIC)) throw bad('bad magic');
    const version = buf.readUInt16BE(4);
    if (version !== SNAPSHOT_VERSION) throw bad(`version ${version}, expected ${SNAPSHOT_VERSION}`);
    if (crc32c(buf.subarray(10)) !== buf.readUInt32BE(6)) throw bad('CRC mismatch');
    const num = (v: bigint, name: string): number => {
      if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${name} ${v} out of range`);
      return Number(v);
    };
    const offset = num(buf.readBigInt64BE(10), 'offset');
    const count = buf.readUInt32BE(18);
    if (count > (buf.length - SNAPSHOT_HEADER_BYTES) / PRODUCER_FIXED_BYTES) throw bad(`claims ${count} producers, more than fit`);
    const entries: ProducerEntry[] = [];
    let p = SNAPSHOT_HEADER_BYTES;
    for (let i = 0; i < count; i++) {
      if (p + PRODUCER_FIXED_BYTES > buf.length) throw bad(`producer ${i} runs past the end`);
      const producerId = buf.readBigInt64BE(p);
      const epoch = buf.readInt16BE(p + 8);
      const lastTimestamp = num(buf.readBigInt64BE(p + 10), 'lastTimestamp');
      const n = buf.readUInt8(p + 18);
      if (n > BATCHES_RETAINED_PER_PRODUCER) throw bad(`producer ${producerId} has ${n} batches`);
      p += PRODUCER_FIXED_BYTES;
      if (p + n * BATCH_META_BYTES > buf.length) throw bad(`producer ${producerId}'s batches run past the end`);
      const batches: ProducerBatchMeta[] = [];
      for (let j = 0; j < n; j++) {
        batches.push({
          firstSeq: buf.readInt32BE(p),
          lastSeq: buf.readInt32BE(p + 4),
          firstOffset: num(buf.readBigInt64BE(p + 8), 'firstOffset'),
          lastOffset: num(buf.readBigInt64BE(p + 16), 'lastOffset'),
          timestamp: num(buf.readBigInt64BE(p + 24), 'timestamp'),
        });
        p += BATCH_META_BYTES;
      }
      entries.push({ producerId, epoch, lastTimestamp, batches });
    }
    if (p !== buf.length) throw bad(`${buf.length - p} bytes after the last producer`);
    return { offset, entries };
  }

  /** Writes `<offset>.snapshot` with the current state (the state after every batch below offset). */
  takeSnapshot(offset: number): void {
    writeFileAtomic(this.dir, segmentFileName(offset, SNAPSHOT_FILE_SUFFIX), this.encodeSnapshot(offset), this.#faults);
  }

  /**
   * Replaces the state with the newest readable snapshot at or below `maxOffset` and returns its
   * offset, or null when there is none. Unreadable snapshots are logged and deleted.
   */
  loadLatestSnapshot(maxOffset: number): number | null {
    const offsets = this.snapshotOffsets().filter((o) => o <= maxOffset);
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      const file = this.#file(offset);
      try {
        const snap = ProducerStateManager.decodeSnapshot(readFileSync(file), file);
        if (snap.offset !== offset) throw new SnapshotFormatError(`${file}: holds offset ${snap.offset}`);
        this.#producers.clear();
        for (const e of snap.entries) this.put(e);
        return offset;
      } catch (e) {
        if (!(e instanceof SnapshotFormatError)) throw e;
        this.#logger.warn('producer snapshot unreadable, deleting it and trying an older one', { file, reason: e.message });
        unlinkIfExists(file);
      }
    }
    this.#producers.clear();
    return null;
  }

  /** Deletes snapshots below `offset` (their segments are gone). */
  deleteSnapshotsBefore(offset: number): void {
    for (const o of this.snapshotOffsets()) if (o < offset) unlinkIfExists(this.#file(o));
  }

  /** Deletes snapshots above `offset` (the log was cut below them). */
  deleteSnapshotsAfter(offset: number): void {
    for (const o of this.snapshotOffsets()) if (o > offset) unlinkIfExists(this.#file(o));
  }
}
