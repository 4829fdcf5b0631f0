// The strata.dev/v1alpha1 API: StrataCluster and StrataTopic, declared once. The CRDs in crds/
// are generated from these schemas (hack/gen-crds.ts) and the operator's types are inferred from
// them, so both always agree. Validation that the API server can do is done here, so a bad spec
// is refused at `kubectl apply` with a message naming the field; what needs the broker's own rules
// (a config value's syntax) is checked by the operator and reported as a Stalled condition.
//
// No field has a server-side default (see schema.ts); operator/defaults.ts fills absent fields.
import { array, boolean, type CelRule, integer, map, object, opaqueObject, quantity, string, type Schema, type TypeOf } from './schema.js';

export const GROUP = 'strata.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * Broker keys the operator sets itself, from the pod's identity or from other spec fields; setting
 * them in spec.config is refused by the API server. node.id comes from the pod ordinal, the
 * listeners from spec.listeners and the pod's DNS name, the log directory from the PVC mount, the
 * rack from spec.rack, the tiered-storage store from spec.tieredStorage.
 */
const OWNED: Record<string, string> = {
  'node.id': 'the pod ordinal',
  'broker.id': 'the pod ordinal (as node.id)',
  listeners: 'spec.listeners',
  'advertised.listeners': "spec.listeners and each pod's DNS name",
  'listener.security.protocol.map': 'spec.listeners',
  'inter.broker.listener.name': 'spec.listeners',
  'log.dir': "the broker's volume",
  'log.dirs': "the broker's volume",
  'broker.rack': 'spec.rack',
  'strata.http.listener': 'its probes and metrics port',
  'remote.log.storage.system.enable': 'spec.tieredStorage',
  'strata.tiered.store': 'spec.tieredStorage',
  'strata.tiered.local.dir': 'spec.tieredStorage',
  'strata.tiered.s3.bucket': 'spec.tieredStorage.bucket',
  'strata.tiered.s3.endpoint': 'spec.tieredStorage.endpoint',
  'strata.tiered.s3.region': 'spec.tieredStorage.region',
  'strata.tiered.s3.prefix': 'spec.tieredStorage.prefix',
  'strata.tiered.s3.path.style': 'spec.tieredStorage.pathStyle',
  'log.local.retention.ms': 'spec.tieredStorage.localRetentionMs',
  'log.local.retention.bytes': 'spec.tieredStorage.localRetentionBytes',
};
export const OPERATOR_OWNED_KEYS: readonly string[] = Object.keys(OWNED);

/** DNS-1123 label: the names of Services, Secrets and the like that a spec refers to. */
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Kafka property values are strings; 4 KiB is far above any real one. */
const propertyMap = (description: string, extra: { validations?: Parameters<typeof map>[1]['validations'] } = {}) =>
  map(string({ maxLength: 4096 }), { maxProperties: 256, description, ...extra });

const labelMap = (description: string) => map(string({ maxLength: 4096 }), { maxProperties: 64, description });

const conditionSchema = object(
  {
    type: string({ maxLength: 316, description: 'Ready, Reconciling or Stalled.' }),
    status: string({ enum: ['True', 'False', 'Unknown'] as const }),
    observedGeneration: integer({ format: 'int64', minimum: 0 }),
    lastTransitionTime: string({ format: 'date-time' }),
    reason: string({ maxLength: 1024 }),
    message: string({ maxLength: 32768 }),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);
export type Condition = TypeOf<typeof conditionSchema>;

const conditions = array(conditionSchema, {
  listType: 'map',
  listMapKeys: ['type'],
  maxItems: 8,
  description: 'The latest observations of the resource: Ready, Reconciling and Stalled.',
});

const listenerSchema = object(
  {
    name: string({
      pattern: '^[A-Z][A-Z0-9_]{0,31}$',
      description: 'Listener name, upper case as Kafka normalises it (PLAINTEXT, INTERNAL, ...).',
    }),
    port: integer({ minimum: 1024, maximum: 65535, description: 'Container port the broker listens on and advertises.' }),
  },
  { required: ['name', 'port'] },
);

const tieredSchema = object(
  {
    bucket: string({
      pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      description: 'The S3 bucket; it must exist. Becomes strata.tiered.s3.bucket.',
    }),
    endpoint: string({
      maxLength: 2048,
      pattern: '^https?://[^\\s/]+',
      description: "URL of an S3-compatible endpoint; absent means AWS S3's endpoint for the region. Becomes strata.tiered.s3.endpoint.",
    }),
    region: string({ pattern: '^[a-z0-9-]{1,64}$', description: 'Region of the bucket (the operator uses us-east-1 when absent).' }),
    prefix: string({
      maxLength: 512,
      description: 'Prefix of every object key this cluster writes. Becomes strata.tiered.s3.prefix.',
      validations: [
        {
          rule: "!self.startsWith('/') && !self.split('/').exists(s, s == '.' || s == '..')",
          message: "must not start with '/' or contain a '.' or '..' segment",
        },
      ],
    }),
    pathStyle: boolean({ description: 'Path-style addressing (most S3-compatible servers need it). Becomes strata.tiered.s3.path.style.' }),
    credentialsSecret: object(
      {
        name: string({ pattern: DNS_SUBDOMAIN, maxLength: 253, description: 'A Secret in the cluster\'s namespace.' }),
        accessKeyIdKey: string({ maxLength: 253, description: 'Key holding the access key id (the operator uses AWS_ACCESS_KEY_ID when absent).' }),
        secretAccessKeyKey: string({ maxLength: 253, description: 'Key holding the secret key (the operator uses AWS_SECRET_ACCESS_KEY when absent).' }),
      },
      { required: ['name'], description: 'The Secret the brokers read their S3 credentials from, as AWS_* environment variables.' },
    ),
    localRetentionMs: integer({
      format: 'int64',
      minimum: -2,
      description: 'Hot-tier retention by age: uploaded segments older than this leave the local disk. -2 means the total retention. Becomes log.local.retention.ms.',
    }),
    localRetentionBytes: integer({
      format: 'int64',
      minimum: -2,
      description: 'Hot-tier retention by size per partition. -2 means the total retention. Becomes log.local.retention.bytes.',
    }),
  },
  {
    required: ['bucket', 'credentialsSecret'],
    description: 'Tiered storage in an S3-compatible object store. Bucket and credentials Secret go together; topics opt in with remote.storage.enable=true.',
  },
);

const tolerationSchema = object({
  key: string({ maxLength: 316 }),
  operator: string({ enum: ['Exists', 'Equal'] as const }),
  value: string({ maxLength: 63 }),
  effect: string({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const }),
  tolerationSeconds: integer({ format: 'int64' }),
});

const resourcesSchema = object(
  {
    requests: map(quantity(), { maxProperties: 16 }),
    limits: map(quantity(), { maxProperties: 16 }),
  },
  { description: 'Compute resources of the broker container, as in a core/v1 container.' },
);

export const strataClusterSpecSchema = object(
  {
    replicas: integer({ minimum: 1, maximum: 1000, description: 'Number of brokers. Scaled through the scale subresource too.' }),
    image: string({ maxLength: 1024, minLength: 1, description: 'Broker image; the operator uses its own image when absent.' }),
    imagePullPolicy: string({ enum: ['Always', 'IfNotPresent', 'Never'] as const }),
    resources: resourcesSchema,
    storage: object(
      {
        size: quantity({ description: 'Size of each broker\'s volume (the operator uses 10Gi when absent).' }),
        storageClassName: string({ maxLength: 253, description: 'StorageClass of the volumes; absent means the cluster default.' }),
        deleteClaim: boolean({
          description: 'Delete each broker\'s PersistentVolumeClaim when the cluster is deleted or scaled down. Claims are kept when absent or false.',
        }),
      },
      {
        description: 'Each broker\'s PersistentVolumeClaim. Changing the size or class of an existing cluster has no effect on existing claims.',
        validations: [
          { rule: 'has(self.storageClassName) == has(oldSelf.storageClassName) && (!has(self.storageClassName) || self.storageClassName == oldSelf.storageClassName)', message: 'storageClassName cannot be changed once set: existing claims keep their class' },
        ],
      },
    ),
    tieredStorage: tieredSchema,
    config: propertyMap(
      'Broker configuration as Apache Kafka property names and string values (num.partitions: "3"). Keys the operator sets itself (node.id, listeners, log.dirs, the tiered-storage store and others) are refused.',
      {
        validations: [
          // One rule per key, so the refusal names the key. Each is a constant-cost map lookup;
          // a rule walking the map's keys would exceed the cost budget (a key's length has no bound).
          ...Object.entries(OWNED).map(([key, from]) => ({
            rule: `!('${key}' in self)`,
            message: `must not set ${key}: the operator sets it from ${from}`,
            reason: 'FieldValueForbidden' as const,
          })),
        ],
      },
    ),
    listeners: array(listenerSchema, {
      listType: 'map',
      listMapKeys: ['name'],
      minItems: 1,
      maxItems: 8,
      description: 'Kafka listeners, all PLAINTEXT today; each pod advertises its stable DNS name on each. The operator uses one PLAINTEXT listener on 9092 when absent.',
      validations: [{ rule: 'self.all(a, self.exists_one(b, b.port == a.port))', message: 'every listener needs a port of its own' }],
    }),
    rack: object(
      {
        topologyKey: string({
          maxLength: 316,
          minLength: 1,
          description: 'Node label whose value becomes each broker\'s broker.rack, e.g. topology.kubernetes.io/zone.',
        }),
      },
      { required: ['topologyKey'], description: 'Rack awareness from a label of the node each broker runs on.' },
    ),
    metrics: object(
      {
        serviceMonitor: boolean({ description: 'Create a ServiceMonitor for the brokers\' /metrics when its CRD exists.' }),
        prometheusRule: boolean({ description: 'Create a PrometheusRule with Strata\'s alerts when its CRD exists.' }),
      },
      { description: 'Prometheus Operator objects.' },
    ),
    pod: object(
      {
        annotations: labelMap('Annotations added to each broker pod.'),
        labels: labelMap('Labels added to each broker pod.'),
        affinity: opaqueObject({ description: 'A core/v1 Affinity for the broker pods.' }),
        tolerations: array(tolerationSchema, { maxItems: 32, description: 'core/v1 Tolerations for the broker pods.' }),
        nodeSelector: labelMap('Node labels the broker pods must run on.'),
        priorityClassName: string({ maxLength: 253, pattern: DNS_SUBDOMAIN }),
        terminationGracePeriodSeconds: integer({
          format: 'int64',
          minimum: 1,
          description: 'Time a broker gets to shut down cleanly, closing its logs so the next start needs no recovery (the operator uses 120 when absent).',
        }),
      },
      { description: 'Overrides for the broker pods.' },
    ),
  },
  { required: ['replicas'] },
);

export const strataClusterStatusSchema = object({
  observedGeneration: integer({ format: 'int64', minimum: 0, description: 'The generation the status describes.' }),
  conditions,
  replicas: integer({ minimum: 0, description: 'Broker pods that exist (the scale subresource reads it).' }),
  readyReplicas: integer({ minimum: 0, description: 'Broker pods that serve requests.' }),
  selector: string({ maxLength: 1024, description: 'Label selector of the broker pods, for the scale subresource.' }),
  bootstrapServers: string({ maxLength: 4096, description: 'host:port of the client Service, for clients\' bootstrap.servers.' }),
});

export const strataTopicSpecSchema = object(
  {
    clusterRef: object(
      { name: string({ pattern: DNS_LABEL, maxLength: 63, description: 'A StrataCluster in the topic\'s namespace.' }) },
      { required: ['name'], validations: [{ rule: 'self == oldSelf', message: 'clusterRef cannot be changed; delete the topic and create it on the other cluster' }] },
    ),
    topicName: string({
      pattern: '^[a-zA-Z0-9._-]{1,249}$',
      description: 'The Kafka topic name, when it differs from metadata.name (Kafka names may hold capitals and underscores).',
      validations: [{ rule: 'self == oldSelf', message: 'topicName cannot be changed: Kafka cannot rename a topic' }],
    }),
    partitions: integer({ minimum: 1, maximum: 100000, description: 'Partition count. It can grow; a decrease is refused with a Stalled condition.' }),
    replicationFactor: integer({ minimum: 1, maximum: 32767, description: 'Replicas of each partition; fixed after creation.' }),
    config: propertyMap('Topic configuration as Kafka topic property names and string values (retention.ms: "86400000").'),
  },
  { required: ['clusterRef', 'partitions'] },
);

export const strataTopicStatusSchema = object({
  observedGeneration: integer({ format: 'int64', minimum: 0 }),
  conditions,
  topicName: string({ maxLength: 249, description: 'The Kafka topic this resource manages.' }),
  topicId: string({ maxLength: 64, description: 'Kafka topic id (base64), once created.' }),
  partitions: integer({ minimum: 0, description: 'Partitions the topic has on the cluster.' }),
});

export type StrataClusterSpec = TypeOf<typeof strataClusterSpecSchema>;
export type StrataClusterStatus = TypeOf<typeof strataClusterStatusSchema>;
export type StrataTopicSpec = TypeOf<typeof strataTopicSpecSchema>;
export type StrataTopicStatus = TypeOf<typeof strataTopicStatusSchema>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface StrataCluster {
  apiVersion: typeof API_VERSION;
  kind: 'StrataCluster';
  metadata: ObjectMeta;
  spec: StrataClusterSpec;
  status?: StrataClusterStatus;
}

export interface StrataTopic {
  apiVersion: typeof API_VERSION;
  kind: 'StrataTopic';
  metadata: ObjectMeta;
  spec: StrataTopicSpec;
  status?: StrataTopicStatus;
}

/** What the CRD generator needs to know of each kind. */
export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: Schema<unknown>;
  readonly status: Schema<unknown>;
  readonly printerColumns: readonly { name: string; type: 'string' | 'integer' | 'date'; jsonPath: string; description?: string; priority?: number }[];
  readonly scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
  /** CEL rules on the whole object; metadata.name is the only metadata field they may read. */
  readonly rootValidations?: readonly CelRule[];
}

const readyColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'The Ready condition.' } as const;
const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' } as const;

export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'StrataCluster',
    plural: 'strataclusters',
    singular: 'stratacluster',
    shortNames: ['sc', 'strata'],
    description: 'A Strata cluster: a StatefulSet of brokers with their Services, config, disruption budget and, optionally, tiered storage.',
    spec: strataClusterSpecSchema,
    status: strataClusterStatusSchema,
    printerColumns: [
      { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'Brokers asked for.' },
      { name: 'Brokers', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Brokers serving requests.' },
      readyColumn,
      { name: 'Bootstrap', type: 'string', jsonPath: '.status.bootstrapServers', description: 'bootstrap.servers for clients.' },
      ageColumn,
    ],
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    rootValidations: [
      {
        // Services are DNS-1035 labels (a leading letter) and the StatefulSet's pods, claims and
        // revision labels append suffixes to the name; 40 characters leaves room for all of them.
        rule: "self.metadata.name.size() <= 40 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
        message: 'metadata.name must be at most 40 characters of lower-case letters, digits and dashes, starting with a letter',
      },
    ],
  },
  {
    kind: 'StrataTopic',
    plural: 'stratatopics',
    singular: 'stratatopic',
    shortNames: ['st'],
    description: 'A Kafka topic on a StrataCluster, created and kept in line through the Kafka admin protocol.',
    spec: strataTopicSpecSchema,
    status: strataTopicStatusSchema,
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterRef.name' },
      { name: 'Partitions', type: 'integer', jsonPath: '.spec.partitions' },
      { name: 'Replication', type: 'integer', jsonPath: '.spec.replicationFactor' },
      readyColumn,
      ageColumn,
    ],
  },
];
