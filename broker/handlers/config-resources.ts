// Shared by DescribeConfigs, AlterConfigs and IncrementalAlterConfigs: which resource a request
// names, and Kafka's answers for ones this broker does not have.
import { ErrorCode } from '../protocol/error-codes.js';
import type { Topic } from '../cluster/topics.js';
import type { BrokerContext } from './context.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export type Resolved =
  | { kind: 'topic'; topic: Topic }
  | { kind: 'broker'; scope: 'cluster-default' | 'broker' }
  | { kind: 'error'; errorCode: number; message: string };

export function resolveResource(ctx: BrokerContext, resourceType: number, resourceName: string): Resolved {
  if (resourceType === ResourceType.TOPIC) {
    const topic = ctx.topics.get(resourceName);
    return topic === undefined
      ? { kind: 'error', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `topic '${resourceName}' does not exist` }
      : { kind: 'topic', topic };
  }
  if (resourceType === ResourceType.BROKER) {
    // An empty name is the cluster-wide default layer; this broker's id is its own layer.
    if (resourceName === '') return { kind: 'broker', scope: 'cluster-default' };
    if (resourceName === String(ctx.identity.nodeId)) return { kind: 'broker', scope: 'broker' };
    return { kind: 'error', errorCode: ErrorCode.INVALID_REQUEST, message: `broker ${resourceName} is not this broker (${ctx.identity.nodeId})` };
  }
  return { kind: 'error', errorCode: ErrorCode.INVALID_REQUEST, message: `resource type ${resourceType} is not supported` };
}
