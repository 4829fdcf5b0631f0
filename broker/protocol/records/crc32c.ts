// CRC-32C (Castagnoli), the checksum of v2 record batches. The native implementation uses the SSE4.2 /
// ARMv8 CRC instructions; see docs/performance.md for why a JavaScript table is not an option.

import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/**
 * CRC-32C of `data`, as an unsigned 32-bit number. `previous` continues a running checksum, so a
 * region may be fed in pieces: crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  return nativeCrc32c(data, previous) >>> 0;
}
