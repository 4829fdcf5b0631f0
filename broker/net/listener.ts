// A Kafka listener: accepts TCP connections up to max.connections (more are closed at once, with a
// warning) and wraps each in a Connection. Shutdown is two steps: stop accepting, then let the
// connections finish the requests they have already read.
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { BrokerMetrics } from '../observability/metrics.js';
import { Connection, type ConnectionLimits, type FrameResult } from './connection.js';
import type { MemoryPool } from './memory-pool.js';

export interface ListenerOptions {
  name: string;
  host: string;
  port: number;
  maxConnections: number;
  limits: ConnectionLimits;
  pool: MemoryPool;
  log: Logger;
  metrics: BrokerMetrics;
  onFrame: (conn: Connection, frame: Buffer) => Promise<FrameResult> | FrameResult;
}

export class KafkaListener {
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private nextId = 0;

  constructor(private readonly opts: ListenerOptions) {}

  async start(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.error('listener error', { listener: this.opts.name, err }));
    return (server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.opts.maxConnections) {
      this.opts.log.warn('connection refused: max.connections reached', { listener: this.opts.name, remote: socket.remoteAddress, max: this.opts.maxConnections });
      socket.destroy();
      return;
    }
    const id = `${this.opts.name}-${++this.nextId}`;
    const conn = new Connection(socket, id, this.opts.limits, this.opts.pool, this.opts.log, this.opts.onFrame, (c) => {
      this.connections.delete(c);
      this.opts.metrics.connections.dec();
    });
    this.connections.add(conn);
    this.opts.metrics.connections.inc();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting new connections. Resolves at once: the server's close callback waits for
   *  every open connection to end, which would hold a graceful stop hostage to idle clients; the
   *  connections are drained and closed by `drainConnections`. */
  stopAccepting(): Promise<void> {
    this.server?.close();
    return Promise.resolve();
  }

  /** Finishes in-flight requests on every connection, then closes them. */
  async drainConnections(): Promise<void> {
    await Promise.all([...this.connections].map((c) => c.quiesce()));
    for (const c of [...this.connections]) c.close('shutdown');
  }
}
