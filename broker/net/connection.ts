// One client connection: splits the byte stream into size-prefixed frames, refuses a frame over the
// size limit before buffering it, reserves each frame's bytes from the shared memory pool (pausing
// the socket while the pool is full), and handles requests one at a time in arrival order, as Kafka
// does, so responses go out in request order. Knows nothing of APIs: it hands frames to `onFrame`.
import type { Socket } from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { MemoryPool } from './memory-pool.js';

export interface ConnectionLimits {
  /** socket.request.max.bytes: the largest frame accepted. */
  requestMaxBytes: number;
  /** connections.max.idle.ms: close a connection with no request for this long. */
  idleMs: number;
}

/**
 * What a handler returns: the response frame as chunks for writev, or nothing (acks=0 produce). A
 * frame whose chunks borrow pooled memory comes with `release`, which the connection calls exactly
 * once, when the chunks are no longer needed: written to the socket, or not written at all.
 */
export type FrameResult = Buffer[] | LeasedFrame | undefined;
export interface LeasedFrame {
  chunks: Buffer[];
  release: () => void;
}

/** Thrown by `onFrame` to close this connection (and only this one) after logging why. */
export class CloseConnectionError extends Error {
  override readonly name = 'CloseConnectionError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

const FRAME_SIZE_BYTES = 4;

export class Connection {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Size of the frame being read, once its length prefix has arrived and its bytes are reserved. */
  private frameBytes = -1;
  private waitingForMemory: (() => void) | undefined;
  private readonly queue: { frame: Buffer; reserved: number }[] = [];
  private processing = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    readonly id: string,
    private readonly limits: ConnectionLimits,
    private readonly pool: MemoryPool,
    private readonly log: Logger,
    private readonly onFrame: (conn: Connection, frame: Buffer) => Promise<FrameResult> | FrameResult,
    private readonly onClose: (conn: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug('connection error', { connection: id, err }));
    socket.on('close', () => this.teardown());
    this.touch();
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  private touch(): void {
    if (this.limits.idleMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close('idle'), this.limits.idleMs);
    this.idleTimer.unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.touch();
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    this.parse();
  }

  /** Takes the first `n` buffered bytes as one buffer (one copy at most). */
  private take(n: number): Buffer {
    let out: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.bufferedBytes -= n;
    return out;
  }

  private parse(): void {
    while (!this.closed && this.waitingForMemory === undefined) {
      if (this.frameBytes < 0) {
        if (this.bufferedBytes < FRAME_SIZE_BYTES) return;
        const size = this.take(FRAME_SIZE_BYTES).readInt32BE(0);
        if (size <= 0 || size > this.limits.requestMaxBytes) {
          // Refused before a single body byte is buffered.
          this.fail(
            'frame_too_large',
            `request of ${size} bytes is over socket.request.max.bytes (${this.limits.requestMaxBytes}) or not positive`,
          );
          return;
        }
        if (!this.pool.tryReserve(size)) {
          // Stop reading until the pool has room; the kernel buffers then push back on the client.
          this.socket.pause();
          const grant = () => {
            this.waitingForMemory = undefined;
            this.frameBytes = size;
            if (!this.closed) this.socket.resume();
            this.parse();
          };
          this.waitingForMemory = grant;
          this.pool.reserveLater(size, grant);
          return;
        }
        this.frameBytes = size;
      }
      if (this.bufferedBytes < this.frameBytes) return;
      const frame = this.take(this.frameBytes);
      this.queue.push({ frame, reserved: this.frameBytes });
      this.frameBytes = -1;
      void this.drain();
    }
  }

  private async drain(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const { frame, reserved } = this.queue.shift()!;
        try {
          const out = await this.onFrame(this, frame);
          if (out === undefined) continue;
          if (Array.isArray(out)) {
            if (!this.closed) this.write(out);
          } else if (this.closed) out.release();
          else this.write(out.chunks, out.release);
        } catch (e) {
          if (e instanceof CloseConnectionError) this.fail(e.reason, e.message);
          else {
            this.log.error('request handling failed; closing the connection', { connection: this.id, remote: this.remoteAddress, err: e });
            this.fail('internal_error', String(e));
          }
        } finally {
          this.pool.release(reserved);
        }
      }
    } finally {
      this.processing = false;
    }
  }

  /** `written` runs once every chunk has gone to the kernel, or the socket was destroyed first. */
  private write(chunks: Buffer[], written?: () => void): void {
    this.socket.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]!);
    // Writes complete in order, so the last one's callback covers them all. It also runs (with an
    // error) when the socket is destroyed with the write still pending.
    if (last >= 0) this.socket.write(chunks[last]!, written === undefined ? undefined : () => written());
    else written?.();
    this.socket.uncork();
  }

  private fail(reason: string, message: string): void {
    if (this.closed) return;
    this.log.warn('closing connection', { connection: this.id, remote: this.remoteAddress, reason, detail: message });
    this.close(reason);
  }

  close(_reason: string): void {
    if (this.closed) return;
    this.socket.destroy();
    this.teardown();
  }

  /** Stops reading new requests; in-flight ones finish. Resolves when the queue is empty. */
  async quiesce(): Promise<void> {
    this.socket.pause();
    while (this.processing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    if (this.waitingForMemory !== undefined) this.pool.cancel(this.waitingForMemory);
    if (this.frameBytes > 0) this.pool.release(this.frameBytes);
    this.frameBytes = -1;
    for (const q of this.queue) this.pool.release(q.reserved);
    this.queue.length = 0;
    this.chunks = [];
    this.onClose(this);
  }
}
