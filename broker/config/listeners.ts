// Listener and endpoint syntax: `NAME://host:port` entries of `listeners` and
// `advertised.listeners`, `NAME:PROTOCOL` entries of `listener.security.protocol.map`, and the
// `host:port` of `strata.http.listener`. Only syntax lives here; which listeners are served, and
// with which security protocol, is decided in broker-config.ts.

/** Kafka's four security protocols: what `listener.security.protocol.map` may name. */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
/** The protocols a Strata listener can serve today. Widen this when TLS or SASL arrives, and the
 *  compiler finds every place that assumed plaintext. */
export const SUPPORTED_SECURITY_PROTOCOLS = ['PLAINTEXT'] as const;
export type SupportedSecurityProtocol = (typeof SUPPORTED_SECURITY_PROTOCOLS)[number];

export interface HostPort {
  /** Empty means every interface (when binding) and is written without brackets for IPv6. */
  readonly host: string;
  /** 0 asks the OS for a free port when binding (tests use it). */
  readonly port: number;
}

export interface Endpoint extends HostPort {
  /** Upper case: Kafka compares listener names case-insensitively by normalising them. */
  readonly name: string;
}

export interface Listener extends Endpoint {
  readonly securityProtocol: SupportedSecurityProtocol;
}

const PORT_MAX = 65535;
// A host is a name or IPv4 literal, or an IPv6 literal in brackets (optionally with a zone).
const HOST = String.raw`(?:\[([0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?)\]|([A-Za-z0-9_.-]*))`;
const ENDPOINT_RE = new RegExp(String.raw`^([A-Za-z0-9_]+)://${HOST}:(\d{1,5})$`);
const HOST_PORT_RE = new RegExp(String.raw`^${HOST}:(\d{1,5})$`);

/** Parses `NAME://host:port`; returns the problem as text when it does not parse. */
export function parseEndpoint(entry: string): Endpoint | string {
  const m = ENDPOINT_RE.exec(entry);
  if (m === null) return `'${entry}' is not NAME://host:port`;
  const port = Number(m[4]);
  if (port > PORT_MAX) return `'${entry}' has port ${port}, above ${PORT_MAX}`;
  return { name: m[1]!.toUpperCase(), host: m[2] ?? m[3] ?? '', port };
}

/** Parses `host:port` (IPv6 hosts in brackets). */
export function parseHostPort(text: string): HostPort | string {
  const m = HOST_PORT_RE.exec(text);
  if (m === null) return `'${text}' is not host:port`;
  const port = Number(m[3]);
  if (port > PORT_MAX) return `'${text}' has port ${port}, above ${PORT_MAX}`;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** Parses one `NAME:PROTOCOL` entry of listener.security.protocol.map. */
export function parseProtocolMapEntry(entry: string): { name: string; protocol: SecurityProtocol } | string {
  const m = /^([A-Za-z0-9_]+):([A-Za-z_]+)$/.exec(entry);
  if (m === null) return `'${entry}' is not LISTENER_NAME:SECURITY_PROTOCOL`;
  const protocol = m[2]!.toUpperCase();
  if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    return `'${entry}' names security protocol '${m[2]}'; Kafka's are ${SECURITY_PROTOCOLS.join(', ')}`;
  }
  return { name: m[1]!.toUpperCase(), protocol: protocol as SecurityProtocol };
}

/** True for the wildcard addresses a client cannot connect to. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || /^[0:]+$/.test(host);
}

export function isIpv6Literal(host: string): boolean {
  return host.includes(':');
}

export function isIpv4Literal(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** `host:port` with IPv6 hosts bracketed again, for messages and for printing. */
export function formatHostPort(hp: HostPort): string {
  return `${isIpv6Literal(hp.host) ? `[${hp.host}]` : hp.host}:${hp.port}`;
}
