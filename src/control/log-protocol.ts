/**
 * The `logs` command of the control protocol. Unlike the others it answers with many lines:
 *
 *   → {"id":1,"command":"logs","lines":50,"follow":true,"workerId":3}     ("output":"stderr": those lines only)
 *   ← {"id":1,"log":{"time":1718000000000,"source":"worker","workerId":3,"slot":1,"stream":"stdout","msg":"..."}}   (the last 50, oldest first)
 *   ← {"id":1,"ok":true,"result":{"lines":50,"follow":true}}
 *   ← {"id":1,"log":{...}}              (with follow: each new line, until the client disconnects)
 *   ← {"id":1,"dropped":120}            (this reader fell behind: 120 lines were skipped for it)
 *   ← {"id":1,"slotChange":{"slot":1,"workerId":7,"previousWorkerId":3,"reason":"reload"}}
 *
 * Without `follow` the `ok` answer is the last line of the request. With `follow` and `slot`
 * (or `workerId`), a `slotChange` tells that the slot (or the followed worker's slot) is served
 * by another worker, or is gone (no `workerId`); with `slot`, the `ok` result also says which
 * worker serves it now (`"serving":7`, or `null` for a slot with no worker yet).
 */
import { InvalidArgumentError, receivedClause } from '../errors.js';
import { plural } from '../plural.js';

/** One line of a cluster's output, as kept in the primary's buffer. */
export interface LogEntry {
  /** When the primary read it (ms since the epoch). */
  time: number;
  /** A worker's output, or a line the primary logged itself (start, crash, reload...). */
  source: 'worker' | 'primary';
  /** The worker that wrote the line, or that the primary's line is about. */
  workerId?: number;
  /** That worker's slot (its position in the pool, kept across restarts), as the primary knows it. */
  slot?: number;
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
  /** Entries that left the buffer for newer ones, so far: the older lines a reader can no longer get. */
  readonly evicted?: number;
  /** Entries held now: fewer than its line bound when long lines filled its character bound. */
  readonly size?: number;
  /**
   * Of `evicted`, those `filter` lets through, when known (else `evicted` stands for them): a
   * `--err` reader was told older lines were gone when only stdout ones were (hostile t69).
   */
  evictedOf?(filter: LogFilter | undefined): number;
  /** The cursor of the first of the last `count` entries (that match `filter`, when given); `end` for none. */
  startOf(count: number, filter: LogFilter | undefined): number;
  /**
   * Entries from cursor `from` up to (not including) `until`, that match `filter` when given, at
   * least one and about `maxChars` characters of `msg` in all (at most one entry more).
   */
  read(from: number, until: number, filter: LogFilter | undefined, maxChars: number): LogRead;
  /** Calls `listener` with every new entry until the returned function is called. */
  subscribe(listener: (entry: LogEntry) => void): () => void;
  /**
   * The highest worker id any entry ever carried (the primary logs a line for every worker it
   * forks): a larger one names a worker that has not run yet. 0 before any.
   */
  readonly lastWorkerId?: number;
}

/** Which lines a reader wants: one worker's, or one slot's (whichever worker serves it); those of one output. */
export interface LogFilter {
  workerId?: number | undefined;
  slot?: number | undefined;
  output?: LogOutput | undefined;
}

/** True when `entry` is one `filter` lets through. */
export function matchesFilter(entry: LogEntry, filter: LogFilter | undefined): boolean {
  if (filter === undefined) return true;
  if (filter.workerId !== undefined && entry.workerId !== filter.workerId) return false;
  if (filter.output !== undefined && outputOf(entry) !== filter.output) return false;
  return filter.slot === undefined || entry.slot === filter.slot;
}

export type LogOutput = 'stdout' | 'stderr';

/**
 * Where `clusterkit logs` writes a line, and what `--out` / `--err` (`output`) pick: a worker's
 * on the stream it wrote to; the primary's info lines on stdout and its warnings and errors on
 * stderr, as `pm2 logs` puts its own lines on stdout and keeps stderr for what went wrong (its
 * --raw: out lines on stdout, err lines on stderr). So `clusterkit logs api | grep ready` finds
 * the primary's lines too, and `--err` is what went wrong, the primary's say included. `run`'s
 * log files follow the same rule (H334): `--output` gets the `--out` lines, `--error` the `--err` ones.
 */
export function outputOf(entry: Pick<LogEntry, 'source' | 'stream' | 'level'>): LogOutput {
  if (entry.source === 'worker') return entry.stream === 'stdout' ? 'stdout' : 'stderr';
  return (entry.level ?? 30) >= 40 ? 'stderr' : 'stdout';
}

/**
 * Why a slot's worker changed, as a `logs` reader is told: `start` (its first worker, at the
 * start), `scale-up` (its first worker, a scale-up's), `restart` (its worker exited and a new one was forked), `restored` (a slot
 * given up in a crash loop started again, by a reload or a watched change), `reload`, `memory-limit`
 * (a replacement of a worker over `--max-memory`), `replace` (another replacement); the slot is
 * gone (no `workerId`) after `scale-down`, `crash-loop` (it failed too often) or `stopped`.
 */
export type SlotNoteReason = 'start' | 'scale-up' | 'restart' | 'restored' | 'reload' | 'memory-limit' | 'replace' | 'scale-down' | 'crash-loop' | 'stopped';

export const kSlotNoteReasons: readonly SlotNoteReason[] = ['start', 'scale-up', 'restart', 'restored', 'reload', 'memory-limit', 'replace', 'scale-down', 'crash-loop', 'stopped'];

/** A slot is served by another worker (`workerId`), or by none any more. */
export interface SlotNote {
  slot: number;
  /** The worker serving the slot from now on; absent when the slot is gone. */
  workerId?: number;
  /** The worker that served it until now; absent for the slot's first worker. */
  previousWorkerId?: number;
  reason: SlotNoteReason;
}

/** What the primary knows of its slots, for `logs --slot` and the notes of `--worker`. */
export interface SlotSource {
  /** Slot numbers range from 0 to `maxSlots - 1` (`maxWorkers`). */
  readonly maxSlots: number;
  /** The slots the cluster runs now, ascending. */
  activeSlots(): number[];
  /** True when `slot` has had a worker (now or before). */
  hasRun(slot: number): boolean;
  /** The worker serving `slot` now. */
  workerOf(slot: number): number | undefined;
  /** What became of worker `workerId` once it no longer served its slot; undefined while it does (or when unknown). */
  fateOf(workerId: number): SlotNote | undefined;
  /** Calls `listener` with every change until the returned function is called. */
  subscribe(listener: (note: SlotNote) => void): () => void;
}

/** `its slots are 0 to 3 (4 workers)`, `its slots are 0, 2 and 3`, `no slot is served now`; `whose`: the possessive to start with. */
export function describeSlots(active: readonly number[], whose = 'its'): string {
  if (active.length === 0) return 'no slot is served now';
  if (active.length === 1) return `${whose} only slot is ${active[0]}`;
  if (active.every((slot, index) => slot === index)) return `${whose} slots are 0 to ${active.length - 1} (${plural(active.length, 'worker')})`;
  return `${whose} slots are ${active.slice(0, -1).join(', ')} and ${active.at(-1)}`;
}

export interface LogsRequest {
  /** How many buffered lines to send first. @default 15 */
  lines?: number;
  /** Then keep sending new lines. @default false */
  follow?: boolean;
  /** Only this worker's lines (and the primary's lines about it). */
  workerId?: number;
  /**
   * Only the lines of the workers of this slot (and the primary's lines about them), whichever
   * worker serves it: a reader follows it across restarts and reloads. Not with `workerId`.
   */
  slot?: number;
  /** Only the lines `clusterkit logs` writes to this output (`outputOf`): `--err`, `--out`. */
  output?: LogOutput;
}


/** `lines` above this is the same as asking for the whole buffer. */
export const kMaxRequestedLines = 1_000_000;

/** @throws InvalidArgumentError naming the field. */
export function checkLogsRequest(request: Record<string, unknown>): void {
  const { lines, follow, workerId, slot, output } = request;
  if (lines !== undefined && !(Number.isSafeInteger(lines) && (lines as number) >= 0 && (lines as number) <= kMaxRequestedLines)) {
    throw new InvalidArgumentError(`"logs" needs "lines" to be an integer from 0 to ${kMaxRequestedLines}. ${receivedClause(lines)}.`);
  }
  if (follow !== undefined && typeof follow !== 'boolean') throw new InvalidArgumentError(`"logs" needs "follow" to be a boolean. ${receivedClause(follow)}.`);
  if (workerId !== undefined && !(Number.isSafeInteger(workerId) && (workerId as number) >= 1)) {
    throw new InvalidArgumentError(`"logs" needs "workerId" to be a positive integer. ${receivedClause(workerId)}.`);
  }
  // Its range is the cluster's (log-stream.ts checks it against the slots the primary has).
  if (slot !== undefined && !(Number.isSafeInteger(slot) && (slot as number) >= 0)) {
    throw new InvalidArgumentError(`"logs" needs "slot" to be an integer from 0 (a slot number, as "clusterkit status" shows). ${receivedClause(slot)}.`);
  }
  if (output !== undefined && output !== 'stdout' && output !== 'stderr') {
    throw new InvalidArgumentError(`"logs" needs "output" to be "stdout" or "stderr". ${receivedClause(output)}.`);
  }
  if (slot !== undefined && workerId !== undefined) {
    throw new InvalidArgumentError('"logs" takes "workerId" or "slot", not both: a slot is served by one worker after another.');
  }
}
