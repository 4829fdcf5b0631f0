// An informer: lists a kind of object, then watches it from the list's resourceVersion, keeping a
// cache and telling a handler what was added, updated and deleted. The controller only needs to
// know *which* keys to reconcile, but the cache is what lets a re-list report the objects deleted
// while no watch was open (they are in the cache and not in the new list).
//
//   - a watch that ends normally (the API server closes it after timeoutSeconds) is opened again
//     from the last resourceVersion seen, without a list;
//   - "410 Gone" (the resourceVersion is too old, compacted away) re-lists at once;
//   - any other failure (the API server unreachable, 5xx, a refused list) re-lists after a back-off
//     that doubles per consecutive failure, capped, and is reported as failing from then on until
//     a list or watch succeeds again (for /healthz).
// Bookmarks are asked for, so an idle watch still moves its resourceVersion forward and a reopen
// after a quiet hour rarely needs a re-list.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../broker/observability/logger.js';

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
/** client-go's reflector: each watch lasts between 5 and 10 minutes, so they do not all end at once. */
export const WATCH_TIMEOUT_MIN_SECONDS = 300;
/** One informer caches one kind of the operator's objects (a label selector limits it to Strata's);
 *  more than this means the selector is wrong, and the list is refused rather than held. */
export const OBJECTS_MAX = 200_000;

export interface InformerSource {
  /** "v1", "apps/v1", "strata.dev/v1alpha1". */
  readonly apiVersion: string;
  readonly kind: string;
  /** The resource's plural name, for the watch path. */
  readonly plural: string;
  /** undefined: every namespace. */
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | undefined;
}

export type InformerEventType = 'add' | 'update' | 'delete';

export interface InformerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly source: InformerSource;
  readonly log: Logger;
  readonly now?: () => number;
}

export class InformerError extends Error {
  override readonly name = 'InformerError';
  constructor(
    readonly code: 'WATCH_ERROR' | 'TOO_MANY_OBJECTS',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function watchPath(s: InformerSource): string {
  const base = s.apiVersion.includes('/') ? `/apis/${s.apiVersion}` : `/api/${s.apiVersion}`;
  return `${base}${s.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(s.namespace)}`}/${s.plural}`;
}

/** The resource as kubectl names it: "pods", "statefulsets.apps", "strataclusters.strata.dev". */
export function resourceName(s: InformerSource): string {
  const slash = s.apiVersion.indexOf('/');
  return slash < 0 ? s.plural : `${s.plural}.${s.apiVersion.slice(0, slash)}`;
}

export function describeSource(s: InformerSource): string {
  return `${s.plural}.${s.apiVersion}${s.namespace === undefined ? '' : ` in ${s.namespace}`}${s.labelSelector === undefined ? '' : ` (${s.labelSelector})`}`;
}

const cacheKey = (o: k8s.KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const isGone = (e: unknown) => (e as { statusCode?: number })?.statusCode === 410 || (e instanceof k8s.ApiException && e.code === 410);

export class Informer {
  readonly #o: InformerOptions;
  readonly #objects: k8s.KubernetesObjectApi;
  readonly #watch: k8s.Watch;
  readonly #now: () => number;
  readonly #handlers: ((type: InformerEventType, obj: k8s.KubernetesObject) => void)[] = [];
  readonly #cache = new Map<string, k8s.KubernetesObject>();
  #resourceVersion = '';
  #synced = false;
  #failures = 0;
  #failingSinceMs: number | null = null;
  #stopped = true;
  #abort: AbortController | undefined;
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: InformerOptions) {
    this.#o = options;
    this.#objects = k8s.KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.#watch = new k8s.Watch(options.kubeConfig);
    this.#now = options.now ?? Date.now;
  }

  get source(): InformerSource {
    return this.#o.source;
  }

  /** Handlers are called synchronously, in event order; add them before start(). */
  onEvent(handler: (type: InformerEventType, obj: k8s.KubernetesObject) => void): void {
    this.#handlers.push(handler);
  }

  /** True once the first list has been delivered. */
  get synced(): boolean {
    return this.#synced;
  }

  /** How long lists and watches have been failing without a success in between; 0 when healthy. */
  failingForMs(): number {
    return this.#failingSinceMs === null ? 0 : this.#now() - this.#failingSinceMs;
  }

  /** Every cached object (for a periodic resync). */
  list(): k8s.KubernetesObject[] {
    return [...this.#cache.values()];
  }

  start(): void {
    if (this.#loop !== undefined) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    const what = describeSource(this.#o.source);
    while (!this.#stopped) {
      try {
        if (this.#resourceVersion === '') await this.#relist();
        if (this.#stopped) return;
        await this.#watchOnce();
      } catch (e) {
        if (this.#stopped) return;
        if (isGone(e)) {
          this.#o.log.debug('watch expired (410 Gone), listing again', { resource: what });
          this.#resourceVersion = '';
          continue;
        }
        this.#failures++;
        this.#failingSinceMs ??= this.#now();
        this.#resourceVersion = '';
        const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.#failures - 1, 20));
        this.#o.log.warn('list or watch failed; listing again after a back-off', { resource: what, failures: this.#failures, retryInMs: ms, err: e });
        await new Promise<void>((wake) => (this.#sleep = { timer: setTimeout(wake, ms), wake }));
        this.#sleep = undefined;
      }
    }
  }

  #healthy(): void {
    this.#failures = 0;
    this.#failingSinceMs = null;
  }

  async #relist(): Promise<void> {
    const s = this.#o.source;
    const list = await this.#objects.list(s.apiVersion, s.kind, s.namespace, undefined, undefined, undefined, undefined, s.labelSelector);
    if (list.items.length > OBJECTS_MAX) {
      throw new InformerError('TOO_MANY_OBJECTS', `${describeSource(s)} lists ${list.items.length} objects, more than the ${OBJECTS_MAX} an informer holds`);
    }
    const fresh = new Map(list.items.map((o) => [cacheKey(o), o]));
    for (const [key, old] of this.#cache) {
      if (!fresh.has(key)) {
        this.#cache.delete(key);
        this.#emit('delete', old);
      }
    }
    for (const [key, o] of fresh) {
      const old = this.#cache.get(key);
      this.#cache.set(key, o);
      if (old === undefined) this.#emit('add', o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.#emit('update', o);
    }
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
    this.#synced = true;
    this.#healthy();
  }

  /** One watch request: resolves when the server ends it, rejects on a failure or 410. */
  #watchOnce(): Promise<void> {
    const s = this.#o.source;
    return new Promise<void>((resolve, reject) => {
      let ended = false;
      const end = (err: unknown) => {
        if (ended) return;
        ended = true;
        if (err === null || err === undefined) resolve();
        else reject(err);
      };
      const onEvent = (phase: string, obj: k8s.KubernetesObject & { code?: number; message?: string }) => {
        if (ended) return;
        switch (phase) {
          case 'ADDED':
          case 'MODIFIED': {
            const key = cacheKey(obj);
            const had = this.#cache.has(key);
            if (!had && this.#cache.size >= OBJECTS_MAX) {
              end(new InformerError('TOO_MANY_OBJECTS', `${describeSource(s)} has more than the ${OBJECTS_MAX} objects an informer holds`));
              return;
            }
            this.#cache.set(key, obj);
            this.#emit(had ? 'update' : 'add', obj);
            break;
          }
          case 'DELETED':
            this.#cache.delete(cacheKey(obj));
            this.#emit('delete', obj);
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR': {
            // A Status object: 410 when the resourceVersion is too old.
            const err = obj.code === 410 ? Object.assign(new Error(obj.message ?? 'Gone'), { statusCode: 410 }) : new InformerError('WATCH_ERROR', `watch of ${describeSource(s)}: ${obj.message ?? JSON.stringify(obj)}`);
            end(err);
            this.#abort?.abort();
            return;
          }
          default:
            return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv !== undefined && rv !== '') this.#resourceVersion = rv;
      };
      const timeoutSeconds = WATCH_TIMEOUT_MIN_SECONDS + Math.floor(Math.random() * WATCH_TIMEOUT_MIN_SECONDS);
      this.#watch
        .watch(
          watchPath(s),
          { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds, ...(s.labelSelector === undefined ? {} : { labelSelector: s.labelSelector }) },
          onEvent,
          end,
        )
        .then(
          (abort) => {
            this.#abort = abort;
            // The request was answered with 200: the watch is open.
            if (!ended) this.#healthy();
            if (this.#stopped) abort.abort();
          },
          (e: unknown) => end(e),
        );
    });
  }

  #emit(type: InformerEventType, obj: k8s.KubernetesObject): void {
    for (const h of this.#handlers) h(type, obj);
  }
}
