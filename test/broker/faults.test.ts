// Faults against the broker process: SIGKILL in the middle of an acks=-1 stream loses nothing that
// was acknowledged, and malformed frames on other connections close only those connections while a
// client keeps streaming.
import { spawn } from 'node:child_process';
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeRequestFrame } from '../../broker/protocol/frame.js';
import { ApiKey, apiSpec, defaultMetadataRequest } from '../../broker/protocol/generated/index.js';
import { type BrokerProcess, newDataDir, startBroker } from './harness.js';
import { startAckedProducer, until } from './clients/acked.js';

let broker: BrokerProcess | undefined;
afterEach(async () => {
  await broker?.stop('SIGKILL');
  broker = undefined;
});

/** Every record of partition 0, read with kcat: offset and value. */
function readPartition(bootstrap: string, topic: string): Promise<{ offset: number; value: string }[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn('kcat', ['-C', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`kcat exited ${code}: ${err}`));
      else
        resolve(
          out
            .split('\n')
            .filter((l) => l !== '')
            .map((l) => {
              const [offset, value] = l.split(' ');
              return { offset: Number(offset), value: value! };
            }),
        );
    });
  });
}

describe('SIGKILL during an acks=-1 stream', () => {
  it('keeps every acknowledged record, exactly once, at the offset it was acknowledged at', async () => {
    const dataDir = newDataDir();
    broker = await startBroker({ dataDir });
    const topic = 'crash';
    const run = startAckedProducer(broker.bootstrap, topic, 200_000, 100, 120_000);
    // Let a few thousand records through, then kill the broker mid-stream.
    await until(() => run.acks.length >= 30, 60_000, 'the first acknowledgements');
    expect(await broker.stop('SIGKILL')).toBe('SIGKILL');
    const producer = await run.done;
    expect(producer.code).not.toBe(0); // it was cut off, not finished
    const acked = run.acks.slice();

    broker = await startBroker({ dataDir, port: Number(broker.bootstrap.split(':')[1]) });
    const records = await readPartition(broker.bootstrap, topic);
    const byOffset = new Map(records.map((r) => [r.offset, r.value]));
    // Offsets are dense and each value appears once.
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    expect(new Set(records.map((r) => r.value)).size).toBe(records.length);
    let checked = 0;
    for (const a of acked) {
      for (let i = 0; i < a.count; i++) {
        expect(byOffset.get(a.baseOffset + i)).toBe(`rec-${a.first + i}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3000);
  });
});

/** The malformed-frame corpus, as whole frames with their size prefix. */
function corpus(): { name: string; bytes: Buffer }[] {
  const metadata = Buffer.concat(
    encodeRequestFrame(apiSpec(ApiKey.Metadata)!, 4, 1, 'bad', { ...defaultMetadataRequest(), topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }] }),
  ).subarray(4);
  const sized = (body: Buffer) => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return Buffer.concat([size, body]);
  };
  const bodyAt = 8 + 2 + 3; // api/version/correlation, then the client id 'bad'
  const patched = (at: number, write: (b: Buffer) => void) => {
    const b = Buffer.from(metadata);
    write(b.subarray(at));
    return sized(b);
  };
  const unknownApi = Buffer.from(metadata);
  unknownApi.writeInt16BE(9999, 0);
  const produceV1 = Buffer.from(metadata);
  produceV1.writeInt16BE(ApiKey.Produce, 0);
  produceV1.writeInt16BE(1, 2);
  const oversized = Buffer.alloc(4);
  oversized.writeInt32BE(104857600 + 1);
  return [
    { name: 'truncated frame', bytes: sized(metadata.subarray(0, metadata.length - 3)) },
    { name: 'string length past the end', bytes: patched(bodyAt + 4, (b) => b.writeInt16BE(30000, 0)) },
    { name: 'negative string length', bytes: patched(bodyAt + 4, (b) => b.writeInt16BE(-2, 0)) },
    { name: 'array count in the billions', bytes: patched(bodyAt, (b) => b.writeInt32BE(2_000_000_000, 0)) },
    { name: 'negative array count', bytes: patched(bodyAt, (b) => b.writeInt32BE(-5, 0)) },
    { name: 'unknown api key', bytes: sized(unknownApi) },
    { name: 'removed Produce v1', bytes: sized(produceV1) },
    { name: 'frame over socket.request.max.bytes', bytes: oversized },
    { name: 'negative frame size', bytes: Buffer.from([0xff, 0xff, 0xff, 0xf0]) },
    { name: 'shorter than a header', bytes: sized(Buffer.from([0, 3, 0])) },
  ];
}

describe('malformed frames while a client streams', () => {
  it('close only their own connections; the stream completes and the broker logs each', async () => {
    broker = await startBroker();
    const port = broker.port;
    const total = 20_000;
    const run = startAckedProducer(broker.bootstrap, 'steady', total, 100, 120_000);
    await until(() => run.acks.length >= 5, 60_000, 'the stream to start');
    const closed: string[] = [];
    const sockets: Socket[] = [];
    for (const c of corpus()) {
      const s = connect(port, '127.0.0.1');
      sockets.push(s);
      s.on('error', () => {});
      s.on('close', () => closed.push(c.name));
      s.on('connect', () => s.write(c.bytes));
    }
    await until(() => closed.length === sockets.length, 30_000, 'every bad connection to be closed');
    const producer = await run.done;
    expect(producer.code, producer.stderr).toBe(0);
    expect(run.acks.reduce((n, a) => n + a.count, 0)).toBe(total);
    const warnings = broker.logs.filter((l) => l.msg === 'closing connection');
    expect(warnings.length).toBeGreaterThanOrEqual(sockets.length);
    expect(new Set(warnings.map((w) => w.reason))).toEqual(new Set(['malformed', 'unsupported_version', 'frame_too_large']));
    // The removed Produce v1 is rejected as Kafka 4.x rejects it: UNSUPPORTED_VERSION, connection closed.
    expect(warnings.some((w) => String(w.detail).startsWith('UNSUPPORTED_VERSION: api key 0 version 1'))).toBe(true);
    const records = await readPartition(broker.bootstrap, 'steady');
    expect(records).toHaveLength(total);
  });
});
