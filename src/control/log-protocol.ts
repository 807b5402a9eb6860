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

/** What the primary serves `logs` from (the CLI's `LogBuffer`). */
export interface LogSource {
  /** The last `count` entries (of `workerId` only, when given), oldest first. */
  recent(count: number, workerId: number | undefined): LogEntry[];
  /** Calls `listener` with every new entry until the returned function is called. */
  subscribe(listener: (entry: LogEntry) => void): () => void;
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
