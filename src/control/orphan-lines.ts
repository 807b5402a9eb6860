/**
 * The file an orphaned worker of `clusterkit run` leaves its last lines in when no log file gets
 * its stderr (no `--error` / `--log`): `<name>.orphans.log` in the control directory, beside the
 * cluster's socket (runtime-dir.ts: the user's own, 0700). Its primary, the only reader of its
 * stderr, is gone (killed, crashed), so without it the lines were lost and `clusterkit logs`
 * knew nothing (H417). `clusterkit logs <name>` prints them while no cluster of the name runs;
 * the next primary of the name logs them once at its start and removes the file.
 *
 * One JSON object a line: `{"time":<ms>,"workerId":1,"pid":123,"msg":"..."}`. Opened without
 * following a link (O_NOFOLLOW) and without blocking on a FIFO (O_NONBLOCK), created 0600; a
 * file that is not a regular file of this user is left alone. Capped at `kOrphanLinesMaxBytes`:
 * a line that would pass the cap is not appended, so many orphans of many runs cannot fill a
 * tmpfs. A failure (EACCES, ENOSPC, EPIPE, a removed directory) is ignored: an orphan must never
 * die of its log. Its path: `orphanLinesPath` (runtime-dir.ts); not imported here, as a worker
 * loads this file and must not parse the name rules' Unicode expressions (start-modules test).
 */
import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';

/** The most the file holds, in bytes (64 KiB: some 200 lines, 2 a worker). */
export const kOrphanLinesMaxBytes = 64 * 1024;

/** One line an orphaned worker left. */
export interface OrphanLine {
  /** When the worker wrote it, ms since the epoch. */
  readonly time: number;
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

/**
 * The lines in `path`, oldest first; undefined when there is no such file (or it is a link,
 * not a regular file, another user's). Lines that do not read as one are skipped.
 */
export function readOrphanLines(path: string): OrphanLine[] | undefined {
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
  return buffer
    .subarray(0, read)
    .toString('utf8')
    .split('\n')
    .flatMap((text) => {
      try {
        const value = JSON.parse(text) as Partial<OrphanLine>;
        if (typeof value?.msg !== 'string' || typeof value.time !== 'number') return [];
        return [{ time: value.time, msg: value.msg, workerId: Number.isSafeInteger(value.workerId) ? value.workerId : undefined, pid: Number.isSafeInteger(value.pid) ? value.pid : undefined }];
      } catch {
        return [];
      }
    });
}

/** Removes the file once its lines were reported; a file already gone is fine. */
export function removeOrphanLines(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already, or the directory too.
  }
}
