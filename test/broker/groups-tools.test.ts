/**
 * Kafka 4.1.1's own tools against Strata's consumer groups, from the reference jars
 * (`~/.cache/strata-peers/kafka-ref-4.1.1/lib`, installed by `bash hack/peers/install.sh`):
 *
 * - VerifiableProducer (acks=-1) and VerifiableConsumer, both printing JSON events: consumers of one
 *   group join, leave gracefully and are killed while records flow, with the classic protocol and
 *   with KIP-848's consumer protocol. Every acknowledged record is consumed, a consumer only reads
 *   partitions it owns, committed offsets never move backwards, and the final commits reach the log
 *   end. Static members (group.instance.id) restart and get their partitions back while the others
 *   keep theirs.
 * - ConsumerGroupCommand: --list, --describe (offsets, log end, lag), --members, --state (with and
 *   without --verbose, for classic and consumer-protocol groups), --reset-offsets --to-earliest and
 *   --delete, including the errors for groups that still have members.
 *
 * Set STRATA_ALLOW_MISSING_PEERS=1 to skip these tests when java or the jars are missing instead of
 * failing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as G from '../../broker/protocol/generated/index.js';
import { ApiKey } from '../../broker/protocol/generated/index.js';
import { type BrokerProcess, startBroker } from './harness.js';
import { ToolProcess, kafkaRefToolsProblem, parseTables, runTool, stopAllTools, waitUntil } from './kafka-tools.js';
import { WireClient } from './wire-client.js';

const VERIFIABLE_PRODUCER = 'org.apache.kafka.tools.VerifiableProducer';
const VERIFIABLE_CONSUMER = 'org.apache.kafka.tools.VerifiableConsumer';
const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand';

const missing = kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

// Short sessions so that a killed member is noticed within seconds. Classic members ask for their
// own session timeout (the broker's minimum is lowered to allow it); consumer-protocol members are
// given the broker's group.consumer.* values. The consumer-protocol session is the longer one
// because a restarted static member (a new JVM, one to a few seconds) must rejoin within it.
const CLASSIC_SESSION_MS = 6_000;
const CLASSIC_STATIC_SESSION_MS = 15_000;
const CONSUMER_SESSION_MS = 10_000;
const HEARTBEAT_MS = 1_000;
const OVERRIDES = [
  'group.initial.rebalance.delay.ms=0',
  'group.min.session.timeout.ms=1000',
  `group.consumer.session.timeout.ms=${CONSUMER_SESSION_MS}`,
  'group.consumer.min.session.timeout.ms=3000',
  `group.consumer.heartbeat.interval.ms=${HEARTBEAT_MS}`,
  'group.consumer.min.heartbeat.interval.ms=500',
  'offsets.topic.num.partitions=5',
];

/** Waits for rebalances, tool start-up and catch-up; generous because two cores are shared. */
const WAIT_MS = 90_000;

type Protocol = 'classic' | 'consumer';

let broker: BrokerProcess;
let wire: WireClient;
let workDir: string;

beforeAll(async () => {
  if (missing !== null) return;
  workDir = mkdtempSync(path.join(tmpdir(), 'strata-groups-tools-'));
  broker = await startBroker({ overrides: OVERRIDES });
  wire = await WireClient.connect(broker.port);
});
afterEach(async () => {
  await stopAllTools();
});
afterAll(async () => {
  await stopAllTools();
  wire?.close();
  await broker?.stop('SIGTERM');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// The broker at the wire: topics, log offsets and committed offsets, to check the tools against.

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await wire.send(ApiKey.CreateTopics, 7, {
    ...G.defaultCreateTopicsRequest(),
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
  });
  expect(res.topics[0]!.errorCode, `create ${name}`).toBe(0);
}

/** ListOffsets for every partition: -1 asks for the log end, -2 for the log start. */
async function listOffsets(topic: string, partitions: number, timestamp: -1n | -2n): Promise<bigint[]> {
  const res = await wire.send(ApiKey.ListOffsets, 7, {
    ...G.defaultListOffsetsRequest(),
    replicaId: -1,
    topics: [{ name: topic, partitions: range(partitions).map((p) => ({ ...G.defaultListOffsetsRequestListOffsetsPartition(), partitionIndex: p, timestamp })) }],
  });
  const out: bigint[] = [];
  for (const p of res.topics[0]!.partitions) {
    expect(p.errorCode, `ListOffsets ${topic}-${p.partitionIndex}`).toBe(0);
    out[p.partitionIndex] = p.offset;
  }
  return out;
}

/** The group's committed offsets (OffsetFetch v8), -1n where nothing is committed. */
async function committedOffsets(group: string, topic: string, partitions: number): Promise<bigint[]> {
  const res = await wire.send(ApiKey.OffsetFetch, 8, {
    ...G.defaultOffsetFetchRequest(),
    groups: [{ ...G.defaultOffsetFetchRequestOffsetFetchRequestGroup(), groupId: group, topics: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionIndexes: range(partitions) }] }],
  });
  const g = res.groups[0]!;
  expect(g.errorCode, `OffsetFetch ${group}`).toBe(0);
  const out: bigint[] = range(partitions).map(() => -1n);
  for (const t of g.topics) for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------------
// VerifiableProducer and VerifiableConsumer.

function writeProperties(name: string, props: Record<string, string | number>): string {
  const file = path.join(workDir, name);
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}\n`).join(''));
  return file;
}

function startProducer(topic: string, records: number, throughputPerSec: number): ToolProcess {
  // Keys cycle through 600 values so the records spread over every partition (unkeyed records stick
  // to one partition per batch).
  return new ToolProcess('producer', VERIFIABLE_PRODUCER, [
    '--bootstrap-server', broker.bootstrap,
    '--topic', topic,
    '--max-messages', String(records),
    '--throughput', String(throughputPerSec),
    '--acks', '-1',
    '--repeating-keys', '600',
  ]);
}

interface ConsumerOptions {
  protocol: Protocol;
  /** A client-side assignor class of the classic protocol (default: the tool's). */
  assignmentStrategy?: string;
  instanceId?: string;
  sessionTimeoutMs?: number;
  maxMessages?: number;
}

function startConsumer(label: string, topic: string, group: string, opts: ConsumerOptions): Consumer {
  const args = ['--bootstrap-server', broker.bootstrap, '--topic', topic, '--group-id', group, '--group-protocol', opts.protocol, '--reset-policy', 'earliest'];
  if (opts.protocol === 'classic') {
    // The session timeout is the member's own choice only in the classic protocol; the heartbeat
    // interval must stay below it.
    args.push('--session-timeout', String(opts.sessionTimeoutMs ?? CLASSIC_SESSION_MS));
    args.push('--consumer.config', writeProperties(`classic-${label}.properties`, { 'heartbeat.interval.ms': HEARTBEAT_MS }));
  }
  if (opts.assignmentStrategy !== undefined) args.push('--assignment-strategy', opts.assignmentStrategy);
  if (opts.instanceId !== undefined) args.push('--group-instance-id', opts.instanceId);
  if (opts.maxMessages !== undefined) args.push('--max-messages', String(opts.maxMessages));
  return new Consumer(new ToolProcess(label, VERIFIABLE_CONSUMER, args));
}

/** A VerifiableConsumer and what its events say. */
class Consumer {
  constructor(readonly tool: ToolProcess) {}

  get label(): string {
    return this.tool.label;
  }

  /**
   * The partitions it owns now. Revocations and assignments are replayed in order: the classic
   * (eager) protocol revokes everything and assigns the whole new set, the consumer protocol
   * revokes and assigns increments; both replay to the current set.
   */
  assignment(upTo = this.tool.events.length): Set<number> {
    const owned = new Set<number>();
    for (const e of this.tool.events.slice(0, upTo)) {
      if (e.name === 'partitions_revoked') for (const p of partitionsOf(e)) owned.delete(p);
      if (e.name === 'partitions_assigned') for (const p of partitionsOf(e)) owned.add(p);
    }
    return owned;
  }

  /** Number of assignment changes (revoked or assigned events) seen so far. */
  rebalanceEvents(): number {
    return this.tool.events.filter((e) => e.name === 'partitions_revoked' || e.name === 'partitions_assigned').length;
  }

  /** The last successfully committed offset per partition. */
  lastCommits(): Map<number, number> {
    const last = new Map<number, number>();
    for (const e of this.tool.named('offsets_committed')) {
      if (e.success !== true) continue;
      for (const o of e.offsets as CommitData[]) last.set(o.partition, o.offset);
    }
    return last;
  }

  consumedCount(): number {
    return this.tool.named('records_consumed').reduce((n, e) => n + (e.count as number), 0);
  }

  /** Stops it (SIGTERM: a graceful close, as the tool's shutdown hook closes the consumer) and checks it said so. */
  async close(): Promise<void> {
    const code = await this.tool.stop('SIGTERM');
    expect(this.tool.named('shutdown_complete'), this.tool.describe()).toHaveLength(1);
    // A JVM ended by SIGTERM exits with 143 once its shutdown hooks ran.
    expect([0, 143], this.tool.describe()).toContain(code);
  }
}

interface CommitData {
  topic: string;
  partition: number;
  offset: number;
}
interface RecordSetSummary {
  topic: string;
  partition: number;
  count: number;
  minOffset: number;
  maxOffset: number;
}

function partitionsOf(e: Record<string, unknown>): number[] {
  return (e.partitions as { partition: number }[]).map((p) => p.partition);
}

/** Waits until the live consumers own all partitions, evenly (both assignors split 6 into equal shares), and none twice. */
async function waitBalanced(live: Consumer[], partitions: number, what: string): Promise<void> {
  const share = partitions / live.length;
  await waitUntil(
    `${what}: ${live.map((c) => c.label).join(', ')} own ${share} partitions each`,
    live.map((c) => c.tool),
    () => {
      const sets = live.map((c) => c.assignment());
      const union = new Set(sets.flatMap((s) => [...s]));
      return union.size === partitions && sets.every((s) => s.size === share);
    },
    WAIT_MS,
  );
}

/** Waits until the consumers' last commits reach `logEnd` on every partition. */
async function waitCommitted(consumers: Consumer[], logEnd: bigint[], what: string): Promise<void> {
  await waitUntil(
    `${what}: commits reach the log end ${logEnd.join(',')}`,
    consumers.map((c) => c.tool),
    () => logEnd.every((end, p) => lastCommitAcross(consumers, p) === Number(end)),
    WAIT_MS,
  );
}

/** The latest successful commit for a partition across consumers (by event time). */
function lastCommitAcross(consumers: Consumer[], partition: number): number | undefined {
  let best: { ts: number; offset: number } | undefined;
  for (const c of consumers) {
    for (const e of c.tool.named('offsets_committed')) {
      if (e.success !== true) continue;
      for (const o of e.offsets as CommitData[]) {
        if (o.partition === partition && (best === undefined || e.timestamp >= best.ts)) best = { ts: e.timestamp, offset: o.offset };
      }
    }
  }
  return best?.offset;
}

/** The producer's acknowledged offsets per partition; fails on any send error. */
function ackedOffsets(producer: ToolProcess, partitions: number): number[][] {
  expect(producer.named('producer_send_error'), producer.describe()).toEqual([]);
  const acked: number[][] = range(partitions).map(() => []);
  for (const e of producer.named('producer_send_success')) acked[e.partition as number]!.push(e.offset as number);
  return acked;
}

/**
 * The delivery checks of a run: every acknowledged record was consumed (the consumers' offset
 * ranges cover it), a consumer read only partitions it owned at that moment, committed offsets
 * never went backwards per partition (per consumer in event order, and across consumers in time
 * order), and the last commit of every partition equals its log end. Returns the problems found.
 */
function deliveryProblems(acked: number[][], consumers: Consumer[], logEnd: bigint[]): string[] {
  const problems: string[] = [];
  const partitions = acked.length;
  const seen = range(partitions).map((p) => new Uint8Array(Number(logEnd[p])));
  for (const c of consumers) {
    const owned = new Set<number>();
    for (const e of c.tool.events) {
      if (e.name === 'partitions_revoked') for (const p of partitionsOf(e)) owned.delete(p);
      if (e.name === 'partitions_assigned') for (const p of partitionsOf(e)) owned.add(p);
      if (e.name !== 'records_consumed') continue;
      for (const s of e.partitions as RecordSetSummary[]) {
        if (!owned.has(s.partition)) problems.push(`${c.label} consumed ${s.partition}@${s.minOffset}..${s.maxOffset} without owning it (owned ${[...owned]})`);
        // A plain (non-transactional) topic has no gaps, so a batch of n records spans n offsets.
        if (s.maxOffset - s.minOffset + 1 !== s.count) problems.push(`${c.label}: ${s.count} records in ${s.partition}@${s.minOffset}..${s.maxOffset}`);
        for (let o = s.minOffset; o <= s.maxOffset && o < seen[s.partition]!.length; o++) seen[s.partition]![o] = 1;
      }
    }
  }
  for (let p = 0; p < partitions; p++) {
    const lost = acked[p]!.filter((o) => seen[p]![o] !== 1);
    if (lost.length > 0) problems.push(`partition ${p}: ${lost.length} acknowledged records never consumed, first ${lost.slice(0, 5)}`);
  }

  interface Commit {
    ts: number;
    label: string;
    partition: number;
    offset: number;
  }
  const all: Commit[] = [];
  for (const c of consumers) {
    const last = new Map<number, number>();
    for (const e of c.tool.named('offsets_committed')) {
      if (e.success !== true) continue; // a commit refused during a rebalance changes nothing
      for (const o of e.offsets as CommitData[]) {
        const prev = last.get(o.partition);
        if (prev !== undefined && o.offset < prev) problems.push(`${c.label} committed ${o.partition}@${o.offset} after ${prev}`);
        last.set(o.partition, o.offset);
        all.push({ ts: e.timestamp, label: c.label, partition: o.partition, offset: o.offset });
      }
    }
  }
  // Across processes the only order is the events' millisecond clock. A partition changes owner
  // only through a rebalance, which takes far longer than a millisecond, so commits of two owners
  // never share a timestamp; within one millisecond the order is left to the offsets.
  all.sort((a, b) => a.ts - b.ts || a.offset - b.offset);
  const high = new Map<number, Commit>();
  for (const c of all) {
    const prev = high.get(c.partition);
    if (prev !== undefined && c.offset < prev.offset) problems.push(`partition ${c.partition}: ${c.label} committed ${c.offset} at ${c.ts} after ${prev.label} committed ${prev.offset} at ${prev.ts}`);
    high.set(c.partition, c);
  }
  for (let p = 0; p < partitions; p++) {
    const final = high.get(p)?.offset;
    if (final !== Number(logEnd[p])) problems.push(`partition ${p}: last commit ${final}, log end ${logEnd[p]}`);
  }
  return problems;
}

/** The producer's acknowledged offsets must be exactly 0..end-1 per partition, end being the broker's log end. */
async function checkAckedAgainstLog(topic: string, acked: number[][], records: number): Promise<bigint[]> {
  const logEnd = await listOffsets(topic, acked.length, -1n);
  expect(acked.reduce((n, a) => n + a.length, 0)).toBe(records);
  for (let p = 0; p < acked.length; p++) {
    const sorted = [...acked[p]!].sort((a, b) => a - b);
    expect(sorted, `acknowledged offsets of partition ${p}`).toEqual(range(Number(logEnd[p])));
  }
  return logEnd;
}

describe.skipIf(missing !== null && allowMissing)('VerifiableProducer and VerifiableConsumer through membership changes', () => {
  it('Kafka 4.1.1 and java are installed', () => {
    expect(missing).toBeNull();
  });

  const churnVariants = [
    { name: 'classic', protocol: 'classic' },
    { name: 'consumer', protocol: 'consumer' },
    // Incremental cooperative rebalancing: members give up only the partitions that move.
    { name: 'cooperative', protocol: 'classic', assignmentStrategy: 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor' },
  ] as const;
  for (const variant of churnVariants) {
    const { protocol } = variant;
    const assignmentStrategy = 'assignmentStrategy' in variant ? variant.assignmentStrategy : undefined;
    it(`${variant.name}: two consumers, a third joins, one leaves, one is killed; every acknowledged record is consumed, commits never go backwards and reach the log end`, async () => {
      const topic = `churn-${variant.name}`;
      const group = `churn-${variant.name}-group`;
      const PARTITIONS = 6;
      // At most 60,000 records at 2,000 a second: the producer outlasts the membership changes
      // below, and is stopped (gracefully: it flushes and reports) once they are over.
      const MAX_RECORDS = 60_000;
      await createTopic(topic, PARTITIONS);

      const c1 = startConsumer('c1', topic, group, { protocol, assignmentStrategy });
      const c2 = startConsumer('c2', topic, group, { protocol, assignmentStrategy });
      await waitBalanced([c1, c2], PARTITIONS, 'two consumers');

      const producer = startProducer(topic, MAX_RECORDS, 2_000);
      const ackedSoFar = () => producer.named('producer_send_success').length;
      await waitUntil('both consumers consumed records', [producer, c1.tool, c2.tool], () => c1.consumedCount() > 0 && c2.consumedCount() > 0, WAIT_MS);

      const c1Before = c1.assignment();
      const c1EventsBefore = c1.tool.events.length;
      const c3 = startConsumer('c3', topic, group, { protocol, assignmentStrategy });
      await waitBalanced([c1, c2, c3], PARTITIONS, 'a third consumer joined');
      if (variant.name === 'cooperative') {
        // c1 kept some of its partitions and never gave those up on the way.
        const kept = [...c1.assignment()].filter((p) => c1Before.has(p));
        expect(kept.length, c1.tool.describe()).toBeGreaterThan(0);
        const revoked = c1.tool.events.slice(c1EventsBefore).filter((e) => e.name === 'partitions_revoked').flatMap((e) => partitionsOf(e));
        expect(revoked.filter((p) => kept.includes(p)), c1.tool.describe()).toEqual([]);
      }

      await c1.close();
      await waitBalanced([c2, c3], PARTITIONS, 'c1 left');

      // A killed member sends nothing more: its partitions move once its session expires.
      await c2.tool.stop('SIGKILL');
      await waitBalanced([c3], PARTITIONS, 'c2 killed and expired');

      // Some more records for the last consumer alone, then the producer stops.
      const ackedAtLastRebalance = ackedSoFar();
      await producer.waitFor('1,000 more records acknowledged', () => ackedSoFar() >= Math.min(ackedAtLastRebalance + 1_000, MAX_RECORDS), WAIT_MS);
      expect([0, 143], producer.describe()).toContain(await producer.stop('SIGTERM'));
      const records = ackedSoFar();
      expect(producer.named('tool_data')[0], producer.describe()).toMatchObject({ sent: records, acked: records });
      const acked = ackedOffsets(producer, PARTITIONS);
      const logEnd = await checkAckedAgainstLog(topic, acked, records);

      const all = [c1, c2, c3];
      await waitCommitted(all, logEnd, 'c3 caught up');
      await c3.close();
      expect(deliveryProblems(acked, all, logEnd)).toEqual([]);
      // The broker agrees with what the consumers say they committed.
      expect(await committedOffsets(group, topic, PARTITIONS)).toEqual(logEnd);
      // Every consumer took part: each consumed records and committed offsets of its own.
      for (const c of all) {
        expect(c.consumedCount(), c.tool.describe()).toBeGreaterThan(0);
        expect(c.lastCommits().size, c.tool.describe()).toBeGreaterThan(0);
      }
    }, 240_000);
  }

  for (const protocol of ['classic', 'consumer'] as const) {
    it(`${protocol} protocol, static membership: a restarted static member gets its partitions back and the others keep theirs`, async () => {
      const topic = `static-${protocol}`;
      const group = `static-${protocol}-group`;
      const PARTITIONS = 6;
      const RECORDS = 3_000;
      await createTopic(topic, PARTITIONS);
      const sessionTimeoutMs = CLASSIC_STATIC_SESSION_MS;

      // Two static members and a dynamic one.
      const s1 = startConsumer('s1', topic, group, { protocol, instanceId: 'instance-1', sessionTimeoutMs });
      const s2 = startConsumer('s2', topic, group, { protocol, instanceId: 'instance-2', sessionTimeoutMs });
      const d = startConsumer('d', topic, group, { protocol, sessionTimeoutMs });
      await waitBalanced([s1, s2, d], PARTITIONS, 'three members');

      const firstProducer = startProducer(topic, RECORDS, -1);
      expect(await firstProducer.exited, firstProducer.describe()).toBe(0);
      const firstAcked = ackedOffsets(firstProducer, PARTITIONS);
      const firstEnd = await checkAckedAgainstLog(topic, firstAcked, RECORDS);
      await waitCommitted([s1, s2, d], firstEnd, 'first records consumed');

      const before = { s1: s1.assignment(), s2: s2.assignment(), d: d.assignment() };
      const eventsBefore = { s2: s2.rebalanceEvents(), d: d.rebalanceEvents() };
      const s1Commits = s1.lastCommits();

      // A static member's close keeps its place in the group (classic: no LeaveGroup; consumer
      // protocol: a leave with member epoch -2) until its session expires.
      await s1.close();
      const s1again = startConsumer('s1-restarted', topic, group, { protocol, instanceId: 'instance-1', sessionTimeoutMs });
      await s1again.tool.waitFor('the restarted member is assigned partitions', () => s1again.assignment().size > 0, WAIT_MS);
      expect(s1again.assignment(), s1again.tool.describe()).toEqual(before.s1);
      // Its first assignment was the whole old set at once, not built up over several rebalances.
      expect(partitionsOf(s1again.tool.named('partitions_assigned')[0]!).sort()).toEqual([...before.s1].sort());

      const secondProducer = startProducer(topic, RECORDS, -1);
      expect(await secondProducer.exited, secondProducer.describe()).toBe(0);
      const secondAcked = ackedOffsets(secondProducer, PARTITIONS);
      const logEnd = await listOffsets(topic, PARTITIONS, -1n);
      expect(logEnd.reduce((a, b) => a + b, 0n)).toBe(BigInt(2 * RECORDS));
      const all = [s1, s2, d, s1again];
      await waitCommitted(all, logEnd, 'second records consumed');

      // The others saw no rebalance at all, and own what they owned.
      expect(s2.rebalanceEvents(), s2.tool.describe()).toBe(eventsBefore.s2);
      expect(d.rebalanceEvents(), d.tool.describe()).toBe(eventsBefore.d);
      expect(s2.assignment()).toEqual(before.s2);
      expect(d.assignment()).toEqual(before.d);
      // The restarted member resumed where its previous incarnation committed.
      for (const e of s1again.tool.named('records_consumed')) {
        for (const s of e.partitions as RecordSetSummary[]) {
          if (!s1Commits.has(s.partition)) continue;
          expect(s.minOffset, `first read of ${s.partition} after the restart`).toBe(s1Commits.get(s.partition));
          s1Commits.delete(s.partition);
        }
      }

      const acked = range(PARTITIONS).map((p) => [...firstAcked[p]!, ...secondAcked[p]!]);
      for (const c of [s2, d, s1again]) await c.close();
      expect(deliveryProblems(acked, all, logEnd)).toEqual([]);
      expect(await committedOffsets(group, topic, PARTITIONS)).toEqual(logEnd);
    }, 180_000);
  }
});

// ---------------------------------------------------------------------------------------------
// ConsumerGroupCommand.

async function groupCommand(...args: string[]): Promise<{ stdout: string; stderr: string; tables: Record<string, string>[][] }> {
  const run = await runTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', broker.bootstrap, ...args]);
  expect(run.code, `ConsumerGroupCommand ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`).toBe(0);
  return { stdout: run.stdout, stderr: run.stderr, tables: parseTables(run.stdout) };
}

/** The single table of a command's output. */
async function groupTable(...args: string[]): Promise<Record<string, string>[]> {
  const { tables, stdout, stderr } = await groupCommand(...args);
  expect(tables, `${args.join(' ')}:\n${stdout}\n${stderr}`).toHaveLength(1);
  return tables[0]!;
}

/** The rows of every table a command printed (one table per group with `--group a --group b`), by group. */
async function rowsByGroup(...args: string[]): Promise<Map<string, Record<string, string>[]>> {
  const { tables } = await groupCommand(...args);
  const out = new Map<string, Record<string, string>[]>();
  for (const row of tables.flat()) out.set(row.GROUP!, [...(out.get(row.GROUP!) ?? []), row]);
  return out;
}

async function listGroups(): Promise<string[]> {
  const { stdout } = await groupCommand('--list');
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** Polls `--describe --state` until every group is in `state` (each run of the tool takes a second or two). */
async function waitGroupsState(groups: string[], state: string): Promise<Map<string, Record<string, string>>> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const rows = await rowsByGroup('--describe', '--state', ...groups.flatMap((g) => ['--group', g]));
    if (groups.every((g) => rows.get(g)?.[0]?.STATE === state)) return new Map(groups.map((g) => [g, rows.get(g)![0]!]));
    if (Date.now() > deadline) throw new Error(`groups are ${JSON.stringify([...rows])}, not all ${state}`);
  }
}

describe.skipIf(missing !== null && allowMissing)('ConsumerGroupCommand', () => {
  it('--list, --describe lag, --reset-offsets --to-earliest and --delete of an inactive group', async () => {
    const topic = 'cgc-offsets';
    const group = 'cgc-offsets-group';
    const PARTITIONS = 3;
    const RECORDS = 3_000;
    const CONSUMED = 1_234;
    await createTopic(topic, PARTITIONS);
    const producer = startProducer(topic, RECORDS, -1);
    expect(await producer.exited, producer.describe()).toBe(0);
    const logEnd = await checkAckedAgainstLog(topic, ackedOffsets(producer, PARTITIONS), RECORDS);

    // The consumer stops after exactly CONSUMED records, committing after every poll, and leaves.
    const consumer = startConsumer('partial', topic, group, { protocol: 'classic', maxMessages: CONSUMED });
    expect(await consumer.tool.exited, consumer.tool.describe()).toBe(0);
    const commits = consumer.lastCommits();
    expect([...commits.values()].reduce((a, b) => a + b, 0), consumer.tool.describe()).toBe(CONSUMED);

    expect(await listGroups()).toContain(group);

    // Only partitions with a committed offset are listed for a group without members.
    const described = await groupTable('--describe', '--group', group);
    expect(described.map((r) => Number(r.PARTITION)).sort()).toEqual([...commits.keys()].sort());
    let lagOfListed = 0;
    for (const row of described) {
      const p = Number(row.PARTITION);
      const current = commits.get(p)!;
      expect(row, `partition ${p}`).toMatchObject({
        GROUP: group,
        TOPIC: topic,
        'CURRENT-OFFSET': String(current),
        'LOG-END-OFFSET': String(logEnd[p]),
        LAG: String(Number(logEnd[p]) - current),
        'CONSUMER-ID': '-',
      });
      lagOfListed += Number(row.LAG);
    }
    // Exactly: what was produced minus what was consumed, counting unlisted partitions in full.
    const unlisted = range(PARTITIONS).filter((p) => !commits.has(p)).reduce((n, p) => n + Number(logEnd[p]), 0);
    expect(lagOfListed + unlisted).toBe(RECORDS - CONSUMED);

    // Move partition 0's log start, so that "earliest" is not simply 0 there.
    const deleted = await wire.send(ApiKey.DeleteRecords, 2, {
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 100n }] }],
      timeoutMs: 10_000,
    });
    expect(deleted.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 100n });
    const logStart = await listOffsets(topic, PARTITIONS, -2n);
    expect(logStart).toEqual([100n, 0n, 0n]);

    const reset = await groupTable('--reset-offsets', '--to-earliest', '--execute', '--group', group, '--topic', topic);
    expect(reset.map((r) => [Number(r.PARTITION), r['NEW-OFFSET']]).sort()).toEqual(range(PARTITIONS).map((p) => [p, String(logStart[p])]));
    expect(await committedOffsets(group, topic, PARTITIONS)).toEqual(logStart);
    const afterReset = await groupTable('--describe', '--group', group);
    expect(afterReset.map((r) => [Number(r.PARTITION), r['CURRENT-OFFSET'], r.LAG]).sort()).toEqual(
      range(PARTITIONS).map((p) => [p, String(logStart[p]), String(logEnd[p]! - logStart[p]!)]),
    );

    const { stdout: deleteOut } = await groupCommand('--delete', '--group', group);
    expect(deleteOut).toContain(`Deletion of requested consumer groups ('${group}') was successful.`);
    expect(await listGroups()).not.toContain(group);
    expect(await committedOffsets(group, topic, PARTITIONS)).toEqual([-1n, -1n, -1n]);
  }, 180_000);

  it('--describe --members and --state (plain and --verbose) for live classic and consumer-protocol groups; --reset-offsets and --delete refuse them', async () => {
    const topic = 'cgc-live';
    const PARTITIONS = 3;
    await createTopic(topic, PARTITIONS);
    const producer = startProducer(topic, 300, -1);
    expect(await producer.exited, producer.describe()).toBe(0);
    const logEnd = await listOffsets(topic, PARTITIONS, -1n);

    const groupOf: Record<Protocol, string> = { classic: 'cgc-live-classic', consumer: 'cgc-live-consumer' };
    const protocols = ['classic', 'consumer'] as const;
    const groups = protocols.map((p) => groupOf[p]);
    const groupArgs = groups.flatMap((g) => ['--group', g]);
    const members: Record<Protocol, Consumer[]> = {
      classic: [startConsumer('classic-a', topic, groupOf.classic, { protocol: 'classic' }), startConsumer('classic-b', topic, groupOf.classic, { protocol: 'classic' })],
      consumer: [startConsumer('consumer-a', topic, groupOf.consumer, { protocol: 'consumer' }), startConsumer('consumer-b', topic, groupOf.consumer, { protocol: 'consumer' })],
    };
    for (const protocol of protocols) {
      const ms = members[protocol];
      await waitUntil(
        `${protocol}: two members split ${PARTITIONS} partitions`,
        ms.map((c) => c.tool),
        () => {
          const sets = ms.map((c) => c.assignment());
          return sets.every((s) => s.size > 0) && new Set(sets.flatMap((s) => [...s])).size === PARTITIONS && sets[0]!.size + sets[1]!.size === PARTITIONS;
        },
        WAIT_MS,
      );
      await waitCommitted(ms, logEnd, `${protocol} group consumed everything`);
    }

    // The consumer protocol reports Reconciling until every member acknowledged its assignment.
    const states = await waitGroupsState(groups, 'Stable');
    const verboseStates = await rowsByGroup('--describe', '--state', '--verbose', ...groupArgs);
    const memberRows = await rowsByGroup('--describe', '--members', ...groupArgs);
    const verboseMembers = await rowsByGroup('--describe', '--members', '--verbose', ...groupArgs);
    const offsets = await rowsByGroup('--describe', ...groupArgs);
    const listed = Object.fromEntries((await groupTable('--list', '--type', '--state')).map((r) => [r.GROUP, r]));

    for (const protocol of protocols) {
      const group = groupOf[protocol];
      const assignments = members[protocol].map((c) => [...c.assignment()].sort());
      expect(listed[group], protocol).toMatchObject({ TYPE: protocol === 'classic' ? 'Classic' : 'Consumer', STATE: 'Stable' });

      const state = { GROUP: group, COORDINATOR: `${broker.bootstrap}(1)`, 'ASSIGNMENT-STRATEGY': protocol === 'classic' ? 'range' : 'uniform', STATE: 'Stable', '#MEMBERS': '2' };
      expect(states.get(group)).toEqual(state);
      const verboseState = verboseStates.get(group)?.[0];
      expect(verboseState).toMatchObject(state);
      if (protocol === 'consumer') {
        // Stable: the members reached the target assignment, whose epoch is the group's.
        expect(Number(verboseState!['GROUP-EPOCH'])).toBeGreaterThanOrEqual(1);
        expect(verboseState!['TARGET-ASSIGNMENT-EPOCH']).toBe(verboseState!['GROUP-EPOCH']);
      } else {
        expect(verboseState).toMatchObject({ 'GROUP-EPOCH': '-', 'TARGET-ASSIGNMENT-EPOCH': '-' });
      }

      const rows = memberRows.get(group) ?? [];
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row).toMatchObject({ HOST: '/127.0.0.1', 'CLIENT-ID': `consumer-${group}-1` });
        expect(row['CONSUMER-ID']).not.toBe('-');
      }
      expect(rows.map((r) => Number(r['#PARTITIONS'])).sort()).toEqual(assignments.map((a) => a.length).sort());

      const verbose = verboseMembers.get(group) ?? [];
      expect(verbose.map((r) => r['CONSUMER-ID']).sort()).toEqual(rows.map((r) => r['CONSUMER-ID']).sort());
      expect(verbose.map((r) => assignmentPartitions(topic, r['CURRENT-ASSIGNMENT']!)).sort()).toEqual([...assignments].sort());
      for (const row of verbose) {
        if (protocol === 'consumer') {
          // Reconciled: each member is at the target epoch, holding its target assignment.
          expect(row['TARGET-ASSIGNMENT']).toBe(row['CURRENT-ASSIGNMENT']);
          expect(row['CURRENT-EPOCH']).toBe(row['TARGET-EPOCH']);
          expect(Number(row['CURRENT-EPOCH'])).toBeGreaterThanOrEqual(1);
        } else {
          expect(row).toMatchObject({ 'CURRENT-EPOCH': '-', 'TARGET-EPOCH': '-', 'TARGET-ASSIGNMENT': '-' });
        }
      }

      // Offsets next to their owners: every partition, committed up to the log end, no lag, and
      // owned by the member whose --verbose assignment holds it.
      const ownerOf = new Map<number, string>();
      for (const r of verbose) for (const p of assignmentPartitions(topic, r['CURRENT-ASSIGNMENT']!)) ownerOf.set(p, r['CONSUMER-ID']!);
      const described = offsets.get(group) ?? [];
      expect(described.map((r) => Number(r.PARTITION)).sort()).toEqual(range(PARTITIONS));
      for (const row of described) {
        const p = Number(row.PARTITION);
        expect(row).toMatchObject({ 'CURRENT-OFFSET': String(logEnd[p]), 'LOG-END-OFFSET': String(logEnd[p]), LAG: '0', HOST: '/127.0.0.1', 'CONSUMER-ID': ownerOf.get(p) });
      }
    }

    // A group with members can be neither reset nor deleted.
    const reset = await runTool(CONSUMER_GROUP_COMMAND, ['--bootstrap-server', broker.bootstrap, '--reset-offsets', '--to-earliest', '--execute', '--topic', topic, ...groupArgs]);
    const deleted = await groupCommand('--delete', ...groupArgs);
    for (const group of groups) {
      expect(reset.stdout + reset.stderr).toContain(`Assignments can only be reset if the group '${group}' is inactive, but the current state is Stable.`);
      expect(await committedOffsets(group, topic, PARTITIONS)).toEqual(logEnd);
      expect(deleted.stdout + deleted.stderr).toMatch(new RegExp(`Group '${group}' could not be deleted due to: .*GroupNotEmptyException: The group is not empty`));
    }
    expect(await listGroups()).toEqual(expect.arrayContaining(groups));

    // Once the members leave, both groups are Empty and can be deleted.
    for (const c of [...members.classic, ...members.consumer]) await c.close();
    for (const row of (await waitGroupsState(groups, 'Empty')).values()) expect(row['#MEMBERS']).toBe('0');
    const { stdout } = await groupCommand('--delete', ...groupArgs);
    const success = /Deletion of requested consumer groups \((.*)\) was successful\./.exec(stdout);
    expect(success?.[1]?.split(', ').sort(), stdout).toEqual(groups.map((g) => `'${g}'`).sort());
    const left = await listGroups();
    for (const group of groups) expect(left).not.toContain(group);
  }, 240_000);
});

/** "topic:0,2" (the --verbose assignment column) as sorted partition numbers; "-" is none. */
function assignmentPartitions(topic: string, cell: string): number[] {
  if (cell === '-') return [];
  expect(cell.startsWith(`${topic}:`), cell).toBe(true);
  return cell.slice(topic.length + 1).split(',').map(Number).sort();
}
