/**
 * Child-process driver for KafkaJS 2.2.4 in Strata's acceptance tests (see
 * index.ts; input and output formats in driver-io.ts):
 *   node --import tsx kafkajs-driver.ts create-topic <bootstrap> <topic> <partitions>
 *   node --import tsx kafkajs-driver.ts produce      <bootstrap> <topic> <codec>   (records on stdin)
 *   node --import tsx kafkajs-driver.ts consume      <bootstrap> <topic> <p>=<count>[,...]
 *   node --import tsx kafkajs-driver.ts group-consume <bootstrap> <topic> <group> [settings]   (see driver-io.ts)
 *   node --import tsx kafkajs-driver.ts version      (no broker: prints the client library's version)
 *
 * KafkaJS ships only gzip; snappy, lz4 and zstd come from the golden tests'
 * codec plugins (test/golden/clients/kafkajs-codecs.ts).
 *
 * group-consume: KafkaJS's only built-in assignor is named "RoundRobinAssigner",
 * a protocol name no other client offers, so a group mixing KafkaJS with the
 * Java client or librdkafka could never agree on a protocol. The driver gives
 * KafkaJS a range assignor of its own under Kafka's name "range", which the
 * Java client (by default) and librdkafka (by default) also offer.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import type { IHeaders, KafkaConfig, LogEntry, Message, PartitionAssigner, PartitionerArgs } from 'kafkajs';
import { registerKafkaJsCodecs } from '../../golden/clients/kafkajs-codecs.js';
import { emit, flushLines, type GroupSettings, hexOrNull, maybeFlush, readStdinRecords, runDriver, stdinClosed } from './driver-io.js';

const { AssignerProtocol, Kafka, CompressionTypes, Partitioners, logLevel } = kafkajs;

const CODEC_TYPES: Record<string, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** Records per producer.send(): one Produce request with one batch per partition. */
const SEND_CHUNK = 500;

function logCreator() {
  return ({ namespace, log }: LogEntry) => {
    const { message, ...rest } = log;
    process.stderr.write(`kafkajs ${namespace}: ${message} ${JSON.stringify(rest)}\n`);
  };
}

function config(bootstrap: string, clientId: string): KafkaConfig {
  return {
    clientId,
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
    logCreator,
  };
}

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<number> {
  const admin = new Kafka(config(bootstrap, 'strata-acceptance-kafkajs-admin')).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
      timeout: 30000,
    });
    if (!created) throw new Error(`topic ${topic} already exists`);
    emit({ event: 'created', topic, partitions });
    return 0;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Producer with KafkaJS's DefaultPartitioner (Java-compatible murmur2), acks
 * -1, not idempotent (KafkaJS's default). KafkaJS has no linger: every send()
 * is one Produce request, so records go in chunks of SEND_CHUNK, one batch per
 * partition each. The partitioner is wrapped to learn where each record
 * went; its offset is the batch's baseOffset plus its position in the batch.
 */
async function produce(bootstrap: string, topic: string, codec: string): Promise<number> {
  const compression = CODEC_TYPES[codec];
  if (compression === undefined) throw new Error(`unknown codec ${codec}`);
  registerKafkaJsCodecs();
  const input = await readStdinRecords();

  const chosen = new Map<Message, number>();
  const createPartitioner = () => {
    const inner = Partitioners.DefaultPartitioner();
    return (args: PartitionerArgs) => {
      const p = inner(args);
      chosen.set(args.message, p);
      return p;
    };
  };
  const producer = new Kafka(config(bootstrap, 'strata-acceptance-kafkajs')).producer({
    createPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  let failed = 0;
  try {
    for (let start = 0; start < input.length; start += SEND_CHUNK) {
      const chunk = input.slice(start, start + SEND_CHUNK);
      const messages: Message[] = chunk.map((r) => {
        const headers: IHeaders = {};
        for (const [name, v] of r.headers) {
          if (v === null) throw new Error('KafkaJS cannot send a null header value');
          const prev = headers[name];
          headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
        }
        return { key: r.key, value: r.value, headers };
      });
      chosen.clear();
      try {
        const res = await producer.send({ topic, acks: -1, timeout: 30000, compression, messages });
        const base = new Map<number, bigint>();
        for (const r of res) {
          if (r.errorCode !== 0 || r.baseOffset === undefined) throw new Error(`partition ${r.partition}: error ${r.errorCode}`);
          base.set(r.partition, BigInt(r.baseOffset));
        }
        const position = new Map<number, number>();
        messages.forEach((m, i) => {
          const p = chosen.get(m);
          const b = p === undefined ? undefined : base.get(p);
          if (p === undefined || b === undefined) {
            failed++;
            emit({ index: start + i, error: 'no partition or base offset for this record' });
            return;
          }
          const k = position.get(p) ?? 0;
          position.set(p, k + 1);
          emit({ index: start + i, partition: p, offset: Number(b + BigInt(k)) });
        });
      } catch (err) {
        const e = err as Error;
        chunk.forEach((_, i) => emit({ index: start + i, error: `${e.name}: ${e.message}` }));
        failed += chunk.length;
      }
      await maybeFlush();
    }
  } finally {
    await producer.disconnect();
  }
  emit({ event: 'done', records: input.length, failed });
  return failed === 0 ? 0 : 1;
}

// KafkaJS's consumer only works inside a group. To read without one, use the
// classes that consumer runs on: Cluster (metadata, ListOffsets), Broker.fetch
// and Batch (drops records before the fetch offset and control records).
const require = createRequire(import.meta.url);

interface KafkaJsBroker {
  fetch(req: {
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: { partition: number; errorCode: number }[] }[] }>;
}
interface KafkaJsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: string }): Promise<KafkaJsBroker>;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}
interface KafkaJsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | null>;
}
type ClusterCtor = new (opts: Record<string, unknown>) => KafkaJsCluster;
type BatchCtor = new (
  topic: string,
  fetchedOffset: string,
  partitionData: unknown,
) => { messages: KafkaJsMessage[]; isEmptyIncludingFiltered(): boolean; lastOffset(): string };

/** ListOffsets(earliest), then Fetch per partition leader until each partition has its expected count. */
async function consume(bootstrap: string, topic: string, expected: Map<number, number>): Promise<number> {
  registerKafkaJsCodecs();
  const Cluster = require('kafkajs/src/cluster/index.js') as ClusterCtor;
  const Batch = require('kafkajs/src/consumer/batch.js') as BatchCtor;
  const { createLogger } = require('kafkajs/src/loggers/index.js') as {
    createLogger(o: { level: number; logCreator: typeof logCreator }): unknown;
  };
  const socketFactory = require('kafkajs/src/network/socketFactory.js') as () => unknown;

  const cluster = new Cluster({
    logger: createLogger({ level: logLevel.ERROR, logCreator }),
    socketFactory: socketFactory(),
    brokers: [bootstrap],
    clientId: 'strata-acceptance-kafkajs-consumer',
    connectionTimeout: 5000,
    requestTimeout: 30000,
    enforceRequestTimeout: true,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    allowAutoTopicCreation: false,
    isolationLevel: 0, // READ_UNCOMMITTED
  });
  await cluster.connect();
  let total = 0;
  try {
    await cluster.addTargetTopic(topic);
    const partitions = [...expected.keys()];
    const [earliest] = await cluster.fetchTopicsOffset([
      { topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning: true },
    ]);
    const next = new Map<number, bigint>();
    for (const { partition, offset } of earliest?.partitions ?? []) next.set(partition, BigInt(offset));
    const seen = new Map<number, number>(partitions.map((p) => [p, 0]));
    const open = () => partitions.filter((p) => seen.get(p)! < expected.get(p)!);

    while (open().length > 0) {
      const byLeader = cluster.findLeaderForPartitions(topic, open());
      await Promise.all(
        Object.entries(byLeader).map(async ([nodeId, parts]) => {
          const broker = await cluster.findBroker({ nodeId });
          const requested = parts.map((partition) => ({
            partition,
            fetchOffset: String(next.get(partition) ?? 0n),
            maxBytes: 1 << 20,
          }));
          const { responses } = await broker.fetch({
            maxWaitTime: 500,
            minBytes: 1,
            maxBytes: 10 << 20,
            isolationLevel: 0,
            topics: [{ topic, partitions: requested }],
          });
          for (const { topicName, partitions: pds } of responses) {
            for (const pd of pds) {
              if (pd.errorCode !== 0) {
                process.stderr.write(`fetch ${topicName}/${pd.partition}: error ${pd.errorCode}\n`);
                continue;
              }
              const fetchOffset = requested.find((r) => r.partition === pd.partition)!.fetchOffset;
              const batch = new Batch(topicName, fetchOffset, pd);
              for (const m of batch.messages) {
                const got = seen.get(pd.partition)!;
                if (got >= expected.get(pd.partition)!) break;
                seen.set(pd.partition, got + 1);
                total++;
                const headers: [string, string | null][] = [];
                for (const [name, v] of Object.entries(m.headers)) {
                  for (const one of Array.isArray(v) ? v : [v]) headers.push([name, hexOrNull(one)]);
                }
                emit({
                  partition: pd.partition,
                  offset: Number(m.offset),
                  key: hexOrNull(m.key),
                  value: hexOrNull(m.value),
                  headers,
                });
              }
              // As KafkaJS's consumer does: continue after the batch's last offset,
              // even when all of it was filtered out (control records).
              if (!batch.isEmptyIncludingFiltered()) next.set(pd.partition, BigInt(batch.lastOffset()) + 1n);
            }
          }
        }),
      );
      await maybeFlush();
    }
  } finally {
    await cluster.disconnect();
  }
  emit({ event: 'done', records: total });
  await flushLines();
  return 0;
}

/**
 * Kafka's range assignment under its protocol name "range": per topic, the
 * subscribed members sorted by member id, each given a contiguous run of
 * partitions, the first (partitions % members) one more. The subscriptions are
 * read from every member's metadata (the Java client sends a newer
 * ConsumerProtocolSubscription version; its version-0 prefix is what this reads).
 */
const rangeAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'range',
  version: 0,
  async assign({ members }) {
    const subscribers = new Map<string, string[]>();
    for (const m of members) {
      for (const topic of AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? []) {
        subscribers.set(topic, [...(subscribers.get(topic) ?? []), m.memberId]);
      }
    }
    const assignment = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
    for (const [topic, ids] of subscribers) {
      ids.sort();
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b);
      const each = Math.floor(partitions.length / ids.length);
      const extra = partitions.length % ids.length;
      let next = 0;
      ids.forEach((id, i) => {
        const n = each + (i < extra ? 1 : 0);
        assignment.get(id)![topic] = partitions.slice(next, next + n);
        next += n;
      });
    }
    return members.map((m) => ({
      memberId: m.memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: assignment.get(m.memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'range', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});

/**
 * A KafkaJS group member (see driver-io.ts for the lines it prints): the range
 * assignor above, no auto-commit, eachBatch followed by a commit of the offset
 * after the batch's last record. KafkaJS names no partitions when a rebalance
 * starts, so "revoked" repeats the last assignment (KafkaJS rebalances eagerly).
 * Fetches wait at most 500 ms: KafkaJS heartbeats between fetches, and its
 * default 5 s wait would make it late to notice a rebalance.
 */
async function groupConsume(bootstrap: string, topic: string, groupId: string, settings: GroupSettings): Promise<number> {
  registerKafkaJsCodecs();
  const consumer = new Kafka(config(bootstrap, settings.clientId ?? 'strata-acceptance-kafkajs-member')).consumer({
    groupId,
    partitionAssigners: [rangeAssigner],
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
    ...(settings.sessionTimeoutMs === undefined ? {} : { sessionTimeout: settings.sessionTimeoutMs }),
    ...(settings.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: settings.heartbeatIntervalMs }),
  });
  let assigned: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assigned = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    emit({ event: 'assigned', partitions: assigned, memberId: payload.memberId, generation: null, protocol: payload.groupProtocol });
    void flushLines();
  });
  consumer.on(consumer.events.REBALANCING, () => {
    emit({ event: 'revoked', partitions: assigned });
    assigned = [];
    void flushLines();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    process.stderr.write(`kafkajs consumer crashed (restart: ${payload.restart}): ${payload.error.stack ?? payload.error.message}\n`);
  });
  const closed = stdinClosed();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      for (const m of batch.messages) {
        const headers: [string, string | null][] = [];
        for (const [name, v] of Object.entries(m.headers ?? {})) {
          for (const one of Array.isArray(v) ? v : [v]) headers.push([name, one === undefined || one === null ? null : hexOrNull(Buffer.from(one))]);
        }
        emit({ partition: batch.partition, offset: Number(m.offset), key: hexOrNull(m.key), value: hexOrNull(m.value), headers });
        resolveOffset(m.offset);
      }
      if (batch.messages.length > 0) {
        const next = String(BigInt(batch.messages[batch.messages.length - 1]!.offset) + 1n);
        try {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
          emit({ event: 'committed', offsets: [[batch.partition, Number(next)]] });
        } catch (err) {
          emit({ event: 'commit-failed', message: `${(err as Error).name}: ${(err as Error).message}` });
        }
      }
      await flushLines();
    },
  });
  await closed;
  await consumer.disconnect();
  emit({ event: 'closed' });
  return 0;
}

/** No broker: proves KafkaJS and the codec plugins load, and names the version. */
async function version(): Promise<number> {
  registerKafkaJsCodecs();
  const pkg = require('kafkajs/package.json') as { version: string };
  emit({ event: 'version', version: `kafkajs ${pkg.version}` });
  return 0;
}

runDriver('kafkajs-driver.ts', { version, createTopic, produce, consume, groupConsume });
