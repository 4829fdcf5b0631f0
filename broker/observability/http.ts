// The broker's HTTP endpoint (strata.http.listener): /metrics in Prometheus text format, /healthz
// (the process is up) and /readyz (start-up is done and the Kafka listeners accept requests; a
// broker recovering its log is alive but not ready).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { BrokerMetrics } from './metrics.js';

export interface HttpEndpoint {
  port: number;
  close(): Promise<void>;
}

export async function startHttpEndpoint(host: string, port: number, metrics: BrokerMetrics, ready: () => boolean): Promise<HttpEndpoint> {
  // Loaded here, after the Kafka listeners are up: express and its dependencies take about 100 ms to
  // load, which would otherwise delay the first produce.
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (ready()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'starting' });
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
