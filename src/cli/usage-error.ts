/**
 * Bad command-line input: the CLI prints the message and the command's usage, and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    /** The command whose usage to print; undefined for the top level. */
    readonly command?: string,
    /** Problems listed under the message, one line each (a config file's, all at once). */
    readonly details: readonly string[] = [],
  ) {
    super(details.length === 0 ? message : `${message}\n${details.map((detail) => `  - ${detail}`).join('\n')}`);
    this.headline = message;
  }

  /** The message without its details. */
  readonly headline: string;
}
