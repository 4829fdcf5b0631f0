// The broker's APIs at the wire: exact error codes and edge behaviour, against the broker process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as G from '../../broker/protocol/generated/index.js';
import { ApiKey } from '../../broker/protocol/generated/index.js';
import { Reader } from '../../broker/protocol/primitives.js';
import { ErrorCode } from '../../broker/protocol/error-codes.js';
import { CompressionCodec, buildBatch, iterateBatches, readRecords } from '../../broker/protocol/records/index.js';
import { type BrokerProcess, newDataDir, startBroker } from './harness.js';
import { WireClient } from './wire-client.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
let broker: BrokerProcess;
let client: WireClient;

beforeAll(async () => {
  broker = await startBroker({ dataDir: newDataDir() });
  client = await WireClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.stop('SIGKILL');
});

async function createTopic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<G.CreateTopicsResponseCreatableTopicResult> {
  const res = await client.send(ApiKey.CreateTopics, 7, {
    ...G.defaultCreateTopicsRequest(),
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })) }],
    timeoutMs: 10_000,
  });
  return res.topics[0]!;
}

function batchOf(values: string[], opts: { producerId?: bigint; producerEpoch?: number; baseSequence?: number; compression?: number; timestamp?: bigint } = {}): Buffer {
  return buildBatch({
    compression: opts.compression ?? CompressionCodec.None,
    producerId: opts.producerId ?? -1n,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    records: values.map((v) => ({ key: Buffer.from(`k-${v}`), value: Buffer.from(v), ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }) })),
  });
}

async function produce(topic: string, partition: number, records: Buffer, acks = -1, version = 9): Promise<G.ProduceResponsePartitionProduceResponse> {
  const res = await client.send(ApiKey.Produce, version, {
    transactionalId: null,
    acks,
    timeoutMs: 10_000,
    topicData: [{ name: topic, topicId: ZERO, partitionData: [{ index: partition, records }] }],
  });
  return res.responses[0]!.partitionResponses[0]!;
}

function fetchRequest(topic: string, partitions: { partition: number; offset: bigint; maxBytes?: number }[], opts: Partial<G.FetchRequest> = {}): G.FetchRequest {
  return {
    ...G.defaultFetchRequest(),
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 * 1024 * 1024,
    isolationLevel: 0,
    topics: [
      {
        topic,
        topicId: ZERO,
        partitions: partitions.map((p) => ({ ...G.defaultFetchRequestFetchPartition(), partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: p.maxBytes ?? 1024 * 1024 })),
      },
    ],
    ...opts,
  };
}

function valuesIn(records: Buffer | null): string[] {
  if (records === null) return [];
  const out: string[] = [];
  for (const b of iterateBatches(records)) for (const r of readRecords(b, { maxDecompressedBytes: 1 << 24 })) out.push(r.value!.toString());
  return out;
}

describe('ApiVersions', () => {
  it('advertises the served ranges, with the low versions old clients look for and no unstable version', async () => {
    const res = await client.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 'strata-test', clientSoftwareVersion: '1' });
    expect(res.errorCode).toBe(0);
    const range = (k: number) => res.apiKeys.find((a) => a.apiKey === k);
    expect(range(ApiKey.Produce)).toMatchObject({ minVersion: 0, maxVersion: 13 });
    expect(range(ApiKey.Fetch)).toMatchObject({ minVersion: 4 });
    expect(range(ApiKey.InitProducerId)).toMatchObject({ minVersion: 0, maxVersion: 5 });
    expect(range(ApiKey.ApiVersions)).toMatchObject({ minVersion: 0, maxVersion: 4 });
  });

  it('answers an unknown version with a v0 body, UNSUPPORTED_VERSION and the ranges', async () => {
    const frame = Buffer.alloc(4 + 10);
    frame.writeInt32BE(10, 0);
    frame.writeInt16BE(ApiKey.ApiVersions, 4);
    frame.writeInt16BE(99, 6);
    frame.writeInt32BE(4242, 8);
    frame.writeInt16BE(-1, 12); // null client id
    const answer = await client.sendRaw(frame);
    const r = new Reader(answer);
    expect(r.int32()).toBe(4242); // response header v0: correlation id only
    const body = G.decodeApiVersionsResponse(r, 0);
    expect(body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys.some((a) => a.apiKey === ApiKey.Produce)).toBe(true);
  });
});

describe('topics', () => {
  it('CreateTopics: Kafka error codes for bad names, counts, duplicates and configs', async () => {
    const res = await client.send(ApiKey.CreateTopics, 7, {
      ...G.defaultCreateTopicsRequest(),
      topics: [
        { name: 'bad name!', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'twice', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'twice', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'zero-partitions', numPartitions: 0, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'three-replicas', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] },
        { name: 'bad-config', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: 'soon' }] },
        { name: 'unknown-config', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'segment.byte', value: '1' }] },
        { name: 'x'.repeat(250), numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 10_000,
    });
    expect(res.topics.map((t) => t.errorCode)).toEqual([
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_PARTITIONS,
      ErrorCode.INVALID_REPLICATION_FACTOR,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    ]);
    expect(res.topics[5]!.errorMessage).toMatch(/retention\.ms/);
    expect(res.topics[6]!.errorMessage).toMatch(/segment\.byte/);
  });

  it('CreateTopics: ids assigned at creation, defaults with -1, validateOnly, TOPIC_ALREADY_EXISTS', async () => {
    const dry = await client.send(ApiKey.CreateTopics, 7, {
      ...G.defaultCreateTopicsRequest(),
      validateOnly: true,
      topics: [{ name: 'dry-run', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }],
    });
    expect(dry.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 1, replicationFactor: 1 });
    const created = await createTopic('made', 3, { 'cleanup.policy': 'delete' });
    expect(created.errorCode).toBe(0);
    expect(created.topicId).not.toBe(ZERO);
    expect(created.configs?.find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', configSource: 1 });
    expect((await createTopic('made')).errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    const md = await client.send(ApiKey.Metadata, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: ZERO, name: 'made' }, { topicId: ZERO, name: 'dry-run' }], allowAutoTopicCreation: false });
    expect(md.topics[0]).toMatchObject({ errorCode: 0, topicId: created.topicId });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    expect(md.topics[1]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('Metadata auto-creates when allowed, describes the new topic at once, and finds topics by id', async () => {
    const first = await client.send(ApiKey.Metadata, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: ZERO, name: 'auto-made' }], allowAutoTopicCreation: true });
    expect(first.topics[0]).toMatchObject({ errorCode: 0, name: 'auto-made' });
    expect(first.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode])).toEqual([[0, 0]]);
    const second = await client.send(ApiKey.Metadata, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: ZERO, name: 'auto-made' }], allowAutoTopicCreation: true });
    expect(second.topics[0]).toMatchObject({ errorCode: 0, topicId: first.topics[0]!.topicId });
    const byId = await client.send(ApiKey.Metadata, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: second.topics[0]!.topicId, name: null }] });
    expect(byId.topics[0]!.name).toBe('auto-made');
    const unknown = await client.send(ApiKey.Metadata, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', name: null }] });
    expect(unknown.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('CreatePartitions and DeleteTopics', async () => {
    await createTopic('grow', 2);
    const shrink = await client.send(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 1, assignments: null }], timeoutMs: 10_000, validateOnly: false });
    expect(shrink.results[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    const grow = await client.send(ApiKey.CreatePartitions, 3, { topics: [{ name: 'grow', count: 4, assignments: null }], timeoutMs: 10_000, validateOnly: false });
    expect(grow.results[0]!.errorCode).toBe(0);
    const del = await client.send(ApiKey.DeleteTopics, 6, { ...G.defaultDeleteTopicsRequest(), topics: [{ name: 'grow', topicId: ZERO }, { name: 'never-was', topicId: ZERO }] });
    expect(del.responses.map((r) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const md = await client.send(ApiKey.Metadata, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: ZERO, name: 'grow' }], allowAutoTopicCreation: false });
    expect(md.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('DescribeConfigs, AlterConfigs and IncrementalAlterConfigs', async () => {
    await createTopic('conf');
    const inc = await client.send(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'conf', configs: [{ name: 'retention.ms', configOperation: 0, value: '60000' }] }],
      validateOnly: false,
    });
    expect(inc.responses[0]!.errorCode).toBe(0);
    const described = await client.send(ApiKey.DescribeConfigs, 4, {
      resources: [
        { resourceType: 2, resourceName: 'conf', configurationKeys: ['retention.ms', 'segment.bytes'] },
        { resourceType: 4, resourceName: '1', configurationKeys: ['log.segment.bytes'] },
        { resourceType: 2, resourceName: 'no-such-topic', configurationKeys: null },
      ],
      includeSynonyms: false,
      includeDocumentation: true,
    });
    const topicConfigs = Object.fromEntries(described.results[0]!.configs.map((c) => [c.name, c]));
    expect(topicConfigs['retention.ms']).toMatchObject({ value: '60000', configSource: 1 });
    expect(topicConfigs['segment.bytes']).toMatchObject({ value: '1073741824', configSource: 5 });
    expect(described.results[1]!.configs[0]).toMatchObject({ name: 'log.segment.bytes', value: '1073741824', readOnly: false, configSource: 5 });
    expect(described.results[2]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const bad = await client.send(ApiKey.AlterConfigs, 2, {
      resources: [{ resourceType: 2, resourceName: 'conf', configs: [{ name: 'max.message.bytes', value: '-5' }] }],
      validateOnly: false,
    });
    expect(bad.responses[0]!.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(bad.responses[0]!.errorMessage).toMatch(/max\.message\.bytes/);
    const replaced = await client.send(ApiKey.AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: 'conf', configs: [] }], validateOnly: false });
    expect(replaced.responses[0]!.errorCode).toBe(0);
    const after = await client.send(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 'conf', configurationKeys: ['retention.ms'] }], includeSynonyms: false, includeDocumentation: false });
    expect(after.results[0]!.configs[0]).toMatchObject({ configSource: 5 });
  });

  it('a changed topic config applies at once, without a restart', async () => {
    await createTopic('live');
    expect((await produce('live', 0, batchOf(['y'.repeat(3000)]))).errorCode).toBe(0);
    const set = await client.send(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'live', configs: [{ name: 'max.message.bytes', configOperation: 0, value: '1000' }] }],
      validateOnly: false,
    });
    expect(set.responses[0]!.errorCode).toBe(0);
    expect((await produce('live', 0, batchOf(['y'.repeat(3000)]))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    await client.send(ApiKey.IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'live', configs: [{ name: 'max.message.bytes', configOperation: 1, value: null }] }],
      validateOnly: false,
    });
    expect((await produce('live', 0, batchOf(['y'.repeat(3000)]))).errorCode).toBe(0);
  });

  it('dynamic broker configs: cluster default and per-broker layers reach topics without overrides at once', async () => {
    await createTopic('follows-broker');
    const alterBroker = (name: string, configs: { name: string; configOperation: number; value: string | null }[]) =>
      client.send(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: name, configs }], validateOnly: false });
    expect((await alterBroker('', [{ name: 'log.retention.ms', configOperation: 0, value: '3600000' }])).responses[0]!.errorCode).toBe(0);
    expect((await alterBroker('1', [{ name: 'message.max.bytes', configOperation: 0, value: '1000' }])).responses[0]!.errorCode).toBe(0);
    const described = await client.send(ApiKey.DescribeConfigs, 4, {
      resources: [
        { resourceType: 4, resourceName: '1', configurationKeys: ['log.retention.ms', 'message.max.bytes', 'listeners'] },
        { resourceType: 2, resourceName: 'follows-broker', configurationKeys: ['retention.ms'] },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const broker = Object.fromEntries(described.results[0]!.configs.map((c) => [c.name, c]));
    expect(broker['log.retention.ms']).toMatchObject({ value: '3600000', configSource: 3, readOnly: false });
    expect(broker['message.max.bytes']).toMatchObject({ value: '1000', configSource: 2 });
    expect(broker['listeners']).toMatchObject({ readOnly: true });
    expect(described.results[1]!.configs[0]).toMatchObject({ name: 'retention.ms', value: '3600000' });
    expect((await produce('follows-broker', 0, batchOf(['z'.repeat(3000)]))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    const fixed = await alterBroker('1', [{ name: 'listeners', configOperation: 0, value: 'PLAINTEXT://127.0.0.1:1' }]);
    expect(fixed.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: expect.stringMatching(/listeners/) });
    const bad = await alterBroker('', [{ name: 'log.segment.bytes', configOperation: 0, value: 'huge' }]);
    expect(bad.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: expect.stringMatching(/log\.segment\.bytes/) });
    expect((await alterBroker('1', [{ name: 'message.max.bytes', configOperation: 1, value: null }])).responses[0]!.errorCode).toBe(0);
    expect((await produce('follows-broker', 0, batchOf(['z'.repeat(3000)]))).errorCode).toBe(0);
    expect((await alterBroker('', [{ name: 'log.retention.ms', configOperation: 1, value: null }])).responses[0]!.errorCode).toBe(0);
  });

  it('DescribeCluster names this broker', async () => {
    const res = await client.send(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false });
    expect(res.brokers).toEqual([expect.objectContaining({ brokerId: 1, host: '127.0.0.1', port: broker.port })]);
    expect(res.clusterId).toBeTruthy();
  });
});

describe('produce', () => {
  it('acks 0 gets no answer, 1 and -1 do, other values INVALID_REQUIRED_ACKS', async () => {
    await createTopic('acks');
    expect((await produce('acks', 0, batchOf(['a']), 1)).baseOffset).toBe(0n);
    expect((await produce('acks', 0, batchOf(['b']), -1)).baseOffset).toBe(1n);
    // acks=0: nothing comes back, so the next request's answer is the next frame on the wire.
    const spec = G.apiSpec(ApiKey.Produce)!;
    const { encodeRequestFrame } = await import('../../broker/protocol/frame.js');
    const noAck = Buffer.concat(encodeRequestFrame(spec, 9, 999, 'x', { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'acks', topicId: ZERO, partitionData: [{ index: 0, records: batchOf(['c']) }] }] }));
    const md = await client.sendRaw(Buffer.concat([noAck, ...encodeRequestFrame(G.apiSpec(ApiKey.Metadata)!, 12, 1000, 'x', { ...G.defaultMetadataRequest(), topics: [] })]));
    expect(md.readInt32BE(0)).toBe(1000);
    expect((await produce('acks', 0, batchOf(['d']), -1)).baseOffset).toBe(3n);
    expect((await produce('acks', 0, batchOf(['e']), 2)).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
  });

  it('a bad CRC is CORRUPT_MESSAGE, an oversized batch MESSAGE_TOO_LARGE, an unknown partition UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await createTopic('checks', 1, { 'max.message.bytes': '2000' });
    const corrupt = batchOf(['x', 'y']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect((await produce('checks', 0, corrupt)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect((await produce('checks', 0, batchOf(['z'.repeat(5000)]))).errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect((await produce('checks', 7, batchOf(['w']))).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await produce('checks', 0, batchOf(['ok']))).errorCode).toBe(0);
  });

  it('idempotent producers: duplicates answer the original offset, gaps OUT_OF_ORDER_SEQUENCE_NUMBER, old epochs are fenced', async () => {
    await createTopic('idem');
    const init = await client.send(ApiKey.InitProducerId, 5, { ...G.defaultInitProducerIdRequest(), transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(init.errorCode).toBe(0);
    const pid = init.producerId;
    const b0 = batchOf(['s0', 's1'], { producerId: pid, producerEpoch: 0, baseSequence: 0 });
    expect((await produce('idem', 0, Buffer.from(b0))).baseOffset).toBe(0n);
    const b1 = batchOf(['s2'], { producerId: pid, producerEpoch: 0, baseSequence: 2 });
    expect((await produce('idem', 0, Buffer.from(b1))).baseOffset).toBe(2n);
    expect((await produce('idem', 0, Buffer.from(b0))).baseOffset).toBe(0n); // a retry of an earlier batch
    expect((await produce('idem', 0, batchOf(['gap'], { producerId: pid, producerEpoch: 0, baseSequence: 9 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await produce('idem', 0, batchOf(['new'], { producerId: pid, producerEpoch: 1, baseSequence: 0 }))).baseOffset).toBe(3n);
    expect((await produce('idem', 0, batchOf(['old'], { producerId: pid, producerEpoch: 0, baseSequence: 3 }))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const fetched = await client.send(ApiKey.Fetch, 12, fetchRequest('idem', [{ partition: 0, offset: 0n }]));
    expect(valuesIn(fetched.responses[0]!.partitions[0]!.records)).toEqual(['s0', 's1', 's2', 'new']);
    const empty = await client.send(ApiKey.InitProducerId, 5, { ...G.defaultInitProducerIdRequest(), transactionalId: '' });
    expect(empty.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const second = await client.send(ApiKey.InitProducerId, 5, { ...G.defaultInitProducerIdRequest(), transactionalId: null, transactionTimeoutMs: 60_000 });
    expect(second.producerId).not.toBe(pid);
  });
});

describe('fetch', () => {
  it('long-polls until records arrive', async () => {
    await createTopic('poll');
    const other = await WireClient.connect(broker.port);
    try {
      const waiting = other.send(ApiKey.Fetch, 12, fetchRequest('poll', [{ partition: 0, offset: 0n }], { maxWaitMs: 20_000, minBytes: 1 }), 30_000);
      await new Promise((r) => setTimeout(r, 200));
      await produce('poll', 0, batchOf(['woke']));
      const res = await waiting;
      expect(valuesIn(res.responses[0]!.partitions[0]!.records)).toEqual(['woke']);
    } finally {
      other.close();
    }
  });

  it('returns nothing after MaxWaitMs when MinBytes is not reached', async () => {
    await createTopic('idle');
    const res = await client.send(ApiKey.Fetch, 12, fetchRequest('idle', [{ partition: 0, offset: 0n }], { maxWaitMs: 100, minBytes: 1 }));
    expect(res.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 0n });
    expect(valuesIn(res.responses[0]!.partitions[0]!.records)).toEqual([]);
  });

  it('byte limits: the first batch comes whole even when larger, later partitions wait for room', async () => {
    await createTopic('limits', 2);
    await produce('limits', 0, batchOf(['a'.repeat(3000)]));
    await produce('limits', 0, batchOf(['b'.repeat(3000)]));
    await produce('limits', 1, batchOf(['c'.repeat(3000)]));
    const res = await client.send(
      ApiKey.Fetch,
      12,
      fetchRequest('limits', [
        { partition: 0, offset: 0n, maxBytes: 100 },
        { partition: 1, offset: 0n, maxBytes: 100 },
      ]),
    );
    const [p0, p1] = res.responses[0]!.partitions;
    expect(valuesIn(p0!.records)).toEqual(['a'.repeat(3000)]);
    expect(valuesIn(p1!.records)).toEqual([]);
    const total = await client.send(ApiKey.Fetch, 12, fetchRequest('limits', [{ partition: 0, offset: 0n }, { partition: 1, offset: 0n }], { maxBytes: 4000 }));
    expect(valuesIn(total.responses[0]!.partitions[0]!.records)).toEqual(['a'.repeat(3000)]);
    expect(valuesIn(total.responses[0]!.partitions[1]!.records)).toEqual([]);
  });

  it('isolation levels: LastStableOffset always set, AbortedTransactions a list for read_committed', async () => {
    await createTopic('iso');
    await produce('iso', 0, batchOf(['1', '2']));
    const committed = await client.send(ApiKey.Fetch, 12, fetchRequest('iso', [{ partition: 0, offset: 0n }], { isolationLevel: 1 }));
    expect(committed.responses[0]!.partitions[0]).toMatchObject({ highWatermark: 2n, lastStableOffset: 2n, abortedTransactions: [] });
    const uncommitted = await client.send(ApiKey.Fetch, 12, fetchRequest('iso', [{ partition: 0, offset: 0n }], { isolationLevel: 0 }));
    expect(uncommitted.responses[0]!.partitions[0]).toMatchObject({ lastStableOffset: 2n, abortedTransactions: null });
    const outOfRange = await client.send(ApiKey.Fetch, 12, fetchRequest('iso', [{ partition: 0, offset: 10n }]));
    expect(outOfRange.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  });
});

describe('offsets', () => {
  it('ListOffsets: earliest, latest, by timestamp, max timestamp', async () => {
    await createTopic('times');
    await produce('times', 0, batchOf(['t100'], { timestamp: 1_700_000_000_100n }));
    await produce('times', 0, batchOf(['t300'], { timestamp: 1_700_000_000_300n }));
    await produce('times', 0, batchOf(['t200'], { timestamp: 1_700_000_000_200n }));
    const ask = async (timestamp: bigint) => {
      const res = await client.send(ApiKey.ListOffsets, 8, {
        ...G.defaultListOffsetsRequest(),
        replicaId: -1,
        topics: [{ name: 'times', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
      });
      return res.topics[0]!.partitions[0]!;
    };
    expect((await ask(-2n)).offset).toBe(0n);
    expect((await ask(-1n)).offset).toBe(3n);
    expect(await ask(1_700_000_000_150n)).toMatchObject({ offset: 1n, timestamp: 1_700_000_000_300n });
    expect(await ask(-3n)).toMatchObject({ offset: 1n, timestamp: 1_700_000_000_300n });
    expect((await ask(1_800_000_000_000n)).offset).toBe(-1n);
  });

  it('DeleteRecords moves the log start; reads below it are OFFSET_OUT_OF_RANGE', async () => {
    await createTopic('trim');
    for (const v of ['a', 'b', 'c', 'd']) await produce('trim', 0, batchOf([v]));
    const del = await client.send(ApiKey.DeleteRecords, 2, { topics: [{ name: 'trim', partitions: [{ partitionIndex: 0, offset: 2n }] }], timeoutMs: 10_000 });
    expect(del.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 2n });
    const past = await client.send(ApiKey.DeleteRecords, 2, { topics: [{ name: 'trim', partitions: [{ partitionIndex: 0, offset: 99n }] }], timeoutMs: 10_000 });
    expect(past.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const below = await client.send(ApiKey.Fetch, 12, fetchRequest('trim', [{ partition: 0, offset: 0n }]));
    expect(below.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const from = await client.send(ApiKey.Fetch, 12, fetchRequest('trim', [{ partition: 0, offset: 2n }]));
    expect(valuesIn(from.responses[0]!.partitions[0]!.records)).toEqual(['c', 'd']);
  });

  it('OffsetForLeaderEpoch: the end of epoch 0 is the log end', async () => {
    await createTopic('epochs');
    await produce('epochs', 0, batchOf(['a', 'b', 'c']));
    const res = await client.send(ApiKey.OffsetForLeaderEpoch, 4, {
      replicaId: -1,
      topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 0, currentLeaderEpoch: 5, leaderEpoch: 0 }] }],
    });
    expect(res.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 3n });
    expect(res.topics[0]!.partitions[1]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});

describe('producer state survives restarts', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal}, a retried batch is still a duplicate and a gap still out of order`, async () => {
      const dataDir = newDataDir();
      let b = await startBroker({ dataDir });
      let c = await WireClient.connect(b.port);
      try {
        await c.send(ApiKey.CreateTopics, 7, { ...G.defaultCreateTopicsRequest(), topics: [{ name: 'state', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }] });
        const { producerId } = await c.send(ApiKey.InitProducerId, 5, { ...G.defaultInitProducerIdRequest(), transactionalId: null, transactionTimeoutMs: 60_000 });
        const send = (records: Buffer) =>
          c.send(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: 'state', topicId: ZERO, partitionData: [{ index: 0, records }] }] }).then((r) => r.responses[0]!.partitionResponses[0]!);
        const last = batchOf(['p2', 'p3'], { producerId, producerEpoch: 0, baseSequence: 2 });
        await send(batchOf(['p0', 'p1'], { producerId, producerEpoch: 0, baseSequence: 0 }));
        expect((await send(Buffer.from(last))).baseOffset).toBe(2n);
        c.close();
        await b.stop(signal);
        b = await startBroker({ dataDir });
        c = await WireClient.connect(b.port);
        expect(await send(Buffer.from(last))).toMatchObject({ errorCode: 0, baseOffset: 2n });
        expect((await send(batchOf(['gap'], { producerId, producerEpoch: 0, baseSequence: 7 }))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
        expect((await send(batchOf(['p4'], { producerId, producerEpoch: 0, baseSequence: 4 }))).baseOffset).toBe(4n);
        const { producerId: fresh } = await c.send(ApiKey.InitProducerId, 5, { ...G.defaultInitProducerIdRequest(), transactionalId: null, transactionTimeoutMs: 60_000 });
        expect(fresh).not.toBe(producerId); // ids are never handed out twice, even across restarts
      } finally {
        c.close();
        await b.stop('SIGKILL');
      }
    });
  }
});

describe('dynamic broker configs survive restarts', () => {
  it('a cluster-wide default set at run time is applied again at the next start', async () => {
    const dataDir = newDataDir();
    let b = await startBroker({ dataDir });
    let c = await WireClient.connect(b.port);
    try {
      const set = await c.send(ApiKey.IncrementalAlterConfigs, 1, {
        resources: [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.segment.bytes', configOperation: 0, value: '2097152' }] }],
        validateOnly: false,
      });
      expect(set.responses[0]!.errorCode).toBe(0);
      c.close();
      expect(await b.stop('SIGTERM')).toBe(0);
      b = await startBroker({ dataDir });
      c = await WireClient.connect(b.port);
      const described = await c.send(ApiKey.DescribeConfigs, 4, {
        resources: [{ resourceType: 4, resourceName: '1', configurationKeys: ['log.segment.bytes'] }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      expect(described.results[0]!.configs[0]).toMatchObject({ value: '2097152', configSource: 3 });
    } finally {
      c.close();
      await b.stop('SIGKILL');
    }
  });
});
