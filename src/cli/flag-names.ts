/**
 * The library's messages name its API options (`maxWorkers`, `maxMemoryMb`); a CLI user typed
 * flags (`--max-workers`, `--max-memory`). What the CLI prints from the library (a refused
 * `scale`, the primary's log lines) goes through `inFlagNames`, so a message names what the
 * reader can change. Only the phrasings the library uses are rewritten; anything else passes
 * through untouched.
 */
import type { Logger } from '../logger.js';

/** API option -> the `clusterkit run` flag that sets it. */
export const kFlagOfOption: Readonly<Record<string, string>> = Object.freeze({
  maxWorkers: '--max-workers',
  maxMemoryMb: '--max-memory',
  shutdownTimeoutMs: '--shutdown-timeout',
  gradualDrainMs: '--gradual-drain',
  readyTimeoutMs: '--ready-timeout',
  'restart.maxRestarts': '--max-restarts',
  'restart.windowMs': '--restart-window',
  'restart.startupWindowMs': '--startup-window',
  'restart.maxStartupFailures': '--max-startup-failures',
});

const kOptionNames = Object.keys(kFlagOfOption)
  .map((name) => name.replaceAll('.', '\\.'))
  .join('|');
/** `(maxMemoryMb; clusterkit run: --max-memory)`: a message that already names both keeps the flag. */
const kBothNames = new RegExp(`\\((${kOptionNames}); clusterkit run: (--[a-z-]+)\\)`, 'g');
/** `the "maxWorkers" option`, `"maxWorkers"`, `(maxMemoryMb)`. */
const kOptionPhrase = new RegExp(`(?:the "(${kOptionNames})" option|"(${kOptionNames})"|\\((${kOptionNames})\\))`, 'g');

export function inFlagNames(message: string): string {
  return message
    .replace(kBothNames, (_, _option: string, flag: string) => `(${flag})`)
    .replace(/^The "count" option must be/, 'The worker count must be')
    // The primary's line for requests cut off at a worker's shutdown deadline.
    .replace(/\bRaise the shutdownTimeoutMs option\b/, 'Raise --shutdown-timeout (shutdownTimeout in the config file)')
    .replace(kOptionPhrase, (whole: string, quoted?: string, bare?: string, parenthesized?: string) => {
      if (parenthesized !== undefined) return `(${kFlagOfOption[parenthesized]})`;
      if (quoted !== undefined) return `the ${kFlagOfOption[quoted]} value`;
      return kFlagOfOption[bare!] ?? whole;
    });
}

/** `logger` with every message in flag names (the fields, `err` included, are left as they are). */
export function withFlagNames(logger: Logger): Logger {
  const wrap =
    (method: keyof Logger) =>
    (fields: object, message?: string): void =>
      logger[method](fields, message === undefined ? undefined : inFlagNames(message));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
