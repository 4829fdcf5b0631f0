import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c } from './crc32c.js';

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  it('is 0 for no bytes', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('matches the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
  });

  it('returns an unsigned 32-bit number', () => {
    const value = crc32c(Buffer.from('123456789', 'ascii'));
    expect(value).toBeGreaterThan(0x7fffffff);
    expect(value >>> 0).toBe(value);
  });

  it('reads only the bytes of a view', () => {
    const backing = Buffer.from('xx123456789yy', 'ascii');
    expect(crc32c(backing.subarray(2, 11))).toBe(0xe3069283);
  });

  it('continues a running checksum across pieces (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(), (bytes, cut) => {
        const buf = Buffer.from(bytes);
        const at = buf.length === 0 ? 0 : cut % (buf.length + 1);
        expect(crc32c(buf.subarray(at), crc32c(buf.subarray(0, at)))).toBe(crc32c(buf));
      }),
    );
  });
});
