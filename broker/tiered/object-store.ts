// The object store the cold tier writes closed segments to, as one narrow interface with two
// implementations: S3-compatible endpoints (s3-store.ts) and a local directory (local-store.ts), for
// development and the embedded default. Everything above this file speaks in keys and byte ranges
// and sees failures as ObjectStoreError with a kind, so retry and metrics code never parses an SDK
// error.

/** What went wrong, as retry logic and metrics need it. */
export type ObjectStoreErrorKind =
  /** The key does not exist. */
  | 'not-found'
  /** A conditional write found the key already there (If-None-Match: *). */
  | 'precondition-failed'
  /** The store asked us to slow down (503 SlowDown, 429). Retriable. */
  | 'throttled'
  /** The store refused the connection, dropped it, or answered 5xx. Retriable. */
  | 'unavailable'
  /** The store did not answer within the request deadline (a slow store). Retriable. */
  | 'timeout'
  /** Credentials or permissions were refused (401, 403). */
  | 'denied'
  /** The bucket does not exist. */
  | 'no-bucket'
  /** Anything else: a bad request, a malformed answer. */
  | 'other';

const RETRIABLE: ReadonlySet<ObjectStoreErrorKind> = new Set(['throttled', 'unavailable', 'timeout']);

export class ObjectStoreError extends Error {
  override readonly name = 'ObjectStoreError';
  constructor(
    readonly kind: ObjectStoreErrorKind,
    readonly operation: string,
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} ${key}: ${message}`, options);
  }

  /** Whether trying the same operation again later may succeed. */
  get retriable(): boolean {
    return RETRIABLE.has(this.kind);
  }
}

/** Bytes [start, endInclusive] of an object, as an HTTP Range header counts them. */
export interface ByteRange {
  start: number;
  endInclusive: number;
}

export interface ObjectInfo {
  key: string;
  sizeBytes: number;
}

export interface PutOptions {
  /** Fail with 'precondition-failed' if the key exists (If-None-Match: *), instead of overwriting. */
  ifNoneMatch?: boolean;
}

export interface ObjectStore {
  /** For logs and errors: where objects go, e.g. `s3://bucket/prefix (http://127.0.0.1:7070)`. */
  readonly description: string;
  /** Writes a whole object. */
  put(key: string, body: Buffer, options?: PutOptions): Promise<void>;
  /**
   * Writes the file at `path` as object `key`: in one request when it is at most `partBytes`, else
   * as a multipart upload of `partBytes` parts (the last one shorter), aborted if any part fails.
   */
  putFile(key: string, path: string, partBytes: number, options?: PutOptions): Promise<void>;
  /** Reads a whole object, or one byte range of it. */
  get(key: string, range?: ByteRange): Promise<Buffer>;
  /** Size of an object, or null when it does not exist. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Deletes objects; keys that do not exist are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Releases connections. */
  close(): void;
}

/** S3 and the local store both refuse parts smaller than this, except the last one. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's limit on the parts of one upload. */
export const MAX_PARTS = 10_000;

/** Checks a key before it reaches a store: relative, no empty or dot segments, printable. */
export function checkKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new RangeError(`object key must be 1 to 1024 characters, got ${key.length}`);
  if (key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new RangeError(`object key ${JSON.stringify(key)} must be relative with no empty, '.' or '..' segments`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(key)) throw new RangeError(`object key ${JSON.stringify(key)} has a control character or a backslash`);
}

export function checkRange(key: string, range: ByteRange): void {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.endInclusive) || range.start < 0 || range.endInclusive < range.start) {
    throw new RangeError(`byte range [${range.start}, ${range.endInclusive}] of ${key} is not a valid range`);
  }
}
