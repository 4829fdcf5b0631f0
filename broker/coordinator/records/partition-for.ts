// Which __consumer_offsets partition holds a group: the same answer Kafka gives, so a group keeps
// its partition (and its stored state) when a log written by one is read by the other, and clients'
// FindCoordinator answers agree with Kafka's tooling.
//
// Kafka computes Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions, where hashCode is
// Java's String.hashCode over UTF-16 code units (s[0]*31^(n-1) + ... + s[n-1], wrapping at 32 bits)
// and Utils.abs maps Integer.MIN_VALUE to 0 rather than leaving it negative.

/** Java's String.hashCode: a signed 32-bit hash over the UTF-16 code units of `s`. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: the absolute value, except that Integer.MIN_VALUE becomes 0. */
export function kafkaAbs(n: number): number {
  return n === -0x8000_0000 ? 0 : Math.abs(n);
}

/** The __consumer_offsets partition of a group. */
export function partitionFor(groupId: string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 0x7fff_ffff) {
    throw new RangeError(`numPartitions ${numPartitions} must be a positive int32`);
  }
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}
