/**
 * The log files of `clusterkit run` (PM2's `out_file`, `error_file`, `log_file`): `--output`
 * gets the lines `run` writes to its stdout, `--error` those it writes to its stderr, `--log`
 * both, in the order they were written. The terminal output is unchanged: the files get a copy
 * of each write, the primary's lines and the workers' (prefixed `[name:id]`) alike, JSON lines
 * too; on a terminal, the color codes are left out of the copy.
 *
 * - Each file is opened for appending (created 0o640, less the umask), so `copytruncate`
 *   rotation works as is; one that cannot be opened is refused at the start (`LogFileError`),
 *   before any worker forks.
 * - Writes are asynchronous, one at a time per file: a slow disk never blocks the primary. What
 *   waits is bounded (`kMaxQueuedChars` per file): beyond it, writes are dropped, and the file
 *   then says how many lines were, where they are missing.
 * - A write that fails (disk full, the file's directory removed) is said once as a warning;
 *   that file gets nothing more until it is reopened, and the process runs on.
 * - `reopen()` (SIGUSR2, as `pm2 reloadLogs`) opens each path again: after `mv app.log
 *   app.log.1`, the lines written before go to the moved file, the later ones to a new one.
 * - At the process's exit, what still waits is written synchronously (the exit paths call
 *   `process.exit`, which ends pending writes).
 *
 * Several apps may name the same file: each appends its own writes to it.
 */
import { closeSync, openSync, writeSync, close, open, write, constants } from 'node:fs';
import { LogFileError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';

export type OutputStream = 'stdout' | 'stderr';

/** The files asked for, as absolute paths; each may be left out. */
export interface LogFilePaths {
  /** `--output` / `outFile`: stdout's lines. */
  readonly outFile?: string | undefined;
  /** `--error` / `errorFile`: stderr's lines. */
  readonly errorFile?: string | undefined;
  /** `--log` / `logFile`: both, in order. */
  readonly logFile?: string | undefined;
}

/** Characters a file may have waiting for the disk before writes to it are dropped: 8 Mi (8 to 32 MB). */
export const kMaxQueuedChars = 8 * 1024 * 1024;

const kFileMode = 0o640;
const kAppendFlags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
/** SGR sequences (colors), which a terminal copy has and a file should not. */
const kColorCodes = /\x1b\[[0-9;]*m/g;
const kReopen = Symbol('reopen');

/**
 * PM2's ways of asking for no file (`out_file: 'NULL'`, `'/dev/null'`), and the streams `run`
 * already writes to (`'/dev/stdout'`, `'/dev/stderr'`: PM2's advice for Docker, where PM2 writes
 * files only). Each is no log file here: a file named `NULL` is never created, and a line is
 * never written twice to the terminal (H319).
 */
export function isNoLogFile(value: string): boolean {
  return kNoFile.has(value);
}

const kNoFile: ReadonlySet<string> = new Set(['NULL', '/dev/null', '/dev/stdout', '/dev/stderr', '/dev/fd/1', '/dev/fd/2', '/proc/self/fd/1', '/proc/self/fd/2']);

/** Whether any file is asked for. */
export function hasLogFiles(paths: LogFilePaths): boolean {
  return paths.outFile !== undefined || paths.errorFile !== undefined || paths.logFile !== undefined;
}

/** The paths, each once, with the streams each gets (a path named twice gets both streams, once). */
export function logFileTargets(paths: LogFilePaths): Map<string, Set<OutputStream>> {
  const targets = new Map<string, Set<OutputStream>>();
  const add = (path: string | undefined, streams: OutputStream[]) => {
    if (path === undefined) return;
    const set = targets.get(path) ?? new Set<OutputStream>();
    for (const stream of streams) set.add(stream);
    targets.set(path, set);
  };
  add(paths.outFile, ['stdout']);
  add(paths.errorFile, ['stderr']);
  add(paths.logFile, ['stdout', 'stderr']);
  return targets;
}

/** `path` opened for appending (created if missing), or a `LogFileError` saying why not and what to do. */
export function openForAppend(path: string): number {
  try {
    return openSync(path, kAppendFlags, kFileMode);
  } catch (error) {
    throw logFileError(path, error);
  }
}

/** Checks that each file can be opened for appending (creating it), without keeping it open: the launcher of several apps. */
export function checkLogFiles(paths: LogFilePaths): void {
  for (const path of logFileTargets(paths).keys()) closeSync(openForAppend(path));
}

function logFileError(path: string, error: unknown): LogFileError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  const advice =
    code === 'ENOENT'
      ? 'its directory does not exist: create it (mkdir -p), or give a path in an existing directory'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'the user running clusterkit may not write there: give it write access, or give another path'
        : code === 'EISDIR'
          ? 'it is a directory: give the path of a file in it'
          : 'check the path, or give another one';
  return new LogFileError(path, `Cannot open the log file ${path} for appending (${code}): ${advice}.`, { cause: error });
}

/** What a `LogFiles` says of its troubles: a warning line. */
export type LogFileWarn = (text: string, fields: object) => void;

class LogTarget {
  #fd: number | undefined;
  /** Text waiting for the disk, and reopen marks, in order. */
  #queue: Array<string | typeof kReopen> = [];
  #queuedChars = 0;
  #isBusy = false;
  /** A write failed: nothing is kept until a reopen. */
  #isFailed = false;
  #droppedLines = 0;
  #droppedChars = 0;
  #isDropSaid = false;
  #reopened: Array<(ok: boolean) => void> = [];

  constructor(
    readonly path: string,
    readonly streams: ReadonlySet<OutputStream>,
    fd: number,
    private readonly warn: LogFileWarn,
  ) {
    this.#fd = fd;
  }

  add(text: string): void {
    if (this.#isFailed) return;
    if (this.#queuedChars + text.length > kMaxQueuedChars) {
      this.#droppedLines += countLines(text);
      this.#droppedChars += text.length;
      if (!this.#isDropSaid) {
        this.#isDropSaid = true;
        queueMicrotask(() => this.warn(`the log file ${this.path} cannot keep up (more than ${formatBytes(kMaxQueuedChars)} waiting for the disk): lines are dropped from it until it does, and the file says how many`, { path: this.path }));
      }
      return;
    }
    if (this.#droppedLines > 0 || this.#droppedChars > 0) {
      const note = `[clusterkit] ${this.#droppedLines} line${this.#droppedLines === 1 ? '' : 's'} (${formatBytes(this.#droppedChars)}) dropped here: this log file could not keep up\n`;
      this.#droppedLines = 0;
      this.#droppedChars = 0;
      this.#push(note);
    }
    this.#push(text);
  }

  /** Opens the path again once what waits was written to the file open now; resolves with whether it opened. */
  reopen(): Promise<boolean> {
    return new Promise((resolve) => {
      this.#reopened.push(resolve);
      this.#queue.push(kReopen);
      this.#isFailed = false;
      this.#pump();
    });
  }

  /** Writes what waits, synchronously: the process is exiting. */
  flushSync(): void {
    const fd = this.#fd;
    if (fd === undefined || this.#isFailed) return;
    const text = this.#queue.filter((item): item is string => item !== kReopen).join('');
    this.#queue = [];
    this.#queuedChars = 0;
    try {
      if (text !== '') writeSync(fd, text);
    } catch {
      // Exiting: nowhere left to say it.
    }
  }

  /** Closes the file at once (a refused start). */
  closeSync(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #push(text: string): void {
    this.#queue.push(text);
    this.#queuedChars += text.length;
    this.#pump();
  }

  #pump(): void {
    if (this.#isBusy || this.#queue.length === 0) return;
    this.#isBusy = true;
    if (this.#queue[0] === kReopen) {
      this.#queue.shift();
      this.#doReopen();
      return;
    }
    const parts: string[] = [];
    for (let next = this.#queue[0]; typeof next === 'string'; next = this.#queue[0]) {
      parts.push(next);
      this.#queue.shift();
    }
    const text = parts.join('');
    this.#queuedChars -= text.length;
    this.#writeAll(Buffer.from(text));
  }

  #writeAll(buffer: Buffer): void {
    const fd = this.#fd;
    if (fd === undefined || this.#isFailed) {
      this.#idle();
      return;
    }
    write(fd, buffer, 0, buffer.length, null, (error, written) => {
      if (error) {
        this.#fail(error);
        this.#idle();
      } else if (written < buffer.length) this.#writeAll(buffer.subarray(written));
      else this.#idle();
    });
  }

  #doReopen(): void {
    const old = this.#fd;
    this.#fd = undefined;
    const opened = () =>
      open(this.path, kAppendFlags, kFileMode, (error, fd) => {
        const ok = !error;
        if (error) this.#fail(error, 'reopen');
        else this.#fd = fd;
        for (const resolve of this.#reopened.splice(0)) resolve(ok);
        this.#idle();
      });
    if (old === undefined) opened();
    else close(old, () => opened());
  }

  #idle(): void {
    this.#isBusy = false;
    if (this.#isFailed) {
      // What waits would go nowhere; a reopen mark stays, to try again.
      this.#queue = this.#queue.filter((item) => item === kReopen);
      this.#queuedChars = 0;
    }
    this.#pump();
  }

  #fail(error: NodeJS.ErrnoException, when: 'write' | 'reopen' = 'write'): void {
    if (this.#isFailed) return;
    this.#isFailed = true;
    const code = error.code ?? error.message;
    const what = when === 'write' ? `writing to the log file ${this.path} failed` : `reopening the log file ${this.path} failed`;
    this.warn(`${what} (${code}): it gets no more lines; free the disk or create its directory again, then send SIGUSR2 to the primary (pid ${process.pid}) to reopen it. The output still goes to stdout and stderr`, { path: this.path, code });
  }
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count === 0 ? 1 : count;
}

/** The open log files of one `clusterkit run`. */
export class LogFiles {
  readonly #targets: LogTarget[];

  /** Opens every file (throws `LogFileError` for the first that cannot be: those opened before are closed). */
  constructor(paths: LogFilePaths, warn: LogFileWarn) {
    const targets: LogTarget[] = [];
    try {
      for (const [path, streams] of logFileTargets(paths)) targets.push(new LogTarget(path, streams, openForAppend(path), warn));
    } catch (error) {
      for (const target of targets) target.closeSync();
      throw error;
    }
    this.#targets = targets;
  }

  get paths(): string[] {
    return this.#targets.map((target) => target.path);
  }

  /** A copy of what was written to `stream`. */
  write(stream: OutputStream, text: string): void {
    for (const target of this.#targets) if (target.streams.has(stream)) target.add(text);
  }

  /** Reopens every file (SIGUSR2); resolves with the paths reopened. */
  async reopen(): Promise<string[]> {
    const results = await Promise.all(this.#targets.map(async (target) => ((await target.reopen()) ? target.path : undefined)));
    return results.filter((path): path is string => path !== undefined);
  }

  flushSync(): void {
    for (const target of this.#targets) target.flushSync();
  }
}

/** Characters of the early output (`recordEarlyOutput`) kept for the log files: 64 Ki. */
const kMaxEarlyChars = 64 * 1024;

/** What `run` wrote before its log files were known, and the undoing of that recording. */
let early: { writes: Array<[OutputStream, string]>; chars: number; stop: () => void } | undefined;

/**
 * Records what `run` writes before its settings are known (the config file's warnings and
 * notes): once its log files open, they get these lines first (`teeProcessOutput`), as the
 * terminal did. Bounded: past 64 Ki characters, the rest is not recorded.
 */
export function recordEarlyOutput(): void {
  if (early !== undefined) return;
  const writes: Array<[OutputStream, string]> = [];
  const undo: Array<() => void> = [];
  const state = { writes, chars: 0, stop: () => undo.forEach((step) => step()) };
  for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    const original = stream.write;
    const isTerminal = stream.isTTY === true;
    const record = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : '';
      if (text !== '' && state.chars + text.length <= kMaxEarlyChars) {
        writes.push([name, isTerminal ? text.replace(kColorCodes, '') : text]);
        state.chars += text.length;
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    };
    stream.write = record as typeof stream.write;
    undo.push(() => {
      if (stream.write === (record as typeof stream.write)) stream.write = original;
    });
  }
  early = state;
}

/** Stops recording the early output, dropping it (several apps: each app's process has its own). */
export function stopEarlyOutput(): void {
  takeEarlyOutput();
}

/** Stops recording the early output; returns what was recorded. */
function takeEarlyOutput(): Array<[OutputStream, string]> {
  const taken = early;
  early = undefined;
  if (taken === undefined) return [];
  taken.stop();
  return taken.writes;
}

/**
 * Copies every write to `process.stdout` and `process.stderr` into `files` (color codes left
 * out where the stream is a terminal); at the process's exit, what waits is written. Returns the
 * function that undoes it.
 */
export function teeProcessOutput(files: LogFiles): () => void {
  for (const [stream, text] of takeEarlyOutput()) files.write(stream, text);
  const undo: Array<() => void> = [];
  for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    const original = stream.write;
    const isTerminal = stream.isTTY === true;
    const copy = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      try {
        const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8') : '';
        if (text !== '') files.write(name, isTerminal ? text.replace(kColorCodes, '') : text);
      } catch {
        // The copy never stands in the way of the output itself.
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    };
    stream.write = copy as typeof stream.write;
    undo.push(() => {
      if (stream.write === (copy as typeof stream.write)) stream.write = original;
    });
  }
  const onExit = () => files.flushSync();
  process.on('exit', onExit);
  undo.push(() => process.off('exit', onExit));
  return () => {
    for (const step of undo) step();
  };
}
