/**
 * Drivers that make six real Kafka clients create a topic, produce
 * deterministic keyed records with headers under each codec, and read them
 * back by assigning partitions and seeking to the beginning (no consumer
 * group), for the single-node broker's acceptance test.
 *
 * Clients: kcat (librdkafka 2.0.2), confluent-kafka-python (Debian's
 * python3-confluent-kafka 1.7.0 on librdkafka 2.0.2), KafkaJS 2.2.4,
 * @platformatic/kafka 1.35, the Apache Kafka 4.1.1 Java client, and Kafka's
 * ConsoleProducer/ConsoleConsumer 4.1.1. Install them with
 * `bash hack/peers/install.sh` (npm test runs it).
 *
 * Every client runs as a child process bounded by timeoutMs (SIGKILL on
 * timeout), so a hung client cannot hang the test. Drivers print one JSON
 * object per line, bytes in hex; nothing here throws because a client failed:
 * the reports carry exit code, stderr and whether the client timed out.
 *
 * Per client (see also CAPABILITIES in records.ts):
 *
 * kcat
 *   createTopic: kcat has no admin API; the topic is created with
 *     librdkafka's CreateTopics through confluent-kafka-python (driver.py).
 *   produce: `kcat -P -z <codec> -K <keydelim> -D <recdelim> -H ... -X acks=all
 *     -X linger.ms=10 -X partitioner=consistent_random -v -v`. Records are
 *     framed on stdin by multi-byte delimiters that never occur in the data,
 *     so values are binary (kcat -P reads raw bytes; only the delimiters are
 *     off limits). -H gives every record the same headers (kcatHeaders()),
 *     including a null-valued one. kcat prints no per-record result, but at
 *     verbosity 3 it logs each delivery report ("Message delivered to
 *     partition P (offset O)") to stderr, in order within a partition. The
 *     driver pins librdkafka's partitioner (CRC32(key) % partitions) to know
 *     which records went to P, and pairs them in order with P's delivery
 *     reports; the counts must agree, or the report says so.
 *   consume: one `kcat -C -p N -o beginning -c <count> -e` per partition,
 *     with `-f '%p %o %K %S %h\n%k%s\n'`: lengths first, then the raw key and
 *     value bytes, so the output is parsed as bytes and binary values come
 *     back exactly. Headers come from %h ("name=value,...", "NULL" for a null
 *     value), which is only unambiguous for text headers without ',' or '=',
 *     as kcatHeaders() are. kcat's -C is librdkafka's simple consumer:
 *     ListOffsets + Fetch, no group.
 *
 * confluent-kafka-python (driver.py, run by /usr/bin/python3)
 *   createTopic: AdminClient.create_topics.
 *   produce: Producer(acks=all, linger.ms=10, compression.type=<codec>), the
 *     default partitioner (consistent_random), idempotence off (librdkafka's
 *     default); partition and offset from each delivery callback.
 *   consume: Consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING)]). librdkafka
 *     hangs assign() on its group handle, so a group.id is set and librdkafka
 *     also sends FindCoordinator in the background; it never joins or commits.
 *
 * kafkajs (kafkajs-driver.ts)
 *   createTopic: admin.createTopics.
 *   produce: DefaultPartitioner (Java-compatible murmur2), acks -1, not
 *     idempotent; KafkaJS has no linger, so records go in send() calls of 500
 *     (one batch per partition each); snappy/lz4/zstd from the golden tests'
 *     codec plugins. KafkaJS cannot send null header values.
 *   consume: KafkaJS's consumer only works in a group, so the driver uses the
 *     classes that consumer is built on (Cluster for metadata/ListOffsets,
 *     Broker.fetch, Batch): ListOffsets(earliest) + Fetch, no group.
 *
 * platformatic (platformatic-driver.ts)
 *   createTopic: Admin.createTopics.
 *   produce: the library's default partitioner (murmur2, not the Java
 *     formula), acks -1, not idempotent; send() calls of 500 records. On
 *     Node.js < 22.15 the library has no zstd; the driver plugs zstd-napi
 *     into its codec table.
 *   consume: Consumer.consume() always joins a group, so the driver uses the
 *     same client's listOffsets(earliest) + fetch(), no group.
 *
 * java (AcceptanceClient.java)
 *   createTopic: Admin.createTopics.
 *   produce: KafkaProducer with its defaults (acks=all, enable.idempotence=true,
 *     linger.ms=5, batch.size=16384) plus compression.type; partition and
 *     offset from each send() callback.
 *   consume: KafkaConsumer without group.id: assign + seekToBeginning + poll.
 *
 * console (Kafka's tools, AcceptanceClient.java's plug-ins)
 *   createTopic: TopicCommand (kafka-topics).
 *   produce: ConsoleProducer --compression-codec <codec> --timeout 10 (linger)
 *     --request-required-acks -1 --property parse.key=true --property
 *     parse.headers=true --property null.marker=<strata-null>; input lines
 *     "h1:v1,h2:v2<TAB>key<TAB>value". Text only: LineMessageReader decodes
 *     lines as UTF-8, so values are UTF-8 without CR/LF (tabs are fine), and
 *     header values have no ','. ConsoleProducer prints nothing per record;
 *     the producer interceptor AcceptanceClient$AckReporter reports each
 *     record's partition and offset from the broker's answer. Idempotent
 *     (the producer's default with ConsoleProducer's settings).
 *   consume: one ConsoleConsumer per partition (--partition N --offset
 *     earliest --max-messages <count>: assign + seek, no group, no commits),
 *     with --formatter AcceptanceClient$HexFormatter printing JSON with hex.
 *
 * Group members (group-member.ts starts them): java, confluent-kafka-python
 * and kafkajs have a long-running `group-consume` mode (lines described in
 * driver-io.ts): subscribe in a classic group, commit synchronously after each
 * non-empty batch, print assignment changes, records and commits, leave the
 * group when stdin closes. Their assignors: the Java client's default
 * (range, cooperative-sticky), librdkafka's default (range, roundrobin), and
 * for KafkaJS a range assignor of the driver's named "range", since KafkaJS's
 * own is named "RoundRobinAssigner", which no other client offers.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CODECS, type Codec } from '../../golden/clients/records.js';
import { runBounded, type ClientRun } from '../../golden/clients/run.js';
import {
  acceptanceJavaProblem,
  CONFLUENT_KAFKA_PACKAGE_DIR,
  javaClientClasspath,
  KAFKA_TOOLS_LOG4J_CONFIG,
  KAFKAJS_DRIVER,
  kafkaToolsClasspath,
  kafkaToolsProblem,
  PLATFORMATIC_DRIVER,
  PYTHON_DRIVER,
  REPO_ROOT,
  SYSTEM_PYTHON,
  which,
} from './paths.js';
import {
  ACCEPTANCE_CLIENTS,
  acceptanceRecords,
  CONSOLE_NULL_MARKER,
  KCAT_KEY_DELIMITER,
  KCAT_KEY_DELIMITER_ARG,
  KCAT_RECORD_DELIMITER,
  KCAT_RECORD_DELIMITER_ARG,
  kcatHeaders,
  recordsInput,
  type AcceptanceClient,
  type AcceptanceRecord,
} from './records.js';

export { ACCEPTANCE_CLIENTS, acceptanceRecords, CAPABILITIES, kcatHeaders } from './records.js';
export type { AcceptanceClient, AcceptanceRecord, ClientCapabilities } from './records.js';
export { CODECS };
export type { Codec };

export interface ProduceReport {
  /** One entry per acknowledged record, by index: where the broker put it. */
  acked: { partition: number; offset: number; index: number }[];
  exitCode: number | null;
  /** The client's stderr, plus the driver's own notes (per-record errors, inconsistencies). */
  stderr: string;
  timedOut: boolean;
  /** Wall-clock time of the whole run, process start included. */
  durationMs: number;
}

export interface ConsumedRecord {
  offset: number;
  keyHex: string | null;
  valueHex: string | null;
  /** Header name and value (hex; null = a null value), in wire order. */
  headers: [string, string | null][];
}

export interface ConsumeReport {
  /** One entry per requested partition, records in the order the client returned them. */
  partitions: { partition: number; records: ConsumedRecord[] }[];
  exitCode: number | null;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

/** Largest stdout/stderr kept from a client: 10,000 records of up to 2000 bytes are ~45 MB of hex. */
const MAX_CAPTURE = 256 << 20;
/** Stderr kept in a report (the end of it). */
const MAX_REPORT_STDERR = 64 << 10;

const JVM_OPTS = ['-Xshare:auto', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx512m', '-Djava.net.preferIPv4Stack=true'];

function isClient(c: string): c is AcceptanceClient {
  return (ACCEPTANCE_CLIENTS as readonly string[]).includes(c);
}

function checkClient(client: string): AcceptanceClient {
  if (!isClient(client)) throw new Error(`unknown acceptance client ${client}; one of ${ACCEPTANCE_CLIENTS.join(', ')}`);
  return client;
}

function checkCodec(codec: string): Codec {
  if (!(CODECS as readonly string[]).includes(codec)) throw new Error(`unknown codec ${codec}; one of ${CODECS.join(', ')}`);
  return codec as Codec;
}

function tail(s: string): string {
  return s.length <= MAX_REPORT_STDERR ? s : `[... ${s.length - MAX_REPORT_STDERR} chars cut ...]\n${s.slice(-MAX_REPORT_STDERR)}`;
}

function joinNotes(stderr: string, notes: string[]): string {
  if (notes.length === 0) return tail(stderr);
  const shown = notes.length > 50 ? [...notes.slice(0, 50), `... and ${notes.length - 50} more`] : notes;
  return tail(`${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}${shown.map((n) => `[driver] ${n}`).join('\n')}\n`);
}

function describeRun(run: ClientRun): string {
  if (run.timedOut) return `killed after the timeout: ${run.command.join(' ')}`;
  if (run.exitCode !== 0) return `exit code ${run.exitCode}${run.signal ? ` (${run.signal})` : ''}: ${run.command.join(' ')}`;
  return '';
}

/** JSON objects from a driver's stdout; anything else is returned as text. */
function jsonLines(stdout: string): { objects: Record<string, unknown>[]; other: string[] } {
  const objects: Record<string, unknown>[] = [];
  const other: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('{')) {
      try {
        objects.push(JSON.parse(line) as Record<string, unknown>);
        continue;
      } catch {
        // fall through: a truncated last line when the client was killed
      }
    }
    other.push(line.length > 200 ? `${line.slice(0, 200)}...` : line);
  }
  return { objects, other };
}

// ---------------------------------------------------------------------------
// How each client is started

type DriverMode = 'create-topic' | 'produce' | 'consume' | 'group-consume' | 'version';

/** The clients driven by a JSON-line driver program of ours (group-member.ts starts them too). */
export function driverCommand(client: AcceptanceClient, mode: DriverMode, args: string[]): [string, string[]] {
  switch (client) {
    case 'confluent-kafka-python':
    case 'kcat': // kcat has no admin API; only create-topic gets here
      return [SYSTEM_PYTHON, [PYTHON_DRIVER, mode, ...args]];
    case 'kafkajs':
      return [process.execPath, ['--import', 'tsx', KAFKAJS_DRIVER, mode, ...args]];
    case 'platformatic':
      return [process.execPath, ['--import', 'tsx', PLATFORMATIC_DRIVER, mode, ...args]];
    case 'java':
      return ['java', [...JVM_OPTS, '-cp', javaClientClasspath(), 'AcceptanceClient', mode, ...args]];
    case 'console':
      throw new Error('console is driven through the Kafka tools');
  }
}

function runTool(mainClass: string, args: string[], timeoutMs: number, stdin?: string): Promise<ClientRun> {
  const jvm = [...JVM_OPTS, `-Dlog4j2.configurationFile=file:${KAFKA_TOOLS_LOG4J_CONFIG}`, '-cp', kafkaToolsClasspath()];
  return runBounded('java', [...jvm, mainClass, ...args], {
    timeoutMs,
    maxCapture: MAX_CAPTURE,
    cwd: REPO_ROOT,
    ...(stdin === undefined ? {} : { stdin }),
  });
}

function runDriver(
  client: AcceptanceClient,
  mode: DriverMode,
  args: string[],
  timeoutMs: number,
  stdin?: string,
): Promise<ClientRun> {
  const [cmd, argv] = driverCommand(client, mode, args);
  return runBounded(cmd, argv, {
    timeoutMs,
    maxCapture: MAX_CAPTURE,
    cwd: REPO_ROOT,
    env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    ...(stdin === undefined ? {} : { stdin }),
  });
}

/** librdkafka settings for kcat: talk IPv4 to 127.0.0.1, wait up to 30 s for metadata. */
function kcatCommon(bootstrap: string): string[] {
  return ['-b', bootstrap, '-X', 'client.id=strata-acceptance-kcat', '-X', 'broker.address.family=v4', '-m', '30'];
}

// ---------------------------------------------------------------------------
// createTopic

/**
 * Creates `topic` with `partitions` partitions (replication factor 1) with the
 * client's own admin API; kcat has none and uses confluent-kafka-python's
 * (librdkafka's CreateTopics). ok is false if the topic already existed.
 */
export async function createTopic(
  client: string,
  bootstrap: string,
  topic: string,
  partitions: number,
  timeoutMs: number,
): Promise<{ ok: boolean; stderr: string }> {
  const c = checkClient(client);
  const run =
    c === 'console'
      ? await runTool(
          'org.apache.kafka.tools.TopicCommand',
          ['--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1'],
          timeoutMs,
        )
      : await runDriver(c, 'create-topic', [bootstrap, topic, String(partitions)], timeoutMs);
  const ok = run.exitCode === 0 && !run.timedOut;
  const notes: string[] = [];
  if (!ok) notes.push(describeRun(run));
  const { objects, other } = jsonLines(run.stdout);
  for (const o of objects) if (o.event === 'error') notes.push(String(o.message));
  if (!ok && other.length > 0) notes.push(`stdout: ${other.join(' | ')}`);
  return { ok, stderr: joinNotes(run.stderr, notes) };
}

// ---------------------------------------------------------------------------
// produce

/**
 * Produces acceptanceRecords(client, codec, count) to `topic`, letting the
 * client's partitioner spread them, with acks=all and batching. Resolves with
 * where each acknowledged record landed.
 */
export async function produce(
  client: string,
  bootstrap: string,
  topic: string,
  codec: string,
  count: number,
  timeoutMs: number,
): Promise<ProduceReport> {
  const c = checkClient(client);
  const z = checkCodec(codec);
  const records = acceptanceRecords(c, z, count);
  const started = Date.now();
  if (c === 'kcat') return kcatProduce(records, bootstrap, topic, z, timeoutMs, started);

  const run =
    c === 'console'
      ? await runTool('org.apache.kafka.tools.ConsoleProducer', consoleProducerArgs(bootstrap, topic, z), timeoutMs, consoleInput(records))
      : await runDriver(c, 'produce', [bootstrap, topic, z], timeoutMs, recordsInput(records));
  const durationMs = Date.now() - started;

  const notes: string[] = [];
  const acked: ProduceReport['acked'] = [];
  const { objects, other } = jsonLines(run.stdout);
  let done = false;
  for (const o of objects) {
    if (typeof o.index === 'number') {
      if (typeof o.error === 'string') notes.push(`record ${o.index}: ${o.error}`);
      else acked.push({ index: o.index, partition: Number(o.partition), offset: Number(o.offset) });
    } else if (o.event === 'error') {
      notes.push(String(o.message));
    } else if (o.event === 'done') {
      done = true;
    }
  }
  if (other.length > 0) notes.push(`unexpected stdout: ${other.slice(0, 5).join(' | ')}`);
  if (!done && !run.timedOut) notes.push('the driver did not report completion');
  const d = describeRun(run);
  if (d) notes.unshift(d);
  acked.sort((a, b) => a.index - b.index);
  return { acked, exitCode: run.exitCode, stderr: joinNotes(run.stderr, notes), timedOut: run.timedOut, durationMs };
}

function consoleProducerArgs(bootstrap: string, topic: string, codec: Codec): string[] {
  return [
    '--bootstrap-server', bootstrap,
    '--topic', topic,
    '--compression-codec', codec,
    '--request-required-acks', '-1',
    '--timeout', '10', // linger.ms
    '--request-timeout-ms', '30000',
    '--property', 'parse.key=true',
    '--property', 'parse.headers=true',
    '--property', `null.marker=${CONSOLE_NULL_MARKER}`,
    '--producer-property', 'client.id=strata-acceptance-console',
    '--producer-property', 'interceptor.classes=AcceptanceClient$AckReporter',
  ];
}

/** ConsoleProducer input: "name:value,...<TAB>key<TAB>value" per line, null values as the null marker. */
function consoleInput(records: readonly AcceptanceRecord[]): string {
  const lines: string[] = [];
  for (const r of records) {
    const key = r.key.toString('utf8');
    const value = r.value.toString('utf8');
    const headers = r.headers.map(([name, v]) => `${name}:${v === null ? CONSOLE_NULL_MARKER : v.toString('utf8')}`);
    const text = [key, value, ...headers].join('\u0000');
    if (/[\r\n]/.test(text) || /[\t]/.test(key) || headers.some((h) => /[,\t]/.test(h))) {
      throw new Error(`record ${r.index} cannot be written for ConsoleProducer`);
    }
    if (!Buffer.from(value, 'utf8').equals(r.value)) throw new Error(`record ${r.index} is not UTF-8 text`);
    lines.push(`${headers.join(',')}\t${key}\t${value}`);
  }
  return lines.join('\n') + '\n';
}

const KCAT_DR = /Message delivered to partition (-?\d+) \(offset (-?\d+)\)/;

async function kcatPartitionCount(bootstrap: string, topic: string, timeoutMs: number): Promise<number | string> {
  const run = await runBounded('kcat', ['-L', ...kcatCommon(bootstrap), '-q', '-t', topic, '-J'], { timeoutMs, maxCapture: MAX_CAPTURE });
  if (run.exitCode !== 0) return `kcat -L failed: ${describeRun(run)} ${run.stderr.trim()}`;
  try {
    const md = JSON.parse(run.stdout) as { topics?: { topic: string; partitions?: unknown[]; err?: string }[] };
    const t = md.topics?.find((x) => x.topic === topic);
    if (!t?.partitions?.length) return `kcat -L: no partitions for ${topic}${t?.err ? ` (${t.err})` : ''}`;
    return t.partitions.length;
  } catch (err) {
    return `kcat -L printed no JSON: ${String(err)}`;
  }
}

async function kcatProduce(
  records: AcceptanceRecord[],
  bootstrap: string,
  topic: string,
  codec: Codec,
  timeoutMs: number,
  started: number,
): Promise<ProduceReport> {
  const notes: string[] = [];
  const n = await kcatPartitionCount(bootstrap, topic, timeoutMs);
  if (typeof n === 'string') {
    return { acked: [], exitCode: null, stderr: joinNotes('', [n]), timedOut: false, durationMs: Date.now() - started };
  }
  const parts: Buffer[] = [];
  for (const r of records) parts.push(r.key, KCAT_KEY_DELIMITER, r.value, KCAT_RECORD_DELIMITER);
  const input = Buffer.concat(parts);
  const headerArgs = kcatHeaders(codec).flatMap(([name, v]) => ['-H', v === null ? name : `${name}=${v.toString('utf8')}`]);
  const args = [
    '-P',
    ...kcatCommon(bootstrap),
    '-t', topic,
    '-z', codec,
    '-K', KCAT_KEY_DELIMITER_ARG,
    '-D', KCAT_RECORD_DELIMITER_ARG,
    ...headerArgs,
    '-X', 'acks=all',
    '-X', 'linger.ms=10',
    '-X', 'partitioner=consistent_random',
    '-v', '-v', // verbosity 3: one line per delivery report
  ];
  const remaining = Math.max(1, timeoutMs - (Date.now() - started));
  const run = await runBounded('kcat', args, { stdin: input, timeoutMs: remaining, maxCapture: MAX_CAPTURE });
  const durationMs = Date.now() - started;

  // Delivery reports, per partition, in order.
  const reports = new Map<number, number[]>();
  const otherStderr: string[] = [];
  for (const line of run.stderr.split('\n')) {
    const m = KCAT_DR.exec(line);
    if (m) {
      const p = Number(m[1]);
      reports.set(p, [...(reports.get(p) ?? []), Number(m[2])]);
    } else if (line.trim()) {
      otherStderr.push(line);
    }
  }
  // Which records librdkafka's consistent_random partitioner sent to each partition, in order.
  const sent = new Map<number, number[]>();
  for (const r of records) {
    const p = crc32(r.key) % n;
    sent.set(p, [...(sent.get(p) ?? []), r.index]);
  }
  const acked: ProduceReport['acked'] = [];
  for (const [p, indexes] of sent) {
    const offsets = reports.get(p) ?? [];
    if (offsets.length !== indexes.length) {
      notes.push(`partition ${p}: ${indexes.length} records sent by CRC32(key), ${offsets.length} delivery reports; not reporting its records`);
      continue;
    }
    indexes.forEach((index, i) => acked.push({ index, partition: p, offset: offsets[i]! }));
  }
  for (const p of reports.keys()) {
    if (!sent.has(p)) notes.push(`delivery reports for partition ${p}, to which no record should have gone`);
  }
  const d = describeRun(run);
  if (d) notes.unshift(d);
  acked.sort((a, b) => a.index - b.index);
  return {
    acked,
    exitCode: run.exitCode,
    stderr: joinNotes(otherStderr.join('\n'), notes),
    timedOut: run.timedOut,
    durationMs,
  };
}

// ---------------------------------------------------------------------------
// consumeAll

/**
 * Reads `partitions` of `topic` from the beginning without a consumer group
 * (assign + seek, or the client's nearest equivalent, see the top of this
 * file) until each has returned expectedPerPartition[p] records (0 if
 * absent), then exits. Records are reported per partition in the order the
 * client returned them; on timeout, whatever had arrived.
 */
export async function consumeAll(
  client: string,
  bootstrap: string,
  topic: string,
  partitions: number[],
  expectedPerPartition: Record<number, number>,
  timeoutMs: number,
): Promise<ConsumeReport> {
  const c = checkClient(client);
  const started = Date.now();
  const want = (p: number) => expectedPerPartition[p] ?? 0;
  const buckets = new Map<number, ConsumedRecord[]>(partitions.map((p) => [p, []]));
  const notes: string[] = [];
  let runs: ClientRun[];

  const collect = (run: ClientRun) => {
    const { objects, other } = jsonLines(run.stdout);
    for (const o of objects) {
      if (typeof o.partition === 'number' && typeof o.offset === 'number') {
        const bucket = buckets.get(o.partition);
        if (!bucket) {
          notes.push(`record from partition ${o.partition}, which was not requested`);
          continue;
        }
        bucket.push({
          offset: o.offset,
          keyHex: (o.key as string | null) ?? null,
          valueHex: (o.value as string | null) ?? null,
          headers: ((o.headers as [string, string | null][] | undefined) ?? []).map(([k, v]) => [k, v ?? null]),
        });
      } else if (o.event === 'error') {
        notes.push(String(o.message));
      }
    }
    if (other.length > 0) notes.push(`unexpected stdout: ${other.slice(0, 5).join(' | ')}`);
  };

  if (c === 'kcat') {
    runs = await Promise.all(
      partitions.filter((p) => want(p) > 0).map((p) => kcatConsumePartition(bootstrap, topic, p, want(p), timeoutMs, buckets, notes)),
    );
  } else if (c === 'console') {
    runs = await Promise.all(
      partitions
        .filter((p) => want(p) > 0)
        .map((p) =>
          runTool(
            'org.apache.kafka.tools.consumer.ConsoleConsumer',
            [
              '--bootstrap-server', bootstrap,
              '--topic', topic,
              '--partition', String(p),
              '--offset', 'earliest',
              '--max-messages', String(want(p)),
              '--formatter', 'AcceptanceClient$HexFormatter',
              '--consumer-property', 'client.id=strata-acceptance-console-consumer',
            ],
            timeoutMs,
          ),
        ),
    );
    runs.forEach(collect);
  } else {
    const counts = partitions.map((p) => `${p}=${want(p)}`).join(',');
    const run = await runDriver(c, 'consume', [bootstrap, topic, counts], timeoutMs);
    collect(run);
    runs = [run];
  }

  for (const run of runs) {
    const d = describeRun(run);
    if (d) notes.unshift(d);
  }
  const failed = runs.find((r) => r.timedOut || r.exitCode !== 0);
  return {
    partitions: partitions.map((p) => ({ partition: p, records: buckets.get(p)! })),
    exitCode: failed ? failed.exitCode : 0,
    stderr: joinNotes(runs.map((r) => r.stderr).filter(Boolean).join('\n'), notes),
    timedOut: runs.some((r) => r.timedOut),
    durationMs: Date.now() - started,
  };
}

/**
 * kcat -C for one partition. The format prints a text line with partition,
 * offset, key length, value length (-1 = null) and headers, then the raw key
 * and value bytes and a newline; parsed as bytes.
 */
async function kcatConsumePartition(
  bootstrap: string,
  topic: string,
  partition: number,
  count: number,
  timeoutMs: number,
  buckets: Map<number, ConsumedRecord[]>,
  notes: string[],
): Promise<ClientRun> {
  const args = [
    '-C',
    ...kcatCommon(bootstrap),
    '-q',
    '-t', topic,
    '-p', String(partition),
    '-o', 'beginning',
    '-c', String(count),
    '-e',
    '-f', '%p %o %K %S %h\\n%k%s\\n',
  ];
  const run = await runBounded('kcat', args, { timeoutMs, maxCapture: MAX_CAPTURE, rawStdout: true });
  const out = run.stdoutBytes ?? Buffer.alloc(0);
  const bucket = buckets.get(partition)!;
  let pos = 0;
  while (pos < out.length) {
    const nl = out.indexOf(0x0a, pos);
    if (nl < 0) {
      notes.push(`kcat partition ${partition}: truncated output at byte ${pos}`);
      break;
    }
    const head = out.subarray(pos, nl).toString('utf8');
    const m = /^(-?\d+) (-?\d+) (-?\d+) (-?\d+) ?(.*)$/.exec(head);
    if (!m) {
      notes.push(`kcat partition ${partition}: unparsable line ${JSON.stringify(head.slice(0, 100))}`);
      break;
    }
    const keyLen = Number(m[3]);
    const valueLen = Number(m[4]);
    let at = nl + 1;
    const key = keyLen < 0 ? null : out.subarray(at, at + keyLen);
    at += Math.max(0, keyLen);
    const value = valueLen < 0 ? null : out.subarray(at, at + valueLen);
    at += Math.max(0, valueLen);
    if (at >= out.length || out[at] !== 0x0a) {
      notes.push(`kcat partition ${partition}: truncated or misframed record at byte ${pos}`);
      break;
    }
    pos = at + 1;
    const headers: [string, string | null][] = [];
    if (m[5]) {
      for (const pair of m[5].split(',')) {
        const eq = pair.indexOf('=');
        const name = eq < 0 ? pair : pair.slice(0, eq);
        const v = eq < 0 ? '' : pair.slice(eq + 1);
        headers.push([name, v === 'NULL' ? null : Buffer.from(v, 'utf8').toString('hex')]);
      }
    }
    if (Number(m[1]) !== partition) notes.push(`kcat -p ${partition} returned a record of partition ${m[1]}`);
    bucket.push({
      offset: Number(m[2]),
      keyHex: key === null ? null : key.toString('hex'),
      valueHex: value === null ? null : value.toString('hex'),
      headers,
    });
  }
  return run;
}

// ---------------------------------------------------------------------------
// Checking a round trip

export interface ExpectedRecord {
  index: number;
  offset: number;
  keyHex: string;
  valueHex: string;
  headers: [string, string | null][];
}

/**
 * What each partition should return: the acknowledged records that landed
 * there, in the order they were produced (by index).
 */
export function expectedByPartition(
  records: readonly AcceptanceRecord[],
  report: Pick<ProduceReport, 'acked'>,
): Map<number, ExpectedRecord[]> {
  const out = new Map<number, ExpectedRecord[]>();
  for (const a of [...report.acked].sort((x, y) => x.index - y.index)) {
    const r = records[a.index];
    if (!r) continue;
    const list = out.get(a.partition) ?? [];
    list.push({
      index: a.index,
      offset: a.offset,
      keyHex: r.key.toString('hex'),
      valueHex: r.value.toString('hex'),
      headers: r.headers.map(([k, v]) => [k, v === null ? null : v.toString('hex')]),
    });
    out.set(a.partition, list);
  }
  return out;
}

/** Expected record count per partition, for consumeAll. */
export function countsByPartition(report: Pick<ProduceReport, 'acked'>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of report.acked) counts[a.partition] = (counts[a.partition] ?? 0) + 1;
  return counts;
}

/**
 * Everything wrong with a round trip: unacknowledged records, offsets that do
 * not grow in produce order within a partition, and consumed records that
 * differ from what was produced (key, value, headers byte for byte, offset,
 * order, count). Empty when all is well. At most `limit` messages.
 */
export function roundTripProblems(
  records: readonly AcceptanceRecord[],
  produced: Pick<ProduceReport, 'acked'>,
  consumed: Pick<ConsumeReport, 'partitions'>,
  limit = 20,
): string[] {
  const problems: string[] = [];
  const add = (s: string) => {
    if (problems.length < limit) problems.push(s);
  };
  const ackedIdx = new Set(produced.acked.map((a) => a.index));
  const missing = records.filter((r) => !ackedIdx.has(r.index)).length;
  if (missing > 0) add(`${missing} of ${records.length} records were not acknowledged`);
  const expected = expectedByPartition(records, produced);
  for (const [p, list] of expected) {
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.offset <= list[i - 1]!.offset) {
        add(`partition ${p}: record ${list[i]!.index} got offset ${list[i]!.offset}, not after record ${list[i - 1]!.index}'s ${list[i - 1]!.offset}`);
        break;
      }
    }
  }
  const got = new Map(consumed.partitions.map((x) => [x.partition, x.records]));
  for (const [p, list] of expected) {
    const recs = got.get(p);
    if (!recs) {
      add(`partition ${p} was not consumed`);
      continue;
    }
    if (recs.length !== list.length) add(`partition ${p}: consumed ${recs.length} records, expected ${list.length}`);
    const n = Math.min(recs.length, list.length);
    for (let i = 0; i < n; i++) {
      const e = list[i]!;
      const c = recs[i]!;
      const what: string[] = [];
      if (c.offset !== e.offset) what.push(`offset ${c.offset} != ${e.offset}`);
      if (c.keyHex !== e.keyHex) what.push('key differs');
      if (c.valueHex !== e.valueHex) what.push(`value differs (${(c.valueHex?.length ?? -2) / 2} vs ${e.valueHex.length / 2} bytes)`);
      if (JSON.stringify(c.headers) !== JSON.stringify(e.headers)) {
        what.push(`headers ${JSON.stringify(c.headers)} != ${JSON.stringify(e.headers)}`);
      }
      if (what.length > 0) add(`partition ${p} position ${i} (record ${e.index}): ${what.join('; ')}`);
    }
  }
  for (const [p, recs] of got) {
    if (!expected.has(p) && recs.length > 0) add(`partition ${p}: consumed ${recs.length} records, expected none`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Availability

/**
 * Starts the client without a broker and asks for its version: proves that
 * the driver, its runtime and the client library load (kcat -V,
 * ConsoleProducer --version, `version` mode of the other drivers).
 */
export async function clientVersion(client: string, timeoutMs: number): Promise<{ ok: boolean; version: string; stderr: string }> {
  const c = checkClient(client);
  let run: ClientRun;
  let version = '';
  if (c === 'kcat') {
    run = await runBounded('kcat', ['-V'], { timeoutMs });
    version = /Version (\S+) .*?(librdkafka \S+)/s.exec(run.stdout)?.slice(1).join(', ') ?? '';
    if (version) version = `kcat ${version}`;
  } else if (c === 'console') {
    run = await runTool('org.apache.kafka.tools.ConsoleProducer', ['--version'], timeoutMs);
    version = run.stdout.trim() ? `kafka-tools ${run.stdout.trim().split('\n')[0]}` : '';
  } else {
    run = await runDriver(c, 'version', [], timeoutMs);
    const v = jsonLines(run.stdout).objects.find((o) => o.event === 'version');
    version = typeof v?.version === 'string' ? v.version : '';
  }
  const ok = run.exitCode === 0 && !run.timedOut && version !== '';
  return { ok, version, stderr: joinNotes(run.stderr, ok ? [] : [describeRun(run) || `no version in: ${run.stdout.slice(0, 200)}`]) };
}

function nodeModuleProblem(mods: string[]): string | null {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  for (const mod of mods) {
    try {
      require.resolve(mod);
    } catch {
      return `${mod} is not installed (npm install)`;
    }
  }
  return null;
}

export type PeersAvailability = Record<AcceptanceClient, boolean> & {
  /** Why each missing client cannot run. */
  problems: Partial<Record<AcceptanceClient, string>>;
  /** All problems in one sentence, when any client is missing. */
  reason?: string;
};

/** Which acceptance clients can run here (no broker needed); reason says what is missing. */
export function peersAvailable(): PeersAvailability {
  const problems: Partial<Record<AcceptanceClient, string>> = {};
  const python = existsSync(SYSTEM_PYTHON)
    ? existsSync(join(CONFLUENT_KAFKA_PACKAGE_DIR, '__init__.py'))
      ? null
      : `python3-confluent-kafka is not installed for ${SYSTEM_PYTHON}`
    : `${SYSTEM_PYTHON} does not exist`;
  const java = which('java') ? null : 'java is not on PATH';

  if (!which('kcat')) problems.kcat = 'kcat is not on PATH';
  else if (python) problems.kcat = `${python} (kcat creates topics through it)`;
  if (python) problems['confluent-kafka-python'] = python;
  const kjs = nodeModuleProblem(['kafkajs', 'tsx', 'snappy', 'lz4-napi', 'zstd-napi']);
  if (kjs) problems.kafkajs = kjs;
  const plat = nodeModuleProblem(['@platformatic/kafka', 'tsx', 'zstd-napi']);
  if (plat) problems.platformatic = plat;
  const aj = java ?? acceptanceJavaProblem();
  if (aj) problems.java = aj;
  const tools = java ?? kafkaToolsProblem() ?? acceptanceJavaProblem();
  if (tools) problems.console = tools;

  const res = { problems } as PeersAvailability;
  for (const c of ACCEPTANCE_CLIENTS) res[c] = problems[c] === undefined;
  const list = ACCEPTANCE_CLIENTS.filter((c) => problems[c] !== undefined).map((c) => `${c}: ${problems[c]}`);
  if (list.length > 0) res.reason = `${list.join('; ')} (run: bash hack/peers/install.sh)`;
  return res;
}
