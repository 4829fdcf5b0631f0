// A small Kafka admin client for the operator, on node:net and the generated codecs of
// broker/protocol/ (never a hand-written codec). One connection to one broker of a bootstrap list:
//   - connect: each address in turn until one accepts the connection and answers ApiVersions;
//     each request then goes at the highest version both sides know (the generated table and the
//     broker's answer), or fails with AdminUnsupportedError when they share none;
//   - every request has a correlation id and a timeout; a timed-out request closes the connection
//     (as Kafka's clients do), since a late answer would leave the stream in doubt;
//   - a response's size is checked against responseBytesMax before anything is allocated for it;
//   - operational failures are error classes with a stable `code` (AdminError and its kinds); a
//     Kafka error code from the broker is data, turned into a KafkaApiError only by the helpers
//     below that speak for one resource.
// Plaintext only, like the listeners the operator renders.
import { type Socket, connect } from 'node:net';
import { ErrorCode } from '../../broker/protocol/error-codes.js';
import { decodeResponseFrame, encodeRequestFrame } from '../../broker/protocol/frame.js';
import { type ApiMessages, type ApiSpec, apiSpec, type MetadataResponse } from '../../broker/protocol/generated/index.js';
import { Uuid } from '../../broker/protocol/primitives.js';

export const ADMIN_DEFAULTS = {
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  /** Large enough for the metadata of a big cluster, small enough that a broken peer cannot make
   *  the operator allocate without bound. */
  responseBytesMax: 64 * 1024 * 1024,
  /** Requests outstanding on one connection; the operator sends one at a time. */
  inFlightMax: 32,
  clientId: 'strata-operator',
} as const;

/** The smallest response frame: a correlation id. */
const RESPONSE_BYTES_MIN = 4;
const API_VERSIONS = 18;
/** The ApiVersions version sent first; a broker that does not know it answers with a v0 body. */
const API_VERSIONS_FIRST = 3;

/** DescribeConfigs / IncrementalAlterConfigs resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;
/** DescribeConfigs config sources. */
export const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;
/** IncrementalAlterConfigs operations. */
export const ConfigOperation = { SET: 0, DELETE: 1 } as const;

export type AdminErrorCode =
  | 'STRATA_ADMIN_CONNECT'
  | 'STRATA_ADMIN_TIMEOUT'
  | 'STRATA_ADMIN_CLOSED'
  | 'STRATA_ADMIN_PROTOCOL'
  | 'STRATA_ADMIN_UNSUPPORTED'
  | 'STRATA_ADMIN_BUSY'
  | 'STRATA_KAFKA_ERROR';

/** An operational failure talking to a broker; `broker` is the address, when there was one. */
export class AdminError extends Error {
  override readonly name: string = 'AdminError';
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly broker: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No address of the bootstrap list accepted a connection and answered ApiVersions. */
export class AdminConnectError extends AdminError {
  override readonly name = 'AdminConnectError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('STRATA_ADMIN_CONNECT', message, null, options);
  }
}

export class AdminTimeoutError extends AdminError {
  override readonly name = 'AdminTimeoutError';
  constructor(message: string, broker: string) {
    super('STRATA_ADMIN_TIMEOUT', message, broker);
  }
}

/** The connection closed (or failed) while a request was outstanding, or was used after close. */
export class AdminClosedError extends AdminError {
  override readonly name = 'AdminClosedError';
  constructor(message: string, broker: string, options?: { cause?: unknown }) {
    super('STRATA_ADMIN_CLOSED', message, broker, options);
  }
}

/** The broker sent bytes that are not a valid answer: an oversized or undersized frame, an unknown
 *  correlation id, a body that does not decode. The connection is closed. */
export class AdminProtocolError extends AdminError {
  override readonly name = 'AdminProtocolError';
  constructor(message: string, broker: string, options?: { cause?: unknown }) {
    super('STRATA_ADMIN_PROTOCOL', message, broker, options);
  }
}

/** The broker serves no version of an API that this client knows. */
export class AdminUnsupportedError extends AdminError {
  override readonly name = 'AdminUnsupportedError';
  constructor(message: string, broker: string) {
    super('STRATA_ADMIN_UNSUPPORTED', message, broker);
  }
}

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

/** The Kafka name of an error code ("INVALID_CONFIG"), or "ERROR_<n>" for one this build lacks. */
export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `ERROR_${code}`;
}

/** A Kafka error code the broker answered for one resource (a topic, a broker's configs). */
export class KafkaApiError extends AdminError {
  override readonly name = 'KafkaApiError';
  readonly errorName: string;
  constructor(
    readonly api: string,
    readonly resource: string,
    readonly errorCode: number,
    readonly errorMessage: string | null,
    broker: string,
  ) {
    const name = errorName(errorCode);
    super('STRATA_KAFKA_ERROR', `${api} ${resource}: ${name}${errorMessage === null || errorMessage === '' ? '' : `: ${errorMessage}`}`, broker);
    this.errorName = name;
  }
}

export interface AdminOptions {
  /** host:port addresses; the first that answers is used. */
  readonly bootstrap: readonly string[];
  readonly clientId?: string;
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly responseBytesMax?: number;
}

interface Pending {
  readonly spec: ApiSpec;
  readonly version: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || m[1] === '' || !(port > 0 && port < 65536)) throw new AdminConnectError(`bootstrap address '${address}' is not host:port`);
  return { host: m[1]!, port };
}

/** One connection to one broker. */
class Connection {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #sizeBytes = Buffer.alloc(4);
  #sizeFill = 0;
  #frame: Buffer | null = null;
  #frameFill = 0;
  #nextCorrelationId = 1;
  #failure: AdminError | null = null;

  private constructor(
    socket: Socket,
    readonly address: string,
    readonly o: Required<Omit<AdminOptions, 'bootstrap'>>,
  ) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => this.#fail(new AdminClosedError(`connection to ${address} failed: ${e.message}`, address, { cause: e })));
    socket.on('close', () => this.#fail(new AdminClosedError(`connection to ${address} closed`, address)));
  }

  static open(address: string, o: Required<Omit<AdminOptions, 'bootstrap'>>): Promise<Connection> {
    const { host, port } = parseHostPort(address);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new AdminTimeoutError(`no connection to ${address} within ${o.connectTimeoutMs} ms`, address));
      }, o.connectTimeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new AdminClosedError(`cannot connect to ${address}: ${e.message}`, address, { cause: e }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Connection(socket, address, o));
      });
    });
  }

  get closed(): boolean {
    return this.#failure !== null;
  }

  send(spec: ApiSpec, version: number, body: unknown): Promise<unknown> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#pending.size >= ADMIN_DEFAULTS.inFlightMax) {
      return Promise.reject(new AdminError('STRATA_ADMIN_BUSY', `${this.#pending.size} requests are outstanding on ${this.address}`, this.address));
    }
    const id = this.#nextCorrelationId;
    this.#nextCorrelationId = id === 0x7fffffff ? 1 : id + 1;
    // Encode before registering: a body that cannot be encoded leaves nothing behind.
    const chunks = encodeRequestFrame(spec, version, id, this.o.clientId, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new AdminTimeoutError(`no answer from ${this.address} to ${spec.name} v${version} within ${this.o.requestTimeoutMs} ms`, this.address));
      }, this.o.requestTimeoutMs);
      this.#pending.set(id, { spec, version, resolve, reject, timer });
      this.#socket.cork();
      for (const c of chunks) this.#socket.write(c);
      this.#socket.uncork();
    });
  }

  close(): void {
    this.#fail(new AdminClosedError(`connection to ${this.address} was closed by the client`, this.address));
  }

  /** Fails every outstanding request with `e` (the first failure wins) and closes the socket. */
  #fail(e: AdminError): void {
    if (this.#failure === null) this.#failure = e;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(e);
    }
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.#failure === null) {
      if (this.#frame === null) {
        const n = Math.min(4 - this.#sizeFill, chunk.length - off);
        chunk.copy(this.#sizeBytes, this.#sizeFill, off, off + n);
        this.#sizeFill += n;
        off += n;
        if (this.#sizeFill < 4) return;
        this.#sizeFill = 0;
        const size = this.#sizeBytes.readInt32BE(0);
        // Checked before allocating: the size is the peer's claim, not a fact.
        if (size < RESPONSE_BYTES_MIN || size > this.o.responseBytesMax) {
          this.#fail(new AdminProtocolError(`${this.address} sent a response of ${size} bytes; the limit is ${RESPONSE_BYTES_MIN}..${this.o.responseBytesMax}`, this.address));
          return;
        }
        this.#frame = Buffer.allocUnsafe(size);
        this.#frameFill = 0;
      }
      const n = Math.min(this.#frame.length - this.#frameFill, chunk.length - off);
      chunk.copy(this.#frame, this.#frameFill, off, off + n);
      this.#frameFill += n;
      off += n;
      if (this.#frameFill === this.#frame.length) {
        const frame = this.#frame;
        this.#frame = null;
        this.#deliver(frame);
      }
    }
  }

  #deliver(frame: Buffer): void {
    const id = frame.readInt32BE(0);
    const p = this.#pending.get(id);
    if (p === undefined) {
      this.#fail(new AdminProtocolError(`${this.address} answered correlation id ${id}, which no request has`, this.address));
      return;
    }
    this.#pending.delete(id);
    clearTimeout(p.timer);
    try {
      p.resolve(decodeResponseFrame(p.spec, p.version, frame).body);
    } catch (e) {
      // An ApiVersions request at a version the broker does not know is answered with a v0 body.
      if (p.spec.apiKey === API_VERSIONS && p.version !== 0) {
        try {
          p.resolve(decodeResponseFrame(p.spec, 0, frame).body);
          return;
        } catch {
          // fall through: not a v0 body either
        }
      }
      const err = new AdminProtocolError(`${this.address} sent a ${p.spec.name} v${p.version} response that does not decode: ${(e as Error).message}`, this.address, { cause: e });
      p.reject(err);
      this.#fail(err);
    }
  }
}

/** The topic as Metadata describes it. */
export interface TopicMetadata {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: readonly { readonly index: number; readonly replicas: readonly number[] }[];
}

export interface DescribedConfig {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
  readonly readOnly: boolean;
}

export class KafkaAdmin {
  readonly #c: Connection;
  readonly #versions: ReadonlyMap<number, { min: number; max: number }>;

  private constructor(c: Connection, versions: ReadonlyMap<number, { min: number; max: number }>) {
    this.#c = c;
    this.#versions = versions;
  }

  /** The broker this client talks to. */
  get broker(): string {
    return this.#c.address;
  }

  /** Connects to the first address of the list that answers ApiVersions. */
  static async connect(options: AdminOptions): Promise<KafkaAdmin> {
    const o = {
      clientId: options.clientId ?? ADMIN_DEFAULTS.clientId,
      requestTimeoutMs: options.requestTimeoutMs ?? ADMIN_DEFAULTS.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? ADMIN_DEFAULTS.connectTimeoutMs,
      responseBytesMax: options.responseBytesMax ?? ADMIN_DEFAULTS.responseBytesMax,
    };
    if (options.bootstrap.length === 0) throw new AdminConnectError('the bootstrap list is empty');
    for (const a of options.bootstrap) parseHostPort(a);
    const failures: string[] = [];
    let last: unknown;
    for (const address of options.bootstrap) {
      let c: Connection | undefined;
      try {
        c = await Connection.open(address, o);
        return new KafkaAdmin(c, await negotiate(c));
      } catch (e) {
        c?.close();
        if (e instanceof AdminUnsupportedError) throw e;
        last = e;
        failures.push((e as Error).message);
      }
    }
    throw new AdminConnectError(`no broker of ${options.bootstrap.join(',')} answered: ${failures.join('; ')}`, { cause: last });
  }

  close(): void {
    this.#c.close();
  }

  /** The version of an API both sides know: the highest of the overlap. */
  versionOf(apiKey: number): number {
    const spec = apiSpec(apiKey)!;
    const theirs = this.#versions.get(apiKey);
    const max = Math.min(spec.maxVersion, theirs?.max ?? -1);
    const min = Math.max(spec.minVersion, theirs?.min ?? Infinity);
    if (theirs === undefined || max < min) {
      throw new AdminUnsupportedError(`${this.#c.address} serves ${spec.name} ${theirs === undefined ? 'at no version' : `v${theirs.min}-${theirs.max}`}; this client knows v${spec.minVersion}-${spec.maxVersion}`, this.#c.address);
    }
    return max;
  }

  /** One request at the negotiated version (or at least `minVersion`, for fields that need it). */
  async request<K extends keyof ApiMessages & number>(apiKey: K, body: ApiMessages[K]['request'], minVersion = 0): Promise<ApiMessages[K]['response']> {
    const version = this.versionOf(apiKey);
    const spec = apiSpec(apiKey)!;
    if (version < minVersion) throw new AdminUnsupportedError(`${this.#c.address} serves ${spec.name} up to v${version}; v${minVersion} or later is needed`, this.#c.address);
    return (await this.#c.send(spec, version, body)) as ApiMessages[K]['response'];
  }

  /** Metadata for the named topics, or every topic (null). Never creates a topic (v4+). */
  async metadata(topics: readonly string[] | null): Promise<MetadataResponse> {
    return this.request(
      3,
      { topics: topics === null ? null : topics.map((name) => ({ name, topicId: Uuid.ZERO })), allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false },
      // Before v4 a Metadata request for an unknown topic creates it.
      4,
    );
  }

  /** The topic, or null when the broker does not have it. */
  async describeTopic(name: string): Promise<TopicMetadata | null> {
    const res = await this.metadata([name]);
    const t = res.topics.find((x) => x.name === name);
    if (t === undefined || t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return null;
    if (t.errorCode !== ErrorCode.NONE) throw new KafkaApiError('Metadata', `topic ${name}`, t.errorCode, null, this.broker);
    return { name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ index: p.partitionIndex, replicas: p.replicaNodes })).sort((a, b) => a.index - b.index) };
  }

  /** Configs of one resource (every key). Throws KafkaApiError for the resource's error code. */
  async describeConfigs(resourceType: number, resourceName: string): Promise<DescribedConfig[]> {
    const res = await this.request(32, { resources: [{ resourceType, resourceName, configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    const r = res.results.find((x) => x.resourceType === resourceType && x.resourceName === resourceName);
    if (r === undefined) throw new AdminProtocolError(`${this.broker} answered DescribeConfigs without resource ${resourceName}`, this.broker);
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaApiError('DescribeConfigs', resourceLabel(resourceType, resourceName), r.errorCode, r.errorMessage, this.broker);
    return r.configs.map((c) => ({ name: c.name, value: c.value, source: c.configSource, readOnly: c.readOnly }));
  }

  /** Creates one topic; returns its id. -1 partitions or replication factor take the broker's defaults. */
  async createTopic(name: string, partitions: number, replicationFactor: number, configs: Readonly<Record<string, string>>): Promise<{ topicId: string }> {
    const res = await this.request(19, {
      topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })) }],
      timeoutMs: this.#c.o.requestTimeoutMs,
      validateOnly: false,
    });
    const t = res.topics.find((x) => x.name === name);
    if (t === undefined) throw new AdminProtocolError(`${this.broker} answered CreateTopics without topic ${name}`, this.broker);
    if (t.errorCode !== ErrorCode.NONE) throw new KafkaApiError('CreateTopics', `topic ${name}`, t.errorCode, t.errorMessage, this.broker);
    return { topicId: t.topicId };
  }

  /** Deletes one topic by name; a topic that does not exist counts as deleted. */
  async deleteTopic(name: string): Promise<void> {
    const version = this.versionOf(20);
    const res = await this.request(20, { topics: version >= 6 ? [{ name, topicId: Uuid.ZERO }] : [], topicNames: version >= 6 ? [] : [name], timeoutMs: this.#c.o.requestTimeoutMs });
    const r = res.responses.find((x) => x.name === name);
    if (r === undefined) throw new AdminProtocolError(`${this.broker} answered DeleteTopics without topic ${name}`, this.broker);
    if (r.errorCode !== ErrorCode.NONE && r.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new KafkaApiError('DeleteTopics', `topic ${name}`, r.errorCode, r.errorMessage, this.broker);
  }

  /** IncrementalAlterConfigs on one resource: SET `set`, DELETE `remove` (back to the default). */
  async alterConfigs(resourceType: number, resourceName: string, set: Readonly<Record<string, string>>, remove: readonly string[], validateOnly = false): Promise<void> {
    const configs = [
      ...Object.entries(set).map(([name, value]) => ({ name, configOperation: ConfigOperation.SET, value })),
      ...remove.map((name) => ({ name, configOperation: ConfigOperation.DELETE, value: null })),
    ];
    const res = await this.request(44, { resources: [{ resourceType, resourceName, configs }], validateOnly });
    const r = res.responses.find((x) => x.resourceType === resourceType && x.resourceName === resourceName);
    if (r === undefined) throw new AdminProtocolError(`${this.broker} answered IncrementalAlterConfigs without resource ${resourceName}`, this.broker);
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaApiError('IncrementalAlterConfigs', resourceLabel(resourceType, resourceName), r.errorCode, r.errorMessage, this.broker);
  }

  /** CreatePartitions: grows a topic to `total` partitions. */
  async createPartitions(name: string, total: number): Promise<void> {
    const res = await this.request(37, { topics: [{ name, count: total, assignments: null }], timeoutMs: this.#c.o.requestTimeoutMs, validateOnly: false });
    const r = res.results.find((x) => x.name === name);
    if (r === undefined) throw new AdminProtocolError(`${this.broker} answered CreatePartitions without topic ${name}`, this.broker);
    if (r.errorCode !== ErrorCode.NONE) throw new KafkaApiError('CreatePartitions', `topic ${name}`, r.errorCode, r.errorMessage, this.broker);
  }
}

function resourceLabel(resourceType: number, name: string): string {
  return resourceType === ResourceType.TOPIC ? `topic ${name}` : resourceType === ResourceType.BROKER ? `broker ${name === '' ? '(cluster default)' : name}` : `resource ${resourceType}/${name}`;
}

async function negotiate(c: Connection): Promise<Map<number, { min: number; max: number }>> {
  const spec = apiSpec(API_VERSIONS)!;
  const ask = (version: number) => c.send(spec, version, { clientSoftwareName: 'strata-operator', clientSoftwareVersion: '0' }) as Promise<ApiMessages[18]['response']>;
  let res = await ask(API_VERSIONS_FIRST);
  if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
    // The broker answered with its list in a v0 body; ask again at the newest version both know.
    const theirs = res.apiKeys.find((k) => k.apiKey === API_VERSIONS);
    const version = Math.min(theirs?.maxVersion ?? 0, spec.maxVersion);
    if (theirs === undefined || version < Math.max(theirs.minVersion, spec.minVersion)) throw new AdminUnsupportedError(`${c.address} serves no ApiVersions version this client knows`, c.address);
    res = await ask(version);
  }
  if (res.errorCode !== ErrorCode.NONE) throw new KafkaApiError('ApiVersions', 'broker', res.errorCode, null, c.address);
  return new Map(res.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
}
