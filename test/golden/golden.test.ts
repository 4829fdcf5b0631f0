// Golden tests: the bytes real Kafka clients send must decode field-exact through the generated
// codecs. Each test starts a capturing listener, runs a real client against it (kcat/librdkafka,
// the Apache Kafka Java client, KafkaJS 2.2.4), and then checks every captured request frame:
// - it decodes with no byte left over, and re-encoding the decoded value gives the same bytes back,
//   so every field (tagged fields included) was read exactly;
// - the fields we know the client set (client id, topic, acks, partitions) have those values;
// - produced record batches pass their CRC, carry the codec asked for, and hold exactly the keys,
//   values and headers the client was given.
// The clients are installed by `npm test`'s pretest step (hack/peers/install.sh); a missing client
// fails these tests rather than skipping them.
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRequestFrame, type DecodedRequest } from '../../broker/protocol/frame.js';
import {
  ApiKey,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeRequestHeader,
  requestHeaderVersion,
} from '../../broker/protocol/generated/index.js';
import type * as G from '../../broker/protocol/generated/index.js';
import { Reader, Writer } from '../../broker/protocol/primitives.js';
import { CompressionCodec, buildBatch, iterateBatches, readRecords } from '../../broker/protocol/records/index.js';
import { type CaptureBroker as CaptureBrokerType, CaptureBroker } from './capture-broker.js';
import {
  CLIENT_IDS,
  CODECS,
  type ClientRun,
  type Codec,
  type GoldenRecord,
  GOLDEN_RECORDS,
  type PeerClient,
  expectedRecords,
  peersAvailable,
  runJavaAdmin,
  runJavaConsume,
  runJavaProduce,
  runKafkaJsAdmin,
  runKafkaJsConsume,
  runKafkaJsProduce,
  runKcatConsume,
  runKcatProduce,
} from './clients/index.js';

const CLIENT_TIMEOUT_MS = 60_000;
const CODEC_IDS: Record<Codec, number> = {
  none: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};

const peers = peersAvailable();
let broker: CaptureBrokerType | undefined;

afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

async function capture(run: (bootstrap: string) => Promise<ClientRun>, seed?: (b: CaptureBrokerType) => void): Promise<{ b: CaptureBrokerType; run: ClientRun }> {
  expect(peers.reason, 'the real clients must be installed (npm test runs hack/peers/install.sh)').toBeUndefined();
  const b = new CaptureBroker();
  broker = b;
  const bootstrap = await b.start();
  seed?.(b);
  const result = await run(bootstrap);
  return { b, run: result };
}

function describeRun(run: ClientRun): string {
  return `exit ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/** Decodes a captured frame and checks that re-encoding it reproduces every byte. */
function decodeExact(bytes: Buffer): DecodedRequest {
  const d = decodeRequestFrame(bytes);
  const w = new Writer();
  encodeRequestHeader(w, d.header, requestHeaderVersion(d.spec, d.apiVersion));
  d.spec.encodeRequest(w, d.body, d.apiVersion);
  const again = w.toBuffer();
  expect(again.toString('hex'), `${d.spec.name} v${d.apiVersion} re-encodes to the captured bytes`).toBe(bytes.toString('hex'));
  return d;
}

/** Decodes a ConsumerProtocol message (an int16 version, then the body) exactly. */
function decodeVersioned<T>(bytes: Buffer, decode: (r: Reader, version: number) => T): T {
  const r = new Reader(bytes);
  const value = decode(r, r.int16());
  expect(r.remaining()).toBe(0);
  return value;
}

/** Every frame the client sent decodes exactly and carries the client id it was given. */
function checkAllFrames(b: CaptureBrokerType, clientId: string): DecodedRequest[] {
  expect(b.errors).toEqual([]);
  expect(b.frames.length).toBeGreaterThan(0);
  return b.frames.map((f) => {
    const d = decodeExact(f.bytes);
    expect(d.header.clientId).toBe(clientId);
    return d;
  });
}

function bodiesOf<T>(decoded: DecodedRequest[], apiKey: number): { version: number; body: T }[] {
  return decoded.filter((d) => d.spec.apiKey === apiKey).map((d) => ({ version: d.apiVersion, body: d.body as T }));
}

interface SeenRecord {
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

/** The records in the produce requests, batch by batch, with each batch's codec. */
function producedRecords(b: CaptureBrokerType, decoded: DecodedRequest[], topic: string): { codecs: number[]; records: SeenRecord[] } {
  const codecs: number[] = [];
  const records: SeenRecord[] = [];
  for (const { version, body } of bodiesOf<G.ProduceRequest>(decoded, ApiKey.Produce)) {
    for (const td of body.topicData) {
      // Produce v13 names topics by id only (KIP-516).
      if (version >= 13) expect([td.name, td.topicId]).toEqual(['', b.topicIdOf(topic)]);
      else expect(td.name).toBe(topic);
      for (const pd of td.partitionData) {
        expect(pd.index).toBe(0);
        const it = iterateBatches(pd.records!);
        for (const batch of it) {
          codecs.push(batch.header.compression);
          for (const r of readRecords(batch, { maxDecompressedBytes: 1 << 24 })) {
            records.push({
              key: r.key === null ? null : r.key.toString('utf8'),
              value: r.value === null ? null : r.value.toString('utf8'),
              headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
            });
          }
        }
        expect(it.partial).toBeNull();
      }
    }
  }
  return { codecs, records };
}

function asSeen(records: GoldenRecord[]): SeenRecord[] {
  return records.map((r) => ({ key: r.key, value: r.value, headers: r.headers }));
}

const PRODUCERS: Record<PeerClient, { clientId: string; acks: number; run: (bootstrap: string, topic: string, codec: Codec) => Promise<ClientRun> }> = {
  kcat: { clientId: CLIENT_IDS.kcat, acks: -1, run: (b, t, c) => runKcatProduce(b, t, c, CLIENT_TIMEOUT_MS) },
  java: { clientId: CLIENT_IDS.java, acks: -1, run: (b, t, c) => runJavaProduce(b, t, c, CLIENT_TIMEOUT_MS) },
  kafkajs: { clientId: CLIENT_IDS.kafkajs, acks: -1, run: (b, t, c) => runKafkaJsProduce(b, t, c, CLIENT_TIMEOUT_MS) },
};

describe('golden: produce requests from real clients, every codec', () => {
  for (const client of Object.keys(PRODUCERS) as PeerClient[]) {
    for (const codec of CODECS) {
      it(`${client} produce, ${codec}`, async () => {
        const p = PRODUCERS[client];
        const topic = `golden-${client}-${codec}`;
        const { b, run } = await capture((bootstrap) => p.run(bootstrap, topic, codec));
        expect(run.exitCode, describeRun(run)).toBe(0);
        const decoded = checkAllFrames(b, p.clientId);
        expect(decoded[0]!.spec.apiKey).toBe(ApiKey.ApiVersions);
        const metadata = bodiesOf<G.MetadataRequest>(decoded, ApiKey.Metadata);
        expect(metadata.some((m) => m.body.topics?.some((t) => t.name === topic))).toBe(true);
        const produces = bodiesOf<G.ProduceRequest>(decoded, ApiKey.Produce);
        expect(produces.length).toBeGreaterThan(0);
        for (const { body } of produces) {
          expect(body.acks).toBe(p.acks);
          expect(body.transactionalId).toBeNull();
        }
        const { codecs, records } = producedRecords(b, decoded, topic);
        expect(new Set(codecs)).toEqual(new Set([CODEC_IDS[codec]]));
        expect(records).toEqual(asSeen(expectedRecords(client)));
        if (client === 'java') {
          // The Java producer is idempotent by default: it asks for a producer id first.
          expect(bodiesOf<G.InitProducerIdRequest>(decoded, ApiKey.InitProducerId)).toHaveLength(1);
        }
      });
    }
  }
});

/** A batch of the golden records, as a broker would store it, for consumers to fetch. */
function goldenBatch(): Buffer {
  return buildBatch({
    baseOffset: 0n,
    partitionLeaderEpoch: 0,
    compression: CompressionCodec.None,
    records: GOLDEN_RECORDS.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: Buffer.from(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
    })),
  });
}

describe('golden: consumer and admin requests from real clients', () => {
  it('kcat consume: Metadata, ListOffsets and Fetch decode exactly, and kcat reads our answer', async () => {
    const topic = 'golden-kcat-consume';
    const { b, run } = await capture((bootstrap) => runKcatConsume(bootstrap, topic, CLIENT_TIMEOUT_MS), (x) => x.seed(topic, [goldenBatch()]));
    expect(run.exitCode, describeRun(run)).toBe(0);
    const decoded = checkAllFrames(b, CLIENT_IDS.kcat);
    const fetches = bodiesOf<G.FetchRequest>(decoded, ApiKey.Fetch);
    expect(fetches.length).toBeGreaterThan(0);
    const first = fetches[0]!.body;
    expect(first.topics[0]!.partitions[0]!.partition).toBe(0);
    expect(first.topics[0]!.partitions[0]!.fetchOffset).toBe(0n);
    expect(first.isolationLevel).toBe(1); // librdkafka reads committed by default
    expect(run.stdout).toContain(`0\t${GOLDEN_RECORDS[0]!.key}\t${Buffer.byteLength(GOLDEN_RECORDS[0]!.value)}`);
  });

  it('Java consume: ListOffsets and Fetch decode exactly, and the consumer reads our answer', async () => {
    const topic = 'golden-java-consume';
    const { b, run } = await capture((bootstrap) => runJavaConsume(bootstrap, topic, CLIENT_TIMEOUT_MS), (x) => x.seed(topic, [goldenBatch()]));
    expect(run.exitCode, describeRun(run)).toBe(0);
    const decoded = checkAllFrames(b, CLIENT_IDS.javaConsumer);
    const fetches = bodiesOf<G.FetchRequest>(decoded, ApiKey.Fetch);
    expect(fetches.length).toBeGreaterThan(0);
    expect(fetches[0]!.body.isolationLevel).toBe(0); // the Java consumer reads uncommitted by default
    expect(bodiesOf<G.ListOffsetsRequest>(decoded, ApiKey.ListOffsets).length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/consumed partition=0 offset=0/);
    expect(run.stdout).toMatch(/consumed partition=0 offset=4/);
  });

  it('Java admin: DescribeCluster and CreateTopics decode exactly', async () => {
    const topic = 'golden-java-admin';
    const { b, run } = await capture((bootstrap) => runJavaAdmin(bootstrap, topic, CLIENT_TIMEOUT_MS));
    expect(run.exitCode, describeRun(run)).toBe(0);
    const decoded = checkAllFrames(b, CLIENT_IDS.javaAdmin);
    expect(bodiesOf<G.DescribeClusterRequest>(decoded, ApiKey.DescribeCluster)).toHaveLength(1);
    const creates = bodiesOf<G.CreateTopicsRequest>(decoded, ApiKey.CreateTopics);
    expect(creates).toHaveLength(1);
    const t = creates[0]!.body.topics[0]!;
    expect([t.name, t.numPartitions, t.replicationFactor]).toEqual([topic, 3, 1]);
    expect(run.stdout).toContain(`createTopics topic=${topic} partitions=3`);
  });

  it('KafkaJS group consume: the classic group protocol and Fetch decode exactly', async () => {
    const topic = 'golden-kafkajs-consume';
    const { b, run } = await capture((bootstrap) => runKafkaJsConsume(bootstrap, topic, CLIENT_TIMEOUT_MS), (x) => x.seed(topic, [goldenBatch()]));
    expect(run.exitCode, describeRun(run)).toBe(0);
    const decoded = checkAllFrames(b, CLIENT_IDS.kafkajs);
    for (const api of [ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Fetch]) {
      expect(bodiesOf(decoded, api).length, `api key ${api}`).toBeGreaterThan(0);
    }
    const join = bodiesOf<G.JoinGroupRequest>(decoded, ApiKey.JoinGroup)[0]!.body;
    expect(join.protocolType).toBe('consumer');
    expect(join.protocols.length).toBeGreaterThan(0);
    // The protocol metadata and the leader's assignment are ConsumerProtocol messages: version first.
    const subscription = decodeVersioned(join.protocols[0]!.metadata, decodeConsumerProtocolSubscription);
    expect(subscription.topics).toEqual([topic]);
    const sync = bodiesOf<G.SyncGroupRequest>(decoded, ApiKey.SyncGroup)[0]!.body;
    const assignment = decodeVersioned(sync.assignments[0]!.assignment, decodeConsumerProtocolAssignment);
    expect(assignment.assignedPartitions).toEqual([{ topic, partitions: [0] }]);
  });

  it('KafkaJS admin: CreateTopics and Metadata decode exactly', async () => {
    const topic = 'golden-kafkajs-admin';
    const { b, run } = await capture((bootstrap) => runKafkaJsAdmin(bootstrap, topic, CLIENT_TIMEOUT_MS));
    expect(run.exitCode, describeRun(run)).toBe(0);
    const decoded = checkAllFrames(b, CLIENT_IDS.kafkajsAdmin);
    const creates = bodiesOf<G.CreateTopicsRequest>(decoded, ApiKey.CreateTopics);
    expect(creates.length).toBeGreaterThan(0);
    expect(creates[0]!.body.topics.map((t) => [t.name, t.numPartitions, t.replicationFactor])).toEqual([[topic, 3, 1]]);
  });
});
