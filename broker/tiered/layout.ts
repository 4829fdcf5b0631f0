// Where a partition's objects live in the bucket, under the store's own prefix:
//
//   <cluster id>/<topic>-<topic id>/<partition>/manifest/<generation>.json      (manifest-store.ts)
//   <cluster id>/<topic>-<topic id>/<partition>/segments/<base offset>-<attempt id>.<kind>
//
// The topic id keeps a deleted and re-created topic of the same name apart; the attempt id keeps
// the objects of a retried upload apart from those of the failed attempt, so a cleanup of one
// never deletes the other. The name is there for people browsing the bucket.
import { segmentObjectKey } from './manifest-store.js';

/** The files of one uploaded segment, as Kafka's RemoteStorageManager stores them. */
export const SEGMENT_OBJECT_KINDS = ['log', 'index', 'timeindex', 'snapshot', 'leader-epoch', 'txnindex'] as const;
export type SegmentObjectKind = (typeof SEGMENT_OBJECT_KINDS)[number];

export function partitionPrefix(clusterId: string, topic: string, topicId: string, partition: number): string {
  if (!Number.isSafeInteger(partition) || partition < 0) throw new RangeError(`partition ${partition}`);
  return `${clusterId}/${topic}-${topicId}/${partition}`;
}

/** Every object key of one upload attempt. */
export function segmentObjectKeys(prefix: string, baseOffset: number, id: string): Record<SegmentObjectKind, string> {
  const out = {} as Record<SegmentObjectKind, string>;
  for (const kind of SEGMENT_OBJECT_KINDS) out[kind] = segmentObjectKey(prefix, baseOffset, id, kind);
  return out;
}

/** An attempt id: unique, and a plain id as the manifest requires (no dashes needed). */
export function newAttemptId(random: () => string): string {
  return random().replace(/-/g, '');
}
