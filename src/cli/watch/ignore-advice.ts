/**
 * How a `--watch` warning tells the reader to leave paths out: the flag, and the config key
 * as their file spells it. A PM2 ecosystem file that already has `ignore_watch` refuses an
 * added `ignoreWatch` ("both keys", exit 2), so the advice names the key the file wrote, or,
 * when it wrote none, the key of its style (H212).
 */
import { shellWord } from '../../shell-word.js';

/** The config file's key that lists ignored paths, when a config file is run. */
export interface IgnoreKey {
  /** `ignore_watch` or `ignoreWatch`. */
  readonly key: string;
  /** The config file's name, as the reader knows it (`ecosystem.config.js`). */
  readonly file: string;
  /** Whether the app already has the key: then the paths are added to it. */
  readonly isWritten: boolean;
}

/** `add --ignore-watch a.txt (ignoreWatch: ["a.txt"] in the config file)`, or the file's own key. */
export function ignorePathsAdvice(paths: readonly string[], key: IgnoreKey | undefined): string {
  const flags = paths.map((path) => `--ignore-watch ${shellWord(path)}`).join(' ');
  const quoted = paths.map((path) => JSON.stringify(path)).join(', ');
  if (key === undefined) return `add ${flags} (ignoreWatch: [${quoted}] in the config file)`;
  const inFile = key.isWritten ? `add ${quoted} to ${key.key} in ${key.file}` : `add ${key.key}: [${quoted}] to the app in ${key.file}`;
  return `${inFile} (or ${flags} on the command line)`;
}

/** `with --ignore-watch (ignoreWatch in the config file)`, or the file's own key. */
export function ignoreOptionAdvice(key: IgnoreKey | undefined): string {
  return key === undefined ? 'with --ignore-watch (ignoreWatch in the config file)' : `with ${key.key} in ${key.file} (or --ignore-watch)`;
}

