/**
 * The file an orphaned worker of `clusterkit run` leaves its last lines in when no log file gets
 * its stderr (no `--error` / `--log`): `<name>.orphans.log` in the control directory, beside the
 * cluster's socket (runtime-dir.ts: the user's own, 0700). Its primary, the only reader of its
 * stderr, is gone (killed, crashed), so without it the lines were lost and `clusterkit logs`
 * knew nothing (H417). `clusterkit logs <name>` prints them while no cluster of the name runs;
 * the next primary of the name logs them once at its start and removes the file, taking it whole
 * (`takeOrphanLines`), and again at its graceful stop, for lines orphans still draining wrote
 * while it ran (H437). Read back, the file is untrusted: every field is checked (H439).
 *
 * One JSON object a line: `{"time":<ms>,"orphanedAt":<ms>,"workerId":1,"pid":123,"msg":"..."}`:
 * `time` when the line was written, `orphanedAt` when the worker found its primary gone. Opened without
 * following a link (O_NOFOLLOW) and without blocking on a FIFO (O_NONBLOCK), created 0600; a
 * file that is not a regular file of this user is left alone. Capped at `kOrphanLinesMaxBytes`:
 * a line that would pass the cap is not appended, so many orphans of many runs cannot fill a
 * tmpfs. A failure (EACCES, ENOSPC, EPIPE, a removed directory) is ignored: an orphan must never
 * die of its log. Its path: `orphanLinesPath` (runtime-dir.ts); not imported here, as a worker
 * loads this file and must not parse the name rules' Unicode expressions (start-modules test).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';

/** The most the file holds, in bytes (64 KiB: some 200 lines, 2 a worker). */
export const kOrphanLinesMaxBytes = 64 * 1024;

/** The longest `msg` a line read back may have, in UTF-16 units (a worker's line is far shorter). */
export const kOrphanLineMaxChars = 16 * 1024;

/** The earliest `time` a line may have (2020-01-01 UTC): no clusterkit primary ran before (H451). */
export const kOrphanLineEarliestMs = Date.UTC(2020, 0, 1);

/** How far past this host's clock a line's `time` may be, in ms (clocks of one host agree; a day of slack). */
export const kOrphanLineAheadMs = 24 * 60 * 60 * 1000;

/** One line an orphaned worker left. */
export interface OrphanLine {
  /** When the worker wrote it, ms since the epoch. */
  readonly time: number;
  /** When the worker found its primary gone, ms since the epoch; absent in lines of older workers. */
  readonly orphanedAt?: number | undefined;
  readonly workerId?: number | undefined;
  readonly pid?: number | undefined;
  readonly msg: string;
}

/** Opens `path` without following a link or blocking; undefined when it is not this user's regular file (closed again). */
function openOwnFile(path: string, flags: number, mode?: number): { fd: number; size: number } | undefined {
  const fd = openSync(path, flags | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), mode);
  const stats = fstatSync(fd);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!stats.isFile() || (uid !== undefined && stats.uid !== uid)) {
    closeSync(fd);
    return undefined;
  }
  return { fd, size: stats.size };
}

/** Appends `line` (one object, one write) unless the file would pass the cap; never throws. */
export function appendOrphanLine(path: string, line: OrphanLine): void {
  const text = `${JSON.stringify(line)}\n`;
  try {
    const file = openOwnFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    if (file === undefined) return;
    try {
      if (file.size + Buffer.byteLength(text) <= kOrphanLinesMaxBytes) writeSync(file.fd, text);
    } finally {
      closeSync(file.fd);
    }
  } catch {
    // A link planted there (ELOOP), no room, no directory: nobody is left to tell.
  }
}

/** The lines read from the file, oldest first, and how many lines were skipped as not one. */
export interface OrphanLines {
  readonly lines: OrphanLine[];
  /** Lines that did not read as one: not JSON, or a field of the wrong kind or out of range. */
  readonly skipped: number;
}

/**
 * The lines in `path`, oldest first; undefined when there is no such file (or it is a link,
 * not a regular file, another user's). Lines that do not read as one are skipped.
 */
export function readOrphanLines(path: string): OrphanLine[] | undefined {
  return readOrphanLineFile(path)?.lines;
}

/**
 * The lines in `path` and the count of those skipped; undefined when there is no such file (or
 * it is a link, not a regular file, another user's). The file is untrusted input (anyone who can
 * write the control directory, or a bug, may have written it): each field is checked, `time` (and
 * `orphanedAt`, when there) a plausible ms count (from 2020-01-01 to a day past now, H451), `workerId`/`pid` absent or non-negative safe integers, `msg` a
 * string of at most `kOrphanLineMaxChars`; a line that fails is skipped and counted (H439).
 */
export function readOrphanLineFile(path: string): OrphanLines | undefined {
  let file: { fd: number; size: number } | undefined;
  try {
    file = openOwnFile(path, constants.O_RDONLY);
  } catch {
    return undefined;
  }
  if (file === undefined) return undefined;
  const buffer = Buffer.alloc(Math.min(file.size, kOrphanLinesMaxBytes));
  let read = 0;
  try {
    while (read < buffer.length) {
      const count = readSync(file.fd, buffer, read, buffer.length - read, read);
      if (count === 0) break;
      read += count;
    }
  } catch {
    // What was read is kept.
  } finally {
    closeSync(file.fd);
  }
  const lines: OrphanLine[] = [];
  let skipped = 0;
  for (const text of buffer.subarray(0, read).toString('utf8').split('\n')) {
    if (text.trim() === '') continue;
    const line = parseOrphanLine(text);
    if (line === undefined) skipped++;
    else lines.push(line);
  }
  return { lines, skipped };
}

/** `text` as a line, every field checked; undefined when it is not one. */
function parseOrphanLine(text: string): OrphanLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { time, orphanedAt, workerId, pid, msg } = value as Record<string, unknown>;
  if (!isPlausibleTime(time) || (orphanedAt !== undefined && !isPlausibleTime(orphanedAt))) return undefined;
  if (typeof msg !== 'string' || msg.length > kOrphanLineMaxChars) return undefined;
  if (!isIdOrAbsent(workerId) || !isIdOrAbsent(pid)) return undefined;
  return { time: time as number, ...(orphanedAt === undefined ? {} : { orphanedAt: orphanedAt as number }), msg, workerId: workerId as number | undefined, pid: pid as number | undefined };
}

/**
 * A time a worker of clusterkit could have written: ms since the epoch, from 2020-01-01 to a
 * day past this host's clock. A negative or zero time printed as 1969 or 1970 (H451), one past
 * Date's range threw (H439): both are the file's lies, not times.
 */
function isPlausibleTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= kOrphanLineEarliestMs && value <= Date.now() + kOrphanLineAheadMs;
}

function isIdOrAbsent(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
}

/**
 * Takes the file: renames it to a name of this process's own, then reads and removes that, so
 * a line an orphan appends meanwhile is neither lost nor read twice: it starts a new file at
 * `path` (H437). Undefined when there is no file (or a link, or not this user's regular file:
 * left where it is). Never throws.
 */
export function takeOrphanLines(path: string): OrphanLines | undefined {
  const taken = `${path}.${process.pid}.taken`;
  try {
    const stats = lstatSync(path);
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (!stats.isFile() || (uid !== undefined && stats.uid !== uid)) return undefined;
    renameSync(path, taken);
  } catch {
    return undefined;
  }
  try {
    return readOrphanLineFile(taken);
  } finally {
    removeOrphanLines(taken);
  }
}

/** Removes the file once its lines were reported; a file already gone is fine. */
export function removeOrphanLines(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already, or the directory too.
  }
}
