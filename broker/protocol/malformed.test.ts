// Malformed input decodes to a clean, coded error: never a crash of another kind, never a hang, and
// never an allocation sized by a length the frame claims but does not hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedRequestError, decodeRequestFrame, encodeRequestFrame } from './frame.js';
import { API_SPECS, ApiKey, apiSpec, defaultMetadataRequest, defaultProduceRequest } from './generated/index.js';
import { ProtocolDecodeError, Reader } from './primitives.js';

/** A whole request frame body (without the size prefix). */
function frameOf(apiKey: number, version: number, body: unknown, clientId: string | null = 'c'): Buffer {
  return Buffer.concat(encodeRequestFrame(apiSpec(apiKey)!, version, 7, clientId, body)).subarray(4);
}

/** Decoding either succeeds or fails with one of the two coded errors; anything else is a bug. */
function decodeCleanly(frame: Buffer): 'ok' | 'decode' | 'unsupported' {
  try {
    decodeRequestFrame(frame);
    return 'ok';
  } catch (e) {
    if (e instanceof ProtocolDecodeError) return 'decode';
    if (e instanceof UnsupportedRequestError) return 'unsupported';
    throw e;
  }
}

function expectDecodeError(frame: Buffer, message: RegExp): void {
  expect(() => decodeRequestFrame(frame)).toThrow(ProtocolDecodeError);
  expect(() => decodeRequestFrame(frame)).toThrow(message);
}

/** Runs `fn` and returns how much the heap and array buffers grew meanwhile. */
function growthBytes(fn: () => void): number {
  const before = process.memoryUsage();
  fn();
  const after = process.memoryUsage();
  return after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
}

const metadataV12 = frameOf(ApiKey.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }] });
const metadataV4 = frameOf(ApiKey.Metadata, 4, { ...defaultMetadataRequest(), topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }] });

describe('truncated frames', () => {
  it('every prefix of a valid request fails cleanly', () => {
    const frames = [
      metadataV4,
      metadataV12,
      frameOf(ApiKey.Produce, 9, {
        ...defaultProduceRequest(),
        topicData: [{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: 0, records: Buffer.alloc(100, 1) }] }],
      }),
    ];
    for (const frame of frames) {
      expect(decodeCleanly(frame)).toBe('ok');
      for (let n = 0; n < frame.length; n++) expect(decodeCleanly(frame.subarray(0, n))).toBe('decode');
    }
  });

  it('bytes left over after the body are an error, not ignored', () => {
    expectDecodeError(Buffer.concat([metadataV4, Buffer.from([0])]), /1 bytes left over after the Metadata v4 body/);
  });
});

describe('lengths past the end and negative lengths', () => {
  // Metadata v4 layout after the header (2+2+4 bytes, then client id 'c' as int16 length + 1 byte):
  // topics int32 count, then per topic a string (int16 length), then allowAutoTopicCreation.
  const bodyAt = 8 + 2 + 1;

  it('a string that claims more bytes than the frame holds', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt16BE(30000, bodyAt + 4);
    expectDecodeError(f, /string claims 30000 bytes but \d+ are left/);
  });

  it('a negative string length other than -1', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt16BE(-2, bodyAt + 4);
    expectDecodeError(f, /negative length -2/);
  });

  it('a null (-1) string where the field is not nullable', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt16BE(-1, bodyAt + 4);
    expectDecodeError(f, /null but the field is not nullable/);
  });

  it('a negative array count other than -1', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt32BE(-7, bodyAt);
    expectDecodeError(f, /negative length -7/);
  });

  it('a negative client id length other than -1 in the header', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt16BE(-3, 8);
    expectDecodeError(f, /negative length -3/);
  });

  it('a compact length past the end in a flexible version', () => {
    // Metadata v12 body starts after the header: api/version/correlation (8), client id 'c' (3), tags (1).
    const f = Buffer.from(metadataV12);
    const topicsAt = 8 + 3 + 1;
    expect(f[topicsAt]).toBe(2); // compact count 1 + 1
    f[topicsAt + 1 + 16] = 100; // the topic name's compact length: 99 bytes claimed
    expectDecodeError(f, /compact string claims 99 bytes/);
  });
});

describe('array counts in the billions', () => {
  it('a classic int32 count is refused before any element is read or allocated', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt32BE(2_000_000_000, 8 + 2 + 1);
    let thrown: unknown;
    const grew = growthBytes(() => {
      try {
        decodeRequestFrame(f);
      } catch (e) {
        thrown = e;
      }
    });
    expect(thrown).toBeInstanceOf(ProtocolDecodeError);
    expect(String(thrown)).toMatch(/claims 2000000000 elements but only \d+ bytes are left/);
    // A preallocated array of 2e9 slots would be gigabytes; the refusal costs next to nothing.
    expect(grew).toBeLessThan(16 * 1024 * 1024);
  });

  it('a compact uvarint count near 2^32 is refused the same way', () => {
    const head = metadataV12.subarray(0, 8 + 3 + 1);
    const f = Buffer.concat([head, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(10)]);
    expectDecodeError(f, /claims 4294967294 elements/);
  });

  it('a varint longer than five bytes is malformed, not looped over', () => {
    const head = metadataV12.subarray(0, 8 + 3 + 1);
    expectDecodeError(Buffer.concat([head, Buffer.alloc(12, 0xff)]), /unsigned varint/);
  });

  it('a tagged field whose size runs past the end', () => {
    // Metadata v12: replace the body with topics=null, two booleans, then a tag section claiming 200 bytes.
    const head = metadataV12.subarray(0, 8 + 3 + 1);
    const f = Buffer.concat([head, Buffer.from([0, 1, 1, 1, 5, 200, 1])]);
    expectDecodeError(f, /tagged field claims 200 bytes/);
  });
});

describe('unknown api keys and versions', () => {
  it('are reported with what is needed to answer them', () => {
    const f = Buffer.from(metadataV4);
    f.writeInt16BE(9999, 0);
    expect(() => decodeRequestFrame(f)).toThrow(UnsupportedRequestError);
    f.writeInt16BE(ApiKey.Metadata, 0);
    f.writeInt16BE(99, 2);
    try {
      decodeRequestFrame(f);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnsupportedRequestError);
      const u = e as UnsupportedRequestError;
      expect([u.apiKey, u.apiVersion, u.correlationId, u.knownApi]).toEqual([ApiKey.Metadata, 99, 7, true]);
    }
  });
});

describe('random and mutated input', () => {
  const valid = API_SPECS.flatMap((spec) => {
    const out: Buffer[] = [];
    for (const v of [spec.minVersion, spec.maxVersion]) out.push(frameOf(spec.apiKey, v, spec.defaultRequest()));
    return out;
  });

  it('random bytes after a valid api key and version never escape as other errors', () => {
    fc.assert(
      fc.property(fc.constantFrom(...API_SPECS), fc.nat(20), fc.uint8Array({ maxLength: 300 }), (spec, dv, tail) => {
        const head = Buffer.alloc(8);
        head.writeInt16BE(spec.apiKey, 0);
        head.writeInt16BE(Math.min(spec.maxVersion, spec.minVersion + dv), 2);
        decodeCleanly(Buffer.concat([head, tail]));
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('bit flips and byte overwrites of valid frames never escape as other errors', () => {
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), (frame, at, byte) => {
        const f = Buffer.from(frame);
        f[at % f.length] = byte;
        decodeCleanly(f);
      }),
      { numRuns: 5000, seed: 43 },
    );
  });

  it('a Reader never reads outside its window', () => {
    const buf = Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const r = new Reader(buf, 0, 6); // the window holds the length and two bytes only
    expect(() => r.bytes()).toThrow(/claims 9 bytes but 2 are left/);
  });
});
