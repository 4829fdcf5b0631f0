// Topic configuration through real clients: Kafka's TopicCommand and ConfigCommand set configs at
// creation and live, confluent-kafka-python and kcat produce and consume, Kafka's ConsoleConsumer
// reads, and Kafka's DumpLogSegments reads the segment files the broker wrote. Every change here
// is applied to a running broker, without a restart.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, runProcess, startBroker } from './harness.js';
import { kafkaRefToolsProblem, runTool } from './kafka-tools.js';

const missing = kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

const MiB = 1024 * 1024;
const PYTHON = '/usr/bin/python3';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBroker({ overrides: ['auto.create.topics.enable=false'] });
});
afterAll(async () => {
  await broker?.stop('SIGKILL');
});

async function createTopic(topic: string, configs: Record<string, string> = {}): Promise<void> {
  const r = await runTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server', broker.bootstrap, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1',
    ...Object.entries(configs).flatMap(([k, v]) => ['--config', `${k}=${v}`]),
  ]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** kafka-configs --alter --add-config (IncrementalAlterConfigs in Kafka 4). */
function alterTopicRun(topic: string, config: string) {
  return runTool('kafka.admin.ConfigCommand', ['--bootstrap-server', broker.bootstrap, '--entity-type', 'topics', '--entity-name', topic, '--alter', '--add-config', config]);
}

async function alterTopic(topic: string, config: string): Promise<void> {
  const r = await alterTopicRun(topic, config);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/**
 * confluent-kafka-python produces `count` records to partition 0 and prints one JSON line per
 * delivery report: the error code (null when acknowledged), the offset, and the value as hex.
 * Values are random bytes of `size`, so byte-exactness is checked on data no codec flatters.
 */
const PRODUCE_PY = `
import sys, os, json
from confluent_kafka import Producer
bootstrap, topic, count, size, ts, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
conf = {'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 5, 'compression.type': 'none', 'retries': 0}
conf.update(extra)
p = Producer(conf)
out = []
def report(err, msg):
    out.append({'error': None if err is None else err.code(), 'offset': msg.offset(), 'value': msg.value().hex()})
for i in range(count):
    value = ('r%06d-' % i).encode() + os.urandom(max(0, size - 8))
    if ts > 0:
        p.produce(topic, value=value, partition=0, timestamp=ts, on_delivery=report)
    else:
        p.produce(topic, value=value, partition=0, on_delivery=report)
    p.poll(0)
left = p.flush(60)
for o in out:
    print(json.dumps(o))
if left:
    sys.exit('%d not delivered' % left)
`;

interface Delivery {
  error: number | null;
  offset: number;
  value: string;
}

async function produce(topic: string, count: number, size: number, opts: { timestampMs?: number; config?: Record<string, unknown> } = {}): Promise<Delivery[]> {
  const r = await runProcess(PYTHON, ['-c', PRODUCE_PY, broker.bootstrap, topic, String(count), String(size), String(opts.timestampMs ?? 0), JSON.stringify(opts.config ?? {})]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Delivery);
}

/** confluent-kafka-python reads partition 0 from the beginning: offset, value (hex), timestamp type and value. */
const CONSUME_PY = `
import sys, json
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'topic-configs-py', 'enable.auto.commit': False, 'check.crcs': True})
c.assign([TopicPartition(topic, 0, 0)])
got = 0
idle = 0
while got < expected and idle < 30:
    m = c.poll(1.0)
    if m is None:
        idle += 1
        continue
    if m.error():
        sys.exit('consume error: %s' % m.error())
    t, ts = m.timestamp()
    print(json.dumps({'offset': m.offset(), 'value': m.value().hex(), 'tsType': t, 'ts': ts}))
    got += 1
c.close()
`;

interface Consumed {
  offset: number;
  value: string;
  tsType: number;
  ts: number;
}

/** confluent_kafka's TIMESTAMP_CREATE_TIME and TIMESTAMP_LOG_APPEND_TIME. */
const PY_CREATE_TIME = 1;
const PY_LOG_APPEND_TIME = 2;

async function consumePython(topic: string, expected: number): Promise<Consumed[]> {
  const r = await runProcess(PYTHON, ['-c', CONSUME_PY, broker.bootstrap, topic, String(expected)]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Consumed);
}

/** kcat (librdkafka) from the beginning with CRC checks on: offset, timestamp and value length. */
async function consumeKcat(topic: string): Promise<{ offset: number; ts: number; bytes: number }[]> {
  const r = await runProcess('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-X', 'check.crcs=true', '-f', '%o %T %S\\n']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/crc|corrupt/i);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, ts, bytes] = l.split(' ').map(Number);
      return { offset: offset!, ts: ts!, bytes: bytes! };
    });
}

/** Kafka's ConsoleConsumer (the Java consumer, CRCs checked) from the beginning, with timestamps. */
async function consumeJava(topic: string, count: number): Promise<string[]> {
  const r = await runTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', broker.bootstrap, '--topic', topic, '--partition', '0', '--offset', 'earliest', '--max-messages', String(count),
    '--timeout-ms', '30000', '--property', 'print.timestamp=true', '--property', 'print.offset=true', '--property', 'print.value=false',
    '--consumer-property', 'check.crcs=true',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l.startsWith('CreateTime') || l.startsWith('LogAppendTime'));
}

function partitionDir(topic: string): string {
  return join(broker.dataDir, `${topic}-0`);
}

function files(topic: string, pattern: RegExp): string[] {
  return readdirSync(partitionDir(topic))
    .filter((f) => pattern.test(f))
    .sort();
}

interface DumpedBatch {
  baseOffset: number;
  lastOffset: number;
  timestampType: string;
  timestamp: number;
  codec: string;
  valid: boolean;
}

/** Kafka's DumpLogSegments over one segment file: every batch header it prints. */
async function dumpBatches(topic: string, logFile: string): Promise<DumpedBatch[]> {
  const r = await runTool('kafka.tools.DumpLogSegments', ['--files', join(partitionDir(topic), logFile)], 120_000);
  expect(r.code, r.stderr).toBe(0);
  const out: DumpedBatch[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^baseOffset: (\d+) lastOffset: (\d+) .* (CreateTime|LogAppendTime): (-?\d+) .* compresscodec: (\w+) crc: \d+ isvalid: (\w+)/.exec(line);
    if (m === null) continue;
    out.push({ baseOffset: Number(m[1]), lastOffset: Number(m[2]), timestampType: m[3]!, timestamp: Number(m[4]), codec: m[5]!, valid: m[6] === 'true' });
  }
  return out;
}

async function waitFor<T>(what: string, probe: () => T | Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const HOUR_MS = 3_600_000;

describe.skipIf(missing !== null && allowMissing)('topic configs through real clients', () => {
  it('message.timestamp.type=LogAppendTime, set live, stamps broker time with a valid CRC that every client and DumpLogSegments accept', async () => {
    const topic = 'append-time';
    await createTopic(topic);
    const producerTs = Date.now() - HOUR_MS;
    const before = await produce(topic, 5, 100, { timestampMs: producerTs });
    expect(before.every((d) => d.error === null)).toBe(true);
    await alterTopic(topic, 'message.timestamp.type=LogAppendTime');
    const lower = Date.now();
    const after = await produce(topic, 5, 100, { timestampMs: producerTs });
    const upper = Date.now();
    expect(after.every((d) => d.error === null)).toBe(true);

    const py = await consumePython(topic, 10);
    expect(py.map((m) => m.offset)).toEqual([...Array(10).keys()]);
    expect(py.slice(0, 5).every((m) => m.tsType === PY_CREATE_TIME && m.ts === producerTs)).toBe(true);
    for (const m of py.slice(5)) {
      expect(m.tsType).toBe(PY_LOG_APPEND_TIME);
      expect(m.ts).toBeGreaterThanOrEqual(lower);
      expect(m.ts).toBeLessThanOrEqual(upper);
    }
    expect(py.map((m) => m.value)).toEqual([...before, ...after].map((d) => d.value));

    const kcat = await consumeKcat(topic);
    expect(kcat.map((m) => m.ts)).toEqual(py.map((m) => m.ts));

    const java = await consumeJava(topic, 10);
    expect(java).toHaveLength(10);
    expect(java.slice(0, 5).every((l) => l.startsWith(`CreateTime:${producerTs}`))).toBe(true);
    java.slice(5).forEach((l, i) => expect(l.startsWith(`LogAppendTime:${py[5 + i]!.ts}`), l).toBe(true));

    const dumped = await dumpBatches(topic, files(topic, /\.log$/)[0]!);
    expect(dumped.every((b) => b.valid)).toBe(true);
    expect(dumped[0]).toMatchObject({ baseOffset: 0, timestampType: 'CreateTime', timestamp: producerTs });
    const appended = dumped.filter((b) => b.baseOffset >= 5);
    expect(appended.length).toBeGreaterThan(0);
    for (const b of appended) expect(b).toMatchObject({ timestampType: 'LogAppendTime', timestamp: py[b.baseOffset]!.ts });
  });

  it('compression.type=zstd, set live, stores new batches as zstd and consumers read them back byte-exact', async () => {
    const topic = 'zstd-live';
    await createTopic(topic);
    const before = await produce(topic, 200, 300);
    await alterTopic(topic, 'compression.type=zstd');
    const after = await produce(topic, 200, 300);
    await alterTopic(topic, 'compression.type=uncompressed');
    const plain = await produce(topic, 50, 300, { config: { 'compression.type': 'gzip' } });
    const sent = [...before, ...after, ...plain];
    expect(sent.every((d) => d.error === null)).toBe(true);

    const dumped = await dumpBatches(topic, files(topic, /\.log$/)[0]!);
    expect(dumped.every((b) => b.valid)).toBe(true);
    const codecOf = (offset: number) => dumped.find((b) => b.baseOffset <= offset && offset <= b.lastOffset)!.codec;
    expect(new Set(before.map((d) => codecOf(d.offset)))).toEqual(new Set(['none']));
    expect(new Set(after.map((d) => codecOf(d.offset)))).toEqual(new Set(['zstd']));
    // The producer's gzip batches are stored uncompressed once the topic says so.
    expect(new Set(plain.map((d) => codecOf(d.offset)))).toEqual(new Set(['none']));

    const py = await consumePython(topic, sent.length);
    expect(py.map((m) => [m.offset, m.value])).toEqual(sent.map((d) => [d.offset, d.value]));
    const kcat = await consumeKcat(topic);
    expect(kcat.map((m) => [m.offset, m.bytes])).toEqual(sent.map((d) => [d.offset, d.value.length / 2]));
    expect(await consumeJava(topic, sent.length)).toHaveLength(sent.length);
  });

  it('max.message.bytes lowered live refuses larger batches with MESSAGE_TOO_LARGE', async () => {
    const topic = 'small-messages';
    await createTopic(topic);
    expect((await produce(topic, 1, 5000))[0]!.error).toBeNull();
    await alterTopic(topic, 'max.message.bytes=1000');
    const refused = await produce(topic, 1, 5000);
    expect(refused[0]!.error).toBe(10); // MESSAGE_TOO_LARGE (librdkafka's MSG_SIZE_TOO_LARGE)
    expect((await produce(topic, 1, 200))[0]).toMatchObject({ error: null, offset: 1 });
  });

  it('segment.bytes and index.interval.bytes, changed live, shape the files on disk', async () => {
    const topic = 'shaped';
    // No index entries at first: the interval is larger than anything written.
    await createTopic(topic, { 'index.interval.bytes': String(1 << 30) });
    await produce(topic, 1500, 1000, { config: { 'linger.ms': 0, 'batch.num.messages': 10 } });
    expect(files(topic, /\.log$/)).toHaveLength(1);
    const first = files(topic, /\.log$/)[0]!;
    await alterTopic(topic, `segment.bytes=${MiB},index.interval.bytes=0`);
    await produce(topic, 3000, 1000, { config: { 'linger.ms': 0, 'batch.num.messages': 10 } });

    const logs = files(topic, /\.log$/);
    expect(logs.length).toBeGreaterThanOrEqual(4);
    expect(logs[0]).toBe(first);
    const size = (f: string) => statSync(join(partitionDir(topic), f)).size;
    // The old segment rolled at the next append; every later one stops at 1 MiB.
    expect(size(first)).toBeGreaterThan(MiB);
    for (const f of logs.slice(1)) expect(size(f)).toBeLessThanOrEqual(MiB);
    // With index.interval.bytes=0 every batch but a segment's first gets an offset index entry (8
    // bytes); before the change there were none.
    expect(size(first.replace('.log', '.index'))).toBe(0);
    for (const f of logs.slice(1, -1)) {
      const batches = (await dumpBatches(topic, f)).length;
      expect(batches).toBeGreaterThan(10);
      expect(size(f.replace('.log', '.index')), f).toBe(8 * (batches - 1));
    }
    const verify = await runTool('kafka.tools.DumpLogSegments', ['--verify-index-only', '--files', logs.map((f) => join(partitionDir(topic), f)).join(',')], 120_000);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).not.toMatch(/Index mismatch|Found timestamp mismatch|Found out of order/);
  });

  it('refuses unknown and unhonourable keys with INVALID_CONFIG naming the key, at creation and on IncrementalAlterConfigs', async () => {
    const cases: [string, string, RegExp][] = [
      ['no.such.key', '1', /unknown topic config 'no\.such\.key'/],
      ['message.downconversion.enable', 'true', /unknown topic config 'message\.downconversion\.enable'/],
      ['log.retention.ms', '1000', /'log\.retention\.ms': that is a broker key; the topic-level key is retention\.ms/],
      ['preallocate', 'true', /for preallocate: Strata does not preallocate segment files/],
      ['remote.storage.enable', 'true', /remote\.storage\.enable=true needs tiered storage on the broker \(remote\.log\.storage\.system\.enable=true\)/],
      ['compression.lz4.level', '5', /for compression\.lz4\.level: .*single compression mode/],
      ['compression.type', 'brotli', /for compression\.type: must be one of/],
      ['segment.bytes', '100', /for segment\.bytes: must be at least 1048576/],
    ];
    // CreateTopics, through confluent-kafka-python: the error code and message per topic.
    const createPy = `
import sys, json
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({'bootstrap.servers': sys.argv[1]})
cases = json.loads(sys.argv[2])
topics = [NewTopic('refused-%d' % i, 1, 1, config={k: v}) for i, (k, v) in enumerate(cases)]
for name, f in a.create_topics(topics, operation_timeout=30).items():
    try:
        f.result()
        print(json.dumps({'topic': name, 'code': 0, 'message': ''}))
    except Exception as e:
        err = e.args[0]
        print(json.dumps({'topic': name, 'code': err.code(), 'message': err.str()}))
`;
    const r = await runProcess(PYTHON, ['-c', createPy, broker.bootstrap, JSON.stringify(cases.map(([k, v]) => [k, v]))]);
    expect(r.code, r.stderr).toBe(0);
    const results = new Map(r.stdout.split('\n').filter((l) => l !== '').map((l) => {
      const o = JSON.parse(l) as { topic: string; code: number; message: string };
      return [o.topic, o];
    }));
    cases.forEach(([key, , message], i) => {
      const got = results.get(`refused-${i}`);
      expect(got?.code, key).toBe(40); // INVALID_CONFIG
      expect(got?.message, key).toMatch(message);
    });
    // The accepted counterparts of the refused values.
    await createTopic('accepted-values', { preallocate: 'false', 'remote.storage.enable': 'false', 'compression.lz4.level': '1', 'min.insync.replicas': '1' });

    // IncrementalAlterConfigs, through Kafka's ConfigCommand; the topic keeps its configs.
    const topic = 'alter-refused';
    await createTopic(topic, { 'retention.ms': '12345' });
    for (const [key, value, message] of cases) {
      const alt = await alterTopicRun(topic, `${key}=${value}`);
      expect(alt.code, `${key}: ${alt.stdout}`).not.toBe(0);
      expect(alt.stdout + alt.stderr, key).toMatch(/InvalidConfigurationException/);
      expect(alt.stdout + alt.stderr, key).toMatch(message);
    }
    const described = await runTool('kafka.admin.ConfigCommand', ['--bootstrap-server', broker.bootstrap, '--entity-type', 'topics', '--entity-name', topic, '--describe']);
    expect(described.stdout).toMatch(/retention\.ms=12345/);
    expect(described.stdout).not.toMatch(/preallocate=true|remote\.storage\.enable=true/);
  });

  it('min.insync.replicas above the replication factor is taken, and acks=all is acknowledged, as Kafka 4.1 does', async () => {
    // Kafka 4.1 caps min.insync.replicas at the replica count (since 3.7, KAFKA-15583): a one-broker
    // Kafka 4.1.1 creates this topic and acknowledges acks=all produce to it. Strata's partitions
    // have one replica, always in sync, so NOT_ENOUGH_REPLICAS cannot arise until replication.
    const topic = 'min-isr-2';
    await createTopic(topic, { 'min.insync.replicas': '2' });
    const acked = await produce(topic, 3, 50, { config: { acks: 'all' } });
    expect(acked.map((d) => [d.error, d.offset])).toEqual([
      [null, 0],
      [null, 1],
      [null, 2],
    ]);
    await alterTopic(topic, 'min.insync.replicas=3');
    expect((await produce(topic, 1, 50, { config: { acks: 'all' } }))[0]).toMatchObject({ error: null, offset: 3 });
  });

  it('file.delete.delay.ms keeps removed segments as *.deleted files, then removes them; a restart removes leftovers', async () => {
    const trim = async (topic: string, offset: number) => {
      const file = join(broker.dataDir, `delete-${topic}.json`);
      writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, offset }] }));
      const r = await runTool('org.apache.kafka.tools.DeleteRecordsCommand', ['--bootstrap-server', broker.bootstrap, '--offset-json-file', file]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    };
    const segmentBases = (topic: string) => files(topic, /^\d{20}\.log$/).map((f) => Number(f.slice(0, 20)));
    const deleted = (topic: string) => files(topic, /\.deleted$/);

    // A long delay: the files stay until something else removes them.
    const kept = 'delete-later';
    await createTopic(kept, { 'segment.bytes': String(MiB), 'file.delete.delay.ms': String(HOUR_MS) });
    await produce(kept, 3500, 1000);
    const bases = segmentBases(kept);
    expect(bases.length).toBeGreaterThanOrEqual(3);
    await trim(kept, bases[2]!);
    const name = (base: number, suffix: string) => `${String(base).padStart(20, '0')}${suffix}`;
    expect(deleted(kept)).toEqual(
      [bases[0]!, bases[1]!].flatMap((b) => [name(b, '.index.deleted'), name(b, '.log.deleted'), name(b, '.timeindex.deleted')]).sort(),
    );
    expect(segmentBases(kept)).toEqual(bases.slice(2));
    const rest = await consumeKcat(kept);
    expect(rest[0]!.offset).toBe(bases[2]);

    // A short delay, set live: the files go by themselves.
    const soon = 'delete-soon';
    await createTopic(soon, { 'segment.bytes': String(MiB) });
    await alterTopic(soon, 'file.delete.delay.ms=1000');
    await produce(soon, 3500, 1000);
    const soonBases = segmentBases(soon);
    await trim(soon, soonBases[2]!);
    expect(segmentBases(soon)).toEqual(soonBases.slice(2));
    await waitFor('the .deleted files of delete-soon to go', () => deleted(soon), (d) => d.length === 0);

    // A process that dies leaves the long-delayed files; the next start removes them, data intact.
    await broker.stop('SIGKILL');
    broker = await startBroker({ dataDir: broker.dataDir, overrides: ['auto.create.topics.enable=false'] });
    expect(deleted(kept)).toEqual([]);
    const after = await consumeKcat(kept);
    expect(after.map((m) => m.offset)).toEqual(rest.map((m) => m.offset));
  });
});
