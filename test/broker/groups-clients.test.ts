// One consumer group, three real clients: the Apache Kafka Java client 4.1.1 (classic protocol,
// its default assignors), confluent-kafka-python (librdkafka 2.0.2, its default assignors) and
// KafkaJS 2.2.4 (a range assignor of the driver's), each a long-running process in its driver's
// group-consume mode. The three agree on the one protocol they all offer, "range".
//
// In order, on one broker:
//   1. the members share the six partitions of one topic with no overlap and none unassigned, by
//      their own account, by DescribeGroups at the wire and by Kafka's ConsumerGroupCommand;
//   2. records produced while they run are each consumed exactly once, by the partition's owner;
//   3. one member is SIGKILLed (no LeaveGroup): once its session runs out the other two own all six
//      partitions, and records produced afterwards are consumed;
//   4. the members leave, committed offsets are the log end; after a broker restart OffsetFetch
//      answers the same offsets, and members restarting in the group resume exactly from them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as G from '../../broker/protocol/generated/index.js';
import { ApiKey } from '../../broker/protocol/generated/index.js';
import { decodeConsumerProtocolAssignment } from '../../broker/protocol/generated/consumer-protocol-assignment.js';
import { ErrorCode } from '../../broker/protocol/error-codes.js';
import { Reader } from '../../broker/protocol/primitives.js';
import { type AcceptanceClient, acceptanceRecords, peersAvailable, produce, type ProduceReport } from '../acceptance/clients/index.js';
import { GROUP_CLIENTS, type GroupClient, type GroupMember, startGroupMember } from '../acceptance/clients/group-member.js';
import { KAFKA_TOOLS_LOG4J_CONFIG, kafkaToolsClasspath } from '../acceptance/clients/paths.js';
import { runBounded } from '../golden/clients/run.js';
import { type BrokerProcess, newDataDir, startBroker } from './harness.js';
import { WireClient } from './wire-client.js';

const TOPIC = 'groups-clients';
const GROUP = 'groups-clients-group';
const PARTITIONS = 6;
const ALL_PARTITIONS = [0, 1, 2, 3, 4, 5];
/** Short sessions so a killed member is noticed soon; the broker's minimum is lowered to allow them. */
const SESSION_TIMEOUT_MS = 6_000;
const HEARTBEAT_INTERVAL_MS = 1_000;
const OVERRIDES = [
  'group.initial.rebalance.delay.ms=0',
  'group.min.session.timeout.ms=1000',
  'offsets.topic.num.partitions=5',
];
/** Bounds on waiting: generous, since the three clients and the broker share two cores. */
const SETTLE_TIMEOUT_MS = 90_000;
const CONSUME_TIMEOUT_MS = 90_000;
const CLIENT_TIMEOUT_MS = 120_000;
/** Each step waits on several of the bounds above. */
const TEST_TIMEOUT_MS = 300_000;
/** No member outlives the file. */
const MEMBER_LIFETIME_MS = 900_000;
const PRODUCER: AcceptanceClient = 'java';
const BATCH_CODECS = ['lz4', 'zstd', 'snappy', 'gzip'] as const;

const CLIENT_IDS: Record<GroupClient, string> = {
  java: 'strata-group-java',
  'confluent-kafka-python': 'strata-group-python',
  kafkajs: 'strata-group-kafkajs',
};

const peers = peersAvailable();
// 'console' stands for Kafka's tools (kafka-tools 4.1.1), ConsumerGroupCommand among them.
const missing = [...GROUP_CLIENTS, PRODUCER, 'console' as const].filter((c) => !peers[c]);
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

let broker: BrokerProcess;
let wire: WireClient;
const dataDir = newDataDir();
let members: GroupMember[] = [];
/** Every record produced so far, keyed "partition/offset", with its expected key and value. */
const produced = new Map<string, { keyHex: string; valueHex: string }>();
let batches = 0;
const key = (p: number, o: number) => `${p}/${o}`;

function startMember(client: GroupClient): GroupMember {
  const m = startGroupMember(client, broker.bootstrap, TOPIC, GROUP, {
    clientId: CLIENT_IDS[client],
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    lifetimeMs: MEMBER_LIFETIME_MS,
  });
  members.push(m);
  return m;
}

function describeMembers(ms: GroupMember[]): string {
  return ms.map((m) => m.describe()).join('\n');
}

/** Polls `condition` until it holds; fails after timeoutMs with `explain()`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${explain()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface DescribedMember {
  memberId: string;
  clientId: string;
  partitions: number[];
}

/** DescribeGroups v5 at the wire, with each member's assignment decoded. */
async function describeGroup(): Promise<{ errorCode: number; state: string; protocolType: string; protocol: string; members: DescribedMember[] }> {
  const res = await wire.send(ApiKey.DescribeGroups, 5, { groups: [GROUP], includeAuthorizedOperations: false });
  const g = res.groups[0]!;
  return {
    errorCode: g.errorCode,
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    members: g.members.map((m) => {
      let partitions: number[] = [];
      if (m.memberAssignment.length > 0) {
        const r = new Reader(m.memberAssignment);
        r.int16(); // ConsumerProtocolAssignment version; its version-0 fields come first in every version
        const a = decodeConsumerProtocolAssignment(r, 0);
        partitions = a.assignedPartitions.filter((t) => t.topic === TOPIC).flatMap((t) => t.partitions);
      }
      return { memberId: m.memberId, clientId: m.clientId, partitions: partitions.sort((x, y) => x - y) };
    }),
  };
}

/**
 * The group is settled when the broker calls it Stable with exactly these members, and every
 * member reports the assignment the broker holds for it, and those assignments split the six
 * partitions with no overlap and none left out.
 */
async function settled(ms: GroupMember[]): Promise<boolean> {
  const own = ms.map((m) => m.assignment());
  if (own.some((a) => a === null)) return false;
  const all = own.flatMap((a) => a!).sort((x, y) => x - y);
  if (JSON.stringify(all) !== JSON.stringify(ALL_PARTITIONS)) return false;
  const d = await describeGroup();
  if (d.errorCode !== 0 || d.state !== 'Stable' || d.members.length !== ms.length) return false;
  return ms.every((m, i) => {
    const dm = d.members.filter((x) => x.clientId === m.clientId);
    return dm.length === 1 && JSON.stringify(dm[0]!.partitions) === JSON.stringify(own[i]);
  });
}

async function waitSettled(ms: GroupMember[]): Promise<void> {
  let last = '';
  await until(
    async () => {
      for (const m of ms) if (!m.running) throw new Error(`member died:\n${m.describe()}`);
      const ok = await settled(ms);
      if (!ok) last = JSON.stringify(await describeGroup());
      return ok;
    },
    SETTLE_TIMEOUT_MS,
    () => `group not settled; broker says ${last}\n${describeMembers(ms)}`,
  );
}

/**
 * Kafka's ConsumerGroupCommand --describe --members --verbose: each member's client id, member id
 * and partitions of TOPIC, read from the table by its column headers.
 */
async function toolMembers(): Promise<{ clientId: string; memberId: string; partitions: number[] }[]> {
  const run = await runBounded(
    'java',
    [
      '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx256m',
      `-Dlog4j2.configurationFile=file:${KAFKA_TOOLS_LOG4J_CONFIG}`,
      '-cp', kafkaToolsClasspath(),
      'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
      '--bootstrap-server', broker.bootstrap, '--describe', '--group', GROUP, '--members', '--verbose',
    ],
    { timeoutMs: CLIENT_TIMEOUT_MS },
  );
  expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
  const lines = run.stdout.split('\n').filter((l) => l.trim());
  const header = lines.findIndex((l) => l.startsWith('GROUP '));
  expect(header, run.stdout).toBeGreaterThanOrEqual(0);
  const cols = lines[header]!.trim().split(/\s+/);
  const at = (name: string) => {
    const i = cols.indexOf(name);
    expect(i, `column ${name} in ${lines[header]}`).toBeGreaterThanOrEqual(0);
    return i;
  };
  const [clientCol, memberCol, assignmentCol] = [at('CLIENT-ID'), at('CONSUMER-ID'), at('CURRENT-ASSIGNMENT')];
  return lines.slice(header + 1).map((l) => {
    const f = l.trim().split(/\s+/);
    // "topic:0,1" per topic; "-" when nothing is assigned. Anything else (another topic) is -1.
    const assignment = f[assignmentCol] ?? '-';
    const partitions = assignment === '-' ? [] : assignment.startsWith(`${TOPIC}:`) ? assignment.slice(TOPIC.length + 1).split(',').map(Number) : [-1];
    return { clientId: f[clientCol]!, memberId: f[memberCol]!, partitions: partitions.sort((a, b) => a - b) };
  });
}

/**
 * Produces `count` records with the Java producer and remembers where each landed. Each batch uses
 * another codec, which also makes its records differ from the other batches' (acceptanceRecords).
 */
async function produceBatch(count: number): Promise<ProduceReport> {
  const codec = BATCH_CODECS[batches++ % BATCH_CODECS.length]!;
  const report = await produce(PRODUCER, broker.bootstrap, TOPIC, codec, count, CLIENT_TIMEOUT_MS);
  expect(report.exitCode, report.stderr).toBe(0);
  expect(report.acked).toHaveLength(count);
  const records = acceptanceRecords(PRODUCER, codec, count);
  for (const a of report.acked) {
    const r = records[a.index]!;
    produced.set(key(a.partition, a.offset), { keyHex: r.key.toString('hex'), valueHex: r.value.toString('hex') });
  }
  return report;
}

async function logEndOffsets(): Promise<Map<number, bigint>> {
  const res = await wire.send(ApiKey.ListOffsets, 8, {
    ...G.defaultListOffsetsRequest(),
    replicaId: -1,
    topics: [{ name: TOPIC, partitions: ALL_PARTITIONS.map((p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n })) }],
  });
  return new Map(res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.offset]));
}

/** The group's committed offsets, by OffsetFetch v8 at the wire (retried while the coordinator loads). */
async function committedOffsets(): Promise<Map<number, bigint>> {
  for (let attempt = 0; ; attempt++) {
    const res = await wire.send(ApiKey.OffsetFetch, 8, {
      ...G.defaultOffsetFetchRequest(),
      groups: [{ groupId: GROUP, memberId: null, memberEpoch: -1, topics: null }],
      requireStable: false,
    });
    const g = res.groups[0]!;
    if (g.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && attempt < 400) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    expect(g.errorCode).toBe(0);
    const out = new Map<number, bigint>();
    for (const t of g.topics) {
      if (t.name !== TOPIC) continue;
      for (const p of t.partitions) {
        expect(p.errorCode).toBe(0);
        out.set(p.partitionIndex, p.committedOffset);
      }
    }
    return out;
  }
}

/** The last offset a member committed per partition, from its 'committed' lines. */
function lastCommits(m: GroupMember): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of m.events) if (e.event === 'committed') for (const [p, o] of e.offsets) out.set(p, o);
  return out;
}

function showOffsets(m: Map<number, bigint>): string {
  return [...m].sort(([a], [b]) => a - b).map(([p, o]) => `${p}=${o}`).join(',');
}

function sameOffsets(a: Map<number, bigint>, b: Map<number, bigint>): boolean {
  return showOffsets(a) === showOffsets(b);
}

/** Records of `report` that are not yet consumed by any of `ms`. */
function unconsumed(report: ProduceReport, ms: GroupMember[]): number {
  const seen = new Set(ms.flatMap((m) => m.records.map((r) => key(r.partition, r.offset))));
  return report.acked.filter((a) => !seen.has(key(a.partition, a.offset))).length;
}

/** Every consumed record must be one that was produced, byte for byte. */
function checkConsumedBytes(ms: GroupMember[]): void {
  for (const m of ms) {
    for (const r of m.records) {
      const want = produced.get(key(r.partition, r.offset));
      expect(want, `${m.clientId} consumed ${key(r.partition, r.offset)}, which was never produced`).toBeDefined();
      expect(r.keyHex, `${m.clientId} ${key(r.partition, r.offset)} key`).toBe(want!.keyHex);
      expect(r.valueHex, `${m.clientId} ${key(r.partition, r.offset)} value`).toBe(want!.valueHex);
    }
  }
}

beforeAll(async () => {
  broker = await startBroker({ dataDir, overrides: OVERRIDES });
  wire = await WireClient.connect(broker.port);
});

afterAll(async () => {
  await Promise.all(members.map((m) => m.kill()));
  wire?.close();
  await broker?.stop('SIGTERM');
});

describe('one consumer group, three real clients', () => {
  it("the Java client, confluent-kafka-python, KafkaJS and Kafka's tools are installed (npm test installs them)", () => {
    if (allowMissing) return;
    expect(missing.map((c) => `${c}: ${peers.problems[c]}`)).toEqual([]);
  });

  describe.skipIf(missing.length > 0)('with every client installed', () => {
    let java: GroupMember;
    let python: GroupMember;
    let kafkajs: GroupMember;

    it('three members share the six partitions: no overlap, none unassigned, as DescribeGroups and ConsumerGroupCommand say', async () => {
      const created = await wire.send(ApiKey.CreateTopics, 7, {
        ...G.defaultCreateTopicsRequest(),
        topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 10_000,
      });
      expect(created.topics[0]!.errorCode).toBe(0);
      java = startMember('java');
      python = startMember('confluent-kafka-python');
      kafkajs = startMember('kafkajs');
      const three = [java, python, kafkajs];
      await waitSettled(three);

      const d = await describeGroup();
      expect(d).toMatchObject({ errorCode: 0, state: 'Stable', protocolType: 'consumer', protocol: 'range' });
      expect(d.members.map((m) => m.clientId).sort()).toEqual(Object.values(CLIENT_IDS).sort());
      // Range over three members of six partitions: two each, contiguous.
      for (const m of three) {
        const a = m.assignment()!;
        expect(a, m.clientId).toHaveLength(2);
        expect(a[1]! - a[0]!, m.clientId).toBe(1);
      }
      // The member ids the clients know (librdkafka's binding does not say) are the broker's.
      for (const m of [java, kafkajs]) {
        expect(m.lastAssigned()!.memberId).toBe(d.members.find((x) => x.clientId === m.clientId)!.memberId);
      }
      expect(kafkajs.lastAssigned()!.protocol).toBe('range');

      // Kafka's own tool sees the same members with the same partitions.
      const tool = await toolMembers();
      expect(tool.map((m) => m.clientId).sort()).toEqual(Object.values(CLIENT_IDS).sort());
      for (const m of three) {
        const t = tool.find((x) => x.clientId === m.clientId)!;
        expect(t.partitions, m.clientId).toEqual(m.assignment());
        expect(t.memberId, m.clientId).toBe(d.members.find((x) => x.clientId === m.clientId)!.memberId);
      }
    }, TEST_TIMEOUT_MS);

    it('records produced while they run are each consumed exactly once, by the owner of their partition', async () => {
      const three = [java, python, kafkajs];
      const stableSince = three.map((m) => m.lastRebalanceSeq());
      const report = await produceBatch(3000);
      await until(
        async () => unconsumed(report, three) === 0,
        CONSUME_TIMEOUT_MS,
        () => `${unconsumed(report, three)} of ${report.acked.length} records not consumed\n${describeMembers(three)}`,
      );
      // The membership stayed as it was: no member saw a rebalance while consuming.
      expect(three.map((m) => m.lastRebalanceSeq())).toEqual(stableSince);

      const count = new Map<string, string[]>();
      for (const m of three) for (const r of m.records) count.set(key(r.partition, r.offset), [...(count.get(key(r.partition, r.offset)) ?? []), m.clientId]);
      const twice = [...count].filter(([, who]) => who.length > 1);
      expect(twice.slice(0, 10)).toEqual([]);
      expect(count.size).toBe(report.acked.length);
      for (const m of three) {
        const owned = new Set(m.assignment());
        const foreign = m.records.filter((r) => !owned.has(r.partition));
        expect(foreign.slice(0, 5), `${m.clientId} consumed partitions it does not own`).toEqual([]);
        expect(m.records.length, `${m.clientId} consumed nothing`).toBeGreaterThan(0);
      }
      checkConsumedBytes(three);

      // Each member commits after every batch: the group's offsets reach the log end.
      const end = await logEndOffsets();
      let committed = new Map<number, bigint>();
      await until(
        async () => sameOffsets((committed = await committedOffsets()), end),
        CONSUME_TIMEOUT_MS,
        () => `committed ${showOffsets(committed)}, log end ${showOffsets(end)}`,
      );
    }, TEST_TIMEOUT_MS);

    it('a member killed without leaving: the other two take its partitions once its session expires, and consume what follows', async () => {
      const before = python.assignment()!;
      expect(before.length).toBeGreaterThan(0);
      // What the group had committed when the member died (it was idle: everything it had
      // consumed was committed, as the previous step checked).
      const killedCommits = await committedOffsets();
      await python.waitFor(
        () => before.every((p) => lastCommits(python).get(p) === Number(killedCommits.get(p))),
        CONSUME_TIMEOUT_MS,
        `reporting the commits the broker holds for its partitions (${showOffsets(killedCommits)})`,
      );
      const two = [java, kafkajs];
      const seqAtKill = two.map((m) => m.lastRebalanceSeq());
      expect(await python.kill()).toBe('SIGKILL');
      await waitSettled(two);
      const d = await describeGroup();
      expect(d.members.map((m) => m.clientId).sort()).toEqual([CLIENT_IDS.java, CLIENT_IDS.kafkajs].sort());
      // The killed member's partitions moved to the survivors.
      const survivors = new Set([...java.assignment()!, ...kafkajs.assignment()!]);
      for (const p of before) expect(survivors.has(p), `partition ${p}`).toBe(true);
      expect(java.assignment()!.length + kafkajs.assignment()!.length).toBe(PARTITIONS);

      const stableSince = two.map((m) => m.lastRebalanceSeq());
      const report = await produceBatch(1000);
      await until(
        async () => unconsumed(report, two) === 0,
        CONSUME_TIMEOUT_MS,
        () => `${unconsumed(report, two)} of ${report.acked.length} records not consumed\n${describeMembers(two)}`,
      );
      expect(two.map((m) => m.lastRebalanceSeq())).toEqual(stableSince);
      // Records produced after the failure, consumed once each, by their partition's new owner.
      const fresh = new Set(report.acked.map((a) => key(a.partition, a.offset)));
      for (const m of two) {
        const owned = new Set(m.assignment());
        const mine = m.records.filter((r) => fresh.has(key(r.partition, r.offset)));
        expect(mine.filter((r) => !owned.has(r.partition)).slice(0, 5), m.clientId).toEqual([]);
      }
      const consumedFresh = two.flatMap((m) => m.records).filter((r) => fresh.has(key(r.partition, r.offset)));
      expect(consumedFresh).toHaveLength(report.acked.length);
      checkConsumedBytes(two);
      // The new owners went on from the killed member's commits: nothing below them was re-read, and
      // each moved partition was read from exactly there.
      for (const p of before) {
        const offsets = two.flatMap((m, i) => m.records.filter((r) => r.seq > seqAtKill[i]! && r.partition === p).map((r) => r.offset));
        expect(offsets.length, `partition ${p}`).toBeGreaterThan(0);
        expect(Math.min(...offsets), `first offset read in partition ${p} after the kill`).toBe(Number(killedCommits.get(p)));
      }
    }, TEST_TIMEOUT_MS);

    it('committed offsets survive a broker restart, and members restarting in the group resume from them', async () => {
      const two = [java, kafkajs];
      // Leave gracefully: each commits what it consumed, leaves the group and exits 0.
      const codes = await Promise.all(two.map((m) => m.stop(60_000)));
      expect(codes, describeMembers(two)).toEqual([0, 0]);
      for (const m of two) expect(m.events.at(-1)?.event, m.clientId).toBe('closed');
      await until(async () => (await describeGroup()).state === 'Empty', SETTLE_TIMEOUT_MS, () => 'the group did not become Empty');

      const end = await logEndOffsets();
      const before = await committedOffsets();
      expect(showOffsets(before)).toBe(showOffsets(end));

      wire.close();
      expect(await broker.stop('SIGTERM')).toBe(0);
      broker = await startBroker({ dataDir, overrides: OVERRIDES });
      wire = await WireClient.connect(broker.port);
      const after = await committedOffsets();
      expect(showOffsets(after)).toBe(showOffsets(before));
      expect(await describeGroup()).toMatchObject({ errorCode: 0, state: 'Empty', members: [] });

      // Records produced while the group is empty must be read from the committed offsets on:
      // the members would start from offset 0 (auto.offset.reset=earliest) if they were lost.
      const whileEmpty = await produceBatch(600);
      const again = GROUP_CLIENTS.map((c) => startMember(c));
      await until(
        async () => unconsumed(whileEmpty, again) === 0,
        CONSUME_TIMEOUT_MS,
        () => `${unconsumed(whileEmpty, again)} of ${whileEmpty.acked.length} records not consumed\n${describeMembers(again)}`,
      );
      await waitSettled(again);
      // Once settled, every member has fetched its partitions' committed offsets: records produced
      // now are consumed once each, by their partition's owner, whichever client that is.
      const stableSince = again.map((m) => m.lastRebalanceSeq());
      const whileStable = await produceBatch(300);
      await until(
        async () => unconsumed(whileStable, again) === 0,
        CONSUME_TIMEOUT_MS,
        () => `${unconsumed(whileStable, again)} of ${whileStable.acked.length} records not consumed\n${describeMembers(again)}`,
      );
      expect(again.map((m) => m.lastRebalanceSeq())).toEqual(stableSince);
      const fresh = new Set(whileStable.acked.map((a) => key(a.partition, a.offset)));
      for (const m of again) {
        const owned = new Set(m.assignment());
        const mine = m.records.filter((r) => fresh.has(key(r.partition, r.offset)));
        expect(mine.filter((r) => !owned.has(r.partition)).slice(0, 5), m.clientId).toEqual([]);
        expect(mine.length, `${m.clientId} consumed none of the records produced once the group was stable`).toBeGreaterThan(0);
      }
      expect(again.flatMap((m) => m.records).filter((r) => fresh.has(key(r.partition, r.offset)))).toHaveLength(whileStable.acked.length);
      // No member of the restarted group read anything below the offsets committed before the
      // restart, and each partition was read from exactly there.
      for (const p of ALL_PARTITIONS) {
        const offsets = again.flatMap((m) => m.records.filter((r) => r.partition === p).map((r) => r.offset));
        expect(offsets.length, `partition ${p}`).toBeGreaterThan(0);
        expect(Math.min(...offsets), `first offset consumed in partition ${p}`).toBe(Number(before.get(p)));
      }
      checkConsumedBytes(again);

      const codesAgain = await Promise.all(again.map((m) => m.stop(60_000)));
      expect(codesAgain, describeMembers(again)).toEqual([0, 0, 0]);
      const endAgain = await logEndOffsets();
      expect(showOffsets(await committedOffsets())).toBe(showOffsets(endAgain));
    }, TEST_TIMEOUT_MS);
  });
});
