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
import { isAbsolute, relative, resolve } from 'node:path';
import { ReloadError, WatchLostError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { WatchSettings } from '../run-settings.js';
import { ignoreOptionAdvice, ignorePathsAdvice } from './ignore-advice.js';
import { isCodeFile, kCodeLoopCount, kReloadLoopCount, reloadLoopDetector } from './reload-loop-detector.js';
import { watchSettingsFiles } from './settings-file-watch.js';
import { ScriptWait } from './script-wait.js';
import { kMtimeSlackMs, mtimeOf } from './tree-watcher.js';
import { openWatchedTree, type WatchedTree } from './watch-process.js';
import { kMaxDirectoryEntries, kMaxWatchedEntries, type LeftOut } from './watch-budget.js';
import { shellWord } from '../../shell-word.js';
import { kWatchIntake, processOwnWork } from '../../primary/lifecycle/own-work.js';
import { createIgnoreTest } from './watch-ignore.js';

/** File names listed in the "change detected" line; more are counted. */
const kListedChanges = 3;

/** Paths listed in the line that drops them (H99); more are counted, and `clusterkit show --json` lists them all. */
export const kListedDropped = 5;

/**
 * How late chokidar may tell of a write made before a reload ended: such a write still counts
 * as made while the reload ran, by its mtime.
 */
export const kLateEventMs = 1_000;


/**
 * How long a busy row of watch reloads may be superseded (H388, H418), from the start of its
 * first reload: a row is the reloads each started by a change made while the one before ran.
 * A person's save burst gets through: each save of an editor that truncates, then writes, is two
 * changes, each superseding a reload (3 saves a few seconds apart made 6; a cap of 3 in a row
 * left the 4th reload on the empty file, which waited out its ready and listen timeouts, 66 s).
 * A code file the app itself writes at each start supersedes every reload of its row too, but
 * its row never ends (each reload writes it again): past this budget, its reloads finish, and the
 * loop detectors see it (H289). 30 s: the ready timeout a superseded replacement saves waiting
 * out, so a self-writing loop costs at most what one stall would.
 */
export const kSupersedeBudgetMs = 30_000;

/**
 * The longest a change waits for its reload, at the least: the quiet time (`--watch-delay`) is
 * a debounce, and a file written without pause (a database, an upload, a log under another
 * name) would otherwise put every reload off forever. As lodash's `debounce` `maxWait`: the
 * reload comes at most `maxWatchWaitMs(delayMs)` after the first change of a burst.
 */
export const kMinMaxWatchWaitMs = 1_000;

/** 1 s, or three times the quiet time when that is longer. */
export function maxWatchWaitMs(delayMs: number): number {
  return Math.max(kMinMaxWatchWaitMs, 3 * delayMs);
}

export interface Reloadable {
  reload(options?: { requestedBy?: 'watch' }): Promise<unknown>;
  /**
   * A newer change came while the watch's reload runs (H388): the reload is superseded when a
   * replacement forked before `changedAt` is still starting (`ClusterPrimary.supersedeReload()`).
   */
  supersedeReload?(change: { files: readonly string[]; changedAt?: number }): boolean;
}

/** A watch under way. */
export interface Watching {
  /** The watched paths (absolute) that are gone (removed or moved away), waiting to come back, for `clusterkit show`. */
  missing(): string[];
  /**
   * The paths (absolute) whose changes during a reload no longer reload, as written by each
   * reload (H99), for `clusterkit show` (H269); a change at another time takes one off (H288).
   * Those left out for the rest of the run (`leftOut()`) are among them.
   */
  dropped(): string[];
  /**
   * The dropped paths (absolute) found looping again after a change at another time watched them
   * again: no change of theirs reloads until `clusterkit run` starts again (H511). `show` names
   * them apart (H515): it said "a change at another time watches it again" of them.
   */
  leftOut(): string[];
  /** Code or config files written during each of the last reloads, each reloading again, for `clusterkit show` (H289). */
  looping(): LoopingPath[];
  /** Directories (absolute) left out for the rest of the run for holding more than `kMaxDirectoryEntries` entries, for `clusterkit show` (H650). */
  largeDirectories(): string[];
  /** Where new entries are not watched now, the watch holding `kMaxWatchedEntries` entries (absolute), for `clusterkit show` (H650). */
  full(): string[];
  /** How the watch ended on its own (its process killed, out of memory: H667); undefined while it watches. */
  ended(): string | undefined;
  close(): Promise<void>;
}

/** A code or config file reloading the workers again and again (H289). */
export interface LoopingPath {
  readonly path: string;
  /** The reloads in a row during which it was written. */
  readonly reloads: number;
}

/**
 * More paths than this written during one reload are a checkout or a build, not the app: they
 * are not named as a code file the app writes at each start (H290).
 */
export const kStormPaths = 20;

/** The longest the back-off puts off a reload that only looping code files started (H289). */
export const kMaxLoopBackoffMs = 30_000;

export interface WatchOptions {
  /** The script being run: never dropped (H269), and no reload starts while it is missing (H271, H520). */
  readonly script?: string | undefined;
  /** Told the changed paths (absolute) of each reload, as it starts: the config file among them is looked at again (H306). */
  readonly onReload?: ((paths: readonly string[]) => void) | undefined;
  /**
   * The files (absolute) the settings were read from (the config file, the env files): those the
   * watched tree does not hold (a `.env`, a file outside the watched paths) are polled, and their
   * changes told to `onSettingsFileChange` alone, with no reload (H316).
   */
  readonly settingsFiles?: readonly string[] | undefined;
  /**
   * run's own log files (`--output`, `--error`, `--log`; absolute): never a change, nor their
   * rotated copies (`app.out.1`, `app.out-20261203`), whatever their name: each line written
   * there would reload the workers, whose lines would reload them again (H319).
   */
  readonly outputFiles?: readonly string[] | undefined;
  readonly onSettingsFileChange?: ((paths: readonly string[]) => void) | undefined;
  /**
   * When the first workers began to fork (Date.now()), the watch being armed only once they
   * started (H389): a code file or the script written since (by its mtime) is a change, made
   * while the first workers loaded the code, which the watch could not see: it reloads.
   */
  readonly changedSince?: number | undefined;
}

/**
 * Starts watching; resolves once the initial scan is done (changes from then on count).
 */
export async function watchAndReload(settings: WatchSettings, target: Reloadable, cwd: string, output: Logger, options: WatchOptions = {}): Promise<Watching> {
  /**
   * When the watch last wrote a line (Date.now()): a redirect of the logs into the project
   * writes it there a moment later, which is no person's save either (H514, retest t54: the
   * line re-watching one redirect's file, landing in a second, re-watched that one too).
   */
  let lastLineAt = 0;
  const said =
    (level: keyof Logger) =>
    (fields: object, message?: string): void => {
      lastLineAt = Date.now();
      output[level](fields, message);
    };
  const logger: Logger = { debug: said('debug'), info: said('info'), warn: said('warn'), error: said('error') };
  const isIgnored = createIgnoreTest(settings.paths, settings.ignore, cwd);
  const script = options.script === undefined ? undefined : resolve(cwd, options.script);
  const isOwnOutput = ownOutputTest(options.outputFiles ?? []);
  const shownPath = (path: string) => relative(cwd, path) || '.';
  /** Changed paths since the last reload started, with how many events each had. */
  const changed = new Map<string, number>();
  /** The debounce timer; set from a change until the reload starts. */
  let timer: NodeJS.Timeout | undefined;
  /** When the first change of the current burst came (Date.now()); cleared when its reload starts. */
  let burstStartedAt: number | undefined;
  /** Paths already named as changing without pause: each is named once. */
  const namedAsBusy = new Set<string>();
  const maxWaitMs = maxWatchWaitMs(settings.delayMs);
  const loops = reloadLoopDetector();
  /**
   * Paths found reloading in a loop: their changes during a reload are no longer counted; a
   * change at another time is a person or a tool, and takes the path off (H288).
   */
  const dropped = new Set<string>();
  /** Paths dropped, then watched fully again: found looping once more, they are left out for the rest of the run (H511). */
  const restored = new Set<string>();
  /** Left out for the rest of the run, as --ignore-watch would: no change of theirs reloads (H511). */
  const droppedForGood = new Set<string>();
  /** When the last change came (Date.now()): a pause of the quiet time since then begins a new burst. */
  let lastChangeAt: number | undefined;
  /** Paths that may be the app's output, written while the current or the last reload ran (H269). */
  const writtenDuringReload = new Set<string>();
  /** Code and config files written while the last reload ran: kept watched, named once when they loop. */
  const codeWrittenDuringReload = new Set<string>();
  const codeLoops = reloadLoopDetector(kCodeLoopCount);
  const namedAsLooping = new Set<string>();
  /** Code or config files looping now, with their reloads in a row; one off once a reload passes without it (H289). */
  const looping = new Map<string, number>();
  /** Reloads in a row started by looping files alone: each doubles the quiet time, up to kMaxLoopBackoffMs (H289). */
  let loopBackoffs = 0;
  let isBackoffSaid = false;
  /** A root is gone with the script: the reload waits for the root's return (H290). */
  let waitsForRoot = false;
  /** The last reload's `target.reload()`, from its call to its end (Date.now()); `endedAt` unset while it runs. */
  let lastReload: { startedAt: number; endedAt?: number } | undefined;
  /**
   * The wait for the script while it is missing (H271, H520): no reload starts then. Its return
   * found by the poll, with no change told of it, reloads after the quiet time, the maximum wait
   * counted from then.
   */
  const scriptWait =
    script === undefined
      ? undefined
      : new ScriptWait(script, () => {
          burstStartedAt = undefined;
          if (!isReloading && !isClosed && changed.size > 0) schedule();
        });
  /**
   * When the first reload of the current busy row started (Date.now()): a reload started with no
   * change made while the one before ran begins a row. Superseding is allowed for
   * `kSupersedeBudgetMs` from then (H418): a person's save burst ends, a self-writing loop does not.
   */
  let rowStartedAt = 0;
  /** A change came while the watch's reload ran: the next reload continues the busy row. */
  let isChangedDuringReload = false;
  /**
   * The last reload was superseded (H388): the files written during it are not counted by the
   * code loop detector (H418). A person's burst of saves supersedes each reload, and was taken for
   * a file written at each start after 5 (it then superseded nothing, and the reload on the empty
   * file stalled); a file the app writes at each start is counted once past the budget, when
   * its reloads finish.
   */
  let wasSuperseded = false;
  let isReloading = false;
  let isClosed = false;
  /**
   * Never dropped (H269): a watched root, the script being run and code or config files changing
   * during reloads are a person or a build, and get another reload.
   */
  const mayBeOutput = (path: string) => !settings.paths.includes(path) && path !== script && !isCodeFile(path);
  /** Whether a file's change was written while a reload ran: told while it runs, or a little later with an mtime within it. */
  const isWrittenDuringReload = (event: string, path: string) => {
    if (lastReload === undefined) return false;
    const { startedAt, endedAt } = lastReload;
    if (endedAt === undefined) return true;
    if (event === 'unlink' || Date.now() - endedAt > kLateEventMs) return false;
    const modifiedAt = mtimeOf(path);
    // In whole ms, as Date.now() gave `endedAt`: a write stamped 0.28 ms into the ms the reload
    // ended in read as made after it, on a busy machine where chokidar told of it only then, and
    // a file written at each start broke its loop's count (CI: [H289], [H99]).
    return modifiedAt !== undefined && modifiedAt >= startedAt - kMtimeSlackMs && Math.floor(modifiedAt) <= endedAt;
  };

  /**
   * The watcher, once its first scan is done. Every callback below can run before then (H468): a
   * file saved during the scan (a big tree, a slow disk) is told at once, and its reload read the
   * watcher before it was assigned ("Cannot access 'tree' before initialization": the primary
   * died, its workers orphaned). The reload waits for it instead, and reloads once.
   * Assigned before chokidar can tell of anything (`open` has not awaited yet).
   */
  let opening: Promise<WatchedTree | undefined> = Promise.resolve(undefined);
  const reload = async (isForced: boolean) => {
    timer = undefined;
    if (isReloading || isClosed) return;
    isReloading = true;
    // A directory removed or replaced meanwhile (a rebuild, a checkout) is watched afresh
    // before the reload reads the code (H256): chokidar would not see it again.
    const opened = await opening;
    await opened?.check();
    isReloading = false;
    if (isClosed) return;
    // Gone while the tree was checked: the reload could only fail (H520).
    if (scriptWait?.isMissing()) {
      waitForScript();
      return;
    }
    scriptWait?.end();
    const output = [...writtenDuringReload].filter((path) => changed.has(path));
    writtenDuringReload.clear();
    // A storm (a checkout, a build) is not the app writing code at each start (H290), nor its
    // output (hostile t65: 20,000 files made once each, beside the script, over 3 reloads: 461 of
    // them were named as written while each of the last 3 reloads ran).
    const code = [...codeWrittenDuringReload].filter((path) => changed.has(path));
    codeWrittenDuringReload.clear();
    const isStorm = output.length + code.length > kStormPaths;
    const outputLooping = loops.next(isStorm ? [] : output);
    if (!wasSuperseded) noteCodeLoops(isStorm ? [] : code);
    // Started by looping files alone (written during the reload before): the next such reload waits longer (H289).
    loopBackoffs = changed.size > 0 && [...changed.keys()].every((path) => looping.has(path)) ? loopBackoffs + 1 : 0;
    if (outputLooping.length > 0) {
      warnAboutLoops(outputLooping);
      for (const path of outputLooping) changed.delete(path);
      // The loop's own change is not worth a reload; another file's change still is.
      if (changed.size === 0) {
        burstStartedAt = undefined;
        return;
      }
    }
    // The lists of a storm's paths (tens of thousands) are clusterkit's own work, as a blocked primary's report says (H652).
    const listedAt = Date.now();
    const paths = [...changed.keys()];
    const files = paths.map((path) => relative(cwd, path) || path);
    // A file with a handful of events in the burst is being written, not saved.
    if (isForced) warnAboutBusyFiles([...changed].filter(([path, events]) => events > 2 && !namedAsBusy.has(path)).map(([path]) => path));
    changed.clear();
    burstStartedAt = undefined;
    waitsForRoot = false;
    isReloading = true;
    const more = files.length > kListedChanges ? ` and ${files.length - kListedChanges} more` : '';
    logger.info({}, `change detected in ${files.slice(0, kListedChanges).join(', ')}${more}: reloading the workers one by one`);
    options.onReload?.(paths);
    processOwnWork.note(kWatchIntake, listedAt, Date.now());
    lastReload = { startedAt: Date.now() };
    if (!isChangedDuringReload) rowStartedAt = lastReload.startedAt;
    isChangedDuringReload = false;
    let isSuperseded = false;
    try {
      await target.reload({ requestedBy: 'watch' });
    } catch (error) {
      // Superseded by a newer change (H388): the primary said so, and that change's reload follows.
      if (error instanceof ReloadError && error.isSuperseded) isSuperseded = true;
      // The primary has logged why ("rolling reload failed: ..."); say what happens next.
      // Every slot had been given up and none started again stayed up (H517): no old worker serves either.
      else if (!isClosed && error instanceof ReloadError && error.isNothingServing) logger.warn({}, 'no worker serves until the code starts: the next change reloads again');
      else if (!isClosed) logger.warn({}, 'the workers it did not replace keep serving the code from before it; the next change reloads again');
    } finally {
      wasSuperseded = isSuperseded;
      isReloading = false;
      lastReload.endedAt = Date.now();
    }
    // Changes made during the reload get a reload of their own.
    if (changed.size > 0 && !isClosed) schedule();
  };
  /**
   * Files that kept changing until the maximum wait: said once each. The way out (ignoring them)
   * is offered for files that are not code only: a save storm of `sed -i` on src/app.js named
   * the app's own code as a file to leave out (H257).
   */
  const warnAboutBusyFiles = (paths: string[]) => {
    if (paths.length === 0) return;
    for (const path of paths) namedAsBusy.add(path);
    const shown = paths.slice(0, kListedChanges).map((path) => relative(cwd, path) || path);
    const more = paths.length > kListedChanges ? ` and ${paths.length - kListedChanges} more` : '';
    // Nor a watched root or the script (H290): `src` was offered to be left out in a storm.
    const others = paths.filter(mayBeOutput);
    const advice =
      others.length === 0
        ? 'reloading anyway (saved again and again, or written by a tool while it runs)'
        : others.length === paths.length
          ? `reloading anyway; if they are not code, leave them out ${ignoreOptionAdvice(settings.ignoreKey)}`
          : `reloading anyway; if ${listed(others.map((path) => relative(cwd, path) || path))} ${others.length === 1 ? 'is' : 'are'} not code, leave ${others.length === 1 ? 'it' : 'them'} out ${ignoreOptionAdvice(settings.ignoreKey)}`;
    logger.warn({}, `${shown.join(', ')}${more} kept changing for ${maxWaitMs} ms without a quiet ${settings.delayMs} ms: ${advice}`);
  };
  /** Paths that keep reloading the workers: named once, with the flag and key that leave them out. */
  const warnAboutLoops = (found: string[]) => {
    // Said below: the line's own echo is no person's save (`lastLineAt`, H511).
    for (const path of found) dropped.add(path);
    // Dropped once already, then changed while no reload ran, and looping again: what writes it
    // does so at any time (an app's log line, a redirect of clusterkit logs -f), not a person (H511).
    const again = found.filter((path) => restored.has(path));
    if (again.length > 0) warnAboutLoopsAgain(again);
    const paths = found.filter((path) => !restored.has(path));
    if (paths.length === 0) return;
    // A few named, the rest counted: a storm of them made one line of 11.5 KB (H269).
    const shown = paths.slice(0, kListedDropped).map(shownPath);
    const more = paths.length > kListedDropped ? ` and ${paths.length - kListedDropped} more (clusterkit show --json lists them all)` : '';
    const them = paths.length === 1 ? 'it' : 'them';
    logger.warn(
      {},
      // What was seen, not who wrote it: a person saving a .sql file during 3 reloads was told "written by the app" (H288).
      `${shown.join(', ')}${more} ${paths.length === 1 ? 'was' : 'were'} written while each of the last ${kReloadLoopCount} reloads ran, and each write reloaded again, ` +
        `as an app's output would be (a log, a database, a redirect such as clusterkit logs -f > debug.txt). ` +
        `From now on, ${paths.length === 1 ? 'its changes' : 'their changes'} during a reload are ignored; a change at any other time reloads and watches ${them} fully again (clusterkit show lists ${them} meanwhile). ` +
        `If ${paths.length === 1 ? 'it is' : 'they are'} the app's output, leave ${them} out for good: ${ignorePathsAdvice(shown, settings.ignoreKey)}`,
    );
  };
  /** Paths found looping a second time: left out for the rest of the run, said once (H511). */
  const warnAboutLoopsAgain = (paths: string[]) => {
    for (const path of paths) droppedForGood.add(path);
    const shown = paths.slice(0, kListedDropped).map(shownPath);
    const more = paths.length > kListedDropped ? ` and ${paths.length - kListedDropped} more (clusterkit show --json lists them all)` : '';
    const them = paths.length === 1 ? 'it' : 'them';
    logger.warn(
      {},
      `${shown.join(', ')}${more} ${paths.length === 1 ? 'was' : 'were'} again written while each of the last ${kReloadLoopCount} reloads ran, after ${paths.length === 1 ? 'it' : 'they'} changed while no reload ran: ` +
        `what writes ${them} does so at any time, as an app's output does. Left out of the watch for the rest of this run (clusterkit show lists ${them}); a restart of clusterkit run watches ${them} again. ` +
        `To leave ${them} out for good: ${ignorePathsAdvice(shown, settings.ignoreKey)}`,
    );
  };
  /**
   * Whether a dropped path's change, now, comes too soon after a reload ended, or after any line of the
   * watch's (the one that dropped it among them, H514), to be a person's save: a redirect of clusterkit logs -f into the project writes
   * each reload's last line, and the line naming the file, just after (H511: before, each was
   * taken for a person, the file watched again, and the workers reloaded every 2 s for good).
   */
  const isEchoOfReload = () => {
    const since = Math.max(lastReload?.endedAt ?? 0, lastLineAt);
    return Date.now() - since <= kLateEventMs;
  };
  /** Counts the code or config files written during the last reload; those looping now are listed by `show` (H289). */
  const noteCodeLoops = (code: string[]) => {
    const written = new Set(code);
    for (const path of looping.keys()) if (!written.has(path)) looping.delete(path);
    for (const path of looping.keys()) looping.set(path, looping.get(path)! + 1);
    const fresh = codeLoops.next(code.filter((path) => !looping.has(path)));
    for (const path of fresh) looping.set(path, kCodeLoopCount);
    const unnamed = fresh.filter((path) => !namedAsLooping.has(path));
    if (unnamed.length > 0) warnAboutCodeLoops(unnamed);
  };
  /** Code or config files written during each of the last reloads: still watched, named once with the way out. */
  const warnAboutCodeLoops = (paths: string[]) => {
    for (const path of paths) namedAsLooping.add(path);
    const shown = paths.slice(0, kListedDropped).map(shownPath);
    const more = paths.length > kListedDropped ? ` and ${paths.length - kListedDropped} more` : '';
    const them = paths.length === 1 ? 'it' : 'them';
    logger.warn(
      {},
      `${shown.join(', ')}${more} ${paths.length === 1 ? 'was' : 'were'} written while each of the last ${kCodeLoopCount} reloads ran, and each write reloaded again. ` +
        `Still watching ${them}, as code or config; if the app itself writes ${them} at start (a state file, generated code), ${ignorePathsAdvice(shown, settings.ignoreKey)}`,
    );
  };
  /**
   * The quiet time: doubled for each reload in a row that looping files alone started (H289),
   * as long as they alone changed; a change to any other file is waited for as usual.
   */
  const quietMs = () => {
    if (loopBackoffs === 0 || changed.size === 0 || ![...changed.keys()].every((path) => looping.has(path))) return settings.delayMs;
    const delayMs = Math.min(kMaxLoopBackoffMs, settings.delayMs * 2 ** loopBackoffs);
    if (!isBackoffSaid) {
      isBackoffSaid = true;
      logger.info(
        {},
        `${listed([...looping.keys()].map(shownPath))} keep${looping.size === 1 ? 's' : ''} reloading the workers: each reload that only ${looping.size === 1 ? 'it starts' : 'they start'} now waits twice as long as the one before, up to ${kMaxLoopBackoffMs / 1000} s (a change to any other file still reloads after ${settings.delayMs} ms)`,
      );
    }
    return delayMs;
  };
  const schedule = () => {
    const now = Date.now();
    burstStartedAt ??= now;
    if (timer) clearTimeout(timer);
    const delayMs = quietMs();
    // While the script is missing, nothing reloads (H271, H520): the maximum wait is counted from its return.
    const left = scriptWait?.isWaiting === true ? Infinity : Math.max(0, burstStartedAt + Math.max(maxWaitMs, delayMs) - now);
    timer = setTimeout(() => fire(left < delayMs), Math.min(delayMs, left));
  };
  const fire = (isForced: boolean) => {
    if (scriptWait?.isMissing()) {
      timer = undefined;
      waitForScript();
      return;
    }
    void reload(isForced);
  };
  /**
   * The script is missing where a reload would start: none does, whatever asked for it (the
   * quiet time, the maximum wait, a change made during the last reload), as the workers could
   * only fail with "Cannot find module" (H271, H520: the folder back empty after `rm -rf dist;
   * sleep 3; mkdir dist`, or `rm dist/server.js` before a copy, reloaded at the quiet time and
   * failed). Said once each time it goes; its return reloads after the quiet time.
   */
  const waitForScript = () => {
    scriptWait!.wait();
    const gone = settings.paths.filter((root) => !exists(root));
    if (gone.length > 0) {
      // `rm -rf dist; sleep 3; build`: the root's return is a change of its own (H290).
      if (!waitsForRoot) logger.info({}, `${listed(gone.map(shownPath))} ${gone.length === 1 ? 'is' : 'are'} gone, and ${shownPath(script!)}, the script being run, with ${gone.length === 1 ? 'it' : 'them'}: the reload waits for ${gone.length === 1 ? 'it' : 'them'} to come back`);
      waitsForRoot = true;
      return;
    }
    if (scriptWait!.isToBeSaid()) logger.info({}, `${shownPath(script!)}, the script being run, does not exist now (a build under way?): the reload waits for it to be written`);
  };
  /**
   * A change while the watch's reload runs (H388): a replacement forked before it and still
   * starting runs the code from before it (an editor's truncate-then-write caught it on an empty
   * file, which never listens: the reload waited out its ready timeouts, 60 s). The primary stops
   * it and ends the reload at once; the change's reload follows after the quiet time.
   * Paths found looping or dropped (the app's own writes at start) never supersede, nor any
   * change once the busy row is older than `kSupersedeBudgetMs` (H418).
   */
  const supersede = (path: string, event: string) => {
    if (!isReloading || Date.now() - rowStartedAt >= kSupersedeBudgetMs || lastReload === undefined || lastReload.endedAt !== undefined || target.supersedeReload === undefined) return;
    if (dropped.has(path) || looping.has(path) || writtenDuringReload.has(path)) return;
    const changedAt = event === 'unlink' || event === 'unlinkDir' ? undefined : mtimeOf(path);
    target.supersedeReload({ files: [shownPath(path)], ...(changedAt === undefined ? {} : { changedAt }) });
  };
  const noteChange = (path: string, event = 'change') => {
    const now = Date.now();
    // A pause of the quiet time ends a burst: a change after a wait (a backed-off reload, a
    // root's return) is no file that "kept changing", and waits its quiet time (H512, watch
    // tester t54: dist back 3 s after it went was named as changing for 1000 ms and reloaded at once).
    if (lastChangeAt !== undefined && now - lastChangeAt >= settings.delayMs) burstStartedAt = undefined;
    lastChangeAt = now;
    if (isReloading && lastReload?.endedAt === undefined) isChangedDuringReload = true;
    supersede(path, event);
    changed.set(path, (changed.get(path) ?? 0) + 1);
    // Back, whichever change told of it (the script's own, its folder's return): the maximum wait counts again, from now.
    if (scriptWait?.noticeBack()) burstStartedAt = undefined;
    if (!isReloading) schedule();
  };
  const onChange = (event: string, path: string) => {
    if (event === 'addDir' || isOwnOutput(path) || droppedForGood.has(path)) return;
    // Files only: a directory's removal is a build or a checkout, never the app's output.
    const isDuringReload = event !== 'unlinkDir' && !settings.paths.includes(path) && path !== script && isWrittenDuringReload(event, path);
    if (dropped.has(path)) {
      if (isDuringReload || isEchoOfReload()) return;
      // Changed while no reload ran: a person or a tool, not the reload's output (H288).
      dropped.delete(path);
      restored.add(path);
      logger.info({}, `${shownPath(path)} changed while no reload ran (a person or a tool): watching it fully again`);
    }
    if (isDuringReload) (mayBeOutput(path) ? writtenDuringReload : codeWrittenDuringReload).add(path);
    else if (looping.delete(path)) {
      // Saved while no reload ran: a person or a tool, not the app's start. Its reloads no longer
      // back off: a template saved every 0.7 s had an idle save wait 9.8 s (tester t30 final F2).
      loopBackoffs = 0;
      isBackoffSaid = false;
      logger.info({}, `${shownPath(path)} changed while no reload ran (a person or a tool): no longer counted as reloading again and again, its reloads wait ${settings.delayMs} ms again`);
    }
    noteChange(path, event);
  };
  /**
   * The code files and the script written after `since`, as the first workers forked, and
   * before the watch was armed (H389): before, such a save was never seen, and the workers ran
   * the code from before it. Each is a change, as if the start were a reload (its window, from
   * `since` to now): a code file the app itself writes at start is seen as one written during a
   * reload (H289). Files that may be the app's output (not code) are left alone: the app's start
   * writes them, which is no change of the code.
   */
  const noteEarlyChanges = (since: number) => {
    const armedAt = Date.now();
    const early = tree.files().filter((path) => {
      if (mayBeOutput(path) || isOwnOutput(path)) return false;
      const modifiedAt = mtimeOf(path);
      return modifiedAt !== undefined && modifiedAt >= since - kMtimeSlackMs && modifiedAt <= armedAt + kMtimeSlackMs;
    });
    if (early.length === 0) return;
    lastReload ??= { startedAt: since, endedAt: armedAt };
    const more = early.length > kListedChanges ? ` and ${early.length - kListedChanges} more` : '';
    logger.info({}, `${early.slice(0, kListedChanges).map(shownPath).join(', ')}${more} changed while the workers started, before the watch was armed: a reload follows`);
    for (const path of early) onChange('change', path);
  };
  /**
   * Directories too big to watch, and new entries past the watch's limit (H650): said once each,
   * with the way to watch them anyway and the way to leave them out without a word.
   */
  const warnAboutSize = ({ directories, full }: LeftOut) => {
    if (directories.length > 0) {
      // Their changes told before they were found too big are data or output too: no reload of their own.
      for (const path of changed.keys()) if (directories.some((directory) => path === directory || isBelow(directory, path))) changed.delete(path);
      if (changed.size === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
        burstStartedAt = undefined;
      }
      const shown = directories.slice(0, kListedDropped).map(shownPath);
      const more = directories.length > kListedDropped ? ` and ${directories.length - kListedDropped} more (clusterkit show --json lists them all)` : '';
      const [them, each, its] = directories.length === 1 ? ['it', 'it holds', 'its'] : ['them', 'each holds', 'their'];
      const watchFlag = `--watch ${[...settings.paths.map(shownPath), ...shown].map(shellWord).join(' ')}`;
      logger.warn(
        {},
        `${shown.join(', ')}${more}: ${each} more than ${kMaxDirectoryEntries} entries, as data or output does (uploads, a cache, a build), and ${directories.length === 1 ? 'is' : 'are'} left out of the watch for the rest of this run: ` +
          `watching each of ${its} files would cost the primary memory and block it. ${its[0]!.toUpperCase()}${its.slice(1)} changes do not reload (clusterkit show lists ${them}). ` +
          `To watch ${them} anyway, name ${them} among the watched paths (${watchFlag}); to leave ${them} out without this warning, ${ignorePathsAdvice(shown, settings.ignoreKey)}`,
      );
    }
    if (full.length > 0) {
      const shown = full.slice(0, kListedDropped).map(shownPath);
      const more = full.length > kListedDropped ? ` and ${full.length - kListedDropped} more` : '';
      logger.warn(
        {},
        `the watch holds ${kMaxWatchedEntries} files and directories, its limit: new entries in ${shown.join(', ')}${more} are not watched until others are gone (said again when it is full again), and their changes do not reload. ` +
          `Leave data and output directories out ${ignoreOptionAdvice(settings.ignoreKey)}`,
      );
    }
  };
  const treeOpening = openWatchedTree(settings.paths, settings.ignore, cwd, {
    change: onChange,
    // A root made again in one go, which chokidar may not tell of: one reload, as for any change (H270).
    replaced: (roots) => {
      for (const root of roots) noteChange(root);
    },
    lost: (roots) => {
      for (const root of roots) {
        const error = new WatchLostError(shownPath(root), 'gone', { cause: statError(root) });
        logger.warn({ err: error }, error.message);
        // A change in itself, as chokidar's unlink events would have told: on a busy machine the
        // poll can re-arm before chokidar tells of them, and they were lost with its watcher, so
        // a root gone with the script never said that the reload waits for it (H294).
        noteChange(root);
      }
    },
    back: (roots) => {
      logger.info({}, `${roots.map(shownPath).join(', ')} ${roots.length === 1 ? 'is' : 'are'} back: watching again`);
      for (const root of roots) noteChange(root);
    },
    limited: (leftOut) => warnAboutSize(leftOut),
    roomy: () => logger.info({}, 'the watch has room again: new entries are watched'),
    // Said once a storm: the changes it tells next are files the kernel's dropped events hid (H654).
    recrawled: (changes) => logger.info({}, `a storm of file changes is over (${changes} told; the kernel may have dropped more): watching again from what is on disk; any file changed during it and not told of reloads now`),
    error: (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === 'ENOSPC' ? ' (out of inotify watches: raise fs.inotify.max_user_watches, or watch fewer paths)' : '';
      logger.warn({ code }, `watch error: ${error.message}${hint}`);
    },
    // The script's directories are never left out for their size: its changes must reload.
  }, { keep: script === undefined ? [] : [script] });
  // A failed open is thrown below, where it is handled; a reload waiting for it does nothing.
  opening = treeOpening.catch(() => undefined);
  const tree = await treeOpening;
  // The settings' files the tree does not see: a `.env` (a dot entry), one outside the roots (H316).
  const isInTree = (file: string) => settings.paths.some((root) => file === root || isBelow(root, file)) && !isIgnored(file);
  const settingsFiles = options.onSettingsFileChange === undefined ? [] : [...new Set(options.settingsFiles ?? [])].filter((file) => !isInTree(file));
  const settingsWatch = watchSettingsFiles(
    settingsFiles,
    (file) => {
      if (!isClosed) options.onSettingsFileChange?.([file]);
    },
    (error) => logger.warn({}, `watch error: ${error.message}`),
  );
  if (options.changedSince !== undefined) noteEarlyChanges(options.changedSince);
  const shown = settings.paths.map(shownPath).join(', ');
  // Each once: an ignoreWatch copied from PM2 often repeats node_modules.
  const ignoring = [...new Set(['node_modules', 'dot entries', '*.log', 'editor temp files', ...settings.ignore])].join(', ');
  const alsoSettings =
    settingsFiles.length === 0
      ? ''
      : `; ${listed(settingsFiles.map(shownPath))}, which the settings were read from, ${settingsFiles.length === 1 ? 'is' : 'are'} watched too: a change is said, and reloads nothing (a changed env takes effect with clusterkit reload --update-env, another setting when clusterkit run restarts)`;
  logger.info({}, `watching ${shown} (ignoring ${ignoring}); a change reloads the workers with no downtime${alsoSettings}`);
  return {
    missing: () => tree.missing,
    dropped: () => [...dropped],
    leftOut: () => [...droppedForGood],
    looping: () => [...looping].map(([path, reloads]) => ({ path, reloads })),
    largeDirectories: () => tree.leftOut,
    full: () => tree.full,
    ended: () => tree.ended,
    close: async () => {
      isClosed = true;
      if (timer) clearTimeout(timer);
      scriptWait?.end();
      settingsWatch.close();
      await tree.close();
    },
  };
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Whether `path` lies below `root` (not `root` itself). */
function isBelow(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Whether something is at `path` now. */
function exists(path: string): boolean {
  return mtimeOf(path) !== undefined;
}

/** Why a root cannot be read now (its ENOENT), the cause of its `WatchLostError`. */
function statError(path: string): unknown {
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * Our own stdout and stderr, when they are files (`clusterkit run --watch > out.txt`, nohup's
 * nohup.out): each reload writes to them, and a change to them would reload forever.
 */
function ownOutputTest(logFiles: readonly string[]): (path: string) => boolean {
  const files = new Set<string>();
  const isLogFile = (path: string): boolean => logFiles.some((file) => path === file || (path.startsWith(file) && (path[file.length] === '.' || path[file.length] === '-')));
  for (const fd of [1, 2]) {
    try {
      const stats = fstatSync(fd);
      if (stats.isFile()) files.add(`${stats.dev}:${stats.ino}`);
    } catch {
      // closed: nothing to ignore
    }
  }
  if (files.size === 0 && logFiles.length === 0) return () => false;
  return (path) => {
    if (isLogFile(path)) return true;
    // A change's path may be gone another way than ENOENT by now: a directory on it replaced by
    // a file (`rm -rf src/utils; echo x > src/utils` gives ENOTDIR), or unreadable (EACCES).
    // Any of them: not our output (H268: it threw and ended clusterkit run).
    try {
      const stats = statSync(path, { throwIfNoEntry: false });
      return stats !== undefined && files.has(`${stats.dev}:${stats.ino}`);
    } catch {
      return false;
    }
  };
}
