// Every message of the definitions, at every valid version, round-trips through its generated codec:
// decode(encode(v)) equals v, and encode(decode(bytes)) gives the same bytes back. Values are drawn by
// fast-check from the generated schema table, so a new field or version is covered without edits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as generated from './generated/index.js';
import { type FieldSchema, type MessageSchema, MESSAGE_SCHEMAS } from './generated/index.js';
import { ProtocolDecodeError, Reader, Writer } from './primitives.js';

type Codec = { encode: (w: Writer, v: unknown, version: number) => void; decode: (r: Reader, version: number) => unknown };

function codecOf(name: string): Codec {
  const exports = generated as unknown as Record<string, unknown>;
  const encode = exports[`encode${name}`];
  const decode = exports[`decode${name}`];
  if (typeof encode !== 'function' || typeof decode !== 'function') throw new Error(`no codec exported for ${name}`);
  return { encode: encode as Codec['encode'], decode: decode as Codec['decode'] };
}

const inRange = (r: readonly [number, number] | null, v: number) => r !== null && v >= r[0] && v <= r[1];

function defaultStruct(m: MessageSchema, struct: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of m.structs[struct]!) out[f.prop] = defaultOf(m, f);
  return out;
}

function defaultOf(m: MessageSchema, f: FieldSchema): unknown {
  const d = f.defaultValue();
  if (d !== null && typeof d === 'object' && '__default' in d) return defaultStruct(m, (d as { __default: string }).__default);
  return d;
}

const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
const bytesArb = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
const stringArb = fc.string({ unit: 'grapheme', maxLength: 12 });

function scalarArb(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64':
      return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    case 'float64':
      return fc.double();
    case 'string':
      return stringArb;
    case 'uuid':
      return uuidArb;
    case 'bytes':
    case 'records':
      return bytesArb;
  }
  throw new Error(`no arbitrary for ${type}`);
}

function structArb(m: MessageSchema, struct: string, version: number, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of m.structs[struct]!) {
    if (!inRange(f.versions, version)) {
      record[f.prop] = fc.constant(defaultOf(m, f));
      continue;
    }
    let elem: fc.Arbitrary<unknown> = f.type === 'struct' ? structArb(m, f.struct!, version, depth + 1) : scalarArb(f.type);
    if (f.isArray) elem = fc.array(elem, { maxLength: depth >= 2 ? 1 : 3 });
    record[f.prop] = inRange(f.nullable, version) ? fc.option(elem, { nil: null, freq: 4 }) : elem;
  }
  return fc.record(record);
}

/** Drops the `unknownTaggedFields: undefined` the decoder sets, so values compare by content. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plain(x);
    return out;
  }
  return v;
}

function roundTrip(codec: Codec, value: unknown, version: number): void {
  const w = new Writer();
  codec.encode(w, value, version);
  const bytes = w.toBuffer();
  const r = new Reader(bytes);
  const decoded = codec.decode(r, version);
  expect(r.remaining()).toBe(0);
  expect(plain(decoded)).toEqual(plain(value));
  const again = new Writer();
  codec.encode(again, decoded, version);
  expect(again.toBuffer().equals(bytes)).toBe(true);
}

describe('generated codecs round-trip every message at every version', () => {
  for (const m of MESSAGE_SCHEMAS) {
    it(`${m.name} v${m.versions[0]}-${m.versions[1]}`, () => {
      const codec = codecOf(m.name);
      for (let version = m.versions[0]; version <= m.versions[1]; version++) {
        fc.assert(
          fc.property(structArb(m, m.name, version, 0), (value) => roundTrip(codec, value, version)),
          { numRuns: 25, seed: 0x5747a7a ^ version },
        );
        // The all-defaults value must round-trip too: it is what handlers start from.
        roundTrip(codec, defaultStruct(m, m.name), version);
      }
    });
  }
});

describe('tagged fields', () => {
  it('keeps unknown tags through a decode/encode trip and skips them safely', () => {
    // MetadataRequest is flexible from v9: append two tags no version defines.
    const base = new Writer();
    generated.encodeMetadataRequest(base, { ...generated.defaultMetadataRequest(), topics: null }, 12);
    const bytes = base.toBuffer();
    // Replace the trailing empty tag section (0x00) by one with tags 7 and 9.
    expect(bytes[bytes.length - 1]).toBe(0);
    const tagged = Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([2, 7, 2, 0xaa, 0xbb, 9, 0])]);
    const r = new Reader(tagged);
    const decoded = generated.decodeMetadataRequest(r, 12);
    expect(r.remaining()).toBe(0);
    expect(decoded.unknownTaggedFields?.map((t) => [t.tag, [...t.data]])).toEqual([
      [7, [0xaa, 0xbb]],
      [9, []],
    ]);
    const w = new Writer();
    generated.encodeMetadataRequest(w, decoded, 12);
    expect(w.toBuffer().equals(tagged)).toBe(true);
  });

  it('writes known and unknown tags in ascending tag order', () => {
    // ApiVersionsResponse v3 knows tags 0-3 (0 and 1 set here); tag 9 is unknown to it.
    const v = {
      ...generated.defaultApiVersionsResponse(),
      supportedFeatures: [{ name: 'f', minVersion: 1, maxVersion: 2 }],
      unknownTaggedFields: [{ tag: 9, data: Buffer.from([0xee]) }],
      finalizedFeaturesEpoch: 5n,
    };
    const w = new Writer();
    generated.encodeApiVersionsResponse(w, v, 3);
    const bytes = w.toBuffer();
    // The body's last field is the tagged section; its tags, in order, must be 0 (features), 1
    // (epoch), 9. Walk the section from its start: errorCode(2) + apiKeys(1: empty compact array)
    // + throttleTimeMs(4) = 7 bytes.
    const r = new Reader(bytes, 7);
    const count = r.uvarint();
    const tags: number[] = [];
    for (let i = 0; i < count; i++) {
      tags.push(r.uvarint());
      r.pos = r.taggedFieldEnd();
    }
    expect(r.remaining()).toBe(0);
    expect(tags).toEqual([0, 1, 9]);
  });

  it('refuses to write one tag twice', () => {
    const v = { ...generated.defaultApiVersionsResponse(), finalizedFeaturesEpoch: 5n, unknownTaggedFields: [{ tag: 1, data: Buffer.from([1]) }] };
    expect(() => generated.encodeApiVersionsResponse(new Writer(), v, 3)).toThrow(/tag 1 is written twice/);
  });

  it('caps how many unknown tags one frame may carry', () => {
    // A MetadataRequest v12 whose tag section holds 5000 empty unknown tags.
    const base = new Writer();
    generated.encodeMetadataRequest(base, { ...generated.defaultMetadataRequest(), topics: null }, 12);
    const body = base.toBuffer().subarray(0, -1);
    const tags = new Writer();
    tags.uvarint(5000);
    for (let i = 0; i < 5000; i++) {
      tags.uvarint(100 + i);
      tags.uvarint(0);
    }
    const frame = Buffer.concat([body, tags.toBuffer()]);
    expect(() => generated.decodeMetadataRequest(new Reader(frame), 12)).toThrow(/more than 4096 unknown tagged fields/);
  });

  it('rejects a known tag that overruns its declared size', () => {
    // ApiVersionsResponse v3, tag 1 (FinalizedFeaturesEpoch, int64) declared as 2 bytes.
    const w = new Writer();
    generated.encodeApiVersionsResponse(w, generated.defaultApiVersionsResponse(), 3);
    const bytes = w.toBuffer();
    const bad = Buffer.concat([bytes.subarray(0, bytes.length - 1), Buffer.from([1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 5])]);
    expect(() => generated.decodeApiVersionsResponse(new Reader(bad), 3)).toThrow(ProtocolDecodeError);
  });
});

describe('encoding refuses what a version cannot carry', () => {
  it('a non-default value in a field the version lacks', () => {
    // ProduceResponse.NodeEndpoints is a tagged field from v10 and not ignorable.
    const v = generated.defaultProduceResponse();
    v.nodeEndpoints = [{ nodeId: 1, host: 'h', port: 9092, rack: null }];
    expect(() => generated.encodeProduceResponse(new Writer(), v, 9)).toThrow(/not supported at version 9/);
    expect(() => generated.encodeProduceResponse(new Writer(), v, 10)).not.toThrow();
  });

  it('a set tagged field, or unknown tags, below the flexible versions', () => {
    const v = generated.defaultProduceResponse();
    v.nodeEndpoints = [{ nodeId: 1, host: 'h', port: 9092, rack: null }];
    expect(() => generated.encodeProduceResponse(new Writer(), v, 8)).toThrow(/nodeEndpoints is not supported at version 8/);
    const u = { ...generated.defaultProduceResponse(), unknownTaggedFields: [{ tag: 50, data: Buffer.alloc(0) }] };
    expect(() => generated.encodeProduceResponse(new Writer(), u, 8)).toThrow(/cannot carry/);
    expect(() => generated.encodeProduceResponse(new Writer(), u, 9)).not.toThrow();
  });

  it('a compact string longer than Kafka allows any string', () => {
    const v = { ...generated.defaultCreateTopicsResponse(), topics: [{ ...generated.defaultCreateTopicsResponseCreatableTopicResult(), errorMessage: 'x'.repeat(40_000) }] };
    expect(() => generated.encodeCreateTopicsResponse(new Writer(), v, 5)).toThrow(/exceeds the 32767-byte string limit/);
    const w = new Writer();
    w.uvarint(40_001);
    w.raw(Buffer.alloc(40_000, 0x61));
    expect(() => new Reader(w.toBuffer()).compactString()).toThrow(/exceeds the 32767-byte string limit/);
  });

  it('a null where the version is not nullable', () => {
    const v = { ...generated.defaultMetadataRequest(), topics: null };
    expect(() => generated.encodeMetadataRequest(new Writer(), v, 0)).toThrow(/null/);
    expect(() => generated.encodeMetadataRequest(new Writer(), v, 1)).not.toThrow();
  });
});
