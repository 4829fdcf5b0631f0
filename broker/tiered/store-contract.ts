// The behaviour every ObjectStore must have, as one suite that each implementation's tests run:
// the local store in broker/tiered/local-store.test.ts, the S3 store against a real S3-compatible
// server in test/tiered/s3-store.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_BYTES, type ObjectStore, ObjectStoreError } from './object-store.js';
import { probeObjectStore } from './probe.js';

async function failure(p: Promise<unknown>): Promise<ObjectStoreError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ObjectStoreError) return e;
    throw e;
  }
  throw new Error('expected an ObjectStoreError');
}

async function listed(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(`${o.key}:${o.sizeBytes}`);
  return keys;
}

/** Runs the contract. `open` gives a store over an empty bucket (or directory) for the suite. */
export function describeObjectStoreContract(name: string, open: () => Promise<{ store: ObjectStore; close: () => Promise<void> }>, enabled = true): void {
  describe.skipIf(!enabled)(`${name}: the object store contract`, () => {
    let store: ObjectStore;
    let close: () => Promise<void>;
    const files = mkdtempSync(join(tmpdir(), 'strata-store-contract-'));

    beforeAll(async () => {
      ({ store, close } = await open());
    });
    afterAll(async () => {
      await close?.();
      rmSync(files, { recursive: true, force: true });
    });

    it('puts and gets whole objects and byte ranges; a range past the end is cut there', async () => {
      const body = randomBytes(10_000);
      await store.put('a/b/whole', body);
      expect((await store.get('a/b/whole')).equals(body)).toBe(true);
      expect((await store.get('a/b/whole', { start: 100, endInclusive: 199 })).equals(body.subarray(100, 200))).toBe(true);
      expect((await store.get('a/b/whole', { start: 9_990, endInclusive: 20_000 })).equals(body.subarray(9_990))).toBe(true);
      expect(await store.head('a/b/whole')).toEqual({ key: 'a/b/whole', sizeBytes: 10_000 });
      await store.put('a/b/empty', Buffer.alloc(0));
      expect((await store.get('a/b/empty')).length).toBe(0);
    });

    it('answers not-found for a missing key, and head answers null', async () => {
      expect(await store.head('missing/key')).toBeNull();
      const e = await failure(store.get('missing/key'));
      expect(e.kind).toBe('not-found');
      expect(e.retriable).toBe(false);
    });

    it('a conditional put wins once; a plain put overwrites', async () => {
      await store.put('cond/one', Buffer.from('first'), { ifNoneMatch: true });
      const e = await failure(store.put('cond/one', Buffer.from('second'), { ifNoneMatch: true }));
      expect(e.kind).toBe('precondition-failed');
      expect((await store.get('cond/one')).toString()).toBe('first');
      await store.put('cond/one', Buffer.from('third'));
      expect((await store.get('cond/one')).toString()).toBe('third');
    });

    it('uploads a file in one request or in parts, byte-exact, and refuses a conditional one over an existing key', async () => {
      const small = join(files, 'small');
      const smallBody = randomBytes(1000);
      writeFileSync(small, smallBody);
      await store.putFile('files/small', small, MIN_PART_BYTES);
      expect((await store.get('files/small')).equals(smallBody)).toBe(true);

      // Two full parts and a short one.
      const big = join(files, 'big');
      const bigBody = randomBytes(2 * MIN_PART_BYTES + 12_345);
      writeFileSync(big, bigBody);
      await store.putFile('files/big', big, MIN_PART_BYTES, { ifNoneMatch: true });
      expect(await store.head('files/big')).toEqual({ key: 'files/big', sizeBytes: bigBody.length });
      expect((await store.get('files/big')).equals(bigBody)).toBe(true);
      const across = { start: MIN_PART_BYTES - 10, endInclusive: MIN_PART_BYTES + 9 };
      expect((await store.get('files/big', across)).equals(bigBody.subarray(across.start, across.endInclusive + 1))).toBe(true);
      const e = await failure(store.putFile('files/big', big, MIN_PART_BYTES, { ifNoneMatch: true }));
      expect(e.kind).toBe('precondition-failed');
      await expect(store.putFile('files/x', small, MIN_PART_BYTES - 1)).rejects.toThrow(RangeError);
    });

    it('lists by prefix in key order, across pages', async () => {
      for (const k of ['list/p/3', 'list/p/1', 'list/p/2', 'list/q/1', 'list/p2']) await store.put(k, Buffer.from(k));
      expect(await listed(store, 'list/p/')).toEqual(['list/p/1:8', 'list/p/2:8', 'list/p/3:8']);
      expect(await listed(store, 'list/p')).toEqual(['list/p/1:8', 'list/p/2:8', 'list/p/3:8', 'list/p2:7']);
      expect(await listed(store, 'list/none')).toEqual([]);
    });

    it('deletes many keys at once; missing keys are not an error', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `del/${String(i).padStart(3, '0')}`);
      for (const k of keys) await store.put(k, Buffer.from(k));
      await store.delete([...keys, 'del/never-there']);
      expect(await listed(store, 'del/')).toEqual([]);
      expect(await store.head(keys[0]!)).toBeNull();
    });

    it('refuses keys that are absolute, have empty or dot segments, or control characters', async () => {
      for (const bad of ['', '/abs', 'a//b', 'a/./b', 'a/../b', 'a\nb', 'a\\b']) {
        await expect(store.put(bad, Buffer.from('x'))).rejects.toThrow(RangeError);
      }
    });

    it('passes the start-up probe, which leaves nothing behind', async () => {
      const report = await probeObjectStore(store);
      expect(report.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['write', 'read back', 'conditional write refused on an existing key', 'delete', 'deleted']));
      expect(await listed(store, '.strata-probe/')).toEqual([]);
    });
  });
}
