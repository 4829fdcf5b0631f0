// `strata rack-init`: the init container of a broker pod when the StrataCluster sets spec.rack.
//
// A container cannot read its node's labels through the downward API, and brokers get no
// Kubernetes credentials. So the operator reads the label of the node a broker pod was scheduled
// to and writes it on the pod as the annotation `strata.dev/rack` (controller/cluster-reconciler.ts);
// the pod sees its own annotations in a downward API volume, which the kubelet refreshes while the
// pod runs. This command waits for the annotation there, then writes the broker's config: the
// ConfigMap's server.properties with `broker.rack` added, into an emptyDir the broker reads.
//
// It needs nothing from broker/ and no API access: node:fs only, so it starts in milliseconds.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const ANNOTATION_RACK = 'strata.dev/rack';
/** How often the annotations file is read while waiting. */
const POLL_MS = 1000;
/** Waiting longer than this exits 1, so the kubelet restarts the init container and the pod's
 *  status shows it; the operator writes the annotation within seconds once it can. */
const DEFAULT_TIMEOUT_SECONDS = 600;
/** Kubernetes label values: at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)$/;

export const RACK_INIT_HELP = `Usage: strata rack-init --annotations FILE --config FILE --out FILE [--timeout-seconds N]

The init container of a Strata broker pod with rack awareness. Waits until the pod's
annotation ${ANNOTATION_RACK} appears in FILE (a downward API volume of metadata.annotations;
the operator sets it from the label of the pod's node), then writes --config with
broker.rack=<value> added to --out, and exits 0. Exits 1 when the annotation has not appeared
after --timeout-seconds (default ${DEFAULT_TIMEOUT_SECONDS}) or is not a valid label value.

Options:
  --annotations FILE     the downward API file of the pod's annotations
  --config FILE          the broker's server.properties (from the ConfigMap)
  --out FILE             where to write the config the broker reads
  --timeout-seconds N    how long to wait for the annotation
  -h, --help             show this help
`;

/**
 * The value of annotation `key` in a downward API annotations file: one `key="value"` line per
 * annotation, the value quoted as Go's %q does (for label values, plain JSON string syntax).
 * Undefined when absent.
 */
export function annotationValue(text: string, key: string): string | undefined {
  const prefix = `${key}=`;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  const quoted = line.slice(prefix.length);
  try {
    const v: unknown = JSON.parse(quoted);
    if (typeof v === 'string') return v;
  } catch {
    // fall through: not a quoted string
  }
  throw new Error(`annotation ${key} is not a quoted string: ${quoted.slice(0, 80)}`);
}

/** The broker's config with broker.rack set; the last occurrence of a key wins in the loader, so
 *  it is appended after the file's own lines. */
export function configWithRack(configText: string, rack: string): string {
  if (!LABEL_VALUE.test(rack)) throw new Error(`annotation ${ANNOTATION_RACK} is '${rack}', not a Kubernetes label value`);
  const body = configText.endsWith('\n') || configText === '' ? configText : `${configText}\n`;
  return `${body}# Added by strata rack-init from the pod's ${ANNOTATION_RACK} annotation.\nbroker.rack=${rack}\n`;
}

export interface RackInitIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly nowMs?: () => number;
}

export async function runRackInit(argv: string[], io: RackInitIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        annotations: { type: 'string' },
        config: { type: 'string' },
        out: { type: 'string' },
        'timeout-seconds': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.err(`strata rack-init: ${(e as Error).message}\n\n${RACK_INIT_HELP}`);
    return 2;
  }
  if (values.help === true) {
    io.out(RACK_INIT_HELP);
    return 0;
  }
  const missing = (['annotations', 'config', 'out'] as const).filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    io.err(`strata rack-init: missing --${missing.join(', --')}\n\n${RACK_INIT_HELP}`);
    return 2;
  }
  const timeoutSeconds = values['timeout-seconds'] === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values['timeout-seconds']);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
    io.err(`strata rack-init: --timeout-seconds must be a number of seconds, not '${values['timeout-seconds']}'\n`);
    return 2;
  }
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = io.nowMs ?? Date.now;
  const deadline = now() + timeoutSeconds * 1000;
  let waitedLogged = false;
  for (;;) {
    let rack: string | undefined;
    try {
      rack = annotationValue(readFileSync(values.annotations!, 'utf8'), ANNOTATION_RACK);
    } catch (e) {
      // A missing file is a pod without the volume yet (or a typo, which the timeout reports).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        io.err(`strata rack-init: ${(e as Error).message}\n`);
        return 1;
      }
    }
    if (rack !== undefined) {
      try {
        const text = configWithRack(readFileSync(values.config!, 'utf8'), rack);
        const tmp = `${values.out!}.tmp`;
        writeFileSync(tmp, text);
        renameSync(tmp, values.out!);
      } catch (e) {
        io.err(`strata rack-init: ${(e as Error).message}\n`);
        return 1;
      }
      io.out(`${JSON.stringify({ level: 'info', msg: 'broker.rack written', rack, out: values.out })}\n`);
      return 0;
    }
    if (now() >= deadline) {
      io.err(`strata rack-init: annotation ${ANNOTATION_RACK} did not appear in ${values.annotations} within ${timeoutSeconds} s; the operator sets it from the node's rack label once the pod is scheduled (is the label on the node?)\n`);
      return 1;
    }
    if (!waitedLogged) {
      io.out(`${JSON.stringify({ level: 'info', msg: `waiting for the ${ANNOTATION_RACK} annotation`, file: values.annotations })}\n`);
      waitedLogged = true;
    }
    await sleep(POLL_MS);
  }
}
