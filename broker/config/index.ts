// The broker's configuration: declared keys, the properties parser, the loader, topic configs.
// Everything outside broker/config/ imports from here.
export { ConfigError } from './errors.js';
export {
  ConfigSource,
  describeAllowed,
  describeConfigType,
  formatValue,
  KAFKA_LONG_MAX,
  LONG_NEVER,
  parseValue,
  Password,
  type AnyKeyDef,
  type ConfigEntry,
  type ConfigSynonym,
  type ConfigType,
  type Importance,
  type KeyDef,
  type Parsed,
} from './value-types.js';
export { BROKER_GROUPS, BROKER_KEYS, brokerKey, type BrokerKeyName } from './keys.js';
export { parseProperties, type PropertyEntry } from './properties.js';
export {
  SECURITY_PROTOCOLS,
  SUPPORTED_SECURITY_PROTOCOLS,
  type Endpoint,
  type HostPort,
  type Listener,
  type SecurityProtocol,
  type SupportedSecurityProtocol,
} from './listeners.js';
export { describeBrokerConfigs, ENV_PREFIX, loadBrokerConfig, type BrokerConfig, type LoadOptions, type LoadResult } from './broker-config.js';
export {
  describeTopicConfigs,
  DYNAMIC_BROKER_KEYS,
  effectiveTopicConfig,
  TOPIC_KEYS,
  topicKey,
  validateTopicConfigs,
  type TopicConfig,
  type TopicConfigCheck,
  type TopicKeyDef,
} from './topic-keys.js';
