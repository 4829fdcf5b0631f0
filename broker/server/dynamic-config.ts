// Dynamic broker configs: what Kafka's `kafka-configs --entity-type brokers --alter` changes at run
// time. Two layers over the static configuration (file, environment, --override), as in Kafka: the
// cluster-wide default (resource name "") and this broker's own (resource name = node.id), the
// latter winning. Only the broker keys that are defaults of topic configs (log.retention.ms,
// log.segment.bytes, message.max.bytes, ...) can change this way; they reach every topic without
// its own override at once. The layers live in `dynamic-broker-configs.json`, written atomically to
// every online log directory with a generation (the newest readable copy wins), and are applied
// again at the next start.
import { readNewestCopy } from '../log/log-dirs.js';
import { noFaults } from '../log/types.js';
import { writeFileAtomic } from '../log/files.js';
import { type BrokerConfig, ConfigError, DYNAMIC_BROKER_KEYS, type LoadOptions, describeBrokerConfigs, loadBrokerConfig } from '../config/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { DescribedConfig } from '../handlers/context.js';

const FILE = 'dynamic-broker-configs.json';

/** Kafka's config sources for the two dynamic layers. */
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;

/** The broker keys that may change at run time (declared in broker/config). */
export { DYNAMIC_BROKER_KEYS };

export type DynamicScope = 'cluster-default' | 'broker';

interface Stored {
  version: 1;
  generation?: number;
  clusterDefault: Record<string, string>;
  broker: Record<string, string>;
}

export class DynamicBrokerConfig {
  private layers: { 'cluster-default': Record<string, string>; broker: Record<string, string> };
  private config: BrokerConfig;
  private generation: number;
  /** Where the layers are written; the broker points it at its online log directories. */
  writer: (name: string, text: string) => void;

  /** Loads the static configuration with the stored dynamic layers over it (the newest copy among
   *  the log directories). */
  constructor(
    private readonly staticOptions: LoadOptions,
    logDirs: readonly string[],
  ) {
    const stored = readNewestCopy<Stored>(logDirs, FILE, (s) => s.generation ?? 0) ?? undefined;
    this.generation = stored?.generation ?? 0;
    this.writer = (name, text) => {
      for (const d of logDirs) writeFileAtomic(d, name, text, noFaults);
    };
    this.layers = { 'cluster-default': stored?.clusterDefault ?? {}, broker: stored?.broker ?? {} };
    this.config = this.load(this.layers);
  }

  get current(): BrokerConfig {
    return this.config;
  }

  layer(scope: DynamicScope): Readonly<Record<string, string>> {
    return this.layers[scope];
  }

  private load(layers: DynamicBrokerConfig['layers']): BrokerConfig {
    // Later overrides win: cluster default first, then this broker's own.
    const dynamic = [...Object.entries(layers['cluster-default']), ...Object.entries(layers.broker)].map(([k, v]) => `${k}=${v}`);
    return loadBrokerConfig({ ...this.staticOptions, overrides: [...(this.staticOptions.overrides ?? []), ...dynamic] }).config;
  }

  /** Replaces one layer. Returns a Kafka error for a key that cannot change at run time
   *  (INVALID_REQUEST) or a value the key does not allow (INVALID_CONFIG); applies nothing then. */
  replace(scope: DynamicScope, next: Record<string, string>, validateOnly: boolean): { errorCode: number; message: string } | null {
    const fixed = Object.keys(next).filter((k) => !DYNAMIC_BROKER_KEYS.has(k));
    if (fixed.length > 0) {
      return { errorCode: ErrorCode.INVALID_REQUEST, message: `cannot update these configs dynamically: ${fixed.join(', ')} (set them in server.properties)` };
    }
    const layers = { ...this.layers, [scope]: next };
    let config: BrokerConfig;
    try {
      config = this.load(layers);
    } catch (e) {
      if (e instanceof ConfigError) return { errorCode: ErrorCode.INVALID_CONFIG, message: e.message };
      throw e;
    }
    if (validateOnly) return null;
    this.persist(layers);
    this.layers = layers;
    this.config = config;
    return null;
  }

  private persist(layers: DynamicBrokerConfig['layers']): void {
    const stored: Stored = { version: 1, generation: this.generation + 1, clusterDefault: layers['cluster-default'], broker: layers.broker };
    this.writer(FILE, JSON.stringify(stored, null, 1));
    this.generation++;
  }

  /** DescribeConfigs for the broker: dynamic keys are writable and report the layer they come from. */
  describe(): DescribedConfig[] {
    return describeBrokerConfigs(this.config).map((e) => {
      const dynamicKey = DYNAMIC_BROKER_KEYS.has(e.name);
      let source: number = e.source;
      if (e.name in this.layers.broker) source = DYNAMIC_BROKER_CONFIG;
      else if (e.name in this.layers['cluster-default']) source = DYNAMIC_DEFAULT_BROKER_CONFIG;
      return {
        ...e,
        source,
        isDefault: source === e.source && e.isDefault,
        readOnly: !dynamicKey,
        synonyms: e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
      };
    });
  }
}
