// Topic creation shared by CreateTopics, auto-creation in Metadata, and the produce path.
import type { Topic } from '../cluster/topics.js';
import type { BrokerContext } from './context.js';

/** Creates a topic with the broker defaults, or returns null when the name is not allowed. */
export function autoCreateTopic(ctx: BrokerContext, name: string): Topic | null {
  const existing = ctx.topics.get(name);
  if (existing !== undefined) return existing;
  if (ctx.topics.createProblem(name) !== null) return null;
  const topic = ctx.topics.create(name, ctx.settings.numPartitions, {});
  ctx.metrics.partitions.set(ctx.topics.partitionCount());
  return topic;
}
