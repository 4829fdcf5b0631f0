// reconcile("namespace/name") for a StrataTopic: read the resource and its StrataCluster, ask the
// cluster's brokers what the topic is (Metadata, DescribeConfigs), let planTopic decide, carry the
// plan out through the Kafka admin protocol, write the status. Stateless, like the cluster
// reconciler: every call converges from what the brokers report.
//
//   1. Read the StrataTopic (gone: nothing to do).
//   2. Being deleted: delete the Kafka topic, then drop the finalizer `strata.dev/topic` (Strimzi's
//      topic operator deletes the topic too, by default). When the StrataCluster is gone or being
//      deleted there is no topic left to delete and nobody to ask: the finalizer goes at once, so a
//      namespace being deleted never waits on brokers that are leaving with it. Brokers that do
//      not answer while their cluster stays are retried with back-off.
//   3. Otherwise make sure the finalizer is there, then read the StrataCluster: absent or being
//      deleted is "waiting" (Reconciling), looked at again later.
//   4. Describe the topic on a broker of the bootstrap list (configs that count as set are those
//      of source DYNAMIC_TOPIC_CONFIG; defaults are not the resource's business).
//   5. planTopic: create / update (IncrementalAlterConfigs SET + DELETE, then CreatePartitions) /
//      none. A spec it refuses (fewer partitions, another replication factor, a bad config) and a
//      change the broker refuses as invalid (INVALID_CONFIG naming the key, ...) are Stalled and a
//      TerminalError; anything else (the brokers unreachable, a timeout) is written as
//      Reconciling and thrown, so the queue retries with back-off.
//   6. Describe again, write the status (topicId, partitions, Ready), requeue after
//      TOPIC_RESYNC_MS to notice drift (a topic changed or deleted behind the operator's back).
//
// Note: brokers do not replicate yet, so every topic lives on broker 0, the one broker asked.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type StrataCluster, type StrataTopic, type StrataTopicStatus } from '../api/v1alpha1.js';
import { DEFAULT_LISTENERS, type OperatorSettings } from '../defaults.js';
import { AdminError, type AdminOptions, ConfigSource, KafkaAdmin, KafkaApiError, ResourceType } from '../kafka/admin.js';
import { writeStatusIfChanged } from '../kube/status.js';
import { InvalidSpecError } from '../reconcile/broker-config.js';
import { brokerHost } from '../reconcile/cluster.js';
import { clusterNames } from '../reconcile/names.js';
import { type ObservedTopic, planTopic, topicNameOf, type TopicOutcome, topicStatus } from '../reconcile/topic.js';
import { TerminalError, type ReconcileResult } from './worker.js';

export const TOPIC_FINALIZER = 'strata.dev/topic';
/** How often a synced topic is compared with the brokers again. */
export const TOPIC_RESYNC_MS = 5 * 60_000;
/** How often a topic waiting for its cluster looks again. */
export const TOPIC_WAITING_REQUEUE_MS = 15_000;

/** Kafka errors that repeat until the spec changes: the field of the spec each one is about. */
const REFUSED: ReadonlyMap<string, string> = new Map([
  ['INVALID_CONFIG', 'spec.config'],
  ['INVALID_PARTITIONS', 'spec.partitions'],
  ['INVALID_REPLICATION_FACTOR', 'spec.replicationFactor'],
  ['INVALID_REPLICA_ASSIGNMENT', 'spec.replicationFactor'],
  ['INVALID_TOPIC_EXCEPTION', 'spec.topicName'],
  ['POLICY_VIOLATION', 'spec'],
  ['INVALID_REQUEST', 'spec'],
]);

export interface TopicReconcilerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly settings: OperatorSettings;
  /** host:port addresses to reach the cluster's brokers; by default broker 0 (brokerZeroBootstrap). */
  readonly bootstrapOf?: (cluster: StrataCluster) => string[];
  readonly admin?: Omit<AdminOptions, 'bootstrap'>;
  /** ISO time for conditions. */
  readonly now?: () => string;
  readonly resyncMs?: number;
}

/**
 * Broker 0 at its stable name. Brokers do not replicate yet and each reports only the partitions
 * it hosts, so every topic call goes to one fixed broker: through the load-balanced client Service
 * a reconcile would reach a different broker each time, create the topic again there, and delete
 * only one copy.
 */
export function brokerZeroBootstrap(settings: OperatorSettings): (cluster: StrataCluster) => string[] {
  return (cluster) => (cluster.spec.listeners ?? DEFAULT_LISTENERS).slice(0, 1).map((l) => `${brokerHost(cluster, settings, clusterNames(cluster.metadata.name).pod(0))}:${l.port}`);
}

type Stored<T> = T & { metadata: T extends { metadata: infer M } ? M & { deletionTimestamp?: string; finalizers?: string[] } : never };

const STATUS_OF = (e: unknown) => (e instanceof k8s.ApiException ? e.code : 0);

export class TopicReconciler {
  readonly #o: TopicReconcilerOptions;
  readonly #custom: k8s.CustomObjectsApi;
  readonly #now: () => string;
  readonly #bootstrapOf: (cluster: StrataCluster) => string[];

  constructor(options: TopicReconcilerOptions) {
    this.#o = options;
    this.#custom = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.#now = options.now ?? (() => new Date().toISOString());
    this.#bootstrapOf = options.bootstrapOf ?? brokerZeroBootstrap(options.settings);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let topic = await this.#get<StrataTopic>(namespace, 'stratatopics', name);
    if (topic === undefined) return {};
    const cluster = await this.#get<StrataCluster>(namespace, 'strataclusters', topic.spec.clusterRef.name);
    const clusterLeaving = cluster === undefined || cluster.metadata.deletionTimestamp !== undefined;

    if (topic.metadata.deletionTimestamp !== undefined) {
      if (!(topic.metadata.finalizers ?? []).includes(TOPIC_FINALIZER)) return {};
      if (!clusterLeaving) await this.#withAdmin(cluster, (admin) => admin.deleteTopic(topicNameOf(topic!)));
      await this.#setFinalizers(topic, (topic.metadata.finalizers ?? []).filter((f) => f !== TOPIC_FINALIZER));
      return {};
    }
    if (!(topic.metadata.finalizers ?? []).includes(TOPIC_FINALIZER)) {
      topic = await this.#setFinalizers(topic, [...(topic.metadata.finalizers ?? []), TOPIC_FINALIZER]);
    }
    const ref = topic.spec.clusterRef.name;
    if (clusterLeaving) {
      await this.#writeStatus(topic, { kind: 'waiting', message: cluster === undefined ? `StrataCluster ${ref} does not exist` : `StrataCluster ${ref} is being deleted` });
      return { requeueAfterMs: TOPIC_WAITING_REQUEUE_MS };
    }

    const t = topic;
    let outcome: TopicOutcome;
    try {
      outcome = await this.#withAdmin(cluster, async (admin) => {
        const plan = planTopic(t, await observe(admin, topicNameOf(t)));
        if (plan.action === 'create') {
          await admin.createTopic(plan.name, plan.partitions, plan.replicationFactor, plan.configs);
        } else if (plan.action === 'update') {
          if (Object.keys(plan.set).length > 0 || plan.delete.length > 0) await admin.alterConfigs(ResourceType.TOPIC, plan.name, plan.set, plan.delete);
          if (plan.totalPartitions !== null) await admin.createPartitions(plan.name, plan.totalPartitions);
        }
        const after = await observe(admin, plan.name);
        if (after === null) throw new AdminError('STRATA_KAFKA_ERROR', `topic ${plan.name} is not described by ${admin.broker} after it was ${plan.action === 'create' ? 'created' : 'changed'}`, admin.broker);
        return { kind: 'synced', observed: after };
      });
    } catch (e) {
      const invalid = e instanceof InvalidSpecError ? { field: e.field, message: e.message.slice(e.field.length + 2) } : refusal(e);
      if (invalid !== null) {
        await this.#writeStatus(t, { kind: 'invalid', ...invalid });
        throw new TerminalError(`${key}: ${invalid.field}: ${invalid.message}`, { cause: e });
      }
      if (e instanceof AdminError) {
        const message = e instanceof KafkaApiError ? `the brokers of StrataCluster ${ref} answered ${e.message}; retrying` : `the brokers of StrataCluster ${ref} did not answer: ${e.message}`;
        await this.#writeStatus(t, { kind: 'waiting', message });
      }
      throw e;
    }
    await this.#writeStatus(t, outcome);
    return { requeueAfterMs: this.#o.resyncMs ?? TOPIC_RESYNC_MS };
  }

  async #withAdmin<T>(cluster: StrataCluster, f: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
    const admin = await KafkaAdmin.connect({ ...this.#o.admin, bootstrap: this.#bootstrapOf(cluster) });
    try {
      return await f(admin);
    } finally {
      admin.close();
    }
  }

  async #get<T extends StrataTopic | StrataCluster>(namespace: string, plural: string, name: string): Promise<Stored<T> | undefined> {
    try {
      return (await this.#custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })) as Stored<T>;
    } catch (e) {
      if (STATUS_OF(e) === 404) return undefined;
      throw e;
    }
  }

  /** A merge patch with the resourceVersion read: a concurrent change is a 409, retried. */
  async #setFinalizers(topic: Stored<StrataTopic>, finalizers: string[]): Promise<Stored<StrataTopic>> {
    return (await this.#custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: topic.metadata.namespace!,
        plural: 'stratatopics',
        name: topic.metadata.name,
        body: { metadata: { resourceVersion: topic.metadata.resourceVersion, finalizers } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )) as Stored<StrataTopic>;
  }

  async #writeStatus(topic: StrataTopic, outcome: TopicOutcome): Promise<StrataTopicStatus> {
    return writeStatusIfChanged(this.#custom, 'stratatopics', topic, topicStatus(topic, outcome, this.#now()));
  }
}

/** The topic as planTopic needs it, or null when the broker does not have it. */
async function observe(admin: KafkaAdmin, name: string): Promise<ObservedTopic | null> {
  const md = await admin.describeTopic(name);
  if (md === null) return null;
  const configs: Record<string, string> = {};
  for (const c of await admin.describeConfigs(ResourceType.TOPIC, name)) {
    if (c.source === ConfigSource.DYNAMIC_TOPIC_CONFIG && c.value !== null) configs[c.name] = c.value;
  }
  return { topicId: md.topicId, partitions: md.partitions.length, replicationFactor: md.partitions[0]?.replicas.length ?? 0, configs };
}

/** A Kafka refusal that repeats until the spec changes, as the field and the broker's words. */
function refusal(e: unknown): { field: string; message: string } | null {
  if (!(e instanceof KafkaApiError)) return null;
  const field = REFUSED.get(e.errorName);
  if (field === undefined) return null;
  return { field, message: `the broker refused it (${e.errorName}): ${e.errorMessage ?? e.message}` };
}
