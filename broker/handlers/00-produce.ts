// Produce (key 0). Advertised from v0 because librdkafka up to 2.11 enables record batch v2,
// compression and idempotence only when it sees v0, v3 and v7 in range; v0-2 have no definitions
// any more (KIP-896), so such a request fails to decode and only its connection is closed, as Kafka
// 4.x does.
// Per partition: the batches are validated and appended by the partition log (CRC, size against
// max.message.bytes, idempotent producer sequence checks), then the high watermark moves to the log
// end (this broker is the only in-sync replica). acks=0 gets no response at all. Errors are per
// partition: UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID, INVALID_REQUIRED_ACKS, CORRUPT_MESSAGE,
// MESSAGE_TOO_LARGE, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, KAFKA_STORAGE_ERROR (a full
// disk, a failed log, or a partition in an offline log directory), and NOT_ENOUGH_REPLICAS for
// acks=-1 when the ISR is below min.insync.replicas capped at the replica count (Kafka's effective
// min ISR; with one replica it is always met, as on a one-broker Kafka).
// Clients may not write to internal topics (__consumer_offsets): INVALID_TOPIC_EXCEPTION, as Kafka.
import type * as G from '../protocol/generated/index.js';
import { defaultProduceResponse, defaultProduceResponsePartitionProduceResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';
import { errorCodeOf } from './log-errors.js';
import { OFFSETS_TOPIC } from '../coordinator/group-coordinator.js';
import { notEnoughReplicasProblem } from '../cluster/min-isr.js';
import type { Partition } from '../cluster/topics.js';

/** Every partition has one replica, this broker, always in sync; replication brings real ISRs. */
function notEnoughReplicas(ctx: BrokerContext, acks: number, partition: Partition): string | null {
  return notEnoughReplicasProblem(acks, [ctx.identity.nodeId], 1, partition.log.config.minInsyncReplicas, `${partition.topic}-${partition.index}`);
}

export const produceHandler: ApiHandler = {
  apiKey: 0,
  minVersion: 0,
  maxVersion: 13,
  handle: (ctx: BrokerContext, req: G.ProduceRequest, info: RequestInfo): G.ProduceResponse | undefined => {
    const res = defaultProduceResponse();
    const acksValid = req.acks === -1 || req.acks === 0 || req.acks === 1;
    res.responses = req.topicData.map((td) => {
      const topic = info.version >= 13 ? ctx.topics.getById(td.topicId) : ctx.topics.get(td.name);
      const missingCode = info.version >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      return {
        name: td.name,
        topicId: td.topicId,
        partitionResponses: td.partitionData.map((pd) => {
          const out = { ...defaultProduceResponsePartitionProduceResponse(), index: pd.index };
          const partition = topic?.partitions[pd.index];
          if (!acksValid) out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
          else if (topic === undefined || partition === undefined) out.errorCode = missingCode;
          else if (topic.name === OFFSETS_TOPIC) {
            out.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
            out.errorMessage = `Cannot append to internal topic ${OFFSETS_TOPIC}`;
          } else if (partition.offline) {
            out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
            out.errorMessage = `partition ${topic.name}-${pd.index} is in an offline log directory`;
          } else if (pd.records === null || pd.records.length === 0) out.errorCode = ErrorCode.CORRUPT_MESSAGE;
          else {
            try {
              const r = partition.log.appendAsLeader(pd.records, partition.leaderEpoch);
              partition.log.updateHighWatermark(partition.log.logEndOffset);
              out.baseOffset = BigInt(r.baseOffset);
              out.logAppendTimeMs = BigInt(r.logAppendTimeMs);
              out.logStartOffset = BigInt(r.logStartOffset);
              if (!r.duplicate) ctx.metrics.bytesIn.inc({ topic: topic.name }, pd.records.length);
              ctx.fetchWakeup.notify(`${topic.name}:${pd.index}`);
            } catch (e) {
              out.errorCode = errorCodeOf(ctx, e, { topic: topic.name, partition: pd.index, client: info.header.clientId });
              if (out.errorCode !== ErrorCode.NONE) out.errorMessage = (e as Error).message;
            }
          }
          return out;
        }),
      };
    });
    return req.acks === 0 ? undefined : res;
  },
};
