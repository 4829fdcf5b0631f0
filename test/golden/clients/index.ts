/**
 * Drivers that make real Kafka clients (kcat/librdkafka, the Apache Kafka
 * Java client, KafkaJS) run fixed scenarios against a bootstrap address, so
 * golden tests can capture the request frames they send.
 *
 * Install the clients with `bash hack/peers/install.sh` (npm test runs it).
 * Every driver runs the client as a child process bounded by timeoutMs
 * (SIGKILL on timeout) and resolves with its output; none of them throws
 * because a client failed or exited non-zero.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { javaClasspath, javaProblem, REPO_ROOT, which } from './paths.js';
import { javaRecordsInput, kcatInput, KCAT_HEADERS, type Codec } from './records.js';
import { runBounded, type ClientRun, type RunOptions } from './run.js';

export { CODECS, GOLDEN_RECORDS, KCAT_HEADERS, expectedRecords } from './records.js';
export type { Codec, GoldenHeader, GoldenRecord, PeerClient } from './records.js';
export type { ClientRun, RunOptions } from './run.js';
export { javaClasspath, kafkaClientsLibDir, goldenJavaClassesDir, peersCacheDir, KAFKA_CLIENTS_VERSION } from './paths.js';

/** client.id each driver sets, so captured frames can be told apart. */
export const CLIENT_IDS = {
  kcat: 'strata-golden-kcat',
  java: 'strata-golden-java',
  javaConsumer: 'strata-golden-java-consumer',
  javaAdmin: 'strata-golden-java-admin',
  kafkajs: 'strata-golden-kafkajs',
  kafkajsAdmin: 'strata-golden-kafkajs-admin',
} as const;

// ---------------------------------------------------------------------------
// kcat

/** librdkafka settings shared by the kcat scenarios: fail fast, talk to 127.0.0.1 only. */
function kcatCommonArgs(bootstrap: string): string[] {
  const x = (kv: string) => ['-X', kv];
  return [
    '-b', bootstrap,
    '-q',
    ...x(`client.id=${CLIENT_IDS.kcat}`),
    ...x('api.version.request=true'),
    ...x('broker.address.family=v4'),
    ...x('socket.timeout.ms=10000'),
    ...x('socket.connection.setup.timeout.ms=5000'),
    ...x('reconnect.backoff.ms=100'),
    ...x('reconnect.backoff.max.ms=1000'),
    ...x('topic.metadata.refresh.interval.ms=10000'),
    '-m', '10', // metadata wait, seconds
  ];
}

/**
 * kcat -P: the golden records, one batch on partition 0.
 *
 * Records are fed on stdin, one per line; `-K \t` splits key and value
 * (no tab = null key, `key\t` = empty value since -Z is not given). kcat has
 * no per-message headers: the -H list below (KCAT_HEADERS, the first golden
 * record's headers, including a null-valued `-H name`) goes on every record.
 * Timestamps are wall clock. linger.ms=50 keeps the five records in one
 * batch; idempotence is off (librdkafka's default).
 */
export function runKcatProduce(
  bootstrap: string,
  topic: string,
  codec: Codec,
  timeoutMs: number,
  opts: RunOptions = {},
): Promise<ClientRun> {
  const headerArgs = KCAT_HEADERS.flatMap((h) => ['-H', h.value === null ? h.key : `${h.key}=${h.value}`]);
  const args = [
    '-P',
    ...kcatCommonArgs(bootstrap),
    '-t', topic,
    '-p', '0',
    '-z', codec,
    '-K', '\\t',
    ...headerArgs,
    '-X', 'acks=all',
    '-X', 'linger.ms=50',
    '-X', 'batch.num.messages=1000',
    '-X', 'enable.idempotence=false',
    '-X', 'message.timeout.ms=10000',
    '-X', 'request.timeout.ms=10000',
  ];
  return runBounded('kcat', args, { ...opts, stdin: kcatInput(), timeoutMs });
}

/**
 * kcat -C: partition 0 from the beginning, one message, exit at end of
 * partition. No group: Metadata, ListOffsets(EARLIEST), Fetch.
 * Prints `offset<TAB>key<TAB>value-length` per message.
 */
export function runKcatConsume(
  bootstrap: string,
  topic: string,
  timeoutMs: number,
  opts: RunOptions = {},
): Promise<ClientRun> {
  const args = [
    '-C',
    ...kcatCommonArgs(bootstrap),
    '-t', topic,
    '-p', '0',
    '-o', 'beginning',
    '-c', '1',
    '-e',
    '-f', '%o\\t%k\\t%S\\n',
    '-X', 'fetch.wait.max.ms=500',
  ];
  return runBounded('kcat', args, { ...opts, timeoutMs });
}

/** kcat -L: a Metadata request for one topic, printed as JSON. */
export function runKcatMetadata(
  bootstrap: string,
  topic: string,
  timeoutMs: number,
  opts: RunOptions = {},
): Promise<ClientRun> {
  return runBounded('kcat', ['-L', ...kcatCommonArgs(bootstrap), '-t', topic, '-J'], { ...opts, timeoutMs });
}

// ---------------------------------------------------------------------------
// Apache Kafka Java client

function runJava(args: string[], stdin: string | undefined, timeoutMs: number, opts: RunOptions): Promise<ClientRun> {
  const jvm = ['-Xshare:auto', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx256m', '-Djava.net.preferIPv4Stack=true'];
  return runBounded('java', [...jvm, '-cp', javaClasspath(), 'GoldenClient', ...args], {
    ...opts,
    timeoutMs,
    ...(stdin === undefined ? {} : { stdin }),
  });
}

/**
 * KafkaProducer, idempotent (default): ApiVersions, Metadata, InitProducerId,
 * then one Produce with all golden records (exact keys, values and headers,
 * null-valued header included) in one batch on partition 0.
 */
export function runJavaProduce(
  bootstrap: string,
  topic: string,
  codec: Codec,
  timeoutMs: number,
  opts: RunOptions = {},
): Promise<ClientRun> {
  return runJava(['produce', bootstrap, topic, codec], javaRecordsInput(), timeoutMs, opts);
}

/** KafkaConsumer without a group: assign(partition 0), seekToBeginning, one poll, endOffsets. */
export function runJavaConsume(bootstrap: string, topic: string, timeoutMs: number, opts: RunOptions = {}): Promise<ClientRun> {
  return runJava(['consume', bootstrap, topic], undefined, timeoutMs, opts);
}

/** Admin: describeCluster, then createTopics(topic, 3 partitions, replication factor 1). */
export function runJavaAdmin(bootstrap: string, topic: string, timeoutMs: number, opts: RunOptions = {}): Promise<ClientRun> {
  return runJava(['admin', bootstrap, topic], undefined, timeoutMs, opts);
}

// ---------------------------------------------------------------------------
// KafkaJS (in a child process so a hung client can be killed)

const KAFKAJS_DRIVER = join(REPO_ROOT, 'test/golden/clients/kafkajs-driver.ts');

function runKafkaJs(args: string[], timeoutMs: number, opts: RunOptions): Promise<ClientRun> {
  return runBounded(process.execPath, ['--import', 'tsx', KAFKAJS_DRIVER, ...args], {
    ...opts,
    cwd: REPO_ROOT,
    timeoutMs,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1', ...opts.env },
  });
}

/**
 * KafkaJS producer (not idempotent, acks -1): ApiVersions, Metadata, then one
 * Produce with the golden records on partition 0. Null-valued headers are
 * left out (KafkaJS cannot encode them); see expectedRecords('kafkajs').
 */
export function runKafkaJsProduce(
  bootstrap: string,
  topic: string,
  codec: Codec,
  timeoutMs: number,
  opts: RunOptions = {},
): Promise<ClientRun> {
  return runKafkaJs(['produce', bootstrap, topic, codec], timeoutMs, opts);
}

/**
 * KafkaJS group consumer (group strata-golden-kafkajs, from beginning): the
 * group protocol (FindCoordinator, JoinGroup, SyncGroup, OffsetFetch,
 * Heartbeat), ListOffsets and Fetch. Exits after the first message.
 */
export function runKafkaJsConsume(bootstrap: string, topic: string, timeoutMs: number, opts: RunOptions = {}): Promise<ClientRun> {
  return runKafkaJs(['consume', bootstrap, topic], timeoutMs, opts);
}

/** KafkaJS admin: describeCluster, createTopics(3 partitions, rf 1), fetchTopicMetadata, fetchTopicOffsets. */
export function runKafkaJsAdmin(bootstrap: string, topic: string, timeoutMs: number, opts: RunOptions = {}): Promise<ClientRun> {
  return runKafkaJs(['admin', bootstrap, topic], timeoutMs, opts);
}

// ---------------------------------------------------------------------------

function kafkaJsProblem(): string | null {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  for (const mod of ['kafkajs', 'tsx', 'snappy', 'lz4-napi', 'zstd-napi']) {
    try {
      require.resolve(mod);
    } catch {
      return `${mod} is not installed (npm install)`;
    }
  }
  return null;
}

/** Which peer clients can run here; reason lists what is missing. */
export function peersAvailable(): { kcat: boolean; java: boolean; kafkajs: boolean; reason?: string } {
  const problems: string[] = [];
  const kcat = which('kcat') !== null;
  if (!kcat) problems.push('kcat is not on PATH');
  const jp = javaProblem();
  if (jp) problems.push(jp);
  const kp = kafkaJsProblem();
  if (kp) problems.push(kp);
  const res: { kcat: boolean; java: boolean; kafkajs: boolean; reason?: string } = {
    kcat,
    java: jp === null,
    kafkajs: kp === null,
  };
  if (problems.length > 0) res.reason = `${problems.join('; ')} (run: bash hack/peers/install.sh)`;
  return res;
}
