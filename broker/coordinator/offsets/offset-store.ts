// The committed offsets of every group on one coordinator: OffsetCommit, OffsetFetch, OffsetDelete,
// the offsets part of DeleteGroups, and expiry after offsets.retention.minutes.
//
// How a change happens. Every operation that changes offsets is computed here without changing
// anything: it returns the response data and the records to append to __consumer_offsets. The
// caller appends those records (one batch, buildCoordinatorBatch) and, once the append succeeded,
// hands them to `apply`, which replays them exactly as loading does. So the store only ever holds
// what the log holds: a failed append changes nothing, and a restart (replaying the log through
// `replay`) rebuilds the same state. Compute, append and apply within one synchronous step: two
// computations without an apply between them both see the old state.
//
// What the store does not do: group validation (unknown group, generation or member epoch,
// NON_EMPTY_GROUP for OffsetDelete, GROUP_ID_NOT_FOUND) belongs to the group's owner, which calls
// in here once the group accepts the request. Topic ids (OffsetCommit/OffsetFetch v10) are resolved
// here through the TopicView when a request names a topic only by id. `requireStable` (OffsetFetch
// v7+) is ignored: it only matters for offsets pending in an open transaction, and Strata has no
// transactions yet, so every offset here is stable.
//
// Bounds. At most `offsetsMax` offsets are held, all groups together. A commit that would add an
// offset beyond that (a group, topic and partition not yet held) is refused for that partition with
// INVALID_COMMIT_OFFSET_SIZE, the code Kafka returns when offsets cannot be stored; updates of held
// offsets, deletes and expiry always proceed. Replay never refuses a record: the log is the truth,
// so a log written under a higher limit loads whole, and new offsets are refused until expiry or
// deletes bring the count back under the limit. Metadata is bounded by offset.metadata.max.bytes.

import assert from 'node:assert/strict';
import { ErrorCode } from '../../protocol/error-codes.js';
import { STRING_BYTES_MAX, Uuid } from '../../protocol/primitives.js';
import { encodeRecord } from '../records/codec.js';
import type { CoordinatorRecord, EncodedRecord, OffsetCommitKey, OffsetCommitValue } from '../records/types.js';
import type { CoordinatorSettings, Scheduler, TopicView } from '../types.js';
import { isOffsetExpired, type ExpiryCondition } from './expiry.js';

/** Kafka error codes this store returns that broker/protocol/error-codes.ts does not list yet. */
export const OffsetErrorCode = {
  NONE: ErrorCode.NONE,
  UNKNOWN_TOPIC_OR_PARTITION: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  OFFSET_METADATA_TOO_LARGE: 12,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  UNKNOWN_TOPIC_ID: ErrorCode.UNKNOWN_TOPIC_ID,
} as const;

/** Default for `offsetsMax`: a million offsets, each a few hundred bytes plus its metadata. */
export const OFFSETS_MAX_DEFAULT = 1_000_000;
/** Default cap on the tombstones one `expire` call returns, so one expiry batch stays well under
 *  the default max.message.bytes (1 MiB) even with long group and topic names. */
export const EXPIRE_TOMBSTONES_PER_CALL_MAX = 2_000;
/** OffsetFetch's answer for a partition without a committed offset. */
export const NO_OFFSET = -1n;

/** One committed offset as the store holds it. */
export interface CommittedOffset {
  offset: bigint;
  /** -1 when the committer did not know it. */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** Set only by commits that asked for their own retention (OffsetCommit v2-v4 retentionTimeMs). */
  expireTimestampMs: number | null;
  /** The topic's id when the commit named it (OffsetCommit v10), else Uuid.ZERO. */
  topicId: Uuid;
}

// --- Requests and results, shaped like the generated OffsetCommit/OffsetFetch/OffsetDelete
// request and response structs so a handler can pass them straight through.

export interface CommitPartitionInput {
  partitionIndex: number;
  committedOffset: bigint;
  /** -1 when unknown. */
  committedLeaderEpoch: number;
  /** Null is stored as "", as Kafka does. */
  committedMetadata: string | null;
}
export interface CommitTopicInput {
  /** May be "" when the request names the topic by id (v10+). */
  name: string;
  topicId?: Uuid;
  partitions: readonly CommitPartitionInput[];
}
export interface CommitInput {
  groupId: string;
  /** OffsetCommit v2-v4: -1 (the default) keeps the broker's retention; otherwise the offsets
   *  expire this long after the commit, whatever the group does. */
  retentionTimeMs?: bigint;
  topics: readonly CommitTopicInput[];
}
export interface PartitionError {
  partitionIndex: number;
  errorCode: number;
}
export interface CommitTopicResult {
  name: string;
  topicId: Uuid;
  partitions: PartitionError[];
}

export interface FetchTopicInput {
  name: string;
  topicId?: Uuid;
  partitionIndexes: readonly number[];
}
export interface FetchInput {
  groupId: string;
  /** Null fetches every offset the group has. */
  topics: readonly FetchTopicInput[] | null;
}
export interface FetchPartitionResult {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}
export interface FetchTopicResult {
  name: string;
  /** The topic's current id (TopicView), else the id it was committed with, else Uuid.ZERO. */
  topicId: Uuid;
  partitions: FetchPartitionResult[];
}
export interface FetchGroupResult {
  groupId: string;
  topics: FetchTopicResult[];
  errorCode: number;
}

export interface DeleteInput {
  groupId: string;
  topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[];
}
export interface DeleteTopicResult {
  name: string;
  partitions: PartitionError[];
}

/** A change to make durable: the response data, and the records to append and then `apply`. */
export interface Change<T> {
  result: T;
  records: EncodedRecord[];
}

export interface ExpireResult {
  records: EncodedRecord[];
  /** Groups all of whose offsets expire with these records, so that, once applied, the group owner
   *  may delete an Empty group as Kafka does. Groups with no offsets at all are not listed. */
  groupsLeftWithoutOffsets: string[];
  /** False when the call stopped at its tombstone cap; apply the records and call again. */
  complete: boolean;
}

export interface OffsetStoreOptions {
  settings: Pick<CoordinatorSettings, 'offsetsRetentionMs' | 'offsetMetadataMaxBytes'>;
  topics: TopicView;
  clock: Pick<Scheduler, 'nowMs'>;
  /** Most offsets held, all groups together (default OFFSETS_MAX_DEFAULT). */
  offsetsMax?: number;
}

type TopicOffsets = Map<number, CommittedOffset>;
type GroupOffsets = Map<string, TopicOffsets>;

export class OffsetStore {
  readonly offsetsMax: number;
  readonly #settings: OffsetStoreOptions['settings'];
  readonly #topics: TopicView;
  readonly #clock: Pick<Scheduler, 'nowMs'>;
  /** group → topic → partition → offset. Empty maps are removed, so a listed group has offsets. */
  readonly #groups = new Map<string, GroupOffsets>();
  #size = 0;

  constructor(opts: OffsetStoreOptions) {
    this.offsetsMax = opts.offsetsMax ?? OFFSETS_MAX_DEFAULT;
    assert.ok(Number.isSafeInteger(this.offsetsMax) && this.offsetsMax > 0, `offsetsMax ${this.offsetsMax}`);
    assert.ok(opts.settings.offsetsRetentionMs > 0, `offsets retention ${opts.settings.offsetsRetentionMs} ms`);
    assert.ok(opts.settings.offsetMetadataMaxBytes >= 0, `offset metadata max ${opts.settings.offsetMetadataMaxBytes}`);
    this.#settings = opts.settings;
    this.#topics = opts.topics;
    this.#clock = opts.clock;
  }

  /** Offsets held, all groups together. */
  get size(): number {
    return this.#size;
  }

  // -------------------------------------------------------------------------------------------------
  // Reads

  /** Groups that have at least one committed offset. */
  groupIds(): string[] {
    return [...this.#groups.keys()];
  }

  hasOffsets(groupId: string): boolean {
    return this.#groups.has(groupId);
  }

  /** Offsets one group holds. */
  offsetCount(groupId: string): number {
    let n = 0;
    for (const t of this.#groups.get(groupId)?.values() ?? []) n += t.size;
    return n;
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#groups.get(groupId)?.get(topic)?.get(partition);
  }

  /** Every offset of a group (metrics: committed offset and lag per partition). */
  *offsetsOf(groupId: string): Generator<{ topic: string; partition: number; offset: CommittedOffset }> {
    for (const [topic, parts] of this.#groups.get(groupId) ?? []) {
      for (const [partition, offset] of parts) yield { topic, partition, offset };
    }
  }

  /** The topics a group has offsets for. */
  topicsOf(groupId: string): string[] {
    return [...(this.#groups.get(groupId)?.keys() ?? [])];
  }

  // -------------------------------------------------------------------------------------------------
  // OffsetCommit

  /**
   * Validates each partition (topic and partition exist, metadata within offset.metadata.max.bytes,
   * room for a new offset) and returns the per-partition errors with one record per accepted
   * partition. Partitions fail independently, as in Kafka.
   */
  commit(input: CommitInput): Change<CommitTopicResult[]> {
    const nowMs = this.#clock.nowMs();
    const retentionTimeMs = input.retentionTimeMs ?? -1n;
    // OffsetCommit v2-v4's retention: -1 means the broker's; Kafka takes any other value as given.
    // A client may send any int64: the sum is clamped to what a number holds exactly.
    const expireTimestampMs = retentionTimeMs === -1n ? null : clampToSafe(BigInt(nowMs) + retentionTimeMs);
    const held = this.#groups.get(input.groupId);
    const added = new Set<string>();
    const records: EncodedRecord[] = [];
    const result: CommitTopicResult[] = [];
    for (const t of input.topics) {
      const resolved = this.#resolve(t.name, t.topicId);
      const out: CommitTopicResult = { name: resolved.name, topicId: t.topicId ?? Uuid.ZERO, partitions: [] };
      result.push(out);
      for (const p of t.partitions) {
        let errorCode: number = OffsetErrorCode.NONE;
        if (resolved.errorCode !== OffsetErrorCode.NONE) errorCode = resolved.errorCode;
        else if (p.partitionIndex < 0 || p.partitionIndex >= resolved.partitionCount) errorCode = OffsetErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        // Kafka compares String.length(), UTF-16 code units, with the limit: so does JS's length.
        // The record's string must also fit Kafka's 32767-byte limit, whatever the setting.
        else if (p.committedMetadata !== null && (p.committedMetadata.length > this.#settings.offsetMetadataMaxBytes || Buffer.byteLength(p.committedMetadata, 'utf8') > STRING_BYTES_MAX)) {
          errorCode = OffsetErrorCode.OFFSET_METADATA_TOO_LARGE;
        } else if (held?.get(resolved.name)?.has(p.partitionIndex) !== true) {
          const id = `${resolved.name}\u0000${p.partitionIndex}`;
          if (!added.has(id)) {
            if (this.#size + added.size >= this.offsetsMax) errorCode = OffsetErrorCode.INVALID_COMMIT_OFFSET_SIZE;
            else added.add(id);
          }
        }
        out.partitions.push({ partitionIndex: p.partitionIndex, errorCode });
        if (errorCode !== OffsetErrorCode.NONE) continue;
        const value: OffsetCommitValue = {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata ?? '',
          commitTimestampMs: BigInt(nowMs),
          expireTimestampMs: expireTimestampMs === null ? -1n : BigInt(expireTimestampMs),
          topicId: t.topicId ?? Uuid.ZERO,
        };
        records.push(encodeRecord({ type: 'offset-commit', key: { groupId: input.groupId, topic: resolved.name, partition: p.partitionIndex }, value }));
      }
    }
    return { result, records };
  }

  /** A topic named by name, or by id when the name is empty (v10+ requests). */
  #resolve(name: string, topicId: Uuid | undefined): { name: string; partitionCount: number; errorCode: number } {
    if (name === '' && topicId !== undefined && topicId !== Uuid.ZERO) {
      const byId = this.#topics.byId(topicId);
      if (byId === undefined) return { name, partitionCount: 0, errorCode: OffsetErrorCode.UNKNOWN_TOPIC_ID };
      return { name: byId.name, partitionCount: byId.partitionCount, errorCode: OffsetErrorCode.NONE };
    }
    const byName = this.#topics.byName(name);
    if (byName === undefined) return { name, partitionCount: 0, errorCode: OffsetErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    return { name, partitionCount: byName.partitionCount, errorCode: OffsetErrorCode.NONE };
  }

  // -------------------------------------------------------------------------------------------------
  // OffsetFetch

  /**
   * The committed offsets of one group: of the listed partitions (-1 with no error for partitions,
   * topics or groups without one, as Kafka answers), or of every partition it has (sorted by topic,
   * then partition) when `topics` is null. A topic named only by an unknown id gets UNKNOWN_TOPIC_ID.
   */
  fetch(input: FetchInput): FetchGroupResult {
    const group = this.#groups.get(input.groupId);
    const topics: FetchTopicResult[] = [];
    if (input.topics === null) {
      for (const name of [...(group?.keys() ?? [])].sort()) {
        const parts = group!.get(name)!;
        const partitions = [...parts.keys()].sort((a, b) => a - b).map((p) => fetched(p, parts.get(p)));
        topics.push({ name, topicId: this.#topicIdOf(name, parts), partitions });
      }
      return { groupId: input.groupId, topics, errorCode: OffsetErrorCode.NONE };
    }
    for (const t of input.topics) {
      const byIdOnly = t.name === '' && t.topicId !== undefined && t.topicId !== Uuid.ZERO;
      const name = byIdOnly ? this.#topics.byId(t.topicId!)?.name : t.name;
      if (name === undefined) {
        topics.push({
          name: '',
          topicId: t.topicId!,
          partitions: t.partitionIndexes.map((p) => ({ ...fetched(p, undefined), errorCode: OffsetErrorCode.UNKNOWN_TOPIC_ID })),
        });
        continue;
      }
      const parts = group?.get(name);
      topics.push({
        name,
        topicId: t.topicId ?? this.#topicIdOf(name, parts),
        partitions: t.partitionIndexes.map((p) => fetched(p, parts?.get(p))),
      });
    }
    return { groupId: input.groupId, topics, errorCode: OffsetErrorCode.NONE };
  }

  /** OffsetFetch v8+: several groups in one request. */
  fetchGroups(inputs: readonly FetchInput[]): FetchGroupResult[] {
    return inputs.map((i) => this.fetch(i));
  }

  #topicIdOf(name: string, parts: TopicOffsets | undefined): Uuid {
    const current = this.#topics.byName(name)?.id;
    if (current !== undefined) return current;
    for (const o of parts?.values() ?? []) if (o.topicId !== Uuid.ZERO) return o.topicId;
    return Uuid.ZERO;
  }

  // -------------------------------------------------------------------------------------------------
  // OffsetDelete, DeleteGroups, deleted topics

  /**
   * OffsetDelete, once the group owner has accepted it: partitions of a topic the group still
   * subscribes to get GROUP_SUBSCRIBED_TO_TOPIC; unknown topics or partitions get
   * UNKNOWN_TOPIC_OR_PARTITION; the others succeed, with a tombstone where an offset exists.
   */
  delete(input: DeleteInput, isSubscribed: (topic: string) => boolean): Change<DeleteTopicResult[]> {
    const group = this.#groups.get(input.groupId);
    const records: EncodedRecord[] = [];
    const result: DeleteTopicResult[] = [];
    for (const t of input.topics) {
      const known = this.#topics.byName(t.name);
      const subscribed = known !== undefined && isSubscribed(t.name);
      const partitions: PartitionError[] = [];
      for (const { partitionIndex } of t.partitions) {
        let errorCode: number = OffsetErrorCode.NONE;
        if (known === undefined || partitionIndex < 0 || partitionIndex >= known.partitionCount) errorCode = OffsetErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (subscribed) errorCode = OffsetErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        else if (group?.get(t.name)?.has(partitionIndex) === true) records.push(tombstone(input.groupId, t.name, partitionIndex));
        partitions.push({ partitionIndex, errorCode });
      }
      result.push({ name: t.name, partitions });
    }
    return { result, records };
  }

  /** DeleteGroups: a tombstone for every offset of the group; `result` is how many. */
  deleteGroup(groupId: string): Change<number> {
    const records: EncodedRecord[] = [];
    for (const { topic, partition } of this.offsetsOf(groupId)) records.push(tombstone(groupId, topic, partition));
    return { result: records.length, records };
  }

  /** Partitions that no longer exist (a deleted topic): tombstones for every group's offsets of them. */
  deletePartitions(partitions: readonly { topic: string; partition: number }[]): EncodedRecord[] {
    const records: EncodedRecord[] = [];
    for (const [groupId, group] of this.#groups) {
      for (const { topic, partition } of partitions) {
        if (group.get(topic)?.has(partition) === true) records.push(tombstone(groupId, topic, partition));
      }
    }
    return records;
  }

  // -------------------------------------------------------------------------------------------------
  // Expiry

  /**
   * The tombstones of every offset past its retention at the clock's now. `conditionFor` gives each
   * group's rule (expiry.ts), or null to keep all of a group's offsets. At most `tombstonesMax` are
   * returned; when the cap cuts a run short, `complete` is false: apply the records and call again.
   */
  expire(conditionFor: (groupId: string) => ExpiryCondition | null, tombstonesMax = EXPIRE_TOMBSTONES_PER_CALL_MAX): ExpireResult {
    assert.ok(Number.isSafeInteger(tombstonesMax) && tombstonesMax > 0, `tombstonesMax ${tombstonesMax}`);
    const nowMs = this.#clock.nowMs();
    const retentionMs = this.#settings.offsetsRetentionMs;
    const records: EncodedRecord[] = [];
    const groupsLeftWithoutOffsets: string[] = [];
    for (const [groupId, group] of this.#groups) {
      const condition = conditionFor(groupId);
      if (condition === null) continue;
      let allExpired = true;
      for (const [topic, parts] of group) {
        if (condition.isSubscribed(topic)) {
          allExpired = false;
          continue;
        }
        for (const [partition, offset] of parts) {
          if (!isOffsetExpired(offset, condition, nowMs, retentionMs)) {
            allExpired = false;
            continue;
          }
          if (records.length === tombstonesMax) return { records, groupsLeftWithoutOffsets, complete: false };
          records.push(tombstone(groupId, topic, partition));
        }
      }
      if (allExpired) groupsLeftWithoutOffsets.push(groupId);
    }
    return { records, groupsLeftWithoutOffsets, complete: true };
  }

  // -------------------------------------------------------------------------------------------------
  // Applying records: after an append succeeded, and when loading the log.

  /** Replays records this store produced, once their append succeeded. */
  apply(records: readonly EncodedRecord[]): void {
    for (const r of records) this.replay(r.record);
  }

  /**
   * Applies one offset commit record from the log: the latest record of a key wins, a tombstone
   * deletes. Other record types belong to the group owners and are refused (a caller bug).
   */
  replay(record: CoordinatorRecord): void {
    assert.equal(record.type, 'offset-commit', `the offset store replays offset commits, not ${record.type}`);
    if (record.type !== 'offset-commit') return;
    if (record.value === null) this.#remove(record.key);
    else this.#put(record.key, record.value);
  }

  #put(key: OffsetCommitKey, v: OffsetCommitValue): void {
    let group = this.#groups.get(key.groupId);
    if (group === undefined) {
      group = new Map();
      this.#groups.set(key.groupId, group);
    }
    let parts = group.get(key.topic);
    if (parts === undefined) {
      parts = new Map();
      group.set(key.topic, parts);
    }
    if (!parts.has(key.partition)) this.#size++;
    parts.set(key.partition, {
      offset: v.offset,
      leaderEpoch: v.leaderEpoch,
      metadata: v.metadata,
      // Any int64 is a valid record; times past 2^53 ms (300,000 years) are clamped, not refused.
      commitTimestampMs: clampToSafe(v.commitTimestampMs),
      expireTimestampMs: v.expireTimestampMs === -1n ? null : clampToSafe(v.expireTimestampMs),
      topicId: v.topicId,
    });
  }

  #remove(key: OffsetCommitKey): void {
    const group = this.#groups.get(key.groupId);
    const parts = group?.get(key.topic);
    if (parts === undefined || !parts.delete(key.partition)) return;
    this.#size--;
    assert.ok(this.#size >= 0, 'offset count went negative');
    if (parts.size === 0) group!.delete(key.topic);
    if (group!.size === 0) this.#groups.delete(key.groupId);
  }
}

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
function clampToSafe(v: bigint): number {
  return Number(v > SAFE_MAX ? SAFE_MAX : v < -SAFE_MAX ? -SAFE_MAX : v);
}

function fetched(partitionIndex: number, o: CommittedOffset | undefined): FetchPartitionResult {
  if (o === undefined) return { partitionIndex, committedOffset: NO_OFFSET, committedLeaderEpoch: -1, metadata: '', errorCode: OffsetErrorCode.NONE };
  return { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: OffsetErrorCode.NONE };
}

function tombstone(groupId: string, topic: string, partition: number): EncodedRecord {
  return encodeRecord({ type: 'offset-commit', key: { groupId, topic, partition }, value: null });
}
