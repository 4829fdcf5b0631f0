// The remote segment state machine: legal and illegal transitions, the contiguous readable range,
// lookups, and the manifest codec refusing what it cannot trust.
import { describe, expect, it } from 'vitest';
import {
  checkManifest,
  decodeManifest,
  emptyManifest,
  encodeManifest,
  finishCopy,
  finishDelete,
  ManifestError,
  type PartitionManifest,
  readable,
  remoteEndOffset,
  remoteStartOffset,
  segmentFor,
  startCopy,
  startDelete,
} from './remote-segments.js';

const seg = (id: string, baseOffset: number, endOffset: number) => ({ id, baseOffset, endOffset, maxTimestampMs: 1000 + endOffset, sizeBytes: 100 * (endOffset - baseOffset + 1), leaderEpochs: [{ epoch: 0, startOffset: baseOffset }] });

function uploaded(...ranges: [string, number, number][]): PartitionManifest {
  let m = emptyManifest('topic-id', 3);
  for (const [id, b, e] of ranges) m = finishCopy(startCopy(m, seg(id, b, e), 1), id, 2);
  return m;
}

describe('remote segments', () => {
  it('moves a segment through copy-started, copy-finished, delete-started and out, a generation per change', () => {
    let m = emptyManifest('topic-id', 3);
    m = startCopy(m, seg('a', 0, 99), 10);
    expect(m.generation).toBe(1);
    expect(readable(m)).toEqual([]);
    expect(remoteEndOffset(m)).toBeNull();
    m = finishCopy(m, 'a', 11);
    expect(readable(m).map((s) => [s.id, s.state, s.stateChangedMs])).toEqual([['a', 'copy-finished', 11]]);
    expect([remoteStartOffset(m), remoteEndOffset(m)]).toEqual([0, 99]);
    m = startDelete(m, 'a', 12);
    expect(readable(m)).toEqual([]);
    m = finishDelete(m, 'a');
    expect(m.segments).toEqual([]);
    expect(m.generation).toBe(4);
  });

  it('keeps the readable range contiguous: a new segment must start right after it', () => {
    const m = uploaded(['a', 0, 99], ['b', 100, 149]);
    expect(() => startCopy(m, seg('c', 151, 200), 1)).toThrow(/does not follow the remote log, which ends at 149/);
    expect(() => startCopy(m, seg('c', 120, 200), 1)).toThrow(ManifestError);
    expect(readable(startCopy(m, seg('c', 150, 200), 1))).toHaveLength(2);
  });

  it('allows one upload at a time, and a retry only after the failed attempt is abandoned', () => {
    let m = startCopy(uploaded(['a', 0, 99]), seg('try-1', 100, 199), 1);
    expect(() => startCopy(m, seg('try-2', 100, 199), 1)).toThrow(/already under way/);
    m = startDelete(m, 'try-1', 2);
    m = startCopy(m, seg('try-2', 100, 199), 3);
    m = finishCopy(m, 'try-2', 4);
    expect(readable(m).map((s) => s.id)).toEqual(['a', 'try-2']);
    expect(m.segments.find((s) => s.id === 'try-1')?.state).toBe('delete-started');
    expect(() => startCopy(m, seg('try-2', 200, 299), 5)).toThrow(/already used/);
  });

  it('deletes readable segments oldest first only', () => {
    const m = uploaded(['a', 0, 99], ['b', 100, 199], ['c', 200, 299]);
    expect(() => startDelete(m, 'b', 1)).toThrow(/not the oldest readable/);
    const after = startDelete(m, 'a', 1);
    expect([remoteStartOffset(after), remoteEndOffset(after)]).toEqual([100, 299]);
    expect(startDelete(after, 'a', 2)).toBe(after);
    expect(() => finishDelete(m, 'a')).toThrow(/not delete-started/);
    expect(() => finishCopy(m, 'a', 1)).toThrow(/not copy-started/);
    expect(() => finishCopy(m, 'nope', 1)).toThrow(/no remote segment nope/);
  });

  it('finds the readable segment holding an offset', () => {
    const m = uploaded(['a', 0, 99], ['b', 100, 199], ['c', 200, 299]);
    expect([0, 99, 100, 150, 299].map((o) => segmentFor(m, o)?.id)).toEqual(['a', 'a', 'b', 'b', 'c']);
    expect(segmentFor(m, 300)).toBeNull();
    expect(segmentFor(startDelete(m, 'a', 1), 50)).toBeNull();
  });

  it('round-trips through its encoding, and refuses manifests that are not JSON, lack fields or break the rules', () => {
    const m = uploaded(['a', 0, 99], ['b', 100, 199]);
    expect(decodeManifest(encodeManifest(m), 'm')).toEqual(m);
    expect(() => decodeManifest(Buffer.from('{"trunc'), 'x.json')).toThrow(/x.json is not JSON/);
    expect(() => decodeManifest(Buffer.from('{"format":1}'), 'x.json')).toThrow(/does not have a manifest's fields/);
    const gap = { ...m, segments: [m.segments[0]!, { ...m.segments[1]!, baseOffset: 101 }] };
    expect(() => checkManifest(gap)).toThrow(/not contiguous: 99 then 101/);
    const twice = { ...m, segments: [m.segments[0]!, { ...m.segments[0]!, baseOffset: 100, endOffset: 100 }] };
    expect(() => checkManifest(twice)).toThrow(/appears twice/);
    expect(() => checkManifest({ ...m, segments: [{ ...m.segments[0]!, id: '../x' }] })).toThrow(/not a plain id/);
    expect(() => checkManifest({ ...m, segments: [{ ...m.segments[0]!, endOffset: -1 }] })).toThrow(/endOffset/);
    expect(() => checkManifest({ ...m, format: 2 as 1 })).toThrow(/unknown manifest format/);
  });
});
