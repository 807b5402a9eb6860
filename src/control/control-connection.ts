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
import { InvalidArgumentError, InvalidStateError } from '../errors.js';
import { readProperty } from '../readable-error.js';
import { toError } from '../to-error.js';
import type { ControlHandlers } from './control-server.js';
import { closest } from '../cli/suggest.js';
import { type ControlCommand, type ControlErrorBody, type ControlRequest, type ControlResponse, readLines } from './control-protocol.js';
import { checkLogsRequest } from './log-protocol.js';
import { streamLogs } from './log-stream.js';
import { drainedOrClosed } from './drained-or-closed.js';

/** Longest request line: a request is a few fields; answers may be long, requests never are. */
export const kMaxRequestChars = 64 * 1024;

/** Serves `socket` until it closes. */
export function serveConnection(socket: net.Socket, handlers: ControlHandlers, idleTimeoutMs: number): void {
  socket.on('error', () => {}); // a client that went away; nothing to report
  const queue: string[] = [];
  const state: ConnectionState = { isPumping: false, isAnswering: false, isFollowing: false };
  // net re-arms the timer at every read and write; it fires only after real silence. (Not
  // setTimeout's callback: a one-time listener, gone after a timeout during a long request.)
  socket.setTimeout(idleTimeoutMs);
  socket.on('timeout', () => {
    if (!state.isAnswering) socket.destroy();
  });
  const pump = async (): Promise<void> => {
    if (state.isPumping) return;
    state.isPumping = true;
    while (queue.length > 0 && !socket.destroyed) {
      // The previous answer is still unread: wait for the client before answering the next.
      if (socket.writableNeedDrain) await drainedOrClosed(socket);
      else if ((await answer(socket, queue.shift()!, handlers, state)) === 'following') socket.setTimeout(0);
    }
    state.isPumping = false;
    if (!socket.destroyed) socket.resume();
  };
  readLines(
    socket,
    (line) => {
      queue.push(line);
      // Read no further until the queue is answered: what waits is at most one chunk.
      socket.pause();
      void pump();
    },
    () => socket.destroy(),
    kMaxRequestChars,
  );
}

interface ConnectionState {
  isPumping: boolean;
  /** A request other than `logs` is being served: the idle timeout waits. */
  isAnswering: boolean;
  /** A `logs --follow` stream writes to this connection (one at most). */
  isFollowing: boolean;
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
        await streamLogs(socket, request, handlers.logs);
      } catch (error) {
        if (request.follow === true) state.isFollowing = false;
        throw error;
      }
      return request.follow === true ? 'following' : undefined;
    }
    state.isAnswering = true;
    response = { id: request.id, ok: true, result: await dispatch(request, handlers) };
  } catch (error) {
    response = { id: request?.id ?? idOf(line), ok: false, error: errorBody(error) };
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
    case 'reload':
      return handlers.reload();
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
  reload: [],
  stop: [],
  scale: ['count'],
  logs: ['lines', 'follow', 'workerId'],
  events: ['after'],
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
  if (typeof request !== 'object' || request === null || typeof request.id !== 'number' || !kCommands.has(request.command as string)) {
    throw new InvalidArgumentError(`A control request needs a numeric "id" and a "command" among ${[...kCommands].join(', ')}.`);
  }
  checkFields(request as Record<string, unknown> & { command: ControlCommand });
  if (request.command === 'scale' && !(Number.isSafeInteger(request.count) && (request.count as number) >= 1)) {
    throw new InvalidArgumentError(`"scale" needs a "count" that is a positive integer. Received ${JSON.stringify(request.count)}.`);
  }
  if (request.command === 'logs') checkLogsRequest(request as Record<string, unknown>);
  if (request.command === 'events' && request.after !== undefined && !(Number.isSafeInteger(request.after) && (request.after as number) >= 0)) {
    throw new InvalidArgumentError(`"events" needs an "after" that is a non-negative integer (the last seq read, or 0). Received ${JSON.stringify(request.after)}.`);
  }
  return request as ControlRequest;
}

/** @throws InvalidArgumentError naming the first field `request.command` does not take. */
function checkFields(request: Record<string, unknown> & { command: ControlCommand }): void {
  const fields = kRequestFields[request.command];
  const unknown = Object.keys(request).find((key) => key !== 'id' && key !== 'command' && !fields.includes(key));
  if (unknown === undefined) return;
  const nearest = closest(unknown, fields);
  const takes = fields.length === 0 ? 'takes no field but "id" and "command"' : `takes ${fields.map((field) => `"${field}"`).join(', ')} (besides "id" and "command")`;
  throw new InvalidArgumentError(`"${request.command}" does not take ${JSON.stringify(unknown)}: it ${takes}.${nearest === undefined ? '' : ` Did you mean "${nearest}"?`}`);
}

/** The id of a request that was rejected, so the client can still match the answer; 0 if none. */
function idOf(line: string): number {
  try {
    const { id } = JSON.parse(line) as { id?: unknown };
    return typeof id === 'number' ? id : 0;
  } catch {
    return 0;
  }
}

function errorBody(thrown: unknown): ControlErrorBody {
  const error = toError(thrown); // readable: its fields can be read without throwing
  const code = readProperty(error, 'code');
  return { name: error.name, code: typeof code === 'string' ? code : undefined, message: error.message };
}
