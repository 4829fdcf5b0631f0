// A full disk, for real: the broker's log directory is a small tmpfs, and confluent-kafka-python
// produces 10 KB records until it is full. Produce then fails with KAFKA_STORAGE_ERROR while the
// broker stays up and consumers still read every acknowledged record byte for byte; once a file is
// deleted from the disk, produce works again without a restart, and after a restart everything
// acknowledged is still there.
//
// Mounting needs root (the test machine and CI run as root). Where `mount` is refused the test
// fails and says so rather than skipping.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, runProcess, startBroker } from './harness.js';

const DISK_BYTES = 24 * 1024 * 1024;
const FILLER_BYTES = 6 * 1024 * 1024;
const VALUE_BYTES = 10_000;

let mountPoint: string;
let broker: BrokerProcess | undefined;

beforeAll(() => {
  mountPoint = mkdtempSync(join(tmpdir(), 'strata-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`the full-disk test mounts a ${DISK_BYTES}-byte tmpfs and could not (it needs root): ${(e as Error).message}`);
  }
});
afterAll(async () => {
  await broker?.stop('SIGKILL');
  try {
    execFileSync('umount', [mountPoint], { stdio: 'pipe' });
  } finally {
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

/** Produces `count` records numbered from `first`, one at a time in flight, and reports each outcome. */
const PRODUCE_PY = `
import json, sys
from confluent_kafka import Producer
bootstrap, topic, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = []
def report(err, msg):
    n = int(msg.value()[:8])
    out.append({'n': n, 'offset': msg.offset() if err is None else -1, 'error': None if err is None else err.name()})
# No retries: each failure is reported with the broker's own error.
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'retries': 0, 'enable.idempotence': False, 'linger.ms': 0, 'message.timeout.ms': 20000})
for i in range(first, first + count):
    p.produce(topic, key=str(i).encode(), value=('%08d' % i).encode().ljust(${VALUE_BYTES}, b'x'), partition=0, on_delivery=report)
    p.flush(20)
print(json.dumps(out))
`;

interface Outcome {
  n: number;
  offset: number;
  error: string | null;
}

function run(cmd: string, args: string[], timeoutMs = 120_000) {
  return runProcess(cmd, args, { timeoutMs });
}

async function produce(topic: string, first: number, count: number): Promise<Outcome[]> {
  const r = await run('/usr/bin/python3', ['-c', PRODUCE_PY, broker!.bootstrap, topic, String(first), String(count)]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Outcome[];
}

/** Offset → record number of everything readable from the beginning (kcat checks each batch's CRC). */
async function consume(topic: string): Promise<Map<number, number>> {
  const r = await run('kcat', ['-C', '-b', broker!.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %S %s\\n']);
  expect(r.code, r.stderr).toBe(0);
  const out = new Map<number, number>();
  for (const line of r.stdout.split('\n')) {
    if (line === '') continue;
    const [offset, size, value] = line.split(' ');
    expect(Number(size)).toBe(VALUE_BYTES);
    // Byte for byte: the number, then padding to the full size.
    expect(value).toBe(value!.slice(0, 8).padEnd(VALUE_BYTES, 'x'));
    out.set(Number(offset), Number(value!.slice(0, 8)));
  }
  return out;
}

describe('a full disk', () => {
  it('fails produce with KAFKA_STORAGE_ERROR, keeps serving reads, and takes produce again once space is freed', async () => {
    const dataDir = join(mountPoint, 'data');
    mkdirSync(dataDir);
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(FILLER_BYTES, 1));
    broker = await startBroker({ dataDir, overrides: [`log.segment.bytes=${4 * 1024 * 1024}`] });
    const topic = 'fills-the-disk';

    // More than the disk holds: the end of it must fail.
    const first = await produce(topic, 0, Math.ceil(DISK_BYTES / VALUE_BYTES));
    const acked = first.filter((o) => o.error === null);
    const failed = first.filter((o) => o.error !== null);
    expect(acked.length).toBeGreaterThan(500);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((o) => o.error))).toEqual(new Set(['KAFKA_STORAGE_ERROR']));
    expect(broker.proc.exitCode).toBeNull();

    // Reads go on: every acknowledged record at its offset, nothing else.
    const stored = await consume(topic);
    expect(stored.size).toBe(acked.length);
    for (const a of acked) expect(stored.get(a.offset)).toBe(a.n);

    // Still full: still refused, and nothing stored was harmed.
    const again = await produce(topic, 100_000, 3);
    expect(again.map((o) => o.error)).toEqual(['KAFKA_STORAGE_ERROR', 'KAFKA_STORAGE_ERROR', 'KAFKA_STORAGE_ERROR']);

    // Space comes back: produce works again, with no restart, right after the last acked offset.
    rmSync(filler);
    const after = await produce(topic, 200_000, 50);
    expect(after.map((o) => o.error)).toEqual(after.map(() => null));
    const lastAcked = Math.max(...acked.map((a) => a.offset));
    expect(after.map((o) => o.offset)).toEqual(after.map((_, i) => lastAcked + 1 + i));

    // And it all survives a restart.
    expect(await broker.stop('SIGTERM')).toBe(0);
    broker = await startBroker({ dataDir, port: Number(broker.bootstrap.split(':')[1]), overrides: [`log.segment.bytes=${4 * 1024 * 1024}`] });
    const final = await consume(topic);
    for (const a of [...acked, ...after]) expect(final.get(a.offset)).toBe(a.n);
    expect(final.size).toBe(acked.length + after.length);
  });
});
