// The object store on any S3-compatible endpoint, through @aws-sdk/client-s3. Credentials come from
// the SDK's default provider chain (environment, shared config files, web identity, instance or
// container roles), so nothing secret passes through Strata's config.
//
// Every request has a deadline (`requestTimeoutMs`), so a store that stops answering fails a
// request instead of hanging it; the SDK retries a request at most `maxAttempts` times, and callers
// retry with their own back-off on a retriable ObjectStoreError.
import { readSync, openSync, closeSync, statSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { type ByteRange, checkKey, checkRange, MAX_PARTS, MIN_PART_BYTES, type ObjectInfo, type ObjectStore, ObjectStoreError, type ObjectStoreErrorKind, type PutOptions } from './object-store.js';

export interface S3StoreOptions {
  /** The endpoint URL; undefined means AWS's own, chosen by region. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prepended to every key, with a '/' between; '' for none. */
  prefix: string;
  /** Path-style addressing (http://host/bucket/key), which most S3-compatible servers need. */
  pathStyle: boolean;
  /** Deadline of one request, connection included. */
  requestTimeoutMs: number;
  /** Attempts the SDK makes per request before the error reaches the caller. */
  maxAttempts: number;
  /** Keys per ListObjectsV2 page (S3's maximum, 1000, when absent). */
  listPageSize?: number;
  /** Explicit credentials (tests); otherwise the SDK's default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

type Sdk = typeof import('@aws-sdk/client-s3');

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private loaded: Promise<{ client: S3Client; sdk: Sdk }> | undefined;
  private readonly prefix: string;

  constructor(readonly options: S3StoreOptions) {
    this.prefix = options.prefix === '' ? '' : `${options.prefix.replace(/\/+$/, '')}/`;
    if (this.prefix !== '') checkKey(this.prefix.slice(0, -1));
    this.description = `s3://${options.bucket}/${this.prefix}${options.endpoint === undefined ? '' : ` (${options.endpoint})`}`;
  }

  /**
   * The SDK and its client, loaded at the first request: loading @aws-sdk/client-s3 takes about
   * 100 ms, which a broker without tiered storage, or one still starting, should not pay.
   */
  private connect(): Promise<{ client: S3Client; sdk: Sdk }> {
    const options = this.options;
    return (this.loaded ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        region: options.region,
        forcePathStyle: options.pathStyle,
        maxAttempts: options.maxAttempts,
        // requestTimeout alone only logs a warning when exceeded (to the console, outside Strata's
        // log); throwOnRequestTimeout makes it the deadline of each attempt, so the SDK's own retry
        // gets its turn. socketTimeout ends a response whose body stops arriving after its headers.
        requestHandler: {
          connectionTimeout: options.requestTimeoutMs,
          requestTimeout: options.requestTimeoutMs,
          throwOnRequestTimeout: true,
          socketTimeout: options.requestTimeoutMs,
        },
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      }),
    })));
  }

  private fullKey(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  /** The whole call's deadline, the SDK's retries included: a backstop behind each attempt's own. */
  private signal(): AbortSignal {
    return AbortSignal.timeout(this.options.requestTimeoutMs * (this.options.maxAttempts + 1));
  }

  /** HEAD on the bucket: resolves if it exists and is reachable with these credentials. */
  async checkBucket(): Promise<void> {
    const { client, sdk } = await this.connect();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.options.bucket }), { abortSignal: this.signal() });
    } catch (e) {
      const err = s3Error(e, 'headBucket', this.options.bucket);
      // HEAD has no body, so a missing bucket is only a 404.
      throw err.kind === 'not-found' ? new ObjectStoreError('no-bucket', 'headBucket', this.options.bucket, 'the bucket does not exist', { cause: e }) : err;
    }
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<void> {
    const { client, sdk } = await this.connect();
    const Key = this.fullKey(key);
    try {
      await client.send(
        new sdk.PutObjectCommand({ Bucket: this.options.bucket, Key, Body: body, ContentLength: body.length, ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
        { abortSignal: this.signal() },
      );
    } catch (e) {
      throw s3Error(e, 'put', key);
    }
  }

  async putFile(key: string, path: string, partBytes: number, options: PutOptions = {}): Promise<void> {
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES) throw new RangeError(`part size ${partBytes} must be at least ${MIN_PART_BYTES}`);
    const size = statSync(path).size;
    const parts = Math.max(1, Math.ceil(size / partBytes));
    if (parts > MAX_PARTS) throw new RangeError(`${path} (${size} bytes) needs more than ${MAX_PARTS} parts of ${partBytes}`);
    if (parts === 1) {
      await this.put(key, readRange(path, 0, size, key), options);
      return;
    }
    const Key = this.fullKey(key);
    const Bucket = this.options.bucket;
    const { client, sdk } = await this.connect();
    let uploadId: string | undefined;
    try {
      const created = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key }), { abortSignal: this.signal() });
      uploadId = created.UploadId;
      if (uploadId === undefined) throw new ObjectStoreError('other', 'putFile', key, 'CreateMultipartUpload returned no upload id');
      const done: { PartNumber: number; ETag: string }[] = [];
      // One part in memory at a time: a segment upload costs partBytes of memory, not the segment.
      for (let i = 0; i < parts; i++) {
        const start = i * partBytes;
        const body = readRange(path, start, Math.min(partBytes, size - start), key);
        const res = await client.send(new sdk.UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber: i + 1, Body: body, ContentLength: body.length }), {
          abortSignal: this.signal(),
        });
        if (res.ETag === undefined) throw new ObjectStoreError('other', 'putFile', key, `part ${i + 1} returned no ETag`);
        done.push({ PartNumber: i + 1, ETag: res.ETag });
      }
      await client.send(
        new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: done }, ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
        { abortSignal: this.signal() },
      );
      uploadId = undefined;
    } catch (e) {
      if (uploadId !== undefined) {
        // Parts of an abandoned upload are billed and invisible to listings; abort it now. If the
        // abort fails too, the bucket's lifecycle rule for incomplete uploads is the backstop.
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }), { abortSignal: this.signal() }).catch(() => {});
      }
      throw e instanceof ObjectStoreError ? e : s3Error(e, 'putFile', key);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const { client, sdk } = await this.connect();
    if (range !== undefined) checkRange(key, range);
    try {
      const res = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: this.fullKey(key), ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.endInclusive}` }) }),
        { abortSignal: this.signal() },
      );
      if (res.Body === undefined) throw new ObjectStoreError('other', 'get', key, 'the response had no body');
      return await readBody(res.Body as AsyncIterable<Uint8Array>, res.ContentLength, key);
    } catch (e) {
      throw e instanceof ObjectStoreError ? e : s3Error(e, 'get', key);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const { client, sdk } = await this.connect();
    try {
      const res = await client.send(new sdk.HeadObjectCommand({ Bucket: this.options.bucket, Key: this.fullKey(key) }), { abortSignal: this.signal() });
      return { key, sizeBytes: res.ContentLength ?? 0 };
    } catch (e) {
      const err = s3Error(e, 'head', key);
      if (err.kind === 'not-found') return null;
      throw err;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const { client, sdk } = await this.connect();
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const res = await client.send(
          new sdk.DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.fullKey(k) })), Quiet: true } }),
          { abortSignal: this.signal() },
        );
        const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length > 0) {
          const first = failed[0]!;
          throw new ObjectStoreError(kindOf(first.Code, undefined), 'delete', first.Key ?? batch[0]!, `${failed.length} of ${batch.length} deletes failed: ${first.Code} ${first.Message ?? ''}`);
        }
      } catch (e) {
        throw e instanceof ObjectStoreError ? e : s3Error(e, 'delete', batch[0]!);
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const { client, sdk } = await this.connect();
    let token: string | undefined;
    do {
      let res;
      try {
        res = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: this.prefix + prefix,
            ...(this.options.listPageSize === undefined ? {} : { MaxKeys: this.options.listPageSize }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          { abortSignal: this.signal() },
        );
      } catch (e) {
        throw s3Error(e, 'list', prefix);
      }
      for (const o of res.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key.slice(this.prefix.length), sizeBytes: o.Size ?? 0 };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  close(): void {
    void this.loaded?.then(({ client }) => client.destroy(), () => {});
  }
}

function readRange(path: string, start: number, length: number, key: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, start + done);
      if (n === 0) throw new ObjectStoreError('other', 'putFile', key, `${path} ended at ${start + done}, before the ${start + length} bytes expected`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

function kindOf(code: string | undefined, status: number | undefined): ObjectStoreErrorKind {
  if (code === 'NoSuchBucket') return 'no-bucket';
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return 'not-found';
  if (code === 'PreconditionFailed' || status === 412) return 'precondition-failed';
  if (code === 'SlowDown' || code === 'Throttling' || code === 'TooManyRequests' || status === 429 || status === 503) return 'throttled';
  if (code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || status === 401 || status === 403) return 'denied';
  // 409 ConditionalRequestConflict: another conditional write on the key is in progress; try again.
  if (code === 'ConditionalRequestConflict' || status === 409) return 'unavailable';
  if (status !== undefined && status >= 500) return 'unavailable';
  return 'other';
}

/** An SDK or network error as an ObjectStoreError. */
/** A body larger than this is never buffered: no object Strata reads (a chunk, an index) comes near. */
const BODY_BYTES_MAX = 1024 * 1024 * 1024;

/**
 * A response body read into one buffer. With the length known (Content-Length, always sent for a
 * GET), the stream's pieces are copied straight into a buffer of that size: one copy, no list of
 * pieces and no concatenation, which the SDK's own collector does. A body that ends short of its
 * length, or runs past it, is an `unavailable` error (a cut connection), as the SDK reports it.
 */
async function readBody(body: AsyncIterable<Uint8Array>, length: number | undefined, key: string): Promise<Buffer> {
  if (length === undefined || !Number.isSafeInteger(length) || length < 0 || length > BODY_BYTES_MAX) {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const piece of body) {
      total += piece.length;
      if (total > BODY_BYTES_MAX) throw new ObjectStoreError('other', 'get', key, `the body is larger than ${BODY_BYTES_MAX} bytes`);
      parts.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    }
    return Buffer.concat(parts, total);
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const piece of body) {
    if (at + piece.length > length) throw new ObjectStoreError('unavailable', 'get', key, `the body runs past its Content-Length ${length}`);
    out.set(piece, at);
    at += piece.length;
  }
  if (at !== length) throw new ObjectStoreError('unavailable', 'get', key, `the body ended after ${at} of its ${length} bytes`);
  return out;
}

export function s3Error(e: unknown, operation: string, key: string): ObjectStoreError {
  const err = e as { name?: string; Code?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  let kind = kindOf(err.Code ?? err.name, status);
  // A deadline passed: an attempt's (TimeoutError, ETIMEDOUT) or the whole call's (AbortError from
  // signal()). Told apart from 'unavailable' so a slow store shows as such in the metrics.
  if (status === undefined && (err.name === 'TimeoutError' || err.name === 'AbortError' || err.code === 'ETIMEDOUT')) kind = 'timeout';
  // No HTTP status: the request never got an answer (refused, reset).
  else if (kind === 'other' && status === undefined) kind = 'unavailable';
  const what = [err.name, status === undefined ? undefined : `HTTP ${status}`, err.code, err.message].filter((x) => x !== undefined && x !== '').join(': ');
  return new ObjectStoreError(kind, operation, key, what, { cause: e });
}
