// Partitions per topic id: the shape of target assignments, current assignments and pending
// revocations. A value is never changed once built; every change makes a new map, so a member's
// old and new state can be compared and handed out without copies.

/** Topic id (Kafka's base64url uuid) → partition indexes. Topics with no partitions are absent. */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

export const EMPTY_ASSIGNMENT: Assignment = new Map();

/** The list form used on the wire and in records: topics by id, partitions ascending. */
export interface TopicPartitionsList {
  topicId: string;
  partitions: number[];
}

/** Builds an assignment from a list; a topic listed twice is merged, empty topics are dropped. */
export function assignmentFromList(list: readonly { topicId: string; partitions: readonly number[] }[]): Assignment {
  const out = new Map<string, Set<number>>();
  for (const tp of list) {
    if (tp.partitions.length === 0) continue;
    let set = out.get(tp.topicId);
    if (set === undefined) out.set(tp.topicId, (set = new Set()));
    for (const p of tp.partitions) set.add(p);
  }
  return out;
}

/** The list form, in a stable order (topic id, then partition), so equal assignments encode equally. */
export function assignmentToList(a: Assignment): TopicPartitionsList[] {
  const topicIds = [...a.keys()].sort();
  return topicIds.map((topicId) => ({ topicId, partitions: [...a.get(topicId)!].sort((x, y) => x - y) }));
}

export function assignmentEquals(a: Assignment, b: Assignment): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [topicId, parts] of a) {
    const other = b.get(topicId);
    if (other === undefined || other.size !== parts.size) return false;
    for (const p of parts) if (!other.has(p)) return false;
  }
  return true;
}

export function assignmentSize(a: Assignment): number {
  let n = 0;
  for (const parts of a.values()) n += parts.size;
  return n;
}

export function assignmentHas(a: Assignment, topicId: string, partition: number): boolean {
  return a.get(topicId)?.has(partition) ?? false;
}

/** Builds an assignment from per-topic sets that may be empty (empty ones are dropped). */
export function compactAssignment(m: ReadonlyMap<string, ReadonlySet<number>>): Assignment {
  const out = new Map<string, ReadonlySet<number>>();
  for (const [topicId, parts] of m) if (parts.size > 0) out.set(topicId, parts);
  return out;
}
