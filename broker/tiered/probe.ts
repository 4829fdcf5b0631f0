// The start-up check of the object store: before a broker with tiered storage serves anyone, it
// proves that the bucket exists and that it can write, read back, conditionally write and delete
// there. A failure stops start-up with the step that failed and the store's own error, instead of
// surfacing minutes later as a stuck upload.
import { randomUUID } from 'node:crypto';
import { type ObjectStore, ObjectStoreError } from './object-store.js';

/** Where probe objects go, under the store's prefix. */
export const PROBE_PREFIX = '.strata-probe';

export class ObjectStoreCheckError extends Error {
  override readonly name = 'ObjectStoreCheckError';
  constructor(
    readonly step: string,
    readonly store: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`object store check failed at "${step}" on ${store}: ${message}`, options);
  }
}

export interface ProbeReport {
  /** Each step that passed, in order, with how long it took. */
  steps: { step: string; ms: number }[];
}

/**
 * Runs the check. `checkBucket` is the store's own bucket test (S3's HEAD bucket); the local store
 * has none. Every step is bounded by the store's request deadline.
 */
export async function probeObjectStore(store: ObjectStore & { checkBucket?: () => Promise<void> }): Promise<ProbeReport> {
  const key = `${PROBE_PREFIX}/${randomUUID()}`;
  const body = Buffer.from(`strata object store probe ${key} ${new Date().toISOString()}\n`);
  const steps: ProbeReport['steps'] = [];
  const step = async (name: string, run: () => Promise<void>): Promise<void> => {
    const started = performance.now();
    try {
      await run();
    } catch (e) {
      const detail = e instanceof ObjectStoreError ? `${e.kind}: ${e.message}` : String((e as Error).message ?? e);
      throw new ObjectStoreCheckError(name, store.description, detail, { cause: e });
    }
    steps.push({ step: name, ms: Math.round(performance.now() - started) });
  };
  if (store.checkBucket !== undefined) await step('bucket exists', () => store.checkBucket!());
  await step('write', () => store.put(key, body, { ifNoneMatch: true }));
  try {
    await step('read back', async () => {
      const got = await store.get(key);
      if (!got.equals(body)) throw new Error(`read ${got.length} bytes that differ from the ${body.length} written`);
    });
    // Remote metadata relies on If-None-Match: a store that overwrites silently would let two
    // brokers both believe they wrote the same manifest.
    await step('conditional write refused on an existing key', async () => {
      try {
        await store.put(key, Buffer.from('second writer'), { ifNoneMatch: true });
      } catch (e) {
        if (e instanceof ObjectStoreError && e.kind === 'precondition-failed') return;
        throw e;
      }
      throw new Error('the store overwrote an existing key despite If-None-Match: *; it does not support conditional writes');
    });
  } catch (e) {
    // Best effort: the probe object should not outlive a failed check, but the first failure is
    // what the operator needs to see.
    await store.delete([key]).catch(() => {});
    throw e;
  }
  await step('delete', () => store.delete([key]));
  await step('deleted', async () => {
    if ((await store.head(key)) !== null) throw new Error('the probe object is still there after its delete');
  });
  return { steps };
}
