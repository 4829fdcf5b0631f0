// `strata operator`: the operator process. It wires the parts of ../controller/ together:
//
//   informers (every replica) -> work queues -> workers (the leader only) -> ClusterReconciler and
//     TopicReconciler (the brokers asked through the Kafka admin client of ../kafka/)
//   LeaderElector on a Lease: becoming the leader starts the workers; losing the lease exits 1
//     (the kubelet restarts the pod, which comes back as a standby), because a reconcile in flight
//     cannot be called back and the new leader must be the only writer;
//   CapabilitiesCache: the monitoring CRDs, for what the reconciler renders;
//   the HTTP endpoint: /metrics, /healthz, /readyz.
//
// SIGTERM or SIGINT: the queues stop, reconciles in flight finish (bounded), the lease is released
// (a standby takes over at once), the HTTP endpoint closes, and the process exits 0.
// Logs are JSON lines on stdout.
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { formatHostPort, parseHostPort, type HostPort } from '../../broker/config/listeners.js';
import { createLogger, type Logger, type LogLevel } from '../../broker/observability/logger.js';
import { CapabilitiesCache } from '../controller/capabilities.js';
import { clusterController } from '../controller/cluster-controller.js';
import type { StrataCluster } from '../api/v1alpha1.js';
import { liveConfigOnBrokers, podAddressOf, replicasHeldByBrokers } from '../controller/brokers.js';
import { ClusterReconciler } from '../controller/cluster-reconciler.js';
import { LeaderElector } from '../controller/leader.js';
import { Manager, WORKERS_DEFAULT, WORKERS_MAX } from '../controller/manager.js';
import { TopicReconciler } from '../controller/topic-reconciler.js';
import { topicController } from '../controller/topic-controller.js';
import { DEFAULT_BROKER_IMAGE_REPOSITORY, DEFAULT_CLUSTER_DOMAIN, type OperatorSettings } from '../defaults.js';
import { startOperatorHttp } from './http.js';
import { OperatorMetrics } from './metrics.js';

export const LEASE_NAME_DEFAULT = 'strata-operator';
export const HTTP_LISTENER_DEFAULT = ':8080';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
/** RFC 1123 label: what a namespace or Lease name may be. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const OPERATOR_HELP = `Usage: strata operator [options]

Runs the Strata operator: watches StrataCluster resources (and the StatefulSets, pods, ConfigMaps
and Services they own) and StrataTopic resources, and reconciles them. Several replicas may run; one holds a
coordination.k8s.io Lease and reconciles, the others wait as standbys. SIGTERM or SIGINT stops it
cleanly: reconciles in flight finish, the Lease is released, and it exits 0. It exits 1 if it
loses the Lease. Logs are JSON lines on stdout.

Options:
  --kubeconfig FILE         kubeconfig to use; without it, the in-cluster service account when run
                            in a pod, else $KUBECONFIG or ~/.kube/config
  --namespace NS            watch and reconcile only this namespace (default: every namespace)
  --lease-namespace NS      namespace of the leader Lease (default: the pod's own namespace in a
                            cluster, else --namespace, else "default")
  --lease-name NAME         name of the leader Lease (default: ${LEASE_NAME_DEFAULT})
  --http-listener HOST:PORT where /metrics, /healthz and /readyz are served (default: ${HTTP_LISTENER_DEFAULT},
                            every interface); port 0 picks a free port, logged at start-up
  --workers N               reconciles run at once per controller, 1 to ${WORKERS_MAX} (default: ${WORKERS_DEFAULT});
                            one cluster is never reconciled twice at once
  --image IMAGE             broker image for clusters whose spec.image is absent
                            (default: ${DEFAULT_BROKER_IMAGE_REPOSITORY}:<this version>)
  --cluster-domain DOMAIN   DNS domain of the Kubernetes cluster, in the brokers' advertised names
                            (default: ${DEFAULT_CLUSTER_DOMAIN})
  --log-level LEVEL         trace, debug, info, warn or error (default: info)
  -h, --help                show this help
`;

export interface OperatorArgs {
  readonly kubeconfig: string | undefined;
  readonly namespace: string | undefined;
  readonly leaseNamespace: string | undefined;
  readonly leaseName: string;
  readonly http: HostPort;
  readonly workers: number;
  readonly settings: OperatorSettings;
  readonly logLevel: LogLevel;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses and checks the flags; a bad one is a UsageError naming it. Returns null for --help. */
export function parseOperatorArgs(argv: string[], version: string): OperatorArgs | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'lease-namespace': { type: 'string' },
        'lease-name': { type: 'string' },
        'http-listener': { type: 'string' },
        workers: { type: 'string' },
        image: { type: 'string' },
        'cluster-domain': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help === true) return null;
  const label = (flag: string, v: string | undefined) => {
    if (v !== undefined && !DNS_LABEL.test(v)) throw new UsageError(`--${flag}: '${v}' is not a valid name (lower-case letters, digits and '-', at most 63)`);
    return v;
  };
  const http = parseHostPort(values['http-listener'] ?? HTTP_LISTENER_DEFAULT);
  if (typeof http === 'string') throw new UsageError(`--http-listener: ${http}`);
  const workersText = values.workers ?? String(WORKERS_DEFAULT);
  const workers = Number(workersText);
  if (!/^\d+$/.test(workersText) || workers < 1 || workers > WORKERS_MAX) throw new UsageError(`--workers: '${workersText}' is not a whole number from 1 to ${WORKERS_MAX}`);
  const image = values.image ?? `${DEFAULT_BROKER_IMAGE_REPOSITORY}:${version}`;
  if (image === '' || /\s/.test(image)) throw new UsageError(`--image: '${image}' is not an image reference`);
  const clusterDomain = values['cluster-domain'] ?? DEFAULT_CLUSTER_DOMAIN;
  if (clusterDomain.length > 253 || !DNS_NAME.test(clusterDomain)) throw new UsageError(`--cluster-domain: '${clusterDomain}' is not a DNS domain`);
  const logLevel = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level: '${logLevel}' is not one of ${LOG_LEVELS.join(', ')}`);
  if (values.kubeconfig !== undefined && !existsSync(values.kubeconfig)) throw new UsageError(`--kubeconfig: ${values.kubeconfig} does not exist`);
  return {
    kubeconfig: values.kubeconfig,
    namespace: label('namespace', values.namespace),
    leaseNamespace: label('lease-namespace', values['lease-namespace']),
    leaseName: label('lease-name', values['lease-name']) ?? LEASE_NAME_DEFAULT,
    http,
    workers,
    settings: { image, clusterDomain },
    logLevel: logLevel as LogLevel,
  };
}

const inCluster = () => process.env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(`${SERVICE_ACCOUNT_DIR}/token`);

function loadKubeConfig(file: string | undefined): { kubeConfig: k8s.KubeConfig; source: string } {
  const kubeConfig = new k8s.KubeConfig();
  if (file !== undefined) {
    kubeConfig.loadFromFile(file);
    return { kubeConfig, source: file };
  }
  if (inCluster()) {
    kubeConfig.loadFromCluster();
    return { kubeConfig, source: 'in-cluster service account' };
  }
  kubeConfig.loadFromDefault();
  return { kubeConfig, source: process.env.KUBECONFIG ?? '~/.kube/config' };
}

function leaseNamespaceOf(args: OperatorArgs): string {
  if (args.leaseNamespace !== undefined) return args.leaseNamespace;
  if (inCluster()) {
    try {
      const ns = readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim();
      if (ns !== '') return ns;
    } catch {
      // fall through to the flags
    }
  }
  return args.namespace ?? 'default';
}

/** Runs the operator until a signal (0) or a lost lease (1). */
export async function runOperator(argv: string[], version: string): Promise<number> {
  let args;
  try {
    args = parseOperatorArgs(argv, version);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`strata operator: ${e.message}\n\n${OPERATOR_HELP}`);
    return 2;
  }
  if (args === null) {
    process.stdout.write(OPERATOR_HELP);
    return 0;
  }
  const log = createLogger({ level: args.logLevel, format: 'json', write: (line) => process.stdout.write(line) }, { component: 'operator' });
  let loaded;
  try {
    loaded = loadKubeConfig(args.kubeconfig);
    if (loaded.kubeConfig.getCurrentCluster() === null) throw new Error('it names no current cluster');
  } catch (e) {
    process.stderr.write(`strata operator: cannot load the Kubernetes configuration: ${(e as Error).message}\n`);
    return 2;
  }
  const { kubeConfig } = loaded;
  // The pod's name (POD_NAME from the downward API, else the host name, which is the pod's name in
  // a pod) and a random suffix, so a restarted process never mistakes the old lease for its own.
  const identity = `${process.env.POD_NAME || hostname()}_${randomBytes(6).toString('hex')}`;
  const leaseNamespace = leaseNamespaceOf(args);
  log.info('operator starting', {
    version,
    kubeconfig: loaded.source,
    server: kubeConfig.getCurrentCluster()?.server,
    namespace: args.namespace ?? '(all)',
    lease: `${leaseNamespace}/${args.leaseName}`,
    identity,
    workers: args.workers,
    image: args.settings.image,
    clusterDomain: args.settings.clusterDomain,
  });

  let metrics: OperatorMetrics | undefined;
  const manager = new Manager({
    kubeConfig,
    namespace: args.namespace,
    workers: args.workers,
    log,
    observer: { reconciled: (c, r, s) => metrics?.reconciled(c, r, s), watchEvent: (res, t) => metrics?.watchEvent(res, t) },
  });
  const capabilities = new CapabilitiesCache({ kubeConfig, log, onChange: () => manager.resync() });
  // The brokers are asked (partition replicas before a scale-down, live config) at their pods'
  // stable names; topics through each cluster's client Service.
  const brokers = {
    addressOf: podAddressOf(args.settings),
    onError: (c: StrataCluster, ordinal: number, e: unknown) => log.info('a broker could not be asked', { cluster: `${c.metadata.namespace}/${c.metadata.name}`, ordinal, err: e }),
  };
  const clusters = new ClusterReconciler({
    kubeConfig,
    settings: args.settings,
    capabilities: () => capabilities.get(),
    replicasHeld: replicasHeldByBrokers(brokers),
    liveConfig: liveConfigOnBrokers(brokers),
    onEventError: (e) => log.warn('recording an Event failed', { err: e }),
  });
  const topics = new TopicReconciler({ kubeConfig, settings: args.settings });
  manager.add(clusterController((key) => clusters.reconcile(key)));
  manager.add(topicController((key) => topics.reconcile(key)));
  metrics = new OperatorMetrics(() => manager.queueDepths(), manager.controllerNames);
  const m = metrics;

  let lost: ((reason: string) => void) | undefined;
  const lostLease = new Promise<string>((resolve) => (lost = resolve));
  const elector = new LeaderElector({
    kubeConfig,
    namespace: leaseNamespace,
    name: args.leaseName,
    identity,
    log,
    onStartedLeading: () => {
      m.leader.set(1);
      manager.startWorkers();
    },
    onStoppedLeading: (reason) => {
      m.leader.set(0);
      lost!(reason);
    },
  });

  // The handlers are in place before anything starts, so an early SIGTERM still stops cleanly.
  let signalled: (signal: string) => void = () => {};
  const signal = new Promise<string>((resolve) => (signalled = resolve));
  process.once('SIGTERM', () => signalled('SIGTERM'));
  process.once('SIGINT', () => signalled('SIGINT'));

  let http;
  try {
    http = await startOperatorHttp(args.http.host, args.http.port, m.registry, { synced: () => manager.synced, watchFailingForMs: () => manager.failingForMs(), leader: () => elector.isLeader });
  } catch (e) {
    log.error('start-up failed: the HTTP endpoint could not listen', { listener: formatHostPort(args.http), err: e });
    return 1;
  }
  log.info('http endpoint listening', { host: args.http.host, port: http.port, paths: ['/metrics', '/healthz', '/readyz'] });
  manager.startInformers();
  capabilities.start();
  elector.start();

  const outcome = await Promise.race([signal.then((s) => ({ signal: s })), lostLease.then((reason) => ({ lost: reason }))]);
  if ('lost' in outcome) {
    // Exit at once: the new leader must be the only one writing.
    log.error('exiting: the leader lease was lost', { reason: outcome.lost, exitCode: 1 });
    return 1;
  }
  return shutDown(log, outcome.signal, { manager, elector, capabilities, http });
}

async function shutDown(
  log: Logger,
  signal: string,
  parts: { manager: Manager; elector: LeaderElector; capabilities: CapabilitiesCache; http: { close(): Promise<void> } },
): Promise<number> {
  log.info('signal received, shutting down', { signal });
  try {
    // A reconcile still running would write after a successor took over; then the lease is left
    // to expire instead of being handed over at once.
    const finished = await parts.manager.stop();
    await parts.elector.stop(finished);
    parts.capabilities.stop();
    await parts.http.close();
  } catch (e) {
    log.error('shutdown failed', { err: e });
    return 1;
  }
  log.info('operator stopped');
  return 0;
}
