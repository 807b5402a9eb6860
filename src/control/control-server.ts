/**
 * The control socket a running primary serves, so `clusterkit status|reload|stop|scale NAME`
 * can reach it from another terminal. A Unix socket in the user's 0700 control directory,
 * itself 0600: only this user can connect. Never a network port.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { ClusterNameInUseError, ControlSocketError, InvalidArgumentError } from '../errors.js';
import { readProperty } from '../readable-error.js';
import { toError } from '../to-error.js';
import { type ClusterStatus, type ControlErrorBody, type ControlRequest, type ControlResponse, type EventsPage, readLines } from './control-protocol.js';
import { requestOnce } from './control-client.js';
import { checkLogsRequest, type LogSource } from './log-protocol.js';
import { streamLogs } from './log-stream.js';
import { controlDirectory, ensureControlDirectory, socketPathFor } from './runtime-dir.js';
import { probeSocket } from './socket-probe.js';

/** What the primary does for each command. Every method may throw or reject: the client gets the error. */
export interface ControlHandlers {
  status(): ClusterStatus;
  reload(): Promise<unknown>;
  scale(count: number): Promise<unknown>;
  /** Stops the cluster; resolves once it is down, with the reply for the client. */
  stop(): Promise<unknown>;
  /** Runs once the reply to `stop` has been written (the primary then typically exits). */
  afterStop(): void;
  /** The cluster's output for `logs`; without it, `logs` answers that there is none. */
  logs?: LogSource | undefined;
  /** The lifecycle events after the cursor `after` (see `EventLog.read`). */
  events(after: number): EventsPage;
}

export interface ControlServer {
  /** Absolute path of the socket. */
  readonly path: string;
  /** Stops listening and removes the socket file. Idempotent. */
  close(): void;
}

/**
 * Listens on the control socket of `name`. A stale socket (its primary died) is removed first.
 * @throws ClusterNameInUseError when a live primary already serves `name`.
 * @throws ControlSocketError when the directory is unsafe or the socket cannot be created.
 */
export async function startControlServer(name: string, handlers: ControlHandlers, directory = controlDirectory()): Promise<ControlServer> {
  ensureControlDirectory(directory);
  const path = socketPathFor(name, directory);
  await claimPath(name, path);
  const server = net.createServer((socket) => serveConnection(socket, handlers));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      // Another primary with the same name won the race between our probe and our listen.
      reject(error.code === 'EADDRINUSE' ? new ClusterNameInUseError(name, path) : new ControlSocketError(`Cannot listen on the control socket ${path}: ${error.message}`, { cause: error }));
    });
    server.listen(path, () => resolve());
  });
  // The directory is already 0700; the socket is 0600 too, in case the directory is ever loosened.
  chmodSync(path, 0o600);
  // The control socket alone never keeps the primary alive; its workers do.
  server.unref();
  let isClosed = false;
  const close = (): void => {
    if (isClosed) return;
    isClosed = true;
    process.off('exit', close);
    server.close();
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  // process.exit() (after a signal-driven shutdown) skips every callback but 'exit' listeners.
  process.on('exit', close);
  return { path, close };
}

async function claimPath(name: string, path: string): Promise<void> {
  const state = await probeSocket(path);
  if (state === 'live') {
    const pid = await requestOnce(path, { id: 1, command: 'status' }, 1_000).then(
      (status) => (status as ClusterStatus).pid,
      () => undefined,
    );
    throw new ClusterNameInUseError(name, path, pid);
  }
  if (state === 'not-a-socket') {
    throw new ControlSocketError(`${path} exists and is not a socket; remove it or pick another cluster name.`);
  }
  if (state === 'stale') {
    try {
      unlinkSync(path);
    } catch {
      // removed meanwhile
    }
  }
}

function serveConnection(socket: net.Socket, handlers: ControlHandlers): void {
  socket.on('error', () => {}); // a client that went away; nothing to report
  readLines(
    socket,
    (line) => void answer(socket, line, handlers),
    () => socket.destroy(),
  );
}

async function answer(socket: net.Socket, line: string, handlers: ControlHandlers): Promise<void> {
  let request: ControlRequest | undefined;
  let response: ControlResponse;
  try {
    request = parseRequest(line);
    // `logs` answers with many lines, written by the log stream itself.
    if (request.command === 'logs') return streamLogs(socket, request, handlers.logs);
    response = { id: request.id, ok: true, result: await dispatch(request, handlers) };
  } catch (error) {
    response = { id: request?.id ?? idOf(line), ok: false, error: errorBody(error) };
  }
  if (socket.destroyed) {
    if (request?.command === 'stop' && response.ok) handlers.afterStop();
    return;
  }
  socket.write(`${JSON.stringify(response)}\n`, () => {
    if (request?.command === 'stop' && response.ok) handlers.afterStop();
  });
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

const kCommands = new Set(['status', 'reload', 'stop', 'scale', 'logs', 'events']);

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
  if (request.command === 'scale' && !(Number.isSafeInteger(request.count) && (request.count as number) >= 1)) {
    throw new InvalidArgumentError(`"scale" needs a "count" that is a positive integer. Received ${JSON.stringify(request.count)}.`);
  }
  if (request.command === 'logs') checkLogsRequest(request as Record<string, unknown>);
  if (request.command === 'events' && request.after !== undefined && !(Number.isSafeInteger(request.after) && (request.after as number) >= 0)) {
    throw new InvalidArgumentError(`"events" needs an "after" that is a non-negative integer (the last seq read, or 0). Received ${JSON.stringify(request.after)}.`);
  }
  return request as ControlRequest;
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
