/**
 * The `logs` command of the control protocol. Unlike the others it answers with many lines:
 *
 *   → {"id":1,"command":"logs","lines":50,"follow":true,"workerId":3}
 *   ← {"id":1,"log":{"time":1718000000000,"source":"worker","workerId":3,"stream":"stdout","msg":"..."}}   (the last 50, oldest first)
 *   ← {"id":1,"ok":true,"result":{"lines":50,"follow":true}}
 *   ← {"id":1,"log":{...}}              (with follow: each new line, until the client disconnects)
 *   ← {"id":1,"dropped":120}            (this reader fell behind: 120 lines were skipped for it)
 *
 * Without `follow` the `ok` answer is the last line of the request.
 */
import { InvalidArgumentError } from '../errors.js';

/** One line of a cluster's output, as kept in the primary's buffer. */
export interface LogEntry {
  /** When the primary read it (ms since the epoch). */
  time: number;
  /** A worker's output, or a line the primary logged itself (start, crash, reload...). */
  source: 'worker' | 'primary';
  /** The worker that wrote the line, or that the primary's line is about. */
  workerId?: number;
  stream: 'stdout' | 'stderr';
  /**
   * pino's level number: the primary's own lines at their level (30 info, 40 warn, 50 error),
   * a worker's stdout 30 and stderr 50 (docs/logging.md). Absent from older primaries.
   */
  level?: number;
  /** The text, without its newline; at most 16 KiB (a longer line arrives in pieces). */
  msg: string;
  /** A piece of a longer line: the next entry continues it. */
  partial?: true;
}

/** Some entries read from a `LogSource`, from a cursor on. */
export interface LogRead {
  /** Oldest first. */
  entries: LogEntry[];
  /** The cursor to read on from. */
  next: number;
  /** Entries after the cursor that left the buffer before they were read (of any worker). */
  skipped: number;
}

/**
 * What the primary serves `logs` from (the CLI's `LogBuffer`). Entries are numbered in the
 * order they were added (their `seq`, from 0); a reader keeps a cursor (a `seq`) and reads on
 * from it a chunk at a time, so what it has not read yet stays in the buffer, shared, and no
 * reader copies the buffer.
 */
export interface LogSource {
  /** The `seq` the next entry will get. */
  readonly end: number;
  /** The cursor of the first of the last `count` entries (of `workerId` only, when given); `end` for none. */
  startOf(count: number, workerId: number | undefined): number;
  /**
   * Entries from cursor `from` up to (not including) `until`, of `workerId` only when given, at
   * least one and about `maxChars` characters of `msg` in all (at most one entry more).
   */
  read(from: number, until: number, workerId: number | undefined, maxChars: number): LogRead;
  /** Calls `listener` with every new entry until the returned function is called. */
  subscribe(listener: (entry: LogEntry) => void): () => void;
  /**
   * The highest worker id any entry ever carried (the primary logs a line for every worker it
   * forks): a larger one names a worker that has not run yet. 0 before any.
   */
  readonly lastWorkerId?: number;
}

export interface LogsRequest {
  /** How many buffered lines to send first. @default 15 */
  lines?: number;
  /** Then keep sending new lines. @default false */
  follow?: boolean;
  /** Only this worker's lines (and the primary's lines about it). */
  workerId?: number;
}

/** `lines` above this is the same as asking for the whole buffer. */
export const kMaxRequestedLines = 1_000_000;

/** @throws InvalidArgumentError naming the field. */
export function checkLogsRequest(request: Record<string, unknown>): void {
  const { lines, follow, workerId } = request;
  if (lines !== undefined && !(Number.isSafeInteger(lines) && (lines as number) >= 0 && (lines as number) <= kMaxRequestedLines)) {
    throw new InvalidArgumentError(`"logs" needs "lines" to be an integer from 0 to ${kMaxRequestedLines}. Received ${JSON.stringify(lines)}.`);
  }
  if (follow !== undefined && typeof follow !== 'boolean') throw new InvalidArgumentError(`"logs" needs "follow" to be a boolean. Received ${JSON.stringify(follow)}.`);
  if (workerId !== undefined && !(Number.isSafeInteger(workerId) && (workerId as number) >= 1)) {
    throw new InvalidArgumentError(`"logs" needs "workerId" to be a positive integer. Received ${JSON.stringify(workerId)}.`);
  }
}
