/**
 * Checks, without a broker, that every acceptance client is installed and
 * starts, and that the generated records are what the drivers promise.
 *
 * The peers come from `bash hack/peers/install.sh` (npm test runs it first).
 * Set STRATA_ALLOW_MISSING_PEERS=1 to skip clients that are not installed
 * instead of failing.
 */
import { describe, expect, it } from 'vitest';
import {
  ACCEPTANCE_CLIENTS,
  acceptanceRecords,
  CAPABILITIES,
  clientVersion,
  CODECS,
  kcatHeaders,
  peersAvailable,
  roundTripProblems,
  type AcceptanceRecord,
  type ConsumeReport,
  type ProduceReport,
} from './index.js';
import { CONSOLE_NULL_MARKER, KCAT_KEY_DELIMITER, KCAT_RECORD_DELIMITER } from './records.js';

const allowMissing = process.env.STRATA_ALLOW_MISSING_PEERS === '1';
const available = peersAvailable();

describe('acceptance peers', () => {
  it.each(ACCEPTANCE_CLIENTS)('%s is installed', (client) => {
    if (!available[client] && allowMissing) return;
    expect(available[client], `${client}: ${available.problems[client]} (run: bash hack/peers/install.sh)`).toBe(true);
  });

  it.each(ACCEPTANCE_CLIENTS)('%s starts and reports its version', async (client) => {
    if (!available[client]) {
      if (allowMissing) return;
      expect.fail(`${client}: ${available.problems[client]}`);
    }
    const v = await clientVersion(client, 30_000);
    expect(v.ok, v.stderr).toBe(true);
    expect(v.version).not.toBe('');
  });
});

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

describe('acceptanceRecords', () => {
  it('is deterministic and prefix-stable', () => {
    const a = acceptanceRecords('java', 'zstd', 300);
    const b = acceptanceRecords('java', 'zstd', 100);
    expect(b).toEqual(a.slice(0, 100));
    expect(acceptanceRecords('java', 'zstd', 300)).toEqual(a);
    expect(acceptanceRecords('java', 'gzip', 10)).not.toEqual(a.slice(0, 10));
  });

  it.each(ACCEPTANCE_CLIENTS)('%s records fit what the client can carry', (client) => {
    const caps = CAPABILITIES[client];
    for (const codec of CODECS) {
      const recs = acceptanceRecords(client, codec, 400);
      expect(recs).toHaveLength(400);
      let binary = 0;
      recs.forEach((r, i) => {
        expect(r.index).toBe(i);
        expect(r.key.toString()).toBe(`key-${i}`);
        expect(r.value.length).toBeGreaterThanOrEqual(10);
        expect(r.value.length).toBeLessThanOrEqual(2000);
        expect(r.headers.length).toBeGreaterThanOrEqual(1);
        expect(r.headers.length).toBeLessThanOrEqual(3);
        expect(new Set(r.headers.map(([n]) => n)).size).toBe(r.headers.length);
        if (!isUtf8(r.value)) binary++;
        if (!caps.nullHeaderValues) expect(r.headers.every(([, v]) => v !== null)).toBe(true);
        if (!caps.perRecordHeaders) expect(r.headers).toEqual(kcatHeaders(codec));
        if (client === 'kcat') {
          expect(r.value.includes(KCAT_RECORD_DELIMITER)).toBe(false);
          expect(r.value.includes(KCAT_KEY_DELIMITER)).toBe(false);
        }
        if (client === 'console') {
          expect(r.value.toString('utf8')).not.toMatch(/[\r\n]/);
          expect(r.value.toString('utf8')).not.toBe(CONSOLE_NULL_MARKER);
          for (const [, v] of r.headers) if (v) expect(isUtf8(v) && !/[,\t\r\n]/.test(v.toString('utf8'))).toBe(true);
        }
      });
      // Binary clients get a good share of values that are not UTF-8; text-only clients none.
      if (caps.binaryValues) expect(binary).toBeGreaterThan(recs.length / 3);
      else expect(binary).toBe(0);
    }
  });
});

describe('roundTripProblems', () => {
  const records = acceptanceRecords('java', 'none', 6);
  const produced: Pick<ProduceReport, 'acked'> = {
    acked: records.map((r) => ({ index: r.index, partition: r.index % 2, offset: Math.floor(r.index / 2) })),
  };
  const asConsumed = (rs: AcceptanceRecord[]) =>
    rs.map((r) => ({
      offset: Math.floor(r.index / 2),
      keyHex: r.key.toString('hex'),
      valueHex: r.value.toString('hex'),
      headers: r.headers.map(([k, v]) => [k, v === null ? null : v.toString('hex')] as [string, string | null]),
    }));
  const consumed = (): Pick<ConsumeReport, 'partitions'> => ({
    partitions: [0, 1].map((p) => ({ partition: p, records: asConsumed(records.filter((r) => r.index % 2 === p)) })),
  });

  it('accepts an exact round trip', () => {
    expect(roundTripProblems(records, produced, consumed())).toEqual([]);
  });

  it('reports changed bytes, reordering and missing records', () => {
    const changed = consumed();
    const v = Buffer.from(changed.partitions[0]!.records[1]!.valueHex!, 'hex');
    v[v.length - 1] = v[v.length - 1]! ^ 0x01;
    changed.partitions[0]!.records[1]!.valueHex = v.toString('hex');
    expect(roundTripProblems(records, produced, changed).join()).toMatch(/value differs/);

    const swapped = consumed();
    swapped.partitions[1]!.records.reverse();
    expect(roundTripProblems(records, produced, swapped).join()).toMatch(/offset .* != /);

    const short = consumed();
    short.partitions[1]!.records.pop();
    expect(roundTripProblems(records, produced, short).join()).toMatch(/consumed 2 records, expected 3/);

    expect(roundTripProblems(records, { acked: produced.acked.slice(1) }, consumed()).join()).toMatch(/not acknowledged/);
  });
});
