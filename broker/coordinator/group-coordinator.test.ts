// The coordinator wired to real partition logs with a manual clock: offsets expire after
// offsets.retention.minutes and stay expired after a reload, groups reload from __consumer_offsets,
// and a partition that is still loading answers COORDINATOR_LOAD_IN_PROGRESS while others serve.
import { afterEach, describe, expect, it } from 'vitest';
import * as G from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { TopicRegistry } from '../cluster/topics.js';
import { LogDirectories } from '../log/log-dirs.js';
import { PartitionLog } from '../log/partition-log.js';
import { makeTempDir, testConfig } from '../log/testing.js';
import { silentLogger } from '../observability/logger.js';
import type { RequestInfo } from '../handlers/context.js';
import { ManualScheduler, flush, joinRequest, syncRequest } from './classic/testing.js';
import { GroupCoordinator, OFFSETS_TOPIC } from './group-coordinator.js';
import type { CoordinatorSettings } from './types.js';
import { partitionFor } from './records/index.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
const RETENTION_MS = 60 * 60_000;
const CHECK_MS = 10 * 60_000;
const settings: CoordinatorSettings = {
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 600_000,
  maxGroupSize: 100,
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5000,
  consumerMaxGroupSize: 100,
  consumerAssignors: ['uniform', 'range'],
  offsetsRetentionMs: RETENTION_MS,
  offsetMetadataMaxBytes: 4096,
  maxGroups: 1000,
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Topic overrides as the broker maps them, for the keys these tests use. */
function configFor(o: Record<string, string>) {
  return testConfig({
    ...(o['segment.bytes'] === undefined ? {} : { segmentBytes: Number(o['segment.bytes']) }),
    ...(o['cleanup.policy'] === undefined ? {} : { cleanupPolicy: { delete: o['cleanup.policy'].includes('delete'), compact: o['cleanup.policy'].includes('compact') } }),
  });
}

function setup(dir: string, scheduler: ManualScheduler, segmentBytes = 1024 * 1024) {
  const dirs = new LogDirectories({ paths: [dir], nodeId: 1, newClusterId: () => 'test-cluster', logger: silentLogger });
  const topics = new TopicRegistry(dirs, { open: (r) => PartitionLog.open({ dir: r.dir, config: r.config, nowMs: () => scheduler.nowMs() }), configFor }, silentLogger);
  if (topics.get('orders') === undefined) topics.create('orders', 2, {});
  const coordinator = new GroupCoordinator({
    topics,
    settings,
    offsetsTopic: { numPartitions: 3, segmentBytes },
    offsetsRetentionCheckIntervalMs: CHECK_MS,
    consumerProtocolEnabled: true,
    log: silentLogger,
    scheduler,
  });
  return { topics, coordinator };
}

/** Moves the clock one expiry check at a time, letting each check's write finish. */
async function advance(scheduler: ManualScheduler, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += CHECK_MS) {
    scheduler.advance(Math.min(CHECK_MS, ms - done));
    await flush();
  }
}

function info(version: number): RequestInfo {
  return { header: { ...G.defaultRequestHeader(), clientId: 'test-client' }, version, clientAddress: '127.0.0.1', onResponseReleased: () => {} };
}

async function commit(c: GroupCoordinator, groupId: string, offset: bigint): Promise<number[]> {
  const res = await c.offsetCommit(
    {
      ...G.defaultOffsetCommitRequest(),
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'orders', topicId: ZERO, partitions: [0, 1].map((p) => ({ partitionIndex: p, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null })) }],
    },
    info(8),
  );
  return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
}

function fetched(c: GroupCoordinator, groupId: string): { errorCode: number; offsets: bigint[] } {
  const res = c.offsetFetch({ ...G.defaultOffsetFetchRequest(), groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }] }, info(8));
  const g = res.groups[0]!;
  return { errorCode: g.errorCode, offsets: g.topics.flatMap((t) => t.partitions.map((p) => p.committedOffset)) };
}

describe('GroupCoordinator', () => {
  it('expires a standalone group offsets after offsets.retention.minutes, and they stay gone after a reload', async () => {
    const { dir, cleanup } = makeTempDir('strata-coord-');
    cleanups.push(cleanup);
    const scheduler = new ManualScheduler();
    let { topics, coordinator } = setup(dir, scheduler);
    await coordinator.start();
    expect(await commit(coordinator, 'old', 5n)).toEqual([0, 0]);
    await advance(scheduler, RETENTION_MS / 2);
    expect(await commit(coordinator, 'fresh', 7n)).toEqual([0, 0]);
    // Past the first group's retention but not the second's: the next check expires only it.
    await advance(scheduler, RETENTION_MS / 2 + CHECK_MS);
    expect(fetched(coordinator, 'old').offsets).toEqual([]);
    expect(fetched(coordinator, 'fresh').offsets).toEqual([7n, 7n]);
    // The expired group, Empty with no offsets left, is gone too, as Kafka deletes it.
    const listed = coordinator.listGroups({ ...G.defaultListGroupsRequest(), statesFilter: [], typesFilter: [] }, info(5));
    expect(listed.groups.map((g) => g.groupId)).toEqual(['fresh']);

    coordinator.close();
    topics.closeAll();
    ({ topics, coordinator } = setup(dir, scheduler));
    await coordinator.start();
    expect(fetched(coordinator, 'old').offsets).toEqual([]);
    expect(fetched(coordinator, 'fresh').offsets).toEqual([7n, 7n]);
    coordinator.close();
    topics.closeAll();
  });

  it('writes group metadata to the partition Kafka would pick, and reloads a stable group with its members', async () => {
    const { dir, cleanup } = makeTempDir('strata-coord-');
    cleanups.push(cleanup);
    const scheduler = new ManualScheduler();
    let { topics, coordinator } = setup(dir, scheduler);
    await coordinator.start();
    // The join completes on a (zero-delay) timer of the manual clock.
    const joining = coordinator.joinGroup(joinRequest('payments'), info(3));
    scheduler.advance(0);
    const joined = await joining;
    expect(joined.errorCode).toBe(0);
    const synced = await coordinator.syncGroup(syncRequest('payments', joined.memberId, joined.generationId, { assignments: [[joined.memberId, Buffer.from('a')]] }), info(3));
    expect(synced.errorCode).toBe(0);
    const offsets = topics.get(OFFSETS_TOPIC)!;
    const expected = partitionFor('payments', 3);
    expect(offsets.partitions.map((p) => p.log.logEndOffset > 0)).toEqual([0, 1, 2].map((p) => p === expected));

    coordinator.close();
    topics.closeAll();
    ({ topics, coordinator } = setup(dir, scheduler));
    await coordinator.start();
    const described = coordinator.describeGroups({ groups: ['payments'], includeAuthorizedOperations: false }, info(5));
    expect(described.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer' });
    expect(described.groups[0]!.members.map((m) => m.memberId)).toEqual([joined.memberId]);
    coordinator.close();
    topics.closeAll();
  });

  it('__consumer_offsets is compacted: the latest commit per group survives, deleted groups go, and it reloads', async () => {
    const { dir, cleanup } = makeTempDir('strata-coord-');
    cleanups.push(cleanup);
    const scheduler = new ManualScheduler();
    let { topics, coordinator } = setup(dir, scheduler, 4096);
    await coordinator.start();
    for (let i = 1; i <= 300; i++) {
      expect(await commit(coordinator, 'kept', BigInt(i))).toEqual([0, 0]);
      expect(await commit(coordinator, 'gone', BigInt(i))).toEqual([0, 0]);
    }
    const deleted = await coordinator.deleteGroups({ groupsNames: ['gone'] }, info(2));
    expect(deleted.results[0]!.errorCode).toBe(0);
    const offsets = topics.get(OFFSETS_TOPIC)!;
    const before = offsets.partitions.reduce((n, p) => n + p.log.sizeBytes(), 0);
    for (const p of offsets.partitions) {
      while ((await p.log.compact({ maxMapEntries: 10_000, pace: async () => {}, force: true })) !== null);
    }
    const after = offsets.partitions.reduce((n, p) => n + p.log.sizeBytes(), 0);
    expect(after).toBeLessThan(before / 4);
    coordinator.close();
    topics.closeAll();

    ({ topics, coordinator } = setup(dir, scheduler, 4096));
    await coordinator.start();
    expect(fetched(coordinator, 'kept').offsets).toEqual([300n, 300n]);
    expect(fetched(coordinator, 'gone').offsets).toEqual([]);
    const listed = coordinator.listGroups({ ...G.defaultListGroupsRequest(), statesFilter: [], typesFilter: [] }, info(5));
    expect(listed.groups.map((g) => g.groupId)).toEqual(['kept']);
    coordinator.close();
    topics.closeAll();
  });

  it('creates __consumer_offsets on the first group request, not at start', async () => {
    const { dir, cleanup } = makeTempDir('strata-coord-');
    cleanups.push(cleanup);
    const scheduler = new ManualScheduler();
    const { topics, coordinator } = setup(dir, scheduler);
    await coordinator.start();
    expect(topics.get(OFFSETS_TOPIC)).toBeUndefined();
    expect(coordinator.findGroupCoordinator('first')).toBe(0);
    expect(topics.get(OFFSETS_TOPIC)?.partitions.length).toBe(3);
    expect(topics.get(OFFSETS_TOPIC)?.configs['cleanup.policy']).toBe('compact');
    expect(await commit(coordinator, 'first', 4n)).toEqual([0, 0]);
    coordinator.close();
    topics.closeAll();
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS for a group whose partition has not loaded yet', async () => {
    const { dir, cleanup } = makeTempDir('strata-coord-');
    cleanups.push(cleanup);
    const scheduler = new ManualScheduler();
    let { topics, coordinator } = setup(dir, scheduler);
    await coordinator.start();
    expect(await commit(coordinator, 'any', 1n)).toEqual([0, 0]);
    coordinator.close();
    topics.closeAll();

    ({ topics, coordinator } = setup(dir, scheduler));
    const loaded = coordinator.start();
    // Partitions load one by one after start() returns; before the first await nothing is loaded.
    expect(fetched(coordinator, 'any').errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect((await commit(coordinator, 'any', 2n))[0]).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await loaded;
    expect(fetched(coordinator, 'any')).toMatchObject({ errorCode: 0, offsets: [1n, 1n] });
    coordinator.close();
    topics.closeAll();
  });
});
