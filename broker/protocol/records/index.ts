export * from './errors.js';
export * from './varint.js';
export * from './crc32c.js';
export * from './compression.js';
export * from './batch.js';
export * from './recompress.js';
