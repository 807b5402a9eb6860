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

/**
 * A cluster that gave no status: a process listens on its socket (the connection was not
 * refused) but did not answer, or clusterkit could not ask it (`own-limit`, `not-asked`).
 */
export interface UnansweredCluster {
  readonly name: string;
  /** Why there is no status; `unansweredReason(error)` says which kind. */
  readonly error: Error;
}

/**
 * Why a request got no answer, for the words that name the cluster (`status`, `list`):
 * `timeout` (none within the time allowed), `not-protocol` (bytes came, but no line of the
 * control protocol: junk, or a line past the 1 MiB an answer may be), `closed` (the connection
 * closed or broke before any byte came). Two are this process's, never the cluster's:
 * `own-limit` (the CLI could not open a connection: out of file descriptors, EMFILE/ENFILE, or
 * of memory) and `not-asked` (a survey's time was up before its turn: too many sockets before
 * it answered slowly). Kept apart from the message, which names the path.
 */
export type UnansweredReason = 'timeout' | 'not-protocol' | 'closed' | 'own-limit' | 'not-asked';

const reasons = new WeakMap<Error, UnansweredReason>();

function unanswered(reason: UnansweredReason, message: string, cause?: unknown): ControlSocketError {
  const error = new ControlSocketError(message, cause === undefined ? undefined : { cause });
  reasons.set(error, reason);
  return error;
}

/** Why `error` (thrown by a request to a socket some process listens on) brought no status. */
export function unansweredReason(error: Error): UnansweredReason {
  return reasons.get(error) ?? 'closed';
}

/**
 * Errors of this process's own connect, never the peer's: out of descriptors (per process, or
 * the whole system), or of kernel memory for a socket.
 */
const kOwnLimitWords: Readonly<Record<string, string>> = {
  EMFILE: 'this process is out of file descriptors (EMFILE); raise `ulimit -n`',
  ENFILE: 'the system is out of file descriptors (ENFILE); close some programs, or raise the system limit (fs.file-max)',
  ENOMEM: 'the system is out of memory for a new socket (ENOMEM)',
  ENOBUFS: 'the system is out of buffer space for a new socket (ENOBUFS)',
};

/** What this process lacked to open a connection, from an error's code; undefined when the fault is not its own. */
export function ownLimitWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : kOwnLimitWords[code];
}

/** At most this many connections of one survey are open at once (F3: 1 100 at once ran the CLI out of descriptors). */
export const kSurveyConcurrency = 32;

/**
 * `task` over `items`, at most `limit` at a time, results in the order of `items`. An item
 * whose turn comes once `late.isDue()` is not started: it gets `late.result(item)`. `task`
 * must not reject.
 */
async function mapPooled<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>, late?: { isDue: () => boolean; result: (item: T) => R }): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index]!;
      results[index] = late?.isDue() ? late.result(item) : await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
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
 *
 * At most `kSurveyConcurrency` connections are open at once, each waiting `timeoutMs` at most,
 * and none starts once `timeoutMs` have passed since the survey began: a socket whose turn
 * comes later is in `unanswered` as `not-asked`. So a survey ends within twice `timeoutMs`
 * however many sockets are silent (F3).
 * @throws ControlSocketError when the directory is not this user's alone.
 */
export async function surveyClusters(directory = controlDirectory(), timeoutMs = 5_000): Promise<{ statuses: ClusterStatus[]; unanswered: UnansweredCluster[] }> {
  // A timer, not a clock read: set before any request's own timer of the same length, it fires
  // first, so a slot freed by a timeout never starts another request (timers may fire a
  // millisecond before a clock says their time is up).
  let isDue = false;
  const deadline = setTimeout(() => (isDue = true), timeoutMs).unref();
  const results = await mapPooled(
    ownSocketNames(directory),
    kSurveyConcurrency,
    (name): Promise<{ name: string; status: ClusterStatus } | { name: string; error: Error }> =>
      requestOnce(socketPathFor(name, directory), { id: nextId++, command: 'status' }, timeoutMs).then(
        (status) => ({ name, status: status as ClusterStatus }),
        (error: unknown) => ({ name, error: error as Error }),
      ),
    {
      isDue: () => isDue,
      result: (name) => ({
        name,
        error: unanswered('not-asked', `clusterkit did not ask the cluster "${name}" for its status: the ${timeoutMs} ms of the survey were up before its turn, as too many sockets before it answered slowly.`),
      }),
    },
  ).finally(() => clearTimeout(deadline));
  const statuses: ClusterStatus[] = [];
  const unansweredClusters: UnansweredCluster[] = [];
  for (const result of results) {
    if ('status' in result) statuses.push(result.status);
    else if (!isStale(result.error)) unansweredClusters.push({ name: result.name, error: result.error });
  }
  return { statuses, unanswered: unansweredClusters };
}

/** The connection was refused or the socket is gone: no process listens on it. */
function isStale(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

/** The names whose socket a live primary answers on. */
export async function liveNames(directory: string): Promise<string[]> {
  const names = ownSocketNames(directory);
  const states = await mapPooled(names, kSurveyConcurrency, (name) => probeSocket(socketPathFor(name, directory)));
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
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // This process's own limit, not the peer's fault: say so, never blame the cluster (F3).
      const words = ownLimitWords(error.code);
      settle(words === undefined ? error : unanswered('own-limit', `clusterkit could not open a connection to ${path}: ${words}.`, error));
    });
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
