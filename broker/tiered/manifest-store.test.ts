// Manifests in an object store (the local one here; the S3 one in test/tiered/): the latest
// generation wins, a second writer of one generation is fenced, old generations are pruned, and
// orphaned segment objects are told apart from recorded ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local-store.js';
import { ManifestFencedError, ManifestStore, manifestKey, orphanKeys, segmentObjectKey } from './manifest-store.js';
import { describeManifestStore } from './manifest-store-contract.js';
import { ManifestError } from './remote-segments.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

async function localStore(): Promise<LocalObjectStore> {
  const root = mkdtempSync(join(tmpdir(), 'strata-manifest-'));
  roots.push(root);
  const s = new LocalObjectStore(root);
  await s.init();
  return s;
}

describeManifestStore('local directory', async () => ({ store: await localStore(), close: async () => {} }));

describe('manifest store (local only)', () => {
  it('refuses a latest manifest that is corrupt instead of falling back to an older one', async () => {
    const store = await localStore();
    const ms = new ManifestStore(store, 'c/t-id/0', 'id', 0);
    await store.put(manifestKey('c/t-id/0', 1), Buffer.from('{"format":1,"topicId":"id","partition":0,"generation":1,"segments":[]}'));
    await store.put(manifestKey('c/t-id/0', 2), Buffer.from('garbage'));
    await expect(ms.load()).rejects.toThrow(ManifestError);
  });

  it('fences a writer that lost the race for a generation', async () => {
    const store = await localStore();
    const a = new ManifestStore(store, 'c/t-id/0', 'id', 0);
    const b = new ManifestStore(store, 'c/t-id/0', 'id', 0);
    const base = await a.load();
    await a.write({ ...base, generation: 1 });
    await expect(b.write({ ...base, generation: 1 })).rejects.toThrow(ManifestFencedError);
  });

  it('names orphans: segment objects whose attempt id the manifest does not know', () => {
    const p = 'c/t-id/0';
    const listed = [segmentObjectKey(p, 0, 'kept', 'log'), segmentObjectKey(p, 0, 'kept', 'index'), segmentObjectKey(p, 100, 'lost', 'log'), `${p}/segments/not-ours.txt`, `${p}/manifest/00000000000000000001.json`];
    expect(orphanKeys(p, listed, new Set(['kept']))).toEqual([segmentObjectKey(p, 100, 'lost', 'log')]);
  });
});
