// The manager runs controllers. A controller is a name, the watches that feed its work queue (each
// maps an object to the keys of the resources to reconcile), and a reconcile function; the manager
// gives it a queue and workers, and shares one informer among the controllers that watch the same
// objects. Adding a controller is one `manager.add(...)`:
//
//     manager.add({ name: 'strataclusters', watches: clusterWatches(), reconcile: (k) => clusters.reconcile(k) });
//
// Informers run on every replica, so a standby's cache is warm and /readyz can tell it is synced;
// workers run only on the leader (startWorkers, called when the Lease is acquired). Events that
// arrive on a standby still collapse into its queue and are reconciled if it becomes the leader,
// after a full resync (everything in the caches is queued, as the last leader may have died
// mid-reconcile).
//
// Every resyncMs every cached object's keys are queued again. 5 minutes is far shorter than
// controller-runtime's default (10 hours): the operator cannot watch a broker's own state, so looking
// again is how it notices what no Kubernetes event reports. Reconciles are levels; this costs reads.
import { ApiException, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../broker/observability/logger.js';
import { Informer, resourceName, type InformerSource } from './informer.js';
import { WorkQueue } from './queue.js';
import { runWorker, TerminalError, type Reconcile } from './worker.js';

export const RESYNC_MS = 5 * 60_000;
export const WORKERS_DEFAULT = 2;
export const WORKERS_MAX = 64;
/** How long stop() waits for reconciles in flight before it returns anyway. */
export const STOP_WAIT_MS = 20_000;

export interface ControllerWatch {
  /** What to watch; the manager fills in the namespace it watches. */
  readonly source: Omit<InformerSource, 'namespace'>;
  /** The keys ("namespace/name") of the controller's resources an event on `obj` concerns. */
  readonly keys: (obj: KubernetesObject) => readonly string[];
}

export interface ControllerDefinition {
  readonly name: string;
  readonly watches: readonly ControllerWatch[];
  readonly reconcile: Reconcile;
}

export type ReconcileResultKind = 'success' | 'requeue' | 'error' | 'terminal';

export interface ManagerObserver {
  reconciled?(controller: string, result: ReconcileResultKind, seconds: number): void;
  watchEvent?(resource: string, type: string): void;
}

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  /** undefined: every namespace. */
  readonly namespace?: string | undefined;
  readonly workers?: number;
  readonly resyncMs?: number;
  readonly log: Logger;
  readonly observer?: ManagerObserver;
}

interface Running {
  readonly def: ControllerDefinition;
  readonly queue: WorkQueue;
  readonly informers: Informer[];
  workers: Promise<void>[];
}

export class Manager {
  readonly #o: ManagerOptions;
  readonly #informers = new Map<string, Informer>();
  readonly #controllers: Running[] = [];
  #resyncTimer: NodeJS.Timeout | undefined;
  #workersStarted = false;
  #stopped = false;

  constructor(options: ManagerOptions) {
    const workers = options.workers ?? WORKERS_DEFAULT;
    if (!Number.isInteger(workers) || workers < 1 || workers > WORKERS_MAX) throw new RangeError(`workers must be an integer from 1 to ${WORKERS_MAX}, not ${workers}`);
    this.#o = options;
  }

  /** Registers a controller; call before startInformers. */
  add(def: ControllerDefinition): void {
    if (this.#controllers.some((c) => c.def.name === def.name)) throw new Error(`a controller named ${def.name} is already registered`);
    const queue = new WorkQueue();
    const running: Running = { def, queue, informers: [], workers: [] };
    const log = this.#o.log.child({ controller: def.name });
    for (const w of def.watches) {
      const source: InformerSource = { ...w.source, namespace: this.#o.namespace };
      const id = `${source.apiVersion}/${source.plural}?${source.labelSelector ?? ''}`;
      let informer = this.#informers.get(id);
      if (informer === undefined) {
        informer = new Informer({ kubeConfig: this.#o.kubeConfig, source, log: this.#o.log });
        this.#informers.set(id, informer);
        const inf = informer;
        inf.onEvent((type) => this.#o.observer?.watchEvent?.(resourceName(inf.source), type));
      }
      running.informers.push(informer);
      informer.onEvent((_type, obj) => {
        for (const key of w.keys(obj)) {
          try {
            queue.add(key);
          } catch (e) {
            // QueueFullError: a bug or an attack by object count; say so, keep watching.
            log.error('could not queue a key', { key, err: e });
          }
        }
      });
    }
    this.#controllers.push(running);
  }

  /** Starts every informer (on every replica) and the periodic resync. */
  startInformers(): void {
    for (const i of this.#informers.values()) i.start();
    const resyncMs = this.#o.resyncMs ?? RESYNC_MS;
    this.#resyncTimer = setInterval(() => this.resync(), resyncMs);
    this.#resyncTimer.unref();
  }

  /** True once every informer has delivered its first list. */
  get synced(): boolean {
    return [...this.#informers.values()].every((i) => i.synced);
  }

  /** The longest time any informer has been failing; 0 when all are healthy. */
  failingForMs(): number {
    return Math.max(0, ...[...this.#informers.values()].map((i) => i.failingForMs()));
  }

  /** Keys waiting or in progress, per controller (a gauge). */
  queueDepths(): Map<string, number> {
    return new Map(this.#controllers.map((c) => [c.def.name, c.queue.size]));
  }

  get controllerNames(): string[] {
    return this.#controllers.map((c) => c.def.name);
  }

  /** Queues the keys of every cached object of every controller. */
  resync(): void {
    for (const c of this.#controllers) {
      c.def.watches.forEach((w, i) => {
        for (const obj of c.informers[i]!.list()) {
          for (const key of w.keys(obj)) {
            try {
              c.queue.add(key);
            } catch {
              // full: logged where events are queued
            }
          }
        }
      });
    }
  }

  /** The leader runs the workers; everything cached is queued first. */
  startWorkers(): void {
    if (this.#workersStarted || this.#stopped) return;
    this.#workersStarted = true;
    this.resync();
    const n = this.#o.workers ?? WORKERS_DEFAULT;
    for (const c of this.#controllers) {
      const log = this.#o.log.child({ controller: c.def.name });
      const reconcile = this.#instrument(c.def);
      for (let i = 0; i < n; i++) {
        c.workers.push(
          runWorker(c.queue, reconcile, {
            onError: (key, error, retryInMs) => {
              // A conflict means the resource changed under the reconcile (a user's edit, a status
              // write racing a spec change); the retry reads it afresh. Normal, so not a warning.
              if (error instanceof ApiException && error.code === 409) log.info('reconcile conflicted with a concurrent change; retrying', { key, retryInMs });
              else log.warn(retryInMs === null ? 'reconcile failed; waiting for a change' : 'reconcile failed; retrying', { key, err: error, retryInMs });
            },
          }),
        );
      }
    }
  }

  #instrument(def: ControllerDefinition): Reconcile {
    const observer = this.#o.observer;
    const log = this.#o.log.child({ controller: def.name });
    return async (key) => {
      const started = process.hrtime.bigint();
      let result: ReconcileResultKind = 'error';
      try {
        const r = await def.reconcile(key);
        result = r.requeueAfterMs === undefined ? 'success' : 'requeue';
        log.debug('reconciled', { key, requeueAfterMs: r.requeueAfterMs });
        return r;
      } catch (e) {
        result = e instanceof TerminalError ? 'terminal' : 'error';
        throw e;
      } finally {
        observer?.reconciled?.(def.name, result, Number(process.hrtime.bigint() - started) / 1e9);
      }
    };
  }

  /** Stops the queues (reconciles in flight finish, bounded by STOP_WAIT_MS) and the informers. */
  /** Stops everything; resolves true when every reconcile finished, false when some were left running. */
  async stop(): Promise<boolean> {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    for (const c of this.#controllers) c.queue.shutDown();
    const workers = Promise.all(this.#controllers.flatMap((c) => c.workers));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([workers.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), STOP_WAIT_MS)))]);
    clearTimeout(timer);
    if (!finished) this.#o.log.warn('reconciles still running at shutdown; not waiting for them', { waitedMs: STOP_WAIT_MS });
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    return finished;
  }
}
