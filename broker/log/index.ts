// The partition log's public surface; the rest of the broker imports from here.
export { PartitionLog, type PartitionLogOptions, type CompactOptions, type CompactionResult } from './partition-log.js';
export { LogError, LogErrorCode, type LogErrorName } from './errors.js';
export {
  DEFAULT_LOG_CONFIG,
  validateLogConfig,
  type AppendResult,
  type EpochEndOffset,
  type FaultInjector,
  type FaultPoint,
  type LoadReport,
  type LogConfig,
  type LogLogger,
  type Offset,
  type ReadResult,
  type TimestampAndOffset,
} from './types.js';
export type { SegmentState } from './segment.js';
