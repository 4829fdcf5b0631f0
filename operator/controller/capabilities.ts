// Which optional APIs the Kubernetes cluster serves, found by API discovery: the Prometheus
// Operator's monitoring.coreos.com/v1 ServiceMonitor, PodMonitor and PrometheusRule. The answer is
// cached and asked again every refreshMs, so installing the Prometheus Operator after the Strata
// operator is noticed without a restart; when it changes, onChange lets the caller requeue every
// cluster. Until the first answer, get() asks and waits (a failure then fails the reconcile, which
// retries with back-off); after that a failed refresh keeps the last answer.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../broker/observability/logger.js';
import type { Capabilities } from '../reconcile/cluster.js';

export const MONITORING_GROUP = 'monitoring.coreos.com';
export const MONITORING_VERSION = 'v1';
export const CAPABILITIES_REFRESH_MS = 60_000;

export interface DiscoveredCapabilities extends Capabilities {
  /** monitoring.coreos.com/v1 PodMonitor (not rendered yet; reported for completeness). */
  readonly podMonitor: boolean;
}

/** From the resource list of monitoring.coreos.com/v1 (undefined: the group version is not served). */
export function capabilitiesOf(resources: readonly { kind: string; name: string }[] | undefined): DiscoveredCapabilities {
  const kinds = new Set((resources ?? []).filter((r) => !r.name.includes('/')).map((r) => r.kind));
  return { serviceMonitor: kinds.has('ServiceMonitor'), podMonitor: kinds.has('PodMonitor'), prometheusRule: kinds.has('PrometheusRule') };
}

export class CapabilitiesCache {
  readonly #custom: k8s.CustomObjectsApi;
  readonly #log: Logger;
  readonly #refreshMs: number;
  readonly #onChange: (c: DiscoveredCapabilities) => void;
  #current: DiscoveredCapabilities | undefined;
  #inFlight: Promise<DiscoveredCapabilities> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: { kubeConfig: k8s.KubeConfig; log: Logger; refreshMs?: number; onChange?: (c: DiscoveredCapabilities) => void }) {
    this.#custom = opts.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.#log = opts.log;
    this.#refreshMs = opts.refreshMs ?? CAPABILITIES_REFRESH_MS;
    this.#onChange = opts.onChange ?? (() => {});
  }

  async get(): Promise<DiscoveredCapabilities> {
    return this.#current ?? (await this.refresh());
  }

  /** Asks the API server now; concurrent callers share one request. */
  refresh(): Promise<DiscoveredCapabilities> {
    this.#inFlight ??= this.#discover().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #discover(): Promise<DiscoveredCapabilities> {
    let resources: k8s.V1APIResource[] | undefined;
    try {
      resources = (await this.#custom.getAPIResources({ group: MONITORING_GROUP, version: MONITORING_VERSION })).resources;
    } catch (e) {
      if (!(e instanceof k8s.ApiException && e.code === 404)) throw e;
    }
    const next = capabilitiesOf(resources);
    const before = this.#current;
    this.#current = next;
    if (before === undefined || JSON.stringify(before) !== JSON.stringify(next)) {
      this.#log.info('monitoring APIs discovered', { group: `${MONITORING_GROUP}/${MONITORING_VERSION}`, ...next });
      if (before !== undefined) this.#onChange(next);
    }
    return next;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.#log.warn('discovering the monitoring APIs failed; keeping the last answer', { err: e }));
    }, this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
