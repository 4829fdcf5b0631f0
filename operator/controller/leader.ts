// Leader election on a coordination.k8s.io/v1 Lease, so that of several operator replicas exactly
// one reconciles. The timings are client-go's defaults: a lease lasts 15 s, the leader gives up
// when it could not renew for 10 s (before anyone else may take it), and every candidate tries
// every 2 s.
//
// Safety comes from the API server, not from clocks: every write is an update guarded by the
// resourceVersion that was read (optimistic concurrency), so two candidates that both decide to
// take an expired lease cannot both succeed; the loser gets 409 Conflict. Expiry is judged on the
// local clock from when this candidate last saw the record change (as client-go does), never from
// the renewTime the holder wrote, so clock skew between machines does not matter.
//
// `decideLease` is the pure part (record + times -> what to do); `LeaderElector` does the I/O.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../broker/observability/logger.js';

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;
/** Candidates other than the leader wait up to this factor of the retry period more (client-go's
 *  jitter), so that standbys do not all ask at the same instant. */
export const RETRY_JITTER = 1.2;

/** What the Lease's spec says, with times as epoch milliseconds. */
export interface LeaseRecord {
  readonly holderIdentity?: string | undefined;
  readonly leaseDurationSeconds?: number | undefined;
  readonly acquireTimeMs?: number | undefined;
  readonly renewTimeMs?: number | undefined;
  readonly leaseTransitions?: number | undefined;
}

export interface LeaseInput {
  /** undefined: there is no Lease object yet. */
  readonly current: LeaseRecord | undefined;
  /** Local time at which this candidate last saw `current` change. */
  readonly observedAtMs: number;
  readonly nowMs: number;
  readonly identity: string;
  readonly leaseDurationMs: number;
}

export type LeaseDecision =
  | { readonly action: 'create' | 'acquire' | 'renew'; readonly record: LeaseRecord }
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAtMs: number };

export function decideLease(i: LeaseInput): LeaseDecision {
  const durationSeconds = Math.ceil(i.leaseDurationMs / 1000);
  const take = (transitions: number): LeaseRecord => ({
    holderIdentity: i.identity,
    leaseDurationSeconds: durationSeconds,
    acquireTimeMs: i.nowMs,
    renewTimeMs: i.nowMs,
    leaseTransitions: transitions,
  });
  if (i.current === undefined) return { action: 'create', record: take(0) };
  const holder = i.current.holderIdentity ?? '';
  const transitions = i.current.leaseTransitions ?? 0;
  if (holder === i.identity) {
    return { action: 'renew', record: { ...take(transitions), acquireTimeMs: i.current.acquireTimeMs ?? i.nowMs } };
  }
  // A released lease (no holder) is free at once.
  if (holder === '') return { action: 'acquire', record: take(transitions + 1) };
  // The holder's own duration counts (a releasing holder writes 1 s); ours if it wrote none.
  const heldMs = i.current.leaseDurationSeconds !== undefined && i.current.leaseDurationSeconds > 0 ? i.current.leaseDurationSeconds * 1000 : i.leaseDurationMs;
  const expiresAtMs = i.observedAtMs + heldMs;
  if (i.nowMs < expiresAtMs) return { action: 'wait', holder, expiresAtMs };
  return { action: 'acquire', record: take(transitions + 1) };
}

/** A leader that has not renewed for the renew deadline must stop: by then a standby may soon
 *  take the lease, and the old leader has to be gone before it does. */
export function leadershipLost(lastRenewMs: number, nowMs: number, renewDeadlineMs: number): boolean {
  return nowMs - lastRenewMs > renewDeadlineMs;
}

export function leaseRecordOf(lease: k8s.V1Lease): LeaseRecord {
  const s = lease.spec ?? {};
  const ms = (d: Date | undefined) => (d === undefined ? undefined : new Date(d).getTime());
  return {
    holderIdentity: s.holderIdentity,
    leaseDurationSeconds: s.leaseDurationSeconds,
    acquireTimeMs: ms(s.acquireTime),
    renewTimeMs: ms(s.renewTime),
    leaseTransitions: s.leaseTransitions,
  };
}

function leaseSpecOf(r: LeaseRecord): k8s.V1LeaseSpec {
  // MicroTime: the API server wants six fraction digits, which V1MicroTime writes.
  const micro = (ms: number | undefined) => (ms === undefined ? undefined : new k8s.V1MicroTime(ms));
  return {
    ...(r.holderIdentity === undefined ? {} : { holderIdentity: r.holderIdentity }),
    ...(r.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: r.leaseDurationSeconds }),
    ...(r.acquireTimeMs === undefined ? {} : { acquireTime: micro(r.acquireTimeMs)! }),
    ...(r.renewTimeMs === undefined ? {} : { renewTime: micro(r.renewTimeMs)! }),
    ...(r.leaseTransitions === undefined ? {} : { leaseTransitions: r.leaseTransitions }),
  };
}

export interface LeaderElectorOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly log: Logger;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
  /** Called once, when this candidate becomes the leader. */
  readonly onStartedLeading: () => void;
  /** Called once, when a leader loses the lease (it did not renew in time, or another holds it). */
  readonly onStoppedLeading: (reason: string) => void;
}

const STATUS_OF = (e: unknown) => (e instanceof k8s.ApiException ? e.code : 0);

export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #api: k8s.CoordinationV1Api;
  readonly #now: () => number;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  #observed: { text: string; atMs: number } | undefined;
  #leader = false;
  #lastRenewMs = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.#api = options.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.#now = options.now ?? Date.now;
    this.#leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.#retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
    if (!(this.#retryPeriodMs < this.#renewDeadlineMs && this.#renewDeadlineMs < this.#leaseDurationMs)) {
      throw new Error(`leader election needs retry period (${this.#retryPeriodMs} ms) < renew deadline (${this.#renewDeadlineMs} ms) < lease duration (${this.#leaseDurationMs} ms)`);
    }
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Campaigns, then renews, until stop() or the lease is lost. */
  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      // A renewal counts from when it was sent, not from when its answer came: the lease's holder
      // on the server is renewed at some point in between, and a standby counts from that.
      const attemptMs = this.#now();
      const ok = await this.#tryAcquireOrRenew();
      if (this.#stopped) return;
      const now = this.#now();
      if (ok) {
        this.#lastRenewMs = attemptMs;
        this.#armWatchdog(this.#renewDeadlineMs - (now - attemptMs));
        if (!this.#leader) {
          this.#leader = true;
          this.#o.log.info('became the leader', { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity });
          this.#o.onStartedLeading();
        }
      } else if (this.#leader && (ok === null || leadershipLost(this.#lastRenewMs, now, this.#renewDeadlineMs))) {
        this.#lose(ok === null ? 'another candidate holds the lease' : `the lease was not renewed for ${this.#renewDeadlineMs} ms`);
        return;
      }
      const pause = this.#leader ? this.#retryPeriodMs : this.#retryPeriodMs * (1 + Math.random() * (RETRY_JITTER - 1));
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, pause);
      });
    }
  }

  /**
   * Leadership ends at the renew deadline even while a Lease request hangs: the loop only looks
   * after each answer, and a standby may take the lease once it has expired.
   */
  #armWatchdog(inMs: number): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => {
      if (this.#leader && !this.#stopped) this.#lose(`the lease was not renewed for ${this.#renewDeadlineMs} ms (a Lease request did not answer)`);
    }, Math.max(0, inMs));
  }

  #lose(reason: string): void {
    clearTimeout(this.#watchdog);
    this.#leader = false;
    this.#o.log.error('lost the leader lease', { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity, reason });
    this.#stopped = true;
    this.#wake?.();
    this.#o.onStoppedLeading(reason);
  }

  /** true: this candidate holds the lease now; false: it does not (or the API failed); null: it
   *  was the leader and someone else holds the lease. */
  async #tryAcquireOrRenew(): Promise<boolean | null> {
    const { namespace, name, identity } = this.#o;
    let lease: k8s.V1Lease | undefined;
    try {
      lease = await this.#api.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (STATUS_OF(e) !== 404) {
        this.#o.log.warn('reading the leader lease failed', { lease: `${namespace}/${name}`, err: e });
        return false;
      }
    }
    const now = this.#now();
    const current = lease === undefined ? undefined : leaseRecordOf(lease);
    const text = JSON.stringify(current ?? null);
    if (this.#observed?.text !== text) this.#observed = { text, atMs: now };
    const d = decideLease({ current, observedAtMs: this.#observed.atMs, nowMs: now, identity, leaseDurationMs: this.#leaseDurationMs });
    if (d.action === 'wait') return this.#leader ? null : false;
    try {
      if (d.action === 'create') {
        await this.#api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: leaseSpecOf(d.record) } });
      } else {
        // The resourceVersion read above: a concurrent writer makes this a 409.
        await this.#api.replaceNamespacedLease({ namespace, name, body: { metadata: { name, namespace, resourceVersion: lease!.metadata!.resourceVersion! }, spec: leaseSpecOf(d.record) } });
      }
    } catch (e) {
      const status = STATUS_OF(e);
      // 409: another candidate wrote first; this one looks again next period.
      if (status !== 409) this.#o.log.warn('writing the leader lease failed', { lease: `${namespace}/${name}`, action: d.action, err: e });
      return false;
    }
    if (d.action !== 'renew') this.#o.log.info('acquired the leader lease', { lease: `${namespace}/${name}`, identity, transitions: d.record.leaseTransitions });
    return true;
  }

  /** Stops campaigning; a leader releases the lease (no holder, 1 s duration) so a standby takes
   *  over at once instead of waiting for it to expire. */
  /** Stops campaigning; `release` false leaves the lease to expire (reconciles may still run). */
  async stop(release = true): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    this.#wake?.();
    await this.#loop;
    if (!this.#leader) return;
    this.#leader = false;
    if (!release) {
      this.#o.log.warn('leaving the leader lease to expire: reconciles were still running', { lease: `${this.#o.namespace}/${this.#o.name}` });
      return;
    }
    const { namespace, name, identity } = this.#o;
    try {
      const lease = await this.#api.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = this.#now();
      const record: LeaseRecord = { ...leaseRecordOf(lease), holderIdentity: undefined, leaseDurationSeconds: 1, renewTimeMs: now };
      await this.#api.replaceNamespacedLease({ namespace, name, body: { metadata: { name, namespace, resourceVersion: lease.metadata!.resourceVersion! }, spec: leaseSpecOf(record) } });
      this.#o.log.info('released the leader lease', { lease: `${namespace}/${name}`, identity });
    } catch (e) {
      // It expires by itself within the lease duration.
      this.#o.log.warn('releasing the leader lease failed', { lease: `${namespace}/${name}`, err: e });
    }
  }
}
