// A bounded cache of object bytes read back from the store: remote offset indexes and 1 MiB chunks
// of segment data, least recently used first out. Loads of one key share one request, so a burst
// of consumers at the same offset costs one GET. Chunks are aligned, so a sequential reader's next
// fetch is usually in the chunk the last one brought in: that is the read-ahead.
export interface CacheStats {
  hits: number;
  misses: number;
}

export class ChunkCache {
  readonly #entries = new Map<string, Buffer>();
  readonly #loading = new Map<string, Promise<Buffer>>();
  #bytes = 0;
  readonly stats: CacheStats = { hits: 0, misses: 0 };

  constructor(readonly maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new RangeError(`cache size ${maxBytes}`);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The cached bytes of `key`, or those `load` brings (then cached, if they fit). */
  async get(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Re-insert: Map order is the recency order.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      this.stats.hits++;
      return hit;
    }
    const pending = this.#loading.get(key);
    if (pending !== undefined) {
      this.stats.hits++;
      return pending;
    }
    this.stats.misses++;
    const p = load().then(
      (buf) => {
        this.#loading.delete(key);
        this.#put(key, buf);
        return buf;
      },
      (e: unknown) => {
        this.#loading.delete(key);
        throw e;
      },
    );
    this.#loading.set(key, p);
    return p;
  }

  /** Drops every entry whose key starts with `prefix` (a deleted remote segment). */
  evictPrefix(prefix: string): void {
    for (const [k, v] of this.#entries) {
      if (k.startsWith(prefix)) {
        this.#entries.delete(k);
        this.#bytes -= v.length;
      }
    }
  }

  #put(key: string, buf: Buffer): void {
    if (buf.length > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= old.length;
    }
    this.#entries.set(key, buf);
    this.#bytes += buf.length;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.length;
    }
  }
}
