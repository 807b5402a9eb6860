/**
 * Bad command-line input: the CLI prints the message and the command's usage, and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  constructor(
    message: string,
    /** The command whose usage to print; undefined for the top level. */
    readonly command?: string,
  ) {
    super(message);
  }
}
