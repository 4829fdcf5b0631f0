// Tiered storage end to end: a broker process with remote.log.storage.system.enable against a real
// S3 server (versitygw) started here, real clients only. A 3-partition tiered topic with 1 MiB
// segments and a 2 MiB local.retention.bytes takes 200 MB from confluent-kafka-python; then
//   - local disk per partition stays under local.retention.bytes plus one segment once uploads are
//     through, and the bucket holds the rest (manifests cover every offset below the local start);
//   - ListOffsets earliest, earliest-local (-4) and latest-tiered (-5) agree with that split;
//   - kcat (one Fetch for all partitions, so several remote reads at once) and Kafka's Java
//     ConsoleConsumer, from the beginning, get every record byte-exact; kcat's cold sequential read
//     makes the broker read ahead, and the Java reread, with a read cache of 4 MiB in memory, is
//     served from the cache's disk tier instead of the bucket (the cache metrics say so);
//   - after a broker restart the whole history is served again (the disk tier was wiped);
//   - lowering retention.bytes deletes the oldest remote segments and their objects, and nothing
//     else: the bucket holds exactly the objects the manifests name, and every record from the new
//     log start on is still served;
//   - ListOffsets by timestamp (GetOffsetShell) finds offsets in data that is only in the bucket,
//     and -3 finds the largest timestamp there, equal to what the producer stamped;
//   - deleting a tiered topic (TopicCommand) deletes every object under its prefix, and nothing else.
// A broker whose bucket does not exist refuses to start, naming the probe step. And the S3 server
// killed for 60 s under steady load (last block).
// Records are generated from (partition, index), so a reader is checked while it streams, without
// holding 200 MB anywhere.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_TOOLS_LOG4J_CONFIG } from '../acceptance/clients/paths.js';
import { type BrokerProcess, newDataDir, runProcess, startBroker } from '../broker/harness.js';
import { kafkaRefLibDir, kafkaRefToolsProblem, runTool } from '../broker/kafka-tools.js';
import type { S3ObjectStore } from '../../broker/tiered/s3-store.js';
import { ManifestStore } from '../../broker/tiered/manifest-store.js';
import { readable, type PartitionManifest } from '../../broker/tiered/remote-segments.js';
import { segmentObjectKeys } from '../../broker/tiered/layout.js';
import { S3_ENV, S3Server, s3ServerProblem } from './s3-server.js';
import { PartitionCheck, type ProduceReport, type TailReport, VALUE_BYTES, lastJson, listOffsets, localLogBytes as localLogBytesIn, metricSum, startTieredBroker, steadyProducer, stopTieredBroker, streamLines, tailConsumer, until } from './tiered-clients.js';

const missing = s3ServerProblem() ?? kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';
const enabled = missing === null || !allowMissing;

const MiB = 1024 * 1024;
const PARTITIONS = 3;
/** At least 200 MB of record values, as the issue asks. */
// STRATA_TIERED_TEST_MB shrinks it while developing; CI runs the full size.
const TOTAL_BYTES = Number(process.env.STRATA_TIERED_TEST_MB ?? 200) * 1000 * 1000;
const RECORDS_PER_PARTITION = Math.ceil(TOTAL_BYTES / VALUE_BYTES / PARTITIONS);
const SEGMENT_BYTES = MiB;
const LOCAL_RETENTION_BYTES = 2 * MiB;
const TOPIC = 'cold';
const PREFIX = 'tiered-test';
/** The read cache's memory tier: far less than the data, so a reread must come from the disk tier. */
const CACHE_MEMORY_BYTES = 4 * MiB;

const PRODUCE_PY = `
import sys
from confluent_kafka import Producer
bootstrap, topic, parts, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
fill = 'abcdefghijklmnopqrstuvwxyz0123456789' * (size // 36 + 1)
def value(p, i):
    head = 'p%d-%010d-' % (p, i)
    start = (i * 7 + p) % 36
    return (head + fill[start:start + size - len(head)]).encode()
errors = []
def report(err, msg):
    if err is not None:
        errors.append(str(err))
pr = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 20, 'batch.size': 262144, 'enable.idempotence': True, 'queue.buffering.max.kbytes': 65536})
for i in range(count):
    for p in range(parts):
        while True:
            try:
                pr.produce(topic, value=value(p, i), partition=p, on_delivery=report)
                break
            except BufferError:
                pr.poll(0.05)
    pr.poll(0)
left = pr.flush(120)
if errors or left:
    sys.exit('delivery failed: %s, %d left' % (errors[:3], left))
`;

let s3: S3Server;
let broker: BrokerProcess;
let dataDir: string;
/** Other data directories this file made, removed at the end. */
const scratch: string[] = [];

function brokerOverrides(server: S3Server = s3): string[] {
  return server.brokerOverrides(PREFIX, { extra: [`strata.tiered.cache.memory.bytes=${CACHE_MEMORY_BYTES}`] });
}

function s3Store(): S3ObjectStore {
  return s3.store(PREFIX);
}

/** Every key in the bucket under the test prefix (without it). */
async function bucketKeys(): Promise<Map<string, number>> {
  const store = s3Store();
  const out = new Map<string, number>();
  try {
    for await (const o of store.list('')) out.set(o.key, o.sizeBytes);
  } finally {
    store.close();
  }
  return out;
}

/** The manifests of the topic's partitions, read the way the broker reads them. */
async function manifests(): Promise<{ prefix: string; manifest: PartitionManifest }[]> {
  const keys = [...(await bucketKeys()).keys()];
  const m = keys.map((k) => /^([^/]+)\/cold-([A-Za-z0-9_-]{22})\/(\d+)\/manifest\//.exec(k)).find((x) => x !== null);
  expect(m, `no manifest in the bucket: ${keys.slice(0, 5).join(', ')}`).toBeTruthy();
  const [, clusterId, topicId] = m!;
  const store = s3Store();
  try {
    const out = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const prefix = `${clusterId}/cold-${topicId}/${p}`;
      out.push({ prefix, manifest: await new ManifestStore(store, prefix, topicId!, p).load() });
    }
    return out;
  } finally {
    store.close();
  }
}

function localLogBytes(p: number, afterOffset = -1, topic = TOPIC): number {
  return localLogBytesIn(dataDir, topic, p, afterOffset);
}

/** A metric of the broker summed over its series, or over those whose labels include `where`. */
const metric = (name: string, where: Record<string, string> = {}) => metricSum(broker.httpPort, name, where);

/** The broker's read cache files on disk (strata.tiered.cache.dir's default, beside the log dir). */
function cacheFiles(): string[] {
  try {
    return readdirSync(`${dataDir}-remote-cache`).filter((f) => f.endsWith('.chunk'));
  } catch {
    return [];
  }
}

function offsets(time: string, topic = TOPIC): Promise<number[]> {
  return listOffsets(broker.bootstrap, topic, time);
}

/**
 * One kcat for the whole topic from the beginning to the end: every record, in order per
 * partition, byte-exact. librdkafka asks for all three partitions in each Fetch, so the broker
 * reads several partitions from the bucket at once.
 */
async function readWithKcat(from: number[], ends: number[] = Array(PARTITIONS).fill(RECORDS_PER_PARTITION), topic = TOPIC): Promise<void> {
  const checks = Array.from({ length: PARTITIONS }, (_, p) => new PartitionCheck(p, from[p]!));
  const r = await streamLines('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n', '-X', 'fetch.wait.max.ms=100'], (line) => {
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const check = checks[Number(line.slice(0, a))];
    if (check === undefined) throw new Error(`kcat printed ${line.slice(0, 60)}`);
    check.see(Number(line.slice(a + 1, b)), line.slice(b + 1));
  }, 300_000);
  expect(r.code, r.stderr).toBe(0);
  expect(checks.flatMap((c) => c.bad)).toEqual([]);
  expect(checks.map((c) => c.next)).toEqual(ends);
}

/** Kafka's Java ConsoleConsumer, one per partition from the earliest offset: every record, byte-exact. */
async function readWithJava(from: number[]): Promise<void> {
  await Promise.all(
    Array.from({ length: PARTITIONS }, async (_, p) => {
      const check = new PartitionCheck(p, from[p]!);
      const r = await streamLines(
        'java',
        [
          '-cp', join(kafkaRefLibDir(), '*'), `-Dlog4j2.configurationFile=file:${KAFKA_TOOLS_LOG4J_CONFIG}`,
          'org.apache.kafka.tools.consumer.ConsoleConsumer',
          '--bootstrap-server', broker.bootstrap, '--topic', TOPIC, '--partition', String(p), '--offset', 'earliest',
          '--max-messages', String(RECORDS_PER_PARTITION - from[p]!),
          '--property', 'print.offset=true', '--property', 'print.value=true',
          '--timeout-ms', '60000',
        ],
        (line) => {
          // DefaultMessageFormatter: "Offset:N\tvalue".
          const m = /^Offset:(\d+)\t(.*)$/.exec(line);
          if (m === null) check.bad.push(`p${p}: unexpected line ${line.slice(0, 60)}`);
          else check.see(Number(m[1]), m[2]!);
        },
        300_000,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(check.bad).toEqual([]);
      expect(check.next).toBe(RECORDS_PER_PARTITION);
    }),
  );
}

describe.skipIf(!enabled)('tiered storage through a broker process and a real S3 server', () => {
  beforeAll(async () => {
    if (missing !== null) throw new Error(missing);
    ({ s3, broker, dataDir } = await startTieredBroker(brokerOverrides));
  }, 60_000);
  afterAll(() => stopTieredBroker({ s3, broker, dataDir }, scratch));

  it('refuses to start when the bucket does not exist, naming the step', async () => {
    const dir = newDataDir();
    scratch.push(dir, `${dir}-tiered`);
    const r = await runProcess(process.execPath, ['bin/strata', 'broker', '--override', 'listeners=PLAINTEXT://127.0.0.1:0', '--override', `log.dirs=${dir}`, '--override', 'strata.http.listener=127.0.0.1:0',
      ...brokerOverrides().map((o) => (o.startsWith('strata.tiered.s3.bucket=') ? 'strata.tiered.s3.bucket=no-such-bucket' : o)).flatMap((o) => ['--override', o])], { timeoutMs: 30_000, env: S3_ENV });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tiered storage: object store check failed at "bucket exists" on s3:\/\/no-such-bucket/);
  });

  it('moves 200 MB to the bucket, keeps local disk bounded, and serves every record byte-exact to kcat and the Java consumer', async () => {
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', TOPIC, '--partitions', String(PARTITIONS), '--replication-factor', '1',
      '--config', 'remote.storage.enable=true', '--config', `segment.bytes=${SEGMENT_BYTES}`, '--config', `local.retention.bytes=${LOCAL_RETENTION_BYTES}`,
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const produced = await runProcess('/usr/bin/python3', ['-c', PRODUCE_PY, broker.bootstrap, TOPIC, String(PARTITIONS), String(RECORDS_PER_PARTITION), String(VALUE_BYTES)], { timeoutMs: 600_000 });
    expect(produced.code, produced.stderr).toBe(0);

    // Uploads drain and local retention follows: each partition keeps at most the bound plus one segment.
    await until('uploads are through and local retention has run', async () => {
      if ((await metric('strata_remote_copy_lag_segments')) > 0) return false;
      for (let p = 0; p < PARTITIONS; p++) if (localLogBytes(p) > LOCAL_RETENTION_BYTES + SEGMENT_BYTES) return false;
      return true;
    }, 300_000);
    for (let p = 0; p < PARTITIONS; p++) expect(localLogBytes(p)).toBeLessThanOrEqual(LOCAL_RETENTION_BYTES + SEGMENT_BYTES);
    expect(await metric('strata_remote_copy_segments_total')).toBeGreaterThan(PARTITIONS);
    expect(await metric('strata_remote_copy_bytes_total')).toBeGreaterThan(TOTAL_BYTES / 2);

    // The bucket holds the rest: each manifest covers [0, local log start) contiguously.
    const earliest = await offsets('-2');
    const earliestLocal = await offsets('-4');
    const latestTiered = await offsets('-5');
    const latest = await offsets('-1');
    const ms = await manifests();
    const keys = await bucketKeys();
    for (let p = 0; p < PARTITIONS; p++) {
      const segs = readable(ms[p]!.manifest);
      expect(earliest[p]).toBe(0);
      expect(latest[p]).toBe(RECORDS_PER_PARTITION);
      expect(segs[0]!.baseOffset).toBe(0);
      // Local disk holds only the tail: at most the bound plus one segment of records.
      expect(earliestLocal[p]).toBeGreaterThan(0);
      expect((RECORDS_PER_PARTITION - earliestLocal[p]!) * VALUE_BYTES).toBeLessThanOrEqual(LOCAL_RETENTION_BYTES + SEGMENT_BYTES);
      expect(latestTiered[p]).toBe(segs.at(-1)!.endOffset);
      expect(segs.at(-1)!.endOffset + 1).toBeGreaterThanOrEqual(earliestLocal[p]!);
      for (const s of segs) expect(keys.get(segmentObjectKeys(ms[p]!.prefix, s.baseOffset, s.id).log)).toBe(s.sizeBytes);
    }

    const remoteRecords = earliestLocal.reduce((n, o) => n + o, 0);
    const remoteBytes = remoteRecords * VALUE_BYTES;
    // A cold sequential read: from the bucket, with read-ahead.
    expect(await metric('strata_remote_cache_requests_total')).toBe(0);
    await readWithKcat([0, 0, 0]);
    const coldBucketBytes = await metric('strata_remote_cache_bucket_bytes_total');
    expect(coldBucketBytes).toBeGreaterThanOrEqual(remoteBytes);
    expect(await metric('strata_remote_cache_requests_total', { result: 'miss' })).toBeGreaterThan(0);
    expect(await metric('strata_remote_prefetches_total', { result: 'done' })).toBeGreaterThan(0);
    expect(await metric('strata_remote_cache_bytes', { tier: 'memory' })).toBeLessThanOrEqual(CACHE_MEMORY_BYTES);
    expect(await metric('strata_remote_cache_bytes', { tier: 'disk' })).toBeGreaterThan(CACHE_MEMORY_BYTES);
    // The reread does not fit in memory: the disk tier serves it, and the bucket is read far less
    // than the volume again.
    const diskHitsBefore = await metric('strata_remote_cache_requests_total', { result: 'disk' });
    await readWithJava([0, 0, 0]);
    expect(await metric('strata_remote_cache_requests_total', { result: 'disk' })).toBeGreaterThan(diskHitsBefore);
    expect((await metric('strata_remote_cache_bucket_bytes_total')) - coldBucketBytes).toBeLessThan(remoteBytes / 2);
    expect(await metric('strata_remote_cache_disk_errors_total')).toBe(0);
    // Both readers were served everything below the local start from the remote tier.
    expect(await metric('strata_remote_fetch_bytes_total')).toBeGreaterThanOrEqual(2 * remoteRecords * VALUE_BYTES);
  }, 1_500_000);

  it('serves the whole history after a restart', async () => {
    expect(await broker.stop()).toBe(0);
    expect(cacheFiles().length).toBeGreaterThan(0);
    broker = await startBroker({ dataDir, overrides: brokerOverrides(), env: S3_ENV });
    // The disk tier starts empty: nothing from the last run is trusted.
    expect(cacheFiles()).toEqual([]);
    expect(await offsets('-2')).toEqual([0, 0, 0]);
    await readWithKcat([0, 0, 0]);
  }, 600_000);

  it('remote retention deletes the oldest segments and their objects, and nothing else', async () => {
    const before = await manifests();
    // About 60% of each partition: the oldest 40% of the data must go, all of it from the bucket.
    const retentionBytes = Math.floor(0.6 * RECORDS_PER_PARTITION * VALUE_BYTES);
    const r = await runTool('kafka.admin.ConfigCommand', ['--bootstrap-server', broker.bootstrap, '--entity-type', 'topics', '--entity-name', TOPIC, '--alter', '--add-config', `retention.bytes=${retentionBytes}`]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await until('remote retention moved every log start', async () => (await offsets('-2')).every((o) => o > 0), 120_000);
    // Let any deletion in flight finish before looking at the bucket.
    await until('the manifests are steady', async () => JSON.stringify(await manifests()) === JSON.stringify(await manifests()), 30_000);
    const after = await manifests();
    const start = await offsets('-2');
    const keys = await bucketKeys();
    const named = new Set<string>();
    for (let p = 0; p < PARTITIONS; p++) {
      const segs = readable(after[p]!.manifest);
      const old = readable(before[p]!.manifest);
      // Oldest first, contiguous: what is left is a suffix of what was there.
      expect(old.slice(old.length - segs.length).map((s) => s.id)).toEqual(segs.map((s) => s.id));
      expect(after[p]!.manifest.segments.every((s) => s.state === 'copy-finished')).toBe(true);
      expect(start[p]).toBe(segs[0]!.baseOffset);
      // Nothing inside retention went: without the oldest remaining segment the log would be within it.
      // Kafka's count: remote segments plus the local segments after the remote end.
      const remoteBytes = segs.reduce((n, s) => n + s.sizeBytes, 0);
      const total = remoteBytes + localLogBytes(p, segs.at(-1)!.endOffset);
      expect(total - segs[0]!.sizeBytes).toBeLessThan(retentionBytes);
      expect(total).toBeGreaterThanOrEqual(retentionBytes);
      for (const s of segs) for (const k of Object.values(segmentObjectKeys(after[p]!.prefix, s.baseOffset, s.id))) named.add(k);
    }
    // The bucket holds exactly the objects the manifests name (plus the manifests themselves).
    const segmentKeys = [...keys.keys()].filter((k) => k.includes('/segments/'));
    expect(new Set(segmentKeys)).toEqual(named);
    await readWithKcat(start);
  }, 600_000);

  it('finds offsets by timestamp in the bucket, and deletes a deleted topic\'s objects', async () => {
    const topic = 'timed';
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1',
      '--config', 'remote.storage.enable=true', '--config', `segment.bytes=${SEGMENT_BYTES}`, '--config', `local.retention.bytes=${SEGMENT_BYTES}`,
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    // Record i is stamped T0 + 10 i, except record MAX_AT, stamped later than all (-3 must find it).
    const count = TIMED_RECORDS;
    const t0 = Date.now() - 2 * 86_400_000;
    const produced = await runProcess('/usr/bin/python3', ['-c', TIMED_PRODUCE_PY, broker.bootstrap, topic, String(count), String(VALUE_BYTES), String(t0), String(MAX_AT)], { timeoutMs: 300_000 });
    expect(produced.code, produced.stderr).toBe(0);
    await until('the early segments are only in the bucket', async () => (await offsets('-4', topic))[0]! > count / 2, 120_000);
    const localStart = (await offsets('-4', topic))[0]!;
    expect((await offsets('-5', topic))[0]).toBeGreaterThanOrEqual(localStart - 1);
    expect(localStart).toBeGreaterThan(MAX_AT);
    // The first offset whose timestamp is at least the target, from what was produced.
    const expected = (target: number): number => {
      for (let i = 0; i < count; i++) if ((i === MAX_AT ? t0 + 10 * count * 2 : t0 + 10 * i) >= target) return i;
      return -1;
    };
    const targets = [t0 - 1000, t0, t0 + 10 * 3 + 5, t0 + 10 * Math.floor(localStart / 3) + 1, t0 + 10 * (localStart - 2), t0 + 10 * (localStart + 20) + 5];
    for (const target of targets) {
      const want = expected(target);
      expect(want).toBeGreaterThanOrEqual(0);
      expect(await offsets(String(target), topic), `timestamp ${target} (t0 + ${target - t0})`).toEqual([want]);
    }
    // Most targets fall in data only the bucket holds.
    expect(targets.filter((t) => expected(t) < localStart).length).toBeGreaterThanOrEqual(4);
    // -3: the record with the largest timestamp is in the bucket.
    expect(await offsets('-3', topic)).toEqual([MAX_AT]);

    // Deleting the topic deletes its objects; the other topic's stay.
    const keysOf = async (name: string) => [...(await bucketKeys()).keys()].filter((k) => k.split('/')[1]?.startsWith(`${name}-`));
    expect((await keysOf(topic)).length).toBeGreaterThan(0);
    const coldKeys = await keysOf(TOPIC);
    const deleted = await runTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', broker.bootstrap, '--delete', '--topic', topic]);
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(0);
    await until('the deleted topic has no objects left', async () => (await keysOf(topic)).length === 0, 60_000);
    expect(await keysOf(TOPIC)).toEqual(coldKeys);
  }, 600_000);
});

const TIMED_RECORDS = 6000;
const MAX_AT = 5;
/** confluent-kafka-python: `count` records to partition 0, record i stamped t0 + 10 i, except
 *  record max_at, stamped t0 + 20 count (after every other). */
const TIMED_PRODUCE_PY = `
import sys
from confluent_kafka import Producer
bootstrap, topic, count, size, t0, max_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
errors = []
def report(err, msg):
    if err is not None:
        errors.append(str(err))
pr = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 20, 'enable.idempotence': True})
for i in range(count):
    ts = t0 + 20 * count if i == max_at else t0 + 10 * i
    pr.produce(topic, value=(('t%010d-' % i) + 'x' * size)[:size].encode(), partition=0, timestamp=ts, on_delivery=report)
    pr.poll(0)
left = pr.flush(60)
if errors or left:
    sys.exit('delivery failed: %s, %d left' % (errors[:3], left))
`;

// The outage: the S3 server is killed for 60 s while a producer and a tail consumer run. Clients
// see no error, the upload backlog rises while the store is down and drains once it is back, and
// every acknowledged record is then read from the beginning, byte-exact.
const OUTAGE_MS = 60_000;
const STEADY_RECORDS_PER_SECOND = 900;

describe.skipIf(!enabled)('tiered storage while the S3 server is down', () => {
  beforeAll(async () => {
    if (missing !== null) throw new Error(missing);
    ({ s3, broker, dataDir } = await startTieredBroker(brokerOverrides));
  }, 60_000);
  afterAll(() => stopTieredBroker({ s3, broker, dataDir }));

  it('keeps hot produce and consume error-free, lets the backlog rise and drain, and loses nothing', async () => {
    const topic = 'steady';
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', String(PARTITIONS), '--replication-factor', '1',
      '--config', 'remote.storage.enable=true', '--config', `segment.bytes=${SEGMENT_BYTES}`, '--config', `local.retention.bytes=${LOCAL_RETENTION_BYTES}`,
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    /** Producing goes on this long after the store is back. */
    const after = 15_000;
    // The topic is empty, so a consumer assigned at offset 0 is at its tail and must see every record.
    const consumer = tailConsumer(broker.bootstrap, topic, PARTITIONS, 60, 600);
    await until('the tail consumer is assigned', () => consumer.printed('assigned'), 60_000);
    const producer = steadyProducer(broker.bootstrap, topic, PARTITIONS, STEADY_RECORDS_PER_SECOND, 600);
    let lagMax = 0;
    let keptLocally = 0;
    try {
      await until('segments are being uploaded', async () => (await metric('strata_remote_copy_segments_total')) > 0, 60_000);
      await s3.pause();
      const downUntil = Date.now() + OUTAGE_MS;
      while (Date.now() < downUntil) {
        lagMax = Math.max(lagMax, await metric('strata_remote_copy_lag_segments'));
        await new Promise((r) => setTimeout(r, 1000));
      }
      keptLocally = [0, 1, 2].reduce((n, p) => n + localLogBytes(p, -1, topic), 0);
      await s3.resume();
      await new Promise((r) => setTimeout(r, after));
    } catch (e) {
      producer.kill();
      consumer.kill();
      throw e;
    }
    expect(lagMax).toBeGreaterThan(PARTITIONS);
    // Local disk held the backlog: more than local retention allows.
    expect(keptLocally).toBeGreaterThan(PARTITIONS * (LOCAL_RETENTION_BYTES + SEGMENT_BYTES));
    expect(await metric('strata_remote_errors_total')).toBeGreaterThan(0);

    producer.tell('stop');
    const produced = await producer.done;
    expect(produced.code, produced.stderr).toBe(0);
    const report = lastJson<ProduceReport>(produced);
    expect(report.errors).toEqual([]);
    expect(report.left).toBe(0);
    expect(report.acked).toEqual(report.sent);
    consumer.tell(JSON.stringify(report.acked));
    const consumed = await consumer.done;
    expect(consumed.code, consumed.stderr).toBe(0);
    const seen = lastJson<TailReport>(consumed);
    expect(seen.errors).toEqual([]);
    expect(seen.next).toEqual(report.acked);
    expect(seen.count).toBe(report.acked.reduce((n, x) => n + x, 0));

    await until('the upload backlog drained', async () => (await metric('strata_remote_copy_lag_segments')) === 0, 180_000);
    await until('local retention caught up', () => [0, 1, 2].every((p) => localLogBytes(p, -1, topic) <= LOCAL_RETENTION_BYTES + SEGMENT_BYTES), 60_000);
    await readWithKcat([0, 0, 0], report.acked, topic);
  }, 600_000);
});
