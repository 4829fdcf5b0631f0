// Every broker configuration key, declared once: name, type, default, documentation, validation,
// importance. Kafka keys keep Apache Kafka's names and defaults (checked against Kafka 4.1's own
// definitions) so that a Kafka server.properties loads as it is; Strata's own keys are `strata.*`.
// A Kafka key Strata accepts but does not act on is marked `inert` with the reason, and start-up
// warns when one is set. docs/configuration.md is generated from this file
// (hack/gen-config-docs.ts); BrokerConfig's fields follow from it (broker-config.ts).
//
// Where Strata is stricter than Kafka it is because Kafka's accepted value makes no sense for
// Strata (a port above 65535, a replication factor of 0); each such place says so.
import {
  atLeast,
  between,
  bool,
  choice,
  choiceList,
  custom,
  double,
  int,
  INT32_MAX,
  list,
  long,
  LONG_NEVER,
  camelCase,
  checkValue,
  parseValue,
  password,
  str,
  type AnyKeyDef,
} from './value-types.js';
import { parseEndpoint, parseHostPort, parseProtocolMapEntry } from './listeners.js';

/** The groups of the reference docs, in order. */
export const BROKER_GROUPS = [
  { id: 'listeners', title: 'Listeners and identity' },
  { id: 'topics', title: 'Topics, consumer groups and transactions' },
  { id: 'log', title: 'Log' },
  { id: 'network', title: 'Network' },
  { id: 'security', title: 'Security' },
  { id: 'tiered', title: 'Tiered storage' },
  { id: 'strata', title: 'Strata' },
] as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Kafka carries replication factors as int16 on the wire. */
const INT16_MAX = 32767;

const NOT_CONTROLLER = 'Strata has no KRaft controller quorum: one process serves clients and keeps its own metadata.';
const SINGLE_NODE = 'Strata runs as a single node: there is no other broker and no follower replica.';
const NO_TLS = 'Only PLAINTEXT listeners exist today; TLS and SASL settings are read but not used.';
const EVENT_LOOP = "Strata serves every connection and request from Node's event loop; there is no thread pool to size.";
const NO_SHARE_GROUPS = 'Share groups (KIP-932) are not supported.';

function eachEntry(allowed: string, parse: (entry: string) => object | string, nonEmpty: boolean) {
  return custom<readonly string[]>(allowed, (entries) => {
    if (nonEmpty && entries.length === 0) return 'needs at least one entry';
    for (const e of entries) {
      const r = parse(e);
      if (typeof r === 'string') return r;
    }
    return null;
  });
}

const NON_EMPTY_PATHS = custom<readonly string[]>('one or more paths', (dirs) => (dirs.length === 0 ? 'needs at least one path' : null));

// Kafka refuses a retention of 0 (every closed segment would go at once) but reads any negative
// value as "no limit"; checking each of the three keys says so at the key that was set.
const RETENTION = custom<number>('a negative value (no time limit) or at least 1', (n) =>
  n === 0 ? '0 would delete every segment as soon as it closes' : null,
);

const positiveOrMinusOne = (meaning: string) =>
  custom<number>(`-1 (${meaning}) or at least 1`, (n) => (n === -1 || n >= 1 ? null : `${n} is neither -1 nor positive`));

export const BROKER_KEYS = [
  // ---- Listeners and identity -----------------------------------------------------------------
  list('listeners', ['PLAINTEXT://127.0.0.1:9092'], {
    group: 'listeners',
    importance: 'high',
    doc:
      'Where the broker accepts Kafka clients: comma-separated NAME://host:port entries; an empty host listens on every interface and port 0 picks a free port. ' +
      'Each name must map to PLAINTEXT in listener.security.protocol.map, the only protocol served today.',
    validator: eachEntry('NAME://host:port entries, IPv6 hosts in brackets', parseEndpoint, true),
  }),
  list('advertised.listeners', null, {
    group: 'listeners',
    importance: 'high',
    defaultDoc: 'the value of listeners',
    doc:
      'The addresses handed to clients in Metadata responses, as NAME://host:port entries whose names appear in listeners. ' +
      'A wildcard host (0.0.0.0, ::) cannot be advertised; an empty host advertises the machine hostname.',
    validator: eachEntry('NAME://host:port entries, IPv6 hosts in brackets', parseEndpoint, false),
    fallbacks: ['listeners'],
  }),
  list('listener.security.protocol.map', ['SASL_SSL:SASL_SSL', 'PLAINTEXT:PLAINTEXT', 'SSL:SSL', 'SASL_PLAINTEXT:SASL_PLAINTEXT'], {
    group: 'listeners',
    importance: 'low',
    doc: 'Maps each listener name to its security protocol as NAME:PROTOCOL entries. A served listener must map to PLAINTEXT.',
    validator: eachEntry('NAME:PROTOCOL entries; protocols PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL', parseProtocolMapEntry, false),
  }),
  int('node.id', 1, {
    group: 'listeners',
    importance: 'high',
    doc: 'This broker\'s id, reported in Metadata and as partition leader. Kafka\'s older name broker.id is accepted as an alias and must agree when both are set.',
    validator: atLeast(0),
    fallbacks: ['broker.id'],
  }),
  int('broker.id', null, {
    group: 'listeners',
    importance: 'high',
    defaultDoc: 'the value of node.id',
    doc: "Kafka's former name for node.id; used when node.id is not set.",
    validator: atLeast(0),
  }),
  list('log.dirs', null, {
    group: 'listeners',
    importance: 'high',
    defaultDoc: 'the value of log.dir',
    doc: 'Directories that hold partition logs, comma separated (one per disk, as in Kafka): each gets a meta.properties, new partitions go to the one holding the fewest, and a directory that fails is taken offline on its own. Relative paths resolve against the working directory.',
    validator: NON_EMPTY_PATHS,
    fallbacks: ['log.dir'],
  }),
  list('log.dir', ['./data'], {
    group: 'listeners',
    importance: 'high',
    doc: 'The log directory used when log.dirs is not set.',
    validator: NON_EMPTY_PATHS,
  }),
  str('broker.rack', null, {
    group: 'listeners',
    importance: 'medium',
    doc: 'The rack (or availability zone) of this broker, reported to clients in Metadata responses.',
  }),
  list('process.roles', null, {
    group: 'listeners',
    importance: 'high',
    doc: 'The KRaft roles of a Kafka node.',
    validator: { kind: 'oneOf', values: ['broker', 'controller'] },
    inert: true,
    inertReason: NOT_CONTROLLER,
  }),
  list('controller.quorum.voters', null, {
    group: 'listeners',
    importance: 'high',
    doc: 'The static KRaft voter set, as id@host:port entries.',
    inert: true,
    inertReason: NOT_CONTROLLER,
  }),
  list('controller.quorum.bootstrap.servers', null, {
    group: 'listeners',
    importance: 'high',
    doc: 'The host:port addresses used to discover the KRaft quorum.',
    inert: true,
    inertReason: NOT_CONTROLLER,
  }),
  list('controller.listener.names', null, {
    group: 'listeners',
    importance: 'high',
    doc: 'Listeners that serve the KRaft controller protocol.',
    inert: true,
    inertReason: `${NOT_CONTROLLER} Listeners named here are left out of listeners and advertised.listeners and are not opened.`,
  }),
  str('inter.broker.listener.name', null, {
    group: 'listeners',
    importance: 'medium',
    doc: 'The listener brokers use to reach each other.',
    inert: true,
    inertReason: SINGLE_NODE,
  }),
  choice('security.inter.broker.protocol', 'PLAINTEXT', ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'], {
    group: 'listeners',
    importance: 'medium',
    doc: 'The security protocol brokers use to reach each other.',
    inert: true,
    inertReason: SINGLE_NODE,
  }),

  // ---- Topics, consumer groups and transactions -----------------------------------------------
  int('num.partitions', 1, {
    group: 'topics',
    importance: 'medium',
    doc: 'Partitions of a topic created without a partition count (auto-created, or CreateTopics with -1).',
    validator: atLeast(1),
  }),
  int('default.replication.factor', 1, {
    group: 'topics',
    importance: 'medium',
    doc: 'Replication factor of a topic created without one. A single node can only hold one replica, so anything above 1 makes such creations fail with INVALID_REPLICATION_FACTOR.',
    // Kafka accepts 0 here and fails later at topic creation; refusing it at start-up is kinder.
    validator: between(1, INT16_MAX),
  }),
  bool('auto.create.topics.enable', true, {
    group: 'topics',
    importance: 'high',
    doc: 'Create a topic when a client asks for metadata of, or produces to, one that does not exist.',
  }),
  bool('delete.topic.enable', true, {
    group: 'topics',
    importance: 'high',
    doc: 'Whether DeleteTopics may delete topics; when false it answers TOPIC_DELETION_DISABLED.',
  }),
  int('offsets.topic.num.partitions', 50, {
    group: 'topics',
    importance: 'high',
    doc: 'Partitions of the internal __consumer_offsets topic. Fixed once the topic exists: group placement hashes over it.',
    validator: atLeast(1),
  }),
  int('offsets.topic.replication.factor', 3, {
    group: 'topics',
    importance: 'high',
    doc:
      'Replication factor of __consumer_offsets. Strata creates internal topics with as many replicas as there are brokers, up to this value, ' +
      'so the default works on a single node (Kafka instead waits until enough brokers are up).',
    validator: between(1, INT16_MAX),
  }),
  int('offsets.topic.segment.bytes', 100 * MiB, {
    group: 'topics',
    importance: 'high',
    doc: 'Segment size of __consumer_offsets, kept small so that compaction and loading stay quick.',
    validator: atLeast(1),
  }),
  int('offsets.retention.minutes', 10080, {
    group: 'topics',
    importance: 'high',
    doc: 'How long committed offsets of a group with no members are kept before they expire.',
    validator: atLeast(1),
  }),
  long('offsets.retention.check.interval.ms', 600000, {
    group: 'topics',
    importance: 'high',
    doc: 'How often expired committed offsets are looked for.',
    validator: atLeast(1),
  }),
  int('offsets.commit.timeout.ms', 5000, {
    group: 'topics',
    importance: 'high',
    doc: 'How long an offset commit may wait for its write to __consumer_offsets before failing.',
    validator: atLeast(1),
  }),
  int('offset.metadata.max.bytes', 4096, {
    group: 'topics',
    importance: 'high',
    doc: 'Largest metadata string a client may attach to a committed offset; longer ones get OFFSET_METADATA_TOO_LARGE.',
    // Kafka has no check; a negative bound would reject every commit that carries metadata.
    validator: atLeast(0),
  }),
  int('group.initial.rebalance.delay.ms', 3000, {
    group: 'topics',
    importance: 'medium',
    doc: 'How long the first rebalance of an empty classic group waits for more members to join, so that a starting fleet is not rebalanced once per member.',
    validator: atLeast(0),
  }),
  int('group.min.session.timeout.ms', 6000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Smallest session timeout a classic group member may ask for; smaller requests get INVALID_SESSION_TIMEOUT.',
    validator: atLeast(0),
  }),
  int('group.max.session.timeout.ms', 1800000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Largest session timeout a classic group member may ask for. Must not be below group.min.session.timeout.ms.',
    validator: atLeast(1),
  }),
  int('group.max.size', INT32_MAX, {
    group: 'topics',
    importance: 'medium',
    doc: 'Most members a consumer group may have; a member joining beyond it gets GROUP_MAX_SIZE_REACHED.',
    validator: atLeast(1),
  }),
  int('group.consumer.session.timeout.ms', 45000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Session timeout of members of consumer-protocol groups (KIP-848): a member that sends no heartbeat for this long is fenced and its partitions reassigned.',
    validator: atLeast(1),
  }),
  int('group.consumer.min.session.timeout.ms', 45000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Smallest group.consumer.session.timeout.ms a group may be given.',
    validator: atLeast(1),
  }),
  int('group.consumer.max.session.timeout.ms', 60000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Largest group.consumer.session.timeout.ms a group may be given.',
    validator: atLeast(1),
  }),
  int('group.consumer.heartbeat.interval.ms', 5000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Heartbeat interval the coordinator tells members of consumer-protocol groups to use. Must be below group.consumer.session.timeout.ms.',
    validator: atLeast(1),
  }),
  int('group.consumer.min.heartbeat.interval.ms', 5000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Smallest group.consumer.heartbeat.interval.ms a group may be given.',
    validator: atLeast(1),
  }),
  int('group.consumer.max.heartbeat.interval.ms', 15000, {
    group: 'topics',
    importance: 'medium',
    doc: 'Largest group.consumer.heartbeat.interval.ms a group may be given.',
    validator: atLeast(1),
  }),
  int('group.consumer.max.size', INT32_MAX, {
    group: 'topics',
    importance: 'medium',
    doc: 'Most members a consumer-protocol group may have; a member joining beyond it gets GROUP_MAX_SIZE_REACHED.',
    validator: atLeast(1),
  }),
  choiceList('group.consumer.assignors', ['uniform', 'range'], ['uniform', 'range'], {
    group: 'topics',
    importance: 'medium',
    doc: 'Server-side assignors of consumer-protocol groups, by name. A member may ask for one with group.remote.assignor; the first is used otherwise.',
  }),
  choiceList('group.coordinator.rebalance.protocols', ['classic', 'consumer'], ['classic', 'consumer'], {
    group: 'topics',
    importance: 'medium',
    doc: 'Group protocols the coordinator serves. Without consumer, ConsumerGroupHeartbeat and ConsumerGroupDescribe are not advertised. classic is required.',
  }),
  int('transaction.state.log.num.partitions', 50, {
    group: 'topics',
    importance: 'high',
    doc: 'Partitions of the internal __transaction_state topic. Fixed once the topic exists: transactional ids hash over it.',
    validator: atLeast(1),
  }),
  int('transaction.state.log.replication.factor', 3, {
    group: 'topics',
    importance: 'high',
    doc: 'Replication factor of __transaction_state; capped at the number of brokers, as for __consumer_offsets.',
    validator: between(1, INT16_MAX),
  }),
  int('transaction.state.log.min.isr', 2, {
    group: 'topics',
    importance: 'high',
    doc: 'min.insync.replicas of __transaction_state; capped at the topic\'s actual replica count, so it holds on a single node.',
    validator: atLeast(1),
  }),
  int('transaction.state.log.segment.bytes', 100 * MiB, {
    group: 'topics',
    importance: 'high',
    doc: 'Segment size of __transaction_state.',
    validator: atLeast(1),
  }),
  int('transaction.max.timeout.ms', 900000, {
    group: 'topics',
    importance: 'high',
    doc: 'Largest transaction timeout a producer may ask for; larger requests get INVALID_TRANSACTION_TIMEOUT.',
    validator: atLeast(1),
  }),
  int('transactional.id.expiration.ms', 604800000, {
    group: 'topics',
    importance: 'high',
    doc: 'How long a transactional id may stay idle before its state is dropped.',
    validator: atLeast(1),
  }),
  int('producer.id.expiration.ms', 86400000, {
    group: 'topics',
    importance: 'low',
    doc: 'How long an idempotent producer id may stay idle before its sequence state is dropped.',
    validator: atLeast(1),
  }),
  bool('unclean.leader.election.enable', false, {
    group: 'topics',
    importance: 'high',
    doc: 'Whether a replica outside the ISR may become leader, at the cost of lost records.',
    inert: true,
    inertReason: SINGLE_NODE,
  }),
  bool('auto.leader.rebalance.enable', true, {
    group: 'topics',
    importance: 'high',
    doc: 'Whether leadership moves back to preferred replicas in the background.',
    inert: true,
    inertReason: SINGLE_NODE,
  }),
  int('num.replica.fetchers', 1, {
    group: 'topics',
    importance: 'high',
    doc: 'Threads a follower uses to fetch from leaders.',
    inert: true,
    inertReason: SINGLE_NODE,
  }),
  long('replica.lag.time.max.ms', 30000, {
    group: 'topics',
    importance: 'high',
    doc: 'How long a follower may lag before it leaves the ISR.',
    inert: true,
    inertReason: SINGLE_NODE,
  }),
  int('share.coordinator.state.topic.replication.factor', 3, {
    group: 'topics',
    importance: 'high',
    doc: 'Replication factor of the share-group state topic.',
    validator: between(1, INT16_MAX),
    inert: true,
    inertReason: NO_SHARE_GROUPS,
  }),
  int('share.coordinator.state.topic.min.isr', 2, {
    group: 'topics',
    importance: 'high',
    doc: 'min.insync.replicas of the share-group state topic.',
    validator: between(1, INT16_MAX),
    inert: true,
    inertReason: NO_SHARE_GROUPS,
  }),

  // ---- Log ------------------------------------------------------------------------------------
  int('log.segment.bytes', GiB, {
    group: 'log',
    importance: 'high',
    doc: 'Size at which a partition\'s active segment is closed and a new one started. Default for the topic key segment.bytes.',
    // Kafka 4.0 raised the floor from 14 bytes to 1 MiB (KIP-1030): tiny segments mean a file
    // handle and an index per handful of records.
    validator: atLeast(MiB),
  }),
  long('log.roll.ms', null, {
    group: 'log',
    importance: 'high',
    defaultDoc: 'log.roll.hours × 3600000',
    doc: 'Age at which the active segment is rolled even if not full. Takes precedence over log.roll.hours; default for the topic key segment.ms.',
    validator: atLeast(1),
    fallbacks: ['log.roll.hours'],
  }),
  int('log.roll.hours', 168, {
    group: 'log',
    importance: 'high',
    doc: 'log.roll.ms in hours, used when log.roll.ms is not set.',
    validator: atLeast(1),
  }),
  long('log.roll.jitter.ms', null, {
    group: 'log',
    importance: 'high',
    defaultDoc: 'log.roll.jitter.hours × 3600000',
    doc: 'Up to this much is subtracted at random from the roll age, so partitions created together do not all roll at once. Default for segment.jitter.ms.',
    validator: atLeast(0),
    fallbacks: ['log.roll.jitter.hours'],
  }),
  int('log.roll.jitter.hours', 0, {
    group: 'log',
    importance: 'high',
    doc: 'log.roll.jitter.ms in hours, used when log.roll.jitter.ms is not set.',
    validator: atLeast(0),
  }),
  long('log.retention.ms', null, {
    group: 'log',
    importance: 'high',
    defaultDoc: 'from log.retention.minutes, else log.retention.hours',
    doc:
      'Age after which closed segments are deleted (delete policy). Wins over log.retention.minutes and log.retention.hours; any negative value means no time limit. ' +
      'Default for retention.ms.',
    validator: RETENTION,
    fallbacks: ['log.retention.minutes', 'log.retention.hours'],
  }),
  int('log.retention.minutes', null, {
    group: 'log',
    importance: 'high',
    defaultDoc: 'from log.retention.hours',
    doc: 'log.retention.ms in minutes, used when log.retention.ms is not set. Wins over log.retention.hours.',
    validator: RETENTION,
    fallbacks: ['log.retention.hours'],
  }),
  int('log.retention.hours', 168, {
    group: 'log',
    importance: 'high',
    doc: 'log.retention.ms in hours, used when neither log.retention.ms nor log.retention.minutes is set.',
    validator: RETENTION,
  }),
  long('log.retention.bytes', -1, {
    group: 'log',
    importance: 'high',
    doc: 'Size a partition may reach before its oldest segments are deleted; -1 means no size limit. Default for retention.bytes.',
  }),
  long('log.retention.check.interval.ms', 300000, {
    group: 'log',
    importance: 'medium',
    doc: 'How often segments are checked against the retention limits.',
    validator: atLeast(1),
  }),
  long('log.segment.delete.delay.ms', 60000, {
    group: 'log',
    importance: 'high',
    doc: 'How long a segment removed from a log stays on disk, so that reads already under way can finish. Default for file.delete.delay.ms.',
    validator: atLeast(0),
  }),
  int('log.index.interval.bytes', 4096, {
    group: 'log',
    importance: 'medium',
    doc: 'Bytes of records between two offset index entries: smaller means faster lookups and bigger indexes. Default for index.interval.bytes.',
    validator: atLeast(0),
  }),
  int('log.index.size.max.bytes', 10 * MiB, {
    group: 'log',
    importance: 'medium',
    doc: 'Largest size of a segment\'s offset index; a full index rolls the segment. Default for segment.index.bytes.',
    validator: atLeast(4),
  }),
  long('log.flush.interval.messages', LONG_NEVER, {
    group: 'log',
    importance: 'high',
    doc: 'Records appended to a partition before it is fsynced. The default, never, leaves flushing to the operating system. Default for flush.messages.',
    validator: atLeast(1),
  }),
  long('log.flush.interval.ms', null, {
    group: 'log',
    importance: 'high',
    defaultDoc: 'the value of log.flush.scheduler.interval.ms',
    doc: 'Longest time appended records may wait before their partition is fsynced. Default for flush.ms.',
    // Kafka accepts negatives here but refuses them for flush.ms; one rule for both.
    validator: atLeast(0),
    fallbacks: ['log.flush.scheduler.interval.ms'],
  }),
  long('log.flush.scheduler.interval.ms', LONG_NEVER, {
    group: 'log',
    importance: 'high',
    doc: 'How often partitions are checked against their flush.ms; the default, never, turns the timed check off.',
    validator: atLeast(1),
  }),
  int('log.flush.offset.checkpoint.interval.ms', 60000, {
    group: 'log',
    importance: 'high',
    doc: 'How often each log directory\'s recovery-point checkpoint is written; recovery after a crash starts from it.',
    validator: atLeast(0),
  }),
  int('log.flush.start.offset.checkpoint.interval.ms', 60000, {
    group: 'log',
    importance: 'high',
    doc: 'How often each log directory\'s log-start-offset checkpoint is written.',
    validator: atLeast(0),
  }),
  choice('log.message.timestamp.type', 'CreateTime', ['CreateTime', 'LogAppendTime'], {
    group: 'log',
    importance: 'medium',
    doc: 'Whether record timestamps are the producer\'s (CreateTime) or overwritten with the broker\'s clock on append (LogAppendTime). Default for message.timestamp.type.',
  }),
  long('log.message.timestamp.before.max.ms', LONG_NEVER, {
    group: 'log',
    importance: 'medium',
    doc: 'With CreateTime, how far in the past a record\'s timestamp may be before the batch is refused. Default for message.timestamp.before.max.ms.',
    validator: atLeast(0),
  }),
  long('log.message.timestamp.after.max.ms', 3600000, {
    group: 'log',
    importance: 'medium',
    doc: 'With CreateTime, how far in the future a record\'s timestamp may be before the batch is refused. Default for message.timestamp.after.max.ms.',
    validator: atLeast(0),
  }),
  choiceList('log.cleanup.policy', ['delete'], ['compact', 'delete'], {
    group: 'log',
    importance: 'medium',
    doc: 'What happens to old segments: delete them by retention, compact them to the latest record per key, or both. An empty list keeps everything. Default for cleanup.policy.',
  }),
  bool('log.cleaner.enable', true, {
    group: 'log',
    importance: 'medium',
    doc: 'Whether compaction runs at all; with it off, compacted topics grow without bound.',
  }),
  long('log.cleaner.delete.retention.ms', 86400000, {
    group: 'log',
    importance: 'medium',
    doc: 'How long compaction keeps tombstones (records with a null value). Default for delete.retention.ms.',
    validator: atLeast(0),
  }),
  long('log.cleaner.min.compaction.lag.ms', 0, {
    group: 'log',
    importance: 'medium',
    doc: 'Youngest a record may be and still be compacted away. Default for min.compaction.lag.ms.',
    validator: atLeast(0),
  }),
  long('log.cleaner.max.compaction.lag.ms', LONG_NEVER, {
    group: 'log',
    importance: 'medium',
    doc: 'Oldest an uncompacted record may get before its segment is compacted regardless of the dirty ratio. Default for max.compaction.lag.ms.',
    validator: atLeast(1),
  }),
  double('log.cleaner.min.cleanable.ratio', 0.5, {
    group: 'log',
    importance: 'medium',
    doc: 'Share of a log that must be uncompacted before compaction picks it. Default for min.cleanable.dirty.ratio.',
    validator: between(0, 1),
  }),
  long('log.cleaner.backoff.ms', 15000, {
    group: 'log',
    importance: 'medium',
    doc: 'How long the cleaner sleeps when no log needs compacting.',
    validator: atLeast(0),
  }),
  long('log.cleaner.dedupe.buffer.size', 128 * MiB, {
    group: 'log',
    importance: 'medium',
    doc: 'Memory for the key map of one compaction pass, at 24 bytes a key as in Kafka; a pass whose keys do not fit cleans the segments that do and leaves the rest to the next pass.',
    validator: atLeast(1024 * 1024),
  }),
  double('log.cleaner.io.max.bytes.per.second', Number.MAX_VALUE, {
    group: 'log',
    importance: 'medium',
    doc: 'Most bytes a second compaction reads; the cleaner pauses to stay under it.',
    validator: atLeast(1),
  }),
  int('log.cleaner.threads', 1, {
    group: 'log',
    importance: 'medium',
    doc: 'Logs compacted at once in Kafka. Strata compacts one log at a time, in chunks between other work on the event loop, whatever the value.',
    validator: atLeast(1),
  }),
  bool('log.preallocate', false, {
    group: 'log',
    importance: 'medium',
    doc: 'Whether new segment files are allocated at full size up front. Default for preallocate.',
    inert: true,
    inertReason: 'Strata does not preallocate segment files.',
  }),
  choice('compression.type', 'producer', ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'], {
    group: 'log',
    importance: 'high',
    doc: 'Codec batches are stored with: producer keeps whatever the producer used; any other value recompresses on append. Default for compression.type.',
  }),
  int('compression.gzip.level', -1, {
    group: 'log',
    importance: 'medium',
    doc: 'Level for gzip when the broker compresses. Default for the topic key of the same name.',
    validator: custom<number>('-1 (the codec default) or 1 to 9', (n) => (n === -1 || (n >= 1 && n <= 9) ? null : `${n} is not a gzip level`)),
  }),
  int('compression.lz4.level', 9, {
    group: 'log',
    importance: 'medium',
    doc: 'Level for lz4 when the broker compresses. Default for the topic key of the same name.',
    validator: between(1, 17),
  }),
  int('compression.zstd.level', 3, {
    group: 'log',
    importance: 'medium',
    doc: 'Level for zstd when the broker compresses. Default for the topic key of the same name.',
    validator: between(-131072, 22),
  }),
  int('message.max.bytes', 1048588, {
    group: 'log',
    importance: 'high',
    doc: 'Largest record batch (after compression) the broker accepts; larger ones get MESSAGE_TOO_LARGE. Default for max.message.bytes.',
    validator: atLeast(0),
  }),
  int('min.insync.replicas', 1, {
    group: 'log',
    importance: 'high',
    doc: 'With acks=all, the replicas that must have a batch before it is acknowledged; fewer in sync gives NOT_ENOUGH_REPLICAS. Default for the topic key of the same name.',
    validator: atLeast(1),
  }),
  long('log.local.retention.ms', -2, {
    group: 'log',
    importance: 'medium',
    doc: 'With tiered storage, age after which segments already uploaded are deleted locally; -2 means log.retention.ms. Default for local.retention.ms.',
    validator: atLeast(-2),
  }),
  long('log.local.retention.bytes', -2, {
    group: 'log',
    importance: 'medium',
    doc: 'With tiered storage, local size beyond which uploaded segments are deleted locally; -2 means log.retention.bytes. Default for local.retention.bytes.',
    validator: atLeast(-2),
  }),
  bool('remote.log.storage.system.enable', false, {
    group: 'tiered',
    importance: 'medium',
    doc:
      'Turns tiered storage on for this broker: topics with remote.storage.enable=true upload closed segments to the object store chosen by strata.tiered.store and read them back. ' +
      'At start-up the store is checked (bucket exists, write, read back, conditional write, delete); a failure stops start-up.',
  }),
  int('remote.log.manager.task.interval.ms', 30_000, {
    group: 'tiered',
    importance: 'low',
    doc: 'How often each tiered partition is checked for segments to upload and for remote segments past retention.',
    validator: atLeast(1),
  }),
  long('remote.log.manager.task.retry.backoff.ms', 500, {
    group: 'tiered',
    importance: 'low',
    doc: 'First wait before a failed upload or remote deletion of a partition is tried again; it doubles per failure, with jitter.',
    validator: atLeast(1),
  }),
  long('remote.log.manager.task.retry.backoff.max.ms', 30_000, {
    group: 'tiered',
    importance: 'low',
    doc: 'Longest wait between two attempts of a failing upload or remote deletion.',
    validator: atLeast(1),
  }),
  int('remote.log.manager.copier.thread.pool.size', 10, {
    group: 'tiered',
    importance: 'medium',
    doc: 'Segment uploads in flight at once, across all partitions (Strata uploads from the event loop; this bounds concurrency, not threads).',
    validator: atLeast(1),
  }),
  long('remote.log.manager.copy.max.bytes.per.second', LONG_NEVER, {
    group: 'tiered',
    importance: 'medium',
    doc: 'Upload bandwidth across all partitions, in bytes per second.',
    validator: atLeast(1),
  }),
  int('remote.fetch.max.wait.ms', 500, {
    group: 'tiered',
    importance: 'medium',
    doc:
      'Longest a Fetch waits for the remote reads it needs. A partition whose remote read has not finished by then is answered with no records and no error, as Kafka does, and the client fetches again.',
    validator: atLeast(1),
  }),
  choice('strata.tiered.store', 'local', ['local', 's3'], {
    group: 'tiered',
    importance: 'high',
    doc: 'Where uploaded segments go: local (a directory, strata.tiered.local.dir; for development) or s3 (any S3-compatible endpoint, strata.tiered.s3.*).',
  }),
  str('strata.tiered.local.dir', null, {
    group: 'tiered',
    importance: 'medium',
    defaultDoc: 'the first log directory with -tiered appended',
    doc: 'Directory of the local store.',
    validator: custom<string>('a non-empty path', (s) => (s.trim() === '' ? 'is empty' : null)),
  }),
  str('strata.tiered.s3.endpoint', null, {
    group: 'tiered',
    importance: 'high',
    defaultDoc: "AWS S3's own endpoint for the region",
    doc: 'URL of an S3-compatible endpoint, e.g. http://127.0.0.1:7070. Credentials come from the AWS SDK\'s default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, shared config files, web identity, instance roles).',
    validator: custom<string>('an http:// or https:// URL', (s) => (/^https?:\/\/[^\s/]+/.test(s) ? null : 'is not an http:// or https:// URL')),
  }),
  str('strata.tiered.s3.region', 'us-east-1', {
    group: 'tiered',
    importance: 'medium',
    doc: 'Region of the bucket.',
    validator: custom<string>('a region name', (s) => (/^[a-z0-9-]{1,64}$/.test(s) ? null : 'is not a region name (lower-case letters, digits, dashes)')),
  }),
  str('strata.tiered.s3.bucket', null, {
    group: 'tiered',
    importance: 'high',
    defaultDoc: 'none; required with strata.tiered.store=s3',
    doc: 'The bucket; it must exist.',
    validator: custom<string>('an S3 bucket name', (s) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) ? null : 'is not a valid bucket name (3 to 63 lower-case letters, digits, dots, dashes)')),
  }),
  str('strata.tiered.s3.prefix', '', {
    group: 'tiered',
    importance: 'medium',
    doc: 'Prefix of every key this cluster writes in the bucket; objects go under <prefix>/<cluster id>/<topic>-<topic id>/<partition>/.',
    validator: custom<string>("a key prefix without '..' or a leading '/'", (s) =>
      s.startsWith('/') || s.split('/').some((x) => x === '..' || x === '.') ? "starts with '/' or has a '.' or '..' segment" : null),
  }),
  bool('strata.tiered.s3.path.style', false, {
    group: 'tiered',
    importance: 'medium',
    doc: 'Path-style addressing (http://host/bucket/key) instead of virtual-hosted style; most S3-compatible servers need it.',
  }),
  int('strata.tiered.s3.request.timeout.ms', 30_000, {
    group: 'tiered',
    importance: 'low',
    doc:
      'Deadline of one request to the store, connection included, for each of the two attempts the S3 client makes; a store that stops answering fails the request instead of hanging it, ' +
      'counted as strata_remote_errors_total{kind="timeout"}.',
    validator: atLeast(1),
  }),
  int('strata.tiered.upload.part.bytes', 16 * MiB, {
    group: 'tiered',
    importance: 'low',
    doc: 'Segments larger than this go up as multipart uploads of parts this size; one part is in memory at a time per upload.',
    validator: between(5 * MiB, 1024 * MiB),
  }),
  long('strata.tiered.cache.memory.bytes', 64 * MiB, {
    group: 'tiered',
    importance: 'medium',
    doc: 'Memory for remote segment data and indexes read back from the store, the first tier of the remote read cache (least recently used 4 MiB chunks go first, to the disk tier).',
    validator: atLeast(MiB),
  }),
  long('strata.tiered.cache.disk.bytes', 1024 * MiB, {
    group: 'tiered',
    importance: 'medium',
    doc:
      'Disk for the second tier of the remote read cache, under strata.tiered.cache.dir: every chunk read from the store is kept there too (least recently used first out, a hard maximum), so a reread that no longer fits in memory does not go back to the bucket. 0 turns the disk tier off.',
    validator: atLeast(0),
  }),
  str('strata.tiered.cache.dir', null, {
    group: 'tiered',
    importance: 'medium',
    defaultDoc: 'the first log directory with -remote-cache appended',
    doc: 'Directory of the disk tier of the remote read cache. Its cache files are deleted at start-up (nothing from an earlier run is served); other files are left alone.',
    validator: custom<string>('a non-empty path', (s) => (s.trim() === '' ? 'is empty' : null)),
  }),
  int('strata.tiered.cache.read.ahead.chunks', 2, {
    group: 'tiered',
    importance: 'low',
    doc:
      'Chunks (4 MiB) loaded in the background ahead of a partition whose remote reads are sequential, and the next segment\'s first chunk at a segment\'s end; at most 4 such loads run at once across the broker. 0 turns read-ahead off.',
    validator: between(0, 64),
  }),
  int('num.recovery.threads.per.data.dir', 2, {
    group: 'log',
    importance: 'high',
    doc: 'Threads per log directory that recover logs at start-up.',
    validator: atLeast(1),
    inert: true,
    inertReason: EVENT_LOOP,
  }),

  // ---- Network --------------------------------------------------------------------------------
  int('socket.request.max.bytes', 100 * MiB, {
    group: 'network',
    importance: 'high',
    doc: 'Largest request frame accepted; a larger size prefix closes the connection before anything is buffered.',
    validator: atLeast(1),
  }),
  int('socket.send.buffer.bytes', 102400, {
    group: 'network',
    importance: 'high',
    doc: 'SO_SNDBUF of client connections.',
    validator: positiveOrMinusOne('the OS default'),
  }),
  int('socket.receive.buffer.bytes', 102400, {
    group: 'network',
    importance: 'high',
    doc: 'SO_RCVBUF of client connections.',
    validator: positiveOrMinusOne('the OS default'),
  }),
  int('socket.listen.backlog.size', 50, {
    group: 'network',
    importance: 'medium',
    doc: 'Pending-connection backlog of each listening socket.',
    validator: atLeast(1),
  }),
  int('max.connections', INT32_MAX, {
    group: 'network',
    importance: 'medium',
    doc: 'Most client connections the broker holds open; further connections are closed as they arrive.',
    validator: atLeast(0),
  }),
  int('max.connections.per.ip', INT32_MAX, {
    group: 'network',
    importance: 'medium',
    doc: 'Most connections from one client address.',
    // Kafka allows 0 together with per-address exceptions (max.connections.per.ip.overrides),
    // which Strata does not have; 0 alone would refuse everyone.
    validator: atLeast(1),
  }),
  long('connections.max.idle.ms', 600000, {
    group: 'network',
    importance: 'medium',
    doc: 'Connections idle for longer are closed.',
    validator: positiveOrMinusOne('never close idle connections'),
  }),
  int('queued.max.requests', 500, {
    group: 'network',
    importance: 'high',
    doc: 'Most requests read but not yet answered across all connections; beyond it the broker stops reading from sockets until answers go out.',
    validator: atLeast(1),
  }),
  long('queued.max.request.bytes', -1, {
    group: 'network',
    importance: 'medium',
    doc:
      'Most bytes of requests read but not yet answered; 0 or less means Kafka has no byte bound, and Strata then applies strata.request.memory.max.bytes. ' +
      'When positive it replaces that bound and must be at least socket.request.max.bytes.',
  }),
  int('fetch.max.bytes', 55 * MiB, {
    group: 'network',
    importance: 'medium',
    doc: 'Most record bytes one Fetch response carries, whatever the client asks for.',
    validator: atLeast(1024),
  }),
  long('strata.request.memory.max.bytes', 256 * MiB, {
    group: 'network',
    importance: 'high',
    doc:
      'Bound on the memory held by requests read but not yet answered, used when queued.max.request.bytes is not positive. ' +
      'A request is admitted against it before its body is read, so it must be at least socket.request.max.bytes.',
    validator: atLeast(1),
  }),
  int('num.network.threads', 3, {
    group: 'network',
    importance: 'high',
    doc: 'Threads that read and write client sockets.',
    validator: atLeast(1),
    inert: true,
    inertReason: EVENT_LOOP,
  }),
  int('num.io.threads', 8, {
    group: 'network',
    importance: 'high',
    doc: 'Threads that process requests.',
    validator: atLeast(1),
    inert: true,
    inertReason: EVENT_LOOP,
  }),
  int('background.threads', 10, {
    group: 'network',
    importance: 'high',
    doc: 'Threads for background work such as deleting segments.',
    validator: atLeast(1),
    inert: true,
    inertReason: EVENT_LOOP,
  }),

  // ---- Security (all inert until TLS and SASL arrive) -----------------------------------------
  str('ssl.keystore.location', null, { group: 'security', importance: 'medium', doc: 'Path of the key store.', inert: true, inertReason: NO_TLS }),
  password('ssl.keystore.password', { group: 'security', importance: 'medium', doc: 'Password of the key store.', inert: true, inertReason: NO_TLS }),
  password('ssl.key.password', { group: 'security', importance: 'medium', doc: 'Password of the private key in the key store.', inert: true, inertReason: NO_TLS }),
  str('ssl.truststore.location', null, { group: 'security', importance: 'medium', doc: 'Path of the trust store.', inert: true, inertReason: NO_TLS }),
  password('ssl.truststore.password', { group: 'security', importance: 'medium', doc: 'Password of the trust store.', inert: true, inertReason: NO_TLS }),
  choice('ssl.client.auth', 'none', ['required', 'requested', 'none'], {
    group: 'security',
    importance: 'medium',
    doc: 'Whether TLS clients must present a certificate.',
    inert: true,
    inertReason: NO_TLS,
  }),
  list('sasl.enabled.mechanisms', ['GSSAPI'], { group: 'security', importance: 'medium', doc: 'SASL mechanisms offered to clients.', inert: true, inertReason: NO_TLS }),
  str('sasl.mechanism.inter.broker.protocol', 'GSSAPI', {
    group: 'security',
    importance: 'medium',
    doc: 'SASL mechanism brokers use with each other.',
    inert: true,
    inertReason: NO_TLS,
  }),
  password('sasl.jaas.config', { group: 'security', importance: 'medium', doc: 'JAAS login configuration for SASL.', inert: true, inertReason: NO_TLS }),

  // ---- Strata ---------------------------------------------------------------------------------
  str('strata.http.listener', '127.0.0.1:9644', {
    group: 'strata',
    importance: 'high',
    doc: 'host:port of the HTTP endpoint serving /metrics (Prometheus), /healthz and /readyz. IPv6 hosts go in brackets.',
    validator: custom<string>('host:port, IPv6 hosts in brackets', (s) => {
      const r = parseHostPort(s);
      return typeof r === 'string' ? r : null;
    }),
  }),
  str('strata.cluster.id', null, {
    group: 'strata',
    importance: 'medium',
    defaultDoc: 'generated on first start and kept in the meta.properties of each log directory',
    doc: 'The cluster id reported to clients, used when the log directories are first formatted (afterwards meta.properties holds it). Set it only to pin a known id, for example when restoring a cluster.',
    validator: custom<string>('1 to 255 printable ASCII characters without spaces', (s) =>
      /^[\x21-\x7e]{1,255}$/.test(s) ? null : 'contains spaces or characters outside printable ASCII, or is empty'),
  }),
  choice('strata.log.level', 'info', ['trace', 'debug', 'info', 'warn', 'error'], {
    group: 'strata',
    importance: 'medium',
    doc: 'Least severe level written to the broker\'s log.',
  }),
  choice('strata.log.format', 'json', ['json', 'text'], {
    group: 'strata',
    importance: 'medium',
    doc: 'json writes one object per line for log collectors; text is for people at a terminal.',
  }),
] as const;

export type BrokerKeyName = (typeof BROKER_KEYS)[number]['name'];

const BY_NAME: ReadonlyMap<string, AnyKeyDef> = new Map(BROKER_KEYS.map((k) => [k.name, k as AnyKeyDef]));

/** The declaration of a broker key, or undefined when Strata does not know it. */
export function brokerKey(name: string): AnyKeyDef | undefined {
  return BY_NAME.get(name);
}

/** A broker key's value given the text that was set for it: parsed when set, else its declared
 *  default. Set values were validated at load, so parsing cannot fail here. A password's raw text
 *  is "[hidden]", so this never yields the secret; read the config field for that. */
export function brokerKeyValue(raw: ReadonlyMap<string, string>, name: string): unknown {
  const def = BY_NAME.get(name);
  if (def === undefined) throw new Error(`${name} is not a declared broker key`);
  const text = raw.get(name);
  if (text === undefined) return def.default;
  const r = parseValue(def, text);
  if (!r.ok) throw new Error(`${name}: loaded text '${text}' no longer parses: ${r.problem}`);
  return r.value;
}

// Declarations must hold their own rules; a failure here is a bug in this file, found at import.
{
  const fields = new Set<string>();
  for (const def of BROKER_KEYS as readonly AnyKeyDef[]) {
    // Lower-case dotted names map one-to-one onto camelCase fields and onto STRATA_CONFIG_*
    // environment variable names (dots become underscores).
    if (!/^[a-z][a-z0-9]*(\.[a-z0-9]+)*$/.test(def.name)) throw new Error(`broker key ${def.name}: not a lower-case dotted name`);
    const field = camelCase(def.name);
    if (fields.has(field)) throw new Error(`broker key ${def.name}: field ${field} is taken`);
    fields.add(field);
    const problem = checkValue(def, def.default);
    if (problem !== null) throw new Error(`broker key ${def.name}: default ${String(def.default)} ${problem}`);
    if (def.inert !== (def.inertReason !== undefined)) throw new Error(`broker key ${def.name}: inert needs a reason, and only inert keys have one`);
    if (!BROKER_GROUPS.some((g) => g.id === def.group)) throw new Error(`broker key ${def.name}: unknown group ${def.group}`);
    for (const f of def.fallbacks) if (!BY_NAME.has(f)) throw new Error(`broker key ${def.name}: fallback ${f} is not declared`);
  }
}
