// The crash campaign: cycle after cycle, a broker under load from Kafka's VerifiableProducer
// (acks=-1) dies, either by SIGKILL at a random moment or by a crash armed at one of the log's fault
// points (STRATA_FAULTS, broker/log/fault-plan.ts), while retention deletes segments of one topic and
// the cleaner compacts another. After every crash a broker starts on the same files with no repair,
// and the test checks, with kcat reading from the beginning:
//   - every acknowledged record is present exactly once at its acknowledged offset, unless retention
//     legitimately removed it (below the log start) or, on the compacted topic, a later record with
//     the same key superseded it;
//   - offsets only increase, and are dense on the topic that is not compacted;
// and every few cycles that the indexes agree with the data, with Kafka's DumpLogSegments.
// It prints the cycles run, the fault points that fired, and the acknowledged records checked.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, newDataDir, startBroker } from './harness.js';
import { ToolProcess, kafkaRefToolsProblem, runTool, stopAllTools } from './kafka-tools.js';

const missing = kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

const CYCLES = 56;
const DELETE_TOPIC = 'campaign-delete';
const COMPACT_TOPIC = 'campaign-compact';
const SEGMENT_MS = 1500;
const RETENTION_BYTES = 300_000;
/** Fault points and the range of hits to crash on, chosen so the crash comes within a cycle's load. */
const POINTS: [string, number, number][] = [
  ['append', 20, 300],
  ['index-write', 5, 100],
  ['roll', 1, 2],
  ['flush', 1, 2],
  ['checkpoint', 1, 4],
  ['delete', 1, 2],
  ['clean', 1, 3],
];
const OVERRIDES = [
  'log.retention.check.interval.ms=300',
  'log.cleaner.backoff.ms=200',
  'auto.create.topics.enable=false',
  'num.partitions=1',
];

let broker: BrokerProcess | undefined;
afterAll(async () => {
  await stopAllTools();
  await broker?.stop('SIGKILL');
});

/** A small seeded generator, so a failing campaign can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Acked {
  key: string | null;
  value: string;
  offset: number;
}

function readAll(bootstrap: string, topic: string): Promise<{ offset: number; key: string; value: string }[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('kcat', ['-C', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %k %s\\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${err}`));
      resolve(
        out
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => {
            const [offset, key, value] = l.split(' ');
            return { offset: Number(offset), key: key!, value: value! };
          }),
      );
    });
  });
}

async function createTopics(bootstrap: string): Promise<void> {
  const topics: [string, string[]][] = [
    // VerifiableProducer's records are a few bytes each, so segments roll by time (segment.ms) rather
    // than size, several times a cycle, and retention keeps only the last few hundred kilobytes.
    [DELETE_TOPIC, ['cleanup.policy=delete', `segment.ms=${SEGMENT_MS}`, `retention.bytes=${RETENTION_BYTES}`]],
    [COMPACT_TOPIC, ['cleanup.policy=compact', `segment.ms=${SEGMENT_MS}`, 'min.cleanable.dirty.ratio=0.01']],
  ];
  for (const [name, configs] of topics) {
    const r = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', bootstrap, '--create', '--topic', name, '--partitions', '1', '--replication-factor', '1', ...configs.flatMap((c) => ['--config', c]),
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
}

function producer(bootstrap: string, topic: string, cycle: number, keyed: boolean): ToolProcess {
  return new ToolProcess(`producer ${topic}`, 'org.apache.kafka.tools.VerifiableProducer', [
    '--bootstrap-server', bootstrap,
    '--topic', topic,
    '--acks', '-1',
    '--throughput', '5000',
    '--max-messages', '200000',
    '--value-prefix', String(cycle),
    ...(keyed ? ['--repeating-keys', '300'] : []),
  ]);
}

/** Checks the indexes of every segment of a partition against its data with Kafka's own tool. */
async function verifyIndexes(dataDir: string, topic: string): Promise<number> {
  const dir = join(dataDir, `${topic}-0`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.index') || f.endsWith('.timeindex')).map((f) => join(dir, f));
  if (files.length === 0) return 0;
  const r = await runTool('kafka.tools.DumpLogSegments', ['--verify-index-only', '--files', files.join(',')], 120_000);
  expect(r.code, r.stderr).toBe(0);
  const problems = (r.stdout + r.stderr).split('\n').filter((l) => /mismatch|corrupt|exception|not equal|error/i.test(l));
  expect(problems, `DumpLogSegments on ${topic}`).toEqual([]);
  return files.length;
}

describe.skipIf(missing !== null && allowMissing)('crash campaign', () => {
  it(`${CYCLES} crashes under VerifiableProducer load lose no acknowledged record`, { timeout: 900_000 }, async () => {
    const random = rng(20261122);
    const dataDir = newDataDir();
    const ackedDelete: Acked[] = [];
    const ackedCompact: Acked[] = [];
    const fired = new Map<string, number>();
    let randomKills = 0;
    let indexFilesChecked = 0;
    let port = 0;

    broker = await startBroker({ dataDir, overrides: OVERRIDES });
    port = Number(broker.bootstrap.split(':')[1]);
    await createTopics(broker.bootstrap);
    await broker.stop('SIGKILL');

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // Six cycles in seven arm a fault point (each point in turn); the seventh kills at random.
      const armed = cycle % 8 === 0 ? null : POINTS[cycle % POINTS.length]!;
      const rule = armed === null ? null : `${armed[0]}:crash@${armed[1] + Math.floor(random() * (armed[2] - armed[1] + 1))}`;
      let armedBroker: BrokerProcess;
      try {
        armedBroker = await startBroker({ dataDir, port, overrides: OVERRIDES, ...(rule === null ? {} : { env: { STRATA_FAULTS: rule } }) });
      } catch (e) {
        // The fault fired while the broker was still loading its logs: a crash during recovery.
        const point = /"msg":"injected crash","point":"([a-z-]+)"/.exec((e as Error).message)?.[1];
        if (point === undefined) throw e;
        fired.set(`${point} (during start-up)`, (fired.get(`${point} (during start-up)`) ?? 0) + 1);
        fired.set(point, (fired.get(point) ?? 0) + 1);
        armedBroker = undefined as unknown as BrokerProcess;
      }
      if (armedBroker !== undefined) {
        broker = armedBroker;
        const producers = [producer(broker.bootstrap, DELETE_TOPIC, cycle, false), producer(broker.bootstrap, COMPACT_TOPIC, cycle, true)];
        const current = broker;
        const died =
          current.proc.exitCode !== null || current.proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => current.proc.once('exit', () => resolve()));
        // A random kill after 1.5 to 5 s, or whenever the armed fault fires first.
        const deadline = 1500 + random() * 3500;
        const fault = await Promise.race([died.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), rule === null ? deadline : deadline + 3000))]);
        if (fault) {
          const line = current.logs.find((l) => l.msg === 'injected crash');
          const point = String(line?.point ?? 'unknown');
          fired.set(point, (fired.get(point) ?? 0) + 1);
        } else {
          randomKills++;
          await current.stop('SIGKILL');
        }
        await Promise.all(producers.map((p) => p.stop('SIGKILL')));
        for (const [p, acked] of [
          [producers[0]!, ackedDelete],
          [producers[1]!, ackedCompact],
        ] as const) {
          for (const e of p.named('producer_send_success')) acked.push({ key: (e.key as string | null) ?? null, value: String(e.value), offset: e.offset as number });
        }
      }

      // A plain broker on the same files: it must start with no repair, and hold every acked record.
      broker = await startBroker({ dataDir, port, overrides: OVERRIDES });
      const del = await readAll(broker.bootstrap, DELETE_TOPIC);
      const start = del[0]?.offset ?? 0;
      del.forEach((r, i) => expect(r.offset, `${DELETE_TOPIC} offsets are dense (cycle ${cycle})`).toBe(start + i));
      const delByOffset = new Map(del.map((r) => [r.offset, r.value]));
      for (const a of ackedDelete) {
        if (a.offset < start) continue; // deleted by retention
        expect(delByOffset.get(a.offset), `${DELETE_TOPIC} offset ${a.offset} (cycle ${cycle})`).toBe(a.value);
      }
      expect(new Set(del.map((r) => r.value)).size).toBe(del.length);

      const comp = await readAll(broker.bootstrap, COMPACT_TOPIC);
      for (let i = 1; i < comp.length; i++) expect(comp[i]!.offset).toBeGreaterThan(comp[i - 1]!.offset);
      const compByOffset = new Map(comp.map((r) => [r.offset, r]));
      const lastOffsetOfKey = new Map<string, number>();
      for (const r of comp) lastOffsetOfKey.set(r.key, r.offset);
      for (const a of ackedCompact) {
        const there = compByOffset.get(a.offset);
        if (there !== undefined) {
          expect(there.value, `${COMPACT_TOPIC} offset ${a.offset} (cycle ${cycle})`).toBe(a.value);
          continue;
        }
        // Gone only if compaction kept a later record of its key.
        expect(lastOffsetOfKey.get(a.key!) ?? -1, `${COMPACT_TOPIC} key ${a.key} acked at ${a.offset} (cycle ${cycle})`).toBeGreaterThan(a.offset);
      }
      expect(new Set(comp.map((r) => r.value)).size).toBe(comp.length);

      if (cycle % 7 === 0 || cycle === CYCLES) {
        indexFilesChecked += await verifyIndexes(dataDir, DELETE_TOPIC);
        indexFilesChecked += await verifyIndexes(dataDir, COMPACT_TOPIC);
      }
      await broker.stop('SIGKILL');
    }

    const checked = ackedDelete.length + ackedCompact.length;
    console.log(
      `crash campaign: ${CYCLES} cycles (${randomKills} random SIGKILLs, faults fired: ${[...fired].map(([p, n]) => `${p} ${n}`).join(', ')}), ` +
        `${checked} acknowledged records checked after every restart, ${indexFilesChecked} index files verified by DumpLogSegments`,
    );
    expect(checked).toBeGreaterThan(10_000);
    // Every fault point fired at least once.
    for (const [p] of POINTS) expect(fired.get(p) ?? 0, `fault point ${p} fired`).toBeGreaterThan(0);
  });
});
