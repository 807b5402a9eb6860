/**
 * `clusterkit run --watch`: a change to a watched file reloads the workers one by one (the
 * primary's rolling reload), so, unlike PM2's restart-on-change, a request in flight during a
 * save is still answered. A change that makes the new code fail to start leaves the old
 * workers serving; the reload's error is logged, and the next change tries again.
 *
 * The watcher is chokidar (a runtime dependency): it lets us skip node_modules and dot
 * directories before descending into them, where Node 20's recursive `fs.watch` has no ignore
 * option and would put an inotify watch on every directory of node_modules (and runs out of
 * them on big projects). It is imported only when --watch is given.
 */
import { fstatSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Logger } from '../../logger.js';
import type { WatchSettings } from '../run-settings.js';
import { createIgnoreTest } from './watch-ignore.js';

/** File names listed in the "change detected" line; more are counted. */
const kListedChanges = 3;

export interface Reloadable {
  reload(): Promise<void>;
}

/**
 * Starts watching; resolves once the initial scan is done (changes from then on count).
 * Returns the function that stops watching.
 */
export async function watchAndReload(settings: WatchSettings, target: Reloadable, cwd: string, logger: Logger): Promise<() => Promise<void>> {
  const { watch } = await import('chokidar');
  const isIgnored = createIgnoreTest(settings.paths, settings.ignore, cwd);
  const isOwnOutput = ownOutputTest();
  const watcher = watch([...settings.paths], { ignoreInitial: true, ignored: isIgnored, persistent: false });
  const changed = new Set<string>();
  /** The debounce timer; set from a change until the reload starts. */
  let timer: NodeJS.Timeout | undefined;
  let isReloading = false;
  let isClosed = false;

  const reload = async () => {
    timer = undefined;
    if (isReloading || isClosed) return;
    const files = [...changed].map((path) => relative(cwd, path) || path);
    changed.clear();
    isReloading = true;
    const more = files.length > kListedChanges ? ` and ${files.length - kListedChanges} more` : '';
    logger.info({}, `change detected in ${files.slice(0, kListedChanges).join(', ')}${more}: reloading the workers one by one`);
    try {
      await target.reload();
    } catch {
      // The primary has logged why ("rolling reload failed: ..."); say what happens next.
      if (!isClosed) logger.warn({}, 'the old workers keep serving; the next change reloads again');
    } finally {
      isReloading = false;
    }
    // Changes made during the reload get a reload of their own.
    if (changed.size > 0 && !isClosed) schedule();
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void reload(), settings.delayMs);
  };
  watcher.on('all', (event, path) => {
    if (event === 'addDir' || isOwnOutput(path)) return;
    changed.add(path);
    if (!isReloading) schedule();
  });
  watcher.on('error', (error) => {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'ENOSPC' ? ' (out of inotify watches: raise fs.inotify.max_user_watches, or watch fewer paths)' : '';
    logger.warn({ code }, `watch error: ${(error as Error).message}${hint}`);
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  const shown = settings.paths.map((path) => relative(cwd, path) || '.').join(', ');
  const ignoring = ['node_modules', 'dot entries', '*.log', ...settings.ignore].join(', ');
  logger.info({}, `watching ${shown} (ignoring ${ignoring}); a change reloads the workers with no downtime`);
  return async () => {
    isClosed = true;
    if (timer) clearTimeout(timer);
    await watcher.close();
  };
}

/**
 * Our own stdout and stderr, when they are files (`clusterkit run --watch > out.txt`, nohup's
 * nohup.out): each reload writes to them, and a change to them would reload forever.
 */
function ownOutputTest(): (path: string) => boolean {
  const files = new Set<string>();
  for (const fd of [1, 2]) {
    try {
      const stats = fstatSync(fd);
      if (stats.isFile()) files.add(`${stats.dev}:${stats.ino}`);
    } catch {
      // closed: nothing to ignore
    }
  }
  if (files.size === 0) return () => false;
  return (path) => {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats !== undefined && files.has(`${stats.dev}:${stats.ino}`);
  };
}
