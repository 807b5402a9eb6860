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
import { surveyPool } from './survey-pool.js';

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

/** A `ControlSocketError` that `unansweredReason` reads as `reason`. */
export function unanswered(reason: UnansweredReason, message: string, cause?: unknown): ControlSocketError {
  const error = new ControlSocketError(message, cause === undefined ? undefined : { cause });
  reasons.set(error, reason);
  return error;
}

/** What a request that got no answer saw: how long it waited (`timeout`), what came instead (`not-protocol`). */
export interface UnansweredDetail {
  readonly waitedMs?: number;
  readonly what?: string;
}

const details = new WeakMap<Error, UnansweredDetail>();

/** The detail of `error`, from a request to a socket some process listens on; `{}` when none. */
export function unansweredDetail(error: Error): UnansweredDetail {
  return details.get(error) ?? {};
}

/**
 * How every answer of a clusterkit primary begins (`JSON.stringify` of `{ id, ok, ... }`, the
 * refusal of a connection included): bytes that cannot begin it are not the protocol.
 */
const kAnswerHead = '{"id":';

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

/** How long a survey's quick ask waits, once its full asks' time is up (H89): live primaries answer in milliseconds. */
export const kQuickAskMs = 300;

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

/** What one survey learned; `unanswered` holds the clusters that run (a process listens) but gave no status. */
export interface SurveyResult {
  statuses: ClusterStatus[];
  unanswered: UnansweredCluster[];
}

/**
 * Asks every cluster socket of this user for its status, sorted by name. A socket nobody
 * listens on (ECONNREFUSED: its primary was killed) is stale and skipped. Any other failure
 * means a process holds the socket but did not answer (its primary is blocked, out of file
 * descriptors, or exiting): that cluster runs, and is in `unanswered`, never left out.
 *
 * At most `kSurveyConcurrency` connections are open at once (survey-pool.ts). For `timeoutMs`
 * each socket is asked and waited for `timeoutMs` at most; after that, a socket whose turn
 * comes gets a quick ask of `kQuickAskMs`, twice as many at once (a live primary answers in milliseconds: 32 silent
 * sockets no longer hide the clusters sorted after them, H89), and none starts once twice
 * `timeoutMs` have passed: those left are in `unanswered` as `not-asked`. A connection that
 * met this process's own EMFILE/ENFILE is tried again once another closes (H90).
 *
 * `options.names`: ask only these (a watch leaves out the ones it already knows are silent);
 * `options.onResult`: each cluster's outcome as it comes (`undefined` status: stale socket).
 * @throws ControlSocketError when the directory is not this user's alone.
 */
export async function surveyClusters(
  directory = controlDirectory(),
  timeoutMs = 5_000,
  options: { names?: readonly string[]; onResult?: (name: string, outcome: { status: ClusterStatus } | { error: Error } | undefined) => void; signal?: AbortSignal } = {},
): Promise<SurveyResult> {
  const names = options.names ?? ownSocketNames(directory);
  type Outcome = { status: ClusterStatus } | { error: Error };
  const results = await surveyPool<Outcome>(names, {
    limit: kSurveyConcurrency,
    quickLimit: 2 * kSurveyConcurrency,
    timeoutMs,
    quickMs: Math.min(kQuickAskMs, timeoutMs),
    signal: options.signal,
    ask: (name, waitMs) =>
      requestOnce(socketPathFor(name, directory), { id: nextId++, command: 'status' }, waitMs, options.signal).then(
        (status) => ({ status: status as ClusterStatus }),
        (error: unknown) => ({ error: error as Error }),
      ),
    isOutOfDescriptors: (outcome) => 'error' in outcome && ['EMFILE', 'ENFILE'].includes(((outcome.error.cause ?? outcome.error) as NodeJS.ErrnoException).code ?? ''),
    notAsked: (name) => ({
      error: unanswered('not-asked', `clusterkit did not ask the cluster "${name}" for its status: the ${2 * timeoutMs} ms of the survey were up before its turn, as too many sockets before it answered slowly.`),
    }),
    onResult: (name, outcome) => options.onResult?.(name, 'error' in outcome && isStale(outcome.error) ? undefined : outcome),
  });
  const statuses: ClusterStatus[] = [];
  const unansweredClusters: UnansweredCluster[] = [];
  results.forEach((result, index) => {
    if ('status' in result) statuses.push(result.status);
    else if (!isStale(result.error)) unansweredClusters.push({ name: names[index]!, error: result.error });
  });
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
  const states = await surveyPool(names, {
    limit: kSurveyConcurrency,
    quickLimit: kSurveyConcurrency,
    timeoutMs: 30_000, // probes end within 2 s each: this never cuts a probe short in practice
    quickMs: 30_000,
    ask: (name) => probeSocket(socketPathFor(name, directory)),
    isOutOfDescriptors: () => false,
    notAsked: () => 'stale' as const,
  });
  return names.filter((_, index) => states[index] === 'live');
}

/**
 * One request over a fresh connection to `path`. Connection errors reject with the socket's
 * own error (its `code` tells ENOENT/ECONNREFUSED apart); without `timeoutMs` it waits as long
 * as the connection stays open (a reload may take minutes).
 */
export function requestOnce(path: string, request: ControlRequest, timeoutMs?: number, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let isSettled = false;
    const onAbort = () => settle(unanswered('not-asked', `clusterkit stopped asking ${path} for "${request.command}".`));
    const settle = (error: Error | undefined, result?: unknown) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(result);
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const error = unanswered('timeout', `The cluster at ${path} did not answer "${request.command}" within ${timeoutMs} ms; its primary may be blocked.`);
            details.set(error, { waitedMs: timeoutMs });
            settle(error);
          }, timeoutMs);
    // What came is never quoted: a hostile listener's bytes could be terminal escapes. Reading
    // stops at the first byte that cannot begin an answer (H83): junk is not read for seconds.
    const notProtocol = (what: string) => {
      const error = unanswered('not-protocol', `The process listening on ${path} answered "${request.command}" with ${what}, which is not the clusterkit control protocol; it may not be a clusterkit primary.`);
      details.set(error, { what });
      return error;
    };
    let isAnyByte = false;
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      isAnyByte = true;
      if (head.length >= kAnswerHead.length) return;
      head = (head + chunk.subarray(0, kAnswerHead.length + 16).toString('latin1')).trimStart().slice(0, kAnswerHead.length);
      if (!kAnswerHead.startsWith(head)) settle(notProtocol('bytes that cannot begin an answer (clusterkit closed the connection at once)'));
    });
    if (signal?.aborted) queueMicrotask(onAbort);
    else signal?.addEventListener('abort', onAbort, { once: true });
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
      () => settle(notProtocol(`more than ${kMaxLineBytes / (1024 * 1024)} MiB in one line, more than an answer may be (clusterkit stopped reading and closed the connection)`)),
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
export function ownSocketNames(directory: string): string[] {
  if (!checkControlDirectory(directory)) return [];
  return socketNames(directory).filter((name) => {
    try {
      return checkSocketFile(socketPathFor(name, directory)) === 'ours';
    } catch {
      return false;
    }
  });
}
