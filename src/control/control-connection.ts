/**
 * One connection to the control socket: requests are answered in order, one at a time, and a
 * client cannot make the primary hold more than a little of its memory:
 *
 * - back-pressure: while an answer waits unread in the connection's buffer, no further request
 *   is answered and the socket is not read (the kernel then stops the client's writes). A
 *   client that sent 380 000 `status` requests without reading an answer took the primary from
 *   76 MB to 722 MB; it now gets what it reads and the rest waits in its own process;
 * - requests are short: a line longer than `kMaxRequestChars` drops the connection;
 * - an idle timeout: a connection with no request being answered and no traffic for
 *   `idleTimeoutMs` is closed, whether the client went quiet or stopped reading. A request
 *   being served (a reload can take minutes) and a `logs --follow` reader are never cut.
 */
import type net from 'node:net';
import { repeatedKey } from './repeated-key.js';
import { describeValue, InvalidArgumentError, InvalidStateError, receivedClause } from '../errors.js';
import { readProperty } from '../readable-error.js';
import { toError } from '../to-error.js';
import type { ControlHandlers } from './control-server.js';
import { closest } from '../cli/suggest.js';
import {
  type ControlAcceptance,
  type ControlCommand,
  type ControlErrorBody,
  type ControlRequest,
  type ControlResponse,
  kAcknowledged,
  readLines,
} from './control-protocol.js';
import { checkLogsRequest } from './log-protocol.js';
import { streamLogs } from './log-stream.js';
import { drainedOrClosed } from './drained-or-closed.js';

/** Longest request line: a request is a few fields; answers may be long, requests never are. */
export const kMaxRequestChars = 64 * 1024;

/** How long a connection closed to make room may take to end its side once told (ms): a client reads one line. */
const kRoomLingerMs = 2_000;

/**
 * How long a connection that holds something (requests read and waiting, half a request line,
 * answers unread) must make no progress (no line read, no answer taken) before it counts as idle
 * and may make room: 1 s (ms). A client flooding requests and reading its answers is busy
 * (H522); one that stopped reading, or stopped mid-line, is idle after this (H113).
 */
export const kStalledMs = 1_000;

/** A served connection, as the control server keeps it (control-server.ts). */
export interface ServedConnection {
  /**
   * The connection may make room for a new one when the socket is full: no request being
   * answered and no `logs --follow`, and either nothing of its client's held (no request
   * waiting, no half line, no answer unread) or no progress for `kStalledMs`.
   */
  isIdle(): boolean;
  /**
   * Nothing of its client's is held (no request waiting, no half line, no answer unread): closing
   * it loses nothing, so room comes from such a connection before a stalled one (H697).
   */
  holdsNothing(): boolean;
  /**
   * Closes this idle connection to make room, saying so first (`errorLine`, an id-0 error answer
   * the client reads as "not asked, ask again"): no request it sent is answered after this.
   */
  closeForRoom(errorLine: string): void;
}

/** Serves `socket` until it closes; `lineTimeoutMs`: see `ControlLimits.lineTimeoutMs`. */
export function serveConnection(socket: net.Socket, handlers: ControlHandlers, idleTimeoutMs: number, lineTimeoutMs = 30_000): ServedConnection {
  socket.on('error', () => {}); // a client that went away; nothing to report
  const queue: string[] = [];
  const state: ConnectionState = { isPumping: false, isAnswering: false, isFollowing: false, isEnded: false, isClosingForRoom: false };
  // Progress: a line read, or answers taken by the client (a drain). Half a line is none (H113).
  let hasPartialLine = false;
  let progressAt = Date.now();
  const noteProgress = () => {
    progressAt = Date.now();
  };
  socket.on('drain', noteProgress);
  // net re-arms the timer at every read and write; it fires only after real silence. (Not
  // setTimeout's callback: a one-time listener, gone after a timeout during a long request.)
  socket.setTimeout(idleTimeoutMs);
  socket.on('timeout', () => {
    if (!state.isAnswering) socket.destroy();
  });
  let lineTimer: NodeJS.Timeout | undefined;
  const stopLineTimer = () => {
    clearTimeout(lineTimer);
    lineTimer = undefined;
  };
  socket.once('close', stopLineTimer);
  const onLineTimeout = () => {
    // Earlier requests are being answered and the socket is paused: the rest of the line may
    // wait unread in the kernel, which is not the client's doing. Look again later.
    if (state.isPumping) return void (lineTimer = setTimeout(onLineTimeout, lineTimeoutMs).unref());
    lineTimer = undefined;
    closeWithError(socket, `A control request line must end with a newline within ${lineTimeoutMs} ms of its first byte; the connection is closed.`);
  };
  const pump = async (): Promise<void> => {
    if (state.isPumping) return;
    state.isPumping = true;
    while (queue.length > 0 && !socket.destroyed) {
      // The previous answer is still unread: wait for the client before answering the next.
      if (socket.writableNeedDrain) await drainedOrClosed(socket);
      else if ((await answer(socket, queue.shift()!, handlers, state)) === 'following') socket.setTimeout(0);
    }
    state.isPumping = false;
    if (socket.destroyed) return;
    // The client shut its side after its last request: every answer is written, so end ours.
    if (state.isEnded && !state.isFollowing) socket.end();
    else socket.resume();
  };
  /**
   * Ends the connection with `errorLine`, answering nothing more: to make room for a newer
   * connection, or after a request line over the limit.
   */
  const closeDraining = (errorLine: string): void => {
    if (socket.destroyed) return;
    state.isClosingForRoom = true;
    // A request read but waiting (for the client to read an earlier answer) was never run: dropped.
    queue.length = 0;
    stopLineTimer();
    // Answers it has not read wait before the line: a client that reads none (a flood) would
    // never get to it, and would hold the connection. Closed at once, as before the line.
    if (socket.writableLength > 0) return void socket.destroy();
    socket.end(errorLine);
    // As a refusal (control-server.ts `refuse`): read and drop what the client sends, so a
    // request it writes now succeeds and it reads the line, rather than its write failing
    // (EPIPE) first; closed once the client ends its side, and not held past kRoomLingerMs,
    // whatever the client does.
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), kRoomLingerMs).unref();
    socket.once('close', () => clearTimeout(linger));
  };
  readLines(
    socket,
    (line) => {
      // Closed to make room: what still comes is read and dropped (closeForRoom), never answered.
      if (state.isClosingForRoom) return;
      noteProgress();
      queue.push(line);
      // Read no further until the queue is answered: what waits is at most one chunk.
      socket.pause();
      void pump();
    },
    // Read and dropped after its line, as a connection closed for room: a client still in the
    // middle of one large write got EPIPE before the line (hostile tester t53: 10 MiB at once).
    () => closeDraining(errorLineOf(`A control request line is at most ${kMaxRequestChars} characters; the connection is closed.`)),
    kMaxRequestChars,
    {
      onPartial: (isPartial) => {
        hasPartialLine = isPartial;
        if (!isPartial || state.isClosingForRoom) stopLineTimer();
        else if (lineTimer === undefined) lineTimer = setTimeout(onLineTimeout, lineTimeoutMs).unref();
      },
      onEnd: () => {
        stopLineTimer();
        state.isEnded = true;
        if (state.isClosingForRoom) return void socket.destroy();
        // A follower that ended its side is gone (its process exited, Ctrl-C, a `timeout`): on a
        // quiet cluster nothing is written to it that would fail, and it held its follower slot
        // and descriptor for good (tester t21: 32 of them, then every `logs --follow` refused).
        if (state.isFollowing && !socket.destroyed) return void socket.destroy();
        if (!state.isPumping && queue.length === 0 && !state.isFollowing && !socket.destroyed) socket.end();
      },
    },
  );
  const holdsNothing = (): boolean => queue.length === 0 && !hasPartialLine && socket.writableLength === 0;
  return {
    // A client flooding requests and reading its answers holds some at every moment, and is busy
    // (H522: before, it was closed as idle between two answers); one that stopped reading, or
    // stopped mid-line, makes no progress, and is idle a second later (H113).
    isIdle: () => {
      if (state.isAnswering || state.isFollowing) return false;
      return holdsNothing() || Date.now() - progressAt >= kStalledMs;
    },
    holdsNothing,
    closeForRoom: (errorLine) => closeDraining(errorLine),
  };
}

/** One error line (id 0: the request could not be read, so it has no id), as closeWithError writes it. */
function errorLineOf(message: string): string {
  const response: ControlResponse = { id: 0, ok: false, error: protocolErrorBody(new InvalidArgumentError(message)) };
  return `${JSON.stringify(response)}\n`;
}

/** One error line (id 0: the request could not be read, so it has no id), then the connection closes. */
function closeWithError(socket: net.Socket, message: string): void {
  if (socket.destroyed) return;
  socket.pause();
  socket.end(errorLineOf(message), () => socket.destroy());
}

interface ConnectionState {
  isPumping: boolean;
  /** Closed to make room for a newer connection, or after a line over the limit: nothing more is read or answered. */
  isClosingForRoom: boolean;
  /** A request other than `logs` is being served: the idle timeout waits. */
  isAnswering: boolean;
  /** A `logs --follow` stream writes to this connection (one at most). */
  isFollowing: boolean;
  /** The client shut its writing side: the connection ends once the queue is answered. */
  isEnded: boolean;
}

/** Answers one request line; 'following' when a `logs --follow` stream now owns the connection. */
async function answer(socket: net.Socket, line: string, handlers: ControlHandlers, state: ConnectionState): Promise<'following' | undefined> {
  let request: ControlRequest | undefined;
  let response: ControlResponse;
  try {
    request = parseRequest(line);
    // `logs` answers with many lines, written by the log stream itself. Its backlog is written
    // with back-pressure and the idle timeout still applies: a client that stops reading it is
    // closed like any idle one.
    if (request.command === 'logs') {
      if (request.follow === true) {
        // One client must not take every follower slot of the cluster over one connection.
        if (state.isFollowing) throw new InvalidStateError('This connection already follows the logs; a connection carries one "logs --follow" stream (open another connection for another).');
        state.isFollowing = true;
      }
      try {
        await streamLogs(socket, request, handlers.logs, handlers.slots);
      } catch (error) {
        if (request.follow === true) state.isFollowing = false;
        throw error;
      }
      return request.follow === true ? 'following' : undefined;
    }
    state.isAnswering = true;
    // Said before the command runs (a stop may drain for minutes): the client knows it was read.
    if (request.ack === true && !socket.destroyed) {
      const acceptance: ControlAcceptance = { id: request.id, accepted: request.command };
      socket.write(`${JSON.stringify(acceptance)}\n`);
    }
    response = { id: request.id, ok: true, result: await dispatch(request, handlers) };
  } catch (error) {
    // A request that could not be read names no option of the primary: no `optionNames` (H385).
    response = { id: request?.id ?? idOf(line), ok: false, error: request === undefined ? protocolErrorBody(error) : errorBody(error, handlers) };
  } finally {
    state.isAnswering = false;
  }
  if (socket.destroyed) {
    if (request?.command === 'stop' && response.ok) handlers.afterStop();
    return undefined;
  }
  socket.write(`${JSON.stringify(response)}\n`, () => {
    if (request?.command === 'stop' && response.ok) handlers.afterStop();
  });
  return undefined;
}

function dispatch(request: ControlRequest, handlers: ControlHandlers): unknown {
  switch (request.command) {
    case 'status':
      return handlers.status();
    case 'describe':
      if (handlers.describe === undefined) throw new InvalidArgumentError('Unknown control command "describe": this control socket does not describe its settings.');
      return handlers.describe();
    case 'reload':
      return handlers.reload({ updateEnv: request.updateEnv === true });
    case 'stop':
      return handlers.stop();
    case 'scale':
      return handlers.scale(request.count!);
    case 'logs':
      throw new InvalidArgumentError('"logs" is answered by the log stream.');
    case 'events':
      return handlers.events(request.after ?? 0);
  }
}

/**
 * The fields each command takes besides `id` and `command`. Anything else is refused, for every
 * command alike: a misspelt `"line": 5` must not silently mean the default.
 */
const kRequestFields: Readonly<Record<ControlCommand, readonly string[]>> = {
  status: [],
  reload: ['updateEnv'],
  stop: [],
  scale: ['count'],
  logs: ['lines', 'follow', 'workerId', 'slot', 'output'],
  events: ['after'],
  // Last: error messages list the commands in this order, the oldest first.
  describe: [],
};
const kCommands = new Set(Object.keys(kRequestFields));

function parseRequest(line: string): ControlRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new InvalidArgumentError('A control request must be one JSON object per line.');
  }
  const request = parsed as Partial<ControlRequest> | null;
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new InvalidArgumentError(`A control request needs a numeric "id" and a "command" among ${[...kCommands].join(', ')}.`);
  }
  // Checked before anything runs: `1e999` (Infinity) would be answered as `"id":null`, which no
  // client can match to its request.
  if (!Number.isSafeInteger(request.id)) {
    throw new InvalidArgumentError(`A control request needs an "id" that is an integer within ±(2^53 - 1), so its answer can name it. Received ${describeId(request.id)}.`);
  }
  // 0 (and -0, which JSON writes as 0) names the errors about lines that could not be read: an
  // answer to a request of that id could not be told from one (hostile t60).
  if (request.id === 0) throw new InvalidArgumentError('A control request\'s "id" cannot be 0: the errors about lines that could not be read carry it. Use another integer, 1 or more.');
  const repeated = repeatedKey(line, { topLevelOnly: true })?.key;
  if (repeated !== undefined) {
    throw new InvalidArgumentError(`A control request gives ${JSON.stringify(repeated)} twice; JSON would keep the last one, so nothing was run: give each field once.`);
  }
  // Own fields only: `{"__proto__": {"command": "stop"}}` names no command.
  if (!Object.hasOwn(request, 'command') || request.command === undefined || request.command === null) {
    throw new InvalidArgumentError(`A control request needs a "command", one of ${[...kCommands].join(', ')}.`);
  }
  if (!kCommands.has(request.command)) {
    throw new InvalidArgumentError(`Unknown control command ${describeValue(request.command)}; the commands are ${[...kCommands].join(', ')}.`);
  }
  // `ack` is the protocol's, as `id` is: the table and its messages leave it out (the dashboard's bodies do not take it).
  const { ack, ...fields } = request as Record<string, unknown>;
  if (kAcknowledged.has(request.command as ControlCommand) && Object.hasOwn(request, 'ack')) {
    if (typeof ack !== 'boolean') throw new InvalidArgumentError(`"${request.command}" needs an "ack" that is true or false. ${receivedClause(ack)}.`);
    checkRequestFields(request.command as ControlCommand, fields);
  } else {
    checkRequestFields(request.command as ControlCommand, request as Record<string, unknown>);
  }
  if (request.command === 'scale' && !(Number.isSafeInteger(request.count) && (request.count as number) >= 1)) {
    throw new InvalidArgumentError(`"scale" needs a "count" that is a positive integer. ${receivedClause(request.count)}.`);
  }
  if (request.command === 'reload' && request.updateEnv !== undefined && typeof request.updateEnv !== 'boolean') {
    throw new InvalidArgumentError(`"reload" needs an "updateEnv" that is true or false. ${receivedClause(request.updateEnv)}.`);
  }
  if (request.command === 'logs') checkLogsRequest(request as Record<string, unknown>);
  if (request.command === 'events' && request.after !== undefined && !(Number.isSafeInteger(request.after) && (request.after as number) >= 0)) {
    throw new InvalidArgumentError(`"events" needs an "after" that is a non-negative integer (the last seq read, or 0). ${receivedClause(request.after)}.`);
  }
  return request as ControlRequest;
}

/**
 * @throws InvalidArgumentError naming the first field of `request` that `command` does not take
 * (the dashboard checks its bodies with it too, `besides` none: one table, one wording).
 */
export function checkRequestFields(command: ControlCommand, request: Record<string, unknown>, besides: readonly string[] = ['id', 'command']): void {
  const fields = kRequestFields[command];
  const unknown = Object.keys(request).find((key) => !besides.includes(key) && !fields.includes(key));
  if (unknown === undefined) return;
  const nearest = closest(unknown, fields);
  const others = besides.map((field) => `"${field}"`).join(' and ');
  const takes =
    fields.length === 0
      ? besides.length === 0 ? 'takes no field' : `takes no field but ${others}`
      : `takes ${fields.map((field) => `"${field}"`).join(', ')}${besides.length === 0 ? '' : ` (besides ${others})`}`;
  throw new InvalidArgumentError(`"${command}" does not take ${JSON.stringify(unknown)}: it ${takes}.${nearest === undefined ? '' : ` Did you mean "${nearest}"?`}`);
}

/** The id of a request that was rejected, so the client can still match the answer; 0 if none. */
function idOf(line: string): number {
  try {
    const { id } = JSON.parse(line) as { id?: unknown };
    return Number.isSafeInteger(id) ? (id as number) : 0;
  } catch {
    return 0;
  }
}

/** `Infinity` and `1e+400` rather than JSON's `null` for a number JSON cannot write back. */
function describeId(id: unknown): string {
  return typeof id === 'number' ? String(id) : id === undefined ? 'no id' : JSON.stringify(id);
}

/**
 * The answer to a request the primary could not read (not JSON, no or an unknown command, a
 * field it does not take, a line too long): the protocol's own words, which name none of the
 * primary's options, so without `optionNames` (H385: it came with every such answer).
 */
function protocolErrorBody(thrown: unknown): ControlErrorBody {
  const error = toError(thrown);
  const code = readProperty(error, 'code');
  return { name: error.name, code: typeof code === 'string' ? code : undefined, message: error.message };
}

/** The error's answer: its message in the names of the primary's options its reader gave (H359), and which those are. */
function errorBody(thrown: unknown, handlers: ControlHandlers): ControlErrorBody {
  const error = toError(thrown); // readable: its fields can be read without throwing
  const code = readProperty(error, 'code');
  const { inFlagNames } = handlers;
  const message = inFlagNames === undefined ? error.message : inFlagNames(error.message);
  return { name: error.name, code: typeof code === 'string' ? code : undefined, message, optionNames: inFlagNames === undefined ? 'api' : 'flags' };
}
