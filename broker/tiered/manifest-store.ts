// Persists a partition's manifest (remote-segments.ts) in the object store itself, so the cold tier
// describes itself and a restarted broker reads one small object instead of replaying a log.
//
// Each write is a new immutable object named by its generation,
//   <partition prefix>/manifest/<generation, 20 digits>.json
// written with If-None-Match: *. Listing is strongly consistent on S3 and on the local store, so
// the latest manifest is the highest generation listed. Two writers that both read generation n
// race for n+1 and exactly one wins; the other gets ManifestFencedError and must reload, which is
// what keeps a deposed leader from overwriting its successor's work. Older generations are deleted
// once a newer one is written, keeping a few for inspection.
import { ManifestError, type PartitionManifest, decodeManifest, emptyManifest, encodeManifest } from './remote-segments.js';
import { type ObjectStore, ObjectStoreError } from './object-store.js';

/** Generations kept behind the latest. */
const KEEP_OLD_GENERATIONS = 2;
const GENERATION_DIGITS = 20;

export class ManifestFencedError extends Error {
  override readonly name = 'ManifestFencedError';
}

export function manifestKey(partitionPrefix: string, generation: number): string {
  return `${partitionPrefix}/manifest/${String(generation).padStart(GENERATION_DIGITS, '0')}.json`;
}

export class ManifestStore {
  constructor(
    private readonly store: ObjectStore,
    /** Where this partition's objects live, e.g. `<cluster>/<topic>-<topic id>/<partition>`. */
    readonly partitionPrefix: string,
    private readonly topicId: string,
    private readonly partition: number,
  ) {}

  private async generations(): Promise<number[]> {
    const out: number[] = [];
    const dir = `${this.partitionPrefix}/manifest/`;
    for await (const o of this.store.list(dir)) {
      const m = /^(\d{20})\.json$/.exec(o.key.slice(dir.length));
      if (m !== null) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /** The latest manifest, or an empty one (generation 0) when none was ever written. */
  async load(): Promise<PartitionManifest> {
    const gens = await this.generations();
    const latest = gens.at(-1);
    if (latest === undefined) return emptyManifest(this.topicId, this.partition);
    const key = manifestKey(this.partitionPrefix, latest);
    const m = decodeManifest(await this.store.get(key), key);
    if (m.generation !== latest || m.topicId !== this.topicId || m.partition !== this.partition) {
      throw new ManifestError(`${key} holds generation ${m.generation} of ${m.topicId}-${m.partition}`);
    }
    return m;
  }

  /**
   * Writes `next`, which must be the successor of the manifest last loaded or written (generation
   * one higher). Throws ManifestFencedError if another writer got that generation first.
   */
  async write(next: PartitionManifest): Promise<void> {
    if (next.topicId !== this.topicId || next.partition !== this.partition) throw new ManifestError(`manifest of ${next.topicId}-${next.partition} written to ${this.partitionPrefix}`);
    const key = manifestKey(this.partitionPrefix, next.generation);
    try {
      await this.store.put(key, encodeManifest(next), { ifNoneMatch: true });
    } catch (e) {
      if (e instanceof ObjectStoreError && e.kind === 'precondition-failed') {
        throw new ManifestFencedError(`generation ${next.generation} of ${this.partitionPrefix} was written by another writer`, { cause: e });
      }
      throw e;
    }
    // Best effort: a stale generation left behind is harmless, since the highest one wins.
    const old = (await this.generations().catch(() => [] as number[])).filter((g) => g < next.generation - KEEP_OLD_GENERATIONS);
    if (old.length > 0) await this.store.delete(old.map((g) => manifestKey(this.partitionPrefix, g))).catch(() => {});
  }
}

/** Segment objects are named `<partition prefix>/segments/<base offset, 20 digits>-<attempt id>.<kind>`. */
export function segmentObjectKey(partitionPrefix: string, baseOffset: number, id: string, kind: string): string {
  return `${partitionPrefix}/segments/${String(baseOffset).padStart(20, '0')}-${id}.${kind}`;
}

/**
 * Objects under the partition's segments/ prefix that no manifest entry names: left by an upload
 * attempt that crashed before it was recorded. Given the listed keys and the manifest's ids.
 */
export function orphanKeys(partitionPrefix: string, listed: readonly string[], knownIds: ReadonlySet<string>): string[] {
  const dir = `${partitionPrefix}/segments/`;
  return listed.filter((key) => {
    const m = /^\d{20}-([A-Za-z0-9-]{1,64})\.[a-z-]+$/.exec(key.startsWith(dir) ? key.slice(dir.length) : '');
    // Keys that do not parse are not Strata's; leave them alone.
    return m !== null && !knownIds.has(m[1]!);
  });
}
