// What a StrataTopic asks of its cluster, as a pure function of the resource and of the topic the
// cluster reported (Metadata and DescribeConfigs through the Kafka admin protocol; the controller
// does the talking). The resource owns the topic's configuration: a key removed from spec.config
// is reset to the broker default, as a declarative tool should. Changes Kafka cannot make are
// refused with a reason, reported as a Stalled condition, and nothing else is changed until the
// spec is fixed:
//   - fewer partitions (Kafka cannot remove partitions);
//   - another replication factor (that needs partition reassignment, which does not exist yet).
import { validateTopicConfigs } from '../../broker/config/index.js';
import type { StrataTopic, StrataTopicStatus } from '../api/v1alpha1.js';
import { InvalidSpecError } from './broker-config.js';
import { condition } from './status.js';

/** The topic as the cluster reports it. */
export interface ObservedTopic {
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Configs set on the topic itself (DescribeConfigs source DYNAMIC_TOPIC_CONFIG), not defaults. */
  readonly configs: Readonly<Record<string, string>>;
}

export type TopicPlan =
  | { readonly action: 'create'; readonly name: string; readonly partitions: number; readonly replicationFactor: number; readonly configs: Record<string, string> }
  | {
      readonly action: 'update';
      readonly name: string;
      /** IncrementalAlterConfigs: SET these, DELETE those (back to the default). */
      readonly set: Record<string, string>;
      readonly delete: string[];
      /** CreatePartitions to this total, when it grows. */
      readonly totalPartitions: number | null;
    }
  | { readonly action: 'none'; readonly name: string };

/** The Kafka topic a resource manages. */
export function topicNameOf(topic: StrataTopic): string {
  return topic.spec.topicName ?? topic.metadata.name;
}

/** CreateTopics takes -1 for "the broker's default.replication.factor" (KIP-464). */
export const BROKER_DEFAULT_REPLICATION = -1;

/** Throws InvalidSpecError for a spec that cannot be applied (see the header). */
export function planTopic(topic: StrataTopic, observed: ObservedTopic | null): TopicPlan {
  const spec = topic.spec;
  const name = topicNameOf(topic);
  const configs = spec.config ?? {};
  const check = validateTopicConfigs(configs);
  if (!check.ok) throw new InvalidSpecError(`spec.config`, check.message);
  if (observed === null) {
    return { action: 'create', name, partitions: spec.partitions, replicationFactor: spec.replicationFactor ?? BROKER_DEFAULT_REPLICATION, configs: { ...configs } };
  }
  if (spec.partitions < observed.partitions) {
    throw new InvalidSpecError('spec.partitions', `topic ${name} has ${observed.partitions} partitions and Kafka cannot remove partitions; set it back to ${observed.partitions} or more`);
  }
  if (spec.replicationFactor !== undefined && spec.replicationFactor !== observed.replicationFactor) {
    throw new InvalidSpecError('spec.replicationFactor', `topic ${name} has replication factor ${observed.replicationFactor}; changing it needs partition reassignment, which does not exist yet`);
  }
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(configs).sort(([a], [b]) => (a < b ? -1 : 1))) if (observed.configs[k] !== v) set[k] = v;
  const del = Object.keys(observed.configs).filter((k) => !(k in configs)).sort();
  const totalPartitions = spec.partitions > observed.partitions ? spec.partitions : null;
  if (Object.keys(set).length === 0 && del.length === 0 && totalPartitions === null) return { action: 'none', name };
  return { action: 'update', name, set, delete: del, totalPartitions };
}

export type TopicOutcome =
  | { readonly kind: 'invalid'; readonly field: string; readonly message: string }
  /** The cluster it refers to does not exist or is not ready: retried, reported as Reconciling. */
  | { readonly kind: 'waiting'; readonly message: string }
  /** The plan was carried out (or nothing was needed); `observed` is the topic afterwards. */
  | { readonly kind: 'synced'; readonly observed: ObservedTopic };

export function topicStatus(topic: StrataTopic, outcome: TopicOutcome, now: string): StrataTopicStatus {
  const generation = topic.metadata.generation;
  const prev = topic.status?.conditions;
  const c = (type: string, status: 'True' | 'False', reason: string, message: string) => condition(prev, type, status, reason, message, generation, now);
  const base = { ...(generation === undefined ? {} : { observedGeneration: generation }), topicName: topicNameOf(topic) };
  const kept = { ...(topic.status?.topicId === undefined ? {} : { topicId: topic.status.topicId }), ...(topic.status?.partitions === undefined ? {} : { partitions: topic.status.partitions }) };
  switch (outcome.kind) {
    case 'invalid': {
      const message = `${outcome.field}: ${outcome.message}`;
      return { ...base, ...kept, conditions: [c('Ready', 'False', 'InvalidSpec', message), c('Reconciling', 'False', 'InvalidSpec', 'waiting for the spec to change'), c('Stalled', 'True', 'InvalidSpec', message)] };
    }
    case 'waiting':
      return { ...base, ...kept, conditions: [c('Ready', 'False', 'WaitingForCluster', outcome.message), c('Reconciling', 'True', 'WaitingForCluster', outcome.message), c('Stalled', 'False', 'Progressing', 'nothing blocks the reconcile')] };
    case 'synced':
      return {
        ...base,
        topicId: outcome.observed.topicId,
        partitions: outcome.observed.partitions,
        conditions: [
          c('Ready', 'True', 'TopicReady', `topic ${base.topicName} has ${outcome.observed.partitions} partitions and the configuration of the spec`),
          c('Reconciling', 'False', 'UpToDate', 'the topic matches the spec'),
          c('Stalled', 'False', 'Progressing', 'nothing blocks the reconcile'),
        ],
      };
  }
}
