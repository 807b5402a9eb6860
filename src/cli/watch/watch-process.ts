/**
 * The watched tree of `clusterkit run --watch`, watched in a process of its own (H652, H658):
 * chokidar's work on a storm of files (a `fs.watch` per file, a read of a directory at each change)
 * blocked the primary's thread for 8 to 26 s at a time (hostile t65). The `TreeWatcher` runs in
 * watch-process-main.ts; here its events arrive in batches, and `close()` kills the process, whose
 * watches the kernel lets go of in one go, so a shutdown during a storm takes no longer than
 * without one. A thread, as before, closed 40,000 watches one by one in 2 s at its end, and the
 * primary's exit waited for it (retest t65: `clusterkit stop` past `--shutdown-timeout`).
 *
 * Run from the sources (tests, tsx), there is no built script: the tree is watched on this
 * thread, as before (config-loader.ts does the same for its loading process).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kWatchIntake, processOwnWork } from '../../primary/lifecycle/own-work.js';
import { toError } from '../../to-error.js';
import { TreeWatcher, type TreeWatcherEvents, type TreeWatcherOptions } from './tree-watcher.js';
import { createIgnoreTest } from './watch-ignore.js';
import type { WatchMessage, WatchProcessData, WatchRequest } from './watch-process-protocol.js';

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
  /** How the watch ended on its own (its process killed, out of memory), after which nothing is watched; undefined while it watches (H667). */
  readonly ended?: string | undefined;
  /** Resolves once the watcher watches what is on disk now (see `TreeWatcher.check`). */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** Batches taken in less than this apart (ms) are one stretch of the primary's work. */
const kIntakeGapMs = 5;

/** The heap the watch's process may use (MB): past it, the process ends, said, and the primary goes on without the watch. */
const kHeapMb = 1_024;

/** How long a message sent just before the watch process ended may come after its end (ms). */
const kLastMessageMs = 100;

/** The last bytes of the watch process's stderr kept, to say why it ended (a crash's stack, an out-of-memory report). */
const kStderrTailBytes = 4_096;

/**
 * Watches `roots` (absolute), leaving out what `ignore` (`--ignore-watch` patterns) and the
 * always-ignored entries match; resolves once the first scan is done.
 */
export async function openWatchedTree(roots: readonly string[], ignore: readonly string[], cwd: string, events: TreeWatcherEvents, options: TreeWatcherOptions = {}): Promise<WatchedTree> {
  const script = fileURLToPath(new URL('./watch-process-main.js', import.meta.url));
  if (!existsSync(script)) return TreeWatcher.open(roots, createIgnoreTest(roots, ignore, cwd), events, options);
  return WatchProcess.open(script, { roots, ignore, cwd, keep: options.keep, limits: options.limits }, events);
}

class WatchProcess implements WatchedTree {
  readonly #child: ChildProcess;
  readonly #events: TreeWatcherEvents;
  #files: string[] = [];
  readonly #missing = new Set<string>();
  readonly #leftOut: string[] = [];
  readonly #full = new Set<string>();
  readonly #checks = new Map<number, () => void>();
  #nextCheck = 0;
  #isClosed = false;
  #isEnded = false;
  #endedHow: string | undefined;
  /** The stretch of batches taken in one after the other: its start and its last end (Date.now()). */
  readonly #intake = { startAt: 0, lastAt: 0 };
  #stderr = '';

  private constructor(child: ChildProcess, events: TreeWatcherEvents) {
    this.#child = child;
    this.#events = events;
  }

  static open(script: string, data: WatchProcessData, events: TreeWatcherEvents): Promise<WatchProcess> {
    // None of Node's options of the primary's (a debugger's port, an APM agent's --require in
    // NODE_OPTIONS): the watch needs none, and loads only its own code. Its own process group
    // (detached): a Ctrl-C in the terminal is the primary's to handle, which ends it at its shutdown.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    // `--expose-gc`: it collects a storm's garbage once the storm is over (watch-process-main.ts).
    const child = fork(script, [], { execArgv: [`--max-old-space-size=${kHeapMb}`, '--expose-gc'], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
    // It never keeps the primary up; `clusterkit run` ends it at its shutdown, and at its exit at the latest.
    child.unref();
    child.channel?.unref();
    const watch = new WatchProcess(child, events);
    const killAtExit = () => child.kill('SIGKILL');
    process.once('exit', killAtExit);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      watch.#stderr = (watch.#stderr + text).slice(-kStderrTailBytes);
    });
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    return new Promise((resolve, reject) => {
      let isReady = false;
      child.on('message', (message: WatchMessage) => {
        if (message.kind === 'ready') {
          isReady = true;
          watch.#files = message.files;
          for (const root of message.missing) watch.#missing.add(root);
          resolve(watch);
        } else if (message.kind === 'failed') {
          if (!isReady) reject(Object.assign(new Error(message.message), message.code === undefined ? {} : { code: message.code }));
        } else watch.#take(message);
      });
      child.on('error', (error) => {
        if (!isReady) reject(error);
        else watch.#end(`it failed: ${error.message}`);
      });
      // 'close', not 'exit': its stderr has been read to the end by then, for its last words. A
      // message it sent just before it ended may still come after: its failure is waited for a moment.
      child.on('close', (code, signal) => {
        process.off('exit', killAtExit);
        const words = watch.#lastWords();
        if (!isReady) setTimeout(() => reject(new Error(`The watch's process ended (${signal === null ? `exit code ${code}` : `killed by ${signal}`}${words}) before its first scan was done.`)), kLastMessageMs);
        else watch.#end(`${signal === null ? `it exited with code ${code}` : `it was killed by ${signal}`}${words}`);
      });
      watch.#post({ kind: 'start', data });
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

  get ended(): string | undefined {
    return this.#endedHow;
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
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    // Ended at once, its watches with it: asked to close, a process busy with a storm would answer late.
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }

  #take(message: WatchMessage): void {
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
        // A check that failed there is said, as a failed re-arm is here.
        if (message.error !== undefined) this.#events.error(new Error(message.error));
        this.#checks.get(message.id)?.();
        this.#checks.delete(message.id);
        return;
      default:
        return;
    }
  }

  /** The process ended on its own (out of memory, a crash, killed): said once, and no change is watched from then on. */
  #end(how: string): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    this.#endedHow = how;
    this.#resolveChecks();
    // Out of memory: the advice is the watched tree's size; another end (a kill from outside) has none but the restart.
    const advice = /heap|memory/i.test(how) ? ' (leave data and output directories out with --ignore-watch: the watch process ran out of memory)' : '';
    this.#events.error(new Error(`The watch's process ended: ${how}. No change reloads the workers from now on; restart clusterkit run to watch again${advice}.`));
  }

  /** `: <its last stderr line>`, or nothing. */
  #lastWords(): string {
    const line = this.#stderr.trim().split('\n').filter((text) => text.trim() !== '').at(-1);
    return line === undefined ? '' : `: ${line.trim().slice(0, 300)}`;
  }

  #resolveChecks(): void {
    for (const resolve of this.#checks.values()) resolve();
    this.#checks.clear();
  }

  #post(request: WatchRequest): void {
    // Gone already (its exit is said): nothing to ask.
    if (this.#child.connected) this.#child.send(request);
  }
}
