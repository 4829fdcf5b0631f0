import { describe, expect, it } from 'vitest';
import { javaStringHashCode, kafkaAbs, partitionFor } from './partition-for.js';

// Computed with the JDK and Kafka 4.1.1's Utils.abs (a throwaway Java program):
//   id.hashCode(), then Utils.abs(id.hashCode()) % n for n = 50, 1, 7, 64.
const KNOWN: [id: string, hash: number, p50: number, p1: number, p7: number, p64: number][] = [
  ['', 0, 0, 0, 0, 0],
  ['g1', 3242, 42, 0, 1, 42],
  ['my-group', -1906497762, 12, 0, 1, 34],
  ['console-consumer-12345', 158455506, 6, 0, 6, 18],
  // Its hash is Integer.MIN_VALUE, whose Math.abs stays negative; Kafka's Utils.abs maps it to 0.
  ['polygenelubricants', -2147483648, 0, 0, 0, 0],
  ['grüppe', -1233264812, 12, 0, 3, 44],
  // A surrogate pair: Java hashes UTF-16 code units, not code points or UTF-8 bytes.
  ['組-🚀', 957154060, 10, 0, 2, 12],
  ['AaAaAaAa', -540425984, 34, 0, 0, 0],
];

describe('partitionFor (the __consumer_offsets partition of a group)', () => {
  for (const [id, hash, p50, p1, p7, p64] of KNOWN) {
    it(`'${id}' lands where Kafka puts it`, () => {
      expect(javaStringHashCode(id)).toBe(hash);
      expect([50, 1, 7, 64].map((n) => partitionFor(id, n))).toEqual([p50, p1, p7, p64]);
    });
  }

  it('Utils.abs maps Integer.MIN_VALUE to 0 and leaves other values positive', () => {
    expect(kafkaAbs(-0x8000_0000)).toBe(0);
    expect(kafkaAbs(-5)).toBe(5);
    expect(kafkaAbs(0x7fff_ffff)).toBe(0x7fff_ffff);
  });

  it('refuses a partition count that is not a positive int32', () => {
    expect(() => partitionFor('g', 0)).toThrow(RangeError);
    expect(() => partitionFor('g', 1.5)).toThrow(RangeError);
  });
});
