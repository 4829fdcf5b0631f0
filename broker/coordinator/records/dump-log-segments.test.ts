/**
 * Kafka's own tool reads what Strata writes: a segment of __consumer_offsets records built with
 * Strata's codecs and batch builder is decoded by `kafka.tools.DumpLogSegments --offsets-decoder`
 * from the reference Kafka 4.1.1 jars, and every record comes back with the fields Strata wrote.
 *
 * The jars come from `bash hack/bench/install-kafka.sh` (cached under STRATA_PEERS_CACHE, default
 * ~/.cache/strata-peers/kafka-ref-4.1.1/lib). Set STRATA_ALLOW_MISSING_PEERS=1 to skip this test
 * when they (or java) are not installed instead of failing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Uuid } from '../../protocol/primitives.js';
import { CompressionCodec, setBaseOffset } from '../../protocol/records/index.js';
import { encodeRecord } from './codec.js';
import { buildCoordinatorBatch } from './log-io.js';
import type { CoordinatorRecord } from './types.js';

const CACHE = process.env.STRATA_PEERS_CACHE ?? path.join(os.homedir(), '.cache', 'strata-peers');
const LIB = path.join(CACHE, 'kafka-ref-4.1.1', 'lib');
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

function missingReason(): string | null {
  if (!existsSync(path.join(LIB, 'kafka_2.13-4.1.1.jar'))) return `Kafka 4.1.1 jars not found in ${LIB} (run: bash hack/bench/install-kafka.sh)`;
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'java is not on the PATH';
  }
  return null;
}
const missing = missingReason();

const T0 = 1_700_000_000_000;
const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw';
const records: CoordinatorRecord[] = [
  {
    type: 'offset-commit',
    key: { groupId: 'strata-group', topic: 'orders', partition: 7 },
    value: { offset: 12_345n, leaderEpoch: 3, metadata: 'hello', commitTimestampMs: BigInt(T0), expireTimestampMs: -1n, topicId: TOPIC_ID },
  },
  {
    type: 'offset-commit',
    key: { groupId: 'old-client', topic: 'orders', partition: 0 },
    value: { offset: 5n, leaderEpoch: -1, metadata: '', commitTimestampMs: BigInt(T0), expireTimestampMs: BigInt(T0 + 60_000), topicId: Uuid.ZERO },
  },
  {
    type: 'group-metadata',
    key: { groupId: 'strata-group' },
    value: {
      protocolType: 'consumer',
      generation: 2,
      protocol: 'range',
      leader: 'm-1',
      currentStateTimestampMs: BigInt(T0),
      members: [
        {
          memberId: 'm-1',
          groupInstanceId: 'static-1',
          clientId: 'client',
          clientHost: '/127.0.0.1',
          rebalanceTimeoutMs: 300_000,
          sessionTimeoutMs: 45_000,
          subscription: Buffer.from([1, 2, 3]),
          assignment: Buffer.from([4]),
        },
      ],
    },
  },
  { type: 'consumer-group-metadata', key: { groupId: 'cg' }, value: { epoch: 4, metadataHash: 77n } },
  {
    type: 'consumer-group-member-metadata',
    key: { groupId: 'cg', memberId: 'mem' },
    value: {
      instanceId: null,
      rackId: 'rack-a',
      clientId: 'cid',
      clientHost: '/10.0.0.1',
      subscribedTopicNames: ['orders'],
      subscribedTopicRegex: null,
      rebalanceTimeoutMs: 300_000,
      serverAssignor: 'uniform',
      classicMemberMetadata: null,
    },
  },
  { type: 'consumer-group-target-assignment-metadata', key: { groupId: 'cg' }, value: { assignmentEpoch: 4 } },
  {
    type: 'consumer-group-target-assignment-member',
    key: { groupId: 'cg', memberId: 'mem' },
    value: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }] },
  },
  {
    type: 'consumer-group-current-member-assignment',
    key: { groupId: 'cg', memberId: 'mem' },
    value: { memberEpoch: 4, previousMemberEpoch: 3, state: 0, assignedPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }], partitionsPendingRevocation: [] },
  },
  { type: 'consumer-group-regular-expression', key: { groupId: 'cg', regularExpression: 'ord.*' }, value: { topics: ['orders'], version: 9n, timestampMs: BigInt(T0) } },
  { type: 'consumer-group-partition-metadata', key: { groupId: 'cg' }, value: null },
  { type: 'offset-commit', key: { groupId: 'strata-group', topic: 'orders', partition: 7 }, value: null },
];

interface DumpedRecord {
  offset: number;
  key: { type: string; data: Record<string, unknown> };
  payload: { version: string; data: Record<string, unknown> } | '<DELETE>';
}

/** The `| offset: N ... key: {json} payload: {json}` lines DumpLogSegments prints per record. */
function parseDump(out: string): DumpedRecord[] {
  const recs: DumpedRecord[] = [];
  for (const line of out.split('\n')) {
    const m = /^\| offset: (\d+) .* key: (\{.*\}) payload: (.*)$/.exec(line);
    if (m === null) continue;
    const payload = m[3]!.trim();
    recs.push({ offset: Number(m[1]), key: JSON.parse(m[2]!), payload: payload === '<DELETE>' ? '<DELETE>' : JSON.parse(payload) });
  }
  return recs;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Kafka DumpLogSegments --offsets-decoder reads a segment Strata wrote', () => {
  it.skipIf(missing !== null && allowMissing)('names every group, topic, partition and offset', () => {
    if (missing !== null) throw new Error(`cannot run Kafka's DumpLogSegments: ${missing}`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-dump-'));
    dirs.push(dir);
    // Two batches, the second compressed, as a coordinator with offsets.topic.compression.codec set writes.
    const first = buildCoordinatorBatch(records.slice(0, 5).map(encodeRecord), { timestampMs: T0 });
    const second = buildCoordinatorBatch(records.slice(5).map(encodeRecord), { timestampMs: T0 + 1, compression: CompressionCodec.Zstd });
    setBaseOffset(second, 5n);
    const file = path.join(dir, '00000000000000000000.log');
    writeFileSync(file, Buffer.concat([first, second]));

    const run = spawnSync('java', ['-cp', `${LIB}/*`, 'kafka.tools.DumpLogSegments', '--offsets-decoder', '--files', file], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const diag = `exit=${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.status, diag).toBe(0);
    const dumped = parseDump(run.stdout);
    expect(dumped.map((d) => d.offset), diag).toEqual(records.map((_, i) => i));
    expect(run.stdout, diag).not.toMatch(/isvalid: false/);

    // Offset commits: Kafka's field names, Strata's values.
    expect(dumped[0]).toEqual({
      offset: 0,
      key: { type: '1', data: { group: 'strata-group', topic: 'orders', partition: 7 } },
      payload: { version: '4', data: { offset: 12345, leaderEpoch: 3, metadata: 'hello', commitTimestamp: T0, topicId: TOPIC_ID } },
    });
    expect(dumped[1]!.payload).toEqual({ version: '1', data: { offset: 5, metadata: '', commitTimestamp: T0, expireTimestamp: T0 + 60_000 } });
    expect(dumped[2]).toMatchObject({
      key: { type: '2', data: { group: 'strata-group' } },
      payload: {
        version: '3',
        data: {
          protocolType: 'consumer',
          generation: 2,
          protocol: 'range',
          leader: 'm-1',
          currentStateTimestamp: T0,
          members: [{ memberId: 'm-1', groupInstanceId: 'static-1', clientId: 'client', clientHost: '/127.0.0.1', rebalanceTimeout: 300000, sessionTimeout: 45000 }],
        },
      },
    });
    expect(dumped[3]).toMatchObject({ key: { type: '3', data: { groupId: 'cg' } }, payload: { version: '0', data: { epoch: 4, metadataHash: 77 } } });
    expect(dumped[4]).toMatchObject({
      key: { type: '5', data: { groupId: 'cg', memberId: 'mem' } },
      payload: {
        data: {
          instanceId: null,
          rackId: 'rack-a',
          subscribedTopicNames: ['orders'],
          rebalanceTimeoutMs: 300000,
          serverAssignor: 'uniform',
          classicMemberMetadata: null,
        },
      },
    });
    expect(dumped[5]).toMatchObject({ key: { type: '6' }, payload: { data: { assignmentEpoch: 4 } } });
    expect(dumped[6]).toMatchObject({ key: { type: '7' }, payload: { data: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }] } } });
    expect(dumped[7]).toMatchObject({
      key: { type: '8' },
      payload: { data: { memberEpoch: 4, previousMemberEpoch: 3, state: 0, assignedPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }], partitionsPendingRevocation: [] } },
    });
    expect(dumped[8]).toMatchObject({ key: { type: '16', data: { groupId: 'cg', regularExpression: 'ord.*' } }, payload: { data: { topics: ['orders'], version: 9 } } });
    // Tombstones.
    expect(dumped[9]).toEqual({ offset: 9, key: { type: '4', data: { groupId: 'cg' } }, payload: '<DELETE>' });
    expect(dumped[10]).toEqual({ offset: 10, key: { type: '1', data: { group: 'strata-group', topic: 'orders', partition: 7 } }, payload: '<DELETE>' });
  });
});
