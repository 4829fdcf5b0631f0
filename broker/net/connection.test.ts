// The connection layer over real sockets on 127.0.0.1: frame limits, ordering, back-pressure from the
// memory pool, and that one bad connection never disturbs another.
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type LogFields } from '../observability/logger.js';
import { BrokerMetrics } from '../observability/metrics.js';
import { CloseConnectionError, type Connection, type FrameResult } from './connection.js';
import { KafkaListener } from './listener.js';
import { MemoryPool } from './memory-pool.js';
import { BLOCK_BYTES, ReadBufferPool } from './read-buffers.js';

const logged: { msg: string; fields: LogFields }[] = [];
const log = createLogger({ level: 'debug', format: 'json', write: (line) => logged.push(JSON.parse(line) as { msg: string; fields: LogFields }) });
let listener: KafkaListener | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.length = 0;
  await listener?.stopAccepting();
  await listener?.drainConnections();
  listener = undefined;
  logged.length = 0;
});

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

async function start(onFrame: (conn: Connection, frame: Buffer) => Promise<FrameResult> | FrameResult, pool = new MemoryPool(1 << 20), maxConnections = 100) {
  listener = new KafkaListener({
    name: 'test',
    host: '127.0.0.1',
    port: 0,
    maxConnections,
    limits: { requestMaxBytes: 1024, idleMs: 0 },
    pool,
    log,
    metrics: new BrokerMetrics(),
    onFrame,
  });
  return listener.start();
}

/** A client socket that collects what it receives and notes when it is closed. */
async function client(port: number) {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  await new Promise<void>((r) => s.once('connect', () => r()));
  let received = Buffer.alloc(0);
  let closed = false;
  s.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
  s.on('close', () => (closed = true));
  s.on('error', () => {});
  return {
    socket: s,
    received: () => received,
    closed: () => closed,
    async until(cond: () => boolean, ms = 5000): Promise<void> {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error('condition not met in time');
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

const echo = (_c: Connection, f: Buffer): FrameResult => [frame(f)];

describe('connection', () => {
  it('answers frames in order, even when an earlier one takes longer', async () => {
    const port = await start(async (_c, f) => {
      if (f[0] === 1) await new Promise((r) => setTimeout(r, 50));
      return [frame(f)];
    });
    const c = await client(port);
    c.socket.write(Buffer.concat([frame(Buffer.from([1, 1])), frame(Buffer.from([2, 2])), frame(Buffer.from([3, 3]))]));
    await c.until(() => c.received().length === 18);
    expect([...c.received()]).toEqual([0, 0, 0, 2, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0, 2, 3, 3]);
  });

  it('reassembles a frame split across many small writes', async () => {
    const port = await start(echo);
    const c = await client(port);
    const f = frame(Buffer.from('hello strata'));
    for (const b of f) {
      c.socket.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await c.until(() => c.received().length === f.length);
    expect(c.received().equals(f)).toBe(true);
  });

  it('refuses a frame over the size limit from its length alone, closing only that connection', async () => {
    let frames = 0;
    const port = await start((_c, f) => {
      frames++;
      return [frame(f)];
    });
    const bad = await client(port);
    const good = await client(port);
    bad.socket.write(Buffer.from([0, 0, 0x10, 0])); // 4096 bytes claimed, limit 1024: no body sent
    await bad.until(() => bad.closed());
    expect(logged.some((l) => l.msg === 'closing connection' && (l as unknown as LogFields).reason === 'frame_too_large')).toBe(true);
    good.socket.write(frame(Buffer.from('still here')));
    await good.until(() => good.received().length > 0);
    expect(good.closed()).toBe(false);
    expect(frames).toBe(1);
  });

  it('refuses a zero or negative length', async () => {
    const port = await start(echo);
    const c = await client(port);
    c.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    await c.until(() => c.closed());
  });

  it('a handler error closes that connection only, and releases its memory', async () => {
    const pool = new MemoryPool(4096);
    const port = await start((_c, f) => {
      if (f[0] === 0xbb) throw new CloseConnectionError('bad request', 'malformed');
      return [frame(f)];
    }, pool);
    const bad = await client(port);
    const good = await client(port);
    bad.socket.write(frame(Buffer.from([0xbb, 0])));
    await bad.until(() => bad.closed());
    good.socket.write(frame(Buffer.from([1])));
    await good.until(() => good.received().length === 5);
    expect(pool.usedBytes).toBe(0);
  });

  it('stops reading while the memory pool is spent, and resumes when it frees up', async () => {
    const pool = new MemoryPool(1000);
    let release: () => void = () => {};
    const port = await start(async (_c, f) => {
      if (f[0] === 1) await new Promise<void>((r) => (release = r));
      return [frame(f.subarray(0, 1))];
    }, pool);
    const a = await client(port);
    const b = await client(port);
    a.socket.write(frame(Buffer.alloc(900, 1))); // holds 900 of 1000 bytes until released
    await a.until(() => pool.usedBytes === 900);
    b.socket.write(frame(Buffer.alloc(500, 2))); // cannot be reserved yet
    await new Promise((r) => setTimeout(r, 50));
    expect(b.received().length).toBe(0);
    expect(pool.usedBytes).toBe(900);
    release();
    await b.until(() => b.received().length === 5);
    await a.until(() => a.received().length === 5);
    expect(pool.usedBytes).toBe(0);
  });

  it('closes connections past max.connections at once', async () => {
    const port = await start(echo, new MemoryPool(1 << 20), 1);
    const first = await client(port);
    const second = await client(port);
    await second.until(() => second.closed());
    first.socket.write(frame(Buffer.from([7])));
    await first.until(() => first.received().length === 5);
  });
});

/** A client for one large response: counts its body bytes and those that differ from `expected`. */
async function bulkClient(port: number, expected: number) {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  await new Promise<void>((r) => s.once('connect', () => r()));
  let seen = 0;
  let foreign = 0;
  s.on('data', (c: Buffer) => {
    for (const b of c) {
      // The 4-byte size prefix comes first.
      if (seen >= 4 && b !== expected) foreign++;
      seen++;
    }
  });
  s.on('error', () => {});
  return { socket: s, bodyBytes: () => Math.max(0, seen - 4), foreignBytes: () => foreign };
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('connection: responses that borrow pooled read buffers', () => {
  it('returns the blocks only after the response is written, so a slow reader never sees them reused', async () => {
    const pool = new ReadBufferPool(4);
    // Far more than the kernel's socket buffers hold while the reader is paused (a few MiB each way).
    const BLOCKS = 24;
    const RESPONSE_BYTES = BLOCKS * BLOCK_BYTES;
    const released: string[] = [];
    const port = await start((_c, f) => {
      const fill = f[0]!;
      const lease = pool.lease();
      const blocks = Array.from({ length: BLOCKS }, () => lease.alloc(BLOCK_BYTES).fill(fill));
      const size = Buffer.alloc(4);
      size.writeInt32BE(RESPONSE_BYTES);
      return {
        chunks: [size, ...blocks],
        release: () => {
          released.push(String.fromCharCode(fill));
          lease.release();
        },
      };
    });
    const slow = await bulkClient(port, 0x41);
    slow.socket.pause();
    slow.socket.write(frame(Buffer.from('A')));
    const fast = await bulkClient(port, 0x42);
    fast.socket.write(frame(Buffer.from('B')));
    await until(() => fast.bodyBytes() === RESPONSE_BYTES);
    await until(() => released.includes('B'));
    // A's response is still pending in its socket, so its blocks were not returned or reused.
    expect(released).toEqual(['B']);
    expect(pool.leasedBlocks).toBe(BLOCKS);
    expect(fast.foreignBytes()).toBe(0);
    slow.socket.resume();
    await until(() => slow.bodyBytes() === RESPONSE_BYTES);
    expect(slow.foreignBytes()).toBe(0);
    await until(() => released.length === 2);
    expect(pool.leasedBlocks).toBe(0);
    expect(pool.createdBlocks).toBe(2 * BLOCKS);
  });

  it('returns the blocks when the client is gone before the response is ready', async () => {
    const pool = new ReadBufferPool(4);
    let releases = 0;
    let answer: (() => void) | undefined;
    const port = await start(
      (_c, _f) =>
        new Promise<FrameResult>((resolve) => {
          answer = () => {
            const lease = pool.lease();
            const body = lease.alloc(100_000);
            resolve({
              chunks: [body],
              release: () => {
                releases++;
                lease.release();
              },
            });
          };
        }),
    );
    const c = await client(port);
    c.socket.write(frame(Buffer.from('x')));
    await c.until(() => answer !== undefined);
    c.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    answer!();
    await c.until(() => releases === 1);
    expect(pool.leasedBlocks).toBe(0);
  });
});
