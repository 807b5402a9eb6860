/**
 * The client side of `logs` (see log-protocol.ts): one connection that receives the buffered
 * lines, then, with `follow`, new lines until the cluster stops or `close()` is called.
 * `pause()` / `resume()` stop reading from the socket: a reader that cannot keep up (its own
 * output is slow) then lets the primary drop lines for it instead of buffering them here.
 */
import net from 'node:net';
import { ClusterNotRunningError, ControlSocketError, RemoteError } from '../errors.js';
import { stripControlChars } from './control-chars.js';
import { liveNames } from './control-client.js';
import { deadLockHolder } from './name-lock.js';
import { deadAfterDrop } from './dead-after-drop.js';
import { readLines } from './control-protocol.js';
import { kSlotNoteReasons, type LogEntry, type LogsRequest, type SlotNote } from './log-protocol.js';
import { checkControlDirectory, checkSocketFile, controlDirectory, lookedInClause, socketPathFor } from './runtime-dir.js';

export interface LogStreamHandlers {
  onEntry(entry: LogEntry): void;
  /** The primary skipped `count` lines for this reader since the previous notice. */
  onDropped(count: number): void;
  /** With `slot` or `workerId` and `follow`: the slot (of the worker) is served by another worker, or by none. */
  onSlotChange?(note: SlotNote): void;
  /** The request was answered (the backlog is written); `serving`: with `slot`, the worker serving it now, or null for none. */
  /** `olderGone`: fewer lines than asked were sent, and lines the request matches had left the buffer; `kept`: the lines it held then, when the primary says. */
  onAnswer?(answer: { serving: number | null | undefined; olderGone: boolean; kept?: number | undefined }): void;
  /** The primary's first message on the connection (a line, a notice, its answer or refusal): it read the request. */
  onHeard?(): void;
}

export interface LogStream {
  /**
   * Resolves once the request is done: `complete` (without follow: all lines sent), `closed`
   * (with follow: the cluster stopped; or `close()` was called, answered or not: a connection
   * this side ended is no word of the primary's, H509).
   * @throws ClusterNotRunningError, RemoteError (the primary refused), ControlSocketError.
   */
  readonly done: Promise<'complete' | 'closed'>;
  pause(): void;
  resume(): void;
  close(): void;
}

/**
 * Opens the `logs` stream of cluster `name`, with the client checks of control-client.ts (the
 * directory and the socket are this user's alone).
 * @throws InvalidOptionError for a name that is not a cluster name; ControlSocketError for a
 * directory or socket that is not this user's alone (synchronously).
 */
export function openLogStream(name: string, request: LogsRequest, handlers: LogStreamHandlers, directory = controlDirectory()): LogStream {
  const path = socketPathFor(name, directory);
  // An absent directory or socket ends as the connection's ENOENT does: ClusterNotRunningError.
  if (checkControlDirectory(directory)) checkSocketFile(path);
  const id = 1;
  const socket = net.connect(path);
  let isAnswered = false;
  /**
   * Set by `close()`: the connection this side ended is no drop to look into (review: it waited
   * up to 1 s on a live primary), nor the primary's close: `done` resolves `closed`. Before, a
   * Ctrl-C on a frozen primary said it "closed the control connection before it answered" (H509).
   */
  let isClosedHere = false;
  let isHeard = false;
  const done = new Promise<'complete' | 'closed'>((resolve, reject) => {
    let isSettled = false;
    const settle = (outcome: 'complete' | 'closed' | Error) => {
      if (isSettled) return;
      isSettled = true;
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    socket.once('connect', () => socket.write(`${JSON.stringify({ id, command: 'logs', ...request })}\n`));
    // Set when the socket is absent: the 'close' that follows the error must not settle first
    // while the running clusters are being listed for the message.
    let isLookingUp = false;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (isAnswered || isClosedHere) return settle('closed');
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        isLookingUp = true;
        // A refused connection: its primary ended without stopping, said with its pid (H301).
        const dead = error.code === 'ECONNREFUSED' ? deadLockHolder(path) : undefined;
        void liveNames(directory).then(
          (names) => settle(new ClusterNotRunningError(name, names, dead, lookedInClause(directory))),
          () => settle(new ClusterNotRunningError(name, [], dead, lookedInClause(directory))),
        );
        return;
      }
      dropped(new ControlSocketError(`The cluster "${name}" dropped the control connection before it answered "logs": ${error.message}`, { cause: error }));
    });
    socket.once('close', () => {
      if (isLookingUp) return;
      if (isAnswered || isClosedHere) return settle('closed');
      dropped(new ControlSocketError(`The cluster "${name}" closed the control connection before it answered "logs"; its primary may be exiting.`));
    });
    // Dropped unanswered: a primary killed meanwhile (frozen, then kill -9) is said to be gone, as
    // a refused connection says it (H450); a live one gets `error`'s words.
    function dropped(error: ControlSocketError): void {
      if (isLookingUp || isSettled) return;
      if (isClosedHere) return settle('closed');
      isLookingUp = true;
      void deadAfterDrop(path).then(async (dead) => {
        if (dead === undefined) return settle(error);
        settle(new ClusterNotRunningError(name, await liveNames(directory).catch(() => []), dead, lookedInClause(directory)));
      }, () => settle(error));
    }
    readLines(
      socket,
      (line) => {
        const message = parse(line);
        if (!message || message.id !== id) return;
        if (!isHeard) {
          isHeard = true;
          handlers.onHeard?.();
        }
        if (isEntry(message.log)) handlers.onEntry(message.log);
        else if (Number.isSafeInteger(message.dropped) && (message.dropped as number) > 0) handlers.onDropped(message.dropped as number);
        else if (message.slotChange !== undefined) {
          const note = slotNote(message.slotChange);
          if (note) handlers.onSlotChange?.(note);
        } else if (message.ok === true) {
          isAnswered = true;
          const serving = (message.result as { serving?: unknown } | undefined)?.serving;
          const olderGone = (message.result as { olderGone?: unknown } | undefined)?.olderGone === true;
          const kept = (message.result as { kept?: unknown } | undefined)?.kept;
          handlers.onAnswer?.({ serving: serving === null ? null : isWorkerId(serving) ? serving : undefined, olderGone, kept: Number.isSafeInteger(kept) && (kept as number) >= 0 ? (kept as number) : undefined });
          if ((message.result as { follow?: unknown } | undefined)?.follow !== true) settle('complete');
        } else if (message.ok === false) {
          const error = (typeof message.error === 'object' && message.error !== null ? message.error : {}) as Record<string, unknown>;
          const text = (value: unknown, fallback: string) => stripControlChars(typeof value === 'string' ? value : fallback);
          // How its message names the primary's options, as `remoteError` keeps it (H359).
          const optionNames = error.optionNames === 'api' || error.optionNames === 'flags' ? error.optionNames : undefined;
          settle(
            new RemoteError('logs', `the primary at ${path}`, {
              name: text(error.name, 'Error'),
              message: text(error.message, 'no reason given'),
              code: typeof error.code === 'string' ? text(error.code, '') : undefined,
              ...(optionNames === undefined ? {} : { data: { optionNames } }),
            }),
          );
        }
      },
      () => settle(new ControlSocketError(`A line from ${path} is too large.`)),
    );
  });
  return {
    done,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => {
      isClosedHere = true;
      socket.destroy();
    },
  };
}

type Message = { id?: unknown; log?: unknown; dropped?: unknown; slotChange?: unknown; ok?: unknown; result?: unknown; error?: unknown };

function parse(line: string): Message | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null ? (value as Message) : undefined;
  } catch {
    return undefined;
  }
}

/** A note from the socket, checked field by field (a number out of place would print as a lie); undefined if malformed. */
export function slotNote(value: unknown): SlotNote | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { slot, workerId, previousWorkerId, reason } = value as Record<string, unknown>;
  if (!(Number.isSafeInteger(slot) && (slot as number) >= 0) || !kSlotNoteReasons.includes(reason as SlotNote['reason'])) return undefined;
  if ((workerId !== undefined && !isWorkerId(workerId)) || (previousWorkerId !== undefined && !isWorkerId(previousWorkerId))) return undefined;
  if (workerId === undefined && previousWorkerId === undefined) return undefined;
  return {
    slot: slot as number,
    ...(workerId === undefined ? {} : { workerId: workerId as number }),
    ...(previousWorkerId === undefined ? {} : { previousWorkerId: previousWorkerId as number }),
    reason: reason as SlotNote['reason'],
  };
}

function isWorkerId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isEntry(value: unknown): value is LogEntry {
  const entry = value as Partial<LogEntry> | undefined;
  if (typeof entry !== 'object' || entry === null) return false;
  if (entry.slot !== undefined && !(Number.isSafeInteger(entry.slot) && entry.slot >= 0)) return false;
  return typeof entry.msg === 'string' && typeof entry.time === 'number' && (entry.source === 'worker' || entry.source === 'primary');
}
