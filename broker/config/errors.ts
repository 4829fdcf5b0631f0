// One error class for every configuration problem: a bad file, an unknown key, a value out of
// range. Start-up prints the message and exits; the admin handlers (CreateTopics, AlterConfigs)
// never see it, because topic validation returns its verdict as data (see topic-keys.ts).

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Kafka's name for the error class these map to (INVALID_CONFIG, error code 40). */
  readonly code = 'INVALID_CONFIG';
  /** The key at fault, or null when the problem is not one key's (an unreadable file). */
  readonly key: string | null;
  /** 1-based line in the properties text, when the problem comes from one. */
  readonly line: number | undefined;

  constructor(message: string, key: string | null, options?: { line?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.key = key;
    this.line = options?.line;
  }
}
