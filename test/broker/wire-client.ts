// A minimal Kafka client for tests that need exact control of a request (a version, a field, a
// broken batch) and to see the exact answer. Built on the generated codecs; real clients cover
// what users do, this covers the edges.
import { type Socket, connect } from 'node:net';
import { decodeResponseFrame, encodeRequestFrame } from '../../broker/protocol/frame.js';
import { type ApiMessages, apiSpec } from '../../broker/protocol/generated/index.js';

export class WireClient {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer) => void)[] = [];
  private correlationId = 0;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) break;
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.(frame);
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new WireClient(s)));
      s.once('error', reject);
    });
  }

  /** Sends one request and returns the decoded response. */
  async send<K extends keyof ApiMessages>(apiKey: K, version: number, body: ApiMessages[K]['request'], timeoutMs = 15_000): Promise<ApiMessages[K]['response']> {
    const spec = apiSpec(apiKey)!;
    const id = ++this.correlationId;
    // Encode first: a request that cannot be encoded must not leave a waiter behind.
    const chunks = encodeRequestFrame(spec, version, id, 'strata-wire-test', body);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${spec.name} v${version} in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
      for (const c of chunks) this.socket.write(c);
    });
    const { correlationId, body: res } = decodeResponseFrame(spec, version, frame);
    if (correlationId !== id) throw new Error(`correlation id ${correlationId}, expected ${id}`);
    return res as ApiMessages[K]['response'];
  }

  /** Sends raw bytes (a whole frame with its size) and returns the next raw response frame. */
  async sendRaw(bytes: Buffer, timeoutMs = 15_000): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
