// An object store on a local directory: one file per key, '/' in keys making subdirectories. For
// development and the embedded default, and as the reference the S3 store is tested against.
//
// Writes land in a temporary file first and appear whole: a plain put renames it over the key, a
// conditional put (ifNoneMatch) hard-links it to the key, which fails if the key exists, so two
// writers racing for one key cannot both win. Files are fsynced before they appear.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type ByteRange, checkKey, checkRange, MAX_PARTS, MIN_PART_BYTES, type ObjectInfo, type ObjectStore, ObjectStoreError, type PutOptions } from './object-store.js';

/** Temporary files live here, inside the root, so a rename never crosses file systems. */
const TMP_DIR = '.strata-tmp';

export class LocalObjectStore implements ObjectStore {
  readonly description: string;

  constructor(readonly root: string) {
    this.description = `local directory ${root}`;
  }

  /** Creates the root directory if needed (the local store's "bucket"). */
  async init(): Promise<void> {
    await mkdir(join(this.root, TMP_DIR), { recursive: true });
  }

  private pathOf(key: string): string {
    checkKey(key);
    if (key === TMP_DIR || key.startsWith(`${TMP_DIR}/`)) throw new RangeError(`object key ${key} is reserved`);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer, options: PutOptions = {}): Promise<void> {
    const target = this.pathOf(key);
    const tmp = await this.tempFile();
    try {
      const fd = openSync(tmp, 'w');
      try {
        let done = 0;
        while (done < body.length) done += writeSync(fd, body, done, body.length - done);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      await this.publish(tmp, target, key, options, 'put');
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async putFile(key: string, path: string, partBytes: number, options: PutOptions = {}): Promise<void> {
    if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES) throw new RangeError(`part size ${partBytes} must be at least ${MIN_PART_BYTES}`);
    const target = this.pathOf(key);
    const size = (await stat(path)).size;
    if (Math.ceil(size / partBytes) > MAX_PARTS) throw new RangeError(`${path} (${size} bytes) needs more than ${MAX_PARTS} parts of ${partBytes}`);
    const tmp = await this.tempFile();
    try {
      // Copied in parts of partBytes, as the S3 store uploads it, so a part size error shows here too.
      const src = openSync(path, 'r');
      const dst = openSync(tmp, 'w');
      try {
        const buf = Buffer.allocUnsafe(Math.min(partBytes, Math.max(size, 1)));
        for (let pos = 0; pos < size; ) {
          const n = readSync(src, buf, 0, Math.min(buf.length, size - pos), pos);
          if (n === 0) throw new ObjectStoreError('other', 'putFile', key, `${path} shrank while it was copied`);
          let w = 0;
          while (w < n) w += writeSync(dst, buf, w, n - w);
          pos += n;
        }
        fsyncSync(dst);
      } finally {
        closeSync(src);
        closeSync(dst);
      }
      await this.publish(tmp, target, key, options, 'putFile');
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const path = this.pathOf(key);
    if (range !== undefined) checkRange(key, range);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw this.error(e, 'get', key);
    }
    try {
      const size = (await handle.stat()).size;
      const start = range?.start ?? 0;
      if (range !== undefined && start >= size) throw new ObjectStoreError('other', 'get', key, `range starts at ${start}, past the object's ${size} bytes`);
      // As in HTTP, a range that runs past the end is cut at the end.
      const end = range === undefined ? size : Math.min(size, range.endInclusive + 1);
      const buf = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, sizeBytes: s.size } : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.error(e, 'head', key);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await unlink(this.pathOf(key));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw this.error(e, 'delete', key);
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const found: ObjectInfo[] = [];
    await this.walk(this.root, prefix, found);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  close(): void {}

  private async walk(dir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.error(e, 'list', prefix);
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const key = relative(this.root, full).split(sep).join('/');
      if (key === TMP_DIR) continue;
      // Only descend where keys below can still match the prefix.
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) await this.walk(full, prefix, out);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        out.push({ key, sizeBytes: (await stat(full)).size });
      }
    }
  }

  private async tempFile(): Promise<string> {
    await mkdir(join(this.root, TMP_DIR), { recursive: true });
    return join(this.root, TMP_DIR, randomUUID());
  }

  private async publish(tmp: string, target: string, key: string, options: PutOptions, op: string): Promise<void> {
    await mkdir(dirname(target), { recursive: true });
    try {
      if (options.ifNoneMatch) linkSync(tmp, target);
      else await rename(tmp, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new ObjectStoreError('precondition-failed', op, key, 'the key already exists', { cause: e });
      throw this.error(e, op, key);
    }
    const dirFd = openSync(dirname(target), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  private error(e: unknown, op: string, key: string): ObjectStoreError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new ObjectStoreError('not-found', op, key, 'no such key', { cause: e });
    if (code === 'EACCES' || code === 'EPERM') return new ObjectStoreError('denied', op, key, String((e as Error).message), { cause: e });
    return new ObjectStoreError('unavailable', op, key, String((e as Error).message), { cause: e });
  }
}
