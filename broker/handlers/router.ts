// The one flat table from API key to handler. It decodes a frame with the generated codecs, calls
// the handler, and encodes its answer. ApiVersions answers from this same table, so what is
// advertised is what is served. Whatever cannot be decoded or is not served closes only the
// connection it came on (CloseConnectionError); an ApiVersions request at an unknown version gets
// Kafka's v0 fallback answer instead.
import { CloseConnectionError, type FrameResult } from '../net/connection.js';
import { UnsupportedRequestError, decodeRequestFrame, encodeResponseFrame, peekRequestHeader } from '../protocol/frame.js';
import { ApiKey, apiSpec } from '../protocol/generated/index.js';
import { ProtocolDecodeError } from '../protocol/primitives.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';
import { advertised, apiVersionsHandler } from './18-api-versions.js';

export class Router {
  private readonly byKey: (ApiHandler | undefined)[] = [];
  private readonly sorted: ApiHandler[];

  constructor(handlers: readonly ApiHandler[]) {
    const all = [...handlers, apiVersionsHandler(() => this.sorted)];
    for (const h of all) {
      const spec = apiSpec(h.apiKey);
      if (spec === undefined || h.maxVersion > spec.maxVersion || (spec.latestVersionUnstable && h.maxVersion >= spec.maxVersion)) {
        throw new Error(`handler for api key ${h.apiKey} claims versions the definitions do not have as stable`);
      }
      if (this.byKey[h.apiKey] !== undefined) throw new Error(`two handlers for api key ${h.apiKey}`);
      this.byKey[h.apiKey] = h;
    }
    this.sorted = all.sort((a, b) => a.apiKey - b.apiKey);
  }

  table(): readonly ApiHandler[] {
    return this.sorted;
  }

  async dispatch(ctx: BrokerContext, frame: Buffer, clientAddress: string): Promise<FrameResult> {
    let head;
    try {
      head = peekRequestHeader(frame);
    } catch (e) {
      throw new CloseConnectionError((e as Error).message, 'malformed');
    }
    const { apiKey, apiVersion, correlationId } = head;
    const handler = this.byKey[apiKey];
    if (handler === undefined || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) return this.apiVersionsFallback(correlationId);
      ctx.metrics.requestErrors.inc({ reason: 'unsupported_version' });
      throw new CloseConnectionError(`UNSUPPORTED_VERSION: api key ${apiKey} version ${apiVersion} is not served`, 'unsupported_version');
    }
    let decoded;
    try {
      decoded = decodeRequestFrame(frame);
    } catch (e) {
      if (e instanceof UnsupportedRequestError) {
        // Advertised for old clients' feature checks but removed from the protocol (KIP-896).
        ctx.metrics.requestErrors.inc({ reason: 'unsupported_version' });
        throw new CloseConnectionError(`UNSUPPORTED_VERSION: api key ${apiKey} version ${apiVersion} was removed from the protocol (KIP-896)`, 'unsupported_version');
      }
      if (e instanceof ProtocolDecodeError) {
        ctx.metrics.requestErrors.inc({ reason: 'malformed' });
        throw new CloseConnectionError(`malformed request (api key ${apiKey} v${apiVersion}): ${e.message}`, 'malformed');
      }
      throw e;
    }
    const labels = { api: decoded.spec.name, version: String(apiVersion) };
    const stop = ctx.metrics.requestLatency.startTimer(labels);
    ctx.metrics.requests.inc(labels);
    let releases: (() => void)[] | undefined;
    const info: RequestInfo = {
      header: decoded.header,
      version: apiVersion,
      clientAddress,
      onResponseReleased: (release) => (releases ??= []).push(release),
    };
    const releaseAll = (): void => {
      for (const r of releases ?? []) r();
    };
    try {
      const res = await handler.handle(ctx, decoded.body, info);
      if (res === undefined) {
        releaseAll();
        return undefined;
      }
      const chunks = encodeResponseFrame(decoded.spec, apiVersion, correlationId, res);
      return releases === undefined ? chunks : { chunks, release: releaseAll };
    } catch (e) {
      releaseAll();
      throw e;
    } finally {
      stop();
    }
  }

  /** Kafka's answer to an ApiVersions request at a version it does not know: a v0 body (with a v0
   *  header) carrying UNSUPPORTED_VERSION and the supported ranges, so the client can retry. */
  private apiVersionsFallback(correlationId: number): Buffer[] {
    const spec = apiSpec(ApiKey.ApiVersions)!;
    const body = { ...spec.defaultResponse(), errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: advertised(this.sorted) };
    return encodeResponseFrame(spec, 0, correlationId, body);
  }
}
