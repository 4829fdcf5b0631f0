// The remote read cache: object bytes read back from the store (remote offset and time indexes, and
// 4 MiB chunks of segment data) in two bounded tiers, looked up memory → disk → bucket.
//
//   memory  least recently used first out, by bytes (strata.tiered.cache.memory.bytes);
//   disk    one file per entry under strata.tiered.cache.dir, least recently used first out, by
//           bytes (strata.tiered.cache.disk.bytes, a hard maximum: writes in flight are counted);
//           every entry loaded from the bucket is written here too, so what memory evicts stays
//           on disk. 0 turns the disk tier off.
//
// A disk file is written under a fresh name and recorded only once the write finished; it carries
// its length and CRC-32C, so a torn or damaged file fails its check when read, and is then deleted
// and the entry refetched, never served. Nothing is fsynced: the directory is wiped at start-up
// (init()), so nothing from an earlier run is trusted.
//
// Loads of one key share one request, so a burst of consumers at the same offset costs one GET.
// Read-ahead (prefetch()) loads entries in the background, at most PREFETCHES_IN_FLIGHT_MAX at once
// across the broker; a failed prefetch is counted and forgotten, and a reader that was waiting on it
// loads the entry itself.
import { crc32c } from '@node-rs/crc32';
import { mkdir, open, readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Read-ahead loads in flight at once, broker-wide; more are skipped (and counted). */
export const PREFETCHES_IN_FLIGHT_MAX = 4;
/** Disk writes in flight at once; an entry loaded while this many are pending is not written
 *  (each pending write holds its buffer, so this bounds that memory). */
export const DISK_WRITES_IN_FLIGHT_MAX = 8;

/** Disk file header: magic, data length, CRC-32C of the data. */
const MAGIC = 0x53544331; // "STC1"
const HEADER_BYTES = 12;
const FILE_SUFFIX = '.chunk';
const TEMP_SUFFIX = '.tmp';

export interface CacheStats {
  /** Lookups answered from memory. */
  memoryHits: number;
  /** Lookups answered from a disk file. */
  diskHits: number;
  /** Lookups that went to the bucket. */
  misses: number;
  /** Lookups that joined a load already in flight. */
  coalesced: number;
  /** Bytes read from the bucket into the cache (misses and prefetches). */
  bucketBytes: number;
  /** Read-ahead loads finished, failed, and skipped because PREFETCHES_IN_FLIGHT_MAX were running. */
  prefetches: number;
  prefetchFailures: number;
  prefetchesSkipped: number;
  /** Disk files that failed their length or CRC check (deleted, refetched). */
  diskCorrupt: number;
  /** Disk reads or writes that failed with an I/O error (the entry is then fetched from the bucket). */
  diskErrors: number;
}

export interface DiskTierOptions {
  dir: string;
  maxBytes: number;
}

interface DiskEntry {
  file: string;
  bytes: number;
}

interface Loading {
  promise: Promise<Buffer>;
  prefetch: boolean;
}

export class ChunkCache {
  readonly #memory = new Map<string, Buffer>();
  readonly #loading = new Map<string, Loading>();
  #memoryBytes = 0;
  /** Disk entries in recency order (Map order), with the bytes of their files. */
  readonly #disk = new Map<string, DiskEntry>();
  #diskBytes = 0;
  /** Bytes of writes in flight, reserved against the disk bound. */
  #diskReservedBytes = 0;
  /** Writes in flight by key; evictPrefix() removes a key here so its write is discarded on landing. */
  readonly #writing = new Map<string, symbol>();
  #prefetching = 0;
  #fileSeq = 0;
  /** Background work (disk writes, unlinks, prefetches), for settled(). */
  readonly #background = new Set<Promise<unknown>>();
  readonly stats: CacheStats = { memoryHits: 0, diskHits: 0, misses: 0, coalesced: 0, bucketBytes: 0, prefetches: 0, prefetchFailures: 0, prefetchesSkipped: 0, diskCorrupt: 0, diskErrors: 0 };
  readonly #diskTier: DiskTierOptions | null;

  constructor(
    readonly maxBytes: number,
    disk: DiskTierOptions | null = null,
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`cache size ${maxBytes}`);
    if (disk !== null && (!Number.isSafeInteger(disk.maxBytes) || disk.maxBytes < 0)) throw new RangeError(`disk cache size ${disk.maxBytes}`);
    this.#diskTier = disk === null || disk.maxBytes === 0 ? null : disk;
  }

  /** Memory bytes held. */
  get bytes(): number {
    return this.#memoryBytes;
  }

  /** Disk bytes held (files written, headers included) plus writes in flight. */
  get diskBytes(): number {
    return this.#diskBytes + this.#diskReservedBytes;
  }

  get diskEnabled(): boolean {
    return this.#diskTier !== null;
  }

  /** Creates the disk tier's directory and removes every cache file an earlier run left there. */
  async init(): Promise<void> {
    if (this.#diskTier === null) return;
    const dir = this.#diskTier.dir;
    let names: string[];
    try {
      await mkdir(dir, { recursive: true });
      names = await readdir(dir);
    } catch (e) {
      throw new Error(`the remote read cache directory ${dir} (strata.tiered.cache.dir) cannot be used: ${(e as Error).message}`, { cause: e });
    }
    for (const name of names) {
      // Only our own files: a misconfigured directory loses nothing else.
      if (name.endsWith(FILE_SUFFIX) || name.endsWith(TEMP_SUFFIX)) await unlink(join(this.#diskTier.dir, name)).catch(() => {});
    }
  }

  /** The cached bytes of `key`, or those `load` brings from the bucket (then cached, if they fit). */
  get(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.#memory.get(key);
    if (hit !== undefined) {
      // Re-insert: Map order is the recency order.
      this.#memory.delete(key);
      this.#memory.set(key, hit);
      this.stats.memoryHits++;
      return Promise.resolve(hit);
    }
    const pending = this.#loading.get(key);
    if (pending !== undefined) {
      this.stats.coalesced++;
      // A failed read-ahead is not the reader's failure: it loads the entry itself.
      return pending.prefetch ? pending.promise.catch(() => this.get(key, load)) : pending.promise;
    }
    return this.#load(key, load, false);
  }

  /** Starts loading `key` in the background unless it is in memory, already loading, or the
   *  read-ahead bound is reached. Never throws, never rejects. */
  prefetch(key: string, load: () => Promise<Buffer>): void {
    if (this.#memory.has(key) || this.#loading.has(key)) return;
    if (this.#prefetching >= PREFETCHES_IN_FLIGHT_MAX) {
      this.stats.prefetchesSkipped++;
      return;
    }
    this.#prefetching++;
    const p = this.#load(key, load, true).then(
      () => {
        this.stats.prefetches++;
      },
      () => {
        this.stats.prefetchFailures++;
      },
    );
    this.#track(
      p.finally(() => {
        this.#prefetching--;
      }),
    );
  }

  /** Drops every entry whose key starts with `prefix` (a deleted remote segment or topic), in memory
   *  and on disk. */
  evictPrefix(prefix: string): void {
    for (const [k, v] of this.#memory) {
      if (k.startsWith(prefix)) {
        this.#memory.delete(k);
        this.#memoryBytes -= v.length;
      }
    }
    for (const [k, e] of this.#disk) if (k.startsWith(prefix)) this.#dropDisk(k, e);
    for (const k of [...this.#writing.keys()]) if (k.startsWith(prefix)) this.#writing.delete(k);
  }

  /** Waits until background work started so far (disk writes, prefetches) has finished. For tests
   *  and shutdown. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p);
    void p.finally(() => this.#background.delete(p));
  }

  #load(key: string, load: () => Promise<Buffer>, prefetch: boolean): Promise<Buffer> {
    const p = (async () => {
      const fromDisk = await this.#readDisk(key);
      if (fromDisk !== null) {
        if (!prefetch) this.stats.diskHits++;
        return fromDisk;
      }
      if (!prefetch) this.stats.misses++;
      const buf = await load();
      this.stats.bucketBytes += buf.length;
      this.#writeDisk(key, buf);
      return buf;
    })().then(
      (buf) => {
        this.#loading.delete(key);
        this.#putMemory(key, buf);
        return buf;
      },
      (e: unknown) => {
        this.#loading.delete(key);
        throw e;
      },
    );
    this.#loading.set(key, { promise: p, prefetch });
    return p;
  }

  #putMemory(key: string, buf: Buffer): void {
    if (buf.length > this.maxBytes) return;
    const old = this.#memory.get(key);
    if (old !== undefined) {
      this.#memory.delete(key);
      this.#memoryBytes -= old.length;
    }
    this.#memory.set(key, buf);
    this.#memoryBytes += buf.length;
    for (const [k, v] of this.#memory) {
      if (this.#memoryBytes <= this.maxBytes) break;
      this.#memory.delete(k);
      this.#memoryBytes -= v.length;
    }
  }

  // ---- disk tier --------------------------------------------------------------------------------

  /** A fresh file name for an entry: a counter, unique within the run (the directory is wiped at
   *  start-up, and a key written again gets a new file). */
  #newFile(): string {
    return join(this.#diskTier!.dir, `${(this.#fileSeq++).toString(36).padStart(8, '0')}${FILE_SUFFIX}`);
  }

  /** The entry's bytes from its disk file, or null when there is none or it fails its check. */
  async #readDisk(key: string): Promise<Buffer | null> {
    const e = this.#disk.get(key);
    if (e === undefined) return null;
    this.#disk.delete(key);
    this.#disk.set(key, e);
    let raw: Buffer;
    try {
      raw = await readFile(e.file);
    } catch (err) {
      // Evicted while we opened it is not an error; anything else is counted.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.stats.diskErrors++;
      if (this.#disk.get(key) === e) this.#dropDisk(key, e);
      return null;
    }
    const data = raw.subarray(HEADER_BYTES);
    if (raw.length < HEADER_BYTES || raw.readUInt32BE(0) !== MAGIC || raw.readUInt32BE(4) !== data.length || (crc32c(data) >>> 0) !== raw.readUInt32BE(8)) {
      this.stats.diskCorrupt++;
      if (this.#disk.get(key) === e) this.#dropDisk(key, e);
      return null;
    }
    return data;
  }

  #dropDisk(key: string, e: DiskEntry): void {
    this.#disk.delete(key);
    this.#diskBytes -= e.bytes;
    this.#track(unlink(e.file).catch(() => {}));
  }

  /** Writes the entry to disk in the background, making room first. */
  #writeDisk(key: string, buf: Buffer): void {
    const tier = this.#diskTier;
    if (tier === null || this.#writing.has(key) || this.#disk.has(key)) return;
    const bytes = HEADER_BYTES + buf.length;
    if (bytes > tier.maxBytes || this.#writing.size >= DISK_WRITES_IN_FLIGHT_MAX) return;
    for (const [k, e] of this.#disk) {
      if (this.#diskBytes + this.#diskReservedBytes + bytes <= tier.maxBytes) break;
      this.#dropDisk(k, e);
    }
    if (this.#diskBytes + this.#diskReservedBytes + bytes > tier.maxBytes) return;
    const token = Symbol(key);
    this.#writing.set(key, token);
    this.#diskReservedBytes += bytes;
    // Written under its own name, never renamed: the file is looked up only once it is recorded
    // below, after the write finished, and a torn one fails its length or CRC check on read.
    const file = this.#newFile();
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(MAGIC, 0);
    header.writeUInt32BE(buf.length, 4);
    header.writeUInt32BE(crc32c(buf) >>> 0, 8);
    const work = (async () => {
      let written = false;
      try {
        const fh = await open(file, 'wx');
        try {
          await fh.writev([header, buf]);
        } finally {
          await fh.close();
        }
        written = true;
      } catch {
        this.stats.diskErrors++;
        await unlink(file).catch(() => {});
      } finally {
        this.#diskReservedBytes -= bytes;
      }
      if (!written) {
        if (this.#writing.get(key) === token) this.#writing.delete(key);
        return;
      }
      if (this.#writing.get(key) !== token) {
        // Evicted (its segment deleted) while being written.
        await unlink(file).catch(() => {});
        return;
      }
      this.#writing.delete(key);
      this.#disk.set(key, { file, bytes });
      this.#diskBytes += bytes;
    })();
    this.#track(work);
  }
}
