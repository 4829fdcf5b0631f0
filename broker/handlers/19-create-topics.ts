// CreateTopics (key 19), v2-7. Kafka's checks and error codes, per topic:
// - a name listed twice in one request: INVALID_REQUEST for every copy;
// - a bad name: INVALID_TOPIC_EXCEPTION; an existing one: TOPIC_ALREADY_EXISTS;
// - NumPartitions -1 (v4+) takes num.partitions, otherwise it must be 1..TOPIC_PARTITIONS_MAX
//   (INVALID_PARTITIONS); ReplicationFactor -1 takes default.replication.factor, and anything
//   above the one broker there is is INVALID_REPLICATION_FACTOR;
// - manual assignments may not be combined with a partition count or replication factor
//   (INVALID_REQUEST) and may name only this broker (INVALID_REPLICA_ASSIGNMENT);
// - configs must be known topic keys with valid values (INVALID_CONFIG naming the key).
// ValidateOnly runs every check and creates nothing. v5+ answers the resulting configs.
import type * as G from '../protocol/generated/index.js';
import { defaultCreateTopicsResponse, defaultCreateTopicsResponseCreatableTopicResult } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

/** A ceiling on partitions per topic, so one request cannot open unbounded files. */
export const TOPIC_PARTITIONS_MAX = 10_000;
const BROKER_COUNT = 1;

export const createTopicsHandler: ApiHandler = {
  apiKey: 19,
  minVersion: 2,
  maxVersion: 7,
  handle: (ctx: BrokerContext, req: G.CreateTopicsRequest, info: RequestInfo): G.CreateTopicsResponse => {
    const res = defaultCreateTopicsResponse();
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    res.topics = req.topics.map((t) => {
      const out: G.CreateTopicsResponseCreatableTopicResult = { ...defaultCreateTopicsResponseCreatableTopicResult(), name: t.name };
      const fail = (code: number, message: string) => {
        out.errorCode = code;
        out.errorMessage = message;
        out.numPartitions = -1;
        out.replicationFactor = -1;
        out.configs = info.version >= 5 ? null : [];
        return out;
      };
      if ((counts.get(t.name) ?? 0) > 1) return fail(ErrorCode.INVALID_REQUEST, `topic '${t.name}' is listed more than once in the request`);
      const problem = ctx.topics.createProblem(t.name);
      if (problem !== null) return fail(ErrorCode[problem.code], problem.message);
      let partitions = t.numPartitions;
      let replication = t.replicationFactor;
      if (t.assignments.length > 0) {
        if (partitions !== -1 || replication !== -1) {
          return fail(ErrorCode.INVALID_REQUEST, 'both a partition count or replication factor and manual assignments were given');
        }
        const bad = t.assignments.find((a, i) => a.partitionIndex !== i || a.brokerIds.length !== 1 || a.brokerIds[0] !== ctx.identity.nodeId);
        if (bad !== undefined) {
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `assignments must number partitions from 0 and name only broker ${ctx.identity.nodeId}`);
        }
        partitions = t.assignments.length;
        replication = 1;
      }
      if (partitions === -1) partitions = ctx.settings.numPartitions;
      if (replication === -1) replication = ctx.settings.defaultReplicationFactor;
      if (partitions <= 0 || partitions > TOPIC_PARTITIONS_MAX) {
        return fail(ErrorCode.INVALID_PARTITIONS, `number of partitions must be between 1 and ${TOPIC_PARTITIONS_MAX}, got ${partitions}`);
      }
      if (replication <= 0) return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor must be larger than 0, got ${replication}`);
      if (replication > BROKER_COUNT) {
        return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor: ${replication} larger than available brokers: ${BROKER_COUNT}`);
      }
      const configs: Record<string, string> = {};
      const asked: Record<string, string | null> = {};
      for (const c of t.configs) asked[c.name] = c.value;
      const configProblem = ctx.topicConfigs.problem(asked);
      if (configProblem !== null) return fail(ErrorCode.INVALID_CONFIG, configProblem.message);
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      out.numPartitions = partitions;
      out.replicationFactor = replication;
      if (info.version >= 5) {
        out.configs = ctx.topicConfigs.describe(configs).map((c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, configSource: c.source, isSensitive: c.sensitive }));
      }
      if (req.validateOnly) return out;
      const topic = ctx.topics.create(t.name, partitions, configs);
      ctx.metrics.partitions.set(ctx.topics.partitionCount());
      out.topicId = topic.id;
      return out;
    });
    return res;
  },
};
