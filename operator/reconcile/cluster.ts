// The objects a StrataCluster wants to exist, as pure functions of the custom resource: no API
// calls, no clock, no randomness. The controller applies what desiredClusterObjects returns with
// server-side apply, in order; everything carries an owner reference to the cluster, so deleting
// the cluster garbage-collects it (the brokers' claims follow the spec's deleteClaim, through the
// StatefulSet's retention policy).
//
// The pod contract (what each broker process gets):
//   - node.id = the pod's ordinal, from the StatefulSet's apps.kubernetes.io/pod-index label
//     through the downward API (STRATA_CONFIG_NODE_ID);
//   - advertised.listeners = the pod's stable name in the headless Service, through Kubernetes'
//     $(VAR) expansion of the pod name (STRATA_CONFIG_ADVERTISED_LISTENERS);
//   - every other key from server.properties in the ConfigMap, mounted at /etc/strata;
//   - S3 credentials from the Secret as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which the
//     broker's S3 client reads;
//   - data on the PersistentVolumeClaim at /var/lib/strata (log.dirs=/var/lib/strata/data);
//   - readiness = /readyz (the Kafka listeners accept requests); liveness = /healthz, checked only
//     after a start-up probe that allows an hour of log recovery;
//   - with spec.rack, broker.rack = the label spec.rack.topologyKey of the pod's node: the operator
//     copies it onto the pod (annotation strata.dev/rack) and the rack-init container adds it to a
//     copy of server.properties, which the broker reads instead (operator/pod/rack-init.ts).
import type {
  V1ConfigMap,
  V1Container,
  V1EnvVar,
  V1OwnerReference,
  V1PersistentVolumeClaim,
  V1PodDisruptionBudget,
  V1PodSpec,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { API_VERSION, type StrataCluster } from '../api/v1alpha1.js';
import {
  BROKER_UID,
  CONFIG_FILE_NAME,
  CONFIG_MOUNT_DIR,
  DATA_MOUNT_DIR,
  DEFAULT_STORAGE_SIZE,
  DEFAULT_TERMINATION_GRACE_SECONDS,
  HTTP_PORT,
  PODINFO_MOUNT_DIR,
  PROBES,
  RACK_CONFIG_DIR,
  RACK_INIT_TIMEOUT_SECONDS,
  type OperatorSettings,
} from '../defaults.js';
import { InvalidSpecError, renderBrokerConfig, type RenderedBrokerConfig } from './broker-config.js';
import { ANNOTATION_CONFIG_HASH, brokerSelector, CLUSTER_NAME_MAX, clusterNames, commonLabels, LABEL_COMPONENT, LABEL_POD_INDEX } from './names.js';

/** Any object the apply step writes: apiVersion, kind and metadata.name are always set. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: V1OwnerReference[] };
  [field: string]: unknown;
}

/** Which optional APIs exist in the Kubernetes cluster (discovered by the controller). */
export interface Capabilities {
  /** monitoring.coreos.com/v1 ServiceMonitor */
  readonly serviceMonitor: boolean;
  /** monitoring.coreos.com/v1 PrometheusRule */
  readonly prometheusRule: boolean;
}

export interface DesiredCluster {
  readonly objects: KubeObject[];
  readonly config: RenderedBrokerConfig;
  /** host:port list for clients, reported in status.bootstrapServers. */
  readonly bootstrapServers: string;
  /** The pod template's strata.dev/config-hash (see RenderOptions.liveConfig). */
  readonly configHash: string;
}

/** Env var names of the pod contract; the broker reads STRATA_CONFIG_<KEY> as config keys. */
export const ENV_POD_NAME = 'STRATA_POD_NAME';
export const ENV_POD_NAMESPACE = 'STRATA_POD_NAMESPACE';
export const ENV_NODE_ID = 'STRATA_CONFIG_NODE_ID';
export const ENV_ADVERTISED_LISTENERS = 'STRATA_CONFIG_ADVERTISED_LISTENERS';

export function ownerReference(cluster: StrataCluster): V1OwnerReference {
  if (cluster.metadata.uid === undefined) throw new InvalidSpecError('metadata.uid', 'the cluster has no uid; only a stored StrataCluster can own objects');
  return { apiVersion: API_VERSION, kind: 'StrataCluster', name: cluster.metadata.name, uid: cluster.metadata.uid, controller: true, blockOwnerDeletion: true };
}

function meta(cluster: StrataCluster, name: string, extraLabels: Record<string, string> = {}) {
  return {
    name,
    namespace: cluster.metadata.namespace ?? 'default',
    labels: { ...commonLabels(cluster), ...extraLabels },
    ownerReferences: [ownerReference(cluster)],
  };
}

/** The stable DNS name of broker pod `podName` (or of a $(VAR) reference to it). */
export function brokerHost(cluster: StrataCluster, settings: OperatorSettings, podName: string): string {
  const ns = cluster.metadata.namespace ?? 'default';
  return `${podName}.${clusterNames(cluster.metadata.name).headlessService}.${ns}.svc.${settings.clusterDomain}`;
}

/** Container port names: IANA service names, at most 15 characters. */
const listenerPortName = (i: number) => `kafka-${i}`;

function brokerEnv(cluster: StrataCluster, settings: OperatorSettings, config: RenderedBrokerConfig): V1EnvVar[] {
  const host = brokerHost(cluster, settings, `$(${ENV_POD_NAME})`);
  const env: V1EnvVar[] = [
    { name: ENV_POD_NAME, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: ENV_POD_NAMESPACE, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: ENV_NODE_ID, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${LABEL_POD_INDEX}']` } } },
    // Kubernetes expands $(STRATA_POD_NAME) because that variable is defined above this one.
    { name: ENV_ADVERTISED_LISTENERS, value: config.listeners.map((l) => `${l.name}://${host}:${l.port}`).join(',') },
  ];
  if (config.s3Credentials !== null) {
    const c = config.s3Credentials;
    env.push(
      { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: c.secret, key: c.accessKeyIdKey } } },
      { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: c.secret, key: c.secretAccessKeyKey } } },
    );
  }
  return env;
}

function brokerContainer(cluster: StrataCluster, settings: OperatorSettings, config: RenderedBrokerConfig): V1Container {
  const spec = cluster.spec;
  const resources: V1Container['resources'] = {};
  const asText = (m: Record<string, string | number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  if (spec.resources?.requests !== undefined) resources.requests = asText(spec.resources.requests);
  if (spec.resources?.limits !== undefined) resources.limits = asText(spec.resources.limits);
  const http = { path: '', port: 'http' };
  return {
    name: 'broker',
    image: spec.image ?? settings.image,
    ...(spec.imagePullPolicy === undefined ? {} : { imagePullPolicy: spec.imagePullPolicy }),
    // The image's entrypoint is `strata`. With rack awareness the broker reads rack-init's copy.
    args: ['broker', '--config', spec.rack === undefined ? `${CONFIG_MOUNT_DIR}/${CONFIG_FILE_NAME}` : `${RACK_CONFIG_DIR}/${CONFIG_FILE_NAME}`],
    env: brokerEnv(cluster, settings, config),
    ports: [
      ...config.listeners.map((l, i) => ({ name: listenerPortName(i), containerPort: l.port, protocol: 'TCP' })),
      { name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' },
    ],
    resources,
    startupProbe: { httpGet: { ...http, path: '/healthz' }, ...PROBES.startup },
    livenessProbe: { httpGet: { ...http, path: '/healthz' }, ...PROBES.liveness },
    readinessProbe: { httpGet: { ...http, path: '/readyz' }, ...PROBES.readiness },
    volumeMounts: [
      { name: 'config', mountPath: CONFIG_MOUNT_DIR, readOnly: true },
      { name: clusterNames(cluster.metadata.name).dataVolume, mountPath: DATA_MOUNT_DIR },
      { name: 'tmp', mountPath: '/tmp' },
      ...(spec.rack === undefined ? [] : [{ name: 'rack-config', mountPath: RACK_CONFIG_DIR, readOnly: true }]),
    ],
    securityContext: CONTAINER_SECURITY,
  };
}

const CONTAINER_SECURITY = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

/**
 * With spec.rack: waits for the operator to copy the node's rack label onto the pod (annotation
 * strata.dev/rack, seen through a downward API volume), then writes the broker's config with
 * broker.rack added (operator/pod/rack-init.ts says why it works this way).
 */
function rackInitContainer(cluster: StrataCluster, settings: OperatorSettings): V1Container {
  const spec = cluster.spec;
  return {
    name: 'rack-init',
    image: spec.image ?? settings.image,
    ...(spec.imagePullPolicy === undefined ? {} : { imagePullPolicy: spec.imagePullPolicy }),
    args: [
      'rack-init',
      '--annotations',
      `${PODINFO_MOUNT_DIR}/annotations`,
      '--config',
      `${CONFIG_MOUNT_DIR}/${CONFIG_FILE_NAME}`,
      '--out',
      `${RACK_CONFIG_DIR}/${CONFIG_FILE_NAME}`,
      '--timeout-seconds',
      String(RACK_INIT_TIMEOUT_SECONDS),
    ],
    volumeMounts: [
      { name: 'config', mountPath: CONFIG_MOUNT_DIR, readOnly: true },
      { name: 'podinfo', mountPath: PODINFO_MOUNT_DIR, readOnly: true },
      { name: 'rack-config', mountPath: RACK_CONFIG_DIR },
    ],
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } },
    securityContext: CONTAINER_SECURITY,
  };
}

function statefulSet(cluster: StrataCluster, settings: OperatorSettings, config: RenderedBrokerConfig, configHash: string, replicas: number, existingClaimTemplates: RenderOptions['existingClaimTemplates']): V1StatefulSet {
  const spec = cluster.spec;
  const names = clusterNames(cluster.metadata.name);
  const selector = brokerSelector(cluster);
  const pod = spec.pod ?? {};
  const podSpec: V1PodSpec = {
    serviceAccountName: names.serviceAccount,
    // Brokers do not call the Kubernetes API.
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
    securityContext: { runAsNonRoot: true, runAsUser: BROKER_UID, runAsGroup: BROKER_UID, fsGroup: BROKER_UID, seccompProfile: { type: 'RuntimeDefault' } },
    ...(spec.rack === undefined ? {} : { initContainers: [rackInitContainer(cluster, settings)] }),
    containers: [brokerContainer(cluster, settings, config)],
    volumes: [
      { name: 'config', configMap: { name: names.configMap } },
      { name: 'tmp', emptyDir: {} },
      ...(spec.rack === undefined
        ? []
        : [
            { name: 'podinfo', downwardAPI: { items: [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } },
            { name: 'rack-config', emptyDir: {} },
          ]),
    ],
  };
  if (pod.affinity !== undefined) podSpec.affinity = pod.affinity as V1PodSpec['affinity'];
  if (pod.tolerations !== undefined) podSpec.tolerations = pod.tolerations;
  if (pod.nodeSelector !== undefined) podSpec.nodeSelector = pod.nodeSelector;
  if (pod.priorityClassName !== undefined) podSpec.priorityClassName = pod.priorityClassName;
  const claimPolicy = spec.storage?.deleteClaim === true ? 'Delete' : 'Retain';
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(cluster, names.statefulSet, { [LABEL_COMPONENT]: 'broker' }),
    spec: {
      replicas,
      serviceName: names.headlessService,
      selector: { matchLabels: selector },
      // Brokers do not wait for each other to start; the operator alone decides when a pod
      // restarts (OnDelete), one at a time, after the previous one is ready again.
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: claimPolicy, whenScaled: claimPolicy },
      template: {
        metadata: {
          // The operator's labels last: a user label must not take a pod out of the selector.
          labels: { ...(pod.labels ?? {}), ...commonLabels(cluster), ...selector },
          // A new config hash makes a new revision, which is how the operator sees that running
          // pods have an outdated config and rolls them.
          annotations: { ...(pod.annotations ?? {}), [ANNOTATION_CONFIG_HASH]: configHash },
        },
        spec: podSpec,
      },
      // As stored, minus the status the API server keeps in each template.
      volumeClaimTemplates: existingClaimTemplates?.map((t) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: t.metadata!.name!, ...(t.metadata?.labels === undefined ? {} : { labels: t.metadata.labels }) }, spec: t.spec! })) ?? [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: names.dataVolume, labels: { ...commonLabels(cluster), ...selector } },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(spec.storage?.storageClassName === undefined ? {} : { storageClassName: spec.storage.storageClassName }),
            resources: { requests: { storage: String(spec.storage?.size ?? DEFAULT_STORAGE_SIZE) } },
          },
        },
      ],
    },
  };
}

function services(cluster: StrataCluster, config: RenderedBrokerConfig): [V1Service, V1Service] {
  const names = clusterNames(cluster.metadata.name);
  const kafkaPorts = config.listeners.map((l, i) => ({ name: listenerPortName(i), port: l.port, targetPort: l.port, protocol: 'TCP' }));
  const headless: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(cluster, names.headlessService, { [LABEL_COMPONENT]: 'broker', 'strata.dev/service': 'brokers' }),
    spec: {
      clusterIP: 'None',
      // Each broker's name must resolve while it is still starting: clients are handed it in
      // Metadata and brokers find each other by it, ready or not.
      publishNotReadyAddresses: true,
      selector: brokerSelector(cluster),
      ports: [...kafkaPorts, { name: 'http', port: HTTP_PORT, targetPort: HTTP_PORT, protocol: 'TCP' }],
    },
  };
  const client: V1Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(cluster, names.clientService, { [LABEL_COMPONENT]: 'bootstrap' }),
    spec: { type: 'ClusterIP', selector: brokerSelector(cluster), ports: kafkaPorts },
  };
  return [headless, client];
}

function serviceMonitor(cluster: StrataCluster): KubeObject {
  const names = clusterNames(cluster.metadata.name);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: meta(cluster, names.serviceMonitor, { [LABEL_COMPONENT]: 'broker' }),
    spec: {
      selector: { matchLabels: { ...brokerSelector(cluster), 'strata.dev/service': 'brokers' } },
      endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
    },
  };
}

function prometheusRule(cluster: StrataCluster): KubeObject {
  const names = clusterNames(cluster.metadata.name);
  const ns = cluster.metadata.namespace ?? 'default';
  const sel = `namespace="${ns}",service="${names.headlessService}"`;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: meta(cluster, names.prometheusRule, { [LABEL_COMPONENT]: 'broker' }),
    spec: {
      groups: [
        {
          name: `strata.${ns}.${cluster.metadata.name}`,
          rules: [
            {
              alert: 'StrataBrokerDown',
              expr: `up{${sel}} == 0`,
              for: '5m',
              labels: { severity: 'critical' },
              annotations: { summary: 'A Strata broker has not answered a /metrics scrape for 5 minutes.' },
            },
            {
              alert: 'StrataLogDirectoryOffline',
              expr: `max by (pod) (strata_log_manager_offline_log_directory_count{${sel}}) > 0`,
              for: '1m',
              labels: { severity: 'critical' },
              annotations: { summary: 'A Strata broker took a failing log directory offline; its partitions there are unavailable.' },
            },
            {
              alert: 'StrataTieredUploadLagging',
              expr: `max by (pod) (strata_remote_copy_lag_segments{${sel}}) > 100`,
              for: '30m',
              labels: { severity: 'warning' },
              annotations: { summary: 'More than 100 closed segments wait for upload to tiered storage; local disks fill.' },
            },
          ],
        },
      ],
    },
  };
}

export interface RenderOptions {
  /** Brokers the StatefulSet gets instead of spec.replicas: the controller holds a refused
   *  scale-down back at the current count (status.ts, scaleDownCheck). */
  readonly replicas?: number;
  /** The volumeClaimTemplates of the existing StatefulSet. Kubernetes refuses any change to them,
   *  so once the StatefulSet exists they are kept as they are (a new size or class in the spec
   *  reaches no existing claim; volume expansion would have to resize the claims themselves). */
  readonly existingClaimTemplates?: readonly V1PersistentVolumeClaim[];
  /** The controller applies the broker keys a running broker takes live (live-config.ts) itself,
   *  so the config hash leaves them out and changing only them rolls no pod. Without it every
   *  change to the file rolls the brokers, so no change waits for an unrelated restart. */
  readonly liveConfig?: boolean;
}

/**
 * Everything a StrataCluster wants to exist, in apply order (what a pod mounts before the pods).
 * Throws InvalidSpecError for a spec it cannot render: a terminal error, reported as Stalled.
 */
export function desiredClusterObjects(cluster: StrataCluster, settings: OperatorSettings, caps: Capabilities, options: RenderOptions = {}): DesiredCluster {
  if (cluster.metadata.name.length > CLUSTER_NAME_MAX) {
    throw new InvalidSpecError('metadata.name', `is ${cluster.metadata.name.length} characters; a cluster name may have at most ${CLUSTER_NAME_MAX}`);
  }
  const config = renderBrokerConfig(cluster);
  const names = clusterNames(cluster.metadata.name);
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(cluster, names.serviceAccount, { [LABEL_COMPONENT]: 'broker' }),
    automountServiceAccountToken: false,
  };
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(cluster, names.configMap, { [LABEL_COMPONENT]: 'broker' }),
    data: { [CONFIG_FILE_NAME]: config.properties },
  };
  const [headless, client] = services(cluster, config);
  const pdb: V1PodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(cluster, names.podDisruptionBudget, { [LABEL_COMPONENT]: 'broker' }),
    spec: { maxUnavailable: 1, selector: { matchLabels: brokerSelector(cluster) } },
  };
  const configHash = options.liveConfig === true ? config.restartHash : config.hash;
  const objects = [serviceAccount, configMap, headless, client, statefulSet(cluster, settings, config, configHash, options.replicas ?? cluster.spec.replicas, options.existingClaimTemplates), pdb] as unknown as KubeObject[];
  if (cluster.spec.metrics?.serviceMonitor === true && caps.serviceMonitor) objects.push(serviceMonitor(cluster));
  if (cluster.spec.metrics?.prometheusRule === true && caps.prometheusRule) objects.push(prometheusRule(cluster));
  const ns = cluster.metadata.namespace ?? 'default';
  const bootstrapServers = config.listeners.map((l) => `${names.clientService}.${ns}.svc.${settings.clusterDomain}:${l.port}`).join(',');
  return { objects, config, bootstrapServers, configHash };
}
