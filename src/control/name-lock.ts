/**
 * Claiming a cluster name: exactly one primary may serve `<name>.sock`, even when several start
 * at the same moment over the stale socket of a SIGKILLed one. Probing the socket and unlinking
 * it when dead is not a claim: two starters both found it dead, both unlinked, both listened,
 * and the hidden one's exit unlinked the live one's socket (H112).
 *
 * The claim is a lock file, `<name>.lock`, holding the holder's pid, made with `link()`: the
 * pid is written to a file of our own first and linked to the lock's name, so the lock never
 * exists half-written and `link()` fails with EEXIST when it is taken (the NFS-safe lock of
 * open(2)'s O_EXCL notes, Mercurial's and `lockfile`'s). Only the holder touches the socket.
 *
 * A lock whose holder is gone is stale. Deleting it is the hard part (what pidfile libraries
 * such as `proper-lockfile` leave racy: two takers both see it stale, one deletes it and
 * claims, the other deletes the new claim). Here, a stale lock is deleted only by whoever
 * claims `<lock>.takeover-<inode>` (the same `link()` claim, named after that very lock file),
 * after checking that the lock still is that file: no one else can delete it meanwhile, and a
 * late taker finds another inode and leaves the new lock alone.
 *
 * Only a small regular file is read as a lock: a FIFO at its name once hung `clusterkit run`
 * forever, with no output (the read waited for a writer). Anything else there is refused with
 * what it is; the read neither follows a link nor waits, and takes a pid's few bytes at most.
 */
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { ClusterNameInUseError, ControlSocketError } from '../errors.js';
import { kindOf } from '../file-kind.js';
import { isZombie, processStartMs } from '../worker/process-table.js';

export interface LockHolder {
  readonly pid: number;
  readonly ino: number;
  /** When the lock was made (ms). */
  readonly mtimeMs: number;
}

/** A claimed lock file; `release` unlinks it only while it still is ours. Idempotent. */
export interface NameLock {
  readonly path: string;
  release(): void;
}

/** Lock files this process holds: a pid in a lock equal to ours is stale unless listed (a restarted container reuses pid 1). */
const held = new Set<string>();

/** How long to wait for another starter to finish taking over a stale lock (ms). */
const kTakeoverWaitMs = 2_000;

/**
 * Claims `lockPath` for this process.
 * `isHeld(holder)` says whether the recorded holder still holds it (see `isPidAlive` for the base rule).
 * @throws ClusterNameInUseError with the holder's pid when a live process holds it.
 * @throws ControlSocketError when the lock cannot be made or taken over.
 */
export async function claimNameLock(name: string, lockPath: string, socketPath: string, isHeld: (holder: LockHolder) => Promise<boolean> | boolean): Promise<NameLock> {
  const deadline = Date.now() + kTakeoverWaitMs;
  for (;;) {
    const claimed = claimFile(lockPath);
    if (claimed !== undefined) return lockOf(lockPath, claimed);
    const holder = readHolder(lockPath);
    if (holder === undefined) continue; // released meanwhile: claim again
    if (holder.pid !== -1 && (await isHeld(holder))) throw new ClusterNameInUseError(name, socketPath, holder.pid);
    const result = removeStale(lockPath, holder);
    if (result === 'busy') {
      // Another starter is deleting this stale lock right now; it will claim next. Wait for it.
      if (Date.now() > deadline) {
        throw new ControlSocketError(
          `Cannot claim the cluster name "${name}": ${lockPath} is stale and ${lockPath}.takeover-${holder.ino} has been there for over ${kTakeoverWaitMs} ms. ` +
            'If no "clusterkit run" with this name is starting, remove both files and start again.',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** True when `pid` is a live process (EPERM: alive, someone else's); our own pid only for a lock we hold. */
export function isPidAlive(pid: number, lockPath: string): boolean {
  if (pid === process.pid) return held.has(lockPath);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How much later than its lock a holder may seem to start: `/proc`'s boot time is in whole seconds, and clocks get stepped (ms). */
const kStartSlackMs = 2_000;

/**
 * Whether the process that made the lock `holder` still runs: its pid is alive (`isPidAlive`),
 * not a zombie, and did not start after the lock was made. A primary SIGKILLed soon after its
 * start, whose pid another process got at once, kept its name refused for the whole grace of a
 * young lock (retest t31 N1, H303). Where `/proc` cannot say (not Linux), the pid decides.
 */
export function isHolderAlive(holder: LockHolder, lockPath: string): boolean {
  if (!isPidAlive(holder.pid, lockPath)) return false;
  if (holder.pid === process.pid) return true;
  if (isZombie(holder.pid)) return false;
  const startMs = processStartMs(holder.pid);
  return startMs === undefined || startMs <= holder.mtimeMs + kStartSlackMs;
}

/** Links a file holding our pid to `path`; its inode, or undefined when `path` exists. */
function claimFile(path: string): number | undefined {
  const draft = `${path}.${process.pid}.draft`;
  try {
    // A draft left by a dead process of our pid goes; 'wx' writes through no link and into no FIFO.
    unlinkQuietly(draft);
    writeFileSync(draft, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw error;
    }
    return lstatSync(path).ino;
  } catch (error) {
    throw new ControlSocketError(`Cannot create the lock file ${path}: ${(error as Error).message}. Check that its directory is yours and writable.`, { cause: error });
  } finally {
    unlinkQuietly(draft);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

/** The most a lock file of ours holds: a pid of up to 10 digits and a newline. */
const kMaxLockBytes = 11;

/**
 * The pid in the lock at `path` (-1 when unreadable: not one of ours, so stale), or undefined when it is gone.
 * @throws ControlSocketError when something other than a regular file is there (a FIFO, a link, a directory...).
 */
export function readHolder(path: string): LockHolder | undefined {
  let descriptor: number | undefined;
  try {
    refuseUnlessFile(path, lstatSync(path));
    // No link followed, no wait (a FIFO put there since the lstat): what is opened is checked again.
    descriptor = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const stats = fstatSync(descriptor);
    refuseUnlessFile(path, stats);
    const buffer = Buffer.alloc(kMaxLockBytes + 1);
    const text = buffer.toString('utf8', 0, readSync(descriptor, buffer, 0, buffer.length, 0));
    const pid = /^[1-9]\d{0,9}\n$/.test(text) ? Number(text.trim()) : -1;
    return { pid, ino: stats.ino, mtimeMs: stats.mtimeMs };
  } catch (error) {
    if (error instanceof ControlSocketError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ControlSocketError(`Cannot read the lock file ${path}: ${(error as Error).message}.`, { cause: error });
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

function refuseUnlessFile(path: string, stats: Stats): void {
  if (stats.isFile()) return;
  throw new ControlSocketError(
    `${path} is ${kindOf(stats)}, not a lock file: clusterkit makes its locks as small regular files, so it did not put this there, and will not read it. ` +
      'Remove it (if no "clusterkit run" with this name is starting) and start again.',
  );
}

/**
 * Deletes the stale lock `stale` at `path` if it still is there, under its takeover claim.
 * 'busy' when another process holds that claim (it is deleting the same lock).
 */
function removeStale(path: string, stale: LockHolder): 'done' | 'busy' {
  const takeover = `${path}.takeover-${stale.ino}`;
  let ino = claimFile(takeover);
  if (ino === undefined) {
    const taker = readHolder(takeover);
    if (taker === undefined) return 'done'; // released meanwhile: look again
    if (taker.pid !== -1 && isHolderAlive(taker, takeover)) return 'busy';
    // A taker that died between two system calls: its claim is taken over the same way, once.
    if (removeStale(takeover, taker) === 'busy') return 'busy';
    ino = claimFile(takeover);
    if (ino === undefined) return 'busy';
  }
  try {
    const now = readHolder(path);
    if (now !== undefined && now.ino === stale.ino && now.pid === stale.pid) unlinkSync(path);
  } catch (error) {
    if (error instanceof ControlSocketError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ControlSocketError(`Cannot remove the stale lock file ${path}: ${(error as Error).message}. Remove it yourself if no cluster of this name runs.`, { cause: error });
    }
  } finally {
    unlinkOwn(takeover, ino);
  }
  return 'done';
}

function lockOf(path: string, ino: number): NameLock {
  held.add(path);
  let isReleased = false;
  return {
    path,
    release: () => {
      if (isReleased) return;
      isReleased = true;
      held.delete(path);
      unlinkOwn(path, ino);
    },
  };
}

/** Unlinks `path` only while it is the file we made (inode `ino`, our pid in it). */
function unlinkOwn(path: string, ino: number): void {
  const now = readHolderQuietly(path);
  if (now === undefined || now.ino !== ino || now.pid !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** `readHolder`, with undefined for anything it would throw on. */
export function readHolderQuietly(path: string): LockHolder | undefined {
  try {
    return readHolder(path);
  } catch {
    return undefined;
  }
}

/**
 * The primary whose lock sits beside the control socket `socketPath`, and whether it lives,
 * read once: the two looked at in two reads could see it alive, then dead, and say neither
 * (CI, [H461]: a primary dying between them read as one that did not answer). Undefined when no
 * lock of ours names one.
 */
export function lockHolder(socketPath: string): { pid: number; isAlive: boolean } | undefined {
  const lockPath = socketPath.replace(/\.sock$/, '.lock');
  try {
    const holder = readHolder(lockPath);
    if (holder === undefined || holder.pid <= 0) return undefined;
    // A primary just killed may not be reaped yet: a zombie answers kill(pid, 0), but is dead (isHolderAlive).
    return { pid: holder.pid, isAlive: isHolderAlive(holder, lockPath) };
  } catch {
    return undefined; // not a lock of ours to read: nothing more to say
  }
}

/**
 * The pid of the primary whose lock sits beside the control socket `socketPath`, when that
 * process is gone (it ended without stopping: killed, crashed), for the "not running" message
 * (newcomer t31 L2). Undefined when unknown, or when it is alive (a primary still starting).
 */
export function deadLockHolder(socketPath: string): { pid: number } | undefined {
  const holder = lockHolder(socketPath);
  return holder === undefined || holder.isAlive ? undefined : { pid: holder.pid };
}

/**
 * The pid of the live primary whose lock sits beside the control socket `socketPath`, for the
 * words of a request it does not answer (its process stopped, or not). Undefined when unknown,
 * or when that process is gone.
 */
export function liveLockHolder(socketPath: string): { pid: number } | undefined {
  const holder = lockHolder(socketPath);
  return holder?.isAlive === true ? { pid: holder.pid } : undefined;
}
