// Producer ids for idempotent producers. Partition logs keep sequence state per producer id across
// restarts, so an id must never be handed out twice. Ids are reserved in blocks: the end of the
// current block is written (atomically, fsynced, to every online log directory) before any id from
// it is used, and a restart starts at the next block after the highest copy, skipping the unused
// rest of the old one. Losing any one directory therefore never hands an id out twice.
import type { LogDirectories } from '../log/log-dirs.js';

const FILE = 'producer-ids.json';
const BLOCK_SIZE = 1000n;

interface Stored {
  reservedUpTo: string;
}

export class ProducerIdManager {
  private next: bigint;
  private blockEnd: bigint;

  constructor(private readonly dirs: LogDirectories) {
    const stored = dirs.readNewest<Stored>(FILE, (s) => Number(BigInt(s.reservedUpTo)));
    const reserved = stored === null ? 0n : BigInt(stored.reservedUpTo);
    this.next = reserved;
    this.blockEnd = reserved;
  }

  nextId(): bigint {
    if (this.next >= this.blockEnd) this.reserve(this.next + BLOCK_SIZE);
    return this.next++;
  }

  private reserve(upTo: bigint): void {
    const stored: Stored = { reservedUpTo: upTo.toString() };
    this.dirs.writeEverywhere(FILE, JSON.stringify(stored));
    this.blockEnd = upTo;
  }
}
