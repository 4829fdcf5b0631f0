// The leader epoch cache of a partition: which leader epoch began at which offset, persisted in
// `leader-epoch-checkpoint` (Kafka's text format: "0", the entry count, then "epoch startOffset"
// lines). Followers use it (through OffsetForLeaderEpoch) to find where their log diverges from the
// leader's; consumers use it to detect truncation after a leader change.
//
// Invariant, checked on every change: epochs and start offsets both strictly increase.
import assert from 'node:assert/strict';
import path from 'node:path';
import { formatCheckpoint, readCheckpointLines, writeFileAtomic } from './files.js';
import { NO_EPOCH, type EpochEndOffset, type FaultInjector } from './types.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
/** Kafka's UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH_OFFSET = -1;
/** A bound on the file we are willing to parse; epochs are pruned as the log start moves. */
const EPOCH_ENTRIES_MAX = 1_000_000;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  readonly dir: string;
  #entries: EpochEntry[];
  readonly #faults: FaultInjector;

  private constructor(dir: string, entries: EpochEntry[], faults: FaultInjector) {
    this.dir = dir;
    this.#entries = entries;
    this.#faults = faults;
    this.#checkInvariant();
  }

  /** An empty cache (nothing written until the first change). */
  static empty(dir: string, faults: FaultInjector): LeaderEpochCache {
    return new LeaderEpochCache(dir, [], faults);
  }

  /**
   * Reads the checkpoint. Returns null when it is absent; throws CheckpointFormatError when it does
   * not parse, and RangeError when its entries are not strictly increasing.
   */
  static load(dir: string, faults: FaultInjector): LeaderEpochCache | null {
    const lines = readCheckpointLines(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 2, EPOCH_ENTRIES_MAX);
    if (lines === null) return null;
    const entries = lines.map(([epoch, startOffset]) => ({ epoch: epoch!, startOffset: startOffset! }));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const prev = entries[i - 1];
      if (e.epoch < 0 || e.startOffset < 0 || (prev !== undefined && (e.epoch <= prev.epoch || e.startOffset <= prev.startOffset))) {
        throw new RangeError(`${LEADER_EPOCH_CHECKPOINT_FILE}: entry ${i} (${e.epoch} ${e.startOffset}) breaks the ordering`);
      }
    }
    return new LeaderEpochCache(dir, entries, faults);
  }

  #checkInvariant(): void {
    for (let i = 1; i < this.#entries.length; i++) {
      const a = this.#entries[i - 1]!;
      const b = this.#entries[i]!;
      assert.ok(b.epoch > a.epoch && b.startOffset > a.startOffset, `leader epochs out of order: ${JSON.stringify(this.#entries)}`);
    }
  }

  #persist(): void {
    this.#checkInvariant();
    writeFileAtomic(this.dir, LEADER_EPOCH_CHECKPOINT_FILE, formatCheckpoint(this.#entries.map((e) => [e.epoch, e.startOffset])), this.#faults);
  }

  entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  latestEntry(): EpochEntry | null {
    return this.#entries.at(-1) ?? null;
  }

  latestEpoch(): number {
    return this.latestEntry()?.epoch ?? NO_EPOCH;
  }

  /**
   * Records that `epoch` starts at `startOffset`, as Kafka's assign does: nothing changes when it is
   * the latest epoch already (at the same or a lower offset); otherwise entries that would break the
   * ordering (an epoch or start offset at or above the new one) are dropped first. Persists and
   * returns true when the cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    assert.ok(Number.isInteger(epoch) && epoch >= 0 && Number.isSafeInteger(startOffset) && startOffset >= 0, `assign(${epoch}, ${startOffset})`);
    const latest = this.latestEntry();
    if (latest !== null && latest.epoch === epoch && latest.startOffset <= startOffset) return false;
    while (this.#entries.length > 0) {
      const last = this.#entries.at(-1)!;
      if (last.epoch >= epoch || last.startOffset >= startOffset) this.#entries.pop();
      else break;
    }
    this.#entries.push({ epoch, startOffset });
    this.#persist();
    return true;
  }

  /** The epoch whose range holds `offset`, or -1 when the offset precedes every known epoch. */
  epochForOffset(offset: number): number {
    let found = NO_EPOCH;
    for (const e of this.#entries) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /**
   * OffsetForLeaderEpoch: for the latest epoch, the log end offset; for an older epoch, the largest
   * known epoch <= the requested one, paired with the start offset of the first epoch above the
   * requested one (where the requested epoch's data must end); for an epoch older than all known,
   * the requested epoch with the first known start offset; unknown (newer than all, or an empty
   * cache) is (-1, -1).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const undefinedResult = { leaderEpoch: NO_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === NO_EPOCH) return undefinedResult;
    const latest = this.latestEntry();
    if (latest !== null && latest.epoch === requestedEpoch) return { leaderEpoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.#entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return undefinedResult;
    let floor: EpochEntry | undefined;
    for (const e of this.#entries) {
      if (e.epoch > requestedEpoch) break;
      floor = e;
    }
    if (floor === undefined) return { leaderEpoch: requestedEpoch, endOffset: higher.startOffset };
    return { leaderEpoch: floor.epoch, endOffset: higher.startOffset };
  }

  /** The log was cut at `endOffset`: forget epochs starting at or after it. */
  truncateFromEnd(endOffset: number): void {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.startOffset < endOffset);
    if (this.#entries.length !== before) this.#persist();
  }

  /**
   * The log now starts at `startOffset`: drop epochs wholly below it and move the start of the epoch
   * holding it up to it, as Kafka does, so the first entry never points below the log.
   */
  truncateFromStart(startOffset: number): void {
    let lastBelow = -1;
    for (let i = 0; i < this.#entries.length && this.#entries[i]!.startOffset <= startOffset; i++) lastBelow = i;
    if (lastBelow < 0) return;
    const keep = this.#entries[lastBelow]!;
    if (lastBelow === 0 && keep.startOffset === startOffset) return;
    this.#entries = [{ epoch: keep.epoch, startOffset }, ...this.#entries.slice(lastBelow + 1)];
    this.#persist();
  }

  /** Rebuilds from scratch (the checkpoint was unreadable); the caller re-assigns from the batches. */
  clearAndPersist(): void {
    this.#entries = [];
    this.#persist();
  }
}
