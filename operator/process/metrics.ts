// The operator's Prometheus metrics, served at /metrics: reconciles by controller and result, their
// duration, the work queues' depth, whether this replica is the leader, watch events, and Node's
// default process metrics. One registry per process (not prom-client's global one).
import client from 'prom-client';
import type { ManagerObserver, ReconcileResultKind } from '../controller/manager.js';

export class OperatorMetrics implements ManagerObserver {
  readonly registry = new client.Registry();

  readonly reconciles = new client.Counter({
    name: 'strata_operator_reconcile_total',
    help: 'Reconciles finished, by controller and result (success, requeue, error: retried with back-off, terminal: waits for a change).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });

  readonly reconcileDuration = new client.Histogram({
    name: 'strata_operator_reconcile_duration_seconds',
    help: 'Time one reconcile took, by controller.',
    labelNames: ['controller'] as const,
    // A reconcile is a handful of API calls: tens of milliseconds, seconds when the API server is slow.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly watchEvents = new client.Counter({
    name: 'strata_operator_watch_events_total',
    help: 'Objects added, updated and deleted as the informers saw them, by resource and type.',
    labelNames: ['resource', 'type'] as const,
    registers: [this.registry],
  });

  readonly leader = new client.Gauge({
    name: 'strata_operator_leader',
    help: '1 while this replica holds the leader lease and reconciles, else 0.',
    registers: [this.registry],
  });

  constructor(queueDepths: () => ReadonlyMap<string, number>, controllers: readonly string[]) {
    new client.Gauge({
      name: 'strata_operator_queue_depth',
      help: 'Keys waiting in or being processed from the work queue, by controller.',
      labelNames: ['controller'] as const,
      registers: [this.registry],
      collect() {
        for (const [controller, depth] of queueDepths()) this.set({ controller }, depth);
      },
    });
    client.collectDefaultMetrics({ register: this.registry });
    this.leader.set(0);
    // Every controller's series exist from the start, so a rate() sees the first reconcile.
    for (const controller of controllers) {
      for (const result of ['success', 'requeue', 'error', 'terminal'] as const) this.reconciles.inc({ controller, result }, 0);
    }
  }

  reconciled(controller: string, result: ReconcileResultKind, seconds: number): void {
    this.reconciles.inc({ controller, result });
    this.reconcileDuration.observe({ controller }, seconds);
  }

  watchEvent(resource: string, type: string): void {
    this.watchEvents.inc({ resource, type });
  }
}
