/**
 * Bad command-line input: the CLI prints the message and the command's usage, and exits 2.
 * `code` is stable (`ERR_USAGE`; `ERR_ENV_FILE` for an env file's: H328), as the library's
 * error classes have theirs (src/errors.ts).
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  readonly code: string = 'ERR_USAGE';

  constructor(
    message: string,
    /** The command whose usage to print; undefined for the top level. */
    readonly command?: string,
    /** Problems listed under the message, one line each (a config file's, all at once). */
    readonly details: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(details.length === 0 ? message : `${message}\n${details.map((detail) => `  - ${detail}`).join('\n')}`, options);
    this.headline = message;
  }

  /** The message without its details. */
  readonly headline: string;
}

/**
 * An env file (`--env-file`) that cannot be used: it cannot be read, is no regular file or is
 * too large, or a line of it sets no variable as `NAME=value`, or a name or value it sets is
 * refused. `path` is the file, `line` the line (from 1) when one line is at fault. The CLI exits
 * 2, as for any `UsageError`. A config file's `envFile` is reported among the config file's
 * problems, a `UsageError` (H328).
 */
export class EnvFileError extends UsageError {
  override readonly name: string = 'EnvFileError';
  override readonly code: string = 'ERR_ENV_FILE';

  constructor(
    message: string,
    /** The env file, as given. */
    readonly path: string,
    /** The line at fault (from 1), or undefined for the whole file. */
    readonly line: number | undefined,
    command = 'run',
    options?: { cause?: unknown },
  ) {
    super(message, command, [], options);
  }
}
