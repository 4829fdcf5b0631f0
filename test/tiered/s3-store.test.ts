// The S3 store against a real S3-compatible server (versitygw): the object store contract, then what
// only a remote store has: a missing bucket, refused credentials, an outage, and (through a
// fault-injecting proxy) throttling, 5xx answers, a store slower than the deadline and bodies cut
// short, each a clear error of the right kind within the request deadline, never a hang.
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStoreError } from '../../broker/tiered/object-store.js';
import { ObjectStoreCheckError, probeObjectStore } from '../../broker/tiered/probe.js';
import { S3ObjectStore, type S3StoreOptions } from '../../broker/tiered/s3-store.js';
import { describeObjectStoreContract } from '../../broker/tiered/store-contract.js';
import { describeManifestStore } from '../../broker/tiered/manifest-store-contract.js';
import { FaultProxy } from './fault-proxy.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, S3Server, s3ServerProblem } from './s3-server.js';

const missing = s3ServerProblem();
const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';
const enabled = !(missing !== null && allowMissing);

function options(server: S3Server, over: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: server.bucket,
    prefix: 'cluster-a',
    pathStyle: true,
    requestTimeoutMs: 2_000,
    maxAttempts: 2,
    // Two keys a page, so listing crosses pages.
    listPageSize: 2,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    ...over,
  };
}

/** A store over a fresh server and bucket, for a shared suite. */
async function openS3Store() {
  const server = await S3Server.start();
  const store = new S3ObjectStore(options(server));
  return {
    store,
    close: async () => {
      store.close();
      await server.stop();
    },
  };
}

describeObjectStoreContract(
  'S3 (versitygw)',
  openS3Store,
  enabled,
);

describeManifestStore(
  'S3 (versitygw)',
  openS3Store,
  enabled,
);

describe.skipIf(!enabled)('S3 store failures', () => {
  let server: S3Server;
  beforeAll(async () => {
    server = await S3Server.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps objects under its prefix', async () => {
    const a = new S3ObjectStore(options(server, { prefix: 'one' }));
    const b = new S3ObjectStore(options(server, { prefix: 'two/' }));
    await a.put('k', Buffer.from('from a'));
    expect(await b.head('k')).toBeNull();
    await b.put('k', Buffer.from('from b'));
    expect((await a.get('k')).toString()).toBe('from a');
    a.close();
    b.close();
  });

  it('the probe stops at "bucket exists" for a missing bucket, naming it', async () => {
    const store = new S3ObjectStore(options(server, { bucket: 'no-such-bucket' }));
    const e = await probeObjectStore(store).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ObjectStoreCheckError);
    expect((e as ObjectStoreCheckError).step).toBe('bucket exists');
    expect((e as Error).message).toMatch(/no-such-bucket/);
    expect(((e as ObjectStoreCheckError).cause as ObjectStoreError).kind).toBe('no-bucket');
    store.close();
  });

  it('refused credentials are "denied", not retriable', async () => {
    const store = new S3ObjectStore(options(server, { credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: 'wrong' } }));
    const e = await store.put('x', Buffer.from('y')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ObjectStoreError);
    expect((e as ObjectStoreError).kind).toBe('denied');
    expect((e as ObjectStoreError).retriable).toBe(false);
    store.close();
  });

  it('an outage is "unavailable" and retriable, and the store works again once the server is back', async () => {
    const store = new S3ObjectStore(options(server));
    await store.put('outage/before', Buffer.from('kept'));
    await server.pause();
    for (const op of [() => store.get('outage/before'), () => store.put('outage/during', Buffer.from('x')), () => store.head('outage/before')]) {
      const e = await op().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ObjectStoreError);
      expect((e as ObjectStoreError).kind).toBe('unavailable');
      expect((e as ObjectStoreError).retriable).toBe(true);
    }
    const probe = await probeObjectStore(store).catch((x: unknown) => x);
    expect(probe).toBeInstanceOf(ObjectStoreCheckError);
    await server.resume();
    expect((await store.get('outage/before')).toString()).toBe('kept');
    store.close();
  });

  it('a server that accepts connections but never answers fails the request at its deadline', async () => {
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const store = new S3ObjectStore(options(server, { endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 500, maxAttempts: 1 }));
    try {
      const e = await store.get('anything').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ObjectStoreError);
      expect((e as ObjectStoreError).kind).toBe('timeout');
      expect((e as ObjectStoreError).retriable).toBe(true);
      expect(held.length).toBeGreaterThan(0);
    } finally {
      store.close();
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  describe('behind a fault-injecting proxy', () => {
    let proxy: FaultProxy;
    let store: S3ObjectStore;
    beforeAll(async () => {
      proxy = await FaultProxy.start(server.endpoint);
      store = new S3ObjectStore(options(server, { endpoint: proxy.endpoint, prefix: 'faults', requestTimeoutMs: 500 }));
      await store.put('big', Buffer.alloc(3 * 1024 * 1024, 7));
    });
    afterAll(async () => {
      store?.close();
      await proxy?.stop();
    });
    const ops = (): [string, () => Promise<unknown>][] => [
      ['get', () => store.get('big')],
      ['ranged get', () => store.get('big', { start: 1024, endInclusive: 1024 * 1024 })],
      ['put', () => store.put('small', Buffer.from('x'))],
      ['head', () => store.head('big')],
      ['list', async () => {
        for await (const o of store.list('')) void o;
      }],
    ];
    async function failure(op: () => Promise<unknown>): Promise<ObjectStoreError> {
      const e = await op().then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(ObjectStoreError);
      return e as ObjectStoreError;
    }

    it('503 SlowDown is "throttled" and 500 InternalError "unavailable", both retriable, for every operation', async () => {
      for (const [mode, kind] of [['slow-down', 'throttled'], ['internal-error', 'unavailable']] as const) {
        proxy.set({ kind: mode });
        for (const [name, op] of ops()) {
          const e = await failure(op);
          expect([name, e.kind, e.retriable]).toEqual([name, kind, true]);
        }
      }
      proxy.set({ kind: 'pass' });
      expect((await store.get('big')).length).toBe(3 * 1024 * 1024);
    });

    it('a store slower than the deadline is "timeout": each attempt has its own deadline and the SDK retries', async () => {
      proxy.set({ kind: 'delay', delayMs: 2_000 });
      for (const [name, op] of ops()) {
        const held = proxy.counts.delayed;
        const e = await failure(op);
        expect([name, e.kind, e.retriable]).toEqual([name, 'timeout', true]);
        // Both attempts (maxAttempts 2) reached the server: the first one's deadline ended it.
        expect(proxy.counts.delayed - held, name).toBe(2);
      }
      proxy.set({ kind: 'pass' });
    });

    it('a GET body cut short is "unavailable", never a short buffer', async () => {
      proxy.set({ kind: 'cut-get-body' });
      for (const op of [() => store.get('big'), () => store.get('big', { start: 0, endInclusive: 1024 * 1024 - 1 })]) {
        const cut = proxy.counts.cut;
        const e = await failure(op);
        expect(e.kind).toBe('unavailable');
        expect(proxy.counts.cut).toBeGreaterThan(cut);
      }
      proxy.set({ kind: 'pass' });
      expect((await store.get('big', { start: 0, endInclusive: 1024 * 1024 - 1 })).length).toBe(1024 * 1024);
    });
  });
});
