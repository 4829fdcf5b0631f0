// The group APIs at the wire, against the broker process: the error codes Kafka answers for bad
// input (unknown member, stale generation, a full group, commits for unknown topics), the
// MEMBER_ID_REQUIRED flow, the low versions librdkafka checks for, KIP-848 heartbeat errors, and
// committed offsets that survive a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as G from '../../broker/protocol/generated/index.js';
import { ApiKey } from '../../broker/protocol/generated/index.js';
import { ErrorCode } from '../../broker/protocol/error-codes.js';
import { CompressionCodec, buildBatch } from '../../broker/protocol/records/index.js';
import { type BrokerProcess, newDataDir, startBroker } from './harness.js';
import { WireClient } from './wire-client.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
// A subscription in the consumer protocol's own format (ConsumerProtocolSubscription v0): the
// coordinator only stores it, but DescribeGroups and OffsetDelete read the topics out of it.
function subscription(topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), int32(topics.length)];
  for (const t of topics) parts.push(int16(Buffer.byteLength(t)), Buffer.from(t));
  parts.push(int32(-1)); // null user data
  return Buffer.concat(parts);
}
function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function joinRequest(groupId: string, memberId: string, opts: Partial<G.JoinGroupRequest> = {}): G.JoinGroupRequest {
  return {
    ...G.defaultJoinGroupRequest(),
    groupId,
    memberId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(['gp-topic']) }],
    ...opts,
  };
}

let broker: BrokerProcess;
let client: WireClient;
const dataDir = newDataDir();
const OVERRIDES = ['group.initial.rebalance.delay.ms=0', 'group.max.size=2', 'offsets.topic.num.partitions=3'];

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await client.send(ApiKey.CreateTopics, 7, {
    ...G.defaultCreateTopicsRequest(),
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
  });
  expect(res.topics[0]!.errorCode).toBe(0);
}

/** Joins as a new member of a group of one (v5: MEMBER_ID_REQUIRED first) and syncs; returns the member id and generation. */
async function joinAlone(groupId: string): Promise<{ memberId: string; generationId: number }> {
  const first = await client.send(ApiKey.JoinGroup, 5, joinRequest(groupId, ''));
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  const joined = await client.send(ApiKey.JoinGroup, 5, joinRequest(groupId, first.memberId));
  expect(joined.errorCode).toBe(0);
  const synced = await client.send(ApiKey.SyncGroup, 3, {
    ...G.defaultSyncGroupRequest(),
    groupId,
    generationId: joined.generationId,
    memberId: joined.memberId,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('assigned') }],
  });
  expect(synced.errorCode).toBe(0);
  expect(synced.assignment.toString()).toBe('assigned');
  return { memberId: joined.memberId, generationId: joined.generationId };
}

beforeAll(async () => {
  broker = await startBroker({ dataDir, overrides: OVERRIDES });
  client = await WireClient.connect(broker.port);
  await createTopic('gp-topic', 2);
});
afterAll(async () => {
  client?.close();
  await broker?.stop('SIGKILL');
});

describe('group APIs at the wire', () => {
  it('FindCoordinator names this broker for groups (v0 and batched v4), and no transaction coordinator yet', async () => {
    const v0 = await client.send(ApiKey.FindCoordinator, 0, { ...G.defaultFindCoordinatorRequest(), key: 'g' });
    expect(v0).toMatchObject({ errorCode: 0, nodeId: 1, port: broker.port });
    const v4 = await client.send(ApiKey.FindCoordinator, 4, { ...G.defaultFindCoordinatorRequest(), keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(v4.coordinators.map((c) => [c.key, c.errorCode, c.nodeId])).toEqual([
      ['a', 0, 1],
      ['b', 0, 1],
    ]);
    const txn = await client.send(ApiKey.FindCoordinator, 4, { ...G.defaultFindCoordinatorRequest(), keyType: 1, coordinatorKeys: ['t'] });
    expect(txn.coordinators[0]!.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const bad = await client.send(ApiKey.FindCoordinator, 4, { ...G.defaultFindCoordinatorRequest(), keyType: 7, coordinatorKeys: ['x'] });
    expect(bad.coordinators[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('JoinGroup v0, the version librdkafka looks for, joins without MEMBER_ID_REQUIRED', async () => {
    const joined = await client.send(ApiKey.JoinGroup, 0, joinRequest('gp-v0', ''));
    expect(joined.errorCode).toBe(0);
    expect(joined.memberId).not.toBe('');
    expect(joined.leader).toBe(joined.memberId);
    expect(joined.members.map((m) => m.memberId)).toEqual([joined.memberId]);
  });

  it('Heartbeat: NONE for the member, UNKNOWN_MEMBER_ID for a stranger, ILLEGAL_GENERATION for a stale generation', async () => {
    const { memberId, generationId } = await joinAlone('gp-hb');
    const hb = (m: string, gen: number) => client.send(ApiKey.Heartbeat, 4, { ...G.defaultHeartbeatRequest(), groupId: 'gp-hb', memberId: m, generationId: gen });
    expect((await hb(memberId, generationId)).errorCode).toBe(0);
    expect((await hb('stranger', generationId)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await hb(memberId, generationId + 5)).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    const stale = await client.send(ApiKey.OffsetCommit, 8, {
      ...G.defaultOffsetCommitRequest(),
      groupId: 'gp-hb',
      generationIdOrMemberEpoch: generationId + 5,
      memberId,
      topics: [{ name: 'gp-topic', topicId: ZERO, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(stale.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('a group at group.max.size refuses the next member with GROUP_MAX_SIZE_REACHED', async () => {
    // group.max.size is 2. A joins alone; B's join starts a rebalance that A rejoins, so both are
    // members of the next generation; then C is refused while A and B stay.
    const [a, b, c] = (await Promise.all([0, 1, 2].map(() => WireClient.connect(broker.port)))) as [WireClient, WireClient, WireClient];
    try {
      const first = await a.send(ApiKey.JoinGroup, 3, joinRequest('gp-full', ''));
      expect(first.errorCode).toBe(0);
      const [aAgain, bJoined] = await Promise.all([
        (async () => {
          // A learns of the rebalance from its heartbeat, then rejoins with its member id.
          for (;;) {
            const hb = await a.send(ApiKey.Heartbeat, 3, { ...G.defaultHeartbeatRequest(), groupId: 'gp-full', memberId: first.memberId, generationId: first.generationId });
            if (hb.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) break;
            expect(hb.errorCode).toBe(0);
            await new Promise((r) => setTimeout(r, 20));
          }
          return a.send(ApiKey.JoinGroup, 3, joinRequest('gp-full', first.memberId));
        })(),
        b.send(ApiKey.JoinGroup, 3, joinRequest('gp-full', '')),
      ]);
      expect([aAgain.errorCode, bJoined.errorCode]).toEqual([0, 0]);
      expect(aAgain.generationId).toBe(first.generationId + 1);
      const refused = await c.send(ApiKey.JoinGroup, 3, joinRequest('gp-full', ''));
      expect(refused.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    } finally {
      for (const x of [a, b, c]) x.close();
    }
  });

  it('OffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION per unknown partition and commits the rest; OffsetFetch reads them back', async () => {
    const commit = await client.send(ApiKey.OffsetCommit, 8, {
      ...G.defaultOffsetCommitRequest(),
      groupId: 'gp-simple',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [
        { name: 'gp-topic', topicId: ZERO, partitions: [0, 1, 9].map((p) => ({ partitionIndex: p, committedOffset: BigInt(10 + p), committedLeaderEpoch: -1, committedMetadata: `m${p}` })) },
        { name: 'no-such-topic', topicId: ZERO, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    expect(commit.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])).toEqual([
      ['gp-topic', [[0, 0], [1, 0], [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ['no-such-topic', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ]);
    const fetched = await client.send(ApiKey.OffsetFetch, 8, {
      ...G.defaultOffsetFetchRequest(),
      groups: [{ groupId: 'gp-simple', memberId: null, memberEpoch: -1, topics: null }],
      requireStable: false,
    });
    const g = fetched.groups[0]!;
    expect(g.errorCode).toBe(0);
    expect(g.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata])])).toEqual([
      ['gp-topic', [[0, 10n, 'm0'], [1, 11n, 'm1']]],
    ]);
    const tooLong = await client.send(ApiKey.OffsetCommit, 8, {
      ...G.defaultOffsetCommitRequest(),
      groupId: 'gp-simple',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'gp-topic', topicId: ZERO, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: 'x'.repeat(5000) }] }],
    });
    expect(tooLong.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_METADATA_TOO_LARGE);
  });

  it('DeleteGroups: NON_EMPTY_GROUP with members, GROUP_ID_NOT_FOUND when unknown, and deletes an empty group with its offsets', async () => {
    await joinAlone('gp-busy');
    const del = await client.send(ApiKey.DeleteGroups, 2, { groupsNames: ['gp-busy', 'gp-never', 'gp-simple'] });
    expect(Object.fromEntries(del.results.map((r) => [r.groupId, r.errorCode]))).toEqual({
      'gp-busy': ErrorCode.NON_EMPTY_GROUP,
      'gp-never': ErrorCode.GROUP_ID_NOT_FOUND,
      'gp-simple': 0,
    });
    const fetched = await client.send(ApiKey.OffsetFetch, 8, {
      ...G.defaultOffsetFetchRequest(),
      groups: [{ groupId: 'gp-simple', memberId: null, memberEpoch: -1, topics: null }],
      requireStable: false,
    });
    expect(fetched.groups[0]!.topics).toEqual([]);
  });

  it('clients may not produce to __consumer_offsets', async () => {
    const res = await client.send(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: '__consumer_offsets',
          topicId: ZERO,
          partitionData: [{ index: 0, records: buildBatch({ compression: CompressionCodec.None, producerId: -1n, producerEpoch: -1, baseSequence: -1, records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] }) }],
        },
      ],
    });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  it('ConsumerGroupHeartbeat (KIP-848): joins and gets every partition, then FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, UNSUPPORTED_ASSIGNOR', async () => {
    const base: G.ConsumerGroupHeartbeatRequest = {
      ...G.defaultConsumerGroupHeartbeatRequest(),
      groupId: 'gp-848',
      memberId: 'member-one-0000000001',
      memberEpoch: 0,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: ['gp-topic'],
      topicPartitions: [],
    };
    const joined = await client.send(ApiKey.ConsumerGroupHeartbeat, 1, base);
    expect(joined.errorCode).toBe(0);
    expect(joined.memberEpoch).toBeGreaterThan(0);
    expect(joined.assignment?.topicPartitions.flatMap((t) => t.partitions).sort()).toEqual([0, 1]);
    const fenced = await client.send(ApiKey.ConsumerGroupHeartbeat, 1, { ...base, memberEpoch: joined.memberEpoch + 10, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null });
    expect(fenced.errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    const unknown = await client.send(ApiKey.ConsumerGroupHeartbeat, 1, { ...base, memberId: 'stranger-00000000000001', memberEpoch: 3, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null });
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const assignor = await client.send(ApiKey.ConsumerGroupHeartbeat, 1, { ...base, groupId: 'gp-848-b', serverAssignor: 'no-such-assignor' });
    expect(assignor.errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    // Both kinds of group show up with their type.
    const listed = await client.send(ApiKey.ListGroups, 5, { ...G.defaultListGroupsRequest(), statesFilter: [], typesFilter: [] });
    const types = Object.fromEntries(listed.groups.map((g) => [g.groupId, g.groupType]));
    expect(types['gp-848']).toBe('consumer');
    expect(types['gp-hb']).toBe('classic');
    const described = await client.send(ApiKey.ConsumerGroupDescribe, 0, { groupIds: ['gp-848', 'gp-hb'], includeAuthorizedOperations: false });
    expect(described.groups.map((g) => [g.groupId, g.errorCode])).toEqual([
      ['gp-848', 0],
      ['gp-hb', ErrorCode.GROUP_ID_NOT_FOUND],
    ]);
  });

  it('exports committed offsets, lag, groups by state and rebalances on /metrics', async () => {
    const batch = buildBatch({
      compression: CompressionCodec.None,
      producerId: -1n,
      producerEpoch: -1,
      baseSequence: -1,
      records: Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })),
    });
    const produced = await client.send(ApiKey.Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: 'gp-topic', topicId: ZERO, partitionData: [{ index: 0, records: batch }] }],
    });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const end = Number(produced.responses[0]!.partitionResponses[0]!.baseOffset) + 10;
    const commit = await client.send(ApiKey.OffsetCommit, 8, {
      ...G.defaultOffsetCommitRequest(),
      groupId: 'gp-lag',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'gp-topic', topicId: ZERO, partitions: [{ partitionIndex: 0, committedOffset: BigInt(end - 6), committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    expect(metrics).toContain(`kafka_consumergroup_current_offset{consumergroup="gp-lag",topic="gp-topic",partition="0"} ${end - 6}\n`);
    expect(metrics).toContain('kafka_consumergroup_lag{consumergroup="gp-lag",topic="gp-topic",partition="0"} 6\n');
    expect(metrics).toMatch(/strata_groups\{type="classic",state="Empty"\} [1-9]/);
    expect(metrics).toMatch(/strata_groups\{type="consumer",state="(Stable|Reconciling|Assigning)"\} 1/);
    expect(metrics).toMatch(/strata_group_rebalances_total\{type="classic"\} [1-9]/);
    expect(metrics).toMatch(/strata_group_rebalances_total\{type="consumer"\} [1-9]/);
  });

  it('committed offsets and group metadata survive a restart', async () => {
    const commit = await client.send(ApiKey.OffsetCommit, 8, {
      ...G.defaultOffsetCommitRequest(),
      groupId: 'gp-durable',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: 'gp-topic', topicId: ZERO, partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: 0, committedMetadata: 'kept' }] }],
    });
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(0);
    client.close();
    await broker.stop('SIGTERM');
    broker = await startBroker({ dataDir, overrides: OVERRIDES });
    client = await WireClient.connect(broker.port);
    // Loading runs in the background: retry while the group's partition is still loading.
    let fetched: G.OffsetFetchResponse | undefined;
    for (let i = 0; i < 100; i++) {
      fetched = await client.send(ApiKey.OffsetFetch, 8, {
        ...G.defaultOffsetFetchRequest(),
        groups: [{ groupId: 'gp-durable', memberId: null, memberEpoch: -1, topics: null }],
        requireStable: false,
      });
      if (fetched.groups[0]!.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(fetched!.groups[0]!.errorCode).toBe(0);
    expect(fetched!.groups[0]!.topics[0]!.partitions[0]).toMatchObject({ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: 0, metadata: 'kept' });
    const described = await client.send(ApiKey.DescribeGroups, 5, { groups: ['gp-848', 'gp-busy'], includeAuthorizedOperations: false });
    // The classic group was reloaded with its member (its session has not run out yet).
    expect(described.groups.find((g) => g.groupId === 'gp-busy')).toMatchObject({ errorCode: 0, protocolType: 'consumer' });
    const listed = await client.send(ApiKey.ListGroups, 5, { ...G.defaultListGroupsRequest(), statesFilter: [], typesFilter: ['consumer'] });
    expect(listed.groups.map((g) => g.groupId)).toContain('gp-848');
  });
});

describe('group.coordinator.rebalance.protocols', () => {
  it('without consumer, the KIP-848 APIs are not advertised', async () => {
    const b = await startBroker({ overrides: ['group.coordinator.rebalance.protocols=classic', 'offsets.topic.num.partitions=1'] });
    const c = await WireClient.connect(b.port);
    try {
      const versions = await c.send(ApiKey.ApiVersions, 3, { ...G.defaultApiVersionsRequest(), clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      const keys = versions.apiKeys.map((k) => k.apiKey);
      expect(keys).toContain(ApiKey.JoinGroup);
      expect(keys).not.toContain(ApiKey.ConsumerGroupHeartbeat);
      expect(keys).not.toContain(ApiKey.ConsumerGroupDescribe);
    } finally {
      c.close();
      await b.stop('SIGKILL');
    }
  });
});
