/**
 * The client side of the control socket, used by the CLI: one request, one response. Before
 * it connects, it checks the directory and the socket as the server does (ours, private), and
 * every string of an answer arrives without control characters (control-chars.ts).
 */
import net from 'node:net';
import { ClusterNotRunningError, ControlSocketError, RemoteError } from '../errors.js';
import { parseStripped } from './control-chars.js';
import { type ClusterStatus, type ControlCommand, type ControlErrorBody, type ControlRequest, type ControlResponse, kMaxLineBytes, readLines } from './control-protocol.js';
import { checkControlDirectory, checkSocketFile, controlDirectory, socketNames, socketPathFor } from './runtime-dir.js';
import { probeSocket } from './socket-probe.js';

let nextId = 1;

/**
 * Sends `command` to the cluster `name` and resolves with the result.
 * @throws InvalidOptionError when `name` is not a cluster name.
 * @throws ClusterNotRunningError when no live primary serves `name`.
 * @throws RemoteError when the primary ran the command and it failed (`remoteCode` says why).
 * @throws ControlSocketError when the directory or the socket is not this user's alone, the
 * connection broke, or `timeoutMs` passed without an answer.
 */
export async function controlRequest(
  name: string,
  command: ControlCommand,
  options: { count?: number; after?: number; timeoutMs?: number; directory?: string } = {},
): Promise<unknown> {
  const directory = options.directory ?? controlDirectory();
  const path = socketPathFor(name, directory);
  if (!checkControlDirectory(directory) || checkSocketFile(path) === 'absent') throw new ClusterNotRunningError(name, await liveNames(directory));
  const request: ControlRequest = {
    id: nextId++,
    command,
    ...(options.count === undefined ? {} : { count: options.count }),
    ...(options.after === undefined ? {} : { after: options.after }),
  };
  try {
    return await requestOnce(path, request, options.timeoutMs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new ClusterNotRunningError(name, await liveNames(directory));
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      throw new ControlSocketError(`The cluster "${name}" dropped the control connection before it answered "${command}"; its primary may be exiting.`, { cause: error });
    }
    throw error;
  }
}

/** A cluster whose socket a process listens on (the connection was not refused) but that gave no status. */
export interface UnansweredCluster {
  readonly name: string;
  /** Why there is no status: no answer within the timeout, the connection was dropped, or the answer was not the protocol's. */
  readonly error: Error;
}

/**
 * Why a request got no answer, for the words that name the cluster (`status`, `list`):
 * `timeout` (none within the time allowed), `not-protocol` (bytes came, but no line of the
 * control protocol: junk, or a line past the 1 MiB an answer may be), `closed` (the connection
 * closed or broke before any byte came). Kept apart from the message, which names the path.
 */
export type UnansweredReason = 'timeout' | 'not-protocol' | 'closed';

const reasons = new WeakMap<Error, UnansweredReason>();

function unanswered(reason: UnansweredReason, message: string): ControlSocketError {
  const error = new ControlSocketError(message);
  reasons.set(error, reason);
  return error;
}

/** Why `error` (thrown by a request to a socket some process listens on) brought no status. */
export function unansweredReason(error: Error): UnansweredReason {
  return reasons.get(error) ?? 'closed';
}

/**
 * The status of the one cluster `name`, or why a process listens on its socket but gave none
 * (`unanswered`, in the words of `surveyClusters`): a watch keeps watching it (H80, F5).
 * @throws ClusterNotRunningError when no process listens on its socket.
 * @throws ControlSocketError when the directory or the socket is not this user's alone.
 */
export async function surveyCluster(name: string, timeoutMs = 5_000, directory = controlDirectory()): Promise<{ statuses: ClusterStatus[]; unanswered: UnansweredCluster[] }> {
  const path = socketPathFor(name, directory);
  if (!checkControlDirectory(directory) || checkSocketFile(path) === 'absent') throw new ClusterNotRunningError(name, await liveNames(directory));
  try {
    return { statuses: [(await requestOnce(path, { id: nextId++, command: 'status' }, timeoutMs)) as ClusterStatus], unanswered: [] };
  } catch (error) {
    if (isStale(error as Error)) throw new ClusterNotRunningError(name, await liveNames(directory));
    return { statuses: [], unanswered: [{ name, error: error as Error }] };
  }
}

/**
 * Status of every live cluster of this user, sorted by name; stale sockets are skipped.
 * @throws ControlSocketError when the directory is not this user's alone.
 */
export async function listClusters(directory = controlDirectory(), timeoutMs = 5_000): Promise<ClusterStatus[]> {
  return (await surveyClusters(directory, timeoutMs)).statuses;
}

/**
 * Asks every cluster socket of this user for its status, sorted by name. A socket nobody
 * listens on (ECONNREFUSED: its primary was killed) is stale and skipped. Any other failure
 * means a process holds the socket but did not answer (its primary is blocked, out of file
 * descriptors, or exiting): that cluster runs, and is in `unanswered`, never left out.
 * @throws ControlSocketError when the directory is not this user's alone.
 */
export async function surveyClusters(directory = controlDirectory(), timeoutMs = 5_000): Promise<{ statuses: ClusterStatus[]; unanswered: UnansweredCluster[] }> {
  const results = await Promise.all(
    ownSocketNames(directory).map((name) =>
      requestOnce(socketPathFor(name, directory), { id: nextId++, command: 'status' }, timeoutMs).then(
        (status) => ({ name, status: status as ClusterStatus }),
        (error: unknown) => ({ name, error: error as Error }),
      ),
    ),
  );
  const statuses: ClusterStatus[] = [];
  const unanswered: UnansweredCluster[] = [];
  for (const result of results) {
    if ('status' in result) statuses.push(result.status);
    else if (!isStale(result.error)) unanswered.push({ name: result.name, error: result.error });
  }
  return { statuses, unanswered };
}

/** The connection was refused or the socket is gone: no process listens on it. */
function isStale(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

/** The names whose socket a live primary answers on. */
export async function liveNames(directory: string): Promise<string[]> {
  const names = ownSocketNames(directory);
  const states = await Promise.all(names.map((name) => probeSocket(socketPathFor(name, directory))));
  return names.filter((_, index) => states[index] === 'live');
}

/**
 * One request over a fresh connection to `path`. Connection errors reject with the socket's
 * own error (its `code` tells ENOENT/ECONNREFUSED apart); without `timeoutMs` it waits as long
 * as the connection stays open (a reload may take minutes).
 */
export function requestOnce(path: string, request: ControlRequest, timeoutMs?: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let isSettled = false;
    const settle = (error: Error | undefined, result?: unknown) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(result);
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => settle(unanswered('timeout', `The cluster at ${path} did not answer "${request.command}" within ${timeoutMs} ms; its primary may be blocked.`)), timeoutMs);
    // What came is never quoted: a hostile listener's bytes could be terminal escapes.
    const notProtocol = (what: string) =>
      unanswered('not-protocol', `The process listening on ${path} answered "${request.command}" with ${what}, which is not the clusterkit control protocol; it may not be a clusterkit primary.`);
    let isAnyByte = false;
    socket.on('data', () => (isAnyByte = true));
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (error) => settle(error));
    socket.once('close', () =>
      settle(
        isAnyByte
          ? notProtocol('bytes that hold no answer to it')
          : unanswered('closed', `The cluster at ${path} closed the control connection before it answered "${request.command}"; its primary may have crashed.`),
      ),
    );
    readLines(
      socket,
      (line) => {
        const response = parseResponse(line);
        // Every line of a clusterkit primary is a JSON object: anything else is another program's.
        if (!response) return settle(notProtocol('a line that is not a JSON object'));
        // Id 0: the server refused the connection itself (too many connections) or the request.
        if (response.id !== request.id && !(response.id === 0 && !response.ok)) return;
        if (response.ok) settle(undefined, response.result);
        else settle(new RemoteError(request.command, `the primary at ${path}`, errorBody(response.error)));
      },
      () => settle(notProtocol(`a line longer than the ${kMaxLineBytes / (1024 * 1024)} MiB an answer may be`)),
    );
  });
}

function parseResponse(line: string): ControlResponse | undefined {
  try {
    const response = parseStripped(line) as ControlResponse | null;
    return typeof response === 'object' && response !== null ? response : undefined;
  } catch {
    return undefined;
  }
}

/** An answer's error, whatever its shape: a server of another version may differ. */
function errorBody(error: unknown): ControlErrorBody {
  const body = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  return {
    name: typeof body.name === 'string' ? body.name : 'Error',
    message: typeof body.message === 'string' ? body.message : 'no reason given',
    code: typeof body.code === 'string' ? body.code : undefined,
  };
}

/** The socket names of a private directory of ours, without sockets of other users (none, unless root put them there). */
function ownSocketNames(directory: string): string[] {
  if (!checkControlDirectory(directory)) return [];
  return socketNames(directory).filter((name) => {
    try {
      return checkSocketFile(socketPathFor(name, directory)) === 'ours';
    } catch {
      return false;
    }
  });
}
