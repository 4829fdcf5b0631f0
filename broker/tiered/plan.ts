// What tiered storage should do next for one partition, as pure functions of the local segments,
// the manifest and the clock: which closed segment to upload, and which remote segments retention
// removes. remote-log-manager.ts does the I/O.
import type { RemoteSegment } from './remote-segments.js';

export interface LocalSegmentInfo {
  baseOffset: number;
  /** One past the last offset. */
  nextOffset: number;
  sizeBytes: number;
}

/**
 * The next closed segment to upload, or null: the first one that continues the uploaded range
 * (`uploadedBelow`, the remote end + 1, or 0 when nothing was ever uploaded) and lies wholly below
 * the last stable offset, so nothing uncommitted or still open ever leaves the broker. A segment
 * wholly below the log start is never uploaded (DeleteRecords removed it).
 */
export function nextUpload(closed: readonly LocalSegmentInfo[], uploadedBelow: number, lastStableOffset: number, logStartOffset: number): LocalSegmentInfo | null {
  for (const seg of closed) {
    if (seg.nextOffset <= uploadedBelow || seg.nextOffset <= logStartOffset) continue;
    if (seg.nextOffset > lastStableOffset) return null;
    // With nothing uploaded yet the first segment starts the remote log wherever it starts;
    // afterwards a segment must begin exactly at the uploaded end (the manifest checks it too).
    if (uploadedBelow > 0 && seg.baseOffset !== uploadedBelow) return null;
    return seg;
  }
  return null;
}

/** Segments and bytes closed but not yet in the bucket (the upload backlog). */
export function uploadLag(closed: readonly LocalSegmentInfo[], uploadedBelow: number): { segments: number; bytes: number } {
  let segments = 0;
  let bytes = 0;
  for (const seg of closed) {
    if (seg.nextOffset <= uploadedBelow) continue;
    segments++;
    bytes += seg.sizeBytes;
  }
  return { segments, bytes };
}

export interface RemoteRetentionInput {
  /** The readable (copy-finished) segments, oldest first. */
  readable: readonly RemoteSegment[];
  nowMs: number;
  /** retention.ms (-1 = unlimited). */
  retentionMs: number;
  /** retention.bytes (-1 = unlimited). */
  retentionBytes: number;
  /** Bytes of the log held only locally: everything after the remote end, the active segment too. */
  localOnlyBytes: number;
  logStartOffset: number;
}

/**
 * The remote segments retention deletes, oldest first (the only order the manifest allows): those
 * wholly below the log start (DeleteRecords), then those whose newest record is older than
 * retention.ms, then the oldest while the whole log (remote plus local-only) still exceeds
 * retention.bytes without them, as Kafka's RemoteLogManager counts it. A segment without
 * timestamps ages from when its upload finished.
 */
export function remoteRetention(input: RemoteRetentionInput): { segments: RemoteSegment[]; reasons: string[] } {
  const out: RemoteSegment[] = [];
  const reasons: string[] = [];
  let total = input.localOnlyBytes;
  for (const s of input.readable) total += s.sizeBytes;
  for (const s of input.readable) {
    let reason: string | null = null;
    if (s.endOffset < input.logStartOffset) reason = 'log start offset';
    else if (input.retentionMs >= 0 && input.nowMs - (s.maxTimestampMs >= 0 ? s.maxTimestampMs : s.stateChangedMs) > input.retentionMs) reason = 'retention.ms';
    else if (input.retentionBytes >= 0 && total - s.sizeBytes >= input.retentionBytes) reason = 'retention.bytes';
    if (reason === null) break;
    out.push(s);
    reasons.push(reason);
    total -= s.sizeBytes;
  }
  return { segments: out, reasons };
}

/** Exponential back-off with jitter for the `failures`-th failure in a row (1-based). */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  // ±20%, so partitions that failed together do not retry in lockstep.
  return Math.max(1, Math.round(Math.min(maxMs, exp * (0.8 + 0.4 * random()))));
}
