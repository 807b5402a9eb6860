/**
 * The client side of the control socket, used by the CLI: one request, one response. Before
 * it connects, it checks the directory and the socket as the server does (ours, private), and
 * every string of an answer arrives without control characters (control-chars.ts).
 */
import { ClusterNotRunningError, ControlSocketError, RemoteError } from '../errors.js';
import { type ClusterStatus, type ControlCommand, type ControlRequest, kAcknowledged } from './control-protocol.js';
import { deadLockHolder } from './name-lock.js';
import { deadAfterDrop, kDropLookMs } from './dead-after-drop.js';
import { type RequestHooks, requestOnce } from './request-once.js';
import { checkControlDirectory, checkSocketFile, controlDirectory, lookedInClause, socketNames, socketPathFor } from './runtime-dir.js';
import { probeSocket } from './socket-probe.js';
import { surveyPool } from './survey-pool.js';
import { withBusyRetry } from './busy-retry.js';
import { isDropped, unanswered } from './unanswered.js';

export { type RequestHooks, requestOnce } from './request-once.js';
export { isDropped, ownLimitWords, unanswered, type UnansweredDetail, unansweredDetail, type UnansweredReason, unansweredReason } from './unanswered.js';

let nextId = 1;

/**
 * Sends `command` to the cluster `name` and resolves with the result.
 * @throws InvalidOptionError when `name` is not a cluster name.
 * @throws ClusterNotRunningError when no live primary serves `name`.
 * @throws RemoteError when the primary ran the command and it failed (`remoteCode` says why).
 * @throws ControlSocketError when the directory or the socket is not this user's alone, the
 * connection broke, or `timeoutMs` passed without an answer.
 *
 * `hooks` (requestOnce): with `onAccepted`, a `stop`, `reload` or `scale` asks the primary to
 * say at once that it read the request (`ack`). A primary of an older clusterkit refuses `ack`
 * before it runs anything: the request is sent again without it, and `onAccepted` comes once
 * that one is written (that primary just answered, so it reads its socket).
 */
export async function controlRequest(
  name: string,
  command: ControlCommand,
  /** `keepControlChars`: see requestOnce. */
  options: { count?: number; after?: number; updateEnv?: boolean; timeoutMs?: number; directory?: string; keepControlChars?: boolean; hooks?: RequestHooks } = {},
): Promise<unknown> {
  const directory = options.directory ?? controlDirectory();
  const path = await clusterSocket(name, directory);
  const request: ControlRequest = {
    id: nextId++,
    command,
    ...(options.count === undefined ? {} : { count: options.count }),
    ...(options.after === undefined ? {} : { after: options.after }),
    ...(options.updateEnv === true ? { updateEnv: true } : {}),
  };
  const hooks = options.hooks ?? {};
  // A primary at its connection cap is asked again for a while (H430), only when it says so
  // (H440); each ask a fresh id.
  const send = (ack: boolean, sendHooks: RequestHooks) =>
    withBusyRetry(name, command, options.timeoutMs, (timeoutMs) =>
      requestOnce(path, { ...request, id: nextId++, ...(ack ? { ack: true } : {}) }, timeoutMs, undefined, options.keepControlChars, sendHooks),
    );
  try {
    if (hooks.onAccepted === undefined || !kAcknowledged.has(command)) return await send(false, hooks);
    try {
      return await send(true, hooks);
    } catch (error) {
      if (!isAckRefused(error)) throw error;
      // An older primary: it ran nothing; it reads its socket, so once written the request is taken.
      return await send(false, { ...hooks, onSent: () => (hooks.onSent?.(), hooks.onAccepted?.()) });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') throw await notRunning(name, directory, code === 'ECONNREFUSED' ? path : undefined);
    // Dropped unanswered: a primary killed meanwhile (frozen, then kill -9) is said to be gone,
    // as a refused connection says it (H450); a live one keeps the words below.
    if (isDropped(error) && (await deadAfterDrop(path)) !== undefined) throw await notRunning(name, directory, path);
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      throw new ControlSocketError(`The cluster "${name}" dropped the control connection before it answered "${command}"; its primary may be exiting.`, { cause: error });
    }
    throw error;
  }
}

/** A primary of an older clusterkit refused the `ack` field (before it ran anything). */
function isAckRefused(error: unknown): boolean {
  return error instanceof RemoteError && error.remoteCode === 'ERR_INVALID_ARGUMENT' && error.remoteMessage.includes('does not take "ack"');
}

/**
 * The socket path of the cluster `name`, once the checks every request makes before it connects
 * passed (`controlRequest`, `surveyCluster`): the directory and the socket are this user's alone.
 * @throws ControlSocketError when the directory or the socket is not this user's alone.
 * @throws ClusterNotRunningError when there is no directory or no socket.
 */
async function clusterSocket(name: string, directory: string): Promise<string> {
  const path = socketPathFor(name, directory);
  if (!checkControlDirectory(directory) || checkSocketFile(path) === 'absent') throw await notRunning(name, directory);
  return path;
}

/**
 * The error for a cluster `name` that does not run, naming those that do. `refusedPath`: its
 * socket is there but refused the connection, so its primary ended without stopping (killed,
 * crashed): said, with the pid of its lock, rather than only "not running" (newcomer t31 L2).
 */
async function notRunning(name: string, directory: string, refusedPath?: string): Promise<ClusterNotRunningError> {
  return new ClusterNotRunningError(name, await liveNames(directory), refusedPath === undefined ? undefined : deadLockHolder(refusedPath), lookedInClause(directory));
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
  const path = await clusterSocket(name, directory);
  try {
    const status = await withBusyRetry(name, 'status', timeoutMs, (attemptMs) => requestOnce(path, { id: nextId++, command: 'status' }, attemptMs));
    return { statuses: [status as ClusterStatus], unanswered: [] };
  } catch (error) {
    if (isStale(error as Error)) throw await notRunning(name, directory, (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? path : undefined);
    if (isDropped(error) && (await deadAfterDrop(path)) !== undefined) throw await notRunning(name, directory, path);
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
 * listens on (ECONNREFUSED: its primary was killed) is stale and skipped, and so is one whose
 * primary dropped the connection unanswered and is then dead (its lock's pid; looked at up to
 * 1 s, dead-after-drop.ts: a primary frozen, then killed, resets what it had not answered). Any other failure
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
  // `gone`: its primary dropped the connection unanswered and is dead (frozen, then kill -9):
  // a stale socket, as a refused one is (H461). Looked at within the ask, so every dropped
  // socket is looked at in parallel, and `onResult` never says first that it did not answer.
  type Outcome = { status: ClusterStatus } | { error: Error } | { gone: true };
  const results = await surveyPool<Outcome>(names, {
    limit: kSurveyConcurrency,
    quickLimit: 2 * kSurveyConcurrency,
    timeoutMs,
    quickMs: Math.min(kQuickAskMs, timeoutMs),
    signal: options.signal,
    ask: (name, waitMs) => {
      const path = socketPathFor(name, directory);
      const askedAt = Date.now();
      // The look at a dropped primary stays within the ask's own time (a watch's quick ask is 300 ms), and ends with the survey's signal.
      const isGone = async (error: unknown) =>
        isDropped(error) && options.signal?.aborted !== true && (await deadAfterDrop(path, Math.max(0, Math.min(kDropLookMs, waitMs - (Date.now() - askedAt))))) !== undefined;
      return requestOnce(path, { id: nextId++, command: 'status' }, waitMs, options.signal).then(
        (status): Outcome => ({ status: status as ClusterStatus }),
        async (error: unknown): Promise<Outcome> => ((await isGone(error)) ? { gone: true } : { error: error as Error }),
      );
    },
    isOutOfDescriptors: (outcome) => 'error' in outcome && ['EMFILE', 'ENFILE'].includes(((outcome.error.cause ?? outcome.error) as NodeJS.ErrnoException).code ?? ''),
    notAsked: (name) => ({
      error: unanswered('not-asked', `clusterkit did not ask the cluster "${name}" for its status: the ${2 * timeoutMs} ms of the survey were up before its turn, as too many sockets before it answered slowly.`),
    }),
    onResult: (name, outcome) => options.onResult?.(name, 'gone' in outcome || ('error' in outcome && isStale(outcome.error)) ? undefined : outcome),
  });
  const statuses: ClusterStatus[] = [];
  const unansweredClusters: UnansweredCluster[] = [];
  results.forEach((result, index) => {
    if ('status' in result) statuses.push(result.status);
    else if ('error' in result && !isStale(result.error)) unansweredClusters.push({ name: names[index]!, error: result.error });
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
