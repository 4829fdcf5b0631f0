// Manifest store behaviour that must hold on every object store; run for the local store in
// broker/tiered/manifest-store.test.ts and for S3 in test/tiered/s3-store.test.ts.
import { describe, expect, it } from 'vitest';
import { ManifestStore, manifestKey } from './manifest-store.js';
import type { ObjectStore } from './object-store.js';
import { finishCopy, startCopy } from './remote-segments.js';

export function describeManifestStore(name: string, open: () => Promise<{ store: ObjectStore; close: () => Promise<void> }>, enabled = true): void {
  describe.skipIf(!enabled)(`${name}: manifest store`, () => {
    it('starts empty, loads the latest generation written, and prunes old generations', async () => {
      const { store, close } = await open();
      try {
        const prefix = `cluster/orders-${Date.now()}/2`;
        const ms = new ManifestStore(store, prefix, 'orders-id', 2);
        let m = await ms.load();
        expect(m.generation).toBe(0);
        for (let i = 0; i < 6; i++) {
          m = startCopy(m, { id: `s${i}`, baseOffset: i * 10, endOffset: i * 10 + 9, maxTimestampMs: i, sizeBytes: 10, leaderEpochs: [] }, i);
          await ms.write(m);
          m = finishCopy(m, `s${i}`, i);
          await ms.write(m);
        }
        const reloaded = await new ManifestStore(store, prefix, 'orders-id', 2).load();
        expect(reloaded).toEqual(m);
        expect(reloaded.generation).toBe(12);
        const kept: string[] = [];
        for await (const o of store.list(`${prefix}/manifest/`)) kept.push(o.key);
        expect(kept).toEqual([10, 11, 12].map((g) => manifestKey(prefix, g)));
      } finally {
        await close();
      }
    });
  });
}
