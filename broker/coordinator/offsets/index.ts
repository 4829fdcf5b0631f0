export * from './offset-store.js';
export * from './expiry.js';
