// The local-directory store against the object store contract, plus what only it has: the root as
// its bucket, and temporary files that never show as objects.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local-store.js';
import { describeObjectStoreContract } from './store-contract.js';

describeObjectStoreContract('local directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-local-store-'));
  const store = new LocalObjectStore(root);
  await store.init();
  return { store, close: async () => rmSync(root, { recursive: true, force: true }) };
});

describe('LocalObjectStore', () => {
  it('keeps its temporary files out of listings and leaves none behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'strata-local-store-'));
    try {
      const store = new LocalObjectStore(root);
      await store.init();
      await store.put('x/y', Buffer.from('z'));
      await expect(store.put('x/y', Buffer.from('again'), { ifNoneMatch: true })).rejects.toThrow(/already exists/);
      const keys: string[] = [];
      for await (const o of store.list('')) keys.push(o.key);
      expect(keys).toEqual(['x/y']);
      expect(readdirSync(join(root, '.strata-tmp'))).toEqual([]);
      await expect(store.put('.strata-tmp/a', Buffer.from('x'))).rejects.toThrow(/reserved/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
