import { afterEach, describe, expect, it } from 'vitest';
import { PartitionLog } from '../../log/index.js';
import { makeTempDir, testConfig } from '../../log/testing.js';
import { Uuid } from '../../protocol/primitives.js';
import { decodeRecord } from '../records/codec.js';
import { buildCoordinatorBatch, loadCoordinatorLog } from '../records/log-io.js';
import type { TopicView } from '../types.js';
import { ExpiryConditions, classicGroupExpiry } from './expiry.js';
import { OffsetErrorCode as E, OffsetStore, type Change, type CommitInput, type CommitPartitionInput } from './offset-store.js';

const T0 = 1_700_000_000_000;
const RETENTION_MS = 7 * 24 * 3600 * 1000;
const ORDERS_ID = 'AAECAwQFBgcICQoLDA0ODw';
const PAYMENTS_ID = '8PHy8_T19vf4-fr7_P3-_w';

class Clock {
  constructor(public now = T0) {}
  nowMs = (): number => this.now;
}

function topicView(): TopicView {
  const topics = [
    { name: 'orders', id: ORDERS_ID, partitionCount: 3 },
    { name: 'payments', id: PAYMENTS_ID, partitionCount: 1 },
  ];
  return {
    byName: (n) => topics.find((t) => t.name === n),
    byId: (id) => topics.find((t) => t.id === id),
    names: () => topics.map((t) => t.name),
  };
}

function makeStore(opts: { offsetsMax?: number; metadataMax?: number } = {}): { store: OffsetStore; clock: Clock } {
  const clock = new Clock();
  const store = new OffsetStore({
    settings: { offsetsRetentionMs: RETENTION_MS, offsetMetadataMaxBytes: opts.metadataMax ?? 4096 },
    topics: topicView(),
    clock,
    ...(opts.offsetsMax !== undefined ? { offsetsMax: opts.offsetsMax } : {}),
  });
  return { store, clock };
}

/** What the coordinator does: the append succeeds, then the records are applied. */
function durable<T>(store: OffsetStore, change: Change<T>): T {
  store.apply(change.records);
  return change.result;
}

const part = (partitionIndex: number, offset: bigint, metadata: string | null = null, epoch = -1): CommitPartitionInput => ({
  partitionIndex,
  committedOffset: offset,
  committedLeaderEpoch: epoch,
  committedMetadata: metadata,
});
const commitOf = (groupId: string, topic: string, parts: CommitPartitionInput[], extra: Partial<CommitInput> = {}): CommitInput => ({
  groupId,
  topics: [{ name: topic, partitions: parts }],
  ...extra,
});

function offsetsOf(store: OffsetStore, groupId: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const { topic, partition, offset } of store.offsetsOf(groupId)) out[`${topic}-${partition}`] = offset.offset;
  return out;
}

describe('commit and fetch', () => {
  it('stores offset, leader epoch and metadata, and fetches them back', () => {
    const { store } = makeStore();
    const result = durable(store, store.commit(commitOf('g', 'orders', [part(0, 10n, 'm0', 5), part(2, 20n, null)])));
    expect(result).toEqual([{ name: 'orders', topicId: Uuid.ZERO, partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 2, errorCode: 0 }] }]);
    expect(store.fetch({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1, 2] }] })).toEqual({
      groupId: 'g',
      errorCode: 0,
      topics: [
        {
          name: 'orders',
          topicId: ORDERS_ID,
          partitions: [
            { partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: 5, metadata: 'm0', errorCode: 0 },
            // No offset: -1, no error, as Kafka answers.
            { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
            // Null metadata is stored as "".
            { partitionIndex: 2, committedOffset: 20n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
    });
  });

  it('writes one OffsetCommitValue v4 record per accepted partition, stamped with the clock', () => {
    const { store, clock } = makeStore();
    clock.now = T0 + 123;
    const change = store.commit(commitOf('g', 'orders', [part(1, 7n, 'x', 2)]));
    expect(change.records).toHaveLength(1);
    expect(change.records[0]!.value!.readInt16BE(0)).toBe(4);
    expect(decodeRecord(change.records[0]!.key, change.records[0]!.value)).toEqual({
      type: 'offset-commit',
      key: { groupId: 'g', topic: 'orders', partition: 1 },
      value: { offset: 7n, leaderEpoch: 2, metadata: 'x', commitTimestampMs: BigInt(T0 + 123), expireTimestampMs: -1n, topicId: Uuid.ZERO },
    });
  });

  it('changes nothing until the records are applied (a failed append leaves the store as it was)', () => {
    const { store } = makeStore();
    store.commit(commitOf('g', 'orders', [part(0, 10n)]));
    expect(store.size).toBe(0);
    expect(store.fetch({ groupId: 'g', topics: null }).topics).toEqual([]);
  });

  it('the latest commit of a partition wins', () => {
    const { store } = makeStore();
    durable(store, store.commit(commitOf('g', 'orders', [part(0, 10n)])));
    durable(store, store.commit(commitOf('g', 'orders', [part(0, 11n), part(0, 12n)])));
    expect(offsetsOf(store, 'g')).toEqual({ 'orders-0': 12n });
    expect(store.size).toBe(1);
  });

  it('fetches every offset of a group, sorted, when no topics are named; nothing for an unknown group', () => {
    const { store } = makeStore();
    durable(store, store.commit({ groupId: 'g', topics: [{ name: 'payments', partitions: [part(0, 1n)] }, { name: 'orders', partitions: [part(2, 3n), part(0, 2n)] }] }));
    const all = store.fetch({ groupId: 'g', topics: null });
    expect(all.topics.map((t) => [t.name, t.topicId, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([
      ['orders', ORDERS_ID, [[0, 2n], [2, 3n]]],
      ['payments', PAYMENTS_ID, [[0, 1n]]],
    ]);
    expect(store.fetch({ groupId: 'nobody', topics: null })).toEqual({ groupId: 'nobody', topics: [], errorCode: 0 });
    expect(store.fetch({ groupId: 'nobody', topics: [{ name: 'orders', partitionIndexes: [0] }] }).topics[0]!.partitions[0]!.committedOffset).toBe(-1n);
  });

  it('answers several groups at once (OffsetFetch v8+)', () => {
    const { store } = makeStore();
    durable(store, store.commit(commitOf('a', 'orders', [part(0, 1n)])));
    durable(store, store.commit(commitOf('b', 'orders', [part(0, 2n)])));
    const out = store.fetchGroups([
      { groupId: 'a', topics: [{ name: 'orders', partitionIndexes: [0] }] },
      { groupId: 'b', topics: null },
    ]);
    expect(out.map((g) => [g.groupId, g.topics[0]!.partitions[0]!.committedOffset])).toEqual([
      ['a', 1n],
      ['b', 2n],
    ]);
  });
});

describe('commit validation, per partition', () => {
  it('unknown topics and partitions get UNKNOWN_TOPIC_OR_PARTITION; the rest of the request succeeds', () => {
    const { store } = makeStore();
    const change = store.commit({
      groupId: 'g',
      topics: [
        { name: 'nope', partitions: [part(0, 1n)] },
        { name: 'orders', partitions: [part(3, 1n), part(-1, 1n), part(1, 5n)] },
      ],
    });
    expect(change.result.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [E.UNKNOWN_TOPIC_OR_PARTITION],
      [E.UNKNOWN_TOPIC_OR_PARTITION, E.UNKNOWN_TOPIC_OR_PARTITION, E.NONE],
    ]);
    expect(change.records).toHaveLength(1);
    durable(store, change);
    expect(offsetsOf(store, 'g')).toEqual({ 'orders-1': 5n });
  });

  it('metadata longer than offset.metadata.max.bytes gets OFFSET_METADATA_TOO_LARGE (Kafka counts UTF-16 units)', () => {
    const { store } = makeStore({ metadataMax: 4 });
    const change = store.commit(commitOf('g', 'orders', [part(0, 1n, 'abcd'), part(1, 1n, 'abcde'), part(2, 1n, 'éééé')]));
    expect(change.result[0]!.partitions.map((p) => p.errorCode)).toEqual([E.NONE, E.OFFSET_METADATA_TOO_LARGE, E.NONE]);
    expect(change.records).toHaveLength(2);
  });

  it('metadata that cannot fit a record string is refused even under a larger setting', () => {
    const { store } = makeStore({ metadataMax: 100_000 });
    const change = store.commit(commitOf('g', 'orders', [part(0, 1n, 'é'.repeat(20_000))]));
    expect(change.result[0]!.partitions[0]!.errorCode).toBe(E.OFFSET_METADATA_TOO_LARGE);
    expect(change.records).toHaveLength(0);
  });

  it('resolves a topic named only by id (v10), and answers UNKNOWN_TOPIC_ID for an unknown id', () => {
    const { store } = makeStore();
    const change = store.commit({
      groupId: 'g',
      topics: [
        { name: '', topicId: PAYMENTS_ID, partitions: [part(0, 9n)] },
        { name: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [part(0, 9n)] },
      ],
    });
    expect(change.result).toEqual([
      { name: 'payments', topicId: PAYMENTS_ID, partitions: [{ partitionIndex: 0, errorCode: E.NONE }] },
      { name: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, errorCode: E.UNKNOWN_TOPIC_ID }] },
    ]);
    durable(store, change);
    expect(store.committed('g', 'payments', 0)!.topicId).toBe(PAYMENTS_ID);
    const byId = store.fetch({ groupId: 'g', topics: [{ name: '', topicId: PAYMENTS_ID, partitionIndexes: [0] }, { name: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionIndexes: [0] }] });
    expect(byId.topics.map((t) => [t.name, t.partitions[0]!.committedOffset, t.partitions[0]!.errorCode])).toEqual([
      ['payments', 9n, E.NONE],
      ['', -1n, E.UNKNOWN_TOPIC_ID],
    ]);
  });

  it('a retention time (OffsetCommit v2-v4) becomes an expire timestamp, written as OffsetCommitValue v1', () => {
    const { store, clock } = makeStore();
    const change = store.commit(commitOf('g', 'orders', [part(0, 1n, null, 3)], { retentionTimeMs: 60_000n }));
    expect(change.records[0]!.value!.readInt16BE(0)).toBe(1);
    durable(store, change);
    expect(store.committed('g', 'orders', 0)).toMatchObject({ expireTimestampMs: T0 + 60_000, leaderEpoch: -1 });
    // Any int64 is accepted; the sum is clamped rather than thrown.
    clock.now = T0;
    const huge = store.commit(commitOf('g', 'orders', [part(1, 1n)], { retentionTimeMs: (1n << 63n) - 1n }));
    durable(store, huge);
    expect(store.committed('g', 'orders', 1)!.expireTimestampMs).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('the bound on offsets held', () => {
  it('refuses offsets beyond offsetsMax with INVALID_COMMIT_OFFSET_SIZE, and still updates held ones', () => {
    const { store } = makeStore({ offsetsMax: 2 });
    // One partition named twice counts once.
    const first = store.commit(commitOf('g', 'orders', [part(0, 1n), part(0, 2n), part(1, 1n), part(2, 1n)]));
    expect(first.result[0]!.partitions.map((p) => p.errorCode)).toEqual([E.NONE, E.NONE, E.NONE, E.INVALID_COMMIT_OFFSET_SIZE]);
    durable(store, first);
    expect(store.size).toBe(2);

    const second = store.commit({ groupId: 'h', topics: [{ name: 'payments', partitions: [part(0, 1n)] }] });
    expect(second.result[0]!.partitions[0]!.errorCode).toBe(E.INVALID_COMMIT_OFFSET_SIZE);
    expect(store.commit(commitOf('g', 'orders', [part(1, 50n)])).result[0]!.partitions[0]!.errorCode).toBe(E.NONE);

    // Deleting makes room again.
    durable(store, store.delete({ groupId: 'g', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] }, () => false));
    expect(store.size).toBe(1);
    expect(store.commit({ groupId: 'h', topics: [{ name: 'payments', partitions: [part(0, 1n)] }] }).result[0]!.partitions[0]!.errorCode).toBe(E.NONE);
  });

  it('replay loads past the bound (the log is the truth) and new offsets are refused until back under it', () => {
    const big = makeStore();
    durable(big.store, big.store.commit(commitOf('g', 'orders', [part(0, 1n), part(1, 1n), part(2, 1n)])));
    const small = makeStore({ offsetsMax: 2 });
    for (const { topic, partition, offset } of big.store.offsetsOf('g')) {
      small.store.replay({
        type: 'offset-commit',
        key: { groupId: 'g', topic, partition },
        value: { offset: offset.offset, leaderEpoch: -1, metadata: '', commitTimestampMs: BigInt(T0), expireTimestampMs: -1n, topicId: Uuid.ZERO },
      });
    }
    expect(small.store.size).toBe(3);
    expect(small.store.commit(commitOf('x', 'payments', [part(0, 1n)])).result[0]!.partitions[0]!.errorCode).toBe(E.INVALID_COMMIT_OFFSET_SIZE);
  });
});

describe('OffsetDelete, DeleteGroups, deleted topics', () => {
  it('tombstones held offsets; subscribed topics get GROUP_SUBSCRIBED_TO_TOPIC, unknown ones UNKNOWN_TOPIC_OR_PARTITION', () => {
    const { store } = makeStore();
    durable(store, store.commit({ groupId: 'g', topics: [{ name: 'orders', partitions: [part(0, 1n), part(1, 1n)] }, { name: 'payments', partitions: [part(0, 1n)] }] }));
    const change = store.delete(
      {
        groupId: 'g',
        topics: [
          { name: 'orders', partitions: [{ partitionIndex: 0 }, { partitionIndex: 2 }, { partitionIndex: 9 }] },
          { name: 'payments', partitions: [{ partitionIndex: 0 }] },
          { name: 'nope', partitions: [{ partitionIndex: 0 }] },
        ],
      },
      (topic) => topic === 'payments',
    );
    expect(change.result).toEqual([
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, errorCode: E.NONE },
          // No offset held: success, no tombstone.
          { partitionIndex: 2, errorCode: E.NONE },
          { partitionIndex: 9, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      { name: 'payments', partitions: [{ partitionIndex: 0, errorCode: E.GROUP_SUBSCRIBED_TO_TOPIC }] },
      { name: 'nope', partitions: [{ partitionIndex: 0, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    expect(change.records.map((r) => [decodeRecord(r.key, r.value), r.value])).toEqual([
      [{ type: 'offset-commit', key: { groupId: 'g', topic: 'orders', partition: 0 }, value: null }, null],
    ]);
    durable(store, change);
    expect(offsetsOf(store, 'g')).toEqual({ 'orders-1': 1n, 'payments-0': 1n });
  });

  it('DeleteGroups tombstones every offset of the group and the group stops being listed', () => {
    const { store } = makeStore();
    durable(store, store.commit(commitOf('g', 'orders', [part(0, 1n), part(1, 1n)])));
    durable(store, store.commit(commitOf('h', 'orders', [part(0, 1n)])));
    expect(store.groupIds().sort()).toEqual(['g', 'h']);
    const change = store.deleteGroup('g');
    expect(change.result).toBe(2);
    expect(change.records.every((r) => r.value === null)).toBe(true);
    durable(store, change);
    expect(store.groupIds()).toEqual(['h']);
    expect(store.hasOffsets('g')).toBe(false);
    expect(store.size).toBe(1);
    expect(store.deleteGroup('nobody')).toEqual({ result: 0, records: [] });
  });

  it('deleted partitions lose their offsets in every group', () => {
    const { store } = makeStore();
    durable(store, store.commit(commitOf('g', 'orders', [part(0, 1n), part(1, 1n)])));
    durable(store, store.commit(commitOf('h', 'orders', [part(1, 1n)])));
    store.apply(store.deletePartitions([{ topic: 'orders', partition: 1 }]));
    expect(offsetsOf(store, 'g')).toEqual({ 'orders-0': 1n });
    expect(store.hasOffsets('h')).toBe(false);
  });
});

describe('expiry after offsets.retention.minutes', () => {
  function withOffsets(): { store: OffsetStore; clock: Clock } {
    const s = makeStore();
    durable(s.store, s.store.commit({ groupId: 'g', topics: [{ name: 'orders', partitions: [part(0, 1n)] }, { name: 'payments', partitions: [part(0, 1n)] }] }));
    return s;
  }

  it('a standalone consumer: each offset expires retention after its commit, not a millisecond before', () => {
    const { store, clock } = withOffsets();
    clock.now = T0 + RETENTION_MS - 1;
    expect(store.expire(() => ExpiryConditions.standalone()).records).toHaveLength(0);
    clock.now = T0 + RETENTION_MS;
    const run = store.expire(() => ExpiryConditions.standalone());
    expect(run.records).toHaveLength(2);
    expect(run.groupsLeftWithoutOffsets).toEqual(['g']);
    expect(run.complete).toBe(true);
    store.apply(run.records);
    expect(store.hasOffsets('g')).toBe(false);
  });

  it('an Empty classic group: retention counts from when it became Empty, or from the commit if unknown', () => {
    const { store, clock } = withOffsets();
    const emptySince = T0 + 1000;
    clock.now = T0 + RETENTION_MS;
    expect(store.expire(() => ExpiryConditions.classicEmpty(emptySince)).records).toHaveLength(0);
    clock.now = emptySince + RETENTION_MS;
    expect(store.expire(() => ExpiryConditions.classicEmpty(emptySince)).records).toHaveLength(2);
    clock.now = T0 + RETENTION_MS;
    expect(store.expire(() => ExpiryConditions.classicEmpty(null)).records).toHaveLength(2);
  });

  it('a group with members keeps its offsets; a Stable consumer group keeps those of subscribed topics', () => {
    const { store, clock } = withOffsets();
    clock.now = T0 + 10 * RETENTION_MS;
    expect(store.expire(() => null)).toEqual({ records: [], groupsLeftWithoutOffsets: [], complete: true });
    const run = store.expire(() => ExpiryConditions.classicStableConsumer(new Set(['orders'])));
    expect(run.records.map((r) => decodeRecord(r.key, r.value))).toEqual([
      { type: 'offset-commit', key: { groupId: 'g', topic: 'payments', partition: 0 }, value: null },
    ]);
    expect(run.groupsLeftWithoutOffsets).toEqual([]);
    expect(store.expire(() => ExpiryConditions.consumerGroup(new Set(['orders', 'payments']))).records).toHaveLength(0);
  });

  it('an offset committed with its own retention expires at its expire timestamp', () => {
    const { store, clock } = makeStore();
    durable(store, store.commit(commitOf('g', 'orders', [part(0, 1n)], { retentionTimeMs: 5_000n })));
    clock.now = T0 + 4_999;
    expect(store.expire(() => ExpiryConditions.classicEmpty(null)).records).toHaveLength(0);
    clock.now = T0 + 5_000;
    expect(store.expire(() => ExpiryConditions.classicEmpty(null)).records).toHaveLength(1);
  });

  it('stops at the tombstone cap and says so; the next call continues once the records are applied', () => {
    const { store, clock } = withOffsets();
    clock.now = T0 + RETENTION_MS;
    const first = store.expire(() => ExpiryConditions.standalone(), 1);
    expect(first).toMatchObject({ complete: false, groupsLeftWithoutOffsets: [] });
    expect(first.records).toHaveLength(1);
    store.apply(first.records);
    const second = store.expire(() => ExpiryConditions.standalone(), 1);
    expect(second).toMatchObject({ complete: true, groupsLeftWithoutOffsets: ['g'] });
    store.apply(second.records);
    expect(store.size).toBe(0);
  });

  it('classicGroupExpiry picks Kafka’s rule from the group’s protocol type and state', () => {
    const base = { currentStateTimestampMs: T0, subscribedTopics: new Set(['orders']) } as const;
    const fake = { offset: 0n, leaderEpoch: -1, metadata: '', commitTimestampMs: 5, expireTimestampMs: null, topicId: Uuid.ZERO };
    expect(classicGroupExpiry({ ...base, protocolType: '', state: 'Stable' })!.baseTimestampMs(fake)).toBe(5);
    expect(classicGroupExpiry({ ...base, protocolType: 'consumer', state: 'Empty' })!.baseTimestampMs(fake)).toBe(T0);
    const stable = classicGroupExpiry({ ...base, protocolType: 'consumer', state: 'Stable' })!;
    expect([stable.isSubscribed('orders'), stable.isSubscribed('payments'), stable.baseTimestampMs(fake)]).toEqual([true, false, 5]);
    expect(classicGroupExpiry({ ...base, protocolType: 'consumer', state: 'PreparingRebalance' })).toBeNull();
    expect(classicGroupExpiry({ ...base, protocolType: 'connect', state: 'Stable' })).toBeNull();
    expect(classicGroupExpiry({ ...base, protocolType: 'consumer', state: 'Stable', subscribedTopics: null })).toBeNull();
  });
});

describe('rebuilding from the log', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('a store loaded from __consumer_offsets holds what the one that wrote it held', async () => {
    const tmp = makeTempDir('strata-offsets-');
    const log = PartitionLog.open({ dir: `${tmp.dir}/__consumer_offsets-0`, config: testConfig(), nowMs: () => T0 });
    cleanups.push(() => {
      log.close();
      tmp.cleanup();
    });
    const { store, clock } = makeStore();
    // The coordinator's write path: compute, append, apply.
    const write = <T>(change: Change<T>): T => {
      if (change.records.length > 0) {
        log.appendAsLeader(buildCoordinatorBatch(change.records, { timestampMs: clock.now }), 0);
        log.updateHighWatermark(log.logEndOffset);
      }
      return durable(store, change);
    };
    write(store.commit({ groupId: 'g', topics: [{ name: 'orders', partitions: [part(0, 1n, 'a', 1), part(1, 1n)] }] }));
    write(store.commit({ groupId: 'h', topics: [{ name: 'payments', partitions: [part(0, 5n)] }] }));
    clock.now += 1000;
    write(store.commit(commitOf('g', 'orders', [part(0, 2n, 'b', 2)], { retentionTimeMs: 10_000n })));
    write(store.delete({ groupId: 'g', topics: [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }] }, () => false));
    write(store.deleteGroup('h'));

    const reloaded = makeStore().store;
    const summary = await loadCoordinatorLog(log, (r) => reloaded.replay(r), { chunkBytes: 64, maxDecompressedBytes: 1 << 20, yieldBetweenChunks: async () => {} });
    expect(summary.records).toBe(6);
    expect(reloaded.size).toBe(store.size);
    expect(reloaded.groupIds()).toEqual(['g']);
    expect(reloaded.fetch({ groupId: 'g', topics: null })).toEqual(store.fetch({ groupId: 'g', topics: null }));
    expect(reloaded.committed('g', 'orders', 0)).toEqual({
      offset: 2n,
      leaderEpoch: -1, // v1 (retention given) has no leader epoch, as in Kafka
      metadata: 'b',
      commitTimestampMs: T0 + 1000,
      expireTimestampMs: T0 + 11_000,
      topicId: Uuid.ZERO,
    });
    expect(reloaded.committed('g', 'orders', 0)).toEqual(store.committed('g', 'orders', 0));
  });

  it('refuses to replay records that are not offset commits (they belong to the group owners)', () => {
    const { store } = makeStore();
    expect(() => store.replay({ type: 'group-metadata', key: { groupId: 'g' }, value: null })).toThrow();
  });
});
