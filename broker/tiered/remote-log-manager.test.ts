// The tiered storage driver over a real partition log and the local-directory store: uploads with
// every companion object, local retention only after confirmed uploads, reads below the local log
// start byte-exact, retries while the store fails, crash leftovers and orphans cleaned up, remote
// retention oldest first, read-ahead and the disk cache tier, timestamp lookups in the remote time
// indexes, a deleted topic's objects removed. Plus the pure planning and key layout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionLog } from '../log/partition-log.js';
import { makeBatch, TestClock, testConfig } from '../log/testing.js';
import { buildBatch } from '../protocol/records/batch.js';
import { LocalObjectStore } from './local-store.js';
import { partitionPrefix, segmentObjectKeys } from './layout.js';
import { ManifestStore } from './manifest-store.js';
import { ObjectStoreError, type ObjectStore } from './object-store.js';
import { backoffMs, nextUpload, remoteRetention, uploadLag } from './plan.js';
import { RemoteFetchError, RemoteLogManager, type TieredMetricsSink, type TieredPartition } from './remote-log-manager.js';
import { emptyManifest, readable, startCopy, startDelete } from './remote-segments.js';

const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store whose operations fail (503-like) while `down` is set, optionally only for keys matching. */
class FlakyStore implements ObjectStore {
  down = false;
  failKey: RegExp | null = null;
  constructor(readonly inner: ObjectStore) {}
  get description() {
    return this.inner.description;
  }
  private check(op: string, key: string) {
    if (this.down || (this.failKey !== null && this.failKey.test(key))) throw new ObjectStoreError('unavailable', op, key, 'store down (test)');
  }
  async put(key: string, body: Buffer, o?: { ifNoneMatch?: boolean }) {
    this.check('put', key);
    return this.inner.put(key, body, o);
  }
  async putFile(key: string, path: string, part: number, o?: { ifNoneMatch?: boolean }) {
    this.check('putFile', key);
    return this.inner.putFile(key, path, part, o);
  }
  gets: string[] = [];
  async get(key: string, r?: { start: number; endInclusive: number }) {
    this.check('get', key);
    this.gets.push(r === undefined ? key : `${key}@${r.start}`);
    return this.inner.get(key, r);
  }
  async head(key: string) {
    this.check('head', key);
    return this.inner.head(key);
  }
  async delete(keys: readonly string[]) {
    this.check('delete', keys[0] ?? '');
    return this.inner.delete(keys);
  }
  async *list(prefix: string) {
    this.check('list', prefix);
    yield* this.inner.list(prefix);
  }
  close() {}
}

const counts = { copied: 0, deleted: 0, errors: [] as string[] };
const metrics: TieredMetricsSink = {
  copied: () => void counts.copied++,
  remoteDeleted: (_t, n) => void (counts.deleted += n),
  remoteFetched: () => {},
  error: (op, kind) => void counts.errors.push(`${op}:${kind}`),
};

async function setup(config: Parameters<typeof testConfig>[0] = {}) {
  const clock = new TestClock();
  const root = tmp('strata-tiered-store-');
  const inner = new LocalObjectStore(root);
  await inner.init();
  const store = new FlakyStore(inner);
  const dir = join(tmp('strata-tiered-log-'), 't-0');
  const open = () =>
    PartitionLog.open({ dir, nowMs: clock.fn, config: testConfig({ segmentBytes: 4096, indexIntervalBytes: 512, remoteStorageEnable: true, localRetentionBytes: 8192, ...config }) });
  const log = open();
  const manager = (s: ObjectStore = store, more: { cacheBytes?: number; cacheDisk?: { dir: string; maxBytes: number }; readAheadChunks?: number } = {}) =>
    new RemoteLogManager({
      store: s,
      clusterId: 'cluster-1',
      logger: { info: () => {}, warn: () => {} },
      metrics,
      nowMs: clock.fn,
      taskIntervalMs: 60_000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      copyConcurrency: 2,
      copyBytesPerSecond: Number.MAX_SAFE_INTEGER,
      partBytes: 5 * 1024 * 1024,
      cacheBytes: 1024 * 1024,
      ...more,
    });
  return { clock, root, inner, store, dir, log, open, manager };
}

function fill(log: PartitionLog, batches: number, clock?: TestClock): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < batches; i++) {
    const b = makeBatch({ count: 5, valueBytes: 60, tag: `b${i}`, timestampMs: clock?.nowMs ?? 1_700_000_000_000 });
    log.appendAsLeader(b, 0);
    log.updateHighWatermark(log.logEndOffset);
    out.push(b);
  }
  return out;
}

/** `batches` appended to the set-up log, uploaded by a started manager, and the local copies past
 *  local retention deleted, so the oldest data is in the bucket only. */
async function uploadedPartition(s: Awaited<ReturnType<typeof setup>>, batches: number): Promise<{ p: TieredPartition; m: RemoteLogManager }> {
  fill(s.log, batches);
  const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
  const m = s.manager();
  m.start(() => [p]);
  await m.runOnce();
  s.log.deleteSegmentsByRetention();
  return { p, m };
}

/** Everything from `from` to the high watermark, remote part through the manager. */
async function readAll(m: RemoteLogManager, p: TieredPartition, from: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = from;
  for (let guard = 0; guard < 10_000 && offset < p.log.highWatermark; guard++) {
    const r = offset < p.log.localLogStartOffset ? await m.read(p, offset, 2048, p.log.highWatermark, true) : (p.log as PartitionLog).read(offset, 2048, p.log.highWatermark, true);
    expect(r.bytes).toBeGreaterThan(0);
    parts.push(r.records);
    let last = offset;
    for (let pos = 0; pos < r.records.length; pos += 12 + r.records.readInt32BE(pos + 8)) last = Number(r.records.readBigInt64BE(pos)) + r.records.readInt32BE(pos + 23);
    offset = last + 1;
  }
  return Buffer.concat(parts);
}

describe('RemoteLogManager', () => {
  it('uploads closed segments below the high watermark with their companions, then local retention deletes only uploaded ones; everything reads back byte-exact', async () => {
    const s = await setup();
    fill(s.log, 60);
    const everything = s.log.read(0, 1 << 20, s.log.highWatermark, true).records;
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    // Before any upload, local retention deletes nothing.
    expect(s.log.deleteSegmentsByRetention()).toBe(0);
    const m = s.manager();
    m.start(() => [p]);
    await m.runOnce();
    const closed = s.log.closedSegments();
    expect(closed.length).toBeGreaterThan(4);
    expect(s.log.uploadedBelow).toBe(closed.at(-1)!.nextOffset);
    const prefix = partitionPrefix('cluster-1', 't', 'TOPICID', 0);
    const manifest = await new ManifestStore(s.inner, prefix, 'TOPICID', 0).load();
    expect(readable(manifest).map((x) => x.baseOffset)).toEqual(closed.map((c) => c.baseOffset));
    const first = readable(manifest)[0]!;
    for (const key of Object.values(segmentObjectKeys(prefix, first.baseOffset, first.id))) expect(await s.inner.head(key)).not.toBeNull();
    expect((await s.inner.head(segmentObjectKeys(prefix, first.baseOffset, first.id).log))!.sizeBytes).toBe(closed[0]!.sizeBytes);

    expect(s.log.deleteSegmentsByRetention()).toBeGreaterThan(0);
    expect(s.log.sizeBytes()).toBeLessThanOrEqual(8192 + 4096);
    expect(s.log.logStartOffset).toBe(0);
    expect(s.log.localLogStartOffset).toBeGreaterThan(0);
    expect(() => s.log.read(0, 100, s.log.highWatermark, true)).toThrow(/tiered storage/);
    expect((await readAll(m, p, 0)).equals(everything)).toBe(true);
    // A fetch in the middle of a remote segment starts at the batch holding the offset.
    const mid = await m.read(p, 7, 1 << 20, s.log.highWatermark, false);
    expect(mid.firstOffset).toBe(5);
    expect(m.latestTieredOffset('TOPICID', 0)).toBe(s.log.uploadedBelow - 1);
    await m.stop();

    // After a restart the log start is still the whole log's, and a new manager serves the history.
    s.log.close();
    const again = s.open();
    expect([again.logStartOffset, again.localLogStartOffset]).toEqual([0, s.log.localLogStartOffset]);
    const m2 = s.manager();
    const p2 = { ...p, log: again };
    m2.start(() => [p2]);
    await m2.runOnce();
    expect((await readAll(m2, p2, 0)).equals(everything)).toBe(true);
    await m2.stop();
    again.close();
  });

  it('keeps local segments while the store is down, retries with back-off, and leaves no orphans of failed attempts', async () => {
    const s = await setup();
    fill(s.log, 40);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    s.store.down = true;
    const before = s.log.sizeBytes();
    counts.errors = [];
    // The timer's interval is a minute: rounds here are driven by hand.
    const m2 = s.manager();
    m2.start(() => [p]);
    await m2.runOnce();
    expect(counts.errors.length).toBeGreaterThan(0);
    expect(s.log.uploadedBelow).toBe(0);
    expect(s.log.deleteSegmentsByRetention()).toBe(0);
    expect(s.log.sizeBytes()).toBe(before);
    const lag = [...m2.backlog()][0]!;
    expect(lag.segments).toBe(s.log.closedSegments().length);

    // The store comes back, but the offset index upload fails: the attempt is abandoned cleanly.
    s.store.down = false;
    s.store.failKey = /\.index$/;
    s.clock.advance(10_000);
    await m2.runOnce();
    expect(s.log.uploadedBelow).toBe(0);
    const prefix = partitionPrefix('cluster-1', 't', 'TOPICID', 0);
    const listed: string[] = [];
    for await (const o of s.inner.list(`${prefix}/segments/`)) listed.push(o.key);
    expect(listed).toEqual([]);

    s.store.failKey = null;
    // Not due yet: the back-off holds the next attempt back.
    await m2.runOnce();
    expect(s.log.uploadedBelow).toBe(0);
    s.clock.advance(10_000);
    await m2.runOnce();
    expect(s.log.uploadedBelow).toBe(s.log.closedSegments().at(-1)!.nextOffset);
    expect([...m2.backlog()][0]!.segments).toBe(0);
    await m2.stop();
    s.log.close();
  });

  it('turns an upload a crash left copy-started into a deletion, and deletes objects no manifest names', async () => {
    const s = await setup();
    fill(s.log, 20);
    const prefix = partitionPrefix('cluster-1', 't', 'TOPICID', 0);
    const ms = new ManifestStore(s.inner, prefix, 'TOPICID', 0);
    const seg = s.log.closedSegments()[0]!;
    const crashed = startCopy(emptyManifest('TOPICID', 0), { id: 'crashed1', baseOffset: seg.baseOffset, endOffset: seg.nextOffset - 1, maxTimestampMs: 1, sizeBytes: seg.sizeBytes, leaderEpochs: [] }, 1);
    await ms.write(crashed);
    await s.inner.put(segmentObjectKeys(prefix, seg.baseOffset, 'crashed1').log, Buffer.from('partial'));
    await s.inner.put(segmentObjectKeys(prefix, seg.baseOffset, 'orphan2').log, Buffer.from('never recorded'));
    await s.inner.put(`${prefix}/segments/not-strata.txt`, Buffer.from('left alone'));
    const m = s.manager();
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    m.start(() => [p]);
    await m.runOnce();
    const listed: string[] = [];
    for await (const o of s.inner.list(`${prefix}/segments/`)) listed.push(o.key);
    expect(listed.some((k) => k.includes('crashed1') || k.includes('orphan2'))).toBe(false);
    expect(listed).toContain(`${prefix}/segments/not-strata.txt`);
    const after = await ms.load();
    expect(after.segments.every((x) => x.state === 'copy-finished')).toBe(true);
    expect(readable(after)[0]!.baseOffset).toBe(0);
    await m.stop();
    s.log.close();
  });

  it('finishes a remote deletion a crash left delete-started, half its objects gone, and the log start follows; the other segments stay whole', async () => {
    const s = await setup({ localRetentionBytes: 4096 });
    fill(s.log, 60);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const first = s.manager();
    first.start(() => [p]);
    await first.runOnce();
    await first.stop();
    s.log.deleteSegmentsByRetention();
    const prefix = partitionPrefix('cluster-1', 't', 'TOPICID', 0);
    const ms = new ManifestStore(s.inner, prefix, 'TOPICID', 0);
    const before = await ms.load();
    const [doomed, ...rest] = readable(before);
    expect(rest.length).toBeGreaterThan(0);
    expect(s.log.localLogStartOffset).toBeGreaterThan(doomed!.endOffset);
    // The crash: the manifest says delete-started and one object is already gone.
    await ms.write(startDelete(before, doomed!.id, s.clock.nowMs));
    await s.inner.delete([segmentObjectKeys(prefix, doomed!.baseOffset, doomed!.id).log]);
    expect(s.log.logStartOffset).toBe(0);

    const restarted = s.manager();
    restarted.start(() => [p]);
    await restarted.runOnce();
    const after = await ms.load();
    expect(after.segments.map((x) => x.id)).toEqual(rest.map((x) => x.id));
    expect(after.segments.every((x) => x.state === 'copy-finished')).toBe(true);
    expect(s.log.logStartOffset).toBe(rest[0]!.baseOffset);
    const listed = new Set<string>();
    for await (const o of s.inner.list(`${prefix}/segments/`)) listed.add(o.key);
    expect(listed).toEqual(new Set(rest.flatMap((x) => Object.values(segmentObjectKeys(prefix, x.baseOffset, x.id)))));
    await expect(restarted.read(p, 0, 100, s.log.highWatermark, true)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    const remaining = await readAll(restarted, p, rest[0]!.baseOffset);
    expect(remaining.length).toBeGreaterThan(0);
    await restarted.stop();
    s.log.close();
  });

  it('remote retention deletes the oldest expired segments and nothing else, and the log start follows', async () => {
    const s = await setup({ retentionBytes: 20_000, localRetentionBytes: 8192 });
    fill(s.log, 80);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const m = s.manager();
    m.start(() => [p]);
    await m.runOnce();
    const prefix = partitionPrefix('cluster-1', 't', 'TOPICID', 0);
    const man = await new ManifestStore(s.inner, prefix, 'TOPICID', 0).load();
    const kept = readable(man);
    const remoteBytes = kept.reduce((n, x) => n + x.sizeBytes, 0);
    const localOnly = s.log.sizeBytes() - s.log.closedSegments().filter((c) => c.nextOffset <= s.log.uploadedBelow).reduce((n, c) => n + c.sizeBytes, 0);
    expect(remoteBytes + localOnly).toBeGreaterThanOrEqual(20_000);
    expect(remoteBytes + localOnly - kept[0]!.sizeBytes).toBeLessThan(20_000);
    expect(s.log.logStartOffset).toBe(kept[0]!.baseOffset);
    expect(counts.deleted).toBeGreaterThan(0);
    // Objects of deleted segments are gone; those of kept ones all there.
    const listed = new Set<string>();
    for await (const o of s.inner.list(`${prefix}/segments/`)) listed.add(o.key);
    const expected = new Set(kept.flatMap((x) => Object.values(segmentObjectKeys(prefix, x.baseOffset, x.id))));
    expect(listed).toEqual(expected);
    await expect(m.read(p, 0, 100, s.log.highWatermark, true)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await m.stop();
    s.log.close();
  });

  it('answers a read it cannot serve with a retriable storage error, not a hang', async () => {
    const s = await setup();
    const { p, m } = await uploadedPartition(s, 40);
    s.store.down = true;
    const e = await m.read(p, 0, 1000, s.log.highWatermark, true).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteFetchError);
    expect((e as RemoteFetchError).errorCode).toBe(56);
    await m.stop();
    s.log.close();
  });
});

describe('RemoteLogManager reads', () => {
  /** Batch i holds records i*5 .. i*5+4 with timestamps T0 + 100 i + 10 j. */
  const T0 = 1_700_000_000_000;
  function fillTimed(log: PartitionLog, batches: number): void {
    for (let i = 0; i < batches; i++) {
      const records = Array.from({ length: 5 }, (_, j) => ({ key: Buffer.from(`k${j}`), value: Buffer.alloc(60, `b${i}-${j}`), timestamp: BigInt(T0 + 100 * i + 10 * j) }));
      log.appendAsLeader(buildBatch({ baseTimestamp: BigInt(T0 + 100 * i), records }), 0);
      log.updateHighWatermark(log.logEndOffset);
    }
  }
  /** The offset the record timestamps above give for `target`: the first with timestamp >= it. */
  function expectedOffset(target: number, batches: number): number | null {
    for (let o = 0; o < batches * 5; o++) if (T0 + 100 * Math.floor(o / 5) + 10 * (o % 5) >= target) return o;
    return null;
  }

  it('finds offsets by timestamp in the remote time indexes, below the local log start', async () => {
    const s = await setup();
    fillTimed(s.log, 60);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const m = s.manager();
    m.start(() => [p]);
    await m.runOnce();
    expect(s.log.deleteSegmentsByRetention()).toBeGreaterThan(0);
    const localStart = s.log.localLogStartOffset;
    expect(localStart).toBeGreaterThan(40);
    for (const target of [T0 - 5, T0, T0 + 1, T0 + 745, T0 + 750, T0 + 100 * Math.floor(localStart / 5) - 65]) {
      const want = expectedOffset(target, 60)!;
      expect(want).toBeLessThan(localStart);
      const got = await m.offsetForTimestamp(p, target, s.log.logStartOffset, 1 << 20);
      expect(got, `target ${target - T0}`).toMatchObject({ offset: want, timestamp: T0 + 100 * Math.floor(want / 5) + 10 * (want % 5) });
    }
    // Past every remote timestamp: nothing in the bucket (the local search answers).
    const last = m.latestTieredOffset('TOPICID', 0);
    expect(await m.offsetForTimestamp(p, T0 + 100 * Math.floor(last / 5) + 41, 0, 1 << 20)).toBeNull();
    // The largest remote timestamp: the last record of the last remote segment's last batch.
    expect(await m.maxTimestampOffset(p, 1 << 20)).toMatchObject({ offset: last, timestamp: T0 + 100 * Math.floor(last / 5) + 40 });
    // With the store down, what the cache holds still answers; what it does not is a storage error.
    s.store.down = true;
    expect(await m.offsetForTimestamp(p, T0, 0, 1 << 20)).toMatchObject({ offset: 0 });
    m.cache.evictPrefix('');
    await expect(m.offsetForTimestamp(p, T0, 0, 1 << 20)).rejects.toMatchObject({ errorCode: 56 });
    await m.stop();
    s.log.close();
  });

  it('reads ahead for a sequential reader, each chunk fetched once, and serves rereads from the disk tier', async () => {
    const s = await setup();
    fill(s.log, 80);
    const whole = s.log.read(0, 1 << 20, s.log.highWatermark, true).records;
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const cacheDir = tmp('strata-tiered-cache-');
    // Memory for two chunks only (segments are 4 KiB, one chunk each), a disk tier for all of them.
    const m = s.manager(s.store, { cacheBytes: 8192, cacheDisk: { dir: cacheDir, maxBytes: 1 << 20 }, readAheadChunks: 2 });
    await m.init();
    m.start(() => [p]);
    await m.runOnce();
    s.log.deleteSegmentsByRetention();
    const remoteSegments = s.log.localLogStartOffset;
    expect(remoteSegments).toBeGreaterThan(0);
    s.store.gets = [];
    expect((await readAll(m, p, 0)).equals(whole)).toBe(true);
    await m.cache.settled();
    const chunkGets = s.store.gets.filter((k) => k.includes('.log@'));
    // Read-ahead loaded segments before the reader reached them, and nothing was fetched twice.
    expect(m.cache.stats.prefetches).toBeGreaterThan(0);
    expect(new Set(chunkGets).size).toBe(chunkGets.length);
    expect(m.cache.stats.misses).toBeLessThan(chunkGets.length);
    // The reread: memory holds two chunks, the disk tier the rest; the bucket is not asked again.
    s.store.gets = [];
    const diskHits = m.cache.stats.diskHits;
    expect((await readAll(m, p, 0)).equals(whole)).toBe(true);
    expect(s.store.gets.filter((k) => k.includes('.log@'))).toEqual([]);
    expect(m.cache.stats.diskHits).toBeGreaterThan(diskHits);
    // A failing read-ahead is only counted: the reader before that segment gets no error, and the
    // segment is read once the store serves it again.
    const segs = readable(await new ManifestStore(s.inner, partitionPrefix('cluster-1', 't', 'TOPICID', 0), 'TOPICID', 0).load());
    const third = segs[3]!;
    m.cache.evictPrefix('');
    s.store.failKey = new RegExp(`${third.baseOffset}-${third.id}\\.log$`);
    for (let offset = 0; offset < third.baseOffset; ) {
      const r = await m.read(p, offset, 2048, s.log.highWatermark, true);
      offset = r.nextOffset;
    }
    await m.cache.settled();
    expect(m.cache.stats.prefetchFailures).toBeGreaterThan(0);
    s.store.failKey = null;
    const rest = await readAll(m, p, third.baseOffset);
    expect(rest.length).toBeGreaterThan(0);
    expect(whole.subarray(whole.length - rest.length).equals(rest)).toBe(true);
    await m.stop();
    s.log.close();
  });

  it('deletes every object of a deleted topic in the background, retrying while the store fails', async () => {
    const s = await setup();
    fill(s.log, 40);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const partitions = [p];
    const m = s.manager();
    m.start(() => partitions);
    await m.runOnce();
    const topicPrefix = 'cluster-1/t-TOPICID/';
    const keys = async () => {
      const out: string[] = [];
      for await (const o of s.inner.list(topicPrefix)) out.push(o.key);
      return out;
    };
    expect((await keys()).some((k) => k.includes('/manifest/'))).toBe(true);
    expect((await keys()).some((k) => k.includes('/segments/'))).toBe(true);
    await s.inner.put('cluster-1/t2-OTHERID/0/manifest/1.json', Buffer.from('{}'));
    // The topic is gone from the broker; the store fails at first.
    partitions.length = 0;
    s.store.down = true;
    counts.errors = [];
    const done = m.deleteTopic('t', 'TOPICID');
    await new Promise((r) => setTimeout(r, 150));
    expect(counts.errors).toContain('delete:unavailable');
    s.store.down = false;
    await done;
    expect(await keys()).toEqual([]);
    expect(await s.inner.head('cluster-1/t2-OTHERID/0/manifest/1.json')).not.toBeNull();
    // Its partition is no longer served.
    await expect(m.read(p, 0, 100, s.log.highWatermark, true)).rejects.toMatchObject({ errorCode: 56 });
    await m.stop();
    s.log.close();
  });
});

describe('RemoteLogManager, tiered storage disablement (KIP-950)', () => {
  const topicKeys = async (store: ObjectStore, prefix = 'cluster-1/t-TOPICID/') => {
    const out: string[] = [];
    for await (const o of store.list(prefix)) out.push(o.key);
    return out;
  };

  it('with remote.log.copy.disable uploads nothing more, keeps the uploaded segments readable, and local segments go by retention.*', async () => {
    const s = await setup({ retentionBytes: 1 << 20, localRetentionBytes: 4096 });
    fill(s.log, 20);
    const everything = s.log.read(0, 1 << 20, s.log.highWatermark, true).records;
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const m = s.manager();
    m.start(() => [p]);
    await m.runOnce();
    const uploaded = s.log.uploadedBelow;
    expect(uploaded).toBe(s.log.closedSegments().at(-1)!.nextOffset);
    const segmentKeys = async () => (await topicKeys(s.inner)).filter((k) => k.includes('/segments/'));
    const before = await segmentKeys();
    // Local retention takes the uploaded segments; their data stays readable from the bucket.
    expect(s.log.deleteSegmentsByRetention()).toBeGreaterThan(0);
    const localStart = s.log.localLogStartOffset;

    s.log.updateConfig({ ...s.log.config, remoteLogCopyDisable: true, localRetentionBytes: -2 });
    fill(s.log, 30);
    const closedNow = s.log.closedSegments().length;
    await m.runOnce();
    // Nothing more reaches the bucket, and no backlog is reported for a partition that does not copy.
    expect(s.log.uploadedBelow).toBe(uploaded);
    expect(await segmentKeys()).toEqual(before);
    expect([...m.backlog()][0]).toMatchObject({ segments: 0, bytes: 0 });
    expect((await readAll(m, p, 0)).subarray(0, everything.length).equals(everything)).toBe(true);
    // local.retention.bytes (4 KiB) no longer applies: retention.bytes (1 MiB) keeps every local segment.
    expect(s.log.deleteSegmentsByRetention()).toBe(0);
    expect(s.log.closedSegments().length).toBe(closedNow);
    expect(s.log.localLogStartOffset).toBe(localStart);

    // Under a smaller retention.bytes, segments never uploaded go too: the log start moves up to the
    // local start, and remote retention removes the remote segments below it.
    s.log.updateConfig({ ...s.log.config, retentionBytes: 8192 });
    expect(s.log.deleteSegmentsByRetention()).toBeGreaterThan(0);
    expect(s.log.localLogStartOffset).toBeGreaterThan(uploaded);
    expect(s.log.logStartOffset).toBe(s.log.localLogStartOffset);
    await m.runOnce();
    expect(await segmentKeys()).toEqual([]);

    // Copying again starts the remote log anew at the log start.
    s.log.updateConfig({ ...s.log.config, remoteLogCopyDisable: false, retentionBytes: 1 << 20, localRetentionBytes: 4096 });
    await m.runOnce();
    expect(s.log.uploadedBelow).toBe(s.log.closedSegments().at(-1)!.nextOffset);
    const man = await new ManifestStore(s.inner, partitionPrefix('cluster-1', 't', 'TOPICID', 0), 'TOPICID', 0).load();
    expect(readable(man)[0]!.baseOffset).toBe(s.log.logStartOffset);
    expect(s.log.deleteSegmentsByRetention()).toBeGreaterThan(0);
    expect((await readAll(m, p, s.log.logStartOffset)).length).toBeGreaterThan(0);
    await m.stop();
    s.log.close();
  });

  it('remote retention goes on while uploads are stopped', async () => {
    const s = await setup({ retentionMs: 60_000, localRetentionMs: 1000, localRetentionBytes: -2 });
    fill(s.log, 30, s.clock);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const m = s.manager();
    m.start(() => [p]);
    await m.runOnce();
    expect((await topicKeys(s.inner)).some((k) => k.includes('/segments/'))).toBe(true);
    s.log.updateConfig({ ...s.log.config, remoteLogCopyDisable: true, localRetentionMs: -2 });
    s.clock.advance(120_000);
    await m.runOnce();
    expect((await topicKeys(s.inner)).filter((k) => k.includes('/segments/'))).toEqual([]);
    expect(s.log.logStartOffset).toBe(s.log.uploadedBelow);
    await m.stop();
    s.log.close();
  });

  it('turning tiering off deletes every remote object of the topic, moves the log start to the local start, and tiering can be turned on again', async () => {
    const s = await setup();
    const { p, m } = await uploadedPartition(s, 40);
    const localStart = s.log.localLogStartOffset;
    expect(localStart).toBeGreaterThan(0);
    expect(s.log.logStartOffset).toBe(0);

    s.log.updateConfig({ ...s.log.config, remoteStorageEnable: false });
    expect(s.log.logStartOffset).toBe(localStart);
    expect(s.log.uploadedBelow).toBe(0);
    const done = m.disableTopic('t', 'TOPICID');
    await m.runOnce();
    await done;
    expect(await topicKeys(s.inner)).toEqual([]);
    expect(() => s.log.read(0, 100, s.log.highWatermark, true)).toThrow();
    // Still the local log only: plain retention, the log start follows it.
    expect(s.log.read(localStart, 1 << 20, s.log.highWatermark, true).firstOffset).toBe(localStart);

    // On again: uploads start from the log start into an empty prefix, and nothing local goes
    // before it is uploaded again.
    fill(s.log, 10);
    s.log.updateConfig({ ...s.log.config, remoteStorageEnable: true });
    expect(s.log.deleteSegmentsByRetention()).toBe(0);
    await m.runOnce();
    expect(s.log.uploadedBelow).toBe(s.log.closedSegments().at(-1)!.nextOffset);
    const man = await new ManifestStore(s.inner, partitionPrefix('cluster-1', 't', 'TOPICID', 0), 'TOPICID', 0).load();
    expect(readable(man)[0]!.baseOffset).toBe(s.log.closedSegments()[0]!.baseOffset);
    expect(s.log.deleteSegmentsByRetention()).toBeGreaterThan(0);
    const everything = await readAll(m, p, localStart);
    expect(everything.length).toBeGreaterThan(0);
    await m.stop();
    s.log.close();
  });

  it('runs no task for a topic while its remote objects are being deleted', async () => {
    const s = await setup();
    fill(s.log, 20);
    const p: TieredPartition = { topic: 't', topicId: 'TOPICID', partition: 0, log: s.log };
    const m = s.manager();
    m.start(() => [p]);
    await m.runOnce();
    s.log.updateConfig({ ...s.log.config, remoteStorageEnable: false });
    s.store.down = true;
    const done = m.disableTopic('t', 'TOPICID');
    // Turned on again at once, while the deletion still retries: nothing is uploaded meanwhile.
    s.log.updateConfig({ ...s.log.config, remoteStorageEnable: true });
    s.store.down = false;
    s.store.failKey = /./;
    await m.runOnce();
    expect(s.log.uploadedBelow).toBe(0);
    s.store.failKey = null;
    await done;
    expect(await topicKeys(s.inner)).toEqual([]);
    await m.runOnce();
    expect(s.log.uploadedBelow).toBe(s.log.closedSegments().at(-1)!.nextOffset);
    await m.stop();
    s.log.close();
  });
});

describe('tiered planning', () => {
  const seg = (b: number, n: number) => ({ baseOffset: b, nextOffset: n, sizeBytes: (n - b) * 10 });
  it('uploads the next closed segment that continues the remote log and lies below the last stable offset', () => {
    const closed = [seg(0, 10), seg(10, 20), seg(20, 30)];
    expect(nextUpload(closed, 0, 30, 0)).toEqual(seg(0, 10));
    expect(nextUpload(closed, 10, 30, 0)).toEqual(seg(10, 20));
    expect(nextUpload(closed, 20, 29, 0)).toBeNull();
    expect(nextUpload(closed, 30, 100, 0)).toBeNull();
    expect(nextUpload(closed, 0, 30, 15)).toEqual(seg(10, 20));
    expect(nextUpload([seg(5, 10)], 3, 30, 0)).toBeNull();
    expect(uploadLag(closed, 10)).toEqual({ segments: 2, bytes: 200 });
  });

  it('plans remote retention oldest first, by log start, time and size', () => {
    const r = (id: string, b: number, e: number, ts: number) => ({ id, baseOffset: b, endOffset: e, maxTimestampMs: ts, sizeBytes: 100, leaderEpochs: [], state: 'copy-finished' as const, stateChangedMs: 0 });
    const segs = [r('a', 0, 9, 1000), r('b', 10, 19, 2000), r('c', 20, 29, 3000)];
    const ids = (x: { segments: { id: string }[] }) => x.segments.map((s) => s.id);
    const base = { readable: segs, nowMs: 3500, retentionMs: -1, retentionBytes: -1, localOnlyBytes: 50, logStartOffset: 0 };
    expect(ids(remoteRetention(base))).toEqual([]);
    expect(ids(remoteRetention({ ...base, retentionMs: 2000 }))).toEqual(['a']);
    expect(ids(remoteRetention({ ...base, retentionMs: 0 }))).toEqual(['a', 'b', 'c']);
    expect(ids(remoteRetention({ ...base, retentionBytes: 250 }))).toEqual(['a']);
    expect(ids(remoteRetention({ ...base, retentionBytes: 150 }))).toEqual(['a', 'b']);
    expect(ids(remoteRetention({ ...base, logStartOffset: 20 }))).toEqual(['a', 'b']);
    // Never out of order: a young oldest segment keeps the older-by-timestamp later ones.
    expect(ids(remoteRetention({ ...base, readable: [r('x', 0, 9, 3400), segs[0]!], retentionMs: 1000 }))).toEqual([]);
  });

  it('backs off exponentially with jitter, up to the maximum', () => {
    expect(backoffMs(1, 500, 30_000, () => 0.5)).toBe(500);
    expect(backoffMs(3, 500, 30_000, () => 0.5)).toBe(2000);
    expect(backoffMs(30, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffMs(1, 500, 30_000, () => 0)).toBe(400);
  });

  it('names objects by cluster, topic and id, partition, base offset and attempt', () => {
    const prefix = partitionPrefix('c1', 'orders', 'AbC', 2);
    expect(prefix).toBe('c1/orders-AbC/2');
    expect(segmentObjectKeys(prefix, 42, 'u1')).toEqual({
      log: 'c1/orders-AbC/2/segments/00000000000000000042-u1.log',
      index: 'c1/orders-AbC/2/segments/00000000000000000042-u1.index',
      timeindex: 'c1/orders-AbC/2/segments/00000000000000000042-u1.timeindex',
      snapshot: 'c1/orders-AbC/2/segments/00000000000000000042-u1.snapshot',
      'leader-epoch': 'c1/orders-AbC/2/segments/00000000000000000042-u1.leader-epoch',
      txnindex: 'c1/orders-AbC/2/segments/00000000000000000042-u1.txnindex',
    });
  });
});
