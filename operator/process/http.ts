// The operator's HTTP endpoint: /metrics (Prometheus text), /healthz (the process is alive and its
// watches have not been failing for long; the kubelet restarts it otherwise), /readyz (the informers
// have delivered their first lists; a standby that is synced is ready too, so a rollout of the
// Deployment does not wait for leadership).
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Watches failing this long make /healthz fail: well past the informers' back-off cap (30 s), so
 *  one API server restart does not get the operator killed, but a broken one does. */
export const WATCH_FAILING_UNHEALTHY_MS = 120_000;

export interface HealthSource {
  synced(): boolean;
  watchFailingForMs(): number;
  leader(): boolean;
}

export interface OperatorHttp {
  readonly port: number;
  close(): Promise<void>;
}

export async function startOperatorHttp(host: string, port: number, registry: Registry, health: HealthSource): Promise<OperatorHttp> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  app.get('/healthz', (_req, res) => {
    const failingMs = health.watchFailingForMs();
    if (failingMs > WATCH_FAILING_UNHEALTHY_MS) res.status(503).json({ status: 'watches failing', failingMs });
    else res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const role = health.leader() ? 'leader' : 'standby';
    if (health.synced()) res.json({ status: 'ready', role });
    else res.status(503).json({ status: 'informers not synced', role });
  });
  const server: Server = await new Promise((resolve, reject) => {
    // An empty host binds every interface (":8080", in a pod).
    const s = host === '' ? app.listen(port, () => resolve(s)) : app.listen(port, host, () => resolve(s));
    s.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
