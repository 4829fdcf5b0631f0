// The remote read cache: bounds of both tiers, eviction from memory to disk, disk files that fail
// their check, coalesced loads, read-ahead bounds and failures, the start-up wipe.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkCache, PREFETCHES_IN_FLIGHT_MAX } from './chunk-cache.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-chunk-cache-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A bucket stand-in: counts loads per key; each key's bytes are derived from it. */
class Loads {
  readonly count = new Map<string, number>();
  bytesOf(key: string, size: number): Buffer {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = (key.charCodeAt(i % key.length) + i) & 0xff;
    return b;
  }
  loader(key: string, size: number): () => Promise<Buffer> {
    return async () => {
      this.count.set(key, (this.count.get(key) ?? 0) + 1);
      return this.bytesOf(key, size);
    };
  }
  total(): number {
    return [...this.count.values()].reduce((n, x) => n + x, 0);
  }
}

function cacheFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.chunk'));
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

describe('ChunkCache', () => {
  it('keeps memory within its bound and serves what memory evicted from disk, without a second load', async () => {
    const dir = tempDir();
    const cache = new ChunkCache(2500, { dir, maxBytes: 100_000 });
    await cache.init();
    const loads = new Loads();
    for (const k of ['a', 'b', 'c', 'd']) {
      expect(await cache.get(k, loads.loader(k, 1000))).toEqual(loads.bytesOf(k, 1000));
      expect(cache.bytes).toBeLessThanOrEqual(2500);
    }
    await cache.settled();
    expect(cacheFiles(dir)).toHaveLength(4);
    // a and b left memory (the bound holds two); they come back from disk.
    expect(await cache.get('a', loads.loader('a', 1000))).toEqual(loads.bytesOf('a', 1000));
    expect(await cache.get('d', loads.loader('d', 1000))).toEqual(loads.bytesOf('d', 1000));
    expect(loads.total()).toBe(4);
    expect(cache.stats).toMatchObject({ misses: 4, diskHits: 1, memoryHits: 1 });
  });

  it('never holds more than its disk bound, the least recently used files going first', async () => {
    const dir = tempDir();
    const cache = new ChunkCache(1000, { dir, maxBytes: 5000 });
    await cache.init();
    const loads = new Loads();
    for (let i = 0; i < 20; i++) {
      await cache.get(`k${i}`, loads.loader(`k${i}`, 1000));
      expect(cache.diskBytes).toBeLessThanOrEqual(5000);
      await cache.settled();
      expect(dirBytes(dir)).toBeLessThanOrEqual(5000);
    }
    // Each file is 1000 bytes plus a header: four fit.
    expect(cacheFiles(dir)).toHaveLength(4);
    // The newest are kept: k19 is in memory, k16 on disk, k0 gone.
    await cache.get('k16', loads.loader('k16', 1000));
    await cache.get('k0', loads.loader('k0', 1000));
    expect(loads.count.get('k16')).toBe(1);
    expect(loads.count.get('k0')).toBe(2);
    // An entry larger than the whole disk tier is served and not written.
    await cache.settled();
    const before = cacheFiles(dir).length;
    expect(await cache.get('huge', loads.loader('huge', 6000))).toHaveLength(6000);
    await cache.settled();
    expect(cacheFiles(dir).length).toBeLessThanOrEqual(before);
    expect(dirBytes(dir)).toBeLessThanOrEqual(5000);
  });

  it('deletes a disk file that fails its check and loads the entry again, never serving it', async () => {
    const dir = tempDir();
    const cache = new ChunkCache(1000, { dir, maxBytes: 100_000 });
    await cache.init();
    const loads = new Loads();
    await cache.get('x', loads.loader('x', 900));
    await cache.get('y', loads.loader('y', 900));
    await cache.get('z', loads.loader('z', 900));
    await cache.settled();
    const files = cacheFiles(dir);
    expect(files).toHaveLength(3);
    // Corrupt every file: one byte flipped in the first, the others cut short.
    const [f1, f2, f3] = files.map((f) => join(dir, f));
    const b = readFileSync(f1!);
    b[b.length - 10]! ^= 0xff;
    writeFileSync(f1!, b);
    writeFileSync(f2!, readFileSync(f2!).subarray(0, 500));
    writeFileSync(f3!, Buffer.alloc(0));
    // x and y are not in memory (bound 1000): both come from disk, fail, and are refetched.
    for (const k of ['x', 'y']) expect(await cache.get(k, loads.loader(k, 900))).toEqual(loads.bytesOf(k, 900));
    expect(loads.count.get('x')).toBe(2);
    expect(loads.count.get('y')).toBe(2);
    expect(cache.stats.diskCorrupt).toBe(2);
    expect(cache.stats.diskHits).toBe(0);
    await cache.settled();
    // The refetched entries were written again, whole: x (out of memory again) is a disk hit now.
    expect(await cache.get('x', loads.loader('x', 900))).toEqual(loads.bytesOf('x', 900));
    expect(loads.count.get('x')).toBe(2);
    expect(cache.stats.diskHits).toBe(1);
  });

  it('shares one load among concurrent lookups of a key', async () => {
    const dir = tempDir();
    const cache = new ChunkCache(10_000, { dir, maxBytes: 100_000 });
    await cache.init();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      calls++;
      await gate;
      return Buffer.from('shared');
    };
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get('k', load)));
    // Let the first lookup pass its disk check and reach the load.
    await new Promise((r) => setTimeout(r, 10));
    release();
    const got = await all;
    expect(calls).toBe(1);
    expect(got.every((b) => b.toString() === 'shared')).toBe(true);
    expect(cache.stats).toMatchObject({ misses: 1, coalesced: 9 });
    // A failed load is shared too, and not cached: the next lookup loads again.
    let failing = 0;
    const bad = async () => {
      failing++;
      throw new Error('store down');
    };
    const results = await Promise.allSettled([cache.get('f', bad), cache.get('f', bad)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(failing).toBe(1);
    await expect(cache.get('f', async () => Buffer.from('ok'))).resolves.toEqual(Buffer.from('ok'));
  });

  it('bounds read-ahead, counts its failures, and never hands a failed prefetch to a reader', async () => {
    const cache = new ChunkCache(100_000, null);
    const gates: (() => void)[] = [];
    const slow = (v: string) => () => new Promise<Buffer>((r) => gates.push(() => r(Buffer.from(v))));
    for (let i = 0; i < PREFETCHES_IN_FLIGHT_MAX + 3; i++) cache.prefetch(`p${i}`, slow(`p${i}`));
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(PREFETCHES_IN_FLIGHT_MAX);
    expect(cache.stats.prefetchesSkipped).toBe(3);
    // A reader of a key being prefetched joins that load.
    let readerLoads = 0;
    const joined = cache.get('p0', async () => {
      readerLoads++;
      return Buffer.from('own');
    });
    for (const g of gates) g();
    expect((await joined).toString()).toBe('p0');
    await cache.settled();
    expect(cache.stats.prefetches).toBe(PREFETCHES_IN_FLIGHT_MAX);
    expect(readerLoads).toBe(0);
    // What was prefetched is a memory hit; a key in memory is not prefetched again.
    await cache.get('p1', async () => Buffer.from('never'));
    cache.prefetch('p1', async () => Buffer.from('never'));
    await cache.settled();
    expect(cache.stats.prefetches).toBe(PREFETCHES_IN_FLIGHT_MAX);
    // A failing prefetch: counted; the reader that joined it loads the entry itself.
    let fail!: () => void;
    cache.prefetch('bad', () => new Promise<Buffer>((_, reject) => (fail = () => reject(new Error('store down')))));
    const reader = cache.get('bad', async () => {
      readerLoads++;
      return Buffer.from('fresh');
    });
    await new Promise((r) => setImmediate(r));
    fail();
    expect((await reader).toString()).toBe('fresh');
    await cache.settled();
    expect(cache.stats.prefetchFailures).toBe(1);
    expect(readerLoads).toBe(1);
  });

  it('drops a prefix from both tiers', async () => {
    const dir = tempDir();
    const cache = new ChunkCache(100_000, { dir, maxBytes: 100_000 });
    await cache.init();
    const loads = new Loads();
    for (const k of ['seg1.log#0', 'seg1.log#1', 'seg2.log#0']) await cache.get(k, loads.loader(k, 100));
    await cache.settled();
    cache.evictPrefix('seg1');
    await cache.settled();
    expect(cacheFiles(dir)).toHaveLength(1);
    await cache.get('seg1.log#0', loads.loader('seg1.log#0', 100));
    await cache.get('seg2.log#0', loads.loader('seg2.log#0', 100));
    expect(loads.count.get('seg1.log#0')).toBe(2);
    expect(loads.count.get('seg2.log#0')).toBe(1);
  });

  it('wipes its own files from the directory at start-up and nothing else', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'abc.chunk'), 'stale');
    writeFileSync(join(dir, 'abc.chunk.123.tmp'), 'torn');
    writeFileSync(join(dir, 'notes.txt'), 'keep');
    const cache = new ChunkCache(1000, { dir, maxBytes: 10_000 });
    await cache.init();
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    // Memory only when the disk tier is 0 bytes.
    const memoryOnly = new ChunkCache(1000, { dir: join(dir, 'unused'), maxBytes: 0 });
    await memoryOnly.init();
    await memoryOnly.get('k', async () => Buffer.from('v'));
    await memoryOnly.settled();
    expect(memoryOnly.diskEnabled).toBe(false);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });
});
