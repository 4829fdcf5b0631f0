// Compaction through real clients: kcat produces keyed records and tombstones, Kafka's ConfigCommand
// lets the cleaner start (min.compaction.lag.ms, changed live), and kcat reads from the beginning.
// What a consumer sees afterwards is worked out from what it saw before: for every key wholly in
// closed segments, exactly its latest record, at its original offset; tombstones until
// delete.retention.ms, then nothing for that key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, runProcess, startBroker } from './harness.js';
import { kafkaRefToolsProblem, runTool } from './kafka-tools.js';

const missing = kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

const MiB = 1024 * 1024;
const DELETE_RETENTION_MS = 8_000;

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBroker({ overrides: ['log.cleaner.backoff.ms=200', 'auto.create.topics.enable=false'] });
});
afterAll(async () => {
  await broker?.stop('SIGKILL');
});

function run(cmd: string, args: string[], input = '', timeoutMs = 60_000) {
  return runProcess(cmd, args, { input, timeoutMs });
}

/** Produces `key|value` lines with kcat; an empty value is sent as null (a tombstone). */
async function produce(topic: string, pairs: [string, string | null][]): Promise<void> {
  const input = pairs.map(([k, v]) => `${k}|${v ?? ''}`).join('\n') + '\n';
  const r = await run('kcat', ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K', '|', '-Z', '-X', 'linger.ms=5'], input);
  expect(r.code, r.stderr).toBe(0);
}

interface Rec {
  offset: number;
  key: string;
  /** null for a tombstone. */
  value: string | null;
}

/** Everything from the beginning: offset, key and value (kcat prints NULL values as empty with -Z). */
async function consumeAll(topic: string): Promise<Rec[]> {
  const r = await run('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-Z', '-f', '%o|%k|%S|%s\\n']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, key, size, value] = l.split('|');
      // %S is the value's size, -1 for null.
      return { offset: Number(offset), key: key!, value: size === '-1' ? null : value! };
    });
}

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function alterTopic(topic: string, config: string): Promise<void> {
  const r = await runTool('kafka.admin.ConfigCommand', ['--bootstrap-server', broker.bootstrap, '--entity-type', 'topics', '--entity-name', topic, '--alter', '--add-config', config]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

const pad = (s: string) => s.padEnd(900, '.');

describe.skipIf(missing !== null && allowMissing)('compaction through real clients', () => {
  it('a consumer from the beginning sees exactly the latest value per key, at the original offsets; tombstones go after delete.retention.ms', async () => {
    const topic = 'compacted';
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1',
      '--config', 'cleanup.policy=compact',
      '--config', `segment.bytes=${MiB}`,
      '--config', 'min.cleanable.dirty.ratio=0.01',
      '--config', `delete.retention.ms=${DELETE_RETENTION_MS}`,
      // Held back until the test has read the log as written.
      '--config', 'min.compaction.lag.ms=3600000',
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);

    // 40 keys, 60 rounds of values (about 2 MB), tombstones for 5 keys, then 1.2 MB of unique keys so
    // that every keyed record lies in a closed segment.
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    for (let round = 0; round < 60; round++) await produce(topic, keys.map((k) => [k, pad(`${k}@${round}`)]));
    const deleted = keys.slice(0, 5);
    await produce(topic, deleted.map((k) => [k, null]));
    await produce(topic, Array.from({ length: 1300 }, (_, i) => [`filler-${i}`, pad(`f${i}`)]));

    const before = await consumeAll(topic);
    expect(before.length).toBe(60 * 40 + 5 + 1300);
    const latest = new Map<string, Rec>();
    for (const r of before) latest.set(r.key, r);

    await alterTopic(topic, 'min.compaction.lag.ms=0');
    const keyed = (recs: Rec[]) => recs.filter((r) => r.key.startsWith('key-'));
    const afterFirst = await waitFor('the first compaction', () => consumeAll(topic), (recs) => keyed(recs).length === keys.length);
    // Exactly the latest record of each key, tombstones included, at the offsets they were written at.
    expect(keyed(afterFirst)).toEqual(keys.map((k) => latest.get(k)!).sort((a, b) => a.offset - b.offset));
    expect(keyed(afterFirst).filter((r) => r.value === null).map((r) => r.key).sort()).toEqual([...deleted].sort());
    // Offsets only increase, and the fillers (one record per key) are all there.
    for (let i = 1; i < afterFirst.length; i++) expect(afterFirst[i]!.offset).toBeGreaterThan(afterFirst[i - 1]!.offset);
    expect(afterFirst.filter((r) => r.key.startsWith('filler-')).length).toBe(1300);

    // Past delete.retention.ms, and with the log written to again (a pass runs on a dirty log), the
    // tombstones are gone and so are their keys.
    await new Promise((r) => setTimeout(r, DELETE_RETENTION_MS + 500));
    await produce(topic, Array.from({ length: 1300 }, (_, i) => [`more-${i}`, pad(`m${i}`)]));
    const afterSecond = await waitFor('the tombstones to go', () => consumeAll(topic), (recs) => keyed(recs).length === keys.length - deleted.length);
    expect(keyed(afterSecond)).toEqual(keys.slice(5).map((k) => latest.get(k)!).sort((a, b) => a.offset - b.offset));
  });

  it('refuses a record without a key on a compacted topic', async () => {
    const topic = 'compacted-keys';
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1', '--config', 'cleanup.policy=compact',
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const r = await run('kcat', ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-X', 'message.send.max.retries=0'], 'no key here\n');
    expect(r.stderr).toMatch(/Delivery failed/);
    // librdkafka's text for INVALID_RECORD (87).
    expect(r.stderr).toMatch(/Broker failed to validate record/);
  });
});
