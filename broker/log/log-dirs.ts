// The broker's log directories (log.dirs), as Kafka's LogManager keeps them: each one identified by
// the `meta.properties` Kafka 4 writes, checked at start-up, online or offline, with its own
// free-space check, and a place to put new partitions.
//
// meta.properties: Kafka's KRaft format, version 1 (`cluster.id`, `node.id`, `directory.id`,
// `version=1`, under Java's two comment lines). A directory without one gets one at start-up (Kafka
// needs `kafka-storage format` first; Strata formats itself). A directory whose file names another
// cluster or another node stops start-up, as does a directory id seen twice (a copied directory) or
// the same path listed twice.
//
// Offline: a directory goes offline as a whole on its first I/O failure other than a full disk, from
// a partition log in it or from a metadata write to it (Kafka's LogDirFailureChannel). Listeners
// then stop every partition in it. It stays offline until the broker restarts. A directory that
// cannot be read or prepared at start-up starts offline. Once no directory is left online the
// broker must stop (`onAllOffline`), as Kafka halts.
//
// Replicated files: small broker-wide files (topic metadata, producer id blocks, dynamic configs)
// are written to every online directory, each copy carrying a generation, and read back from
// whichever readable copy has the highest generation, so losing any one directory loses none of
// them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { DiskSpaceGuard } from './disk-space.js';
import { writeFileAtomic } from './files.js';
import { noFaults, type FaultInjector, type LogLogger } from './types.js';

export const META_PROPERTIES_FILE = 'meta.properties';
/** Free space a log directory keeps for index entries, checkpoints and snapshots once appends stop. */
export const LOG_DIR_RESERVE_BYTES = 1024 * 1024;

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
  directoryId: string;
}

export interface LogDir {
  /** The absolute path, as DescribeLogDirs reports it. */
  readonly path: string;
  /** From meta.properties; null when the directory could not be read at start-up. */
  readonly directoryId: string | null;
  readonly diskSpace: DiskSpaceGuard;
  online: boolean;
  /** What took it offline. */
  failure: unknown;
}

/** A full disk is answered per append and keeps the directory online (see disk-space.ts). */
export function isDiskFull(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur !== undefined && cur !== null; depth++) {
    const code = (cur as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** A random directory id in Kafka's base64url form, never one of the ids Kafka reserves (the
 *  all-zero high half with a low half under 100: UNASSIGNED, LOST, MIGRATING, ...). */
export function newDirectoryId(): string {
  for (;;) {
    const b = randomBytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const id = b.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Java's Date.toString() in UTC, the second comment line Properties.store writes. */
function javaDate(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** meta.properties exactly as Kafka 4.1's storage tool writes it (keys in its order). */
export function formatMetaProperties(m: MetaProperties, now = new Date()): string {
  return `#\n#${javaDate(now)}\nnode.id=${m.nodeId}\ndirectory.id=${m.directoryId}\nversion=1\ncluster.id=${m.clusterId}\n`;
}

/** Parses a Java properties file of simple `key=value` lines (what meta.properties holds). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Reads and checks one directory's meta.properties; null when there is none. Throws a message
 *  naming the file for one that is not Kafka's version 1. */
export function readMetaProperties(dir: string): MetaProperties | null {
  const file = path.join(dir, META_PROPERTIES_FILE);
  if (!existsSync(file)) return null;
  const props = parseProperties(readFileSync(file, 'utf8'));
  const version = props.get('version');
  const clusterId = props.get('cluster.id');
  const nodeId = Number(props.get('node.id'));
  const directoryId = props.get('directory.id');
  const bad = (why: string) => new LogDirectoryConflict(`${file}: ${why}`);
  if (version !== '1') throw bad(`version ${version ?? '(missing)'} is not supported; Strata reads and writes Kafka's version 1 (KRaft)`);
  if (clusterId === undefined || clusterId === '') throw bad('cluster.id is missing');
  if (!Number.isSafeInteger(nodeId)) throw bad('node.id is missing or not an integer');
  if (directoryId === undefined || directoryId === '') throw bad('directory.id is missing');
  return { clusterId, nodeId, directoryId };
}

/** A log directory that this broker must not use (another cluster's or node's, a copy, a path
 *  listed twice, an unknown meta.properties version): start-up stops with the reason. */
export class LogDirectoryConflict extends Error {
  override readonly name = 'LogDirectoryConflict';
}

export interface LogDirectoriesOptions {
  paths: readonly string[];
  nodeId: number;
  /** The cluster id to write when no directory has a meta.properties yet. */
  newClusterId: () => string;
  logger: LogLogger;
  /** Fault injection for the files written directly in a log directory (tests). */
  faultsFor?: (logDir: string) => FaultInjector;
}

export class LogDirectories {
  readonly dirs: readonly LogDir[];
  readonly clusterId: string;
  readonly #logger: LogLogger;
  readonly #faultsFor: (logDir: string) => FaultInjector;
  readonly #offlineListeners: ((dir: LogDir) => void)[] = [];
  /** Called once no directory is left online; the broker must stop (Kafka halts). */
  onAllOffline: (dirs: readonly LogDir[]) => void = () => {};

  /**
   * Prepares every directory: creates it if missing, checks or writes its meta.properties. A
   * directory that another cluster or node owns stops start-up (throws with the reason); one that
   * cannot be read or written starts offline.
   */
  constructor(opts: LogDirectoriesOptions) {
    assert.ok(opts.paths.length > 0, 'at least one log directory');
    this.#logger = opts.logger;
    this.#faultsFor = opts.faultsFor ?? (() => noFaults);
    const resolved = opts.paths.map((p) => path.resolve(p));
    const seen = new Set<string>();
    for (const p of resolved) {
      if (seen.has(p)) throw new LogDirectoryConflict(`log.dirs lists ${p} more than once`);
      seen.add(p);
    }
    const found: { path: string; meta: MetaProperties | null; failure: unknown }[] = resolved.map((p) => {
      try {
        mkdirSync(p, { recursive: true });
        readdirSync(p);
        return { path: p, meta: readMetaProperties(p), failure: null };
      } catch (e) {
        if (e instanceof LogDirectoryConflict) throw e;
        return { path: p, meta: null, failure: e };
      }
    });
    const withMeta = found.filter((f) => f.meta !== null);
    for (const f of withMeta) {
      if (f.meta!.nodeId !== opts.nodeId) {
        throw new LogDirectoryConflict(
          `${path.join(f.path, META_PROPERTIES_FILE)} belongs to node ${f.meta!.nodeId}, but node.id is ${opts.nodeId}: if you moved the data, set node.id to match; to start a new node, empty this log directory`,
        );
      }
      const first = withMeta[0]!;
      if (f.meta!.clusterId !== first.meta!.clusterId) {
        throw new LogDirectoryConflict(
          `${path.join(f.path, META_PROPERTIES_FILE)} belongs to cluster ${f.meta!.clusterId}, but ${path.join(first.path, META_PROPERTIES_FILE)} to cluster ${first.meta!.clusterId}: every log directory must belong to one cluster`,
        );
      }
      const twin = withMeta.find((o) => o !== f && o.meta!.directoryId === f.meta!.directoryId);
      if (twin !== undefined) throw new LogDirectoryConflict(`${f.path} and ${twin.path} have the same directory.id ${f.meta!.directoryId}: one is a copy of the other`);
    }
    this.clusterId = withMeta[0]?.meta!.clusterId ?? opts.newClusterId();
    this.dirs = found.map((f) => {
      let directoryId = f.meta?.directoryId ?? null;
      let failure = f.failure;
      if (failure === null && directoryId === null) {
        directoryId = newDirectoryId();
        try {
          writeFileAtomic(f.path, META_PROPERTIES_FILE, formatMetaProperties({ clusterId: this.clusterId, nodeId: opts.nodeId, directoryId }), this.#faultsFor(f.path));
          this.#logger.info('log directory formatted', { dir: f.path, clusterId: this.clusterId, directoryId });
        } catch (e) {
          failure = e;
        }
      }
      if (failure !== null) this.#logger.warn('log directory is offline from start-up', { dir: f.path, err: failure });
      return { path: f.path, directoryId, diskSpace: new DiskSpaceGuard(f.path, LOG_DIR_RESERVE_BYTES), online: failure === null, failure };
    });
  }

  online(): LogDir[] {
    return this.dirs.filter((d) => d.online);
  }

  offline(): LogDir[] {
    return this.dirs.filter((d) => !d.online);
  }

  /** The directory `p` is in or is (a log directory or a partition directory in one), or undefined. */
  dirOf(p: string): LogDir | undefined {
    const abs = path.resolve(p);
    return this.dirs.find((d) => abs === d.path || path.dirname(abs) === d.path);
  }

  isOnline(logDir: string): boolean {
    return this.dirOf(logDir)?.online === true;
  }

  faultsFor(logDir: string): FaultInjector {
    return this.#faultsFor(logDir);
  }

  /** The volume's size and the bytes an unprivileged writer may still use (DescribeLogDirs v4). */
  spaceOf(logDir: string): { totalBytes: number; usableBytes: number } {
    const s = statfsSync(logDir);
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  }

  /** Registers a listener told when a directory goes offline (before onAllOffline). */
  onOffline(listener: (dir: LogDir) => void): void {
    this.#offlineListeners.push(listener);
  }

  /**
   * Reports an I/O failure in `where` (a log directory or a partition directory in one). A full
   * disk changes nothing here; anything else takes the directory offline, once.
   */
  reportFailure(where: string, cause: unknown): void {
    if (isDiskFull(cause)) return;
    const dir = this.dirOf(where);
    if (dir === undefined || !dir.online) return;
    dir.online = false;
    dir.failure = cause;
    this.#logger.warn('log directory failed; every partition in it stops serving until the broker restarts with it healthy', {
      dir: dir.path,
      directoryId: dir.directoryId,
      online: this.online().map((d) => d.path),
      err: cause,
    });
    for (const l of this.#offlineListeners) l(dir);
    if (this.online().length === 0) this.onAllOffline(this.dirs);
  }

  /**
   * Where a new partition goes: the online directory holding the fewest partitions (Kafka's
   * LogManager rule), the first listed on a tie; null when none is online.
   */
  placeNew(partitionsIn: (dir: LogDir) => number): LogDir | null {
    let best: LogDir | null = null;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const d of this.dirs) {
      if (!d.online) continue;
      const n = partitionsIn(d);
      if (n < bestCount) {
        best = d;
        bestCount = n;
      }
    }
    return best;
  }

  /**
   * Writes a replicated file to every online directory; a directory whose write fails goes offline.
   * Throws when no copy could be written.
   */
  writeEverywhere(name: string, text: string): void {
    let written = 0;
    let lastError: unknown = null;
    for (const d of this.online()) {
      try {
        writeFileAtomic(d.path, name, text, this.#faultsFor(d.path));
        written++;
      } catch (e) {
        lastError = e;
        this.reportFailure(d.path, e);
      }
    }
    if (written === 0) throw new Error(`${name} could not be written to any log directory`, { cause: lastError });
  }

  /** The newest readable copy of a replicated file in the online directories, or null. */
  readNewest<T>(name: string, generationOf: (value: T) => number): T | null {
    return readNewestCopy(this.online().map((d) => d.path), name, generationOf, this.#logger);
  }
}

/** The copy of `name` with the highest generation among `dirs`; unreadable copies are skipped with a
 *  warning. Usable before the directories are prepared (dynamic configs are read first). */
export function readNewestCopy<T>(dirs: readonly string[], name: string, generationOf: (value: T) => number, logger?: LogLogger): T | null {
  let best: T | null = null;
  let bestGeneration = Number.NEGATIVE_INFINITY;
  for (const d of dirs) {
    const file = path.join(d, name);
    let value: T;
    try {
      if (!existsSync(file)) continue;
      value = JSON.parse(readFileSync(file, 'utf8')) as T;
    } catch (e) {
      logger?.warn('replicated file unreadable, using another copy', { file, err: e });
      continue;
    }
    const g = generationOf(value);
    if (g > bestGeneration) {
      best = value;
      bestGeneration = g;
    }
  }
  return best;
}
