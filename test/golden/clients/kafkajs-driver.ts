/**
 * Child-process driver for KafkaJS, so a hung client can be killed from the
 * outside. Run as:
 *   node --import tsx test/golden/clients/kafkajs-driver.ts produce <bootstrap> <topic> <codec>
 *   node --import tsx test/golden/clients/kafkajs-driver.ts consume <bootstrap> <topic>
 *   node --import tsx test/golden/clients/kafkajs-driver.ts admin   <bootstrap> <topic>
 * Prints one line per outcome on stdout, client errors on stderr, and exits
 * non-zero on failure.
 */
import kafkajs from 'kafkajs';
import type { IHeaders, KafkaConfig, LogEntry, Message } from 'kafkajs';
import { registerKafkaJsCodecs } from './kafkajs-codecs.js';
import { expectedRecords, type Codec } from './records.js';

const { Kafka, CompressionTypes, logLevel } = kafkajs;

const CODEC_TYPES: Record<Codec, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

function config(bootstrap: string, clientId: string): KafkaConfig {
  return {
    clientId,
    brokers: [bootstrap],
    connectionTimeout: 3000,
    authenticationTimeout: 3000,
    requestTimeout: 10000,
    enforceRequestTimeout: true,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.ERROR,
    logCreator:
      () =>
      ({ namespace, log }: LogEntry) => {
        const { message, ...rest } = log;
        process.stderr.write(`kafkajs ${namespace}: ${message} ${JSON.stringify(rest)}\n`);
      },
  };
}

/** GOLDEN_RECORDS in KafkaJS form (null-valued headers dropped, see records.ts). */
function messages(): Message[] {
  return expectedRecords('kafkajs').map((r) => {
    const headers: IHeaders = {};
    for (const h of r.headers) {
      const prev = headers[h.key];
      const v = h.value ?? '';
      if (prev === undefined) headers[h.key] = v;
      else headers[h.key] = Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    return { key: r.key, value: r.value, headers, partition: 0 };
  });
}

async function produce(bootstrap: string, topic: string, codec: Codec): Promise<void> {
  registerKafkaJsCodecs();
  const kafka = new Kafka(config(bootstrap, 'strata-golden-kafkajs'));
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  await producer.connect();
  try {
    const res = await producer.send({
      topic,
      acks: -1,
      timeout: 10000,
      compression: CODEC_TYPES[codec],
      messages: messages(),
    });
    for (const r of res) {
      console.log(`produced topic=${r.topicName} partition=${r.partition} baseOffset=${r.baseOffset ?? ''} error=${r.errorCode}`);
    }
  } finally {
    await producer.disconnect();
  }
}

/** Group consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, ListOffsets, Fetch... */
async function consume(bootstrap: string, topic: string): Promise<void> {
  registerKafkaJsCodecs();
  const kafka = new Kafka(config(bootstrap, 'strata-golden-kafkajs'));
  const consumer = kafka.consumer({
    groupId: 'strata-golden-kafkajs',
    allowAutoTopicCreation: false,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 500,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            console.log(
              `consumed partition=${partition} offset=${message.offset} key=${message.key?.toString('utf8') ?? '<null>'} valueBytes=${message.value?.length ?? -1}`,
            );
            resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** Admin: Metadata, ListOffsets, CreateTopics. */
async function admin(bootstrap: string, topic: string): Promise<void> {
  const kafka = new Kafka(config(bootstrap, 'strata-golden-kafkajs-admin'));
  const a = kafka.admin({ retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 } });
  await a.connect();
  try {
    const cluster = await a.describeCluster();
    console.log(`cluster id=${cluster.clusterId} controller=${cluster.controller} brokers=${cluster.brokers.length}`);
    const created = await a.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      timeout: 10000,
    });
    console.log(`createTopics topic=${topic} created=${created}`);
    const md = await a.fetchTopicMetadata({ topics: [topic] });
    for (const t of md.topics) console.log(`metadata topic=${t.name} partitions=${t.partitions.length}`);
    const offsets = await a.fetchTopicOffsets(topic);
    for (const o of offsets) console.log(`offsets partition=${o.partition} low=${o.low} high=${o.high}`);
  } finally {
    await a.disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  const [mode, bootstrap, topic, codec] = argv;
  if (!bootstrap || !topic) {
    console.error('usage: kafkajs-driver.ts produce|consume|admin <bootstrap> <topic> [codec]');
    return 2;
  }
  switch (mode) {
    case 'produce':
      if (!codec || !(codec in CODEC_TYPES)) {
        console.error(`unknown codec ${codec}`);
        return 2;
      }
      await produce(bootstrap, topic, codec as Codec);
      return 0;
    case 'consume':
      await consume(bootstrap, topic);
      return 0;
    case 'admin':
      await admin(bootstrap, topic);
      return 0;
    default:
      console.error(`unknown mode ${mode}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as { name?: string; message?: string };
    console.log(`error: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`);
    process.exit(1);
  },
);
