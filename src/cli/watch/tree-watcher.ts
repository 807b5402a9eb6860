/**
 * The chokidar watcher of `--watch`, kept watching when a watched directory is deleted,
 * replaced or moved away and back (`rimraf dist && tsc`, `git checkout`, `mv src src.bak; mv
 * src.bak src`) (H256).
 *
 * chokidar does not follow a directory once it is gone: its watches stay on the deleted inode,
 * so a directory deleted and made again at once is never seen again, and a watched root that
 * went away is not picked up when it comes back, least of all when its parent went with it
 * (paulmillr/chokidar#917, #1042, #1278: "watch the parent"). Before, the first rebuild still
 * reloaded and every later edit went unseen, without a word. Here:
 *
 * - each root is polled with `fs.watchFile` (one stat every `kRootPollMs`), which sees a path
 *   go and come back whatever happened to its parents;
 * - the watcher is made again ("re-armed") when a root, or a directory a change came from,
 *   is no longer the directory it was armed on (another inode, or gone), or a directory was
 *   removed. `check()` does that before each reload, so the reload reads what the new watcher
 *   sees from then on;
 * - a root that is gone is said once (`lost`), listed by `missing` for `clusterkit show`, and
 *   watched again once it is back (`back`); one made again between two polls is a change
 *   (`replaced`), as chokidar may have told of nothing (H270).
 *
 * Symbolic links found inside the roots are not followed (H469), as webpack's watchpack and
 * watchman do not: `ln -s / root` in the app's directory made the primary walk all of `/`
 * (1 GB, tens of seconds, EACCES warnings from /proc). A root that is itself a link
 * (`--watch src` with src -> ../shared/src) is still watched: chokidar is given its target, and
 * each path it tells of is said under the root's own name, so the rest of `--watch` (the
 * script, the roots, the ignore rules, `show`) sees the paths the user named.
 */
import { lstatSync, realpathSync, statSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { toError } from '../../to-error.js';
import { kWatchIntake, processOwnWork } from '../../primary/lifecycle/own-work.js';
import { WatchBudget, type LeftOut } from './watch-budget.js';
import { importModule } from '../../import-module.js';

/** How often a root is polled for being removed, replaced or back (ms). */
export const kRootPollMs = 500;

/** Paths of a storm remembered as told (H654): past this many, a file changed during it is told again after it. */
const kMaxReported = 100_000;
/** Paths chokidar looks at less than this far apart (ms) are one run of its work. */
const kIntakeGapMs = 100;
/** A run of this many paths is a storm (a checkout, a build, data written), not a save. */
const kIntakeStormPaths = 500;
/**
 * A run of this many paths may have overflowed the kernel's queue of watch events (inotify's
 * `max_queued_events`, 16,384 by default; chokidar is told nothing of an overflow): once it is
 * over, the watcher is made again from what is on disk (H654), as watchman recrawls.
 */
const kRecrawlPaths = 2_000;
/** A storm is over once no change came for this long (ms); changes closer together are one storm. */
const kRecrawlQuietMs = 1_000;
/** How far behind Date.now() a file's mtime may be (ms): Linux stamps it from a coarse clock (a tick, 4 ms at 250 Hz). */
export const kMtimeSlackMs = 20;

export interface TreeWatcherEvents {
  /** A file or directory changed (chokidar's `all` event). */
  change(event: string, path: string): void;
  /** Roots that are gone (removed or moved away): their changes are not seen until they are back. */
  lost(roots: readonly string[]): void;
  /** Roots that were gone and are back: watched again. */
  back(roots: readonly string[]): void;
  /**
   * Roots found made again since the last arm (`rm -rf dist; mkdir dist; ...` in one go), which
   * may give chokidar no event at all: a change of each (H270).
   */
  replaced(roots: readonly string[]): void;
  /** chokidar's errors, and a re-arm that failed. */
  error(error: Error): void;
  /**
   * Directories left out of the watch for holding too many entries, or where new entries were
   * not watched, the watch being full (H650, `WatchBudget`).
   */
  limited?(leftOut: LeftOut): void;
  /** A storm of `changes` is over, and the watcher was made again from what is on disk (H654). */
  recrawled?(changes: number): void;
  /** The watch, full before, has room again: `full` is empty (H650). */
  roomy?(): void;
}

export interface TreeWatcherOptions {
  /** Paths (absolute) whose directories are never left out for their size: the script being run. */
  readonly keep?: readonly string[] | undefined;
  /** The limits, for tests: `kMaxDirectoryEntries`, `kMaxWatchedEntries`, `kRecrawlPaths` by default. */
  readonly limits?: { readonly maxDirectoryEntries?: number; readonly maxEntries?: number; readonly recrawlPaths?: number } | undefined;
}

export class TreeWatcher {
  readonly #roots: readonly string[];
  readonly #ignored: (path: string) => boolean;
  readonly #events: TreeWatcherEvents;
  #watcher: FSWatcher | undefined;
  /** The identity (`identity()`) of each root and watched directory as armed (undefined: the root was missing). */
  #inodes = new Map<string, string | undefined>();
  /** Directories changes came from since the last check. */
  readonly #suspects = new Set<string>();
  /** A directory was removed since the last check. */
  #hasRemoval = false;
  /** Roots that were missing at the last arm. */
  #missing = new Set<string>();
  /** Checks and re-arms, one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #isClosed = false;
  /** The roots that are links, by their target (`[target, root]`), as the last arm resolved them (H469). */
  #aliases: Array<[string, string]> = [];
  /** How much of the tree is watched (H650). */
  readonly #budget: WatchBudget;
  /** A look at what the budget left out is due (once per turn of the event loop, however many paths chokidar asks about). */
  #isBudgetLookDue = false;
  /** The current run of paths chokidar looks at: when it began, when the last came (Date.now()), how many. */
  #intake = { startAt: 0, lastAt: 0, paths: 0 };
  /**
   * A storm big enough to have overflowed the kernel's queue (H654): when it began, the paths
   * chokidar told of since (at most `kMaxReported`), and the look for its end.
   */
  #storm: { startAt: number; reported: Set<string>; timer: NodeJS.Timeout } | undefined;
  readonly #recrawlPaths: number;
  /** The current run of changes chokidar told of (H654). */
  readonly #changeRun = { startAt: 0, lastAt: 0, count: 0, reported: new Set<string>() };
  /** The next check makes the watcher again, a storm being over (H654). */
  #isRecrawlDue = false;

  private constructor(roots: readonly string[], ignored: (path: string) => boolean, events: TreeWatcherEvents, options: TreeWatcherOptions) {
    this.#roots = roots;
    this.#ignored = ignored;
    this.#events = events;
    this.#budget = new WatchBudget(roots, options.keep, options.limits);
    this.#recrawlPaths = options.limits?.recrawlPaths ?? kRecrawlPaths;
  }

  /** Watches `roots` (absolute); resolves once the first scan is done (changes from then on count). */
  static async open(roots: readonly string[], ignored: (path: string) => boolean, events: TreeWatcherEvents, options: TreeWatcherOptions = {}): Promise<TreeWatcher> {
    const tree = new TreeWatcher(roots, ignored, events, options);
    // On the queue: a check asked for during the first scan (a directory found over the budget)
    // waits for it, rather than closing the watcher whose scan `open` waits for.
    const first = tree.#arm();
    tree.#queue = first.catch(() => {});
    await first;
    for (const root of roots) {
      // Against what was armed on, not the previous poll: a root removed and made again
      // between two polls never reads as missing to the poll.
      watchFile(root, { persistent: false, interval: kRootPollMs }, (current) => {
        if (identity(current) !== tree.#inodes.get(root)) tree.check().catch((error: unknown) => tree.#events.error(toError(error)));
      });
    }
    return tree;
  }

  /** The files watched now (absolute): the entries of the watched directories that are no directory themselves. */
  files(): string[] {
    const watched = this.#watcher?.getWatched() ?? {};
    const files: string[] = [];
    for (const [directory, names] of Object.entries(watched)) {
      for (const name of names) {
        const path = join(directory, name);
        if (!Object.hasOwn(watched, path) && !this.#budget.isWithinLeftOut(this.#named(path))) files.push(this.#named(path));
      }
    }
    return files;
  }

  /** The roots that are gone, waiting to come back. */
  get missing(): string[] {
    return [...this.#missing];
  }

  /** The directories left out for the rest of the run for holding too many entries (H650). */
  get leftOut(): string[] {
    return this.#budget.leftOut();
  }

  /** Where new entries are not watched now, the watch being full (H650). */
  get full(): string[] {
    return this.#budget.full();
  }

  /**
   * Re-arms the watcher when a root, or a directory a change came from since the last check,
   * was removed or replaced, or a directory was removed. Resolves once the watcher watches
   * what is on disk now.
   */
  check(): Promise<void> {
    const next = this.#queue.then(() => this.#checkNow());
    this.#queue = next.catch(() => {});
    return next;
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    clearInterval(this.#storm?.timer);
    for (const root of this.#roots) unwatchFile(root);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    await watcher?.close();
  }

  async #checkNow(): Promise<void> {
    if (this.#isClosed) return;
    const candidates = new Set([...this.#roots, ...this.#suspects]);
    this.#suspects.clear();
    let isStale = this.#hasRemoval || this.#isRecrawlDue;
    this.#hasRemoval = false;
    this.#isRecrawlDue = false;
    for (const path of candidates) {
      if (this.#inodes.has(path) && this.#inodes.get(path) !== inodeOf(path)) isStale = true;
    }
    if (isStale) await this.#arm();
  }

  async #arm(): Promise<void> {
    const previous = this.#watcher;
    this.#watcher = undefined;
    await previous?.close();
    if (this.#isClosed) return;
    const present = this.#roots.filter((root) => inodeOf(root) !== undefined);
    try {
      if (present.length > 0) await this.#watch(present);
    } catch (error) {
      this.#events.error(toError(error));
    }
    // Taken after the scan: what was armed on. A directory made during the scan is newer than
    // its entry here, and its next change re-arms once more, which is harmless.
    const inodes = new Map<string, string | undefined>();
    for (const root of this.#roots) inodes.set(root, inodeOf(root));
    // Read again: #watch() set it (narrowed to undefined above for the compiler).
    const current = this.#watcher as FSWatcher | undefined;
    for (const directory of Object.keys(current === undefined ? {} : this.#watched())) {
      if (this.#isWithinRoot(directory)) inodes.set(directory, inodeOf(directory));
    }
    const replaced = this.#roots.filter((root) => {
      const before = this.#inodes.get(root);
      return before !== undefined && inodes.get(root) !== undefined && inodes.get(root) !== before;
    });
    this.#inodes = inodes;
    const missing = new Set(this.#roots.filter((root) => inodes.get(root) === undefined));
    const lost = [...missing].filter((root) => !this.#missing.has(root));
    const back = [...this.#missing].filter((root) => !missing.has(root));
    this.#missing = missing;
    if (lost.length > 0) this.#events.lost(lost);
    if (back.length > 0) this.#events.back(back);
    if (replaced.length > 0) this.#events.replaced(replaced);
  }

  /** Makes the watcher of `roots` the current one; resolves once its first scan is done. */
  async #watch(roots: string[]): Promise<void> {
    const { watch } = await importModule<typeof import('chokidar')>('chokidar');
    if (this.#isClosed) return;
    // A root that is a link is watched through its target (chokidar, not following links,
    // would watch the link alone); what is found inside is never followed out (H469).
    this.#aliases = [];
    const targets = roots.map((root) => {
      const target = linkTarget(root);
      if (target === undefined) return root;
      this.#aliases.push([target, root]);
      return target;
    });
    // Counted afresh: the new watcher's scan takes the tree on again (the directories left out stay out).
    this.#budget.reset();
    const ignored = (path: string) => {
      this.#noteIntake();
      const named = this.#named(path);
      if (this.#ignored(named)) return true;
      if (!this.#budget.isLeftOut(named)) return false;
      this.#lookAtBudget();
      return true;
    };
    // Persistent, chokidar's default (H526): without it, a file's watch is its own fs.watch
    // alone, with no event from its folder's watch to fall back on. A write and, within 5 ms, a
    // rename over the file (a build step, then `sed -i` or an editor's atomic save) gave one
    // event, the rename's was throttled as a repeat, and the watch stayed on the old inode: no
    // later save of the file reloaded. `clusterkit run` closes the watcher at its shutdown and
    // ends its process itself, so nothing is held open by it.
    const watcher = watch(targets, { ignoreInitial: true, ignored, persistent: true, followSymlinks: false });
    // Current from now on: a change made during the scan counts.
    this.#watcher = watcher;
    let isReady = false;
    watcher.on('all', (event, target) => {
      if (this.#watcher !== watcher) return;
      this.#noteIntake();
      // chokidar (5.0) tells of each link it finds in its first scan as added, ignoreInitial or
      // not: each started a reload at the start (H469).
      if (!isReady && event === 'add' && isLink(target)) return;
      const path = this.#named(target);
      // Below a directory left out (H650): chokidar still tells of the files it watched in it before.
      if (this.#budget.isWithinLeftOut(path)) return;
      this.#noteEvent(path);
      if (event === 'unlink' || event === 'unlinkDir') {
        this.#budget.forget(path);
        if (this.#budget.takeRoom()) this.#events.roomy?.();
      }
      if (event === 'unlinkDir') this.#hasRemoval = true;
      // Armed on this one now: a later change checks it against this inode.
      else if (event === 'addDir') this.#inodes.set(path, inodeOf(path));
      this.#suspects.add(event === 'addDir' ? path : dirname(path));
      // What a change's handler throws is the watch's problem, said as such: thrown from
      // chokidar's listener it ended clusterkit run and every worker with it (H268).
      try {
        this.#events.change(event, path);
      } catch (error) {
        this.#events.error(toError(error));
      }
    });
    watcher.on('error', (error) => {
      if (this.#watcher === watcher) this.#events.error(toError(error));
    });
    await new Promise<void>((resolve) =>
      watcher.once('ready', () => {
        isReady = true;
        resolve();
      }),
    );
  }

  /**
   * Notes a storm of paths, as chokidar looks at each, as clusterkit's own work (H650): its reads,
   * stats and watches run on the primary's thread, and a report of the primary's blocked event
   * loop names them, not the user's code (there is none in `clusterkit run`'s primary).
   */
  #noteIntake(): void {
    const now = Date.now();
    const intake = this.#intake;
    if (now - intake.lastAt > kIntakeGapMs) {
      intake.startAt = now;
      intake.paths = 0;
    }
    intake.lastAt = now;
    if (++intake.paths >= kIntakeStormPaths) processOwnWork.extend(kWatchIntake, intake.startAt, now);
  }

  /**
   * Counts a change chokidar told of, at `path`: changes less than `kRecrawlQuietMs` apart are one
   * run, and a run of `kRecrawlPaths` is a storm, the watcher made again once it is over (H654).
   * Runs are not cut shorter: a storm told in bursts (the watch's thread busy, or the kernel's
   * queue overflowing) is one storm (retest t65: a 40,000-file delete, told in runs under the
   * bound, was never looked at again). Scans tell of none.
   */
  #noteEvent(path: string): void {
    const now = Date.now();
    const run = this.#changeRun;
    if (now - run.lastAt > kRecrawlQuietMs) {
      run.startAt = now;
      run.count = 0;
      run.reported = new Set();
    }
    run.lastAt = now;
    run.count++;
    if (run.reported.size < kMaxReported) run.reported.add(path);
    if (run.count >= this.#recrawlPaths && this.#storm === undefined) {
      this.#storm = { startAt: run.startAt, reported: run.reported, timer: setInterval(() => this.#isStormOver() && void this.#recrawl(), kRecrawlQuietMs / 2).unref() };
    }
  }

  #isStormOver(): boolean {
    return Date.now() - this.#changeRun.lastAt >= kRecrawlQuietMs;
  }

  /**
   * A storm is over: the watcher is made again from what is on disk (H654). Its kernel queue may
   * have overflowed, and chokidar, told nothing, missed events: a directory deleted and made again
   * stayed watched on its deleted inode, and no change in it was seen again (watch tester t65:
   * 40,000 files deleted, the directory made again, its edits never reloaded); files made were
   * never told, or only with a later change (hostile t64b). Each file changed since the storm
   * began that chokidar did not tell of, or saved while the watcher was made again, is a change.
   */
  async #recrawl(): Promise<void> {
    const storm = this.#storm;
    if (storm === undefined) return;
    clearInterval(storm.timer);
    this.#storm = undefined;
    const changes = this.#changeRun.count;
    this.#isRecrawlDue = true;
    const armedAt = Date.now();
    try {
      await this.check();
    } catch (error) {
      this.#events.error(toError(error));
      return;
    }
    if (this.#isClosed) return;
    try {
      this.#events.recrawled?.(changes);
    } catch (error) {
      this.#events.error(toError(error));
    }
    for (const file of this.files()) {
      const modifiedAt = mtimeOf(file);
      if (modifiedAt === undefined) continue;
      const isUntold = modifiedAt >= storm.startAt - kMtimeSlackMs && !storm.reported.has(file);
      if (!isUntold && modifiedAt < armedAt - kMtimeSlackMs) continue;
      try {
        this.#events.change('change', file);
      } catch (error) {
        this.#events.error(toError(error));
      }
    }
  }

  /**
   * Says what the budget left out, once the current turn is over (chokidar asks about each path of
   * a directory in one go), and stops chokidar's watch of a directory left out: it would read the
   * whole directory again at each change in it. The watches of the files it took on before stay
   * (at most the limit's worth; what they tell is dropped): the watcher made again instead would
   * miss a save made during its scan, with no reload to follow (H650).
   */
  #lookAtBudget(): void {
    if (this.#isBudgetLookDue) return;
    this.#isBudgetLookDue = true;
    setImmediate(() => {
      this.#isBudgetLookDue = false;
      if (this.#isClosed) return;
      const leftOut = this.#budget.take();
      if (leftOut.directories.length === 0 && leftOut.full.length === 0) return;
      try {
        this.#events.limited?.(leftOut);
      } catch (error) {
        this.#events.error(toError(error));
      }
      if (leftOut.directories.length > 0) this.#watcher?.unwatch(leftOut.directories.map((directory) => this.#target(directory)));
    });
  }

  /** What chokidar watches, by directory, with a linked root's paths said under the root's name. */
  #watched(): Record<string, string[]> {
    const watched = this.#watcher?.getWatched() ?? {};
    if (this.#aliases.length === 0) return watched;
    return Object.fromEntries(Object.entries(watched).map(([directory, names]) => [this.#named(directory), names]));
  }

  /** `path` under the name of the root it was found in: a linked root's target is said as the root (H469). */
  #named(path: string): string {
    for (const [target, root] of this.#aliases) {
      if (path === target) return root;
      // A target that ends in the separator already (a root linked to `/`) is not given a second one.
      const prefix = target.endsWith(sep) ? target : target + sep;
      if (path.startsWith(prefix)) return root + sep + path.slice(prefix.length);
    }
    return path;
  }

  /** What chokidar calls `path`, said under a root's name: a linked root's path under its target (H469). */
  #target(path: string): string {
    for (const [target, root] of this.#aliases) {
      if (path === root) return target;
      if (path.startsWith(root + sep)) return join(target, path.slice(root.length + 1));
    }
    return path;
  }

  #isWithinRoot(path: string): boolean {
    return this.#roots.some((root) => {
      const rel = relative(root, path);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    });
  }
}

/** Whether `path` is a symbolic link now. */
function isLink(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false;
  }
}

/** The real path of `path` when it is a symbolic link (to a directory or file), else undefined. */
function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ? realpathSync(path) : undefined;
  } catch {
    // A dangling link: watched as it is, a missing root.
    return undefined;
  }
}

/** The mtime of what is at `path` (ms), or undefined when nothing is, or it cannot be read. */
export function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined;
  }
}

/** The identity of what is at `path`, or undefined when nothing is (or it cannot be read). */
function inodeOf(path: string): string | undefined {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats === undefined ? undefined : identity(stats);
  } catch {
    return undefined;
  }
}

/**
 * `dev:ino:birthtime`: the inode alone is no identity, as Linux hands a directory removed and
 * made again at once the same inode number (ext4 did, every time); its birth time (ns) differs.
 * A missing path (`watchFile` reads it as zeros) is undefined.
 */
function identity(stats: Stats): string | undefined {
  return stats.ino === 0 && stats.nlink === 0 ? undefined : `${stats.dev}:${stats.ino}:${stats.birthtimeMs}`;
}
