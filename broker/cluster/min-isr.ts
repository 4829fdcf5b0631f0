// min.insync.replicas on the produce path, as Kafka's Partition.appendRecordsToLeader applies it.
//
// Since Kafka 3.7 (KAFKA-15583) the broker compares the ISR against an effective minimum,
// min(min.insync.replicas, replica count): a min.insync.replicas above the replication factor no
// longer makes a partition refuse every acks=all write. Kafka 4.1.1 accepts CreateTopics with
// min.insync.replicas=3 on a one-broker cluster and acknowledges acks=all produce to that topic
// (checked against the reference broker). Strata's partitions have one replica, this broker, which
// is always in sync, so the refusal below cannot happen yet; replication brings ISRs that shrink.

/** Kafka's effective min ISR: min.insync.replicas capped at the partition's replica count. */
export function effectiveMinIsr(minInsyncReplicas: number, replicaCount: number): number {
  return Math.min(minInsyncReplicas, replicaCount);
}

/**
 * Why a produce must be refused with NOT_ENOUGH_REPLICAS before it is appended, or null: only
 * acks=-1 is checked, against the ISR as it stands (broker ids), as Kafka does.
 */
export function notEnoughReplicasProblem(acks: number, isr: readonly number[], replicaCount: number, minInsyncReplicas: number, partition: string): string | null {
  if (acks !== -1) return null;
  const required = effectiveMinIsr(minInsyncReplicas, replicaCount);
  if (isr.length >= required) return null;
  return `The size of the current ISR [${isr.join(', ')}] is insufficient to satisfy the min.isr requirement of ${required} for partition ${partition}`;
}
