/**
 * clusterkit's own message types. They start with `$`, which user types may not, and are
 * routed to internal handlers by the system router (system-router.ts), never to `_onMessage_`
 * methods. Each type's payload shape is declared here with the check the receiver applies
 * (`is...Payload`), so sender and receiver read one definition.
 */
import type { SerializedError } from '../errors.js';
import { isWorkerDestroyHook, type WorkerDestroyHook } from '../destroy-hook.js';
import { checkUserType, isSerializedError, isSystemType, kMaxTypeLength } from './envelope.js';

/**
 * Worker -> primary, notify: the worker listens for messages (sent first thing in `start()`).
 * Until then the primary holds what it sends: Node drops IPC messages that arrive before the
 * worker has a 'message' listener.
 */
export const kHelloNotice = '$hello';
/**
 * Worker -> primary, notify, right after `$hello`: the worker opened its bulk pipe
 * (bulk-channel.ts); the primary may write long strings to it from now on. No payload.
 */
export const kBulkNotice = '$bulk';
/** Worker -> primary, notify: `_init` finished, the worker takes work. Payload `{ pid }`. */
export const kReadyNotice = '$ready';
/**
 * Worker -> primary, notify: `_init` threw; payload is the serialized error, its texts cut to
 * the check's limits (`boundInitError`). Accepted only from a starting worker. The worker then exits 1.
 */
export const kInitErrorNotice = '$initError';
/**
 * Worker -> primary, notify: the worker served for the first time (the first HTTP request, or
 * plain TCP connection, on a tracked server; or the first user request message it handled).
 * Sent once per worker life, no payload. The restart policy never counts a worker that served
 * as a failed start, nor toward a limit; it backs off only if it died within the startup window (H366, docs/supervision.md).
 */
export const kServedNotice = '$served';
/**
 * Worker -> primary, notify: the worker serves sticky connections (`serveSticky()` was called;
 * sent then, or right after `$hello` when it was called before `start()`). Once per worker
 * life, no payload. Only the ready workers that sent it get `listenSticky()` connections.
 */
export const kStickyNotice = '$sticky';
/**
 * Worker -> primary, notify: a sticky connection reached the worker and it could not serve it
 * (it has no `serveSticky()` server, or it has stopped), so it closed it. No payload. The
 * primary hands it no more and reports it (`stickyRefused`).
 */
export const kStickyRefusedNotice = '$stickyRefused';
/**
 * Worker -> primary, notify: the worker dies of an uncaught exception or an unhandled rejection
 * (`origin`): the error's name, message, code and first own stack frame, cut to the check's
 * limits. Sent from the process's 'exit' (written synchronously, exit-flush.ts), only when it
 * exits with a failure in the turn the error came: a user's 'uncaughtException' handler that
 * keeps the process alive makes no crash. Once per worker life. Payload `UncaughtError`.
 */
export const kCrashNotice = '$crash';

/**
 * Worker -> primary, notify: the process exits outside a stop (a `process.exit()` of the user's
 * code, a crash) while its tracked servers have requests open: how many, counted in its 'exit'
 * event and written synchronously (exit-flush.ts). A crash within a second of the traffic
 * starting was told with its last heartbeat's count, 0. Once per worker life, only by a worker
 * that tracks servers. Payload `{ openRequests }`.
 */
export const kExitingNotice = '$exiting';

/**
 * Worker -> primary, notify: the worker's own code closes its IPC channel now
 * (`process.disconnect()`, `cluster.worker.disconnect()`: own-disconnect.ts), written just before
 * the close. The worker then drains on its own and exits with code 0 only when it cut no
 * request (worker-lifecycle.ts): the primary reads that 0 as nothing cut, not the requests of
 * its last report before the close (H536). Without it (a `process.exit()`, a crash), an exit 0
 * with requests open stays counted as cutting them. Once per worker life. Payload: what is open
 * at the close, `{ openRequests, idleConnections }` as `$exiting`'s, from a worker that tracks
 * servers; none from one that does not.
 */
export const kOwnCloseNotice = '$ownClose';

/**
 * Worker -> primary, notify: it exits with output it wrote (stdout, stderr) still held in its
 * process, not yet taken by whoever reads it (a full pipe, a slow terminal or log reader), when
 * its exit's wait for it ended: `process.exit()` drops it. Payload `{ bytes }`, the bytes held.
 */
export const kOutputLostNotice = '$outputLost';

export interface OutputLostPayload {
  /** The bytes of its stdout and stderr still held in the process at its exit. */
  readonly bytes: number;
}

/**
 * Worker -> primary, notify: the requests its tracked servers have open now, told as a request
 * begins (or one ends) when the count has gone unsaid for 100 ms, and written in that same tick:
 * a request that blocks the event loop for good (a `while (true)` in its handler) is counted by
 * the hang detection's kill, though no heartbeat answer could tell it. At most about 10 a second
 * under load, then once more 100 ms after the last if the count moved since. The primary takes
 * it over an older heartbeat answer's count. Only by a worker that tracks servers. Payload
 * `{ openRequests }`.
 */
export const kOpenRequestsNotice = '$openRequests';

export interface ExitingPayload {
  readonly openRequests: number;
  /**
   * Open connections with no request known on them (idle HTTP keep-alive connections): its death
   * resets them, with any request already sent on one. Missing from older workers.
   */
  readonly idleConnections?: number;
}

/** How a worker said it died (`$crash`): read by the primary into `workerCrash.error` and the crash messages. */
export interface UncaughtError {
  /** `uncaughtException` (a throw nothing caught) or `unhandledRejection` (a promise rejected with no handler). */
  readonly origin: 'uncaughtException' | 'unhandledRejection';
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  /** `/srv/api/server.js:12:7`: the first stack frame in the user's code (else in a dependency); absent when none. */
  readonly location?: string;
  /** Requests its tracked servers had open as it died; absent when it tracks none. */
  readonly openRequests?: number;
  /** Their idle connections then (see `ExitingPayload.idleConnections`); absent when it tracks none. */
  readonly idleConnections?: number;
}

/** Primary -> worker, request: stop gracefully; answered after `_destroy`. Payload `{ timeoutMs }`. */
export const kShutdownRequest = '$shutdown';

export interface ReadyPayload {
  readonly pid: number;
  /**
   * Its memory as it became ready (`process.memoryUsage()`), the reading status shows until the
   * first heartbeat answer: a worker whose loop blocks before that one still has one. Missing
   * from older workers; a value that is not a figure is ignored.
   */
  readonly memory?: { readonly rss: unknown; readonly heapUsed: unknown; readonly heapTotal: unknown };
}

export interface ShutdownPayload {
  /** The primary's deadline for this worker, in ms from `sentAt` (from receipt without it). */
  readonly timeoutMs: number;
  /**
   * When the primary sent it (`Date.now()`, the clock both processes share): its SIGKILL comes
   * `timeoutMs` after that, however late the worker reads it (an event loop held when the stop
   * came). The worker counts its own deadline from it when it is plausible (not after the
   * receipt, nor more than `timeoutMs` before it), from the receipt otherwise (H360). Missing
   * from older primaries; not checked by `isShutdownPayload` (a stop is never refused for it).
   */
  readonly sentAt?: number;
  /**
   * Other workers take over (a reload, a scale-down): release the open connections one at a
   * time over this many ms (the primary's `gradualDrainMs`). Absent: all at once.
   */
  readonly spreadMs?: number;
}

/**
 * Worker -> primary, notify: the worker's `_destroy` did not finish within the worker's own
 * deadline (`{ timeoutMs }`: the time it had; `reservedMs`: the slice of the stop kept for it;
 * `shortenedBy`: what used that slice up before it began, when it had under half of it, H350)
 * or threw (`{ error }`); the worker exits 1 next. A plain script's cleanup sends `{ timeoutMs }` alone.
 * `hook`: what its `_destroy` runs, when that is not the user's `_destroy` (`onWorkerShutdown`).
 */
export const kDestroyFailedNotice = '$destroyFailed';

/**
 * What left `_destroy` under half the time kept for it: `init`, the stop came while the worker
 * was starting and waited for its `_init` past the drain's deadline; `blocked`, the event loop
 * was held past it (synchronous code in a request handler, a message handler, a 'shutdown' listener).
 */
export type DestroyShortenedBy = 'init' | 'blocked';

export type DestroyFailedPayload = (
  | { readonly timeoutMs: number; readonly reservedMs?: number; readonly shortenedBy?: DestroyShortenedBy; readonly heldOutputBytes?: number; readonly serversListening?: number }
  | { readonly error: SerializedError }
) & {
  /** What its `_destroy` runs, when not the user's own `_destroy` (the service runner's `onWorkerShutdown`, H694). */
  readonly hook?: WorkerDestroyHook;
};

/**
 * Worker -> primary, notify: while the worker stops, how many requests its tracked servers
 * still have in flight (HTTP requests; a plain TCP server's open connections). Sent when the
 * stop begins and when the count changes, at most once per tick; only by a worker that tracks
 * servers. Payload `{ openRequests }`.
 */
export const kDrainNotice = '$drain';

export interface DrainPayload {
  readonly openRequests: number;
  /**
   * Only in the first notice of a gradual drain (gradualDrainMs): the open connections it will
   * release one at a time, and over how many ms. Both or neither.
   */
  readonly connections?: number;
  readonly spreadMs?: number;
}

/**
 * Worker -> primary, notify: the stop the primary asked for begins, before any code of the
 * user's runs (a `shutdown` listener, `_destroy`, a plain script's signal listeners): the
 * requests its tracked servers have open at that moment (in flight, and HTTP requests still
 * arriving). Written at once, not at the end of the tick: a worker that kills itself in the
 * next line (a SIGKILL or `abort()` in a `shutdown` listener) is counted with them, not with
 * its last heartbeat's. `$drain` notices update the count from there. Only by a worker that
 * tracks servers. Payload `{ openRequests }`.
 */
export const kStoppingNotice = '$stopping';

export interface StoppingPayload {
  readonly openRequests: number;
}

/**
 * Worker -> primary, notify: the stop the primary asked for ran to its end (servers drained,
 * `_destroy` run, whatever its result); the process exits next. A plain script that stops
 * through its own signal listeners sends it from its process's 'exit' event, when it exits by
 * itself with nothing cut off. An exit with code 0 during a stop without it (one that skips
 * Node's 'exit' event: `process.reallyExit()`, a native addon's `exit()`) is a failed stop.
 * Once per stop, no payload.
 */
export const kStoppedNotice = '$stopped';

/**
 * Worker -> primary, notify: the worker cut off requests while it stopped: `openRequests`
 * requests (HTTP requests in flight; a plain TCP server's connections) of its tracked servers
 * were still open at its own deadline, `timeoutMs` after the stop was asked (the primary's
 * `sentAt`, else the stop's receipt or start), and it destroyed their
 * connections; or, without `timeoutMs`, the process exited with them open (a plain script's
 * own cleanup called `process.exit()`). It exits 1 next (in the first case). Sent once, only
 * with `openRequests` > 0.
 */
export const kRequestsCutNotice = '$requestsCut';

export interface RequestsCutPayload {
  readonly openRequests: number;
  readonly timeoutMs?: number;
  /**
   * With `timeoutMs`, when the drain had under half of its time (H360): it began `heldMs` after
   * the stop was asked, held by `shortenedBy` (`blocked`: the event loop, as when the stop came or
   * in a 'shutdown' listener; `init`: the wait for `_init` of a stop that came while starting).
   */
  readonly heldMs?: number;
  readonly shortenedBy?: DestroyShortenedBy;
}

/**
 * Worker -> primary, notify: message handlers still ran at the worker's own stop deadline,
 * `timeoutMs` after its stop was asked (as `$requestsCut`'s): `handlers` of them, of `types` (at most
 * `kMaxCutHandlerTypes`). Their requesters get no reply; the worker exits 1 next, as for
 * requests cut off (H229: it exited 0, its stop `graceful`, and nothing said). Sent once.
 */
export const kHandlersCutNotice = '$handlersCut';

/** The most message types a `$handlersCut` names. */
export const kMaxCutHandlerTypes = 10;

export interface HandlersCutPayload {
  readonly handlers: number;
  readonly types: readonly string[];
  readonly timeoutMs: number;
  /** As `RequestsCutPayload`'s (H360). */
  readonly heldMs?: number;
  readonly shortenedBy?: DestroyShortenedBy;
}

/**
 * Worker -> primary, notify: a plain script under `clusterkit run` stops through its own
 * SIGINT/SIGTERM listeners (PM2's convention); `signal` is the one it was given. Its process
 * must exit by itself by the worker's deadline. Payload `{ signal }`.
 */
export const kScriptCleanupNotice = '$scriptCleanup';

export interface ScriptCleanupPayload {
  readonly signal: 'SIGINT' | 'SIGTERM';
}

/**
 * Worker -> primary, notify: the process received a stop signal (SIGINT, SIGTERM) the primary
 * did not ask for by a stop, so it will stop on its own (a second later, or through a plain
 * script's own listeners). Node cannot tell who sent it; the worker can say that it came: its
 * exit with code 0 is then told as stopped by that signal, not as an unexplained exit, and a
 * starting worker's not as an error of its script (H273, H275). Once per worker life.
 * Payload `{ signal }`.
 */
export const kStopSignalNotice = '$stopSignal';

export interface StopSignalPayload {
  readonly signal: 'SIGINT' | 'SIGTERM';
}

/**
 * Worker -> primary, request: the worker got a SIGHUP (it ignores it). Node cannot tell who sent
 * it: a process group's SIGHUP (a terminal's hangup, `kill -HUP -<pgid>`) reached the primary
 * too, which reloads; a `kill -HUP <worker pid>` reached this worker alone, and nothing reloads
 * (t30 M-B: the worker said it would be replaced). The primary answers what it did with a SIGHUP
 * of its own near that time (hangup-record.ts), and the worker words its line by it (H291).
 */
export const kHangupRequest = '$hangup';

/**
 * What the primary did with its own SIGHUP of about the same time: `reload` (a rolling reload,
 * or joined the one under way), `starting` / `stopping` (ignored: no started workers to replace,
 * or shutting down), `none` (it got none: the worker's came to it alone), `unknown` (the primary
 * does not handle signals: `handleSignals: false`).
 */
export type HangupOutcome = 'reload' | 'starting' | 'stopping' | 'none' | 'unknown';

const kHangupOutcomes: ReadonlySet<unknown> = new Set<HangupOutcome>(['reload', 'starting', 'stopping', 'none', 'unknown']);

export interface HangupReply {
  readonly outcome: HangupOutcome;
  /** The cluster's name, when the primary serves a control socket (`clusterkit reload <name>`). */
  readonly name?: string;
}

export function isHangupReply(reply: unknown): reply is HangupReply {
  if (typeof reply !== 'object' || reply === null) return false;
  const { outcome, name } = reply as { outcome?: unknown; name?: unknown };
  return kHangupOutcomes.has(outcome) && (name === undefined || typeof name === 'string');
}
/**
 * Primary -> worker, notify: start the orphan watchdog thread. Sent once the initial workers
 * are all ready (then at each later worker's ready): creating the thread costs as much CPU as
 * a worker's start, so doing it during start-up would slow the workers still starting. Being
 * ordered on the channel before anything sent later, it reaches a worker before whatever might
 * block its event loop.
 */
export const kArmWatchdogNotice = '$watchdog';
/**
 * Worker -> primary, request: answered at once, with nothing. A stopping worker sends it after
 * closing its servers and exits only after the answer: until the primary has read a server's
 * close, Node's cluster may still hand the worker connections, and one arriving after the exit
 * is lost (its client hangs). The answer travels behind any such handoff, so once it is in,
 * every handoff has arrived and been handed back to another worker.
 */
export const kSyncRequest = '$sync';
/** Primary -> worker, request: heartbeat; answered with memory and event-loop figures (checked by `isPingReport`). */
export const kPingRequest = '$ping';

/**
 * A worker's answer to `$ping`: memory (bytes), event-loop delay (ms) and CPU use (percent of
 * one core) since the last ping. The delay is left out of the first answer: nothing measured yet.
 */
export interface PingReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /**
   * The limit of its heap's old generation, in bytes: `--max-old-space-size` when the worker
   * was started with it (`execArgv` or `NODE_OPTIONS`), else V8's `heap_size_limit` (which adds
   * the young generation's reserve, up to 48 MiB, to it). What garbage collection runs up
   * against before V8's out-of-memory abort (H394). Missing from older workers' answers.
   */
  heapLimit?: number;
  loopDelayMean?: number;
  loopDelayP99?: number;
  /** Missing from the answers of older workers. */
  cpuPercent?: number;
  /** CPU time (user + system) the worker used since it started, in seconds; missing from older workers' answers (H375). */
  cpuSeconds?: number;
  /**
   * Requests open on the worker's tracked servers (in flight, and HTTP requests still arriving):
   * what a crash or a kill would cut. Missing when it tracks no server, and from older workers.
   */
  openRequests?: number;
  /** Their idle connections (see `ExitingPayload.idleConnections`); missing as `openRequests` is. */
  idleConnections?: number;
}

/**
 * Worker -> primary, request: relay a message to another worker. Payload
 * `{ target: name | id, type, payload, timeoutMs }` (`timeoutMs: null`: no limit, as JSON
 * cannot write Infinity); the reply is the target handler's reply.
 */
export const kRelayRequest = '$relay';
/** Primary -> worker, request: a relayed message. Payload `{ from, type, payload }`. */
export const kRelayedRequest = '$relayed';

/** Who sent a relayed message. */
export interface RelaySender {
  readonly workerId: number;
  readonly name: string | undefined;
}

export interface RelayPayload {
  /** The target worker's name or cluster id. */
  readonly target: string | number;
  readonly type: string;
  readonly payload: unknown;
  /** The sender's timeout, in ms; `null` for none (JSON writes `Infinity` as `null`). */
  readonly timeoutMs: number | null;
  /**
   * When the sender called `sendTo()`, `Date.now()` (one host, one clock): the primary's wait ends
   * before the sender's deadline however late the relay reached it (H472). Absent from older senders.
   */
  readonly calledAt?: number;
  /**
   * Set when the caller passed a `signal`: the sender's own number for this relay, which a
   * `$relayCancel` names once the caller aborts it. Absent from older senders.
   */
  readonly key?: number;
}

/**
 * Worker -> primary, notification: `{ keys }`, relays (`RelayPayload.key`) whose callers aborted
 * them. The primary withdraws those it still holds, never sent, and answers each at once, which
 * frees its place under the sender's `maxPending` (retest t68: aborted relays were sent later,
 * and ran, and held their places until their timeout).
 */
export const kRelayCancelNotice = '$relayCancel';

export interface RelayCancelPayload {
  readonly keys: readonly number[];
}

/** The most relays one `$relayCancel` names: more than any `maxPending` a worker can hold. */
export const kMaxRelayCancelKeys = 1_000_000;

export interface RelayedPayload {
  readonly from: RelaySender;
  readonly type: string;
  readonly payload: unknown;
}

/** Worker -> primary, request: a shared-store operation, `{ op, key, ... }`; the reply is its result. */
export const kStoreRequest = '$store';
/** Primary -> worker, notify: a watched key changed, `{ key, value, previous, deleted }`. */
export const kStoreChangeNotice = '$storeChange';

/** The store operations a worker may request. */
export type StoreOperation =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: unknown; ephemeral?: boolean }
  | { op: 'delete'; key: string }
  | { op: 'increment'; key: string; by: number }
  | { op: 'compareAndSet'; key: string; expected?: unknown; next?: unknown; ephemeral?: boolean }
  | { op: 'entries'; prefix: string }
  | { op: 'watch'; key: string }
  | { op: 'unwatch'; key: string };

export interface StoreChangePayload {
  readonly key: string;
  /** The new value; `undefined` when the key was deleted. */
  readonly value: unknown;
  readonly previous: unknown;
  readonly deleted: boolean;
}

/**
 * Primary -> worker, request: the worker's prom-client metrics as JSON (`getMetricsAsJSON()`),
 * or null; the reply is checked by `isMetricsReply` (metrics-reply.ts).
 */
export const kMetricsRequest = '$metrics';

/** The system types a worker sends to the primary, never the reverse. */
export const kWorkerToPrimaryTypes: ReadonlySet<string> = new Set([kHelloNotice, kBulkNotice, kReadyNotice, kInitErrorNotice, kServedNotice, kStickyNotice, kStickyRefusedNotice, kDestroyFailedNotice, kDrainNotice, kStoppingNotice, kStoppedNotice, kRequestsCutNotice, kHandlersCutNotice, kScriptCleanupNotice, kStopSignalNotice, kHangupRequest, kCrashNotice, kExitingNotice, kOwnCloseNotice, kOutputLostNotice, kOpenRequestsNotice, kSyncRequest, kRelayRequest, kRelayCancelNotice, kStoreRequest]);
/** The system types the primary sends to a worker, never the reverse. */
export const kPrimaryToWorkerTypes: ReadonlySet<string> = new Set([kShutdownRequest, kArmWatchdogNotice, kPingRequest, kRelayedRequest, kStoreChangeNotice, kMetricsRequest]);

/** Longest error name or code, and longest error message or stack, `$initError` accepts. */
export const kMaxErrorNameLength = 256;
export const kMaxErrorTextLength = 64 * 1024;

/** Longest error message and location a `$crash` carries: one log line, not the 64 KiB `$initError` allows. */
export const kMaxCrashTextLength = 1_024;

/**
 * The most requests one worker can claim to hold open (`$stopping`, `$drain`, `$exiting`,
 * `$crash`, `$requestsCut`, a heartbeat answer): a count above it is forged and dropped as
 * `out-of-range`, never added into a report. Each open request holds a connection (a file
 * descriptor: Linux caps a process at 1,048,576 by default, `fs.nr_open`) or an HTTP/2 stream
 * (100 per connection by default) and some KiB of memory, so a million in one process is
 * beyond any real server, while 2^53 - 1 once went into the stop report as "requests cut off".
 */
export const kMaxOpenRequests = 1_000_000;

/** True when `payload.openRequests`, when present, is a count a worker can hold (`kMaxOpenRequests`). */
export function hasPlausibleOpenRequests(payload: { readonly openRequests?: number | undefined; readonly idleConnections?: unknown }): boolean {
  const { openRequests, idleConnections } = payload;
  return (openRequests === undefined || openRequests <= kMaxOpenRequests) && (typeof idleConnections !== 'number' || idleConnections <= kMaxOpenRequests);
}

// The checks. Structure only: the handlers still reject what they cannot serve (an unknown
// worker name, an empty store key) with an error reply that names the problem.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `$hello`, `$served`, `$sticky`, `$stickyRefused`, `$stopped`, `$watchdog`, `$ping`, `$metrics`: no payload. */
export function isNoPayload(payload: unknown): payload is undefined {
  return payload === undefined;
}

export function isReadyPayload(payload: unknown): payload is ReadyPayload {
  return isRecord(payload) && isCount(payload.pid) && payload.pid > 0;
}

/** The memory a `$ready` notice carries, when all three are figures (untrusted: else none). */
export function readyMemory(payload: ReadyPayload): { rss: number; heapUsed: number; heapTotal: number } | undefined {
  const memory: unknown = payload.memory;
  if (!isRecord(memory)) return undefined;
  const { rss, heapUsed, heapTotal } = memory;
  return isFigure(rss) && isFigure(heapUsed) && isFigure(heapTotal) ? { rss, heapUsed, heapTotal } : undefined;
}

export function isInitErrorPayload(payload: unknown): payload is SerializedError {
  if (!isSerializedError(payload)) return false;
  const { name, message, code, stack, data } = payload;
  return (
    name.length <= kMaxErrorNameLength &&
    message.length <= kMaxErrorTextLength &&
    (code === undefined || (typeof code === 'string' && code.length <= kMaxErrorNameLength)) &&
    (stack === undefined || (typeof stack === 'string' && stack.length <= kMaxErrorTextLength)) &&
    (data === undefined || isRecord(data))
  );
}

/** `text` cut to `length` characters, ending in `...` when cut. */
export function cut(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 3)}...` : text;
}

/** `error` with its texts cut to what `isInitErrorPayload` accepts, so a long one is not dropped. */
export function boundInitError(error: SerializedError): SerializedError {
  const bounded: SerializedError = { name: cut(error.name, kMaxErrorNameLength), message: cut(error.message, kMaxErrorTextLength) };
  if (error.code !== undefined) bounded.code = cut(error.code, kMaxErrorNameLength);
  if (error.stack !== undefined) bounded.stack = cut(error.stack, kMaxErrorTextLength);
  if (error.data !== undefined) bounded.data = error.data;
  // Bounded by serializeError(), and revived by the primary as untrusted (remote-cause.ts).
  if (error.cause !== undefined) bounded.cause = error.cause;
  return bounded;
}

export function isCrashPayload(payload: unknown): payload is UncaughtError {
  if (!isRecord(payload) || (payload.origin !== 'uncaughtException' && payload.origin !== 'unhandledRejection')) return false;
  const { name, message, code, location, openRequests } = payload;
  const isText = (value: unknown, length: number) => typeof value === 'string' && value.length <= length;
  return (
    isText(name, kMaxErrorNameLength) &&
    isText(message, kMaxCrashTextLength) &&
    (code === undefined || isText(code, kMaxErrorNameLength)) &&
    (location === undefined || isText(location, kMaxCrashTextLength)) &&
    (openRequests === undefined || isCount(openRequests)) &&
    (payload.idleConnections === undefined || isCount(payload.idleConnections))
  );
}

export function isShutdownPayload(payload: unknown): payload is ShutdownPayload {
  if (!isRecord(payload) || typeof payload.timeoutMs !== 'number' || !(payload.timeoutMs >= 0)) return false;
  return payload.spreadMs === undefined || (typeof payload.spreadMs === 'number' && Number.isFinite(payload.spreadMs) && payload.spreadMs >= 0);
}

export function isDestroyFailedPayload(payload: unknown): payload is DestroyFailedPayload {
  if (!isRecord(payload)) return false;
  if (payload.hook !== undefined && !isWorkerDestroyHook(payload.hook)) return false;
  if ('timeoutMs' in payload) {
    const { reservedMs, shortenedBy, heldOutputBytes, serversListening } = payload;
    return (
      isMs(payload.timeoutMs) &&
      (reservedMs === undefined || isMs(reservedMs)) &&
      (serversListening === undefined || (Number.isSafeInteger(serversListening) && (serversListening as number) > 0)) &&
      (heldOutputBytes === undefined || isOutputLostPayload({ bytes: heldOutputBytes })) &&
      (shortenedBy === undefined || shortenedBy === 'init' || shortenedBy === 'blocked')
    );
  }
  return isSerializedError(payload.error);
}

/** A duration a worker reports: a finite number of ms, not negative. */
/** A cut notice's `heldMs` and `shortenedBy` (H360): both or neither, a figure and one of the two causes. */
function isHeldClaim({ heldMs, shortenedBy }: Record<string, unknown>): boolean {
  if (heldMs === undefined && shortenedBy === undefined) return true;
  return isMs(heldMs) && (shortenedBy === 'init' || shortenedBy === 'blocked');
}

function isMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

export function isDrainPayload(payload: unknown): payload is DrainPayload {
  if (!isRecord(payload) || !Number.isSafeInteger(payload.openRequests) || (payload.openRequests as number) < 0) return false;
  const { connections, spreadMs } = payload;
  if (connections === undefined && spreadMs === undefined) return true;
  return Number.isSafeInteger(connections) && (connections as number) >= 0 && Number.isSafeInteger(spreadMs) && (spreadMs as number) >= 0 && (spreadMs as number) <= 2 ** 31;
}

export function isStoppingPayload(payload: unknown): payload is StoppingPayload {
  return isRecord(payload) && isCount(payload.openRequests);
}

export function isExitingPayload(payload: unknown): payload is ExitingPayload {
  return isRecord(payload) && isCount(payload.openRequests) && (payload.idleConnections === undefined || isCount(payload.idleConnections));
}

export function isRequestsCutPayload(payload: unknown): payload is RequestsCutPayload {
  if (!isRecord(payload) || !Number.isSafeInteger(payload.openRequests) || (payload.openRequests as number) < 1) return false;
  const { timeoutMs } = payload;
  return (timeoutMs === undefined || (typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs >= 0)) && isHeldClaim(payload);
}

export function isHandlersCutPayload(payload: unknown): payload is HandlersCutPayload {
  if (!isRecord(payload) || !Number.isSafeInteger(payload.handlers) || (payload.handlers as number) < 1) return false;
  const { types, timeoutMs } = payload;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0 || !isHeldClaim(payload)) return false;
  return Array.isArray(types) && types.length <= kMaxCutHandlerTypes && types.every((type) => typeof type === 'string' && type.length > 0 && type.length <= kMaxTypeLength);
}

export function isScriptCleanupPayload(payload: unknown): payload is ScriptCleanupPayload {
  return isRecord(payload) && (payload.signal === 'SIGINT' || payload.signal === 'SIGTERM');
}

/** At most this many bytes held (1 TiB): a larger figure is no process's output. */
const kMaxOutputLostBytes = 2 ** 40;

export function isOutputLostPayload(payload: unknown): payload is OutputLostPayload {
  return isRecord(payload) && Number.isSafeInteger(payload.bytes) && (payload.bytes as number) > 0 && (payload.bytes as number) <= kMaxOutputLostBytes;
}

export function isStopSignalPayload(payload: unknown): payload is StopSignalPayload {
  return isScriptCleanupPayload(payload);
}

/**
 * A heartbeat answer: finite, non-negative figures. The delay figures are missing from a
 * worker's first answer (no window yet), `cpuPercent` and `cpuSeconds` from older workers' answers.
 */
export function isPingReport(reply: unknown): reply is PingReport {
  if (!isRecord(reply)) return false;
  const { rss, heapUsed, heapTotal, heapLimit, loopDelayMean, loopDelayP99, cpuPercent, cpuSeconds, openRequests } = reply;
  const isOptionalFigure = (value: unknown) => value === undefined || isFigure(value);
  const isOptionalCount = (value: unknown) => value === undefined || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0);
  return isFigure(rss) && isFigure(heapUsed) && isFigure(heapTotal) && isOptionalFigure(heapLimit) && isOptionalFigure(loopDelayMean) && isOptionalFigure(loopDelayP99) && isOptionalFigure(cpuPercent) && isOptionalFigure(cpuSeconds) && isOptionalCount(openRequests) && isOptionalCount(reply.idleConnections);
}

export function isRelayPayload(payload: unknown): payload is RelayPayload {
  if (!isRecord(payload)) return false;
  const { target, type, timeoutMs } = payload;
  return (
    (typeof target === 'string' || (typeof target === 'number' && Number.isSafeInteger(target))) &&
    checkUserType(type) === undefined &&
    (timeoutMs === null || (typeof timeoutMs === 'number' && timeoutMs > 0)) &&
    (payload.calledAt === undefined || (typeof payload.calledAt === 'number' && Number.isFinite(payload.calledAt))) &&
    (payload.key === undefined || (typeof payload.key === 'number' && Number.isSafeInteger(payload.key)))
  );
}

export function isRelayCancelPayload(payload: unknown): payload is RelayCancelPayload {
  if (!isRecord(payload)) return false;
  const { keys } = payload;
  return Array.isArray(keys) && keys.length <= kMaxRelayCancelKeys && keys.every((key) => typeof key === 'number' && Number.isSafeInteger(key));
}

export function isRelayedPayload(payload: unknown): payload is RelayedPayload {
  if (!isRecord(payload) || checkUserType(payload.type) !== undefined) return false;
  const from = payload.from;
  return isRecord(from) && typeof from.workerId === 'number' && (from.name === undefined || typeof from.name === 'string');
}

/**
 * A store operation: an object with an `op`, and for the operations this version knows, the
 * fields they need, of the right types. An unknown `op` passes: the store answers it with an
 * error that names it (a worker of a newer version learns what is missing).
 */
export function isStoreOperation(payload: unknown): payload is StoreOperation {
  if (!isRecord(payload) || typeof payload.op !== 'string') return false;
  const { op, key, ephemeral } = payload;
  if (ephemeral !== undefined && typeof ephemeral !== 'boolean') return false;
  switch (op) {
    case 'entries':
      return typeof payload.prefix === 'string';
    case 'increment':
      return typeof key === 'string' && typeof payload.by === 'number';
    case 'get':
    case 'set':
    case 'delete':
    case 'compareAndSet':
    case 'watch':
    case 'unwatch':
      return typeof key === 'string';
    default:
      return true;
  }
}

export function isStoreChangePayload(payload: unknown): payload is StoreChangePayload {
  return isRecord(payload) && typeof payload.key === 'string' && typeof payload.deleted === 'boolean';
}

/** A figure a worker reports about itself: a finite number from 0 to 2^53 - 1. */
function isFigure(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A request of the user's (`send()`, or one worker's to another through the primary, `$relayed`), not one of clusterkit's own. */
export function isUserRequest(type: string): boolean {
  return !isSystemType(type) || type === kRelayedRequest;
}
