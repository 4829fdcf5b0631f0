// A capturing listener for the golden tests: it records every request frame a real client sends and
// answers just enough, through the generated codecs, for the client to go on to the requests we
// want to see (Produce with record batches, Fetch, ListOffsets, admin calls). It is a test harness,
// not a broker: one node, topics made up on demand, records kept in memory.
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { UnsupportedRequestError, decodeRequestFrame, encodeResponseFrame, peekRequestHeader } from '../../broker/protocol/frame.js';
import { API_SPECS, ApiKey, type ApiSpec, apiSpec, defaultFetchResponsePartitionData } from '../../broker/protocol/generated/index.js';
import type * as G from '../../broker/protocol/generated/index.js';

export interface CapturedFrame {
  apiKey: number;
  apiVersion: number;
  /** The frame as it arrived, without its 4-byte size. */
  bytes: Buffer;
}

const NODE_ID = 1;
const CLUSTER_ID = 'strata-golden-cluster';
const PARTITIONS = 1;
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

interface PartitionLog {
  batches: Buffer[];
  nextOffset: bigint;
}

interface Topic {
  id: string;
  partitions: PartitionLog[];
}

/** Kafka 4.x advertises many APIs from v0 while refusing the oldest versions on use, because
 *  librdkafka up to 2.11 enables features only when low versions are in range. The clients pick the
 *  highest common version, so advertising from 0 changes nothing else. */
function advertisedVersions(): G.ApiVersionsResponseApiVersion[] {
  return API_SPECS.filter((s) => s.listeners.includes('broker')).map((s) => ({
    apiKey: s.apiKey,
    minVersion: 0,
    maxVersion: s.latestVersionUnstable ? s.maxVersion - 1 : s.maxVersion,
  }));
}

export class CaptureBroker {
  readonly frames: CapturedFrame[] = [];
  readonly errors: string[] = [];
  private readonly topics = new Map<string, Topic>();
  private readonly sockets = new Set<Socket>();
  private readonly inOrder = new WeakMap<Socket, Promise<void>>();
  private server: Server | undefined;
  private nextTopicId = 1;
  private members = 0;
  port = 0;

  async start(): Promise<string> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Puts batches on partition 0 of a topic before a consumer runs. */
  seed(topic: string, batches: Buffer[]): void {
    for (const b of batches) this.append(this.topic(topic).partitions[0]!, b);
  }

  /** The id a topic got when the client first named it. */
  topicIdOf(name: string): string | undefined {
    return this.topics.get(name)?.id;
  }

  framesFor(apiKey: number): CapturedFrame[] {
    return this.frames.filter((f) => f.apiKey === apiKey);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (size < 0 || size > MAX_FRAME_BYTES) {
          this.errors.push(`frame size ${size}`);
          socket.destroy();
          return;
        }
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        this.handle(socket, frame);
      }
    });
  }

  private handle(socket: Socket, frame: Buffer): void {
    const { apiKey, apiVersion, correlationId } = peekRequestHeader(frame);
    this.frames.push({ apiKey, apiVersion, bytes: frame });
    let decoded;
    try {
      decoded = decodeRequestFrame(frame);
    } catch (e) {
      if (e instanceof UnsupportedRequestError && apiKey === ApiKey.ApiVersions) {
        // Answer with a v0 body and UNSUPPORTED_VERSION so the client retries with a known version.
        const spec = apiSpec(ApiKey.ApiVersions)!;
        const body = { ...spec.defaultResponse(), errorCode: 35, apiKeys: advertisedVersions() };
        socket.write(Buffer.concat(encodeResponseFrame(spec, 0, correlationId, body)));
        return;
      }
      this.errors.push(`api ${apiKey} v${apiVersion}: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    const { spec, body } = decoded;
    const response = this.respond(spec, apiVersion, body);
    // Answers leave in request order even when one waits (a long-polling fetch), as clients expect.
    const previous = this.inOrder.get(socket) ?? Promise.resolve();
    const next = previous
      .then(() => response)
      .then((res) => {
        if (res === undefined) return; // acks=0 produce: no answer
        try {
          socket.write(Buffer.concat(encodeResponseFrame(spec, apiVersion, correlationId, res)));
        } catch (e) {
          this.errors.push(`encoding ${spec.name} v${apiVersion}: ${(e as Error).message}`);
          socket.destroy();
        }
      });
    this.inOrder.set(socket, next);
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (t === undefined) {
      const id = Buffer.alloc(16);
      id.writeUInt32BE(this.nextTopicId++, 12);
      t = { id: id.toString('base64url'), partitions: Array.from({ length: PARTITIONS }, () => ({ batches: [], nextOffset: 0n })) };
      this.topics.set(name, t);
    }
    return t;
  }

  private topicById(id: string): [string, Topic] | undefined {
    for (const entry of this.topics) if (entry[1].id === id) return entry;
    return undefined;
  }

  private respond(spec: ApiSpec, version: number, request: any): unknown {
    const res: any = spec.defaultResponse();
    switch (spec.apiKey) {
      case ApiKey.ApiVersions:
        res.apiKeys = advertisedVersions();
        return res;
      case ApiKey.Metadata: {
        const r = request as G.MetadataRequest;
        const names = r.topics === null ? [...this.topics.keys()] : r.topics.map((t) => t.name ?? this.topicById(t.topicId)?.[0] ?? '');
        res.brokers = [{ nodeId: NODE_ID, host: '127.0.0.1', port: this.port, rack: null }];
        res.clusterId = CLUSTER_ID;
        res.controllerId = NODE_ID;
        res.topics = names.map((name) => {
          const t = this.topic(name);
          return {
            errorCode: 0,
            name,
            topicId: t.id,
            isInternal: false,
            partitions: t.partitions.map((_, i) => ({
              errorCode: 0,
              partitionIndex: i,
              leaderId: NODE_ID,
              leaderEpoch: 0,
              replicaNodes: [NODE_ID],
              isrNodes: [NODE_ID],
              offlineReplicas: [],
            })),
            topicAuthorizedOperations: -2147483648,
          };
        });
        return res;
      }
      case ApiKey.InitProducerId:
        res.producerId = 4000n;
        res.producerEpoch = 0;
        return res;
      case ApiKey.Produce: {
        const r = request as G.ProduceRequest;
        res.responses = r.topicData.map((td) => ({
          name: td.name,
          topicId: td.topicId,
          partitionResponses: td.partitionData.map((pd) => {
            const log = this.topic(td.name !== '' ? td.name : (this.topicById(td.topicId)?.[0] ?? '')).partitions[pd.index];
            const baseOffset = log?.nextOffset ?? -1n;
            if (log !== undefined && pd.records !== null) this.append(log, pd.records);
            return {
              index: pd.index,
              errorCode: log === undefined ? 3 : 0,
              baseOffset,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            };
          }),
        }));
        return r.acks === 0 ? undefined : res;
      }
      case ApiKey.ListOffsets: {
        const r = request as G.ListOffsetsRequest;
        res.topics = r.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const log = this.topic(t.name).partitions[p.partitionIndex];
            const offset = p.timestamp === -2n ? 0n : (log?.nextOffset ?? 0n);
            // Leader epochs travel from v4; below that the field must keep its default.
            return { partitionIndex: p.partitionIndex, errorCode: 0, oldStyleOffsets: [], timestamp: -1n, offset, leaderEpoch: version >= 4 ? 0 : -1 };
          }),
        }));
        return res;
      }
      case ApiKey.Fetch: {
        const r = request as G.FetchRequest;
        res.responses = r.topics.map((t) => {
          const name = t.topic !== '' ? t.topic : (this.topicById(t.topicId)?.[0] ?? '');
          return {
            topic: t.topic,
            topicId: t.topicId,
            partitions: t.partitions.map((p) => {
              const log = this.topic(name).partitions[p.partition];
              // Every batch that still holds an offset at or past the fetch offset.
              const batches = (log?.batches ?? []).filter((b) => b.readBigInt64BE(0) + BigInt(b.readInt32BE(23)) >= p.fetchOffset);
              return {
                ...defaultFetchResponsePartitionData(),
                partitionIndex: p.partition,
                highWatermark: log?.nextOffset ?? 0n,
                lastStableOffset: log?.nextOffset ?? 0n,
                logStartOffset: 0n,
                records: Buffer.concat(batches),
              };
            }),
          };
        });
        if (r.maxWaitMs > 0 && res.responses.every((t: any) => t.partitions.every((p: any) => p.records.length === 0))) {
          // Long poll briefly so an idle consumer does not spin.
          return new Promise((resolve) => setTimeout(() => resolve(res), Math.min(r.maxWaitMs, 200)));
        }
        return res;
      }
      case ApiKey.DescribeCluster:
        res.clusterId = CLUSTER_ID;
        res.controllerId = NODE_ID;
        res.brokers = [{ brokerId: NODE_ID, host: '127.0.0.1', port: this.port, rack: null, isFenced: false }];
        res.clusterAuthorizedOperations = -2147483648;
        return res;
      case ApiKey.CreateTopics: {
        const r = request as G.CreateTopicsRequest;
        res.topics = r.topics.map((t) => {
          const topic = this.topic(t.name);
          return {
            name: t.name,
            topicId: topic.id,
            errorCode: 0,
            errorMessage: null,
            topicConfigErrorCode: 0,
            numPartitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            configs: [],
          };
        });
        return res;
      }
      case ApiKey.JoinGroup: {
        // A group of one that forms at once: the joiner is its leader and gets its own metadata back.
        const r = request as G.JoinGroupRequest;
        const memberId = r.memberId !== '' ? r.memberId : `member-${++this.members}`;
        const protocol = r.protocols[0];
        res.generationId = 1;
        res.protocolType = r.protocolType;
        res.protocolName = protocol?.name ?? null;
        res.leader = memberId;
        res.memberId = memberId;
        res.members = [{ memberId, groupInstanceId: r.groupInstanceId, metadata: protocol?.metadata ?? Buffer.alloc(0) }];
        return res;
      }
      case ApiKey.SyncGroup: {
        const r = request as G.SyncGroupRequest;
        res.protocolType = r.protocolType;
        res.protocolName = r.protocolName;
        res.assignment = r.assignments.find((a) => a.memberId === r.memberId)?.assignment ?? Buffer.alloc(0);
        return res;
      }
      case ApiKey.OffsetFetch: {
        // Nothing committed: every partition asked for answers offset -1.
        const r = request as G.OffsetFetchRequest;
        const partitions = (t: { partitionIndexes: number[] }) =>
          t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }));
        if (r.topics !== null) res.topics = r.topics.map((t) => ({ name: t.name, partitions: partitions(t) }));
        res.groups = r.groups.map((g) => ({
          groupId: g.groupId,
          topics: (g.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId, partitions: partitions(t) })),
          errorCode: 0,
        }));
        return res;
      }
      case ApiKey.OffsetCommit: {
        const r = request as G.OffsetCommitRequest;
        res.topics = r.topics.map((t) => ({
          name: t.name,
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })),
        }));
        return res;
      }
      case ApiKey.GetTelemetrySubscriptions:
        // A client instance id of its own and no metrics requested, so the client never pushes any.
        res.clientInstanceId = Buffer.alloc(16, 0x5a).toString('base64url');
        res.subscriptionId = 1;
        res.pushIntervalMs = 300_000;
        return res;
      case ApiKey.FindCoordinator: {
        // v0-3 answer one key at top level; v4+ answer a list of keys.
        const r = request as G.FindCoordinatorRequest;
        res.nodeId = NODE_ID;
        res.host = '127.0.0.1';
        res.port = this.port;
        res.coordinators = r.coordinatorKeys.map((key) => ({ key, nodeId: NODE_ID, host: '127.0.0.1', port: this.port, errorCode: 0, errorMessage: null }));
        return res;
      }
      default:
        return res;
    }
  }

  /** Appends the batches of one produce, setting each batch's base offset in place (bytes 0-7, outside
   *  the CRC) from its last offset delta (bytes 23-26), as a broker does. */
  private append(log: PartitionLog, records: Buffer): void {
    let pos = 0;
    while (pos + 61 <= records.length) {
      const size = 12 + records.readInt32BE(pos + 8);
      const batch = Buffer.from(records.subarray(pos, pos + size));
      batch.writeBigInt64BE(log.nextOffset, 0);
      log.nextOffset += BigInt(batch.readInt32BE(23) + 1);
      log.batches.push(batch);
      pos += size;
    }
  }
}
