export * from './types.js';
export * from './codec.js';
export * from './log-io.js';
export * from './partition-for.js';
