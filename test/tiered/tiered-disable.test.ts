// Tiered storage disablement (KIP-950) end to end: a broker process against a real S3 server
// (versitygw), topic configs changed with Kafka's own ConfigCommand (kafka-configs), records read
// with kcat. One partition of a tiered topic with 1 MiB segments:
//   - turning remote.storage.enable off alone is refused (INVALID_CONFIG naming the key), and so is
//     remote.log.copy.disable=true while local.retention.bytes differs from retention.bytes;
//   - remote.log.copy.disable=true (with local.retention.bytes=-2): more records and closed segments
//     reach no bucket (its segment objects stay exactly as they were), the upload backlog metric
//     reads 0, and kcat still reads everything from offset 0, the old part from the bucket;
//   - remote.storage.enable=false with remote.log.delete.on.disable=true: every object of the topic
//     leaves the bucket, ListOffsets earliest moves up to what was the local log start, and kcat reads
//     from there to the end;
//   - turning tiering on again uploads from the new log start, and the history reads back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, runProcess } from '../broker/harness.js';
import { kafkaRefToolsProblem, runTool } from '../broker/kafka-tools.js';
import { S3Server, s3ServerProblem } from './s3-server.js';
import { PartitionCheck, VALUE_BYTES, metricSum, startTieredBroker, stopTieredBroker, streamLines, until } from './tiered-clients.js';

const missing = s3ServerProblem() ?? kafkaRefToolsProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';
const enabled = missing === null || !allowMissing;

const MiB = 1024 * 1024;
const SEGMENT_BYTES = MiB;
const LOCAL_RETENTION_BYTES = MiB;
const TOPIC = 'switch';
const PREFIX = 'tiered-disable';
/** Records per produce step: about 6 segments. */
const STEP = 6000;

/** confluent-kafka-python: records [from, to) of partition 0, values valueOf(0, i). */
const PRODUCE_PY = `
import sys
from confluent_kafka import Producer
bootstrap, topic, first, end, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
fill = 'abcdefghijklmnopqrstuvwxyz0123456789' * (size // 36 + 1)
def value(i):
    head = 'p0-%010d-' % i
    start = (i * 7) % 36
    return (head + fill[start:start + size - len(head)]).encode()
errors = []
def report(err, msg):
    if err is not None:
        errors.append(str(err))
pr = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 20, 'enable.idempotence': True})
for i in range(first, end):
    while True:
        try:
            pr.produce(topic, value=value(i), partition=0, on_delivery=report)
            break
        except BufferError:
            pr.poll(0.05)
    pr.poll(0)
left = pr.flush(60)
if errors or left:
    sys.exit('delivery failed: %s, %d left' % (errors[:3], left))
`;

let s3: S3Server;
let broker: BrokerProcess;
let dataDir: string;

function brokerOverrides(server: S3Server = s3): string[] {
  return server.brokerOverrides(PREFIX);
}

/** Every key in the bucket under the test prefix that belongs to the topic. */
async function topicKeys(): Promise<string[]> {
  const store = s3.store(PREFIX);
  const out: string[] = [];
  try {
    for await (const o of store.list('')) if (o.key.split('/')[1]?.startsWith(`${TOPIC}-`)) out.push(o.key);
  } finally {
    store.close();
  }
  return out.sort();
}

const segmentKeys = async () => (await topicKeys()).filter((k) => k.includes('/segments/'));

/** ListOffsets through Kafka's GetOffsetShell for partition 0. */
async function offset(time: string): Promise<number> {
  const r = await runTool('org.apache.kafka.tools.GetOffsetShell', ['--bootstrap-server', broker.bootstrap, '--topic', TOPIC, '--time', time]);
  expect(r.code, r.stderr).toBe(0);
  return Number(r.stdout.trim().split(':')[2]);
}

/** kafka-configs --alter --add-config on the topic. */
function alter(configs: string) {
  return runTool('kafka.admin.ConfigCommand', ['--bootstrap-server', broker.bootstrap, '--entity-type', 'topics', '--entity-name', TOPIC, '--alter', '--add-config', configs]);
}

async function produce(first: number, end: number): Promise<void> {
  const r = await runProcess('/usr/bin/python3', ['-c', PRODUCE_PY, broker.bootstrap, TOPIC, String(first), String(end), String(VALUE_BYTES)], { timeoutMs: 300_000 });
  expect(r.code, r.stderr).toBe(0);
}

/** kcat from the beginning to the end: every record from `first` to `end`, in order, byte-exact. */
async function readAll(first: number, end: number): Promise<void> {
  const check = new PartitionCheck(0, first);
  const r = await streamLines('kcat', ['-C', '-b', broker.bootstrap, '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\n', '-X', 'fetch.wait.max.ms=100'], (line) => {
    const a = line.indexOf(' ');
    check.see(Number(line.slice(0, a)), line.slice(a + 1));
  }, 120_000);
  expect(r.code, r.stderr).toBe(0);
  expect(check.bad).toEqual([]);
  expect(check.next).toBe(end);
}

const metric = (name: string) => metricSum(broker.httpPort, name);

describe.skipIf(!enabled)('tiered storage disablement (KIP-950) through a broker process, kafka-configs and a real S3 server', () => {
  beforeAll(async () => {
    if (missing !== null) throw new Error(missing);
    ({ s3, broker, dataDir } = await startTieredBroker(brokerOverrides));
  }, 60_000);
  afterAll(() => stopTieredBroker({ s3, broker, dataDir }));

  it('stops uploads with remote.log.copy.disable, deletes the remote data with remote.log.delete.on.disable, and turns on again', async () => {
    const created = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', broker.bootstrap, '--create', '--topic', TOPIC, '--partitions', '1', '--replication-factor', '1',
      '--config', 'remote.storage.enable=true', '--config', `segment.bytes=${SEGMENT_BYTES}`, '--config', `local.retention.bytes=${LOCAL_RETENTION_BYTES}`,
    ]);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    await produce(0, STEP);
    await until('the early segments are only in the bucket', async () => (await metric('strata_remote_copy_lag_segments')) === 0 && (await offset('-4')) > 0, 120_000);

    // Kafka's rules, as INVALID_CONFIG naming the key.
    const bare = await alter('remote.storage.enable=false');
    expect(bare.code).not.toBe(0);
    expect(bare.stdout + bare.stderr).toMatch(/InvalidConfigurationException: remote\.storage\.enable cannot be turned off while the remote data is kept/);
    const mismatched = await alter('remote.log.copy.disable=true');
    expect(mismatched.code).not.toBe(0);
    expect(mismatched.stdout + mismatched.stderr).toMatch(/InvalidConfigurationException: with remote\.log\.copy\.disable=true, local\.retention\.bytes \(1048576\) must be -2 or equal to retention\.bytes/);

    // Read-only: nothing more is uploaded, everything stays readable.
    const uploaded = await segmentKeys();
    expect(uploaded.length).toBeGreaterThan(0);
    const latestTiered = await offset('-5');
    const readOnly = await alter('remote.log.copy.disable=true,local.retention.bytes=-2');
    expect(readOnly.code, readOnly.stdout + readOnly.stderr).toBe(0);
    await produce(STEP, 2 * STEP);
    // Let ten task rounds (every 300 ms) pass over the new closed segments.
    const fetchedBefore = await metric('strata_remote_fetch_bytes_total');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await segmentKeys()).toEqual(uploaded);
    expect(await offset('-5')).toBe(latestTiered);
    expect(await metric('strata_remote_copy_lag_segments')).toBe(0);
    expect(await offset('-2')).toBe(0);
    const localStart = await offset('-4');
    expect(localStart).toBeGreaterThan(0);
    await readAll(0, 2 * STEP);
    // The part below the local start came from the bucket.
    expect(await metric('strata_remote_fetch_bytes_total')).toBeGreaterThan(fetchedBefore);

    // Off, deleting the remote data: the bucket empties and the log starts at the local start.
    const off = await alter('remote.storage.enable=false,remote.log.delete.on.disable=true');
    expect(off.code, off.stdout + off.stderr).toBe(0);
    await until('the topic has no objects left in the bucket', async () => (await topicKeys()).length === 0, 60_000);
    expect(await offset('-2')).toBe(localStart);
    await readAll(localStart, 2 * STEP);

    // On again: uploads start from the log start and the history reads back.
    const on = await alter('remote.storage.enable=true,remote.log.copy.disable=false,local.retention.bytes=1048576');
    expect(on.code, on.stdout + on.stderr).toBe(0);
    await produce(2 * STEP, 3 * STEP);
    await until('uploads resumed and local retention followed', async () => (await metric('strata_remote_copy_lag_segments')) === 0 && (await offset('-4')) > 2 * STEP, 120_000);
    expect((await segmentKeys()).length).toBeGreaterThan(0);
    expect(await offset('-2')).toBe(localStart);
    await readAll(localStart, 3 * STEP);
  }, 600_000);
});
