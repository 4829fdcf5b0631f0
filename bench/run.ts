// npx tsx bench/run.ts [--quick] [--reps=N] [--records=N] [--tiered-mb=N] [--only=tiered]
//
// Producer throughput and latency of Strata against the reference Apache Kafka broker, measured with
// Kafka's own ProducerPerformance so both brokers face the same JVM client. The rules follow the
// fair-comparison recipe: one broker at a time, same topic shape (6 partitions, RF 1), the broker
// pinned to core 0 and every client to core 1, a warm-up session per broker, then sessions
// alternating Kafka, Strata, Kafka, Strata, and medians over the measured sessions.
//
// A session is one broker lifetime on a fresh data directory: spawn, time to the first acknowledged
// produce, create the topic, an in-session warm-up produce (JIT), then acks=1 and acks=all runs,
// while VmRSS is sampled every 200 ms. Results go to bench/results/<timestamp>.{json,md}.
//
// The tiered read case (bench/tiered.ts, Strata only: Kafka's jars have no RemoteStorageManager
// plugin) runs after the sessions, or alone with --only=tiered.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_REQUESTED_RATE, type Probe, bestProbe, clientCeiling, closeEnough, nextProbeRate } from './lib/rate.js';
import {
  type ConsumeResult,
  type ProduceResult,
  type RdkafkaConsumeResult,
  type RdkafkaProduceResult,
  latencyPercentilesMs,
  parseConsumerPerf,
  parseEndToEndLatency,
  parseProducerPerf,
  parseRdkafkaConsume,
  parseRdkafkaProduce,
} from './lib/parse.js';
import { RssSampler, cpuSeconds } from './lib/proc.js';
import { type BenchTools, TIERED_METRICS, type TieredResult, tieredMedians, tieredReadCase } from './tiered.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BROKER_CORE = '0';
const CLIENT_CORE = '1';
const TOPIC = 'perf';
const LATENCY_TOPIC = 'lat';
const PARTITIONS = 6;
const RECORD_SIZE = 1024;
const MiB = 1024 * 1024;
// Same batching for both brokers: the client, not the broker, decides batch shape.
const PRODUCER_PROPS = ['linger.ms=5', 'batch.size=131072'];
const ACKS = ['1', 'all'] as const;
// Upper bounds so a stuck broker or client can never hang the run.
const START_TIMEOUT_MS = 60_000;
const TOOL_TIMEOUT_MS = 600_000;
const STOP_TIMEOUT_MS = 30_000;

interface Options {
  quick: boolean;
  reps: number;
  records: number;
  /** Round trips EndToEndLatency makes (one record in flight at a time). */
  e2eRecords: number;
  /** How long the fixed-rate end-to-end latency run lasts. */
  latencySeconds: number;
  /** MB (10^6 bytes) of 1 KiB records the tiered read case writes into each of its topics. */
  tieredMb: number;
  /** Run only this case ('tiered'), or everything. */
  only: 'tiered' | null;
}

const USAGE = 'use --quick, --reps=N, --records=N, --tiered-mb=N, --only=tiered';

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const opts: Options = {
    quick,
    reps: quick ? 1 : 3,
    records: quick ? 200_000 : 1_000_000,
    e2eRecords: quick ? 5_000 : 10_000,
    latencySeconds: quick ? 10 : 20,
    tieredMb: quick ? 100 : 500,
    only: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(reps|records|tiered-mb)=(\d+)$/.exec(a);
    if (m) {
      const key = m[1] === 'tiered-mb' ? 'tieredMb' : (m[1] as 'reps' | 'records');
      opts[key] = Number(m[2]);
    } else if (a === '--only' || a.startsWith('--only=')) {
      // Both `--only=tiered` and `--only tiered` (as `npm run bench -- --only tiered` passes it).
      const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (v !== 'tiered') throw new Error(`--only takes "tiered", got ${v === undefined ? 'nothing' : JSON.stringify(v)} (${USAGE})`);
      opts.only = v;
    } else if (a !== '--quick') throw new Error(`unknown argument ${a} (${USAGE})`);
  }
  if (opts.reps < 1 || opts.records < 1 || opts.tieredMb < 1) throw new Error('--reps, --records and --tiered-mb must be positive');
  return opts;
}

function progress(msg: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Reference Kafka install and Java tools

interface KafkaRef {
  classpath: string;
  log4j: string;
  /** librdkafka's rdkafka_performance, built by hack/bench/install-rdkafka-perf.sh. */
  rdkafkaPerf: string;
}

function installKafka(): KafkaRef {
  const lib = execFileSync('bash', [join(ROOT, 'hack/bench/install-kafka.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const rdkafkaPerf = execFileSync('bash', [join(ROOT, 'hack/bench/install-rdkafka-perf.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return { classpath: `${lib}/*`, log4j: join(dirname(lib), 'log4j2.properties'), rdkafkaPerf };
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

// A Java tool pinned to the client core, with the same JVM flags for both brokers.
function javaTool(ref: KafkaRef, mainClass: string, args: string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<RunResult> {
  return run(
    'taskset',
    ['-c', CLIENT_CORE, 'java', '-Xms512m', '-Xmx512m', `-Dlog4j2.configurationFile=file:${ref.log4j}`, '-cp', ref.classpath, mainClass, ...args],
    timeoutMs,
  );
}

async function createTopic(ref: KafkaRef, bootstrap: string, topic = TOPIC, configs: string[] = []): Promise<void> {
  const r = await javaTool(
    ref,
    'org.apache.kafka.tools.TopicCommand',
    ['--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', String(PARTITIONS), '--replication-factor', '1', ...configs.flatMap((c) => ['--config', c])],
    60_000,
  );
  if (r.code !== 0) throw new Error(`TopicCommand failed (${r.code}): ${r.stdout}${r.stderr}`);
}

async function producerPerf(ref: KafkaRef, bootstrap: string, records: number, acks: string): Promise<ProduceResult> {
  const r = await javaTool(ref, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic', TOPIC,
    '--num-records', String(records),
    '--record-size', String(RECORD_SIZE),
    '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${bootstrap}`, `acks=${acks}`, ...PRODUCER_PROPS,
  ]);
  if (r.timedOut) throw new Error(`ProducerPerformance timed out after ${TOOL_TIMEOUT_MS} ms`);
  if (r.code !== 0) throw new Error(`ProducerPerformance failed (${r.code}):\n${(r.stdout + r.stderr).slice(-2000)}`);
  // ProducerPerformance exits 0 even when sends fail; errors show up on stderr/stdout as exceptions.
  return parseProducerPerf(r.stdout, records);
}

// librdkafka's rdkafka_performance: a C client light enough that the broker, not the client, is the
// limit. Same batching as the Java producer; a random partition per message (sticky partitioning
// off) so the six partitions get even shares.
const RDKAFKA_PRODUCER_PROPS = ['-X', 'linger.ms=5', '-X', 'batch.size=131072', '-X', 'sticky.partitioning.linger.ms=0', '-X', 'log_level=3'];
const ALL_PARTITIONS = Array.from({ length: PARTITIONS }, (_, p) => ['-p', String(p)]).flat();

function rdkafka(ref: KafkaRef, args: string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<RunResult> {
  return run('taskset', ['-c', CLIENT_CORE, ref.rdkafkaPerf, ...args], timeoutMs);
}

function checked(tool: string, r: RunResult): string {
  if (r.timedOut) throw new Error(`${tool} timed out:\n${(r.stdout + r.stderr).slice(-2000)}`);
  if (r.code !== 0) throw new Error(`${tool} failed (${r.code}):\n${(r.stdout + r.stderr).slice(-2000)}`);
  return r.stdout;
}

async function rdkafkaProduce(ref: KafkaRef, bootstrap: string, records: number, acks: string, topic = TOPIC): Promise<RdkafkaProduceResult> {
  const r = await rdkafka(ref, ['-P', '-t', topic, '-b', bootstrap, '-s', String(RECORD_SIZE), '-c', String(records), '-a', acks === 'all' ? '-1' : acks, ...RDKAFKA_PRODUCER_PROPS, '-q']);
  return parseRdkafkaProduce(checked('rdkafka_performance producer', r), records);
}

/** Kafka's ConsumerPerformance in a fresh group (classic protocol), reading from the beginning. */
async function consumerPerf(ref: KafkaRef, bootstrap: string, records: number): Promise<ConsumeResult> {
  const r = await javaTool(ref, 'org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', bootstrap,
    '--topic', TOPIC,
    '--messages', String(records),
    '--timeout', '60000',
  ]);
  return parseConsumerPerf(checked('ConsumerPerformance', r), records);
}

async function rdkafkaConsume(ref: KafkaRef, bootstrap: string, records: number, topic = TOPIC): Promise<RdkafkaConsumeResult> {
  // librdkafka stops fetching a partition whose local queue is over its thresholds and, by default,
  // waits fetch.queue.backoff.ms (1 s) before trying again. Against a broker that fills the queue
  // faster than the tool drains it, those pauses decide the result (the same run measured 0.9 and
  // 1.7 M records/s here). With no backoff the figure is the broker's and the client's, not the
  // timer's; both brokers get the same setting.
  const r = await rdkafka(ref, ['-C', '-t', topic, '-b', bootstrap, ...ALL_PARTITIONS, '-o', 'beginning', '-c', String(records), '-X', 'log_level=3', '-X', 'fetch.queue.backoff.ms=0', '-q']);
  return parseRdkafkaConsume(checked('rdkafka_performance consumer', r), records);
}

/** End-to-end latency at a fixed offered rate: a consumer reading from the end of topic `lat`, then a
 *  producer sending `rate` messages/s that carry their send time; the consumer writes each
 *  message's send-to-receive latency. Percentiles come from those per-message figures. */
/** `requested` is the -r passed; `target` (records/s) sets the count, so the run lasts about `seconds`. */
async function fixedRateLatency(ref: KafkaRef, bootstrap: string, requested: number, target: number, seconds: number, dir: string) {
  const count = Math.max(1000, Math.round(target * seconds));
  const file = join(dir, 'latency-us.txt');
  const consumer = rdkafka(ref, ['-C', '-t', LATENCY_TOPIC, '-b', bootstrap, ...ALL_PARTITIONS, '-o', 'end', '-l', '-A', file, '-c', String(count), '-X', 'log_level=3', '-q'], TOOL_TIMEOUT_MS);
  // The consumer must have its end offsets before the first message is sent, or it would miss it and
  // never reach its count. Two seconds is ample on loopback; a miss shows up as a timeout, not a
  // wrong figure.
  await sleep(2000);
  // Without -q the producer prints its progress each second: the rate it sent at comes from those
  // lines, leaving out connecting and the wait for the last acknowledgements.
  const producer = await rdkafka(ref, ['-P', '-t', LATENCY_TOPIC, '-b', bootstrap, '-s', String(RECORD_SIZE), '-c', String(count), '-r', String(Math.round(requested)), '-a', '-1', '-l', ...RDKAFKA_PRODUCER_PROPS]);
  const produced = parseRdkafkaProduce(checked('rdkafka_performance latency producer', producer), count);
  checked('rdkafka_performance latency consumer', await consumer);
  return { ...latencyPercentilesMs(readFileSync(file, 'utf8'), count), achievedRate: produced.steadyMsgsPerSec ?? produced.msgsPerSec };
}

// ---------------------------------------------------------------------------------------------
// Brokers

interface BrokerSpec {
  name: 'kafka' | 'strata';
  bootstrap: string;
  // Prepares the data directory; returns the command that runs the broker (already pinned).
  prepare(dataDir: string): Promise<{ cmd: string; args: string[] }>;
}

function kafkaSpec(ref: KafkaRef): BrokerSpec {
  return {
    name: 'kafka',
    bootstrap: '127.0.0.1:19092',
    async prepare(dataDir) {
      const props = join(dataDir, 'server.properties');
      writeFileSync(
        props,
        [
          'process.roles=broker,controller',
          'node.id=1',
          'controller.quorum.voters=1@127.0.0.1:19093',
          'listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093',
          'advertised.listeners=PLAINTEXT://127.0.0.1:19092',
          'controller.listener.names=CONTROLLER',
          'inter.broker.listener.name=PLAINTEXT',
          'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
          `log.dirs=${join(dataDir, 'logs')}`,
          'num.partitions=1',
          'auto.create.topics.enable=true',
          'offsets.topic.replication.factor=1',
          'transaction.state.log.replication.factor=1',
          'transaction.state.log.min.isr=1',
          'share.coordinator.state.topic.replication.factor=1',
          'share.coordinator.state.topic.min.isr=1',
          'group.initial.rebalance.delay.ms=0',
          '',
        ].join('\n'),
      );
      // Formatting is a separate step before the broker process exists, so it is not part of the
      // start-up time, just as creating Strata's empty data directory is not.
      const jvm = ['-Xms1g', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=file:${ref.log4j}`];
      const fmt = await run(
        'java',
        [...jvm.filter((f) => !f.startsWith('-Xm')), '-cp', ref.classpath, 'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', props],
        60_000,
      );
      if (fmt.code !== 0) throw new Error(`kafka StorageTool format failed: ${fmt.stdout}${fmt.stderr}`);
      return { cmd: 'taskset', args: ['-c', BROKER_CORE, 'java', ...jvm, '-cp', ref.classpath, 'kafka.Kafka', props] };
    },
  };
}

// A KRaft cluster id is 16 random bytes in URL-safe base64 without padding.
// One starting with '-' would be read as an option by the format tool, so such ids are drawn again
// (Kafka's own random ids avoid a leading '-' the same way).
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function strataSpec(): BrokerSpec {
  return {
    name: 'strata',
    bootstrap: '127.0.0.1:9092',
    async prepare(dataDir) {
      return {
        cmd: 'taskset',
        args: [
          '-c', BROKER_CORE, process.execPath, join(ROOT, 'bin/strata'), 'broker',
          '--override', `log.dirs=${join(dataDir, 'logs')}`,
          '--override', 'listeners=PLAINTEXT://127.0.0.1:9092',
          '--override', 'strata.http.listener=127.0.0.1:0',
        ],
      };
    },
  };
}

let liveBroker: ChildProcess | undefined;

// Produces one record with kcat until a produce is acknowledged. kcat starts in milliseconds, unlike
// a JVM client, so the loop adds little to the measured time. Producing to a new topic means the
// measurement includes the broker auto-creating it, the same for both brokers.
async function waitFirstAck(bootstrap: string, child: ChildProcess, spawnedAt: number): Promise<number> {
  const deadline = spawnedAt + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode} during start-up`);
    const ok = await new Promise<boolean>((resolve) => {
      const k = spawn(
        'taskset',
        [
          '-c', CLIENT_CORE, 'kcat', '-P', '-b', bootstrap, '-t', 'startup', '-c', '1',
          '-X', 'message.timeout.ms=2000', '-X', 'reconnect.backoff.ms=20', '-X', 'reconnect.backoff.max.ms=50',
          '-X', 'topic.metadata.refresh.fast.interval.ms=50', '-X', 'request.required.acks=1',
        ],
        { stdio: ['pipe', 'ignore', 'pipe'] },
      );
      let err = '';
      k.stderr.on('data', (d: Buffer) => (err += d.toString()));
      k.stdin.end('x\n');
      const t = setTimeout(() => k.kill('SIGKILL'), 5000);
      // kcat exits 0 only when every message was delivered (it reports failures on stderr).
      k.on('close', (code) => {
        clearTimeout(t);
        resolve(code === 0 && !/fail|error/i.test(err));
      });
      k.on('error', () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (ok) return performance.now() - spawnedAt;
    await sleep(50);
  }
  throw new Error(`no acknowledged produce within ${START_TIMEOUT_MS} ms`);
}

async function stopBroker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  // A cleared timer, not sleep(): a pending 30 s timer would keep the process alive after the report.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

/** One figure in the report: how it is named, and how many decimals it shows. */
interface MetricSpec {
  key: string;
  label: string;
  digits: number;
}

const METRICS: MetricSpec[] = [];
function metric(key: string, label: string, digits: number): string {
  if (!METRICS.some((m) => m.key === key)) METRICS.push({ key, label, digits });
  return key;
}

// Declared in report order.
for (const acks of ACKS) {
  metric(`java.produce.${acks}.recordsPerSec`, `ProducerPerformance acks=${acks} records/s`, 0);
  metric(`java.produce.${acks}.mbPerSec`, `ProducerPerformance acks=${acks} MB/s`, 1);
  metric(`java.produce.${acks}.p50Ms`, `ProducerPerformance acks=${acks} p50 latency ms`, 0);
  metric(`java.produce.${acks}.p99Ms`, `ProducerPerformance acks=${acks} p99 latency ms`, 0);
  metric(`java.produce.${acks}.p999Ms`, `ProducerPerformance acks=${acks} p99.9 latency ms`, 0);
  metric(`java.produce.${acks}.cpuSecPerGB`, `broker CPU s per GB, ProducerPerformance acks=${acks}`, 2);
}
for (const acks of ACKS) {
  metric(`rdkafka.produce.${acks}.recordsPerSec`, `rdkafka_performance produce acks=${acks} records/s`, 0);
  metric(`rdkafka.produce.${acks}.mbPerSec`, `rdkafka_performance produce acks=${acks} MiB/s`, 1);
  metric(`rdkafka.produce.${acks}.cpuSecPerGB`, `broker CPU s per GB, rdkafka_performance acks=${acks}`, 2);
}
metric('java.consume.recordsPerSec', 'ConsumerPerformance records/s', 0);
metric('java.consume.mbPerSec', 'ConsumerPerformance MiB/s', 1);
metric('java.consume.cpuSecPerGB', 'broker CPU s per GB consumed, ConsumerPerformance', 2);
metric('rdkafka.consume.recordsPerSec', 'rdkafka_performance consume records/s', 0);
metric('rdkafka.consume.mbPerSec', 'rdkafka_performance consume MiB/s', 1);
metric('rdkafka.consume.cpuSecPerGB', 'broker CPU s per GB consumed, rdkafka_performance', 2);
metric('e2e.fixed.offered', 'fixed-rate end-to-end: target records/s (acks=all)', 0);
metric('e2e.fixed.rate', 'fixed-rate end-to-end: records/s sent', 0);
metric('e2e.fixed.p50Ms', 'fixed-rate end-to-end latency p50 ms', 2);
metric('e2e.fixed.p99Ms', 'fixed-rate end-to-end latency p99 ms', 2);
metric('e2e.fixed.p999Ms', 'fixed-rate end-to-end latency p99.9 ms', 2);
metric('e2e.fixed.peakRssMiB', 'peak broker RSS MiB under the fixed-rate load', 0);
metric('e2e.pingpong.avgMs', 'EndToEndLatency (one in flight) avg ms', 2);
metric('e2e.pingpong.p99Ms', 'EndToEndLatency (one in flight) p99 ms', 0);
metric('e2e.pingpong.p999Ms', 'EndToEndLatency (one in flight) p99.9 ms', 0);
metric('startupMs', 'start to first acked produce ms', 0);
metric('peakRssMiB', 'peak broker RSS MiB (whole session)', 0);

interface SessionResult {
  broker: string;
  warmup: boolean;
  metrics: Record<string, number>;
  /** Things the tools reported that did not stop the run, kept with the result. */
  warnings: string[];
}

async function endToEndLatency(ref: KafkaRef, bootstrap: string, records: number): Promise<{ r: ReturnType<typeof parseEndToEndLatency>; warning?: string }> {
  // One partition (the tool requires it), auto-created by the tool's own producer.
  const r = await javaTool(ref, 'org.apache.kafka.tools.EndToEndLatency', [bootstrap, 'e2e', String(records), '1', String(RECORD_SIZE)]);
  if (r.timedOut) throw new Error(`EndToEndLatency timed out after ${TOOL_TIMEOUT_MS} ms`);
  const parsed = parseEndToEndLatency(r.stdout);
  // The tool prints its percentiles before closing its consumer; an error while closing does not
  // change the figures, so it is kept as a warning.
  if (r.code !== 0) return { r: parsed, warning: `EndToEndLatency exited ${r.code}: ${(r.stdout + r.stderr).split('\n').filter((l) => /Exception|Error/.test(l))[0] ?? ''}` };
  return { r: parsed };
}

/** What one session learns for the ones after it. */
interface RunState {
  kafkaMaxRate?: number;
  /** The fixed-rate target: half of Kafka's best rdkafka_performance rate in its warm-up session. */
  offeredRate?: number;
  /** The -r value that makes rdkafka_performance send at the target (see calibrateRate). */
  requestedRate?: number;
  /** Calibration probes: what was asked and what came out. */
  calibration?: { requested: number; achieved: number }[];
  /** Half of Kafka's best rate, when that was beyond what the client core sends and offeredRate was capped. */
  uncappedRate?: number;
}

/** Calibration probes of the rate limiter, at most, and how long each runs. */
const CALIBRATION_PROBES = 6;
const CALIBRATION_SECONDS = 5;

/**
 * Searches for the -r that sends state.offeredRate (see bench/lib/rate.ts), with `probe` returning
 * the rate one short run sent. A probe that fails is reported and counts as one of the probes; when
 * the client core cannot send the target even at the highest limiting -r, the target is lowered to
 * what it does send, for every run after.
 */
async function calibrate(state: RunState, probe: (requested: number, target: number) => Promise<number>): Promise<void> {
  const target = state.offeredRate!;
  const probes: Probe[] = [];
  for (let i = 0; i < CALIBRATION_PROBES; i++) {
    const requested = nextProbeRate(target, probes);
    let achieved: number;
    try {
      achieved = await probe(requested, target);
    } catch (e) {
      progress(`calibration: rdkafka_performance -r ${requested} failed, trying again: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    probes.push({ requested, achieved });
    progress(`calibration: rdkafka_performance -r ${requested} sent ${achieved} records/s (target ${target.toFixed(0)})`);
    if (closeEnough(target, achieved)) break;
    const ceiling = clientCeiling(target, probes);
    if (ceiling !== undefined) {
      state.uncappedRate = target;
      state.offeredRate = ceiling;
      progress(`calibration: the client core sends at most ${ceiling} records/s with the limiter on; fixed-rate runs offer that instead of ${target.toFixed(0)}`);
      break;
    }
  }
  const best = state.uncappedRate === undefined ? bestProbe(target, probes) : probes.find((p) => p.requested === MAX_REQUESTED_RATE);
  if (best === undefined) throw new Error(`calibration: all ${CALIBRATION_PROBES} probes failed`);
  state.calibration = probes;
  state.requestedRate = best.requested;
  progress(`calibration: runs use -r ${state.requestedRate}`);
}

async function session(ref: KafkaRef, spec: BrokerSpec, opts: Options, warmup: boolean, state: RunState): Promise<SessionResult> {
  const dataDir = mkdtempSync(join(tmpdir(), `strata-bench-${spec.name}-`));
  const logPath = join(dataDir, 'broker.log');
  let child: ChildProcess | undefined;
  let sampler: RssSampler | undefined;
  const metrics: Record<string, number> = {};
  const warnings: string[] = [];
  try {
    const { cmd, args } = await spec.prepare(dataDir);
    const log = createWriteStream(logPath);
    const spawnedAt = performance.now();
    child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveBroker = child;
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    // taskset execs the broker, so this pid is the JVM or Node process itself.
    const pid = child.pid!;
    sampler = new RssSampler(pid);
    metrics.startupMs = await waitFirstAck(spec.bootstrap, child, spawnedAt);
    progress(`${spec.name}: first produce acknowledged ${metrics.startupMs.toFixed(0)} ms after spawn`);
    await createTopic(ref, spec.bootstrap);
    // In-session warm-up: a fresh process has cold JITs (HotSpot and V8) either way.
    const warmRecords = Math.max(10_000, Math.floor(opts.records / 4));
    await producerPerf(ref, spec.bootstrap, warmRecords, '1');
    progress(`${spec.name}: warmed up with ${warmRecords} records`);
    const gb = (opts.records * RECORD_SIZE) / 1e9;
    for (const acks of ACKS) {
      const cpuBefore = cpuSeconds(pid);
      const r: ProduceResult = await producerPerf(ref, spec.bootstrap, opts.records, acks);
      const cpuSecPerGB = (cpuSeconds(pid) - cpuBefore) / gb;
      const k = `java.produce.${acks}`;
      Object.assign(metrics, {
        [`${k}.recordsPerSec`]: r.recordsPerSec,
        [`${k}.mbPerSec`]: r.mbPerSec,
        [`${k}.p50Ms`]: r.p50Ms,
        [`${k}.p99Ms`]: r.p99Ms,
        [`${k}.p999Ms`]: r.p999Ms,
        [`${k}.cpuSecPerGB`]: cpuSecPerGB,
      });
      progress(
        `${spec.name}: ProducerPerformance acks=${acks} ${r.recordsPerSec.toFixed(0)} rec/s ${r.mbPerSec.toFixed(1)} MB/s ` +
          `p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} ms, broker ${cpuSecPerGB.toFixed(2)} CPU s/GB`,
      );
    }
    for (const acks of ACKS) {
      const cpuBefore = cpuSeconds(pid);
      const r = await rdkafkaProduce(ref, spec.bootstrap, opts.records, acks);
      const cpuSecPerGB = (cpuSeconds(pid) - cpuBefore) / gb;
      const k = `rdkafka.produce.${acks}`;
      Object.assign(metrics, {
        [`${k}.recordsPerSec`]: r.msgsPerSec,
        [`${k}.mbPerSec`]: (r.msgsPerSec * RECORD_SIZE) / MiB,
        [`${k}.cpuSecPerGB`]: cpuSecPerGB,
      });
      progress(`${spec.name}: rdkafka_performance acks=${acks} ${r.msgsPerSec} rec/s, broker ${cpuSecPerGB.toFixed(2)} CPU s/GB`);
      // Half of Kafka's maximum, measured in its warm-up session (the better of its two
      // rdkafka_performance runs: the first one still warms the JVM), is the offered load of every
      // fixed-rate latency run that follows, for both brokers.
      if (spec.name === 'kafka' && warmup) {
        state.kafkaMaxRate = Math.max(state.kafkaMaxRate ?? 0, r.msgsPerSec);
        if (acks === ACKS.at(-1)) {
          state.offeredRate = state.kafkaMaxRate / 2;
          progress(`fixed-rate latency runs will offer ${state.offeredRate.toFixed(0)} records/s (half of Kafka's best rdkafka_performance run)`);
        }
      }
    }
    {
      const records = opts.records * 2;
      const cpuBefore = cpuSeconds(pid);
      const r = await consumerPerf(ref, spec.bootstrap, records);
      const cpuSecPerGB = (cpuSeconds(pid) - cpuBefore) / ((records * RECORD_SIZE) / 1e9);
      Object.assign(metrics, { 'java.consume.recordsPerSec': r.recordsPerSec, 'java.consume.mbPerSec': r.mbPerSec, 'java.consume.cpuSecPerGB': cpuSecPerGB });
      progress(`${spec.name}: ConsumerPerformance ${r.recordsPerSec.toFixed(0)} rec/s ${r.mbPerSec.toFixed(1)} MiB/s, broker ${cpuSecPerGB.toFixed(2)} CPU s/GB`);
    }
    {
      // The topic now holds the warm-up, two Java runs and two rdkafka runs; read two runs' worth.
      const records = opts.records * 2;
      const cpuBefore = cpuSeconds(pid);
      const r = await rdkafkaConsume(ref, spec.bootstrap, records);
      const cpuSecPerGB = (cpuSeconds(pid) - cpuBefore) / ((records * RECORD_SIZE) / 1e9);
      Object.assign(metrics, {
        'rdkafka.consume.recordsPerSec': r.msgsPerSec,
        'rdkafka.consume.mbPerSec': (r.msgsPerSec * RECORD_SIZE) / MiB,
        'rdkafka.consume.cpuSecPerGB': cpuSecPerGB,
      });
      progress(`${spec.name}: rdkafka_performance consume ${r.msgsPerSec} rec/s, broker ${cpuSecPerGB.toFixed(2)} CPU s/GB`);
    }
    {
      await createTopic(ref, spec.bootstrap, LATENCY_TOPIC);
      if (spec.name === 'kafka' && warmup) {
        await calibrate(state, async (requested, target) => (await fixedRateLatency(ref, spec.bootstrap, requested, target, CALIBRATION_SECONDS, dataDir)).achievedRate);
      }
      const target = state.offeredRate!;
      const requested = state.requestedRate ?? target;
      sampler.reset();
      const r = await fixedRateLatency(ref, spec.bootstrap, requested, target, opts.latencySeconds, dataDir);
      const peak = sampler.reset();
      Object.assign(metrics, {
        'e2e.fixed.offered': target,
        'e2e.fixed.rate': r.achievedRate,
        'e2e.fixed.p50Ms': r.p50Ms,
        'e2e.fixed.p99Ms': r.p99Ms,
        'e2e.fixed.p999Ms': r.p999Ms,
        'e2e.fixed.peakRssMiB': peak,
      });
      progress(`${spec.name}: fixed-rate ${r.achievedRate} rec/s (target ${target.toFixed(0)}, -r ${requested}), end-to-end p50 ${r.p50Ms} p99 ${r.p99Ms} p99.9 ${r.p999Ms} ms, peak RSS ${peak.toFixed(0)} MiB`);
      if (!closeEnough(target, r.achievedRate)) {
        warnings.push(`fixed-rate run sent ${r.achievedRate} records/s, more than 5% off the ${target.toFixed(0)} targeted`);
      }
    }
    const e2e = await endToEndLatency(ref, spec.bootstrap, opts.e2eRecords);
    if (e2e.warning) warnings.push(e2e.warning);
    Object.assign(metrics, { 'e2e.pingpong.avgMs': e2e.r.avgMs, 'e2e.pingpong.p99Ms': e2e.r.p99Ms, 'e2e.pingpong.p999Ms': e2e.r.p999Ms });
    progress(`${spec.name}: EndToEndLatency avg ${e2e.r.avgMs} ms p50 ${e2e.r.p50Ms} p99 ${e2e.r.p99Ms} p99.9 ${e2e.r.p999Ms} ms`);
    metrics.peakRssMiB = sampler.stop();
    progress(`${spec.name}: peak RSS ${metrics.peakRssMiB.toFixed(0)} MiB`);
    return { broker: spec.name, warmup, metrics, warnings };
  } catch (e) {
    let tail = '';
    try {
      tail = readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      // no log yet
    }
    throw new Error(`${spec.name} session failed: ${(e as Error).message}\n--- broker log tail ---\n${tail}`);
  } finally {
    sampler?.stop();
    if (child) await stopBroker(child);
    liveBroker = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Row {
  metric: string;
  digits: number;
  kafka: number[];
  strata: number[];
}

function rows(kafka: SessionResult[], strata: SessionResult[]): Row[] {
  return METRICS.map((m) => ({
    metric: m.label,
    digits: m.digits,
    kafka: kafka.map((r) => r.metrics[m.key]).filter((v): v is number => v !== undefined),
    strata: strata.map((r) => r.metrics[m.key]).filter((v): v is number => v !== undefined),
  })).filter((r) => r.kafka.length > 0 || r.strata.length > 0);
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

/** "median (min–max)" when there is more than one session, else the single figure. */
function cell(xs: number[], digits: number): string {
  if (xs.length <= 1) return fmt(median(xs), digits);
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
}

function table(rs: Row[]): string {
  const lines = ['| metric | Kafka 4.1.1 | Strata | Strata/Kafka |', '|---|---:|---:|---:|'];
  for (const r of rs) {
    const k = median(r.kafka);
    const s = median(r.strata);
    const ratio = k === 0 || !Number.isFinite(k) || !Number.isFinite(s) ? 'n/a' : (s / k).toFixed(2);
    // A Strata-only row (the tiered case): Kafka has no figure, rather than a made-up one.
    const kafka = r.kafka.length === 0 ? 'absent¹' : cell(r.kafka, r.digits);
    lines.push(`| ${r.metric} | ${kafka} | ${cell(r.strata, r.digits)} | ${ratio} |`);
  }
  return lines.join('\n');
}

const KAFKA_TIERED_NOTE =
  "¹ Kafka's tiered storage needs a RemoteStorageManager plugin, and none ships in its jars, so the tiered case runs on Strata only.";

function tieredRows(t: TieredResult | null): Row[] {
  if (t === null) return [];
  return TIERED_METRICS.map((m) => ({ metric: m.label, digits: m.digits, kafka: [], strata: t.runs.map((r) => r[m.key]!) }));
}

function warningLines(results: SessionResult[]): string[] {
  const all = results.flatMap((r, i) => r.warnings.map((w) => `- session ${i + 1} (${r.broker}${r.warmup ? ', warm-up' : ''}): ${w}`));
  return all.length === 0 ? [] : ['Warnings from the tools (the run went on):', '', ...all, ''];
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    // java -version writes to stderr
    const err = e as { stderr?: string };
    return (err.stderr ?? '').trim();
  }
}

function machine(): Record<string, string | number> {
  const javaVersion = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    nproc: Number(sh('nproc', [])),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotalMiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024),
    kernel: sh('uname', ['-sr']),
    node: process.version,
    java: (javaVersion || sh('bash', ['-c', 'java -version 2>&1'])).split('\n')[0] ?? 'unknown',
    strataCommit: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
  };
}

function benchTools(ref: KafkaRef): BenchTools {
  return {
    root: ROOT,
    brokerCore: BROKER_CORE,
    clientCore: CLIENT_CORE,
    partitions: PARTITIONS,
    progress,
    createTopic: (bootstrap, topic, configs) => createTopic(ref, bootstrap, topic, configs),
    produce: async (bootstrap, topic, records) => {
      await rdkafkaProduce(ref, bootstrap, records, 'all', topic);
    },
    consume: async (bootstrap, topic, records) => (await rdkafkaConsume(ref, bootstrap, records, topic)).msgsPerSec,
    stopBroker,
    setLive: (child) => (liveBroker = child),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  progress(
    opts.only === 'tiered'
      ? `options: only the tiered read case, ${opts.reps} rep(s), ${opts.tieredMb} MB per topic`
      : `options: ${opts.quick ? 'quick, ' : ''}${opts.reps} rep(s), ${opts.records} records of ${RECORD_SIZE} B per run, tiered case ${opts.tieredMb} MB per topic`,
  );
  const ref = installKafka();
  const kafka = kafkaSpec(ref);
  const strata = strataSpec();
  const order: [BrokerSpec, boolean][] = [];
  if (opts.only === null) {
    order.push([kafka, true], [strata, true]);
    for (let i = 0; i < opts.reps; i++) order.push([kafka, false], [strata, false]);
  }
  const results: SessionResult[] = [];
  const state: RunState = {};
  const startedAt = new Date();
  for (const [i, [spec, warmup]] of order.entries()) {
    progress(`session ${i + 1}/${order.length}: ${spec.name}${warmup ? ' (warm-up, discarded)' : ''}`);
    results.push(await session(ref, spec, opts, warmup, state));
  }
  progress(`tiered read case (Strata only), ${opts.reps} rep(s)`);
  const tiered = await tieredReadCase(benchTools(ref), { mb: opts.tieredMb, reps: opts.reps });
  const measured = results.filter((r) => !r.warmup);
  const rs = [...rows(measured.filter((r) => r.broker === 'kafka'), measured.filter((r) => r.broker === 'strata')), ...tieredRows(tiered)];
  const m = machine();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const config = {
    quick: opts.quick,
    reps: opts.reps,
    records: opts.records,
    recordSize: RECORD_SIZE,
    topic: { partitions: PARTITIONS, replicationFactor: 1 },
    producerProps: PRODUCER_PROPS,
    pinning: { broker: `core ${BROKER_CORE}`, client: `core ${CLIENT_CORE}` },
    kafkaHeap: '-Xms1g -Xmx1g',
    e2eRecords: opts.e2eRecords,
    latencySeconds: opts.latencySeconds,
    offeredRate: state.offeredRate,
    uncappedRate: state.uncappedRate,
    requestedRate: state.requestedRate,
    calibration: state.calibration,
    only: opts.only,
    tieredMb: opts.tieredMb,
  };
  writeFileSync(
    join(dir, `${stamp}.json`),
    JSON.stringify({ startedAt: startedAt.toISOString(), machine: m, config, rows: rs, sessions: results, tiered: { ...tiered, medians: tieredMedians(tiered) } }, null, 2) + '\n',
  );
  const tieredText =
    `Tiered read case (Strata only): ${tiered.config.records.toLocaleString('en-US')} records of ${RECORD_SIZE} B (${opts.tieredMb} MB) into a tiered topic ` +
    `(segment.bytes ${tiered.config.segmentBytes / MiB} MiB, local.retention.bytes 0) and the same into an untiered one, both ${PARTITIONS} partitions, with rdkafka_performance (acks=all); ` +
    `once uploads were through and local retention had left only the active segments (${fmt(tiered.settled.remoteBytes / MiB, 0)} MiB in the bucket, ` +
    `${fmt(tiered.settled.localBytes / MiB, 1)} MiB local), each repetition restarts the broker (empty remote read cache) and reads both topics from the beginning with ` +
    `rdkafka_performance as in the consume case. The S3 server is versitygw on the same machine, on the client core.`;
  const md = [
    `# Broker benchmark ${startedAt.toISOString()}`,
    '',
    `Command: \`npx tsx bench/run.ts${process.argv.slice(2).map((a) => ` ${a}`).join('')}\``,
    '',
    ...(opts.only === 'tiered' ? [tieredText] : [`Each session: one broker on a fresh data directory, topic \`${TOPIC}\` of ${PARTITIONS} partitions RF 1, ${RECORD_SIZE} B records. ` +
      `Kafka's ProducerPerformance (${opts.records.toLocaleString('en-US')} records per run, ${PRODUCER_PROPS.join(' ')}) and librdkafka's ` +
      `rdkafka_performance (same count and batching) at acks=1 and acks=all; ConsumerPerformance (a new group) and rdkafka_performance each reading ${(opts.records * 2).toLocaleString('en-US')} records back; ` +
      `end-to-end latency with rdkafka_performance at a fixed offered rate of half Kafka's best rdkafka_performance rate in its warm-up session (acks=all, ${opts.latencySeconds} s)` +
      (state.uncappedRate === undefined ? '' : ` (here capped: half of Kafka's best was ${fmt(state.uncappedRate, 0)} records/s, beyond the ${fmt(state.offeredRate!, 0)} records/s the client core sends with the rate limiter on)`) +
      `, sent with rdkafka_performance -r ${fmt(state.requestedRate ?? Number.NaN, 0)} (its rate limiter waits after each message, so -r is calibrated against Kafka in the warm-up session to send the target); ` +
      `Kafka's EndToEndLatency (${opts.e2eRecords.toLocaleString('en-US')} round trips, one record in flight). ` +
      `Broker on core ${BROKER_CORE}, clients on core ${CLIENT_CORE}. ` +
      `${opts.reps} measured session(s) per broker after one warm-up session each, alternating Kafka and Strata. ` +
      `CPU is the broker's user+system time over the run divided by the bytes produced or read.`, '', tieredText]),
    '',
    table(rs),
    '',
    'Cells are the median over the measured sessions (or tiered repetitions), with the lowest and highest in brackets.',
    '',
    KAFKA_TIERED_NOTE,
    '',
    ...warningLines(results),
    'Machine:',
    '',
    ...Object.entries(m).map(([k, v]) => `- ${k}: ${v}`),
    '',
  ].join('\n');
  writeFileSync(join(dir, `${stamp}.md`), md);
  process.stdout.write(`\n${table(rs)}\n\n${KAFKA_TIERED_NOTE}\n\n`);
  progress(`wrote bench/results/${stamp}.json and .md`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    liveBroker?.kill('SIGKILL');
    process.exit(130);
  });
}

main().catch((e: Error) => {
  liveBroker?.kill('SIGKILL');
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
