/**
 * How much of a tree `--watch` takes on: at most `kMaxDirectoryEntries` entries in one directory
 * and `kMaxWatchedEntries` in all (H650).
 *
 * chokidar watches each file on its own (one `fs.watch` each, some 4 KB of the primary's
 * memory), and reads a directory in full, with an `lstat` of every entry, each time something in
 * it changes. Hostile tester t64b made 50,000 files, then 50,000 more, in watched directories and
 * deleted them: the primary grew to 3 GB, its event loop was blocked for 3 to 18 s at a time, it
 * answered no request, no `clusterkit stop` and no SIGTERM, and only `kill -9` ended it. The
 * work was all chokidar's, on the primary's one thread, for files no reload needs: a directory of
 * thousands of files is data or output (uploads, a cache, a generated site), not code a person
 * saves.
 *
 * So a directory found holding more than `kMaxDirectoryEntries` entries is left out of the watch
 * for the rest of the run, as `--ignore-watch` would leave it, and said once with the way to
 * watch it anyway (name it with `--watch`: a watched root and the directories on the way to the
 * script are never left out). Past `kMaxWatchedEntries` entries in all, a new entry is not
 * watched until others are gone, said once per directory. Each is a bound on the primary's
 * memory and work, whatever is written under the watched paths. Watchers that watch directories
 * alone (watchman, @parcel/watcher) need no such bound; chokidar, which PM2 and nodemon use as
 * we do, has none, and their users' primaries grow and stall the same way.
 */
import { dirname, sep } from 'node:path';

/** Entries one directory may hold and still be watched (a watched root and the script's directories excepted). */
export const kMaxDirectoryEntries = 2_000;

/** Files and directories the watch takes on in all; past it, new ones are not watched until others are gone. */
export const kMaxWatchedEntries = 50_000;

/** What the budget left out since it was last asked. */
export interface LeftOut {
  /** Directories (absolute) left out for the rest of the run: each held more than `kMaxDirectoryEntries` entries. */
  readonly directories: readonly string[];
  /** Directories (absolute) where new entries were not watched, the watch holding `kMaxWatchedEntries` entries; an entry of a root is named itself. */
  readonly full: readonly string[];
}

export class WatchBudget {
  readonly #roots: ReadonlySet<string>;
  /** Never left out, whatever they hold: the script and the directories on the way to it. */
  readonly #kept: ReadonlySet<string>;
  readonly #maxDirectoryEntries: number;
  readonly #maxEntries: number;
  /** The entries taken on, by their directory (absolute). */
  #entries = new Map<string, Set<string>>();
  #total = 0;
  /** Directories left out for the rest of the run. */
  readonly #leftOut = new Set<string>();
  /** Left out since the last `take()`. */
  #newlyLeftOut: string[] = [];
  /** Directories where an entry was turned away for the total, since the last `take()`. */
  readonly #newlyFull = new Set<string>();
  /** The watch had room again since the last `takeRoom()`. */
  #hasRoomAgain = false;
  /** Directories already said to be full: said once each, until the watch has room again. */
  readonly #saidFull = new Set<string>();

  /**
   * `roots`: the watched paths (absolute); `keep`: paths (absolute) whose directories are never
   * left out (the script being run). The limits are for tests.
   */
  constructor(roots: readonly string[], keep: readonly string[] = [], limits: { maxDirectoryEntries?: number; maxEntries?: number } = {}) {
    this.#roots = new Set(roots);
    const kept = new Set<string>(keep);
    for (const path of keep) {
      for (let directory = dirname(path); !kept.has(directory) && directory !== dirname(directory); directory = dirname(directory)) kept.add(directory);
    }
    this.#kept = kept;
    this.#maxDirectoryEntries = limits.maxDirectoryEntries ?? kMaxDirectoryEntries;
    this.#maxEntries = limits.maxEntries ?? kMaxWatchedEntries;
  }

  /**
   * Whether `path` (absolute, below a root) is not to be watched: it lies in a directory left
   * out, or it would take its directory or the watch past its limit. Otherwise it is taken on
   * (counted). The same path asked again gives the same answer while nothing changed.
   */
  isLeftOut(path: string): boolean {
    if (this.#roots.has(path)) return false;
    if (this.isWithinLeftOut(path)) return true;
    const directory = dirname(path);
    const names = this.#entries.get(directory);
    const name = path.slice(directory.length + (directory.endsWith(sep) ? 0 : 1));
    if (names?.has(name) === true) return false;
    if (names !== undefined && names.size >= this.#maxDirectoryEntries && !this.#roots.has(directory) && !this.#kept.has(directory)) {
      this.#leaveOut(directory);
      return true;
    }
    if (this.#total >= this.#maxEntries && !this.#kept.has(path)) {
      // An entry of a root is named itself (a rebuilt `dist`), not the root ("." told nothing: watch tester t65).
      const where = this.#roots.has(directory) ? path : directory;
      if (!this.#saidFull.has(where)) {
        this.#saidFull.add(where);
        this.#newlyFull.add(where);
      }
      return true;
    }
    if (names === undefined) this.#entries.set(directory, new Set([name]));
    else names.add(name);
    this.#total++;
    return false;
  }

  /** `path` is gone (chokidar's unlink or unlinkDir): its entry, and those below it, are freed. */
  forget(path: string): void {
    const directory = dirname(path);
    const names = this.#entries.get(directory);
    if (names?.delete(path.slice(directory.length + (directory.endsWith(sep) ? 0 : 1))) === true) this.#total--;
    if (names?.size === 0) this.#entries.delete(directory);
    this.#forgetBelow(path);
    // Room again (a tenth of the limit): a later storm past it is said again (hostile t65: a second storm was not).
    if (this.#saidFull.size > 0 && this.#total < this.#maxEntries * 0.9) {
      this.#saidFull.clear();
      this.#hasRoomAgain = true;
    }
  }

  /** A new watcher's scan begins: the entries are counted again from none (the directories left out stay out). */
  reset(): void {
    this.#entries = new Map();
    this.#total = 0;
  }

  /** What was left out since the last call. */
  take(): LeftOut {
    const taken = { directories: this.#newlyLeftOut, full: [...this.#newlyFull] };
    this.#newlyLeftOut = [];
    this.#newlyFull.clear();
    return taken;
  }

  /** Whether the watch had room again since the last call (the directories said to be full are no longer). */
  takeRoom(): boolean {
    const hasRoom = this.#hasRoomAgain;
    this.#hasRoomAgain = false;
    return hasRoom;
  }

  /** Where new entries are not watched now, the watch being full (absolute), for `clusterkit show`. */
  full(): string[] {
    return [...this.#saidFull];
  }

  /** The directories left out for the rest of the run (absolute), for `clusterkit show`. */
  leftOut(): string[] {
    return [...this.#leftOut];
  }

  /** The entries taken on now. */
  get size(): number {
    return this.#total;
  }

  #leaveOut(directory: string): void {
    this.#leftOut.add(directory);
    this.#newlyLeftOut.push(directory);
    // Its entries are no longer watched (the watcher is made again without them): freed.
    this.forget(directory);
  }

  #forgetBelow(directory: string): void {
    const names = this.#entries.get(directory);
    if (names === undefined) return;
    this.#entries.delete(directory);
    this.#total -= names.size;
    const prefix = directory.endsWith(sep) ? directory : directory + sep;
    for (const name of names) this.#forgetBelow(prefix + name);
  }

  /** Whether `path` (absolute) is a directory left out, or lies below one. */
  isWithinLeftOut(path: string): boolean {
    if (this.#leftOut.size === 0) return false;
    for (let current = path; ; current = dirname(current)) {
      if (this.#leftOut.has(current)) return true;
      if (this.#roots.has(current) || current === dirname(current)) return false;
    }
  }
}
