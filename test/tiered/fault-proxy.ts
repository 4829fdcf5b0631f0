// A fault-injecting HTTP proxy for tests, placed between a broker (or an S3ObjectStore) and a real
// S3 server: it forwards every request untouched (the Host header too, so SigV4 signatures still
// verify upstream) until the test switches it to a fault, and back. Faults:
//   - 'slow-down':      503 with S3's SlowDown XML error body, the upstream never sees the request;
//   - 'internal-error': 500 with S3's InternalError XML error body, likewise;
//   - 'delay':          the request goes upstream (and takes effect there), its response is held for
//                       `delayMs` before it is sent, so a client deadline shorter than that fires
//                       on a request that did happen: the hard case for retries;
//   - 'cut-get-body':   GET responses send their headers and half their body, then the connection
//                       is destroyed; other methods pass.
// Listens on 127.0.0.1, port 0. Counts what it did, so a test can check that faults were injected.
import { randomBytes } from 'node:crypto';
import { Agent, type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { Socket } from 'node:net';

export type FaultMode = (
  | { kind: 'pass' }
  | { kind: 'slow-down' }
  | { kind: 'internal-error' }
  | { kind: 'delay'; delayMs: number }
  | { kind: 'cut-get-body' }
) & {
  /** Methods the fault applies to (e.g. ['PUT'] for throttled writes); others pass. All when absent. */
  methods?: readonly string[];
};

export interface FaultCounts {
  /** Requests forwarded and answered in full. */
  passed: number;
  /** 503 SlowDown answers. */
  slowDown: number;
  /** 500 InternalError answers. */
  internalError: number;
  /** Responses held back by 'delay' (counted when the hold starts). */
  delayed: number;
  /** GET bodies cut short. */
  cut: number;
}

/** S3's error body, as AWS documents it for REST error responses. */
function s3ErrorXml(code: string, message: string, resource: string, requestId: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

export class FaultProxy {
  mode: FaultMode = { kind: 'pass' };
  readonly counts: FaultCounts = { passed: 0, slowDown: 0, internalError: 0, delayed: 0, cut: 0 };
  readonly endpoint: string;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly agent: Agent,
  ) {
    this.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  /** Starts a proxy in front of `upstream` (e.g. http://127.0.0.1:7070), in pass-through mode. */
  static async start(upstream: string): Promise<FaultProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new FaultProxy(server, new URL(upstream), new Agent({ keepAlive: true, maxSockets: 64 }));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    server.on('connection', (s: Socket) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    return proxy;
  }

  set(mode: FaultMode): void {
    this.mode = mode;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const mode: FaultMode = this.mode.methods === undefined || this.mode.methods.includes(req.method ?? '') ? this.mode : { kind: 'pass' };
    if (mode.kind === 'slow-down' || mode.kind === 'internal-error') {
      // Read the request body to its end first, as a server does before it answers.
      req.resume();
      req.on('end', () => {
        const id = randomBytes(8).toString('hex').toUpperCase();
        const [status, code, message] =
          mode.kind === 'slow-down' ? [503, 'SlowDown', 'Please reduce your request rate.'] : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
        const body = Buffer.from(s3ErrorXml(code, message, (req.url ?? '/').split('?')[0]!, id));
        if (mode.kind === 'slow-down') this.counts.slowDown++;
        else this.counts.internalError++;
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(body.length), 'x-amz-request-id': id });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
      return;
    }
    const up = request(
      { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      (ures) => this.respond(req, res, ures, mode),
    );
    up.on('error', () => res.destroy());
    // A client that gave up (its deadline) takes the upstream request with it.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  private respond(req: IncomingMessage, res: ServerResponse, ures: IncomingMessage, mode: FaultMode): void {
    const send = () => {
      if (res.destroyed) {
        ures.destroy();
        return;
      }
      const length = Number(ures.headers['content-length'] ?? -1);
      if (mode.kind === 'cut-get-body' && req.method === 'GET' && ures.statusCode !== undefined && ures.statusCode < 300 && length >= 2) {
        this.cut(res, ures, Math.floor(length / 2));
        return;
      }
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, ures.rawHeaders);
      ures.pipe(res);
      ures.on('end', () => {
        if (mode.kind !== 'delay') this.counts.passed++;
      });
    };
    if (mode.kind !== 'delay') {
      send();
      return;
    }
    // Hold the response; the upstream's bytes wait in its socket meanwhile.
    ures.pause();
    this.counts.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, mode.delayMs);
    this.timers.add(timer);
  }

  /** Sends the headers and `keepBytes` of the body, then drops the connection. */
  private cut(res: ServerResponse, ures: IncomingMessage, keepBytes: number): void {
    res.writeHead(ures.statusCode!, ures.statusMessage, ures.rawHeaders);
    let sent = 0;
    ures.on('data', (chunk: Buffer) => {
      if (sent >= keepBytes) return;
      const part = chunk.subarray(0, keepBytes - sent);
      sent += part.length;
      res.write(part, () => {
        if (sent >= keepBytes && !res.destroyed) {
          this.counts.cut++;
          res.socket?.destroy();
          ures.destroy();
        }
      });
    });
  }

  /** Closes the listener and every connection, and drops held responses. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
