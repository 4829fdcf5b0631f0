// The `strata` command line. bin/strata imports this module in its own process, so signals sent to
// that pid reach the broker itself.
import { parseArgs } from 'node:util';
import { ConfigError, loadBrokerConfig } from './config/index.js';
import { createLogger } from './observability/logger.js';
import { Broker } from './server/broker.js';
import { brokerOptions } from './server/from-config.js';
import { ObjectStoreCheckError } from './tiered/probe.js';
import { DynamicBrokerConfig } from './server/dynamic-config.js';
import { PartitionLog } from './log/index.js';
import { FAULTS_ENV, faultInjector, parseFaultRules } from './log/fault-plan.js';
import type { LogFactory } from './cluster/topics.js';

const VERSION = '0.1.0';

const HELP = `strata: a Kafka-compatible streaming broker with tiered storage

Usage:
  strata <command> [options]

Commands:
  broker     run a broker
  operator   run the Kubernetes operator
  rack-init  the init container of a broker pod with rack awareness (Kubernetes)
  version    print the version

Run 'strata broker --help' or 'strata operator --help' for their options.
`;

const BROKER_HELP = `Usage: strata broker [--config FILE] [--override KEY=VALUE]...

Runs one Strata broker until it gets SIGTERM or SIGINT, then shuts down cleanly (in-flight
requests finish, logs are closed so the next start needs no recovery) and exits 0.

Options:
  -c, --config FILE         a server.properties file, with Apache Kafka's broker keys
  -o, --override KEY=VALUE  set one key, over the file and the environment (repeatable)
  -h, --help                show this help

With no options it runs on embedded defaults: a PLAINTEXT listener on 127.0.0.1:9092, data in
./data, topics created on first use, and an HTTP endpoint on 127.0.0.1:9644 serving /metrics,
/healthz and /readyz. Environment variables STRATA_CONFIG_<KEY> set keys too
(STRATA_CONFIG_LOG_RETENTION_HOURS=24 sets log.retention.hours). Every key is described in
docs/configuration.md. An unknown key or a bad value stops start-up with a message naming it.
`;

async function runBroker(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        override: { type: 'string', short: 'o', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`strata broker: ${(e as Error).message}\n\n${BROKER_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(BROKER_HELP);
    return 0;
  }
  // kafka-server-start takes the properties file as its first argument; accept that form too.
  const file = values.config ?? positionals[0];
  if (positionals.length > (values.config === undefined ? 1 : 0)) {
    process.stderr.write(`strata broker: unexpected argument '${positionals.at(-1)}'\n\n${BROKER_HELP}`);
    return 2;
  }
  const loadOptions = { ...(file === undefined ? {} : { file }), overrides: values.override ?? [], env: process.env };
  let loaded;
  let dynamic: DynamicBrokerConfig;
  try {
    loaded = loadBrokerConfig(loadOptions);
    // Dynamic broker configs stored by an earlier run go over the static ones.
    dynamic = new DynamicBrokerConfig(loadOptions, loaded.config.logDirs);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`strata broker: invalid configuration: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { warnings } = loaded;
  const config = dynamic.current;
  const log = createLogger({ level: config.strataLogLevel, format: config.strataLogFormat });
  for (const w of warnings) log.warn(w);
  let faults: ReturnType<typeof faultInjector> | undefined;
  const armed = process.env[FAULTS_ENV];
  if (armed !== undefined && armed !== '') {
    try {
      faults = faultInjector(parseFaultRules(armed));
    } catch (e) {
      process.stderr.write(`strata broker: ${(e as Error).message}\n`);
      return 2;
    }
    log.warn('fault injection is armed: this broker will fail on purpose (testing only)', { [FAULTS_ENV]: armed });
  }
  const openLog: LogFactory['open'] = (req) =>
    PartitionLog.open({ dir: req.dir, config: req.config, logger: log.child({ topic: req.topic, partition: req.partition }), diskSpace: req.diskSpace, faults: req.faults, onFailure: req.onFailure });
  // Kafka halts when its last log directory fails: nothing can be served or written any more.
  const halt = (reason: string) => {
    log.error(`shutting down: ${reason}`, { exitCode: 1 });
    process.exit(1);
  };
  // The signal handlers are in place before the broker starts: a SIGTERM that arrives while it
  // starts, or just after it logs "broker started", stops it cleanly instead of killing it.
  let signalled: string | null = null;
  let onSignal: (signal: string) => void = (signal) => {
    signalled ??= signal;
  };
  const handler = (signal: string) => () => onSignal(signal);
  process.once('SIGTERM', handler('SIGTERM'));
  process.once('SIGINT', handler('SIGINT'));
  let broker: Broker;
  try {
    broker = new Broker(brokerOptions(dynamic, log, openLog, { halt, ...(faults === undefined ? {} : { faultsFor: faults.forDir }) }));
    await broker.start();
  } catch (e) {
    log.error('start-up failed', { reason: (e as Error).message, err: e });
    // The object store check names the step and the store; say it where an operator looks first.
    if (e instanceof ObjectStoreCheckError) process.stderr.write(`strata broker: tiered storage: ${e.message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info('signal received, shutting down', { signal });
      broker.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error('shutdown failed', { err: e });
          resolve(1);
        },
      );
    };
    onSignal = stop;
    if (signalled !== null) stop(signalled);
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(HELP);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    case 'version':
    case '--version':
      process.stdout.write(`strata ${VERSION}\n`);
      return 0;
    case 'broker':
      return runBroker(rest);
    case 'operator':
      // Loaded only for this command: the broker never loads the Kubernetes client.
      return (await import('../operator/process/main.js')).runOperator(rest, VERSION);
    case 'rack-init': {
      // Loaded only for this command: a broker's start-up does not pay for it.
      const { runRackInit } = await import('../operator/pod/rack-init.js');
      return runRackInit(rest, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
    }
    default:
      process.stderr.write(`strata: unknown command '${command}'; commands: broker, operator, rack-init, version (see strata --help)\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A stopped broker (or operator) has closed its listeners and logs; exit now rather than wait
    // on a library's stray handle.
    if (process.argv[2] === 'broker' || process.argv[2] === 'operator') process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`strata: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
