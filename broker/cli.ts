// The `strata` command line. bin/strata imports this module in its own process, so signals sent to
// that pid reach whatever command runs here.
import { parseArgs } from 'node:util';

const HELP = `strata: a Kafka-compatible streaming broker with tiered storage

Usage:
  strata <command> [options]

Commands:
  broker     run a broker (arrives with the single-node broker; not built yet)
  version    print the version

Options:
  -h, --help  show this help
`;

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help === true || command === undefined || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined && values.help !== true ? 2 : 0;
  }
  switch (command) {
    case 'version':
      process.stdout.write('strata 0.1.0\n');
      return 0;
    case 'broker':
      process.stderr.write('strata broker: the broker is not built yet; this checkout carries the protocol foundation only\n');
      return 2;
    default:
      process.stderr.write(`strata: unknown command '${command}'; commands: broker, version (see strata --help)\n`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
