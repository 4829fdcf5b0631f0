// What the cold tier holds for one partition: its remote segments and the state of each, as a
// manifest that changes only through the transitions below. Pure: no I/O here (manifest-store.ts
// persists it), so every rule is tested with plain values.
//
// A segment moves through Kafka's RemoteLogSegmentState order (KIP-405):
//
//   copy-started ──► copy-finished ──► delete-started ──► (gone)
//        └──────────────────────────────────┘
//
// copy-started is written before the first byte is uploaded, so a crash mid-upload leaves a record
// naming the objects to remove; a failed attempt goes straight to delete-started. Every attempt has
// its own id, so the objects of a retried upload never collide with those of a failed one.
// Only copy-finished segments are readable, and together they cover one contiguous offset range.

export type RemoteSegmentState = 'copy-started' | 'copy-finished' | 'delete-started';

export interface RemoteSegment {
  /** Unique per upload attempt; part of every object key of the attempt. */
  id: string;
  baseOffset: number;
  /** The last offset in the segment (inclusive). */
  endOffset: number;
  /** The largest record timestamp in the segment, for time-based remote retention. */
  maxTimestampMs: number;
  sizeBytes: number;
  /** Leader epochs starting inside the segment, as the local leader-epoch cache had them. */
  leaderEpochs: { epoch: number; startOffset: number }[];
  state: RemoteSegmentState;
  stateChangedMs: number;
}

export interface PartitionManifest {
  format: 1;
  topicId: string;
  partition: number;
  /** Incremented by every write; the manifest object's name carries it. */
  generation: number;
  /** Ordered by baseOffset, then by id. */
  segments: RemoteSegment[];
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

export function emptyManifest(topicId: string, partition: number): PartitionManifest {
  return { format: 1, topicId, partition, generation: 0, segments: [] };
}

function sorted(segments: RemoteSegment[]): RemoteSegment[] {
  return [...segments].sort((a, b) => a.baseOffset - b.baseOffset || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function find(m: PartitionManifest, id: string): RemoteSegment {
  const s = m.segments.find((x) => x.id === id);
  if (s === undefined) throw new ManifestError(`no remote segment ${id} in ${m.topicId}-${m.partition}`);
  return s;
}

function withSegment(m: PartitionManifest, id: string, change: (s: RemoteSegment) => RemoteSegment | null): PartitionManifest {
  const segments: RemoteSegment[] = [];
  for (const s of m.segments) {
    if (s.id !== id) segments.push(s);
    else {
      const next = change(s);
      if (next !== null) segments.push(next);
    }
  }
  const out = { ...m, generation: m.generation + 1, segments: sorted(segments) };
  checkManifest(out);
  return out;
}

/** Records that an upload of `segment` is starting. The new segment must extend the readable range. */
export function startCopy(m: PartitionManifest, segment: Omit<RemoteSegment, 'state' | 'stateChangedMs'>, nowMs: number): PartitionManifest {
  if (m.segments.some((s) => s.id === segment.id)) throw new ManifestError(`remote segment id ${segment.id} is already used`);
  // A partition uploads one segment at a time; a second attempt starts only after the first is
  // finished or abandoned (delete-started).
  const open = m.segments.find((s) => s.state === 'copy-started');
  if (open !== undefined) throw new ManifestError(`an upload (${open.id}) is already under way for ${m.topicId}-${m.partition}`);
  const end = remoteEndOffset(m);
  if (end !== null && segment.baseOffset !== end + 1) {
    throw new ManifestError(`segment [${segment.baseOffset}, ${segment.endOffset}] does not follow the remote log, which ends at ${end}`);
  }
  const out = { ...m, generation: m.generation + 1, segments: sorted([...m.segments, { ...segment, leaderEpochs: [...segment.leaderEpochs], state: 'copy-started' as const, stateChangedMs: nowMs }]) };
  checkManifest(out);
  return out;
}

export function finishCopy(m: PartitionManifest, id: string, nowMs: number): PartitionManifest {
  const s = find(m, id);
  if (s.state !== 'copy-started') throw new ManifestError(`remote segment ${id} is ${s.state}, not copy-started`);
  const end = remoteEndOffset(m);
  if (end !== null && s.baseOffset !== end + 1) throw new ManifestError(`segment ${id} at ${s.baseOffset} no longer follows the remote log, which ends at ${end}`);
  return withSegment(m, id, (x) => ({ ...x, state: 'copy-finished', stateChangedMs: nowMs }));
}

/**
 * Starts deleting a segment: a finished one leaving by retention (the oldest first, so the readable
 * range stays contiguous), or an abandoned upload attempt.
 */
export function startDelete(m: PartitionManifest, id: string, nowMs: number): PartitionManifest {
  const s = find(m, id);
  if (s.state === 'delete-started') return m;
  if (s.state === 'copy-finished') {
    const first = m.segments.find((x) => x.state === 'copy-finished')!;
    if (first.id !== id) throw new ManifestError(`remote segment ${id} at ${s.baseOffset} is not the oldest readable one (${first.baseOffset}); retention deletes oldest first`);
  }
  return withSegment(m, id, (x) => ({ ...x, state: 'delete-started', stateChangedMs: nowMs }));
}

/** The segment's objects are gone: it leaves the manifest. */
export function finishDelete(m: PartitionManifest, id: string): PartitionManifest {
  const s = find(m, id);
  if (s.state !== 'delete-started') throw new ManifestError(`remote segment ${id} is ${s.state}, not delete-started`);
  return withSegment(m, id, () => null);
}

/** The readable segments, oldest first. */
export function readable(m: PartitionManifest): RemoteSegment[] {
  return m.segments.filter((s) => s.state === 'copy-finished');
}

/** First offset readable from the remote tier, or null when nothing is. */
export function remoteStartOffset(m: PartitionManifest): number | null {
  return readable(m)[0]?.baseOffset ?? null;
}

/** Last offset readable from the remote tier, or null when nothing is. */
export function remoteEndOffset(m: PartitionManifest): number | null {
  return readable(m).at(-1)?.endOffset ?? null;
}

/** The readable segment holding `offset`, or null. */
export function segmentFor(m: PartitionManifest, offset: number): RemoteSegment | null {
  const segs = readable(m);
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid]!;
    if (offset < s.baseOffset) hi = mid - 1;
    else if (offset > s.endOffset) lo = mid + 1;
    else return s;
  }
  return null;
}

/** Throws ManifestError unless the manifest is well formed and its readable segments contiguous. */
export function checkManifest(m: PartitionManifest): void {
  const where = `${m.topicId}-${m.partition} generation ${m.generation}`;
  if (m.format !== 1) throw new ManifestError(`${where}: unknown manifest format ${String(m.format)}`);
  if (!Number.isSafeInteger(m.generation) || m.generation < 0) throw new ManifestError(`${where}: bad generation`);
  const ids = new Set<string>();
  let prev: RemoteSegment | undefined;
  for (const s of m.segments) {
    if (ids.has(s.id)) throw new ManifestError(`${where}: segment id ${s.id} appears twice`);
    ids.add(s.id);
    if (!/^[A-Za-z0-9-]{1,64}$/.test(s.id)) throw new ManifestError(`${where}: segment id ${JSON.stringify(s.id)} is not a plain id`);
    for (const k of ['baseOffset', 'endOffset', 'sizeBytes', 'stateChangedMs'] as const) {
      if (!Number.isSafeInteger(s[k]) || s[k] < 0) throw new ManifestError(`${where}: segment ${s.id} has ${k} ${String(s[k])}`);
    }
    if (s.endOffset < s.baseOffset) throw new ManifestError(`${where}: segment ${s.id} ends (${s.endOffset}) before it starts (${s.baseOffset})`);
    if (!['copy-started', 'copy-finished', 'delete-started'].includes(s.state)) throw new ManifestError(`${where}: segment ${s.id} has state ${String(s.state)}`);
    if (s.state === 'copy-finished') {
      if (prev !== undefined && s.baseOffset !== prev.endOffset + 1) {
        throw new ManifestError(`${where}: readable segments are not contiguous: ${prev.endOffset} then ${s.baseOffset}`);
      }
      prev = s;
    }
  }
}

export function encodeManifest(m: PartitionManifest): Buffer {
  checkManifest(m);
  return Buffer.from(JSON.stringify(m));
}

/** Parses and checks a manifest read back from the store. */
export function decodeManifest(bytes: Buffer, what: string): PartitionManifest {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ManifestError(`${what} is not JSON: ${(e as Error).message}`);
  }
  assertShape(m, what);
  checkManifest(m);
  return m;
}

function assertShape(m: unknown, what: string): asserts m is PartitionManifest {
  const o = m as Partial<PartitionManifest> | null;
  if (o === null || typeof o !== 'object' || typeof o.topicId !== 'string' || typeof o.partition !== 'number' || !Array.isArray(o.segments)) {
    throw new ManifestError(`${what} does not have a manifest's fields`);
  }
  for (const s of o.segments as unknown[]) {
    const x = s as Partial<RemoteSegment> | null;
    if (x === null || typeof x !== 'object' || typeof x.id !== 'string' || !Array.isArray(x.leaderEpochs)) throw new ManifestError(`${what} has a malformed segment`);
  }
}
