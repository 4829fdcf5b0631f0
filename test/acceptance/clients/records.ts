/**
 * Deterministic records for the acceptance drivers, and what each client can
 * put on the wire for them.
 *
 * Every record has a key `key-<index>` (UTF-8), a value of 10..2000 bytes and
 * 1..3 headers. Values mix compressible text with pseudo-random bytes, so
 * every codec has real work to do. The same (client, codec, count) always
 * gives the same records, and the first n records do not depend on count.
 */
import type { Codec } from '../../golden/clients/records.js';

export type AcceptanceClient = 'kcat' | 'confluent-kafka-python' | 'kafkajs' | 'platformatic' | 'java' | 'console';

export const ACCEPTANCE_CLIENTS: readonly AcceptanceClient[] = [
  'kcat',
  'confluent-kafka-python',
  'kafkajs',
  'platformatic',
  'java',
  'console',
];

export interface ClientCapabilities {
  /** Values and header values may hold any bytes (otherwise: UTF-8 text without CR/LF). */
  binaryValues: boolean;
  /** Each record has its own headers (otherwise every record carries the same list). */
  perRecordHeaders: boolean;
  /** A header value can be null (length -1 on the wire). */
  nullHeaderValues: boolean;
  /** A record can have a null key. Not exercised: every acceptance record has a key. */
  nullKeys: boolean;
  /** How the client picks a partition for a keyed record when none is given. */
  partitioner: string;
  /** Whether its producer is idempotent as the driver runs it. */
  idempotent: boolean;
}

/**
 * What each client, as its driver runs it, can carry. acceptanceRecords()
 * generates only what the client can carry; see index.ts for the flags.
 */
export const CAPABILITIES: Readonly<Record<AcceptanceClient, ClientCapabilities>> = Object.freeze({
  // kcat -P reads records from stdin split by delimiters; multi-byte
  // delimiters that never occur in the data make binary values safe. Headers
  // only come from -H, which applies the same list to every record.
  kcat: {
    binaryValues: true,
    perRecordHeaders: false,
    nullHeaderValues: true,
    nullKeys: true,
    partitioner: 'librdkafka consistent_random: CRC32(key) % partitions',
    idempotent: false,
  },
  'confluent-kafka-python': {
    binaryValues: true,
    perRecordHeaders: true,
    nullHeaderValues: true,
    nullKeys: true,
    partitioner: 'librdkafka consistent_random: CRC32(key) % partitions',
    idempotent: false,
  },
  // KafkaJS 2.2.4 cannot encode a null header value (it throws while sizing the record).
  kafkajs: {
    binaryValues: true,
    perRecordHeaders: true,
    nullHeaderValues: false,
    nullKeys: true,
    partitioner: 'KafkaJS DefaultPartitioner: (murmur2(key) & 0x7fffffff) % partitions (Java-compatible)',
    idempotent: false,
  },
  platformatic: {
    binaryValues: true,
    perRecordHeaders: true,
    nullHeaderValues: true,
    nullKeys: true,
    partitioner: '@platformatic/kafka defaultPartitioner: (murmur2(key) >>> 0) % partitions (not Java-compatible)',
    idempotent: false,
  },
  java: {
    binaryValues: true,
    perRecordHeaders: true,
    nullHeaderValues: true,
    nullKeys: true,
    partitioner: 'Java BuiltInPartitioner: (murmur2(key) & 0x7fffffff) % partitions',
    idempotent: true,
  },
  // ConsoleProducer's LineMessageReader reads UTF-8 lines: text only, no CR or
  // LF; headers "name:value" separated by ',' (so no ',' in header values, no
  // ':' in header names); a field equal to null.marker becomes null.
  console: {
    binaryValues: false,
    perRecordHeaders: true,
    nullHeaderValues: true,
    nullKeys: true,
    partitioner: 'Java BuiltInPartitioner: (murmur2(key) & 0x7fffffff) % partitions',
    idempotent: true,
  },
});

export interface AcceptanceRecord {
  /** Position in the produced sequence, from 0. */
  index: number;
  key: Buffer;
  value: Buffer;
  /** Header name (UTF-8 text) and value (null = a null header value). */
  headers: [string, Buffer | null][];
}

/**
 * kcat's input framing (see index.ts): record delimiter and key delimiter,
 * as kcat -D/-K arguments and as the bytes they stand for. Neither has a
 * proper prefix that is also a suffix, so a match can only start where it
 * was written; no escape is followed by a hex digit, since kcat's \x parser
 * reads as many hex digits as it finds.
 */
export const KCAT_RECORD_DELIMITER_ARG = '\\xfe\\xfdSTRATA-END\\xfc\\xfb';
export const KCAT_RECORD_DELIMITER = Buffer.from([0xfe, 0xfd, ...Buffer.from('STRATA-END'), 0xfc, 0xfb]);
export const KCAT_KEY_DELIMITER_ARG = '\\xfa\\xf9STRATA-KEY\\xf8\\xf7';
export const KCAT_KEY_DELIMITER = Buffer.from([0xfa, 0xf9, ...Buffer.from('STRATA-KEY'), 0xf8, 0xf7]);

/** ConsoleProducer's null.marker: a key, value or header value equal to it is sent as null. */
export const CONSOLE_NULL_MARKER = '<strata-null>';

/** 32-bit FNV-1a, to seed the generator from a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: small, fast, deterministic; plenty for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const WORDS = [
  'strata', 'broker', 'partition', 'offset', 'record', 'segment', 'tiered', 'storage', 'leader', 'replica',
  'batch', 'producer', 'consumer', 'compression', 'header', 'topic', 'commit', 'fetch', 'index', 'log',
  // Multi-byte UTF-8: 2, 3 and 4 bytes per character, and a combining mark.
  'grüße', 'naïve', '日本語', 'данные', '✓', '€uro', '😀', 'e\u0301',
];

/** Valid UTF-8 text of exactly size bytes: words, spaces, sometimes a tab. */
function textBytes(size: number, next: () => number): Buffer {
  const parts: Buffer[] = [];
  let len = 0;
  for (;;) {
    const sep = len === 0 ? '' : next() % 11 === 0 ? '\t' : ' ';
    const word = Buffer.from(sep + WORDS[next() % WORDS.length]!, 'utf8');
    if (len + word.length > size) break;
    parts.push(word);
    len += word.length;
  }
  // Pad with ASCII to the exact size.
  const pad = Buffer.alloc(size - len);
  for (let i = 0; i < pad.length; i++) pad[i] = 0x61 + (next() % 26);
  parts.push(pad);
  return Buffer.concat(parts, size);
}

function randomBytes(size: number, next: () => number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = next() & 0xff;
  return b;
}

/** Bytes that make UTF-8 invalid or trip line-oriented tools. */
const AWKWARD = [0x00, 0xff, 0xfe, 0xc0, 0x80, 0xbf, 0x0a, 0x0d, 0x09, 0xed, 0xf8];

function value(size: number, binary: boolean, next: () => number): Buffer {
  const kind = next() % 3;
  if (!binary || kind === 0) return textBytes(size, next);
  if (kind === 1) return randomBytes(size, next);
  // Text with awkward bytes dropped in: invalid UTF-8, NUL, CR, LF.
  const b = textBytes(size, next);
  const n = 1 + (next() % 8);
  for (let i = 0; i < n; i++) b[next() % size] = AWKWARD[next() % AWKWARD.length]!;
  b[0] = 0xff; // at least one byte that is never valid UTF-8
  return b;
}

function hex16(next: () => number): string {
  return (next().toString(16).padStart(8, '0') + next().toString(16).padStart(8, '0')).slice(0, 16);
}

const HEADER_NAMES = ['trace-id', 'strata-seq', 'content-type', 'tenant', 'blob', 'empty', 'nullable'] as const;

function headers(index: number, caps: ClientCapabilities, next: () => number): [string, Buffer | null][] {
  const names = [...HEADER_NAMES].filter((n) => n !== 'nullable' || caps.nullHeaderValues);
  const count = 1 + (next() % 3);
  const out: [string, Buffer | null][] = [];
  for (let i = 0; i < count; i++) {
    const name = names.splice(next() % names.length, 1)[0]!;
    let v: Buffer | null;
    switch (name) {
      case 'trace-id':
        v = Buffer.from(hex16(next));
        break;
      case 'strata-seq':
        v = Buffer.from(String(index));
        break;
      case 'content-type':
        v = Buffer.from(next() % 2 ? 'text/plain; charset=utf-8' : 'application/octet-stream');
        break;
      case 'tenant':
        v = Buffer.from(`tenant-${next() % 100}:grüße`);
        break;
      case 'blob':
        v = caps.binaryValues ? randomBytes(1 + (next() % 40), next) : textBytes(1 + (next() % 40), next);
        if (!caps.binaryValues) v = Buffer.from(v.toString('utf8').replace(/\t/g, ' '));
        break;
      case 'empty':
        v = Buffer.alloc(0);
        break;
      default:
        v = null;
    }
    out.push([name, v]);
  }
  return out;
}

/** The header list kcat puts on every record (kcat -H applies to all records). */
export function kcatHeaders(codec: string): [string, Buffer | null][] {
  return [
    ['strata-client', Buffer.from('kcat')],
    ['strata-codec', Buffer.from(codec)],
    ['nullable', null],
  ];
}

function isAcceptanceClient(c: string): c is AcceptanceClient {
  return (ACCEPTANCE_CLIENTS as readonly string[]).includes(c);
}

/**
 * The records `client` produces for `codec`: keys `key-<i>`, values of
 * 10..2000 bytes, 1..3 headers each, all deterministic.
 *
 * Per client (see CAPABILITIES):
 * - binary clients get values that are text, pseudo-random bytes, or text
 *   with invalid UTF-8/NUL/CR/LF dropped in (each about a third); the 'blob'
 *   header holds random bytes.
 * - console gets UTF-8 text only (words incl. multi-byte characters, spaces,
 *   tabs; never CR or LF), and header values without ',' or tabs.
 * - kcat records all carry kcatHeaders(codec); no value contains kcat's
 *   delimiters.
 * - clients without null header values never get the 'nullable' header.
 */
export function acceptanceRecords(client: string, codec: string, count: number): AcceptanceRecord[] {
  if (!isAcceptanceClient(client)) throw new Error(`unknown acceptance client ${client}`);
  const caps = CAPABILITIES[client];
  const next = prng(fnv1a(`strata-acceptance/${client}/${codec}`));
  const out: AcceptanceRecord[] = [];
  for (let index = 0; index < count; index++) {
    const size = 10 + (next() % 1991);
    let v = value(size, caps.binaryValues, next);
    const h = caps.perRecordHeaders ? headers(index, caps, next) : kcatHeaders(codec);
    if (client === 'kcat') {
      // Keep kcat's framing unambiguous: break any delimiter that happens to appear.
      for (const delim of [KCAT_RECORD_DELIMITER, KCAT_KEY_DELIMITER]) {
        for (let at = v.indexOf(delim); at >= 0; at = v.indexOf(delim, at + 1)) v[at] = v[at]! ^ 0x01;
      }
    }
    if (client === 'console' && v.toString('utf8') === CONSOLE_NULL_MARKER) v = Buffer.from(`${CONSOLE_NULL_MARKER}!`);
    out.push({ index, key: Buffer.from(`key-${index}`), value: v, headers: h });
  }
  return out;
}

/** One record in the line format every driver reads on stdin (see AcceptanceClient.java, driver.py). */
function tok(b: Buffer | null): string {
  return b === null ? '~' : `:${b.toString('base64')}`;
}

export function recordsInput(records: readonly AcceptanceRecord[]): string {
  const lines: string[] = [];
  for (const r of records) {
    const parts = [tok(r.key), tok(r.value), String(r.headers.length)];
    for (const [name, v] of r.headers) parts.push(tok(Buffer.from(name, 'utf8')), tok(v));
    lines.push(parts.join(' '));
  }
  return lines.join('\n') + '\n';
}

export type { Codec };
