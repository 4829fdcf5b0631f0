/**
 * The fixed records every golden producer scenario sends, and what each
 * client can actually put on the wire for them.
 *
 * All values are UTF-8 text without tabs or newlines, so the same list can be
 * fed to kcat's line-oriented producer (see kcatInput()).
 */

export type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const CODECS: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface GoldenHeader {
  key: string;
  /** null = a header whose value is null (length -1 on the wire). */
  value: string | null;
}

export interface GoldenRecord {
  /** null = a record without a key (length -1 on the wire). */
  key: string | null;
  value: string;
  headers: GoldenHeader[];
}

export type PeerClient = 'kcat' | 'java' | 'kafkajs';

/** 3072 ASCII bytes, repetitive enough that every codec shrinks it. */
function largeValue(): string {
  let s = '';
  for (let i = 0; s.length < 3072; i++) {
    s += `line ${String(i).padStart(3, '0')}: strata golden payload, deterministic and compressible; `;
  }
  return s.slice(0, 3072);
}

/**
 * Timestamps are left to each client (CreateTime = wall clock), so they
 * differ between runs. Everything else is fixed.
 */
export const GOLDEN_RECORDS: readonly GoldenRecord[] = Object.freeze([
  {
    key: 'strata-key-0',
    value: 'hello from a strata golden producer',
    headers: [
      { key: 'trace-id', value: '4bf92f3577b34da6' },
      { key: 'empty-header', value: '' },
      { key: 'null-header', value: null },
    ],
  },
  { key: null, value: 'a record with a null key', headers: [] },
  { key: 'strata-key-2', value: '', headers: [{ key: 'kind', value: 'empty-value' }] },
  { key: 'strata-key-3', value: largeValue(), headers: [{ key: 'content-type', value: 'text/plain' }] },
  {
    key: 'strata-key-4',
    value: 'last record: ünïcödé ✓',
    headers: [
      { key: 'dup', value: 'first' },
      { key: 'dup', value: 'second' },
    ],
  },
]);

/**
 * kcat (1.7) can only attach one header list, given with -H on the command
 * line, to every message it produces; it has no per-message headers. It does
 * support a null-valued header (`-H name` without `=`) and an empty one
 * (`-H name=`). So every kcat record carries these headers (the first golden
 * record's set), in this order.
 */
export const KCAT_HEADERS: readonly GoldenHeader[] = GOLDEN_RECORDS[0]!.headers;

/**
 * The records as each client really sends them, in order:
 * - java: exactly GOLDEN_RECORDS.
 * - kcat: keys and values exact; every record has KCAT_HEADERS.
 * - kafkajs: KafkaJS 2.2.4 cannot encode a null header value (its record
 *   size computation calls Buffer.byteLength(null) and throws), so headers
 *   with a null value are left out. Duplicate header keys are sent as a
 *   KafkaJS array value, which keeps their order.
 */
export function expectedRecords(client: PeerClient): GoldenRecord[] {
  return GOLDEN_RECORDS.map((r) => {
    let headers: GoldenHeader[];
    switch (client) {
      case 'java':
        headers = r.headers;
        break;
      case 'kcat':
        headers = [...KCAT_HEADERS];
        break;
      case 'kafkajs':
        headers = r.headers.filter((h) => h.value !== null);
        break;
    }
    return { key: r.key, value: r.value, headers: headers.map((h) => ({ ...h })) };
  });
}

/**
 * kcat producer input: one message per line, `-K '\t'` splits key from value.
 * A line without the tab has no key (kcat sends a null key), `key\t` is an
 * empty (not null) value because we do not pass -Z. kcat skips empty lines,
 * so a record with a null key and an empty value cannot be expressed; the
 * golden records avoid that shape.
 */
export function kcatInput(records: readonly GoldenRecord[] = GOLDEN_RECORDS): string {
  return records
    .map((r) => {
      for (const s of [r.key ?? '', r.value]) {
        if (/[\t\n]/.test(s)) throw new Error('kcat input cannot contain tabs or newlines');
      }
      if (r.key === null && r.value === '') throw new Error('kcat cannot send a null key with an empty value');
      return r.key === null ? `${r.value}\n` : `${r.key}\t${r.value}\n`;
    })
    .join('');
}

function tok(s: string | null): string {
  return s === null ? '~' : `:${Buffer.from(s, 'utf8').toString('base64')}`;
}

/**
 * Input format of GoldenClient.java (read from stdin): one record per line,
 * space separated tokens `key value headerCount [hkey hvalue]...`, where each
 * byte string is `~` for null or `:` followed by its base64.
 */
export function javaRecordsInput(records: readonly GoldenRecord[] = GOLDEN_RECORDS): string {
  return records
    .map((r) => {
      const parts = [tok(r.key), tok(r.value), String(r.headers.length)];
      for (const h of r.headers) parts.push(tok(h.key), tok(h.value));
      return parts.join(' ') + '\n';
    })
    .join('');
}
