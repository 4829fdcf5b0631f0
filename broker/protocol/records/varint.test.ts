import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CorruptRecordError } from './errors.js';
import {
  cursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from './varint.js';

function encodeInt(value: number): string {
  const buf = Buffer.alloc(sizeOfVarint(value));
  expect(writeVarint(buf, 0, value)).toBe(buf.length);
  return buf.toString('hex');
}

function encodeLong(value: bigint): string {
  const buf = Buffer.alloc(sizeOfVarlong(value));
  expect(writeVarlong(buf, 0, value)).toBe(buf.length);
  return buf.toString('hex');
}

describe('varint (zig-zag int32)', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [300, 'd804'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ])('encodes %d as %s and back', (value, hex) => {
    expect(encodeInt(value)).toBe(hex);
    const c = cursor(Buffer.from(hex, 'hex'));
    expect(readVarint(c)).toBe(value);
    expect(c.pos).toBe(hex.length / 2);
  });

  it('fails cleanly on truncation', () => {
    for (const hex of ['', '80', 'ffff', 'ffffffff']) {
      expect(() => readVarint(cursor(Buffer.from(hex, 'hex')))).toThrow(CorruptRecordError);
    }
  });

  it('stops after 5 bytes', () => {
    const c = cursor(Buffer.from('80808080808080808001', 'hex'));
    expect(() => readVarint(c)).toThrow(/overflows 32 bits/);
    expect(c.pos).toBe(0);
  });

  it('rejects bits past 32 in the fifth byte', () => {
    expect(() => readVarint(cursor(Buffer.from('ffffffff1f', 'hex')))).toThrow(CorruptRecordError);
  });

  it('honours the cursor end, not the buffer end', () => {
    const buf = Buffer.from('8001', 'hex');
    expect(() => readVarint(cursor(buf, 0, 1))).toThrow(/truncated varint/);
  });

  it('leaves the cursor untouched on failure', () => {
    const c = cursor(Buffer.from('0280', 'hex'));
    expect(readVarint(c)).toBe(1);
    expect(() => readVarint(c)).toThrow(CorruptRecordError);
    expect(c.pos).toBe(1);
  });

  it('rejects non-int32 values on write', () => {
    for (const v of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) {
      expect(() => sizeOfVarint(v)).toThrow(RangeError);
      expect(() => writeVarint(Buffer.alloc(10), 0, v)).toThrow(RangeError);
    }
  });

  it('round trips every int32 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
        const buf = Buffer.alloc(5);
        const end = writeVarint(buf, 0, v);
        expect(end).toBe(sizeOfVarint(v));
        const c = cursor(buf, 0, end);
        expect(readVarint(c)).toBe(v);
        expect(c.pos).toBe(end);
      }),
    );
  });
});

describe('varlong (zig-zag int64)', () => {
  it.each([
    [0n, '00'],
    [-1n, '01'],
    [1n, '02'],
    [64n, '8001'],
    [2147483647n, 'feffffff0f'],
    [2147483648n, '8080808010'],
    [-2147483649n, '8180808010'],
    [1700000000000n, '80a0abfef962'],
    [9223372036854775807n, 'feffffffffffffffff01'],
    [-9223372036854775808n, 'ffffffffffffffffff01'],
  ])('encodes %d as %s and back', (value, hex) => {
    expect(encodeLong(value)).toBe(hex);
    const c = cursor(Buffer.from(hex, 'hex'));
    expect(readVarlong(c)).toBe(value);
    expect(c.pos).toBe(hex.length / 2);
  });

  it('fails cleanly on truncation at every length', () => {
    const full = Buffer.from('feffffffffffffffff01', 'hex');
    for (let n = 0; n < full.length; n++) {
      expect(() => readVarlong(cursor(full.subarray(0, n)))).toThrow(CorruptRecordError);
    }
  });

  it('stops after 10 bytes', () => {
    expect(() => readVarlong(cursor(Buffer.alloc(64, 0x80)))).toThrow(/overflows 64 bits/);
  });

  it('rejects bits past 64 in the tenth byte', () => {
    expect(() => readVarlong(cursor(Buffer.from('ffffffffffffffffff03', 'hex')))).toThrow(CorruptRecordError);
  });

  it('rejects non-int64 values on write', () => {
    expect(() => sizeOfVarlong(1n << 63n)).toThrow(RangeError);
    expect(() => writeVarlong(Buffer.alloc(10), 0, -(1n << 63n) - 1n)).toThrow(RangeError);
  });

  it('round trips every int64 (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
        const buf = Buffer.alloc(10);
        const end = writeVarlong(buf, 0, v);
        expect(end).toBe(sizeOfVarlong(v));
        const c = cursor(buf, 0, end);
        expect(readVarlong(c)).toBe(v);
        expect(c.pos).toBe(end);
      }),
    );
  });

  it('reads a varint encoding as the same varlong', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
        const buf = Buffer.alloc(5);
        const end = writeVarint(buf, 0, v);
        expect(readVarlong(cursor(buf, 0, end))).toBe(BigInt(v));
      }),
    );
  });
});
