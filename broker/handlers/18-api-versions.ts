// ApiVersions (key 18), v0-4. Answers from the router's own table, so what is advertised is exactly
// what is served. A request at a version this broker does not know gets a v0 body with
// UNSUPPORTED_VERSION and the full list (handled in the router, since such a request cannot be
// decoded); clients then retry with a version from the list.
import type * as G from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';

export function advertised(handlers: readonly ApiHandler[]): G.ApiVersionsResponseApiVersion[] {
  return handlers.map((h) => ({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }));
}

export function apiVersionsHandler(table: () => readonly ApiHandler[]): ApiHandler {
  return {
    apiKey: 18,
    minVersion: 0,
    maxVersion: 4,
    handle: (_ctx: BrokerContext, _req: G.ApiVersionsRequest): G.ApiVersionsResponse => ({
      errorCode: ErrorCode.NONE,
      apiKeys: advertised(table()),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }),
  };
}
