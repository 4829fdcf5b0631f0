// Several log directories, as Kafka runs them (log.dirs): a broker with three, a topic spread over
// them, and EIO injected into one of them with STRATA_FAULTS (a rule scoped to that directory).
// That directory goes offline on its own: its partitions answer KAFKA_STORAGE_ERROR and Metadata
// lists them with the broker among their offline replicas, while the other directories keep taking
// produce and serving consumers byte for byte; Kafka's own LogDirsCommand reports the directory as
// failed. A restart with the directory healthy serves every acknowledged record, and a broker whose
// every directory fails exits non-zero. A second test kills a broker with SIGKILL and checks that
// recovery re-validates only the segments from the recovery point on.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerProcess, runProcess, startBroker } from './harness.js';
import { kafkaRefToolsProblem, runTool } from './kafka-tools.js';
import { WireClient } from './wire-client.js';
import * as G from '../../broker/protocol/generated/index.js';
import { ErrorCode } from '../../broker/protocol/error-codes.js';

const TOPIC = 'spread';
const PARTITIONS = 6;
/** Records per partition before the failure; each one is its own produce request (one append). */
const BEFORE = 5;
const VALUE_BYTES = 1000;

let broker: BrokerProcess | undefined;
const cleanup: string[] = [];
afterEach(async () => {
  await broker?.stop('SIGKILL');
  broker = undefined;
  for (const d of cleanup.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempBase(): string {
  const base = mkdtempSync(join(tmpdir(), 'strata-log-dirs-'));
  cleanup.push(base);
  return base;
}

/**
 * Produces `count` records numbered from `first` to each listed partition, one request at a time
 * (flush after each), without retries, so every failure comes back with the broker's own error.
 */
const PRODUCE_PY = `
import json, sys
from confluent_kafka import Producer
bootstrap, topic, partitions, first, count = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3].split(',')], int(sys.argv[4]), int(sys.argv[5])
out = []
def report(err, msg):
    out.append({'p': msg.partition(), 'n': int(msg.value()[2:10]), 'offset': msg.offset() if err is None else -1, 'error': None if err is None else err.name()})
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'retries': 0, 'enable.idempotence': False, 'linger.ms': 0, 'message.timeout.ms': 6000})
for n in range(first, first + count):
    for part in partitions:
        p.produce(topic, value=('%d-%08d' % (part, n)).encode().ljust(${VALUE_BYTES}, b'x'), partition=part, on_delivery=report)
        p.flush(15)
print(json.dumps(out))
`;

interface Outcome {
  p: number;
  n: number;
  offset: number;
  error: string | null;
}

async function produce(bootstrap: string, partitions: number[], first: number, count: number): Promise<Outcome[]> {
  const r = await runProcess('/usr/bin/python3', ['-c', PRODUCE_PY, bootstrap, TOPIC, partitions.join(','), String(first), String(count)], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Outcome[];
}

/** Offset → record number of everything readable in one partition (kcat checks every batch's CRC). */
async function consume(bootstrap: string, partition: number): Promise<Map<number, number>> {
  const r = await runProcess('kcat', ['-C', '-b', bootstrap, '-t', TOPIC, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%o %S %s\\n'], { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  const out = new Map<number, number>();
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const [offset, size, value] = line.split(' ');
    expect(Number(size)).toBe(VALUE_BYTES);
    // Byte for byte: the partition, the number, then padding to the full size.
    expect(value!.slice(0, 2)).toBe(`${partition}-`);
    expect(value).toBe(value!.slice(0, 10).padEnd(VALUE_BYTES, 'x'));
    out.set(Number(offset), Number(value!.slice(2, 10)));
  }
  return out;
}

function partitionFolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith(`${TOPIC}-`))
    .sort();
}

async function waitForExit(b: BrokerProcess, timeoutMs: number): Promise<number | string> {
  const deadline = Date.now() + timeoutMs;
  while (b.proc.exitCode === null && b.proc.signalCode === null) {
    if (Date.now() > deadline) throw new Error(`broker still running after ${timeoutMs} ms:\n${b.stderr().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return b.proc.exitCode ?? b.proc.signalCode!;
}

describe('several log directories', () => {
  it('takes a failing directory offline on its own, keeps serving the others, and serves everything again after a restart', async () => {
    expect(kafkaRefToolsProblem()).toBeNull();
    const base = tempBase();
    const dirs = ['d1', 'd2', 'd3'].map((d) => join(base, d));
    const failing = dirs[1]!;
    // Two partitions per directory, so BEFORE records each make 2 × BEFORE appends in the failing
    // one; the next append there fails with EIO, and so would every later one.
    const faults = `append:eio@${2 * BEFORE + 1}+:${failing}`;
    const overrides = [`num.partitions=${PARTITIONS}`];
    broker = await startBroker({ dataDir: dirs[0]!, logDirs: dirs, overrides, env: { STRATA_FAULTS: faults } });
    const bootstrap = broker.bootstrap;

    // Each directory is formatted as Kafka 4 formats it, all with one cluster id and their own ids.
    const metas = dirs.map((d) => readFileSync(join(d, 'meta.properties'), 'utf8'));
    for (const m of metas) expect(m).toMatch(/^#\n#\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}\nnode\.id=1\ndirectory\.id=[\w-]{22}\nversion=1\ncluster\.id=[\w-]{22}\n$/);
    expect(new Set(metas.map((m) => /cluster\.id=(.*)/.exec(m)![1])).size).toBe(1);
    expect(new Set(metas.map((m) => /directory\.id=(.*)/.exec(m)![1])).size).toBe(3);

    const all = [...Array(PARTITIONS).keys()];
    const before = await produce(bootstrap, all, 0, BEFORE);
    expect(before.filter((o) => o.error !== null)).toEqual([]);
    // Placement: each new partition on the directory holding the fewest, the first listed on a tie.
    expect(dirs.map(partitionFolders)).toEqual([
      [`${TOPIC}-0`, `${TOPIC}-3`],
      [`${TOPIC}-1`, `${TOPIC}-4`],
      [`${TOPIC}-2`, `${TOPIC}-5`],
    ]);
    // Every directory holds the topic metadata, and each partition Kafka's partition.metadata.
    for (const d of dirs) expect(existsSync(join(d, 'strata-metadata.json'))).toBe(true);
    expect(readFileSync(join(failing, `${TOPIC}-1`, 'partition.metadata'), 'utf8')).toMatch(/^version: 0\ntopic_id: [\w-]{22}$/);

    // The failure: the next append in d2 (partition 1) meets EIO and takes d2 offline.
    const hit = await produce(bootstrap, [1], BEFORE, 1);
    expect(hit).toEqual([{ p: 1, n: BEFORE, offset: -1, error: 'KAFKA_STORAGE_ERROR' }]);
    const failedLine = broker.logs.find((l) => l.msg === 'log directory failed; every partition in it stops serving until the broker restarts with it healthy');
    expect(failedLine).toMatchObject({ level: 'warn', dir: failing });
    expect(broker.logs.find((l) => l.msg === 'stopped serving the partitions in a failed log directory')).toMatchObject({ dir: failing, partitions: [`${TOPIC}-1`, `${TOPIC}-4`] });

    // The other partition of d2 answers KAFKA_STORAGE_ERROR without its log being touched, to
    // Produce, Fetch and ListOffsets alike; the wire client shows the exact answers.
    const extra = await produce(bootstrap, [0], 900, 1);
    expect(extra[0]!.error).toBeNull();
    const wire = await WireClient.connect(broker.port);
    try {
      const md = await wire.send(3, 12, { ...G.defaultMetadataRequest(), topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: TOPIC }] });
      const byIndex = new Map(md.topics[0]!.partitions.map((p) => [p.partitionIndex, p]));
      for (const p of all) {
        const offline = p === 1 || p === 4;
        expect(byIndex.get(p), `partition ${p}`).toMatchObject(
          offline
            ? { errorCode: ErrorCode.LEADER_NOT_AVAILABLE, leaderId: -1, replicaNodes: [1], isrNodes: [], offlineReplicas: [1] }
            : { errorCode: ErrorCode.NONE, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] },
        );
      }
      const fetch = await wire.send(1, 12, {
        ...G.defaultFetchRequest(),
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        topics: [{ topic: TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [4, 5].map((p) => ({ ...G.defaultFetchRequestFetchPartition(), partition: p, fetchOffset: 0n, partitionMaxBytes: 1 << 20 })) }],
      });
      expect(fetch.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark])).toEqual([
        [4, ErrorCode.KAFKA_STORAGE_ERROR, -1n],
        [5, ErrorCode.NONE, BigInt(BEFORE)],
      ]);
      const offsets = await wire.send(2, 7, {
        ...G.defaultListOffsetsRequest(),
        topics: [{ name: TOPIC, partitions: [4, 2].map((p) => ({ ...G.defaultListOffsetsRequestListOffsetsPartition(), partitionIndex: p, timestamp: -1n })) }],
      });
      expect(offsets.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.offset])).toEqual([
        [4, ErrorCode.KAFKA_STORAGE_ERROR, -1n],
        [2, ErrorCode.NONE, BigInt(BEFORE)],
      ]);
      const produced = await wire.send(0, 9, {
        ...G.defaultProduceRequest(),
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ ...G.defaultProduceRequestTopicProduceData(), name: TOPIC, partitionData: [{ index: 4, records: Buffer.alloc(0) }] }],
      });
      expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    } finally {
      wire.close();
    }

    // kcat sees the same metadata.
    const listed = await runProcess('kcat', ['-L', '-b', bootstrap, '-t', TOPIC], { timeoutMs: 30_000 });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/partition 1, leader -1, replicas: 1, isrs: , Broker: Leader not available/);
    expect(listed.stdout).toMatch(/partition 4, leader -1, replicas: 1, isrs: , Broker: Leader not available/);
    expect(listed.stdout).toMatch(/partition 3, leader 1, replicas: 1, isrs: 1\n/);

    // The other directories go on: produce, then consume byte for byte.
    const healthy = [0, 2, 3, 5];
    const after = await produce(bootstrap, healthy, 1000, 3);
    expect(after.filter((o) => o.error !== null)).toEqual([]);
    const acked = [...before, ...extra, ...after];
    for (const p of healthy) {
      const stored = await consume(bootstrap, p);
      const mine = acked.filter((o) => o.p === p);
      expect(stored.size).toBe(mine.length);
      for (const o of mine) expect(stored.get(o.offset)).toBe(o.n);
    }

    // Kafka's kafka-log-dirs tool reports the directory as failed and the others with their partitions.
    const tool = await runTool('org.apache.kafka.tools.LogDirsCommand', ['--bootstrap-server', bootstrap, '--describe', '--broker-list', '1']);
    expect(tool.code, tool.stderr).toBe(0);
    const json = JSON.parse(tool.stdout.split('\n').find((l) => l.startsWith('{'))!) as {
      brokers: { broker: number; logDirs: { logDir: string; error: string | null; partitions: { partition: string; size: number; offsetLag: number; isFuture: boolean }[] }[] }[];
    };
    expect(json.brokers.map((b) => b.broker)).toEqual([1]);
    const reported = new Map(json.brokers[0]!.logDirs.map((d) => [d.logDir, d]));
    expect([...reported.keys()].sort()).toEqual([...dirs].sort());
    expect(reported.get(failing)).toMatchObject({ error: 'org.apache.kafka.common.errors.KafkaStorageException', partitions: [] });
    for (const [i, d] of [dirs[0]!, dirs[2]!].entries()) {
      const entry = reported.get(d)!;
      expect(entry.error).toBeNull();
      expect(entry.partitions.map((p) => p.partition).sort()).toEqual(i === 0 ? [`${TOPIC}-0`, `${TOPIC}-3`] : [`${TOPIC}-2`, `${TOPIC}-5`]);
      for (const p of entry.partitions) expect(p).toMatchObject({ offsetLag: 0, isFuture: false });
      for (const p of entry.partitions) expect(p.size).toBeGreaterThan(BEFORE * VALUE_BYTES);
    }

    // The metric.
    const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/^strata_log_manager_offline_log_directory_count 1$/m);
    expect(metrics).toContain(`strata_log_manager_log_directory_offline{log_directory="${failing}"} 1`);

    // A restart with the directory healthy (no faults armed) serves every acknowledged record.
    expect(await broker.stop('SIGTERM')).toBe(0);
    broker = await startBroker({ dataDir: dirs[0]!, logDirs: dirs, overrides, port: Number(bootstrap.split(':')[1]) });
    const loaded = broker.logs.find((l) => l.msg === 'logs loaded') as { partitions: number; offlinePartitions: number; dirs: { dir: string; online: boolean; partitions: number; unclean: number }[] };
    expect(broker.logs.find((l) => l.msg === 'loading logs')).toMatchObject({ dirs, offline: [], topics: 1, partitions: PARTITIONS });
    expect(loaded).toMatchObject({ partitions: PARTITIONS, offlinePartitions: 0 });
    // d2 was abandoned without a clean shutdown, so its two partitions were recovered; the others closed cleanly.
    expect(loaded.dirs.map((d) => [d.dir, d.online, d.partitions, d.unclean])).toEqual([
      [dirs[0], true, 2, 0],
      [dirs[1], true, 2, 2],
      [dirs[2], true, 2, 0],
    ]);
    for (const p of all) {
      const stored = await consume(broker.bootstrap, p);
      const mine = acked.filter((o) => o.p === p);
      expect(stored.size, `partition ${p}`).toBe(mine.length);
      for (const o of mine) expect(stored.get(o.offset), `partition ${p} offset ${o.offset}`).toBe(o.n);
    }
    // And the directory takes produce again.
    const again = await produce(broker.bootstrap, [1, 4], 2000, 1);
    expect(again.map((o) => [o.p, o.error, o.offset])).toEqual([
      [1, null, BEFORE],
      [4, null, BEFORE],
    ]);
  });

  it('exits non-zero once every log directory has failed', async () => {
    const base = tempBase();
    const dirs = ['a', 'b', 'c'].map((d) => join(base, d));
    broker = await startBroker({ dataDir: dirs[0]!, logDirs: dirs, overrides: ['num.partitions=3'], env: { STRATA_FAULTS: 'append:eio@1+' } });
    // One partition per directory; each first append fails and takes its directory with it.
    const outcomes = await produce(broker.bootstrap, [0, 1, 2], 0, 1);
    // The last one never gets an answer: the broker halts first, as Kafka does.
    expect(outcomes.map((o) => o.error)).toEqual(['KAFKA_STORAGE_ERROR', 'KAFKA_STORAGE_ERROR', expect.any(String)]);
    expect(await waitForExit(broker, 20_000)).toBe(1);
    expect(broker.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('shutting down: all log dirs in'))).toMatchObject({
      level: 'error',
      msg: `shutting down: all log dirs in ${dirs.join(', ')} have failed`,
    });
  });

  it('refuses to start on a directory that belongs to another node or cluster', async () => {
    const base = tempBase();
    const dirs = ['a', 'b'].map((d) => join(base, d));
    broker = await startBroker({ dataDir: dirs[0]!, logDirs: dirs });
    expect(await broker.stop('SIGTERM')).toBe(0);
    broker = undefined;
    const other = join(base, 'other');
    const b2 = await startBroker({ dataDir: other, overrides: ['node.id=1'] });
    expect(await b2.stop('SIGTERM')).toBe(0);
    const strata = join(process.cwd(), 'bin/strata');
    const run = (logDirs: string[], extra: string[] = []) =>
      runProcess(process.execPath, [strata, 'broker', '-o', 'listeners=PLAINTEXT://127.0.0.1:0', '-o', `log.dirs=${logDirs.join(',')}`, '-o', 'strata.http.listener=127.0.0.1:0', ...extra.flatMap((e) => ['-o', e])], { timeoutMs: 30_000 });
    const wrongNode = await run(dirs, ['node.id=7']);
    expect(wrongNode.code).toBe(1);
    expect(wrongNode.stderr).toContain(`${join(dirs[0]!, 'meta.properties')} belongs to node 1, but node.id is 7`);
    const mixed = await run([dirs[0]!, other]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toMatch(/meta\.properties belongs to cluster [\w-]{22}, but .*meta\.properties to cluster [\w-]{22}: every log directory must belong to one cluster/);
  });
});

describe('recovery after an unclean stop', () => {
  it('re-validates only the segments from the recovery point on, and says so at start-up', async () => {
    const base = tempBase();
    const dataDir = join(base, 'data');
    const overrides = [`log.segment.bytes=${1024 * 1024}`, 'num.partitions=1'];
    broker = await startBroker({ dataDir, overrides });
    const outcomes = await produce(broker.bootstrap, [0], 0, 5000);
    expect(outcomes.filter((o) => o.error !== null)).toEqual([]);
    // Rolled segments are fsynced in the background, and the recovery point follows; wait until it
    // is on disk past the first segments.
    const partitionDir = join(dataDir, `${TOPIC}-0`);
    const deadline = Date.now() + 20_000;
    const recoveryPoint = () => Number(readFileSync(join(partitionDir, 'recovery-point'), 'utf8').split('\n')[2]);
    while (!existsSync(join(partitionDir, 'recovery-point')) || recoveryPoint() < 2000) {
      if (Date.now() > deadline) throw new Error('the recovery point never moved past offset 2000');
      await new Promise((r) => setTimeout(r, 100));
    }
    const segments = readdirSync(partitionDir).filter((n) => n.endsWith('.log')).length;
    expect(segments).toBeGreaterThan(4);
    expect(await broker.stop('SIGKILL')).toBe('SIGKILL');

    broker = await startBroker({ dataDir, overrides, port: Number(broker.bootstrap.split(':')[1]) });
    const mine = (l: Record<string, unknown>) => l.dir === partitionDir;
    const recovering = broker.logs.find((l) => l.msg === 'recovering unflushed segments' && mine(l)) as { recoveryPoint: number; segments: number };
    const partitionLoaded = broker.logs.find((l) => l.msg === 'partition log loaded' && mine(l)) as { cleanShutdown: boolean; segments: number; segmentsRecovered: number };
    expect(recovering.recoveryPoint).toBeGreaterThanOrEqual(2000);
    // Only the tail: the segments holding offsets from the recovery point on, never the whole log.
    expect(recovering.segments).toBeGreaterThanOrEqual(1);
    expect(recovering.segments).toBeLessThan(segments);
    expect(partitionLoaded).toMatchObject({ cleanShutdown: false, segments, segmentsRecovered: recovering.segments });
    const loaded = broker.logs.find((l) => l.msg === 'logs loaded');
    expect(loaded).toMatchObject({ partitions: 1, uncleanPartitions: 1, segmentsRecovered: recovering.segments, dirs: [{ dir: dataDir, online: true, partitions: 1, unclean: 1, segmentsRecovered: recovering.segments }] });
    expect(broker.logs.findIndex((l) => l.msg === 'loading logs')).toBeLessThan(broker.logs.findIndex((l) => l.msg === 'logs loaded'));
    const stored = await consume(broker.bootstrap, 0);
    expect(stored.size).toBe(outcomes.length);
    for (const o of outcomes) expect(stored.get(o.offset)).toBe(o.n);
  });
});
