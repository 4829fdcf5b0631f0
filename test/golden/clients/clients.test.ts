/**
 * Sanity checks for the peer-client drivers that need no broker: each client
 * is pointed at a bare TCP listener that records the first request frame and
 * hangs up. Every client must connect and open with ApiVersions (api key 18)
 * carrying the client.id its driver sets.
 *
 * The peers come from `bash hack/peers/install.sh` (npm test runs it first).
 * Set STRATA_ALLOW_MISSING_PEERS=1 to skip clients that are not installed
 * instead of failing.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLIENT_IDS,
  CODECS,
  expectedRecords,
  GOLDEN_RECORDS,
  KCAT_HEADERS,
  javaClasspath,
  peersAvailable,
  runJavaAdmin,
  runJavaConsume,
  runJavaProduce,
  runKafkaJsAdmin,
  runKafkaJsConsume,
  runKafkaJsProduce,
  runKcatConsume,
  runKcatMetadata,
  runKcatProduce,
  type ClientRun,
  type RunOptions,
} from './index.js';
import { lz4Codec, snappyCodec, zstdCodec } from './kafkajs-codecs.js';
import { javaRecordsInput, kcatInput } from './records.js';

const API_VERSIONS = 18;
/** Client timeout; the test aborts the client as soon as the frame arrives. */
const RUN_TIMEOUT_MS = 20_000;
const FRAME_WAIT_MS = 15_000;

interface FirstFrame {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

function parseHeader(body: Buffer): FirstFrame {
  const apiKey = body.readInt16BE(0);
  const apiVersion = body.readInt16BE(2);
  const correlationId = body.readInt32BE(4);
  // Request header v1 and v2 both carry client_id as a non-compact nullable string.
  const len = body.readInt16BE(8);
  const clientId = len < 0 ? null : body.subarray(10, 10 + len).toString('utf8');
  return { apiKey, apiVersion, correlationId, clientId };
}

/** A listener on 127.0.0.1 that resolves with the first complete request frame, then closes every connection. */
class FrameTrap {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  readonly first: Promise<Buffer>;
  port = 0;

  constructor() {
    let resolveFirst!: (b: Buffer) => void;
    this.first = new Promise((r) => (resolveFirst = r));
    this.server = createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      let buf = Buffer.alloc(0);
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 4) return;
        const size = buf.readInt32BE(0);
        if (size < 0 || size > 1 << 24) {
          sock.destroy();
          return;
        }
        if (buf.length < 4 + size) return;
        resolveFirst(buf.subarray(4, 4 + size));
        sock.destroy();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    this.port = addr.port;
    return `127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const traps: FrameTrap[] = [];
afterEach(async () => {
  await Promise.all(traps.splice(0).map((t) => t.close()));
});

type Peer = 'kcat' | 'java' | 'kafkajs';
type Scenario = (bootstrap: string, opts: RunOptions) => Promise<ClientRun>;

const TOPIC = 'strata-golden-sanity';
const scenarios: Array<{ name: string; peer: Peer; clientId: string; run: Scenario }> = [
  { name: 'kcat produce', peer: 'kcat', clientId: CLIENT_IDS.kcat, run: (b, o) => runKcatProduce(b, TOPIC, 'zstd', RUN_TIMEOUT_MS, o) },
  { name: 'kcat consume', peer: 'kcat', clientId: CLIENT_IDS.kcat, run: (b, o) => runKcatConsume(b, TOPIC, RUN_TIMEOUT_MS, o) },
  { name: 'kcat metadata', peer: 'kcat', clientId: CLIENT_IDS.kcat, run: (b, o) => runKcatMetadata(b, TOPIC, RUN_TIMEOUT_MS, o) },
  { name: 'java produce', peer: 'java', clientId: CLIENT_IDS.java, run: (b, o) => runJavaProduce(b, TOPIC, 'lz4', RUN_TIMEOUT_MS, o) },
  { name: 'java consume', peer: 'java', clientId: CLIENT_IDS.javaConsumer, run: (b, o) => runJavaConsume(b, TOPIC, RUN_TIMEOUT_MS, o) },
  { name: 'java admin', peer: 'java', clientId: CLIENT_IDS.javaAdmin, run: (b, o) => runJavaAdmin(b, TOPIC, RUN_TIMEOUT_MS, o) },
  { name: 'kafkajs produce', peer: 'kafkajs', clientId: CLIENT_IDS.kafkajs, run: (b, o) => runKafkaJsProduce(b, TOPIC, 'snappy', RUN_TIMEOUT_MS, o) },
  { name: 'kafkajs consume', peer: 'kafkajs', clientId: CLIENT_IDS.kafkajs, run: (b, o) => runKafkaJsConsume(b, TOPIC, RUN_TIMEOUT_MS, o) },
  { name: 'kafkajs admin', peer: 'kafkajs', clientId: CLIENT_IDS.kafkajsAdmin, run: (b, o) => runKafkaJsAdmin(b, TOPIC, RUN_TIMEOUT_MS, o) },
];

const available = peersAvailable();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';

describe('peer clients send ApiVersions first', () => {
  for (const s of scenarios) {
    const missing = !available[s.peer];
    it.skipIf(missing && allowMissing)(
      s.name,
      async () => {
        if (missing) throw new Error(`${s.peer} peer not available: ${available.reason}`);
        const trap = new FrameTrap();
        traps.push(trap);
        const bootstrap = await trap.listen();
        const abort = new AbortController();
        const running = s.run(bootstrap, { signal: abort.signal });
        let waitTimer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          trap.first.then((frame) => ({ frame })),
          running.then((run) => ({ exited: run })),
          new Promise<{ waited: true }>((r) => (waitTimer = setTimeout(() => r({ waited: true }), FRAME_WAIT_MS))),
        ]);
        clearTimeout(waitTimer);
        abort.abort();
        const run = await running;
        const diag = `${run.command.join(' ')}\nexit=${run.exitCode} signal=${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
        if (!('frame' in outcome)) {
          expect.fail(`${s.name}: no request frame received before ${'exited' in outcome ? 'the client exited' : 'the wait ran out'}\n${diag}`);
        }
        const hdr = parseHeader(outcome.frame);
        expect(hdr.apiKey, diag).toBe(API_VERSIONS);
        expect(hdr.clientId, diag).toBe(s.clientId);
        expect(hdr.apiVersion).toBeGreaterThanOrEqual(0);
        // Killed by us, not crashed on its own before sending.
        expect(run.timedOut, diag).toBe(false);
      },
      RUN_TIMEOUT_MS + 10_000,
    );
  }
});

describe('driver inputs', () => {
  it('golden records have the promised shapes', () => {
    expect(GOLDEN_RECORDS).toHaveLength(5);
    expect(GOLDEN_RECORDS.some((r) => r.key === null)).toBe(true);
    expect(GOLDEN_RECORDS.some((r) => r.value === '')).toBe(true);
    expect(GOLDEN_RECORDS.some((r) => Buffer.byteLength(r.value) >= 3000)).toBe(true);
    expect(GOLDEN_RECORDS.some((r) => r.headers.some((h) => h.value === null))).toBe(true);
    expect(KCAT_HEADERS.some((h) => h.value === null)).toBe(true);
    expect(expectedRecords('kafkajs').every((r) => r.headers.every((h) => h.value !== null))).toBe(true);
    expect(expectedRecords('java')).toEqual(GOLDEN_RECORDS);
  });

  it('kcat input: one line per record, tab before the value unless the key is null', () => {
    const lines = kcatInput().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(GOLDEN_RECORDS.length);
    GOLDEN_RECORDS.forEach((r, i) => {
      expect(lines[i]).toBe(r.key === null ? r.value : `${r.key}\t${r.value}`);
    });
  });

  it('java input round-trips', () => {
    const lines = javaRecordsInput().trimEnd().split('\n');
    const dec = (t: string) => (t === '~' ? null : Buffer.from(t.slice(1), 'base64').toString('utf8'));
    const back = lines.map((l) => {
      const t = l.split(' ');
      const n = Number(t[2]);
      const headers = [];
      for (let i = 0; i < n; i++) headers.push({ key: dec(t[3 + 2 * i]!)!, value: dec(t[4 + 2 * i]!) });
      return { key: dec(t[0]!), value: dec(t[1]!)!, headers };
    });
    expect(back).toEqual(GOLDEN_RECORDS);
  });

  it.skipIf(!available.java && allowMissing)('java classpath carries the compression libraries', () => {
    const cp = javaClasspath();
    expect(cp).toContain('kafka-clients-4.1.1');
    expect(available.java, available.reason).toBe(true);
  });
});

describe('KafkaJS codecs', () => {
  const input = Buffer.from(GOLDEN_RECORDS.map((r) => r.value).join('|'));

  it.each([
    ['snappy', snappyCodec],
    ['lz4', lz4Codec],
    ['zstd', zstdCodec],
  ] as const)('%s round-trips and compresses', async (_name, factory) => {
    const codec = factory();
    const packed = await codec.compress({ buffer: input });
    expect(packed.length).toBeLessThan(input.length);
    expect(await codec.decompress(packed)).toEqual(input);
  });

  it('snappy writes raw blocks and reads xerial framing', async () => {
    const packed = await snappyCodec().compress({ buffer: input });
    expect(snappyUncompress(packed)).toEqual(input);
    const block = snappyCompress(input);
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(block.length);
    const framed = Buffer.concat([header, len, block, len, block]);
    expect(await snappyCodec().decompress(framed)).toEqual(Buffer.concat([input, input]));
  });

  it('lz4 uses the frame format and zstd a zstd frame', async () => {
    const lz4 = await lz4Codec().compress({ buffer: input });
    expect(lz4.readUInt32LE(0)).toBe(0x184d2204);
    const zstd = await zstdCodec().compress({ buffer: input });
    expect(zstd.readUInt32LE(0)).toBe(0xfd2fb528);
  });

  it('covers every codec name', () => {
    expect([...CODECS]).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
  });
});
