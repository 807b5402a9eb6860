/**
 * The log files of `clusterkit run` (PM2's `out_file`, `error_file`, `log_file`). Each line goes
 * where `clusterkit logs --out` / `--err` puts it (`outputOf`, one rule for both, H334):
 * `--output` gets the workers' stdout and the primary's info lines, `--error` the workers'
 * stderr and the primary's warnings and errors (as PM2's error_file holds what went wrong, not
 * `worker 2 ready`), `--log` all of them, in the order they were written. The terminal output is
 * unchanged (the primary's own lines all go to stderr there): the files get a copy of each
 * write, JSON lines too; on a terminal, the color codes are left out of the copy. A worker's
 * line (`--log-format line`) goes to the files as `clusterkit logs` shows it, every control
 * character escaped (`\x1b`, `\x0d`), even where the terminal or pipe gets it as is (H343).
 *
 * - Each file is opened for appending (created 0o640, less the umask), so `copytruncate`
 *   rotation works as is; one that cannot be opened is refused at the start (`LogFileError`),
 *   before any worker forks.
 * - Writes are asynchronous, one at a time per file: a slow disk never blocks the primary. What
 *   waits is bounded (`kMaxQueuedChars` per file): beyond it, writes are dropped, and the file
 *   then says how many lines were, where they are missing.
 * - A write that fails (disk full, the file's directory removed) is said once as a warning;
 *   that file gets nothing more until it is reopened, and the process runs on. Once written
 *   again, the file says how many lines it lost, after finishing a line the failure cut (H343).
 * - At most once a second, the path is looked at: a file deleted is created again, never
 *   through a symlink nor onto an existing file (H341); something else put there waits for a
 *   SIGUSR2.
 * - `reopen()` (SIGUSR2, as `pm2 reloadLogs`) opens each path again: after `mv app.log
 *   app.log.1`, the lines written before go to the moved file, the later ones to a new one.
 * - `process.exit()` waits (up to 2 s, exit-waits.ts) for a write on its way to the disk: an
 *   exit in its midst would lose it, or write the lines after it first (H535).
 *   At the exit, what still waits is written synchronously.
 *
 * Several apps may name the same file: each appends its own writes to it.
 */
import { closeSync, fstatSync, openSync, statSync, writeSync, close, fstat, lstat, open, readlink, stat, write, constants, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { LogFileState } from '../../control/cluster-settings.js';
import { outputOf } from '../../control/log-protocol.js';
import { kLogLevels, type Logger } from '../../logger.js';
import { LogFileError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import { waitAtExit } from '../exit-waits.js';

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
/** Never waiting in the open (a FIFO without a reader: ENXIO, not a hang, H321). */
const kAppendFlags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
/**
 * The reopen `run` does by itself (H322) only ever creates the file: never an existing one, never
 * through a symlink (H341). Something put at the path (a symlink to /etc/passwd) is left alone.
 */
const kCreateFlags = kAppendFlags | constants.O_EXCL | constants.O_NOFOLLOW;
/** SGR sequences (colors), which a terminal copy has and a file should not. */
const kColorCodes = /\x1b\[[0-9;]*m/g;

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

/** An open log file: its descriptor, and what it is (device and inode: the same file by two names is one, H323). */
export interface OpenedLogFile {
  readonly fd: number;
  readonly stats: Stats;
}

/**
 * `path` opened for appending (created if missing), or a `LogFileError` saying why not and what
 * to do. Only a regular file or a character device (`/dev/full`, a terminal) is a log file: a
 * FIFO, a socket or a block device is refused (H321). The open never waits (`O_NONBLOCK`): a FIFO
 * put at the path after the check fails to open (ENXIO) instead of holding the process until a
 * program reads it.
 */
export function openForAppend(path: string): OpenedLogFile {
  let before: Stats | undefined;
  try {
    before = statSync(path, { throwIfNoEntry: false });
  } catch {
    // The open says why (EACCES on a directory of the path).
  }
  if (before !== undefined && notAFileKind(before) !== undefined) throw notAFileError(path, notAFileKind(before)!);
  let fd: number;
  try {
    fd = openSync(path, kAppendFlags, kFileMode);
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === 'ENXIO' ? notAFileError(path, 'a FIFO (named pipe) or a socket', error) : logFileError(path, error);
  }
  const stats = fstatSync(fd);
  const kind = notAFileKind(stats);
  if (kind !== undefined) {
    closeSync(fd);
    throw notAFileError(path, kind);
  }
  return { fd, stats };
}

/** What `stats` is when it is no file a log can be appended to (a directory is left to the open's EISDIR). */
function notAFileKind(stats: Stats): string | undefined {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice()) return 'a block device';
  return undefined;
}

/** The code a refused kind of file is told with (a WARN's, `show`'s). */
const kNotAFileCode = 'ENOTREGULAR';

function notAFileError(path: string, kind: string, cause?: unknown): LogFileError {
  return new LogFileError(
    path,
    `Cannot use ${path} as a log file: it is ${kind}, not a regular file, and a log file is written without waiting for a reader. ` +
      `To feed the output to a program, pipe run's output to it instead (clusterkit run app.js 2>&1 | program), or give the path of a regular file.`,
    { cause: cause ?? new Error(`${path} is ${kind}`) },
  );
}

/** Checks that each file can be opened for appending (creating it), without keeping it open: the launcher of several apps. */
export function checkLogFiles(paths: LogFilePaths): void {
  for (const path of logFileTargets(paths).keys()) closeSync(openForAppend(path).fd);
}

/**
 * What to do about a log file that cannot be written or opened again, by the error's code: the
 * WARN of a failed write or reopen and `show`'s failing state say it (H334).
 */
export function logFileAdvice(code: string): string {
  switch (code) {
    case 'EISDIR':
      return 'its path is a directory now: move the directory away (or give the app another path)';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk (or the user\'s quota) is full: free space on it';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'its directory is gone: create it again (mkdir -p)';
    case 'EACCES':
    case 'EPERM':
      return 'the user running clusterkit may not write there: give it write access';
    case 'EROFS':
      return 'its file system is read-only now: remount it writable (or give the app another path)';
    case kNotAFileCode:
      return 'it is not a regular file: put a regular file (or nothing) at that path';
    case kReplacedCode:
      return 'something else was put at its path (a symlink, another file), which is not opened by itself: check it, remove it or keep it, then send SIGUSR2';
    default:
      return 'check the path and its disk';
  }
}

function logFileError(path: string, error: unknown): LogFileError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown error';
  const advice =
    code === 'ENOENT'
      ? isDirectory(dirname(path))
        ? // /proc/x.log: the directory is there, but its file system creates no file (H432).
          `its directory ${dirname(path)} exists, but no file can be created in it: it is on a read-only or special file system (such as /proc or /sys); give a path on an ordinary, writable file system`
        : 'its directory does not exist: create it (mkdir -p), or give a path in an existing directory'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'the user running clusterkit may not write there: give it write access, or give another path'
        : code === 'EISDIR'
          ? 'it is a directory: give the path of a file in it'
          : 'check the path, or give another one';
  return new LogFileError(path, `Cannot open the log file ${path} for appending (${code}): ${advice}.`, { cause: error });
}

/** What a `LogFiles` says of its troubles (a warning line) and of a file opened again by itself (an info line). */
export type LogFileWarn = (text: string, fields: object) => void;

export interface LogFileNotes {
  readonly warn: LogFileWarn;
  readonly info: LogFileWarn;
}

/** How often, at most, a file's path is looked at while lines are written: does it still name the open file (H322)? */
export const kLogFileCheckMs = 1000;
/** A character device that takes nothing now (EAGAIN, as it is opened without waiting): tried again after this long. */
const kRetryMs = 20;

type ReopenMark = { readonly reopen: 'signal' | 'check' } | { readonly check: true };

/** The code of a path where something else was put (`show`'s failing state, the WARN's advice): H341. */
const kReplacedCode = 'EREPLACED';

class LogTarget {
  #fd: number | undefined;
  /** The open file's device and inode: the path is looked at against them. */
  #identity: { dev: number; ino: number } | undefined;
  /** Text waiting for the disk, and reopen marks, in order. */
  #queue: Array<string | ReopenMark> = [];
  #queuedChars = 0;
  #isBusy = false;
  /** A write failed, or the file could not be opened again: nothing is kept until a reopen. */
  #isFailed = false;
  /** Since when, and why, the file gets nothing (`show`). */
  #failure: { since: Date; code: string } | undefined;
  #droppedLines = 0;
  #droppedChars = 0;
  #isDropSaid = false;
  /** Lines that never reached the file while it failed: the file says so once it is written again (H343). */
  #lostLines = 0;
  #lostBytes = 0;
  /** The file's last write ended inside a line (a write cut short by a full disk): finished before anything else (H343). */
  #endsMidLine = false;
  /** Something else was put at the path: nothing is opened by itself, only a SIGUSR2 reopens (H341). */
  #isHeld = false;
  #reopened: Array<(ok: boolean) => void> = [];
  /** Who waits for the file to have what was written (`written()`). */
  #writtenWaiters: Array<() => void> = [];
  #checkedAt = Date.now();
  /** What a device did not take yet (EAGAIN), and the timer that tries again. */
  #retry: { buffer: Buffer; timer: NodeJS.Timeout } | undefined;
  #streams: Set<OutputStream>;
  /** Other names of the same file (H323). */
  readonly #aliases: string[] = [];

  constructor(
    readonly path: string,
    streams: ReadonlySet<OutputStream>,
    opened: OpenedLogFile,
    private readonly notes: LogFileNotes,
  ) {
    this.#fd = opened.fd;
    this.#identity = { dev: opened.stats.dev, ino: opened.stats.ino };
    this.#streams = new Set(streams);
  }

  get streams(): ReadonlySet<OutputStream> {
    return this.#streams;
  }

  /** Whether `stats` is this target's file. */
  isFile(stats: Stats): boolean {
    return this.#identity !== undefined && this.#identity.dev === stats.dev && this.#identity.ino === stats.ino;
  }

  /** The same file by another name (`alias`) also gets `streams` (H323). */
  addStreams(alias: string, streams: ReadonlySet<OutputStream>): void {
    this.#aliases.push(alias);
    for (const stream of streams) this.#streams.add(stream);
  }

  /** The file's state, under each name it was given. */
  states(): LogFileState[] {
    const failure = this.#failure;
    return [this.path, ...this.#aliases].map((path) => (failure === undefined ? { path, state: 'written' } : { path, state: 'failing', since: failure.since.toISOString(), code: failure.code }));
  }

  add(text: string): void {
    this.#check();
    // Failed, with a look under way or queued (this line's, or an earlier one's): the line waits
    // behind it, and goes to the file if the look opens it again (hostile tester t56: the line
    // that found a re-created directory was counted lost).
    if (this.#isFailed && !this.#hasMarkWaiting()) {
      this.#lostLines += countLines(text);
      this.#lostBytes += Buffer.byteLength(text);
      return;
    }
    if (this.#queuedChars + text.length > kMaxQueuedChars) {
      this.#droppedLines += countLines(text);
      this.#droppedChars += text.length;
      if (!this.#isDropSaid) {
        this.#isDropSaid = true;
        queueMicrotask(() => this.notes.warn(`the log file ${this.path} cannot keep up (more than ${formatBytes(kMaxQueuedChars)} waiting for the disk): lines are dropped from it until it does, and the file says how many`, { path: this.path }));
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
      this.#queue.push({ reopen: 'signal' });
      this.#isFailed = false;
      this.#isHeld = false;
      this.#pump();
    });
  }

  /** Writes what waits, synchronously: the process is exiting. */
  flushSync(): void {
    const fd = this.#fd;
    const retry = this.#retry;
    this.#retry = undefined;
    if (retry !== undefined) clearTimeout(retry.timer);
    if (fd === undefined || this.#isFailed) return;
    const text = this.#queue.filter((item): item is string => typeof item === 'string').join('');
    this.#queue = [];
    this.#queuedChars = 0;
    try {
      if (retry !== undefined) writeAllSync(fd, retry.buffer);
      if (text !== '') writeAllSync(fd, Buffer.from(text));
    } catch {
      // Exiting: nowhere left to say it.
    }
  }

  /** Closes the file at once (a refused start, or the same file by another name). */
  closeSync(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /**
   * At most once a second while lines are written (one stat): a file deleted (or its directory
   * removed) is created again at its path, as `tail -F` follows it; a file that could not be
   * created again is tried again (H322); something else put at the path is left alone (H341).
   * The look is queued before the line that asked for it: that line goes to the new file.
   */
  #check(): void {
    const now = Date.now();
    if (now - this.#checkedAt < kLogFileCheckMs || this.#hasMarkWaiting()) return;
    this.#checkedAt = now;
    // Lost at once: the file could not be created again, try again (not when something else is there).
    if (this.#fd === undefined) {
      if (this.#isFailed && !this.#isHeld) this.#queueMark({ reopen: 'check' });
      return;
    }
    this.#queueMark({ check: true });
  }

  /** The path looked at, in the queue's order: still the open file, or created again. */
  #doCheck(): void {
    stat(this.path, (error, stats) => {
      if (this.#fd === undefined || (!error && this.isFile(stats))) this.#idle();
      else this.#doReopen('check');
    });
  }

  #hasMarkWaiting(): boolean {
    return this.#queue.some((item) => typeof item !== 'string') || this.#isReopening;
  }

  #isReopening = false;

  #queueMark(mark: ReopenMark): void {
    this.#queue.push(mark);
    this.#pump();
  }

  #push(text: string): void {
    this.#queue.push(text);
    this.#queuedChars += text.length;
    this.#pump();
  }

  #pump(): void {
    if (this.#isBusy || this.#queue.length === 0) return;
    this.#isBusy = true;
    const first = this.#queue[0]!;
    if (typeof first !== 'string') {
      this.#queue.shift();
      if ('check' in first) this.#doCheck();
      else this.#doReopen(first.reopen);
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

  /** Writes all of `buffer`: a short write goes on with the rest, a device's EAGAIN tries again a moment later (H321). */
  #writeAll(buffer: Buffer): void {
    const fd = this.#fd;
    if (fd === undefined || this.#isFailed) {
      this.#idle();
      return;
    }
    write(fd, buffer, 0, buffer.length, null, (error, written) => {
      if (error?.code === 'EAGAIN') {
        const timer = setTimeout(() => {
          this.#retry = undefined;
          this.#writeAll(buffer);
        }, kRetryMs);
        timer.unref();
        this.#retry = { buffer, timer };
      } else if (error) {
        // What was not written is lost; a line begun in the file is finished once it is written again.
        this.#lose(buffer);
        this.#fail(error);
        this.#idle();
      } else if (written < buffer.length) {
        this.#endsMidLine = buffer[written - 1] !== 0x0a;
        this.#writeAll(buffer.subarray(written));
      } else {
        this.#endsMidLine = buffer[buffer.length - 1] !== 0x0a;
        this.#idle();
      }
    });
  }

  /**
   * Opens the path again. A SIGUSR2 (`signal`, the user's own reopen) opens what is there, as
   * logrotate's `create` leaves it, a symlink followed. The check (`check`) only ever creates the
   * file (`O_EXCL | O_NOFOLLOW`, H341): something else put at the path is a WARN naming it, and
   * the file gets nothing until a SIGUSR2.
   */
  #doReopen(why: 'signal' | 'check'): void {
    const old = this.#fd;
    const oldIdentity = this.#identity;
    const wasFailed = this.#isFailed;
    const failure = this.#failure;
    this.#fd = undefined;
    this.#identity = undefined;
    this.#isReopening = true;
    const done = (error: NodeJS.ErrnoException | undefined, replacedBy?: string) => {
      this.#isReopening = false;
      if (replacedBy !== undefined) this.#hold(replacedBy);
      else if (error) {
        // Tried again by the check: said once, when it first failed.
        if (why === 'check' && wasFailed) this.#isFailed = true;
        else this.#fail(error, why === 'signal' ? 'reopen' : 'recreate');
      } else {
        this.#isFailed = false;
        this.#failure = undefined;
        // The same file again (a SIGUSR2 after a full disk): a line it was cut inside is finished first.
        const isSameFile = oldIdentity !== undefined && this.#identity !== undefined && oldIdentity.dev === this.#identity.dev && oldIdentity.ino === this.#identity.ino;
        this.#markLost(isSameFile && this.#endsMidLine && failure !== undefined, failure);
        if (why === 'check') {
          this.notes.info(
            wasFailed && failure !== undefined
              ? `the log file ${this.path} is written again: created it (lines since ${failure.since.toISOString()} are not in it)`
              : `the log file ${this.path} was moved or deleted (its path named no file): created it again at its path`,
            { path: this.path },
          );
        }
      }
      if (why === 'signal') for (const resolve of this.#reopened.splice(0)) resolve(!error && replacedBy === undefined);
      this.#idle();
    };
    const opened = () =>
      open(this.path, why === 'check' ? kCreateFlags : kAppendFlags, kFileMode, (error, fd) => {
        if (error) {
          if (why === 'check' && (error.code === 'EEXIST' || error.code === 'ELOOP')) describePath(this.path, (what) => done(error, what));
          else done(error.code === 'ENXIO' ? notAFileFailure('a FIFO (named pipe) or a socket') : error);
          return;
        }
        fstat(fd, (statError, stats) => {
          const kind = statError ? undefined : notAFileKind(stats);
          if (statError || kind !== undefined) {
            close(fd, () => done(statError ?? notAFileFailure(kind!)));
            return;
          }
          this.#fd = fd;
          this.#identity = { dev: stats.dev, ino: stats.ino };
          done(undefined);
        });
      });
    if (old === undefined) opened();
    else close(old, () => opened());
  }

  /** Something else is at the path (H341): nothing goes there until a SIGUSR2, said once. */
  #hold(what: string): void {
    this.#isHeld = true;
    if (this.#isFailed && this.#failure?.code === kReplacedCode) return;
    this.#isFailed = true;
    this.#failure = { since: this.#failure?.since ?? new Date(), code: kReplacedCode };
    this.notes.warn(
      `the log file ${this.path} was replaced: its path is now ${what}, which clusterkit did not create, so it does not open it by itself ` +
        `(a symlink put there could point it at any file). The file gets no more lines; check what is at ${this.path} ` +
        `(remove it to have a new file), then send SIGUSR2 to the primary (pid ${process.pid}) to reopen it. The output still goes to stdout and stderr`,
      { path: this.path, code: kReplacedCode, now: what },
    );
  }

  /** What never reached the file (`buffer`, not written), counted for the file's mark (H343). */
  #lose(buffer: Buffer): void {
    if (buffer.length === 0) return;
    this.#lostLines += countLines(buffer.toString('utf8'));
    this.#lostBytes += buffer.length;
  }

  /** Queued first once the file is written again: a line cut short is finished, and the lines lost are counted (H343). */
  #markLost(isCutLine: boolean, failure: { since: Date; code: string } | undefined): void {
    const lines = this.#lostLines;
    const bytes = this.#lostBytes;
    this.#lostLines = 0;
    this.#lostBytes = 0;
    const cut = isCutLine ? `\n[clusterkit] the line above was cut short: writing it failed${failure === undefined ? '' : ` (${failure.code})`}\n` : '';
    this.#endsMidLine = false;
    const lost =
      lines > 0
        ? `[clusterkit] ${lines} line${lines === 1 ? '' : 's'} (${formatBytes(bytes)}) lost here: this log file could not be written` +
          `${failure === undefined ? '' : ` (${failure.code}) from ${failure.since.toISOString()}`} until ${new Date().toISOString()}\n`
        : '';
    const note = cut + lost;
    if (note === '') return;
    this.#queue.unshift(note);
    this.#queuedChars += note.length;
  }

  #idle(): void {
    this.#isBusy = false;
    if (this.#isFailed) {
      // What waits would go nowhere (counted, for the file's mark); a reopen mark stays, to try again.
      for (const item of this.#queue) if (typeof item === 'string') this.#lose(Buffer.from(item));
      this.#queue = this.#queue.filter((item) => typeof item !== 'string');
      this.#queuedChars = 0;
    }
    this.#pump();
    if (!this.isWriting()) for (const resolve of this.#writtenWaiters.splice(0)) resolve();
  }

  /** Whether a write is on its way to the disk, or text waits for one. */
  isWriting(): boolean {
    return this.#isBusy || this.#queue.some((item) => typeof item === 'string');
  }

  /** Resolves once nothing is on its way to the file nor waits (at once when nothing is). */
  written(): Promise<void> {
    if (!this.isWriting()) return Promise.resolve();
    return new Promise((resolve) => this.#writtenWaiters.push(resolve));
  }

  #fail(error: NodeJS.ErrnoException, when: 'write' | 'reopen' | 'recreate' = 'write'): void {
    if (this.#isFailed) return;
    this.#isFailed = true;
    const code = error.code ?? error.message;
    // A file that was failing keeps its first failure's time through a SIGUSR2 that fails again (H343).
    this.#failure = { since: this.#failure?.since ?? new Date(), code };
    const signal = `send SIGUSR2 to the primary (pid ${process.pid}) to reopen it. The output still goes to stdout and stderr`;
    // The advice fits the error: a directory at the path is no full disk (H334).
    const advice = logFileAdvice(code);
    const text =
      code === kNotAFileCode
        ? `reopening the log file ${this.path} failed (${error.message}): it gets no more lines; put a regular file (or nothing) at that path, then ${signal}`
        : when === 'recreate'
          ? `the log file ${this.path} is gone (deleted, or its directory removed) and cannot be created again (${code}): it gets no lines until it can; ${advice}, and it is created again within a second of the next line, or ${signal}`
          : `${when === 'write' ? `writing to the log file ${this.path} failed` : `reopening the log file ${this.path} failed`} (${code}): it gets no more lines; ${advice}, then ${signal}`;
    this.notes.warn(text, { path: this.path, code });
  }
}

/** What is at `path` now, said in a WARN (H341): a symlink and where it points, another file, a directory... */
function describePath(path: string, then: (what: string) => void): void {
  lstat(path, (error, stats) => {
    if (error) then(`gone again (${error.code ?? error.message})`);
    else if (stats.isSymbolicLink()) readlink(path, (linkError, target) => then(linkError ? 'a symbolic link' : `a symbolic link to ${JSON.stringify(target)}`));
    else if (stats.isFile()) then(`another regular file (inode ${stats.ino}, owner uid ${stats.uid})`);
    else if (stats.isDirectory()) then('a directory');
    else then(notAFileKind(stats) ?? 'a device');
  });
}

/** A kind of file refused at a reopen, as an error with a code. */
function notAFileFailure(kind: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`it is ${kind}, not a regular file`), { code: kNotAFileCode });
}

/** Writes all of `buffer` synchronously (the exit): short writes go on, a device's EAGAIN is waited for up to a second. */
function writeAllSync(fd: number, buffer: Buffer): void {
  let offset = 0;
  let waits = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || ++waits > 1000 / kRetryMs) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, kRetryMs);
    }
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

  /**
   * Opens every file (throws `LogFileError` for the first that cannot be: those opened before are
   * closed). One file reached by two names (a symlink and its target, a hard link) is opened once
   * and gets each line once (H323).
   */
  constructor(paths: LogFilePaths, notes: LogFileNotes);
  /** Each path with the streams it gets (the launcher's combined logs: `combinedLogFiles`). */
  constructor(paths: ReadonlyMap<string, ReadonlySet<OutputStream>>, notes: LogFileNotes);
  constructor(paths: LogFilePaths | ReadonlyMap<string, ReadonlySet<OutputStream>>, notes: LogFileNotes) {
    const targets: LogTarget[] = [];
    try {
      for (const [path, streams] of paths instanceof Map ? (paths as ReadonlyMap<string, ReadonlySet<OutputStream>>) : logFileTargets(paths as LogFilePaths)) {
        const opened = openForAppend(path);
        const same = targets.find((target) => target.isFile(opened.stats));
        if (same === undefined) targets.push(new LogTarget(path, streams, opened, notes));
        else {
          same.addStreams(path, streams);
          closeSync(opened.fd);
        }
      }
    } catch (error) {
      for (const target of targets) target.closeSync();
      throw error;
    }
    this.#targets = targets;
  }

  get paths(): string[] {
    return this.#targets.map((target) => target.path);
  }

  /** Each file's state: written, or failing since when and why (H322). */
  states(): LogFileState[] {
    return this.#targets.flatMap((target) => target.states());
  }

  /** A copy of what was written to `stream`. */
  write(stream: OutputStream, text: string): void {
    for (const target of this.#targets) if (target.streams.has(stream)) target.add(text);
  }

  /**
   * Writes to each file the text `render` gives for it (`path`: the name the file was first
   * given), whatever its streams: the launcher's lines, in the style of the app whose combined log
   * it is (H362).
   */
  writeEach(render: (path: string) => string): void {
    for (const target of this.#targets) {
      const text = render(target.path);
      if (text !== '') target.add(text);
    }
  }

  /** Reopens every file (SIGUSR2); resolves with the paths reopened. */
  async reopen(): Promise<string[]> {
    const results = await Promise.all(this.#targets.map(async (target) => ((await target.reopen()) ? target.path : undefined)));
    return results.filter((path): path is string => path !== undefined);
  }

  flushSync(): void {
    for (const target of this.#targets) target.flushSync();
  }

  /** Whether a write is on its way to a file, or text waits for one. */
  isWriting(): boolean {
    return this.#targets.some((target) => target.isWriting());
  }

  /** Resolves once every file has what was written to it so far (or could not take it). */
  async written(): Promise<void> {
    await Promise.all(this.#targets.map((target) => target.written()));
  }
}

/**
 * The launcher of several apps: its own lines (`starting 3 apps`, `app api exited`) go to every
 * app's `logFile`, the combined log, each file once (one file by two names, or shared by apps,
 * is opened once: dev and inode); neither `outFile` nor `errorFile` gets them (H334).
 */
export function combinedLogFiles(apps: readonly LogFilePaths[], notes: LogFileNotes): LogFiles | undefined {
  const paths = new Map<string, ReadonlySet<OutputStream>>();
  for (const app of apps) if (app.logFile !== undefined) paths.set(app.logFile, new Set<OutputStream>(['stdout', 'stderr']));
  return paths.size === 0 ? undefined : new LogFiles(paths, notes);
}

/**
 * The output whose log files get what is written now, whichever stream it is written to (a
 * primary's info line is written to stderr and belongs to `--output`); unset: the stream's own.
 */
let routed: OutputStream | undefined;

/** Runs `write` with what it writes to stdout or stderr copied to the log files of `output` (the terminal stream unchanged). */
export function writingAs<T>(output: OutputStream, write: () => T): T {
  const before = routed;
  routed = output;
  try {
    return write();
  } finally {
    routed = before;
  }
}

/**
 * `logger` with each line copied to the log files where `clusterkit logs` shows it (`outputOf`,
 * H334): debug and info to `--output`, warn and error to `--error`; `--log` gets both. The
 * logger must write synchronously (the line and JSON loggers do).
 */
export function fileRoutedLogger(logger: Logger): Logger {
  const routedLogger = {} as Logger;
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    const output = outputOf({ source: 'primary', stream: 'stderr', level: kLogLevels[method] });
    routedLogger[method] = (fields: object, message?: string) => writingAs(output, () => logger[method](fields, message));
  }
  return routedLogger;
}

/** The copies to log files in force (`teeProcessOutput`): none, and nothing is copied. */
let tees = 0;

/** Whether what is written now is copied to log files: without any, a worker's lines need no escaped copy (`writingWithFileCopy`). */
export function isCopyingToLogFiles(): boolean {
  return tees > 0;
}

/** What the log files get instead of the next write (a worker's lines, escaped: H343); unset: a copy of it. */
let fileCopy: string | undefined;

/**
 * Runs `write` with `text` going to the log files in place of what it writes to stdout or stderr
 * (its first write): a worker's lines reach a pipe or a file as they are, and the log files with
 * their control characters escaped, as `clusterkit logs` shows them (H343).
 */
export function writingWithFileCopy<T>(text: string, write: () => T): T {
  const before = fileCopy;
  fileCopy = text;
  try {
    return write();
  } finally {
    fileCopy = before;
  }
}

/** Runs `write` with its write to stdout or stderr not copied to the log files: the writer writes its own copies (launcher-logger.ts, H362). */
export function writingWithoutFileCopy<T>(write: () => T): T {
  return writingWithFileCopy('', write);
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
        writes.push([routed ?? name, isTerminal ? text.replace(kColorCodes, '') : text]);
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

/**
 * Records `text` for the log files as if it had been written to `output` before they opened,
 * without writing it to the terminal: an app started by the launcher, whose config warnings
 * the launcher said already, still has them first in its files (H334). Nothing when the early
 * output is not recorded.
 */
export function addEarlyFileOutput(output: OutputStream, text: string): void {
  if (early === undefined || text === '' || early.chars + text.length > kMaxEarlyChars) return;
  early.writes.push([output, text]);
  early.chars += text.length;
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
  tees++;
  undo.push(() => tees--);
  for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    const original = stream.write;
    const isTerminal = stream.isTTY === true;
    const copy = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      try {
        const given = fileCopy;
        fileCopy = undefined;
        const text = given ?? (typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8') : '');
        if (text !== '') files.write(routed ?? name, given !== undefined || !isTerminal ? text : text.replace(kColorCodes, ''));
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
  undo.push(waitAtExit({ isPending: () => files.isWriting(), settled: () => files.written(), what: 'a log file write still waiting for the disk' }));
  return () => {
    for (const step of undo) step();
  };
}

/** Whether `path` is a directory (following links); false when it is anything else or cannot be looked at. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
