// Producer ids for idempotent producers. Partition logs keep sequence state per producer id across
// restarts, so an id must never be handed out twice. Ids are reserved in blocks: the end of the
// current block is written (atomically, fsynced) before any id from it is used, and a restart
// starts at the next block, skipping the unused rest of the old one.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

const FILE = 'producer-ids.json';
const BLOCK_SIZE = 1000n;

export class ProducerIdManager {
  private next: bigint;
  private blockEnd: bigint;
  private readonly file: string;

  constructor(logDir: string) {
    this.file = path.join(logDir, FILE);
    const reserved = existsSync(this.file) ? BigInt((JSON.parse(readFileSync(this.file, 'utf8')) as { reservedUpTo: string }).reservedUpTo) : 0n;
    this.next = reserved;
    this.blockEnd = reserved;
  }

  nextId(): bigint {
    if (this.next >= this.blockEnd) this.reserve(this.next + BLOCK_SIZE);
    return this.next++;
  }

  private reserve(upTo: bigint): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ reservedUpTo: upTo.toString() }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    this.blockEnd = upTo;
  }
}
