// Request and response frames: a 4-byte big-endian size, a header, a body. The header version
// follows from the API and its version (generated/apis.ts), and the body codec comes from the same
// table, so routing and decoding cannot disagree about what a version means.
import {
  type ApiSpec,
  type RequestHeader,
  apiSpec,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './generated/index.js';
import { ProtocolDecodeError, Reader, Writer } from './primitives.js';

/** The first bytes of every request header: api key, api version, correlation id. */
export const REQUEST_HEADER_PREFIX_BYTES = 8;
export const FRAME_SIZE_BYTES = 4;
const CONTROLLED_SHUTDOWN = 7;

/** A request for an API or version this build does not know. It carries what is needed to answer:
 *  Kafka replies UNSUPPORTED_VERSION (35) with the correlation id, and for ApiVersions with a v0 body
 *  so the client can retry with a version from the list. */
export class UnsupportedRequestError extends Error {
  override readonly name = 'UnsupportedRequestError';
  readonly code = 'UNSUPPORTED_VERSION';
  constructor(
    readonly apiKey: number,
    readonly apiVersion: number,
    readonly correlationId: number,
    readonly knownApi: boolean,
  ) {
    super(knownApi ? `api key ${apiKey} has no version ${apiVersion}` : `unknown api key ${apiKey}`);
  }
}

export interface DecodedRequest<Body = unknown> {
  spec: ApiSpec;
  apiVersion: number;
  header: RequestHeader;
  body: Body;
}

/** Reads api key, version and correlation id without decoding the rest, e.g. to answer a request
 *  whose body does not decode. */
export function peekRequestHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number } {
  if (frame.length < REQUEST_HEADER_PREFIX_BYTES) {
    throw new ProtocolDecodeError(`request of ${frame.length} bytes is shorter than a header`, 0);
  }
  return { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4) };
}

/** Decodes one request frame (without its 4-byte size). Throws UnsupportedRequestError for an
 *  unknown API or version and ProtocolDecodeError for bytes that do not decode, including bytes left
 *  over after the body. */
export function decodeRequestFrame(frame: Buffer): DecodedRequest {
  const { apiKey, apiVersion, correlationId } = peekRequestHeader(frame);
  const spec = apiSpec(apiKey);
  if (spec === undefined) throw new UnsupportedRequestError(apiKey, apiVersion, correlationId, false);
  if (apiVersion < spec.minVersion || apiVersion > spec.maxVersion) {
    throw new UnsupportedRequestError(apiKey, apiVersion, correlationId, true);
  }
  if (apiKey === CONTROLLED_SHUTDOWN && apiVersion === 0) {
    // The only request that used header v0, which the definitions no longer describe.
    throw new UnsupportedRequestError(apiKey, apiVersion, correlationId, true);
  }
  const r = new Reader(frame);
  const header = decodeRequestHeader(r, requestHeaderVersion(spec, apiVersion));
  const body = spec.decodeRequest(r, apiVersion);
  if (r.remaining() !== 0) throw new ProtocolDecodeError(`${r.remaining()} bytes left over after the ${spec.name} v${apiVersion} body`, r.pos);
  return { spec, apiVersion, header, body };
}

function sizePrefixed(w: Writer): Buffer[] {
  const size = Buffer.allocUnsafe(FRAME_SIZE_BYTES);
  size.writeInt32BE(w.length, 0);
  return [size, ...w.chunksOut()];
}

/** A response frame as chunks for writev: size, header, body. */
export function encodeResponseFrame(spec: ApiSpec, apiVersion: number, correlationId: number, body: unknown): Buffer[] {
  const w = new Writer(512);
  encodeResponseHeader(w, { correlationId }, responseHeaderVersion(spec, apiVersion));
  spec.encodeResponse(w, body, apiVersion);
  return sizePrefixed(w);
}

/** A request frame as chunks; used by Strata's own clients (and tests). */
export function encodeRequestFrame(spec: ApiSpec, apiVersion: number, correlationId: number, clientId: string | null, body: unknown): Buffer[] {
  const w = new Writer(512);
  encodeRequestHeader(
    w,
    { requestApiKey: spec.apiKey, requestApiVersion: apiVersion, correlationId, clientId },
    requestHeaderVersion(spec, apiVersion),
  );
  spec.encodeRequest(w, body, apiVersion);
  return sizePrefixed(w);
}

/** Decodes a response frame (without its size) for a request of the given API and version. */
export function decodeResponseFrame(spec: ApiSpec, apiVersion: number, frame: Buffer): { correlationId: number; body: unknown } {
  const r = new Reader(frame);
  const { correlationId } = decodeResponseHeader(r, responseHeaderVersion(spec, apiVersion));
  const body = spec.decodeResponse(r, apiVersion);
  if (r.remaining() !== 0) throw new ProtocolDecodeError(`${r.remaining()} bytes left over after the ${spec.name} v${apiVersion} response`, r.pos);
  return { correlationId, body };
}
