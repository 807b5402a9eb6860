/**
 * The watched tree of `clusterkit run --watch`, watched on a thread of its own (H652): chokidar's
 * work on a storm of files (a `fs.watch` per file, a read of a directory at each change in it)
 * blocked the primary's thread for 8 to 26 s at a time (hostile t65). The `TreeWatcher` runs in
 * watch-thread-main.ts; here its events arrive in batches, and `close()` ends the thread at once,
 * whatever it is doing, so a shutdown during a storm takes no longer than without one.
 *
 * Run from the sources (tests, tsx), there is no built thread script: the tree is watched on this
 * thread, as before (config-loader.ts does the same for its loading process).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { kWatchIntake, processOwnWork } from '../../primary/lifecycle/own-work.js';
import { toError } from '../../to-error.js';
import { TreeWatcher, type TreeWatcherEvents, type TreeWatcherOptions } from './tree-watcher.js';
import { createIgnoreTest } from './watch-ignore.js';
import type { ThreadMessage, ThreadRequest, WatchThreadData } from './watch-thread-protocol.js';

/** What `watchAndReload` needs of the watched tree, on this thread or on its own. */
export interface WatchedTree {
  /** The files watched when the watch was armed (absolute). */
  files(): string[];
  /** The roots that are gone, waiting to come back. */
  readonly missing: string[];
  /** The directories left out for the rest of the run for their size (H650). */
  readonly leftOut: string[];
  /** Where new entries are not watched now, the watch being full (H650). */
  readonly full: string[];
  /** Resolves once the watcher watches what is on disk now (see `TreeWatcher.check`). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Batches taken in less than this apart (ms) are one stretch of the primary's work. */
const kIntakeGapMs = 5;

/** The heap the watch's thread may use (MB): past it, the thread ends, said, and the primary goes on without the watch. */
const kThreadHeapMb = 1_024;

/**
 * Watches `roots` (absolute), leaving out what `ignore` (`--ignore-watch` patterns) and the
 * always-ignored entries match; resolves once the first scan is done.
 */
export async function openWatchedTree(roots: readonly string[], ignore: readonly string[], cwd: string, events: TreeWatcherEvents, options: TreeWatcherOptions = {}): Promise<WatchedTree> {
  const script = fileURLToPath(new URL('./watch-thread-main.js', import.meta.url));
  if (!existsSync(script)) return TreeWatcher.open(roots, createIgnoreTest(roots, ignore, cwd), events, options);
  return WatchThread.open(script, { roots, ignore, cwd, keep: options.keep, limits: options.limits }, events);
}

class WatchThread implements WatchedTree {
  readonly #worker: Worker;
  readonly #events: TreeWatcherEvents;
  #files: string[] = [];
  readonly #missing = new Set<string>();
  readonly #leftOut: string[] = [];
  readonly #full = new Set<string>();
  readonly #checks = new Map<number, () => void>();
  #nextCheck = 0;
  #isClosed = false;
  #isEnded = false;
  /** The stretch of batches taken in one after the other: its start and its last end (Date.now()). */
  readonly #intake = { startAt: 0, lastAt: 0 };

  private constructor(worker: Worker, events: TreeWatcherEvents) {
    this.#worker = worker;
    this.#events = events;
  }

  static open(script: string, data: WatchThreadData, events: TreeWatcherEvents): Promise<WatchThread> {
    // Unref'd: it never keeps the process up; `clusterkit run` closes it at its shutdown.
    const worker = new Worker(script, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: kThreadHeapMb } });
    worker.unref();
    const thread = new WatchThread(worker, events);
    return new Promise((resolve, reject) => {
      let isReady = false;
      worker.on('message', (message: ThreadMessage) => {
        if (message.kind === 'ready') {
          isReady = true;
          thread.#files = message.files;
          for (const root of message.missing) thread.#missing.add(root);
          resolve(thread);
        } else thread.#take(message);
      });
      worker.on('error', (error) => {
        if (!isReady) reject(error);
        else thread.#end(`it failed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        if (!isReady) reject(new Error(`The watch's thread ended (exit code ${code}) before its first scan was done.`));
        else thread.#end(`it exited (exit code ${code})`);
      });
    });
  }

  files(): string[] {
    return this.#files;
  }

  get missing(): string[] {
    return [...this.#missing];
  }

  get leftOut(): string[] {
    return [...this.#leftOut];
  }

  get full(): string[] {
    return [...this.#full];
  }

  check(): Promise<void> {
    if (this.#isEnded) return Promise.resolve();
    const id = this.#nextCheck++;
    return new Promise((resolve) => {
      this.#checks.set(id, resolve);
      this.#post({ kind: 'check', id });
    });
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#isEnded = true;
    this.#resolveChecks();
    // Ended at once, its watches with it: asked to close, a thread busy with a storm would answer late.
    await this.#worker.terminate();
  }

  #take(message: ThreadMessage): void {
    if (this.#isClosed) return;
    switch (message.kind) {
      case 'changes': {
        const startAt = Date.now();
        for (const [event, path] of message.changes) {
          // What a change's handler throws is the watch's problem, said as such (H268).
          try {
            this.#events.change(event, path);
          } catch (error) {
            this.#events.error(toError(error));
          }
        }
        // The batches' work on this thread is clusterkit's (H650): a report of a blocked primary says
        // so. Batches taken in one after the other (a port hands many over in one turn) are one stretch.
        if (startAt - this.#intake.lastAt > kIntakeGapMs) this.#intake.startAt = startAt;
        this.#intake.lastAt = Date.now();
        processOwnWork.extend(kWatchIntake, this.#intake.startAt, this.#intake.lastAt);
        return;
      }
      case 'lost':
        for (const root of message.roots) this.#missing.add(root);
        this.#events.lost(message.roots);
        return;
      case 'back':
        for (const root of message.roots) this.#missing.delete(root);
        this.#events.back(message.roots);
        return;
      case 'replaced':
        this.#events.replaced(message.roots);
        return;
      case 'error':
        this.#events.error(Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code }));
        return;
      case 'limited':
        this.#leftOut.push(...message.directories);
        for (const where of message.full) this.#full.add(where);
        this.#events.limited?.({ directories: message.directories, full: message.full });
        return;
      case 'roomy':
        this.#full.clear();
        this.#events.roomy?.();
        return;
      case 'recrawled':
        this.#events.recrawled?.(message.changes);
        return;
      case 'checked':
        // A check that failed there is said, as a failed re-arm is on this thread.
        if (message.error !== undefined) this.#events.error(new Error(message.error));
        this.#checks.get(message.id)?.();
        this.#checks.delete(message.id);
        return;
      default:
        return;
    }
  }

  /** The thread ended on its own (out of memory, a crash): said once, and no change is watched from then on. */
  #end(how: string): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    this.#resolveChecks();
    this.#events.error(new Error(`The watch's thread ended: ${how}. No change reloads the workers from now on; restart clusterkit run to watch again (leave data and output directories out with --ignore-watch).`));
  }

  #resolveChecks(): void {
    for (const resolve of this.#checks.values()) resolve();
    this.#checks.clear();
  }

  #post(request: ThreadRequest): void {
    this.#worker.postMessage(request);
  }
}
