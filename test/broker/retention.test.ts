// Retention through real clients: confluent-kafka-python produces (with chosen timestamps), Kafka's
// ConfigCommand changes retention live, DeleteRecordsCommand moves the log start, and kcat reads back.
// Each case works out from the segment files on disk which segments Kafka's rules keep, then checks
// that exactly those remain, that a consumer from the beginning starts at the first one and reads
// every later record densely, and that an offset below the start is OFFSET_OUT_OF_RANGE.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, runProcess, startBroker } from './harness.js';
import { kafkaRefToolsProblem, runTool } from './kafka-tools.js';

const missing = kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

const MiB = 1024 * 1024;
const VALUE_BYTES = 1000;
const HOUR_MS = 3_600_000;

let broker: BrokerProcess;

beforeAll(async () => {
  // Retention is checked every 300 ms, so a live change shows within a second.
  broker = await startBroker({ overrides: ['log.retention.check.interval.ms=300', 'auto.create.topics.enable=false'] });
});
afterAll(async () => {
  await broker?.stop('SIGKILL');
});

function run(cmd: string, args: string[], input?: string, timeoutMs = 60_000) {
  return runProcess(cmd, args, { ...(input === undefined ? {} : { input }), timeoutMs });
}

/** confluent-kafka-python: `count` records of VALUE_BYTES to partition 0, stamped `timestampMs`. */
const PRODUCE_PY = `
import sys
from confluent_kafka import Producer
bootstrap, topic, first, count, ts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
errors = []
def report(err, msg):
    if err is not None:
        errors.append(str(err))
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 5, 'batch.size': 65536, 'enable.idempotence': True})
for i in range(first, first + count):
    value = ('v-%08d-' % i).encode().ljust(${VALUE_BYTES}, b'.')
    p.produce(topic, value=value, partition=0, timestamp=ts, on_delivery=report)
    p.poll(0)
left = p.flush(60)
if errors or left:
    sys.exit('delivery failed: %s, %d left' % (errors[:3], left))
`;

async function produce(topic: string, first: number, count: number, timestampMs: number): Promise<void> {
  const r = await run('/usr/bin/python3', ['-c', PRODUCE_PY, broker.bootstrap, topic, String(first), String(count), String(timestampMs)]);
  expect(r.code, r.stderr).toBe(0);
}

async function createTopic(topic: string, configs: Record<string, string>): Promise<void> {
  const r = await runTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1',
    ...Object.entries(configs).flatMap(([k, v]) => ['--config', `${k}=${v}`]),
  ]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** Changes a topic config live with Kafka's kafka-configs tool. */
async function alterTopic(topic: string, config: string): Promise<void> {
  const r = await runTool('kafka.admin.ConfigCommand', ['--bootstrap-server', broker.bootstrap, '--entity-type', 'topics', '--entity-name', topic, '--alter', '--add-config', config]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

interface SegmentFile {
  baseOffset: number;
  bytes: number;
}

/** The partition's segments as the files on disk show them, oldest first. */
function segments(topic: string): SegmentFile[] {
  const dir = join(broker.dataDir, `${topic}-0`);
  return readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .map((f) => ({ baseOffset: Number(f.slice(0, 20)), bytes: statSync(join(dir, f)).size }))
    .sort((a, b) => a.baseOffset - b.baseOffset);
}

/** Every record from the beginning with kcat: offset and the record number in its value. */
async function consumeAll(topic: string): Promise<{ offset: number; n: number }[]> {
  const r = await run('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\\n']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, value] = l.split(' ');
      return { offset: Number(offset), n: Number(/^v-(\d+)-/.exec(value!)![1]) };
    });
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * After retention: exactly `kept` remain, even after several more checks; a consumer from the
 * beginning starts at the first kept segment and reads every record after it, dense and in order;
 * and an offset just below the start is out of range for a real client.
 */
async function expectKept(topic: string, kept: SegmentFile[], total: number): Promise<void> {
  const keptOffsets = kept.map((s) => s.baseOffset);
  await waitFor(`${topic} to keep segments ${keptOffsets.join(',')}`, () => segments(topic).map((s) => s.baseOffset), (v) => v[0] === keptOffsets[0]);
  await new Promise((r) => setTimeout(r, 1500)); // five more retention checks
  expect(segments(topic).map((s) => s.baseOffset)).toEqual(keptOffsets);
  const start = keptOffsets[0]!;
  const records = await consumeAll(topic);
  expect(records.length).toBe(total - start);
  records.forEach((r, i) => expect(r).toEqual({ offset: start + i, n: start + i }));
  if (start > 0) {
    const below = await run('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', String(start - 1), '-c', '1', '-X', 'auto.offset.reset=error', '-q'], undefined, 30_000);
    expect(below.code).not.toBe(0);
    expect(below.stderr).toMatch(/out of range/i);
  }
}

describe.skipIf(missing !== null && allowMissing)('retention through real clients', () => {
  it('retention.bytes, set live, deletes the oldest segments while the rest still exceed it, and keeps the active one', async () => {
    const topic = 'by-size';
    await createTopic(topic, { 'segment.bytes': String(MiB) });
    const total = 7000; // about 7 MB: six or seven 1 MiB segments
    await produce(topic, 0, total, Date.now());
    const before = segments(topic);
    expect(before.length).toBeGreaterThanOrEqual(6);
    const limit = 3 * MiB;
    // Kafka's rule: walk from the oldest closed segment, deleting it while the log would still be at
    // least retention.bytes without it.
    let excess = before.reduce((a, s) => a + s.bytes, 0) - limit;
    let drop = 0;
    while (drop < before.length - 1 && excess - before[drop]!.bytes >= 0) excess -= before[drop++]!.bytes;
    expect(drop).toBeGreaterThanOrEqual(2);
    await alterTopic(topic, `retention.bytes=${limit}`);
    await expectKept(topic, before.slice(drop), total);
    expect(segments(topic).reduce((a, s) => a + s.bytes, 0)).toBeGreaterThanOrEqual(limit);
  });

  it('retention.ms deletes exactly the segments whose newest record is older, never the active one', async () => {
    const topic = 'by-time';
    await createTopic(topic, { 'segment.bytes': String(MiB) });
    const old = 3500;
    const fresh = 2500;
    await produce(topic, 0, old, Date.now() - 2 * HOUR_MS);
    await produce(topic, old, fresh, Date.now());
    const before = segments(topic);
    // A segment goes when every record in it is old: when the next segment starts at or below the
    // first fresh offset.
    const drop = before.findIndex((s, i) => !(i + 1 < before.length && before[i + 1]!.baseOffset <= old));
    expect(drop).toBeGreaterThanOrEqual(2);
    await alterTopic(topic, `retention.ms=${HOUR_MS}`);
    await expectKept(topic, before.slice(drop), old + fresh);

    const allOld = 'all-old';
    await createTopic(allOld, { 'segment.bytes': String(MiB) });
    await produce(allOld, 0, 4000, Date.now() - 2 * HOUR_MS);
    const olds = segments(allOld);
    expect(olds.length).toBeGreaterThanOrEqual(4);
    await alterTopic(allOld, `retention.ms=${HOUR_MS}`);
    // Every closed segment expired; the active one stays, with its records readable.
    await expectKept(allOld, olds.slice(-1), 4000);
  });

  it('DeleteRecordsCommand moves the log start on demand, and whole segments below it go', async () => {
    const topic = 'trimmed';
    await createTopic(topic, { 'segment.bytes': String(MiB) });
    const total = 4000;
    await produce(topic, 0, total, Date.now());
    const before = segments(topic);
    expect(before.length).toBeGreaterThanOrEqual(3);
    // Inside the third segment: the first two go, the third stays with its head hidden.
    const target = before[2]!.baseOffset + 10;
    const file = join(broker.dataDir, 'delete-records.json');
    writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, offset: target }] }));
    const r = await runTool('org.apache.kafka.tools.DeleteRecordsCommand', ['--bootstrap-server', broker.bootstrap, '--offset-json-file', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`low_watermark: ${target}`);
    expect(segments(topic).map((s) => s.baseOffset)).toEqual(before.slice(2).map((s) => s.baseOffset));
    const records = await consumeAll(topic);
    expect(records[0]).toEqual({ offset: target, n: target });
    expect(records.length).toBe(total - target);
    const below = await run('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', String(target - 1), '-c', '1', '-X', 'auto.offset.reset=error', '-q'], undefined, 30_000);
    expect(below.code).not.toBe(0);
    expect(below.stderr).toMatch(/out of range/i);
  });
});
