/**
 * Finds paths the reload itself writes (H99): something written into the watched directory on
 * each reload (the app's output under a name that is not `*.log`, a database, `clusterkit logs
 * -f > debug.txt` in the project) reloads the workers forever, each reload writing it again.
 *
 * Only a write made while a reload ran counts (H269): "during or just after" counted a person
 * saving every 2 s, a `git checkout` storm and a rebuild loop, and dropped src/app.js, the
 * script and the watched root themselves, for the rest of the run. And only what may be the
 * app's output is ever dropped: a watched root, the script being run and any code or config
 * file changing during reloads is a person or a build, and gets another reload instead.
 */
import { extname } from 'node:path';

/**
 * A path written while this many reloads in a row ran is written by the reload itself: it is
 * named once and no longer watched, or it would reload the workers forever.
 */
export const kReloadLoopCount = 3;

/** Extensions of code and config files: never taken for the app's output, never offered to be left out. */
const kCodeExtensions = new Set([
  ...['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx', '.json', '.node', '.wasm'],
  ...['.json5', '.jsonc', '.yaml', '.yml', '.toml', '.ini', '.env', '.graphql', '.gql', '.proto', '.html', '.css', '.hbs', '.ejs', '.pug', '.vue', '.svelte'],
]);

export function isCodeFile(path: string): boolean {
  return kCodeExtensions.has(extname(path).toLowerCase());
}

export interface ReloadLoopDetector {
  /**
   * At the start of a reload: the paths written while the previous reload ran. Returns the
   * paths written during each of the last `kReloadLoopCount` reloads: the loop.
   */
  next(writtenDuringPrevious: Iterable<string>): string[];
}

/**
 * A code or config file written while this many reloads in a row ran is named once (still
 * watched): an app that writes `state.json` at each start would otherwise reload forever unsaid.
 */
export const kCodeLoopCount = 5;

/** A path counts for a reload when it was written while the reload before it ran, `count` times in a row. */
export function reloadLoopDetector(count = kReloadLoopCount): ReloadLoopDetector {
  /** Reloads in a row during which each path was written. */
  let streaks = new Map<string, number>();
  return {
    next(writtenDuringPrevious) {
      const previous = streaks;
      streaks = new Map();
      const looping: string[] = [];
      for (const path of writtenDuringPrevious) {
        const streak = (previous.get(path) ?? 0) + 1;
        if (streak >= count) looping.push(path);
        else streaks.set(path, streak);
      }
      return looping;
    },
  };
}
