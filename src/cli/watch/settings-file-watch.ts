/**
 * The files an app's settings were read from (its config file, `--env-file`, `envFile`) that
 * the watched tree does not hold: a dot file (`.env`, the commonest name, as dot entries are
 * ignored), one outside the watched paths, or one the user's ignore patterns leave out. Before,
 * their changes went unseen, and the H306 line about a changed env file never came for `.env`
 * (retest t33 LOW, H316). Each is polled (one stat every `kRootPollMs`), which sees an editor's
 * save by rename too; a change is told, and reloads nothing: the workers load
 * no code from it, and its settings wait for a restart.
 */
import { statSync } from 'node:fs';
import { toError } from '../../to-error.js';
import { kRootPollMs } from './tree-watcher.js';

export interface SettingsFileWatch {
  close(): void;
}

/**
 * Polls `files` (absolute); `changed` is told of each change, `failed` of what it throws. Each
 * file's state is taken at once, here: `fs.watchFile` takes its first one later, and missed a
 * save made in between.
 */
export function watchSettingsFiles(files: readonly string[], changed: (file: string) => void, failed: (error: Error) => void): SettingsFileWatch {
  const states = new Map([...new Set(files)].map((file) => [file, stateOf(file)]));
  const timer =
    states.size === 0
      ? undefined
      : setInterval(() => {
          for (const [file, before] of states) {
            const now = stateOf(file);
            if (now === before) continue;
            states.set(file, now);
            try {
              changed(file);
            } catch (error) {
              failed(toError(error));
            }
          }
        }, kRootPollMs);
  timer?.unref();
  return {
    close: () => clearInterval(timer),
  };
}

/** What changes when a file is written, replaced or removed: its inode, size, mtime and ctime. */
export function stateOf(file: string): string {
  try {
    const stats = statSync(file, { throwIfNoEntry: false });
    return stats === undefined ? 'missing' : `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
  } catch (error) {
    return `unreadable: ${(error as NodeJS.ErrnoException).code ?? ''}`;
  }
}
