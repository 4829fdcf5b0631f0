// Tiered storage while the object store misbehaves without going away: a broker process whose S3
// endpoint is a fault-injecting proxy (fault-proxy.ts) in front of a real S3 server (versitygw).
// Under a steady acks=all producer and a tail consumer (confluent-kafka-python), phase by phase:
//   - writes throttled (503 SlowDown on PUTs), every request failing with 500 InternalError, and a
//     store slower than strata.tiered.s3.request.timeout.ms (requests that do happen upstream but
//     answer too late): the clients see no error, each partition's upload backlog
//     (strata_remote_copy_lag_segments) grows, the broker logs the growing backlog with the kind of
//     failure, strata_remote_errors_total counts that kind (throttled, unavailable, timeout), and
//     local segments are kept past local.retention.bytes; once the proxy passes again the backlog
//     drains and local retention catches up.
// Then cold reads (everything below the local log start) while GETs fail: a Fetch answers
// KAFKA_STORAGE_ERROR for the partition, never hangs, under each fault (a slow store included);
// kcat and Kafka's Java ConsoleConsumer, from the beginning, get nothing while the store fails,
// report no error (both retry KAFKA_STORAGE_ERROR internally, refreshing metadata), and once the
// proxy heals read every acknowledged record byte-exact.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_TOOLS_LOG4J_CONFIG } from '../acceptance/clients/paths.js';
import { type BrokerProcess, newDataDir, startBroker } from '../broker/harness.js';
import { kafkaRefLibDir, kafkaRefToolsProblem, runTool } from '../broker/kafka-tools.js';
import { WireClient } from '../broker/wire-client.js';
import * as G from '../../broker/protocol/generated/index.js';
import { ErrorCode } from '../../broker/protocol/error-codes.js';
import { type FaultCounts, type FaultMode, FaultProxy } from './fault-proxy.js';
import { S3_ENV, S3Server, s3ServerProblem } from './s3-server.js';
import { PartitionCheck, type ProduceReport, type TailReport, lastJson, listOffsets, localLogBytes as localLogBytesIn, metricSamples, metricSum, steadyProducer, streamLines, tailConsumer, until } from './tiered-clients.js';

const missing = s3ServerProblem() ?? kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';
const enabled = missing === null || !allowMissing;

const MiB = 1024 * 1024;
const PARTITIONS = 3;
const SEGMENT_BYTES = MiB;
const LOCAL_RETENTION_BYTES = 2 * MiB;
const RECORDS_PER_SECOND = 1500;
const TOPIC = 'faults';
const REQUEST_TIMEOUT_MS = 1500;
/** Closed segments every partition must have waiting before a fault phase ends. */
const BACKLOG_SEGMENTS = 4;
const TASK_FAILED = 'tiered storage task failed; retrying with back-off, local segments kept';

interface Phase {
  mode: FaultMode;
  /** The kind strata_remote_errors_total and the log line give it. */
  kind: string;
  /** Which proxy counter shows the fault was injected. */
  count: keyof FaultCounts;
}

const PHASES: Phase[] = [
  // S3 throttles writes to a prefix first; reads (list, manifest GET) still pass.
  { mode: { kind: 'slow-down', methods: ['PUT', 'POST'] }, kind: 'throttled', count: 'slowDown' },
  { mode: { kind: 'internal-error' }, kind: 'unavailable', count: 'internalError' },
  // Every answer arrives after the request deadline: two attempts time out, then the round fails.
  { mode: { kind: 'delay', delayMs: 2 * REQUEST_TIMEOUT_MS + 1000 }, kind: 'timeout', count: 'delayed' },
];

let s3: S3Server;
let proxy: FaultProxy;
let broker: BrokerProcess;
let dataDir: string;
let acked: number[] = [];

function localLogBytes(p: number): number {
  return localLogBytesIn(dataDir, TOPIC, p);
}

/** The upload backlog of each partition of the topic, in segments. */
async function lagSegments(): Promise<number[]> {
  const out: number[] = [];
  for (const s of await metricSamples(broker.httpPort, 'strata_remote_copy_lag_segments')) if (s.labels.topic === TOPIC) out[Number(s.labels.partition)] = s.value;
  return out;
}

function offsets(time: string): Promise<number[]> {
  return listOffsets(broker.bootstrap, TOPIC, time);
}

/** One fault: on until every partition has BACKLOG_SEGMENTS waiting, then healed until the backlog drains. */
async function faultPhase(phase: Phase): Promise<void> {
  const what = `${phase.mode.kind}${phase.mode.methods === undefined ? '' : ` on ${phase.mode.methods.join('/')}`}`;
  const errorsBefore = await metricSum(broker.httpPort, 'strata_remote_errors_total', { kind: phase.kind });
  const copyErrorsBefore = await metricSum(broker.httpPort, 'strata_remote_errors_total', { operation: 'copy', kind: phase.kind });
  const injectedBefore = proxy.counts[phase.count];
  const logFrom = broker.logs.length;
  const lagBefore = await lagSegments();
  proxy.set(phase.mode);
  const warnings = () => broker.logs.slice(logFrom).filter((l) => l.msg === TASK_FAILED && l.topic === TOPIC);
  /** The backlog each failure of the partition's task logged, in order. */
  const logged = (p: number) => warnings().filter((w) => w.partition === p).map((w) => w.backlogSegments as number);
  await until(
    `every partition has ${BACKLOG_SEGMENTS} segments waiting under ${what}, and the log has reported the backlog growing`,
    async () => {
      const lag = await lagSegments();
      if (lag.length !== PARTITIONS || lag.some((l) => l < BACKLOG_SEGMENTS)) return false;
      // A slow store makes each failing round slow too (every request waits out its deadline), so
      // the lines come less often than the back-off alone would give.
      return Array.from({ length: PARTITIONS }, (_, p) => logged(p)).every((b) => b.length > 0 && Math.max(...b) > b[0]!);
    },
    120_000,
  );
  const kept = Array.from({ length: PARTITIONS }, (_, p) => localLogBytes(p));
  const errors = (await metricSum(broker.httpPort, 'strata_remote_errors_total', { kind: phase.kind })) - errorsBefore;
  const copyErrors = (await metricSum(broker.httpPort, 'strata_remote_errors_total', { operation: 'copy', kind: phase.kind })) - copyErrorsBefore;
  proxy.set({ kind: 'pass' });

  expect(proxy.counts[phase.count], what).toBeGreaterThan(injectedBefore);
  expect(lagBefore.every((l) => l < BACKLOG_SEGMENTS), `${what}: backlog before ${lagBefore}`).toBe(true);
  expect(errors, what).toBeGreaterThan(0);
  expect(copyErrors, what).toBeGreaterThan(0);
  for (let p = 0; p < PARTITIONS; p++) {
    // The log line names the kind (and reported the backlog as it grew, above).
    expect(warnings().filter((w) => w.partition === p).map((w) => w.kind), `${what}, partition ${p}`).toContain(phase.kind);
    // Segments not in the bucket stay, whatever local.retention.bytes says.
    expect(kept[p], `${what}, partition ${p}`).toBeGreaterThan(LOCAL_RETENTION_BYTES + SEGMENT_BYTES);
  }

  await until(`the backlog drained after ${what}`, async () => (await lagSegments()).every((l) => l === 0), 120_000);
  await until(`local retention caught up after ${what}`, () => Array.from({ length: PARTITIONS }, (_, p) => localLogBytes(p)).every((b) => b <= LOCAL_RETENTION_BYTES + 2 * SEGMENT_BYTES), 60_000);
  expect(broker.logs.slice(logFrom).some((l) => l.msg === 'tiered storage caught up after failures' && l.topic === TOPIC), what).toBe(true);
}

function fetchAll(offset: bigint): G.FetchRequest {
  return {
    ...G.defaultFetchRequest(),
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 4 * MiB,
    topics: [
      {
        ...G.defaultFetchRequestFetchTopic(),
        topic: TOPIC,
        partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ ...G.defaultFetchRequestFetchPartition(), partition: p, fetchOffset: offset, partitionMaxBytes: MiB })),
      },
    ],
  };
}

describe.skipIf(!enabled)('tiered storage while the object store throttles, fails and is slow', () => {
  beforeAll(async () => {
    if (missing !== null) throw new Error(missing);
    s3 = await S3Server.start();
    proxy = await FaultProxy.start(s3.endpoint);
    dataDir = newDataDir();
    broker = await startBroker({
      dataDir,
      env: S3_ENV,
      overrides: s3.brokerOverrides('faults-test', {
        endpoint: proxy.endpoint,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        // Longer than a failing remote read takes (two attempts of REQUEST_TIMEOUT_MS at worst), so a
        // Fetch that meets one is answered with its error rather than expiring empty.
        extra: ['remote.fetch.max.wait.ms=5000'],
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await broker?.stop('SIGKILL');
    await proxy?.stop();
    await s3?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps produce and tail reads error-free, reports and keeps the growing backlog per kind of fault, drains it once healed', async () => {
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', TOPIC, '--partitions', String(PARTITIONS), '--replication-factor', '1',
      '--config', 'remote.storage.enable=true', '--config', `segment.bytes=${SEGMENT_BYTES}`, '--config', `local.retention.bytes=${LOCAL_RETENTION_BYTES}`,
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    // The topic is empty, so a consumer assigned at offset 0 is at its tail and must see every record.
    const consumer = tailConsumer(broker.bootstrap, TOPIC, PARTITIONS, 60, 600);
    const producer = steadyProducer(broker.bootstrap, TOPIC, PARTITIONS, RECORDS_PER_SECOND, 600);
    try {
      await until('segments are being uploaded', async () => (await metricSum(broker.httpPort, 'strata_remote_copy_segments_total', { topic: TOPIC })) >= PARTITIONS, 60_000);
      for (const phase of PHASES) await faultPhase(phase);
    } catch (e) {
      producer.kill();
      consumer.kill();
      throw e;
    }
    producer.tell('stop');
    const produced = await producer.done;
    expect(produced.code, produced.stderr).toBe(0);
    const report = lastJson<ProduceReport>(produced);
    expect(report.errors).toEqual([]);
    expect(report.left).toBe(0);
    expect(report.acked).toEqual(report.sent);
    acked = report.acked;
    consumer.tell(JSON.stringify(acked));
    const consumed = await consumer.done;
    expect(consumed.code, consumed.stderr).toBe(0);
    const seen = lastJson<TailReport>(consumed);
    expect(seen.errors).toEqual([]);
    expect(seen.next).toEqual(acked);
    expect(seen.count).toBe(acked.reduce((n, x) => n + x, 0));

    await until('the last segments are uploaded', async () => (await lagSegments()).every((l) => l === 0), 60_000);
  }, 600_000);

  it('answers cold reads it cannot serve with KAFKA_STORAGE_ERROR, never a hang; kcat and the Java consumer retry and read everything once healed', async () => {
    expect(acked.length).toBe(PARTITIONS);
    const earliestLocal = await offsets('-4');
    for (let p = 0; p < PARTITIONS; p++) expect(earliestLocal[p], `partition ${p}`).toBeGreaterThan(0);

    // The exact answer, per fault, to a Fetch of all partitions at offset 0 (all in the bucket).
    const wire = await WireClient.connect(broker.port);
    try {
      const faults: FaultMode[] = [{ kind: 'slow-down' }, { kind: 'internal-error' }, { kind: 'cut-get-body' }, { kind: 'delay', delayMs: 2 * REQUEST_TIMEOUT_MS + 1000 }];
      for (const mode of faults) {
        proxy.set(mode);
        const res = await wire.send(1, 12, fetchAll(0n), 30_000);
        for (const p of res.responses[0]!.partitions) {
          expect(p.records?.length ?? 0, `${mode.kind}, partition ${p.partitionIndex}`).toBe(0);
          expect(p.errorCode, `${mode.kind}, partition ${p.partitionIndex}`).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
          expect(p.highWatermark).toBe(BigInt(acked[p.partitionIndex]!));
        }
      }
      proxy.set({ kind: 'pass' });
    } finally {
      wire.close();
    }
    for (const kind of ['throttled', 'unavailable', 'timeout']) {
      expect(await metricSum(broker.httpPort, 'strata_remote_errors_total', { operation: 'fetch', kind }), kind).toBeGreaterThan(0);
    }

    // Real consumers from the beginning while GETs fail, one fault after another.
    proxy.set({ kind: 'slow-down' });
    const logFrom = broker.logs.length;
    const kcatChecks = Array.from({ length: PARTITIONS }, (_, p) => new PartitionCheck(p, 0));
    const kcat = streamLines(
      'kcat',
      ['-C', '-b', broker.bootstrap, '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n', '-X', 'fetch.wait.max.ms=100', '-X', 'client.id=kcat-cold'],
      (line) => {
        const a = line.indexOf(' ');
        const b = line.indexOf(' ', a + 1);
        const check = kcatChecks[Number(line.slice(0, a))];
        if (check === undefined) throw new Error(`kcat printed ${line.slice(0, 60)}`);
        check.see(Number(line.slice(a + 1, b)), line.slice(b + 1));
      },
      300_000,
    );
    const javaChecks = Array.from({ length: PARTITIONS }, (_, p) => new PartitionCheck(p, 0));
    const javaBad: string[] = [];
    const java = streamLines(
      'java',
      [
        '-cp', join(kafkaRefLibDir(), '*'), `-Dlog4j2.configurationFile=file:${KAFKA_TOOLS_LOG4J_CONFIG}`,
        'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server', broker.bootstrap, '--topic', TOPIC, '--from-beginning', '--group', 'cold-faults',
        '--consumer-property', 'client.id=java-cold',
        '--max-messages', String(acked.reduce((n, x) => n + x, 0)),
        '--property', 'print.partition=true', '--property', 'print.offset=true', '--property', 'print.value=true',
        '--timeout-ms', '60000',
      ],
      (line) => {
        // DefaultMessageFormatter: "Partition:P\tOffset:N\tvalue".
        const m = /^Partition:(\d+)\tOffset:(\d+)\t(.*)$/.exec(line);
        if (m === null) javaBad.push(`unexpected line ${line.slice(0, 60)}`);
        else javaChecks[Number(m[1])]!.see(Number(m[2]), m[3]!);
      },
      300_000,
    );
    const refused = (client: string, from: number) => broker.logs.slice(from).some((l) => l.msg === 'remote fetch failed' && l.client === client);
    for (const mode of [{ kind: 'slow-down' }, { kind: 'internal-error' }, { kind: 'cut-get-body' }] as FaultMode[]) {
      const from = broker.logs.length;
      proxy.set(mode);
      await until(`kcat and the Java consumer are refused under ${mode.kind}`, () => refused('kcat-cold', from) && refused('java-cold', from), 60_000);
    }
    // Nothing in the bucket can be served while every GET fails, and neither client gave up.
    expect([...kcatChecks, ...javaChecks].map((c) => c.next)).toEqual(Array(2 * PARTITIONS).fill(0));
    expect(broker.logs.slice(logFrom).some((l) => l.msg === 'remote fetch failed')).toBe(true);
    proxy.set({ kind: 'pass' });

    const [k, j] = await Promise.all([kcat, java]);
    expect(k.code, k.stderr).toBe(0);
    // KAFKA_STORAGE_ERROR is retried inside librdkafka: nothing reaches the application.
    expect(k.stderr).not.toMatch(/ERROR/);
    expect(kcatChecks.flatMap((c) => c.bad)).toEqual([]);
    expect(kcatChecks.map((c) => c.next)).toEqual(acked);
    expect(j.code, j.stderr).toBe(0);
    expect(javaBad.slice(0, 5)).toEqual([]);
    expect(javaChecks.flatMap((c) => c.bad)).toEqual([]);
    expect(javaChecks.map((c) => c.next)).toEqual(acked);
  }, 600_000);
});
