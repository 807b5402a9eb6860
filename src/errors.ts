/**
 * The error catalogue. Every failure clusterkit reports is one of these classes, each with a
 * stable `code` users can branch on. Messages say what happened and what to do next; the
 * original error, when there is one, is kept as `cause`.
 *
 * `docs/errors.md` documents every code; a unit test keeps the table and this file in step.
 */
// `node:util/types`, not `node:util`: importing `node:util` loads its lazy parts too (parseArgs,
// MIME), which costs every worker's start (docs/performance.md).
import { isNativeError } from 'node:util/types';
import { capitalize } from './capitalize.js';
import { shellWord } from './shell-word.js';
import { closestName } from './cli/suggest.js';
import { kNoReloadClause } from './cli/watch/no-reload-clause.js';
import { formatBytes, formatBytesApart } from './format-bytes.js';
import { wholeMs } from './whole-ms.js';
import { describeError, isError, readProperty, toReadableError, unreadableField } from './readable-error.js';
import { reviveRemoteCause } from './messaging/remote-cause.js';
import { stackLocation } from './runner/error-location.js';
import { escapeControlChars } from './control/control-chars.js';
import { plural } from './plural.js';

/** Where a worker's exit is described in errors: its id, pid and how it ended. */
export interface ExitDescription {
  workerId: number;
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A hint as said at the end of a message: ` Hint: <advice>`, or nothing without one. The `hint`
 * property holds the advice alone; only the message marks it as a hint (H434).
 */
function hintSuffix(hint: string | undefined): string {
  return hint ? ` Hint: ${hint}` : '';
}

/** Base class of every clusterkit error. */
export abstract class ClusterKitError extends Error {
  /** Stable, documented identifier of the failure (for example `ERR_WORKER_EXITED`). */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An option passed to a constructor or method has the wrong type or value. */
export class InvalidOptionError extends ClusterKitError {
  override readonly name = 'InvalidOptionError';
  readonly code = 'ERR_INVALID_OPTION';

  constructor(
    /** Dotted path of the option, such as `restart.backoff.factor`. */
    readonly option: string,
    /** What the option accepts, as a phrase: `a positive integer`. */
    readonly expected: string,
    readonly received: unknown,
    /** `cause`: what reading the option threw (a getter, a Proxy trap); `isUnread`: so the value was never read, and is not shown. */
    options?: { cause?: unknown; isUnread?: boolean },
  ) {
    // Hostile t84 (wording): "Received undefined" for a value left out, and for one whose reading threw (never undefined).
    super(`The "${option}" option must be ${expected}.${options?.isUnread === true ? '' : ` ${receivedClause(received)}`}`, options && 'cause' in options ? { cause: options.cause } : undefined);
  }
}

/** A method argument is wrong (a message type that is not a string, an unknown worker...). */
export class InvalidArgumentError extends ClusterKitError {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'ERR_INVALID_ARGUMENT';
}

/** The object is not in a state that allows the call (starting twice, sending after stop...). */
export class InvalidStateError extends ClusterKitError {
  override readonly name = 'InvalidStateError';
  readonly code = 'ERR_INVALID_STATE';
}

const kNotAWorkerMessages = {
  none:
    'ClusterWorker.start() must run in a process forked by a ClusterPrimary, but this process is not a ' +
    'node:cluster worker. Start the primary script instead, and point its "workerScript" option at this file.',
  other:
    'ClusterWorker.start() must run in a process forked by a ClusterPrimary, but this node:cluster worker was ' +
    "forked by another primary (plain node:cluster, or PM2's cluster mode), which would never read its messages. " +
    "Start it from a ClusterPrimary (\"workerScript\"), with \"clusterkit run\", or under PM2 in fork mode (exec_mode: 'fork').",
  run:
    'ClusterWorker.start() was called in a script that "clusterkit run" runs: each of its workers already is a ClusterWorker, ' +
    'which loads the script, and a second one on the same channel would only half work. Either drop the ClusterWorker and run ' +
    'the script as a plain one (clusterkit run tracks its servers and stops it), or keep it and start it from a primary of ' +
    'your own: new ClusterPrimary({ workerScript: <this file> }).start() in a script run with node.',
} as const;

/**
 * `ClusterWorker.start()` was called in a process that was not forked by a clusterkit primary,
 * or in a script `clusterkit run` runs, whose bootstrap is the process's ClusterWorker already.
 */
export class NotAWorkerError extends ClusterKitError {
  override readonly name = 'NotAWorkerError';
  readonly code = 'ERR_NOT_A_WORKER';

  /**
   * `forkedBy`: `'none'`, the process is no node:cluster worker at all (run directly, or by
   * `child_process.fork()`); `'other'`, a node:cluster worker another primary forked (plain
   * node:cluster, PM2's cluster mode), which would report ready to a primary that cannot read it.
   */
  constructor(forkedBy: 'none' | 'other' | 'run' = 'none') {
    super(kNotAWorkerMessages[forkedBy]);
  }
}

/**
 * A payload cannot cross the IPC channel with the configured serialization. A store write's
 * value says so (H356): `Cannot store the value of "k": functions cannot be sent between
 * processes`, `Cannot store the value of "k", at value.list[1]: NaN becomes null ...`.
 */
export class NotSerializableError extends ClusterKitError {
  override readonly name = 'NotSerializableError';
  readonly code = 'ERR_NOT_SERIALIZABLE';
  /** The key of the store write whose value was refused (`store.set(key, value)`); undefined for a message. */
  readonly storeKey: string | undefined;

  constructor(
    /** Where in the payload the problem is, such as `payload.user.id` (`value.user.id` for a store write). */
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown; storeKey?: string },
  ) {
    super(notSerializableMessage(path, reason, options?.storeKey), options?.cause === undefined ? undefined : { cause: options.cause });
    this.storeKey = options?.storeKey;
  }
}

function notSerializableMessage(path: string, reason: string, storeKey: string | undefined): string {
  if (storeKey === undefined) return `Cannot send ${path}: ${reason}`;
  // The value itself (`value`, compareAndSet's `next`) or a field in it; compareAndSet's
  // `expected`, not stored, is named even whole (hostile t84 #7).
  const at = path === 'value' || path === 'next' ? '' : `, at ${path}`;
  return `Cannot store the value of ${describeValue(storeKey)}${at}: ${reason}`;
}

/**
 * A payload is larger than the `maxMessageBytes` option allows. `isReply` is true when it was a
 * handler's reply (the replying process's limit): the requester's call rejects with it (a user
 * request as a `RemoteError` whose `remoteCode` is `ERR_MESSAGE_TOO_LARGE`; a store call, such
 * as `entries()`, as this class). `isPrimaryLimit` is true when a worker's message or reply was
 * over the primary's `maxMessageBytes` (not above the worker's own): a worker sends the primary
 * no more than it reads, so raising the worker's option alone does not help.
 */
export class MessageTooLargeError extends ClusterKitError {
  override readonly name = 'MessageTooLargeError';
  readonly code = 'ERR_MESSAGE_TOO_LARGE';
  /** True when the value over the limit was a reply, not the message sent. */
  readonly isReply: boolean;
  /** True when the limit was the primary's `maxMessageBytes`, which bounds what a worker sends it. */
  readonly isPrimaryLimit: boolean;
  /** True when the limit was a worker's own `maxMessageBytes`, below the primary's. */
  readonly isWorkerLimit: boolean;
  /** With `isWorkerLimit`: the primary's `maxMessageBytes` when the payload is over it too (raise both); else undefined. */
  readonly primaryLimitBytes: number | undefined;
  /** How the size was counted when that is not plain (a sparse array's holes), as the message says it in parentheses; else undefined. */
  readonly why: string | undefined;

  constructor(
    readonly messageType: string,
    readonly estimatedBytes: number,
    readonly limitBytes: number,
    options?: { isReply?: boolean; cause?: unknown; why?: string } & LimitOwner,
  ) {
    const isReply = options?.isReply === true;
    const isPrimaryLimit = options?.isPrimaryLimit === true;
    const isWorkerLimit = !isPrimaryLimit && options?.isWorkerLimit === true;
    const primaryLimitBytes = isWorkerLimit ? options?.primaryLimitBytes : undefined;
    const why = options?.why === undefined ? '' : ` (${options.why})`;
    const [estimatedText, limitText] = formatBytesApart(estimatedBytes, limitBytes);
    // In a worker, whose limit it met: the worker's own option may be higher than the primary's,
    // or lower with the payload over both (retest t68b, hostile t69: users raised the wrong one).
    const both = primaryLimitBytes === undefined ? '' : `; the primary's, ${formatBytesApart(primaryLimitBytes, estimatedBytes)[0]}, is under it too: raise both`;
    const owner = isPrimaryLimit
      ? ` of the primary, which reads no larger ${isReply ? 'reply' : 'message'} from a worker: raising the worker's own alone does not help`
      : isWorkerLimit
        ? ` of this worker${both}`
        : isReply
          ? ' of the replying process'
          : '';
    super(
      `${isReply ? 'The reply to' : 'The payload of'} "${messageType}" is about ${estimatedText}${why}, over the ${limitText} ` +
        `limit (option "maxMessageBytes"${owner}). Large payloads block both event loops while they are copied; ` +
        // A narrower prefix is advice for store.entries() alone (retest t69b: every handler's reply had it).
        `${isReply ? 'reply with' : 'pass'} a file path or shared storage key instead${isReply && messageType.startsWith('store.entries(') ? ' (or ask for less: a narrower store prefix)' : ''}, or raise the limit.`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.isReply = isReply;
    this.isPrimaryLimit = isPrimaryLimit;
    this.isWorkerLimit = isWorkerLimit;
    this.primaryLimitBytes = primaryLimitBytes;
    this.why = options?.why;
  }

  /** Whose limit it met, as the constructor takes it: for a copy under another type or cause. */
  limitOwner(): LimitOwner {
    return { isPrimaryLimit: this.isPrimaryLimit, isWorkerLimit: this.isWorkerLimit, ...(this.primaryLimitBytes === undefined ? {} : { primaryLimitBytes: this.primaryLimitBytes }) };
  }
}

/** In a worker, whose `maxMessageBytes` a `MessageTooLargeError` met (see its fields). */
export interface LimitOwner {
  isPrimaryLimit?: boolean;
  isWorkerLimit?: boolean;
  primaryLimitBytes?: number;
}

/**
 * A shared-store write (`set`, `compareAndSet`, `increment` of a new key) would take the store
 * past its budget: `maxStoreBytes` (the keys and values, sized as `maxMessageBytes` sizes a
 * payload, plus what each entry costs the primary's heap besides) or `maxStoreKeys`. Nothing was written. In a worker, its `store` call rejects with it.
 */
export class StoreFullError extends ClusterKitError {
  override readonly name = 'StoreFullError';
  readonly code = 'ERR_STORE_FULL';

  constructor(
    /** The key whose write was refused. */
    readonly key: string,
    /** The budget the write would pass. */
    readonly option: 'maxStoreBytes' | 'maxStoreKeys',
    /** That budget: bytes for `maxStoreBytes`, keys for `maxStoreKeys`. */
    readonly limit: number,
    /** Bytes the store held before the write (every key and value, and each entry's overhead). */
    readonly usedBytes: number,
    /** Keys the store held before the write. */
    readonly keyCount: number,
    /** Bytes the key and its new value would take, the entry's overhead included. */
    readonly writeBytes: number,
    options?: { cause?: unknown },
  ) {
    const [limitText, usedText] = formatBytesApart(limit, usedBytes);
    const what = option === 'maxStoreKeys' ? plural(limit, 'key') : limitText;
    super(
      `The shared store is full: storing ${describeValue(key)} (about ${formatBytes(writeBytes)} with its key) would take it past ` +
        `its limit of ${what} (option "${option}"); it holds ${option === 'maxStoreKeys' ? formatBytes(usedBytes) : usedText} in ${plural(keyCount, 'key')}. Nothing was stored. ` +
        `Delete keys that are no longer needed (store.delete()), or raise the primary's "${option}" option.`,
      options,
    );
  }
}

/**
 * A worker asked to watch one more shared-store key than one worker may: at most
 * `maxStoreWatchesPerWorker` keys, and `maxStoreBytes` bytes counted as the store counts its
 * entries (each key's length plus what a watch costs the primary's heap), so a worker watching
 * keys without end cannot exhaust the primary's memory. Nothing changed: the worker's other
 * watches stay.
 */
export class StoreWatchLimitError extends ClusterKitError {
  override readonly name = 'StoreWatchLimitError';
  readonly code = 'ERR_STORE_WATCH_LIMIT';

  constructor(
    /** The key whose watch was refused. */
    readonly key: string,
    /** The limit the watch would pass: a count of keys, or bytes. */
    readonly option: 'maxStoreBytes' | 'maxStoreWatchesPerWorker',
    /** That limit: keys for `maxStoreWatchesPerWorker`, bytes for `maxStoreBytes`. */
    readonly limit: number,
    /** Keys the worker watched before. */
    readonly watchedKeys: number,
    /** Bytes the worker's watches counted before (their keys' lengths, plus each watch's overhead). */
    readonly watchedBytes: number,
    options?: { cause?: unknown },
  ) {
    const what = option === 'maxStoreWatchesPerWorker' ? plural(limit, 'key') : `${formatBytes(limit)} of watches`;
    super(
      `Watching ${describeValue(key)} was refused: this worker already watches ${plural(watchedKeys, 'key')} (counted as ${formatBytes(watchedBytes)} of the primary's memory), ` +
        `and one worker may watch at most ${what} (option "${option}" of the primary). Its other watches are unchanged. ` +
        'Stop watches it no longer needs (call the function watch() returned), or raise the option.',
      options,
    );
  }
}

/**
 * A worker's `store.watch()` callback threw, or returned a promise that rejected, as it was told
 * of a change of `key`. Nobody waits for a callback's outcome, so it is reported as a throwing
 * notification handler is: on the worker's 'error' event when something listens, else said as a
 * process warning (`CLUSTERKIT_HANDLER_THREW`); the worker goes on. The key's other callbacks
 * were told of the change all the same, and this one is told of the next. `cause` is what was
 * thrown, as it was thrown.
 */
export class StoreWatcherError extends ClusterKitError {
  override readonly name = 'StoreWatcherError';
  readonly code = 'ERR_STORE_WATCHER_FAILED';

  constructor(
    /** The watched key whose change the callback was told of. */
    readonly key: string,
    /** Whether the callback returned a promise that rejected (`false`: it threw). */
    readonly isRejection: boolean,
    options: { cause: unknown },
  ) {
    super(
      `A watch() callback of store key ${describeValue(key)} ${isRejection ? 'rejected' : 'threw'}: ${describeError(options.cause)}. The worker goes on: the key's other watch() callbacks were told of the change, and this one is told of the next. ` +
        'Catch in the callback, or listen for \'error\' on the worker to handle it.',
      options,
    );
  }
}

/**
 * A notification's `_onMessage_<type>` handler threw, or returned a promise that rejected
 * (`isRejection`); `cause` is what was thrown. Nobody waits for a notification's outcome, so it is
 * never thrown on: it is heard on the receiver's `'error'` event, or, when nothing listens, said
 * as a `CLUSTERKIT_HANDLER_THREW` warning (at most 10 every 10 s). The receiver goes on.
 */
export class NotificationHandlerError extends ClusterKitError {
  override readonly name = 'NotificationHandlerError';
  readonly code = 'ERR_NOTIFICATION_HANDLER_FAILED';

  constructor(
    /** The notification's type. */
    readonly messageType: string,
    /** Who sent it: `worker 2 (pid 4242)` on the primary, `the primary` on a worker. */
    readonly sender: string,
    /** Whether the handler returned a promise that rejected (`false`: it threw). */
    readonly isRejection: boolean,
    /** On the primary: the id of the worker that sent it; undefined on a worker. */
    readonly workerId: number | undefined,
    options: { cause: unknown },
  ) {
    super(
      `The handler of notification "${messageType}" from ${sender} ${isRejection ? 'rejected' : 'threw'}: ${describeError(options.cause)}. Nobody waits for a notification's outcome, so it is not thrown on, and the ` +
        `${sender === 'the primary' ? 'worker' : 'primary'} goes on: catch in the handler, or listen for 'error' on the ${sender === 'the primary' ? 'worker' : 'primary'} to handle it.`,
      options,
    );
  }
}

/**
 * A method of the `logger` option threw, or returned a promise that rejected (`isRejection`), as
 * clusterkit wrote one of its lines through it; `method` says which, `cause` is what was thrown.
 * The line is lost, nothing else: the primary goes on supervising (hostile t83 #5: a `warn()` that
 * threw ended the primary, blaming a listener of "workerExit" the user never added). Said once per
 * logger, never through the logger itself: on the primary's 'error' event when something listens,
 * else as a process warning; in a worker of the service runner, a process warning of the worker.
 */
export class LoggerError extends ClusterKitError {
  override readonly name = 'LoggerError';
  readonly code = 'ERR_LOGGER_FAILED';

  constructor(
    /** The logger's method that failed. */
    readonly method: 'debug' | 'info' | 'warn' | 'error',
    /** Whether it returned a promise that rejected (`false`: it threw). */
    readonly isRejection: boolean,
    options: { cause: unknown },
  ) {
    super(
      `The ${method}() method of the "logger" option ${isRejection ? 'returned a promise that rejected' : 'threw'}: ${describeError(options.cause)}. The line it was given is lost; nothing else is, and later failures of this logger are not said again. ` +
        "Make the logger's methods never throw or reject: a sink that can fail (a closed stream, a full disk) should drop or buffer the line.",
      options,
    );
  }
}

/** No reply arrived within the request's timeout. The request's pending entry is freed. */
export class MessageTimeoutError extends ClusterKitError {
  override readonly name = 'MessageTimeoutError';
  readonly code = 'ERR_MESSAGE_TIMEOUT';

  constructor(
    readonly messageType: string,
    readonly timeoutMs: number,
    /** Who was asked, such as `worker 3 (pid 4242)` or `the primary`. */
    readonly peer: string,
    /**
     * Set when the request was never sent: how many requests to the same peer were ahead of it
     * (awaiting replies, or queued before it) when its time ran out. Undefined when it was sent.
     */
    readonly queuedBehind?: number,
    /**
     * For one sent after waiting for admission (`backpressure: 'wait'`): how long (ms) of
     * `timeoutMs` it waited, queued behind earlier requests, before it was written. Only when
     * that was a tenth of its time or more; undefined otherwise, and for one never sent.
     */
    queuedMs?: number,
    /**
     * For a `sendTo()` whose own timer ended before any answer of the primary that relays it
     * (a busy primary): whether the target ever got it is not known, and the message says so
     * rather than blame the target's handler (retest t68 #3). Undefined otherwise.
     */
    relayUnanswered?: { readonly waitedMs: number },
  ) {
    super(
      relayUnanswered !== undefined && queuedBehind === undefined
        ? `No answer came from the primary within ${wholeMs(relayUnanswered.waitedMs)} ms about "${messageType}", which it relays to ${peer.replace(/ \(through the primary\)$/, '')} with a timeout of ${wholeMs(timeoutMs)} ms: ` +
            'the primary was too busy to answer in time, so whether the target got it, or replied, is not known. ' +
            'Send fewer sendTo() at once (await them in batches), or raise "timeoutMs"; retry it only if running it twice is safe.'
        : queuedBehind === undefined && queuedMs !== undefined
        ? `${capitalize(peer)} did not reply to "${messageType}" within ${wholeMs(timeoutMs)} ms, ${wholeMs(queuedMs)} ms of which it waited, queued behind earlier requests to it ` +
            '(the limit is "maxPending" on a worker, "maxPendingPerWorker" on the primary), before it was sent. The handler may be slow or its event loop blocked; ' +
            'await earlier replies before sending more, or raise "timeoutMs"; a late reply will be ignored.'
        : queuedBehind === undefined
        ? `${capitalize(peer)} did not reply to "${messageType}" within ${wholeMs(timeoutMs)} ms. The handler may be slow or ` +
            'its event loop blocked; raise "timeoutMs" for slow work, and a late reply will be ignored.'
        : queuedBehind === 0
          ? // None ahead of it at its turn: they timed out first, the channel's bytes held it (a backlog of earlier messages), or a relay reached the primary late.
            `"${messageType}" was never sent to ${peer}: its ${wholeMs(timeoutMs)} ms were (nearly) spent before it could be written (it waited for earlier requests to it to be answered or to time out, for room in a channel full of earlier messages' bytes, or, for sendTo(), in the sender's own queue or on a busy primary). ` +
            'Await earlier replies before sending more, or raise "timeoutMs".'
          : // Those ahead of it: awaiting replies, or queued before it (retest t68 #7: counts above a sender's share said "that await replies").
            `"${messageType}" was never sent to ${peer}: its ${wholeMs(timeoutMs)} ms were (nearly) spent while it was queued behind ${queuedBehind} ` +
            `earlier ${queuedBehind === 1 ? 'request' : 'requests'} to it (awaiting replies, or queued before it) (the limit is "maxPending" on a worker, "maxPendingPerWorker" on the primary, ` +
            "and for sendTo() one sender's share of its target). Await earlier replies before sending more, or raise the limit.",
    );
    if (queuedBehind === undefined && queuedMs !== undefined) this.queuedMs = queuedMs;
    if (relayUnanswered !== undefined && queuedBehind === undefined) this.isRelayUnanswered = true;
  }

  /** True for a `sendTo()` that timed out with no answer from the primary: whether the target got it is not known (see the constructor's `relayUnanswered`). */
  declare readonly isRelayUnanswered?: true;

  /** See the constructor's `queuedMs`. */
  declare readonly queuedMs?: number;
}

/** The plain-object form of an error, as it crosses IPC. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string | undefined;
  stack?: string | undefined;
  /** The error's other own enumerable fields, when they are JSON-safe. */
  data?: Record<string, unknown> | undefined;
  /** The error's `cause`, flattened the same way, down its chain (at most 8 causes deep). */
  cause?: SerializedCause | undefined;
}

/**
 * A `cause` as it crosses IPC: an Error flattened, or any other value as `{ value }` (a string,
 * a finite number, a boolean or null as itself; an object as a JSON copy; else described).
 */
export type SerializedCause = SerializedError | { value: unknown };

/**
 * The remote handler threw or rejected; the remote error's fields are kept.
 *
 * `cause` is the remote error's own `cause`, revived: a plain `Error` (not a `RemoteError`, not
 * the remote class: check `cause.name`, `cause.code`) with the remote `name`, `message`,
 * `code`, `stack` and other JSON-safe own fields (each up to 1 KiB of JSON), whose own `cause`
 * is the next one down, at most 8 causes deep; a cause that was not an Error is the value
 * itself (a string, a number, a JSON copy of an object). Undefined when the remote error had
 * none. A `RemoteError` that clusterkit reports with a message of its own (`_init`,
 * `_destroy`) has the same `cause`.
 */
export class RemoteError extends ClusterKitError {
  override readonly name = 'RemoteError';
  readonly code = 'ERR_REMOTE';
  /** `name` of the error thrown on the other side (`TypeError`, `ValidationError`...). */
  readonly remoteName: string;
  /** `message` of the error thrown on the other side. */
  readonly remoteMessage: string;
  /** `code` of the error thrown on the other side, if it had one. */
  readonly remoteCode: string | undefined;
  /** Stack of the error thrown on the other side, with its file paths. */
  readonly remoteStack: string | undefined;
  /** Other own fields of the remote error (JSON-safe ones only). */
  readonly data: Record<string, unknown> | undefined;

  constructor(
    readonly messageType: string,
    readonly peer: string,
    remote: SerializedError,
    /** The message, when the default (`Handler for "type" in peer failed: ...`) does not fit, as for a hook. */
    message?: string,
    /** `cause`, when it is revived already (a relayed RemoteError's); else `remote.cause` is revived. */
    options?: { cause?: unknown },
  ) {
    const cause = options && 'cause' in options ? options.cause : reviveRemoteCause(remote.cause);
    super(message ?? `Handler for "${messageType}" in ${peer} failed: ${remote.name}: ${remote.message}`, cause === undefined ? undefined : { cause });
    this.remoteName = remote.name;
    this.remoteMessage = remote.message;
    this.remoteCode = remote.code;
    this.remoteStack = remote.stack;
    this.data = remote.data;
  }
}

/**
 * The receiver has no `_onMessage_<type>` method, and no event listener answered the message.
 * Rejects the sender's request; for a notification (no sender waits), the receiver reports it
 * as a warning when it has a handler within 2 edits of the type (`dropped` is then set).
 */
export class NoHandlerError extends ClusterKitError {
  override readonly name = 'NoHandlerError';
  readonly code = 'ERR_NO_HANDLER';

  /**
   * The type of a handler the receiver does define that is within 2 edits of `messageType`
   * (`pign` for `ping`): most likely a misspelling on one side. Absent when it has none.
   */
  declare readonly nearMiss?: string;
  /**
   * For notifications of `messageType` the receiver dropped (no sender waits to be told): how
   * many since the last report, from whom, and the window (ms) the later ones were counted in.
   * `types`: the drops were of this many distinct types, past the first 32 of the window, told
   * together (`messageType` and `nearMiss` the first of them; at most 1,024 types counted).
   */
  declare readonly dropped?: { readonly count: number; readonly sender: string; readonly windowMs: number; readonly types?: number };

  constructor(
    readonly messageType: string,
    readonly peer: string,
    nearMiss?: string,
    dropped?: { readonly count: number; readonly sender: string; readonly windowMs: number; readonly types?: number },
  ) {
    super(
      dropped?.types !== undefined && dropped.types > 1
        ? `${capitalize(peer)} has no handler for notification "${messageType}" nor for ${dropped.types >= 1_024 ? 'at least ' : ''}${dropped.types - 1} other types from ${dropped.sender}, ` +
            `each within 2 edits of one of its handlers${nearMiss === undefined ? '' : ` (such as "_onMessage_${nearMiss}")`}, so ${dropped.count} of them were dropped in the last ${formatWindow(dropped.windowMs)} ` +
            `(past the 32 types named one by one in a window, the others are counted together). If names are misspelt, check the types ${dropped.sender} notifies against the "_onMessage_" methods of ${peer}.`
        : dropped !== undefined
        ? `${capitalize(peer)} has no handler for notification "${messageType}" from ${dropped.sender}` +
            `${nearMiss === undefined ? '' : `, but it has "_onMessage_${nearMiss}"`}, so ` +
            `${dropped.count === 1 ? 'it was dropped' : `${dropped.count} of them were dropped in the last ${formatWindow(dropped.windowMs)} (said once a window)`}. ` +
            (nearMiss === undefined
              ? `Add a method named "_onMessage_${messageType}" to its class.`
              : `If one of the two names is misspelt, rename the method "_onMessage_${messageType}" or notify "${nearMiss}".`)
        : nearMiss === undefined
        ? `${capitalize(peer)} has no handler for "${messageType}". Add a method named "_onMessage_${messageType}" ` +
            'to its class, or answer it from a message listener with respondWith().'
        : `${capitalize(peer)} has no handler for "${messageType}", but it has "_onMessage_${nearMiss}": if one of the two ` +
            `names is misspelt, rename the method "_onMessage_${messageType}" or send "${nearMiss}".`,
    );
    if (nearMiss !== undefined) this.nearMiss = nearMiss;
    if (dropped !== undefined) this.dropped = dropped;
  }
}

/** `10 s`, `500 ms`: a report window. */
function formatWindow(ms: number): string {
  return ms >= 1_000 && ms % 1_000 === 0 ? `${ms / 1_000} s` : `${ms} ms`;
}

/**
 * A worker's metrics could not be taken into a scrape (`primary.metrics()`, `/metrics`): its
 * registry threw or rejected (`reason: 'threw'`, `cause` the worker's error as a `RemoteError`).
 * Its series are left out of that scrape, as `clusterkit_worker_scrape_errors_total` counts; said
 * once per worker (hostile t67, H666: a collector that threw dropped all of a worker's series
 * without a word). A worker that does not answer in time is only counted, never told with this.
 */
export class MetricsScrapeError extends ClusterKitError {
  override readonly name = 'MetricsScrapeError';
  readonly code = 'ERR_METRICS_SCRAPE';

  constructor(
    /** The worker, as `worker 2 (pid 4242)`. */
    readonly worker: string,
    readonly reason: 'threw',
    /** The scrape's timeout (ms). */
    readonly timeoutMs: number,
    options: { cause?: unknown } = {},
  ) {
    const cause = options.cause as { remoteName?: unknown; remoteMessage?: unknown } | undefined;
    const thrown = typeof cause?.remoteName === 'string' && typeof cause.remoteMessage === 'string' ? `${cause.remoteName}: ${cause.remoteMessage}` : describeValue(cause);
    super(
      `${capitalize(worker)} could not give its metrics: its registry's getMetricsAsJSON() threw ${thrown.slice(0, 512)}. Its series are left out of each scrape it fails (clusterkit_worker_scrape_errors_total counts them); fix the collector that throws (a custom metric's collect() or get()), then reload.`,
      options,
    );
  }
}


/** The worker died or was stopped before it replied (rejected at its exit, not at the timeout). */
export class WorkerExitedError extends ClusterKitError {
  override readonly name = 'WorkerExitedError';
  readonly code = 'ERR_WORKER_EXITED';
  readonly workerId: number;
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** How it ended, as the message says it after "Worker 3 (pid 42)": `exited with code 1`, `was killed by SIGKILL from outside clusterkit (...)`. */
  readonly how: string;
  /** The signal from outside clusterkit that ended it, when that is how it ended (H275). */
  readonly outsideSignal: NodeJS.Signals | undefined;
  /**
   * Set when the request was never sent to the worker (it waited in the primary's queue, under
   * `maxPendingPerWorker`, when the worker exited): how many requests to it awaited replies
   * ahead of it. It did not run: a retry cannot run it twice (as `MessageTimeoutError.queuedBehind`).
   * Undefined when it was sent: it may have run.
   */
  readonly queuedBehind: number | undefined;

  constructor(
    exit: ExitDescription,
    /** What was lost, such as `before it replied to "greet"`. */
    readonly context: string,
    options?: {
      cause?: unknown;
      advice?: string;
      /** How it ended, after "Worker 3 (pid 42)", when clusterkit knows more than the exit: a kill or a stop signal from outside clusterkit (H275). */
      how?: string;
      /** The signal from outside clusterkit that ended it (see `WorkerStartupError.outsideSignal`). */
      outsideSignal?: NodeJS.Signals;
      /** Set for a request that was never sent to it (see the field). */
      queuedBehind?: number;
    },
  ) {
    const how = options?.how ?? describeExit(exit.exitCode, exit.signal, exit.pid);
    super(
      `Worker ${exit.workerId} (pid ${exit.pid ?? 'none'}) ${how} ${context}. ` +
        (options?.advice ??
          (options?.queuedBehind === undefined ? 'The request was not answered; retry it on another worker if it is safe to repeat.' : 'It did not run there: retry it on another worker.')),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.how = how;
    this.outsideSignal = options?.outsideSignal;
    this.queuedBehind = options?.queuedBehind;
    this.workerId = exit.workerId;
    this.pid = exit.pid;
    this.exitCode = exit.exitCode;
    this.signal = exit.signal;
  }
}

/** The worker lost its IPC channel to the primary (the primary exited or disconnected it). */
export class PrimaryDisconnectedError extends ClusterKitError {
  override readonly name = 'PrimaryDisconnectedError';
  readonly code = 'ERR_PRIMARY_DISCONNECTED';

  constructor(context: string, options?: { cause?: unknown }) {
    super(
      `The IPC channel to the primary is closed ${context}. This worker is shutting down; ` +
        'the primary starts a replacement if it is still running.',
      options,
    );
  }
}

/** No ready worker matches (round-robin with none ready, an unknown id or name). */
export class NoWorkerAvailableError extends ClusterKitError {
  override readonly name = 'NoWorkerAvailableError';
  readonly code = 'ERR_NO_WORKER_AVAILABLE';
}

/**
 * A worker could not start: spawn failure (a missing `cwd`, an environment too large for the
 * operating system...), `_init` threw, exit before ready, ready timeout, or Node refused its
 * options (`bad-node-option`: exit code 9 before any JavaScript ran; no restart helps, H253).
 */
export class WorkerStartupError extends ClusterKitError {
  override readonly name = 'WorkerStartupError';
  readonly code = 'ERR_WORKER_STARTUP';

  constructor(
    /** Undefined when the operating system refused to create the process at all (`E2BIG`): no worker got an id. */
    readonly workerId: number | undefined,
    readonly reason: 'spawn-failed' | 'init-failed' | 'exited' | 'ready-timeout' | 'bad-node-option',
    message: string,
    /** `hint`: what to change, the advice alone; the message ends with ` Hint: <hint>` (a TypeScript script without a loader). */
    options?: { cause?: unknown; outsideSignal?: NodeJS.Signals; hint?: string | undefined; isKilledByPrimary?: boolean },
  ) {
    super(`${message}${hintSuffix(options?.hint)}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.outsideSignal = options?.outsideSignal;
    this.hint = options?.hint;
    this.isKilledByPrimary = options?.isKilledByPrimary === true;
  }

  /**
   * Set when the primary itself killed it, for the reason the message says (its IPC channel
   * carried what the primary cannot read...): its output need not show an error (H510).
   */
  readonly isKilledByPrimary: boolean;

  /**
   * What to change, when clusterkit can tell: a TypeScript worker script with no loader in the
   * workers' Node options. The advice alone, without a `Hint:` label (the message ends with
   * ` Hint: ` and it). Undefined otherwise.
   */
  readonly hint: string | undefined;

  /**
   * The signal from outside clusterkit that ended it (a kill, or a stop signal it exited on),
   * when that is how it ended: its script is not to blame, and a crash-loop line that quotes
   * it advises finding the sender, not fixing the script (H266, H273).
   */
  readonly outsideSignal: NodeJS.Signals | undefined;
}

/**
 * A warning, once per worker: its process exited, but its IPC channel was still open
 * `afterMs` later: another process holds the worker's end (one it started in a session of its
 * own that inherited the channel's descriptor). The primary closed its own end: nothing more is
 * read from it, and node:cluster hands it no more connections. `workerId`, `pid` (the worker's).
 */
export class ChannelHeldError extends ClusterKitError {
  override readonly name = 'ChannelHeldError';
  readonly code = 'ERR_CHANNEL_HELD';

  constructor(
    readonly workerId: number,
    readonly pid: number | undefined,
    readonly afterMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A worker of a slot whose last worker listened said it was ready but did not listen within the
 * ready timeout (H227): counted ready anyway, told once as a warning (a restart waits for its
 * listen only because its slot listened before; `waitListen` makes a missing listen a failed start).
 */
export class NotListenedError extends ClusterKitError {
  override readonly name = 'NotListenedError';
  readonly code = 'ERR_NOT_LISTENED';

  constructor(
    readonly workerId: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A worker listened only after it was counted ready (its script listens after its top-level
 * code, or its `_init()` ended before its listen): told once per primary, as a warning. Ready
 * counts, `/readyz` and status counted it ready while its port refused connections.
 */
export class ListenedAfterReadyError extends ClusterKitError {
  override readonly name = 'ListenedAfterReadyError';
  readonly code = 'ERR_LISTENED_AFTER_READY';

  constructor(
    readonly workerId: number,
    /** How long after it was counted ready it listened, in ms. */
    readonly lateMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Why a worker slot gave up (see `CrashLoopError`). `memory-limit` is no longer emitted: a worker
 * over `maxMemoryMb` is replaced every time (H152); kept for compatibility.
 */
export type CrashLoopReason = 'startup-failures' | 'too-many-restarts' | 'memory-limit';

/** What a memory-limit loop measured: the limit, and the RSS of the last worker over it. Kept for compatibility: clusterkit no longer gives a slot up for memory. */
export interface MemoryLoopDetail {
  readonly limitBytes: number;
  readonly rssBytes: number;
}

/**
 * A worker slot failed too often in a row (it could not start, or it crashed or exited on its
 * own too often); it is no longer restarted. (Reason `memory-limit` is no longer emitted: a
 * worker over the memory limit is replaced every time.)
 */
export class CrashLoopError extends ClusterKitError {
  override readonly name = 'CrashLoopError';
  readonly code = 'ERR_CRASH_LOOP';
  readonly reason: CrashLoopReason;
  /** What to change, when clusterkit can tell (a TypeScript script without a loader). */
  readonly hint: string | undefined;

  constructor(
    readonly slot: number,
    readonly failures: number,
    options?: {
      cause?: unknown;
      reason?: CrashLoopReason;
      /** What to change, the advice alone (a missing TypeScript loader...): the message ends with ` Hint: <hint>`. */
      hint?: string | undefined;
      /** For `reason: 'too-many-restarts'`: the window (ms) of `restart.maxRestarts`, said in the message. */
      windowMs?: number;
      /** For `reason: 'memory-limit'`, which clusterkit no longer emits (kept for compatibility). */
      memory?: MemoryLoopDetail;
      /**
       * Slots still running after this one is retired: none, and the service is down (the
       * runner and `clusterkit run` exit), so only a new start helps; some, and a reload with
       * the fix restores the slot while the others serve (H259). Unknown: both.
       */
      remainingSlots?: number;
      /**
       * Slots among `remainingSlots` whose worker is ready (serving): with none, the advice does
       * not say the others keep serving. Unknown: taken as `remainingSlots`.
       */
      servingSlots?: number;
      /**
       * The slot is one of the initial start's and never had a ready worker: its giving up fails
       * the start, which stops every worker, so the advice does not say the others keep serving.
       */
      failsStart?: boolean;
      /** For `reason: 'too-many-restarts'`: how many of `failures` were exits with code 0 (no crash), said as such. */
      cleanExits?: number;
    },
  ) {
    const hint = hintSuffix(options?.hint);
    const memory = options?.memory;
    const advice = restoreAdvice(options?.remainingSlots, options?.servingSlots, options?.failsStart);
    super(
      memory
        ? `Worker slot ${slot} went over the memory limit (${formatBytes(memory.limitBytes)}; RSS ${formatBytes(memory.rssBytes)}) ${failures} times ` +
            'in a row soon after starting, so it is no longer replaced: the limit is below what the worker needs, or it leaks memory from ' +
            `the start. Raise the limit (maxMemoryMb; clusterkit run: --max-memory) or fix the leak, then ${advice}.`
        : options?.reason === 'too-many-restarts'
          ? `Worker slot ${slot} ${describeEndings(failures, options.cleanExits ?? 0)} within ${describeWindow(options.windowMs)} (restart.maxRestarts), so it is no longer restarted. ` +
            `${lastFailure(isCleanExit(options.cause) ? 'Last exit' : 'Last crash', options.cause, advice)}${hint}`
          : `Worker slot ${slot} could not start${failures === 1 ? ', and one failed start is its limit' : ` ${failures} times in a row`}, so it is no longer restarted. ${lastFailure('Last failure', options?.cause, advice)}${hint}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.reason = options?.reason ?? (memory ? 'memory-limit' : 'startup-failures');
    this.hint = options?.hint;
  }
}

/** The call is refused because the primary or worker is shutting down. */
export class ShutdownInProgressError extends ClusterKitError {
  override readonly name = 'ShutdownInProgressError';
  readonly code = 'ERR_SHUTDOWN_IN_PROGRESS';
}

/**
 * Too many requests are waiting for replies from one peer (see `maxPendingPerWorker`), or too
 * many bytes wait to be written to it (the peer reads slower than it is sent to). With `held`
 * set: the primary already holds `limit` requests of this worker (messages relayed with
 * `sendTo()` that wait for their target), its `maxPendingPerWorker`, and refused one more of type `held`.
 */
export class BackpressureError extends ClusterKitError {
  override readonly name = 'BackpressureError';
  readonly code = 'ERR_BACKPRESSURE';

  constructor(
    readonly peer: string,
    readonly limit: number,
    /** Set when the bytes waiting to be written, not the pending requests, hit the limit. */
    readonly queuedBytes?: number,
    /**
     * The option that set `limit` on the side that raised the error: `maxPendingPerWorker`
     * (`ClusterPrimary`) or `maxPending` (`ClusterWorker`).
     */
    readonly option: 'maxPendingPerWorker' | 'maxPending' = 'maxPendingPerWorker',
    /**
     * Set when the primary refused a worker's request because it already holds `limit` of that
     * worker's requests (`peer` is the worker): the refused request's system type, `$relay` for `sendTo()`.
     */
    readonly held?: string,
  ) {
    super(
      held === '$sync'
        ? `${capitalize(peer)} already has ${limit} "$sync" requests held by the primary on its behalf, more than a stop sends (one at a time), so this one was refused. ` +
            'clusterkit sends no more: code in the worker writes to its IPC channel directly (process.send).'
        : held !== undefined
        ? `${capitalize(peer)} already has ${plural(limit, 'request')} held by the primary on its behalf (${held === '$relay' ? 'messages sent with sendTo() that wait for their target\'s reply or for room at a busy target' : 'requests the primary has not answered yet'}), ` +
            `the most the primary holds for one worker (its option "${option}"), so this ${held === '$relay' ? 'sendTo()' : JSON.stringify(held)} was refused. ` +
            'Await earlier replies before sending more, and keep the worker\'s "maxPending" no higher than the primary\'s "maxPendingPerWorker".'
        : queuedBytes === undefined
        ? `${capitalize(peer)} already has ${plural(limit, 'request')} waiting for replies (option "${option}"). ` +
            'Await earlier replies before sending more, or set "backpressure" to "wait" to queue instead of failing.'
        : `${formatBytes(queuedBytes)} are already waiting to be written to ${peer}, which reads slower than it is sent to. ` +
            'Slow down: await replies, or yield to the event loop between bursts of notifications.',
    );
  }
}

/**
 * What was wrong with a message clusterkit dropped:
 * - `malformed-frame`: an IPC message with the clusterkit marker that is not a well-formed frame;
 * - `malformed-record`: a record whose kind, id or type is invalid;
 * - `forged-reply`: a reply (or error reply) to a request id that was never issued;
 * - `duplicate-reply`: a second reply to a request already answered (code of the worker's own
 *   answered clusterkit's `$ping` before clusterkit did, H382); the type is the request's;
 * - `forged-listen`: node:cluster's `listening` message for an address the worker never asked
 *   the primary to listen on (no `queryServer` for it): not counted as a listen (H383);
 * - `unknown-type`: a system (`$`) notification of a type nobody handles;
 * - `wrong-direction`: a system type only the receiving side sends (a worker sending `$ping`
 *   or `$shutdown`, a primary sending `$ready`);
 * - `wrong-kind`: a system type sent as a notification where a request belongs, or the reverse;
 * - `bad-payload`: a system message whose payload fails its check (shape, types, sizes);
 * - `unexpected`: a well-formed system message the peer's state rules out (`$initError` from a
 *   worker that is already ready);
 * - `bad-reply`: the reply to one of clusterkit's own requests (`$ping`, `$metrics`) fails its check;
 * - `duplicate-id`: a request with the id of one of the sender's requests the receiver still holds
 *   (a `$relay` whose target has not answered yet): clusterkit never reuses an id it waits on;
 * - `unexpected-handle`: a message that carried a handle (a socket, a server: `process.send(message,
 *   socket)`); no message from a worker to the primary carries one, so it is closed at once (each
 *   is an open file descriptor in the primary). The message itself is still delivered;
 * - `out-of-range`: a figure beyond what the primary knows or the machine allows: a `$requestsCut`
 *   claiming more requests than the worker ever reported open in its stop (counted as known), an
 *   open-request count above `kMaxOpenRequests` in any notice (dropped), a heartbeat figure no
 *   process can have, such as more RSS than the machine's memory (left unknown);
 * - `too-many-requests`: a request beyond the ones the primary holds for one worker at once
 *   (`maxPendingPerWorker`); unlike the others it is not dropped but refused at once with
 *   `BackpressureError`, and it comes from clusterkit itself when the worker's `maxPending` is larger;
 * - `misnamed-series`: a metrics answer with samples not named as their own metric (a value's
 *   `metricName` naming one of clusterkit's series or another metric's), a metric named as
 *   one of clusterkit's families or as a series of another worker's histogram or summary (a gauge
 *   `a_count` beside a histogram `a`), or a metric typed otherwise than most workers type its name:
 *   those are left out of the exposition, the rest of the answer is merged; `detail` names them.
 *   It comes from the worker's registry (prom-client's public `registerMetric()` is enough), not
 *   necessarily from code that writes to the IPC channel;
 * - `bad-metrics`: a metrics answer the merge cannot take (a label name, metric name, type,
 *   aggregator or value that is not what prom-client's `getMetricsAsJSON()` gives): the whole
 *   answer is left out of that scrape; `detail` names the metric and the field. It comes from the
 *   worker's registry too (a `registerMetric()` with a `get()` of its own, a custom `metricsRegistry`).
 */
export type ProtocolProblem =
  | 'malformed-frame'
  | 'malformed-record'
  | 'forged-reply'
  | 'duplicate-reply'
  | 'forged-listen'
  | 'unknown-type'
  | 'wrong-direction'
  | 'wrong-kind'
  | 'bad-payload'
  | 'unexpected'
  | 'bad-reply'
  | 'duplicate-id'
  | 'unexpected-handle'
  | 'out-of-range'
  | 'too-many-requests'
  | 'misnamed-series'
  | 'bad-metrics';

/**
 * A peer sent something that breaks clusterkit's protocol; it was dropped and counted (see
 * `protocolErrors` in `primary.stats()`). clusterkit itself never sends such messages: the peer
 * runs another version of clusterkit, or code that writes to its IPC channel directly.
 */
export class ProtocolError extends ClusterKitError {
  override readonly name = 'ProtocolError';
  readonly code = 'ERR_PROTOCOL';

  constructor(
    /** Who sent it, such as `worker 3 (pid 4242)`. */
    readonly peer: string,
    readonly problem: ProtocolProblem,
    /** The message type concerned, when the message had a readable one. */
    readonly messageType?: string,
    /** What was dropped, where the problem alone does not say (`misnamed-series`: the samples and why; `bad-metrics`: the metric and its field). */
    readonly detail?: string,
  ) {
    super(
      problem === 'misnamed-series'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}${detail === undefined ? '' : `: ${detail}`}. They were left out of the exposition; the rest of its metrics were merged. ` +
            "A sample is named as its metric (a histogram's also <name>_bucket, _sum and _count, a summary's <name>_sum and _count), never as one of clusterkit's own series or another metric's; " +
            'a histogram or summary keeps the names it writes, and a name keeps the type most workers give it: ' +
            'rename the worker\'s metric, or fix the "metricName" its values give (a registerMetric() with its own get(), or the worker\'s "metricsRegistry").'
        : problem === 'bad-metrics'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}${detail === undefined ? '' : `: ${detail}`}. ` +
            'Its whole answer was left out of this scrape (counted in clusterkit_worker_scrape_errors_total); the other workers\' metrics were merged. ' +
            'It comes from the worker\'s metrics registry, not from clusterkit\'s IPC: fix that metric (a registerMetric() with its own get(), or the worker\'s "metricsRegistry").'
        : problem === 'too-many-requests' && messageType === '$sync'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}; they were refused with BackpressureError. ` +
            'clusterkit sends no more than that: code in the worker writes to its IPC channel directly (process.send).'
        : problem === 'too-many-requests'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}; they were refused with BackpressureError. ` +
            'clusterkit sends no more than that unless the worker\'s "maxPending" is larger than the primary\'s "maxPendingPerWorker", ' +
            'or code in the worker writes to its IPC channel directly (process.send).'
        : problem === 'unexpected-handle'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}: each would be an open file descriptor in the primary, which nothing of clusterkit's would close. ` +
            'Pass sockets from the primary to workers (listenSticky()), never back; code in the worker writes to its IPC channel directly (process.send).'
        : problem === 'duplicate-reply'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}; the first reply was taken, this one dropped. clusterkit answers each request once: ` +
            "code in the worker answers clusterkit's requests itself (a process.on('message') listener replying to its { __ck: 1 } frames), before clusterkit does. " +
            "A heartbeat's RSS is the primary's own reading on Linux, whatever the worker answers; remove that listener's replies."
        : problem === 'forged-listen'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}. Only Node's own listen() sends it, once the primary opened the address for the worker: ` +
            "code in the worker writes Node's internal messages to its IPC channel directly (process.send({ cmd: 'NODE_CLUSTER', ... })); under clusterkit run the bootstrap refuses those."
        : problem === 'out-of-range'
        ? `${capitalize(peer)} sent ${describeProblem(problem, messageType)}; it was not taken as given: only what the primary can check was counted, the rest dropped or left unknown. ` +
            'clusterkit never sends this: code in the worker writes to its IPC channel directly (process.send).'
        : `${capitalize(peer)} sent ${describeProblem(problem, messageType)}, which breaks clusterkit's IPC protocol; it was dropped. clusterkit never sends this: ` +
            'the process runs another clusterkit version, or code that writes to its IPC channel directly (process.send).',
    );
  }
}

/**
 * A script that `clusterkit run` runs sent, through `process.send()`, a message shaped as
 * clusterkit's own protocol (`{ __ck: 1, m: [...] }`): only clusterkit's bootstrap writes those
 * on the worker's channel, so the message was refused, not sent (H233). Given to the send's
 * callback when it has one; `messageType` is the first record's type when it had a readable one.
 */
export class ReservedMessageError extends ClusterKitError {
  override readonly name = 'ReservedMessageError';
  readonly code = 'ERR_RESERVED_MESSAGE';

  /**
   * @param messageType the clusterkit frame's first type; or, with `nodeCommand`, the `act` of
   *   the Node internal message (`listening`).
   * @param nodeCommand the `cmd` of a message of Node's own internal protocol (`NODE_CLUSTER`),
   *   which only Node's code in the worker sends (H383).
   */
  constructor(
    readonly messageType?: string,
    readonly nodeCommand?: string,
  ) {
    const short = (text: string) => (text.length > 64 ? `${text.slice(0, 64)}...` : text);
    if (nodeCommand !== undefined) {
      const act = messageType === undefined ? '' : ` (act "${short(messageType)}")`;
      super(
        `The script sent a message with cmd "${short(nodeCommand)}"${act}, Node's own internal protocol, with process.send(); it was refused, not sent: ` +
          "Node's primary acts on those as the worker's own (a forged node:cluster \"listening\" counted a listen that never happened as the worker's readiness), and only Node's code in the worker sends them. " +
          "Give your own messages a cmd that does not start with \"NODE_\"; clusterkit run reads nothing a script sends but 'ready' (--wait-ready).",
      );
      return;
    }
    super(
      `The script sent ${messageType === undefined ? 'a message' : `a "${short(messageType)}" message`} shaped as clusterkit's own IPC protocol ({ __ck: 1, m: [...] }) with process.send(); it was refused, not sent: ` +
        "under clusterkit run only clusterkit's bootstrap writes those (a script that sent them could forge the worker's readiness or crash). " +
        "Send your own messages without the \"__ck\" key; clusterkit run reads nothing a script sends but 'ready' (--wait-ready).",
    );
  }
}

/** The marker of clusterkit's own messages on a worker's IPC channel (messaging/envelope.ts), named in what a forged one caused. */
const kMarkerName = '__ck';

/**
 * What broke a worker's bulk pipe, by where its cause shows (bulk-reader.ts's `BulkFaultSide`):
 * a frame that clusterkit never sends, bytes that clusterkit never writes, or either (hostile
 * t71: one frame forged through `process.send()` was blamed on the pipe's descriptor).
 */
const kBulkFaultCause = {
  pipe: "clusterkit never writes such bytes: something in the worker writes to the pipe's file descriptor directly, or a child process inherited it.",
  frame: `clusterkit never sends such a message: code in the worker sent one in clusterkit's own format (an object with "${kMarkerName}") through process.send(), or wrote to its IPC channel's descriptor.`,
  either:
    `clusterkit never does this itself: something in the worker wrote to the pipe's file descriptor (directly, or a child process given it), or sent through process.send() a message in clusterkit's own format (an object with "${kMarkerName}") announcing long strings that it did not write.`,
} as const;

/**
 * A worker wrote on its IPC channel what the primary cannot read safely, below `process.send()`:
 * bytes that are not an IPC message (`reason` `not-a-message`, the parser's error as `cause`; with
 * `advanced`, a message framed whole that V8 cannot read back is said to be one, H725),
 * or one message larger than the primary accepts (`too-large`: `limitBytes`, the primary's
 * `maxMessageBytes` and 64 KiB for the frame, was reached while it was still arriving, or was exceeded by the length an
 * `advanced` message's header announced: `announcedBytes`), or a message of Node's own cluster
 * protocol (`cmd: 'NODE_CLUSTER'`) that Node's handler in the primary threw on
 * (`bad-node-message`, the handler's error as `cause`), or more listening addresses asked of the
 * primary at once than a worker may hold (`too-many-servers`: 256), or one more than all the workers together
 * may hold (`too-many-servers` with `isClusterWide`: half the primary's open-file limit, 1024 where it cannot be read), or its bulk pipe (the second pipe for
 * long strings) carried what breaks its protocol (`bulk-corrupt`), or the long strings its messages announced never came on it while the worker kept
 * talking (`bulk-lost`: its code closed or reopened the pipe's descriptor; found by the heartbeat once the worker is silent). The primary stopped reading that
 * channel and killed the worker (SIGKILL). Emitted as `workerError`. The message does not say
 * whether a new worker starts: the restart policy decides that at the exit, and the lines after
 * it say (a crash loop's last attempt starts none; H518: before, it said one always started).
 */
export class ChannelCorruptError extends ClusterKitError {
  override readonly name = 'ChannelCorruptError';
  readonly code = 'ERR_CHANNEL_CORRUPT';
  /** For `too-large` with `advanced` serialization: the length the message's header announced, in bytes. */
  readonly announcedBytes?: number;
  /** For `too-many-servers`: true when the cluster-wide bound (all workers together) was reached, not the worker's own. */
  readonly isClusterWide?: boolean;

  constructor(
    /** The worker, such as `worker 3 (pid 4242)`. */
    readonly peer: string,
    readonly reason: 'not-a-message' | 'too-large' | 'bad-node-message' | 'too-many-servers' | 'bulk-corrupt' | 'bulk-failed' | 'bulk-lost',
    /** The largest message the primary reads from a worker, in bytes (its `maxMessageBytes` + 64 KiB). */
    readonly limitBytes: number,
    /** For `too-large`: what the message had buffered when it was cut, in bytes (UTF-16 units for JSON). */
    readonly receivedBytes?: number,
    options?: { cause?: unknown; announcedBytes?: number; command?: string; servers?: number; maxServers?: number; isClusterWide?: boolean | undefined; detail?: string; fd?: number; side?: 'frame' | 'pipe' | 'either' },
  ) {
    super(
      reason === 'too-many-servers' && options?.isClusterWide
        ? `${capitalize(peer)} asked the primary for one more listening address (node:cluster's "queryServer", one per listen() in a worker) when the workers together already held ${options.maxServers ?? 'the most'}, ` +
            'the cluster-wide bound (half the primary\'s open-file limit): each is a socket, a file descriptor, in the primary, which would run out of them and stop answering its control socket. ' +
            'The worker was killed (SIGKILL). ' +
            'Close the servers the workers no longer need, listen on fewer distinct addresses (workers listening on the same address share one socket), or raise the primary\'s open-file limit (ulimit -n).'
        : reason === 'too-many-servers'
        ? `${capitalize(peer)} asked the primary to listen on ${options?.servers ?? 'too many'} addresses at once (node:cluster's "queryServer", one per listen() in a worker), more than the ${options?.maxServers ?? 'limited number'} a worker may hold: ` +
            'each is a socket, a file descriptor, in the primary, which would run out of them. The worker was killed (SIGKILL). ' +
            'Close the servers a worker no longer needs; a worker that must listen on that many ports can listen outside the cluster (listen({ port, exclusive: true })).'
        : reason === 'bad-node-message'
        ? `${capitalize(peer)} sent a message of Node's own cluster protocol (${JSON.stringify(options?.command ?? '').slice(0, 80)}) that Node's handler in the primary failed on (${quoteParserError(options?.cause)}). ` +
            'clusterkit and node:cluster never send such a message: something in the worker calls process.send() with a "cmd" starting with "NODE_". ' +
            'The worker was killed (SIGKILL) before Node acted on more of them.'
        : reason === 'bulk-failed'
        ? `This worker's bulk pipe, the second pipe clusterkit uses for long strings, failed as clusterkit wrote to it (${options?.detail ?? 'unknown error'}): ` +
            'code in this worker closed its file descriptor, or gave it to a process that did. The message whose strings were on it can never be read, nor any message after it, ' +
            'so the worker exits (1). Leave the pipe\'s descriptor alone (see "Long strings: the bulk pipe" in docs/messaging.md), or set CLUSTERKIT_BULK=0 in the primary\'s environment.'
        : reason === 'bulk-lost'
        ? `${capitalize(peer)} kept sending messages, but the long strings they carry never came on its bulk pipe, the second pipe clusterkit uses for long strings (${options?.detail ?? 'unknown wait'}). ` +
            'Its event loop was turning (it answered the heartbeat or sent more), so its bytes were lost, not late: ' +
            `code in the worker closed the pipe's file descriptor (fd ${options?.fd ?? '?'}) and opened another file on that number (/dev/null, a log file: open() takes the lowest free one), so clusterkit's writes went there; or it gave the descriptor to a process that reads it; ` +
            `or it sent through process.send() a message in clusterkit's own format (an object with "${kMarkerName}") announcing long strings that nothing wrote. ` +
            'Its messages and every one after them can never be read, so the worker was killed (SIGKILL). ' +
            'Leave the pipe\'s descriptor alone (see "Long strings: the bulk pipe" in docs/messaging.md) and send no message of clusterkit\'s format yourself, or set CLUSTERKIT_BULK=0 in the primary\'s environment.'
        : reason === 'bulk-corrupt' && peer === 'the primary'
        ? `The primary broke the protocol of this worker's bulk pipe, the second pipe clusterkit uses for long strings (${options?.detail ?? 'unknown fault'}). ` +
            'Messages after it could not be read in order, so the worker exits (1). ' +
            'Look first for code in this worker that reads from or writes to the pipe\'s file descriptor (a child process given it); if there is none, this is a bug in clusterkit: please report it, with this message.'
        : reason === 'bulk-corrupt'
        ? `${capitalize(peer)} broke the protocol of its bulk pipe, the second pipe clusterkit uses for long strings (${options?.detail ?? 'unknown fault'}). ` +
            `${kBulkFaultCause[options?.side ?? 'pipe']} ` +
            'A pipe that lost its framing cannot be trusted again, so the worker was killed (SIGKILL).'
        : reason === 'not-a-message' && isDeserializeFailure(options?.cause)
        ? // Framed as a message, but V8 could not read it back (hostile t83 #2: before, this was
          // blamed on bytes written below process.send(), for an Error whose cause leads back to it).
          `${capitalize(peer)} sent an IPC message that V8's deserializer cannot read (${quoteParserError(options?.cause)}). ` +
            'With serialization: "advanced", V8 writes some values it cannot read back, such as an Error whose cause leads back to it, a host object (a Blob, a MessagePort) whose fields do, or a WebAssembly.Module; clusterkit refuses those with NotSerializableError before sending, ' +
            'so it came from a process.send() in the worker\'s code, or from something writing to the channel\'s file descriptor directly. ' +
            'What that message was (a request, a reply the worker waits for) cannot be known, so the worker was killed (SIGKILL) rather than left waiting for an answer.'
        : reason === 'not-a-message'
        ? `${capitalize(peer)} wrote bytes on its IPC channel that are not an IPC message (${quoteParserError(options?.cause)}). ` +
            'Something in the worker writes to the channel\'s file descriptor directly, not through process.send(): a child process that inherited it, or a native module. ' +
            'A channel that lost its framing cannot be trusted again, so the worker was killed (SIGKILL).'
        : `${capitalize(peer)} sent an IPC message of more than ${formatBytes(limitBytes)} (${
            options?.announcedBytes === undefined ? `${formatBytes(receivedBytes ?? limitBytes)} had arrived, and more was coming` : `its header announced ${formatBytes(options.announcedBytes)}`
          }), ` +
            'so the primary stopped reading it and killed the worker (SIGKILL) before running out of memory. ' +
            // Blaming process.send() holds: every message clusterkit writes in a worker is held to its
            // limit (min of its own and the primary's) before it is written: requests, notifications and
            // replies by checkPayload(), error replies by fitErrorReply() in inbound.ts (H330: before, a
            // handler throwing a 9 MB message sent it whole, and this line blamed process.send()).
            'clusterkit\'s own messages are limited by "maxMessageBytes"; this one came from process.send(), or from a worker whose "maxMessageBytes" is larger than the primary\'s. ' +
            'Send a file path or a store key instead, or raise "maxMessageBytes" on the primary.',
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    if (options?.announcedBytes !== undefined) this.announcedBytes = options.announcedBytes;
    if (options?.isClusterWide) this.isClusterWide = true;
  }
}

/**
 * Whether Node's `advanced` parser threw because V8 could not read a message it had framed whole:
 * V8's "Unable to deserialize cloned data." (also "... due to invalid or unsupported version.").
 */
function isDeserializeFailure(cause: unknown): boolean {
  if (!isNativeError(cause)) return false;
  const message = readProperty(cause, 'message');
  return typeof message === 'string' && message.startsWith('Unable to deserialize cloned data');
}

/** The parser's error, escaped and cut short: its message may quote the worker's bytes (control characters included). */
function quoteParserError(cause: unknown): string {
  // Node's parser throws a native SyntaxError or RangeError; it may come from another realm (a vm context), where instanceof fails.
  const native = isNativeError(cause) && !isError(cause) ? describeForeignError(cause) : describeError(cause);
  const text = JSON.stringify(native).slice(1, -1);
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
}

/** `Name: message` of a native error from another realm, read without throwing (a getter may throw). */
function describeForeignError(error: Error): string {
  const name = readProperty(error, 'name');
  const message = readProperty(error, 'message');
  return `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : unreadableField('message', message)}`;
}

function describeProblem(problem: ProtocolProblem, type: string | undefined): string {
  const what = type === undefined ? 'a message' : `"${type.length > 64 ? `${type.slice(0, 64)}...` : type}"`;
  switch (problem) {
    case 'malformed-frame':
      return 'a malformed IPC frame';
    case 'malformed-record':
      return 'a malformed message record';
    case 'forged-reply':
      return 'a reply to a request that was never sent';
    case 'duplicate-reply':
      return `a second reply to ${type === undefined ? 'a request' : `a ${what} request`} it had answered already`;
    case 'forged-listen':
      return "node:cluster's \"listening\" message for an address it never asked the primary to listen on (no \"queryServer\" before it): no listen happened, and it was not counted as one";
    case 'unknown-type':
      return `a notification of unknown system type ${what}`;
    case 'wrong-direction':
      return `${what}, a system message only its receiver sends`;
    case 'wrong-kind':
      return `${what} as the wrong kind of message (a request where a notification belongs, or the reverse)`;
    case 'bad-payload':
      return `${what} with a payload that fails its check`;
    case 'unexpected':
      return `${what} at a time its state rules out`;
    case 'bad-reply':
      return `a reply to ${what} that fails its check`;
    case 'duplicate-id':
      return `${what} with the id of one of its requests still being answered (a duplicate id)`;
    case 'unexpected-handle':
      return 'a socket or server handle along with a message (process.send(message, handle)); the primary accepts none from workers and closed it (the message itself was delivered)';
    case 'out-of-range':
      return `${what} with a figure beyond what the primary knows of it (more requests than it ever reported open in its stop, more than a worker can hold, or a heartbeat figure no process on this machine can have)`;
    case 'too-many-requests':
      // A stop's `$sync` has a bound of its own, apart from the relays' (H265).
      return type === '$sync'
        ? `more ${what} requests than the primary holds for one worker at once (a stop sends one at a time)`
        : type === '$relay'
          ? // The user's call, not only its internal type (retest t69b: "$relay" alone, as H636 had taken out of the errors).
            `more sendTo() requests (${what}) than the primary holds for one worker at once ("maxPendingPerWorker")`
          : `more ${what} requests than the primary holds for one worker at once ("maxPendingPerWorker")`;
    case 'misnamed-series':
      return `an answer to ${what} with metrics or series named as another's`;
    case 'bad-metrics':
      return `an answer to ${what} that the metrics merge cannot take`;
  }
}

/** A rolling reload stopped because a replacement worker failed; old workers keep serving (unless `isNothingServing`). */
export class ReloadError extends ClusterKitError {
  override readonly name: 'ReloadError' | 'ReloadInterruptedError' = 'ReloadError';
  /** `ERR_RELOAD_INTERRUPTED` on its subclass `ReloadInterruptedError`. */
  readonly code: 'ERR_RELOAD_FAILED' | 'ERR_RELOAD_INTERRUPTED' = 'ERR_RELOAD_FAILED';
  /** The reload stopped because the primary began shutting down, not because of a replacement: a `ReloadInterruptedError`. */
  readonly isShutdown: boolean;
  /**
   * The reload stopped because a newer change of the watched files superseded it (`--watch`,
   * H388): its replacement still starting ran the code from before that change and was stopped;
   * no failure of the new code, and a reload for the change follows.
   */
  readonly isSuperseded: boolean;
  /**
   * The reload had no worker to replace (every slot had been given up in a crash loop) and none
   * of the slots it started again with the new code stayed up the startup window (H517): no
   * worker serves, so no old worker keeps serving either.
   */
  readonly isNothingServing: boolean;
  /**
   * Of a rolling reload's failure (`reload()`, `reloadFailed`): the workers it was to replace, and
   * those it replaced before it stopped (their slots run the new code; the others the code from
   * before it), as its message says (`1 of 2 workers were replaced`). Undefined for a memory
   * replacement's failure, which is no reload.
   */
  readonly workers: number | undefined;
  readonly replaced: number | undefined;

  constructor(message: string, options?: { cause?: unknown; isShutdown?: boolean; isSuperseded?: boolean; isNothingServing?: boolean; workers?: number; replaced?: number }) {
    super(message, options);
    this.isShutdown = options?.isShutdown ?? false;
    this.isSuperseded = options?.isSuperseded ?? false;
    this.isNothingServing = options?.isNothingServing ?? false;
    this.workers = options?.workers;
    this.replaced = options?.replaced;
  }
}

/**
 * A rolling reload cut short because the primary began shutting down (`stop()`, SIGTERM,
 * `clusterkit stop`): no failure of the new code, so a code of its own (hostile t85 #3: a stop
 * during the reload's last wait was logged `err=ERR_RELOAD_FAILED` and `reload failed`). A
 * `ReloadError` with `isShutdown: true`, so code that catches `ReloadError` still does.
 */
export class ReloadInterruptedError extends ReloadError {
  override readonly name = 'ReloadInterruptedError';
  override readonly code = 'ERR_RELOAD_INTERRUPTED';

  constructor(message: string, options?: { cause?: unknown; workers?: number; replaced?: number }) {
    super(message, { ...options, isShutdown: true });
  }
}

/**
 * `reload({ env })` (`clusterkit reload --update-env`) while a reload with another env is queued
 * after the one under way (H374: a reload whose env the running one cannot apply is queued, one
 * at most; H336). Nothing changed; ask again once the queued reload has ended.
 */
export class ReloadInProgressError extends ClusterKitError {
  override readonly name = 'ReloadInProgressError';
  readonly code = 'ERR_RELOAD_IN_PROGRESS';
}

/**
 * A listener of the primary (`listenSticky()`, `listenHealth()`, which also serves `/metrics`)
 * could not listen: the port is taken, the host does not resolve, privileges are missing. The
 * Node error is `cause` (its `code`, e.g. `EADDRINUSE`, is `errno`), so callers can branch on it.
 */
export class ListenError extends ClusterKitError {
  override readonly name = 'ListenError';
  readonly code = 'ERR_LISTEN_FAILED';
  /** The Node error's own code: `EADDRINUSE`, `EACCES`, `ENOTFOUND`... */
  readonly errno: string | undefined;

  constructor(
    readonly listener: string,
    readonly port: number,
    readonly host: string | undefined,
    cause: unknown,
  ) {
    const errno = typeof cause === 'object' && cause !== null && typeof (cause as { code?: unknown }).code === 'string' ? (cause as { code: string }).code : undefined;
    const where = `port ${port}${host === undefined ? '' : ` on host "${host}"`}`;
    super(`${listener}() could not listen on ${where}: ${cause instanceof Error ? cause.message : String(cause)}. ${listenAdvice(errno)}`, { cause });
    this.errno = errno;
  }
}

function listenAdvice(errno: string | undefined): string {
  if (errno === 'EADDRINUSE') return 'Another process (or another listener of this one) holds that port: stop it, or pick another port.';
  if (errno === 'EACCES') return 'Ports below 1024 need privileges this process does not have: pick a port above 1024.';
  if (errno === 'ENOTFOUND' || errno === 'EAI_AGAIN') return 'The host name does not resolve: give an address or a name this machine can resolve.';
  if (errno === 'EADDRNOTAVAIL') return 'This machine has no such address: give one of its addresses, or omit host to listen on all of them.';
  return 'Check the port and host options.';
}

/**
 * Why the primary killed a worker that did not answer heartbeats for `silentMs` (never thrown:
 * `workerExit.killedFor`, and the cause a failed start's or a crash loop's error gives). Before,
 * a plain `Error` with no `code` (newcomer t78, hostile t79), where a kill for what a worker
 * wrote on its channel is a `ChannelCorruptError`.
 */
export class WorkerUnresponsiveError extends ClusterKitError {
  override readonly name = 'WorkerUnresponsiveError';
  readonly code = 'ERR_WORKER_UNRESPONSIVE';

  constructor(
    /** The worker, such as `worker 3 (pid 4242)`. */
    readonly peer: string,
    /** How long it had been silent when it was killed, in ms. */
    readonly silentMs: number,
    /** Its silence as said, such as `3.0 s`. */
    silence: string,
  ) {
    super(`${capitalize(peer)} did not answer heartbeats for ${silence}, so the primary killed it (SIGKILL) as unresponsive: its event loop was most likely blocked, or its process stopped.`);
  }
}

/**
 * Why the primary killed a worker that closed its IPC channel and had not exited `graceMs`
 * later (never thrown: `workerExit.killedFor`, and the cause of a failed start's or a crash
 * loop's error). A worker without its channel can neither be reached nor stopped.
 */
export class WorkerChannelClosedError extends ClusterKitError {
  override readonly name = 'WorkerChannelClosedError';
  readonly code = 'ERR_WORKER_CHANNEL_CLOSED';

  constructor(
    /** The worker, such as `worker 3 (pid 4242)`. */
    readonly peer: string,
    /** How long the primary waited for its exit after the channel closed, in ms. */
    readonly graceMs: number,
  ) {
    super(
      `${capitalize(peer)} closed its IPC channel to the primary and had not exited ${graceMs} ms later; a worker without its channel can neither be reached nor stopped, so the primary killed it (SIGKILL). ` +
        'Remove the code in the worker that closes it (process.disconnect(), or one closing its file descriptor).',
    );
  }
}

/**
 * `clusterkit run --watch` cannot see the changes of a watched path (H256): it is gone (removed
 * or moved away: `reason: 'gone'`, `cause` the failed stat), watched again once it returns; or
 * making the watcher again failed (`reason: 'failed'`, `cause` its error), and nothing is
 * watched until a watched path is removed or replaced again, or `clusterkit run` restarts.
 */
export class WatchLostError extends ClusterKitError {
  override readonly name = 'WatchLostError';
  readonly code = 'ERR_WATCH_LOST';

  constructor(
    /** The watched path, as the message shows it (relative to the working directory). */
    readonly path: string,
    readonly reason: 'gone' | 'failed',
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'gone'
        ? `${path} is gone (removed or moved away): no change in it reloads the workers until it returns. It is looked for every 0.5 s and watched again, with a reload, once it returns (a rebuild, a checkout, moving it back); to watch another path, restart clusterkit run with --watch <path>.`
        : `Watching ${path} failed (${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}): no change reloads the workers now. Fix that and restart clusterkit run; clusterkit reload <name> reloads meanwhile.`,
      options,
    );
  }
}

/**
 * `clusterkit run --watch`: a watched change of the config file the app was started from (or of
 * its env file) no longer loads or checks (H306). Logged as a WARN line; the cluster runs on
 * with the settings it started with, and the next `clusterkit run` would fail with the same
 * error. `files` are the changed files as the line names them; `cause` is the error `run`
 * would print.
 */
export class ConfigUnloadableError extends ClusterKitError {
  override readonly name = 'ConfigUnloadableError';
  readonly code = 'ERR_CONFIG_UNLOADABLE';

  constructor(
    /** The changed files, as the message shows them (relative to the working directory). */
    readonly files: readonly string[],
    /** The error as `clusterkit run` prints it, on one line. */
    readonly problem: string,
    /**
     * `isReload` false: a file the watch looks at for the settings alone (a `.env`), whose change reloads nothing (H316).
     * `refusedReload`: the cluster whose `clusterkit reload --update-env` loaded the files, and is refused (H336).
     */
    options?: { cause?: unknown; isReload?: boolean; refusedReload?: string },
  ) {
    super(
      options?.refusedReload !== undefined
        ? `${listFiles(files)} ${files.length === 1 ? 'does' : 'do'} not load: ${problem.replace(/\.$/, '')}. The reload is refused and nothing changed: ` +
            `the workers run on with the env they have. Fix ${files.length === 1 ? 'it' : 'them'}, then run clusterkit reload ${shellWord(options.refusedReload)} --update-env again (the next clusterkit run would fail with this error too).`
        : `${files.length <= 1 ? (files[0] ?? '') : `${files.slice(0, -1).join(', ')} and ${files.at(-1)}`} changed and no longer load${files.length === 1 ? 's' : ''}: ${problem.replace(/\.$/, '')}. ` +
        `The cluster runs on with the config it started with (${options?.isReload === false ? kNoReloadClause : 'this reload only loads the code on disk'}); the next clusterkit run would fail with this error until it is fixed.`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** `a`, `a and b`, `a, b and c` (the app's settings files; `the command line` when none). */
function listFiles(files: readonly string[]): string {
  if (files.length === 0) return 'the command line';
  return files.length === 1 ? files[0]! : `${files.slice(0, -1).join(', ')} and ${files.at(-1)}`;
}

/**
 * `clusterkit reload --update-env` (H336) asked a cluster that was not started by `clusterkit run`
 * (a `ClusterPrimary` with a `serviceName`, `startClusteredService`): it has no config file or
 * env file to load again. Nothing changed.
 */
export class UpdateEnvUnsupportedError extends ClusterKitError {
  override readonly name = 'UpdateEnvUnsupportedError';
  readonly code = 'ERR_UPDATE_ENV_UNSUPPORTED';

  constructor(readonly clusterName: string) {
    super(
      `The cluster "${clusterName}" was not started by clusterkit run, so it has no config file or env file to load again: --update-env cannot give its workers a new env, and nothing changed. ` +
        `Reload it without --update-env, or have its primary's code call primary.reload({ env }).`,
    );
  }
}

/**
 * A warning: the primary's own event loop was blocked (`blockedMs` in all, in stalls over
 * `spanMs`): synchronous work in the primary (a hook, a scan, a huge synchronous send), a long
 * garbage collection, or the process stopped (SIGSTOP). The workers' silence during it is not
 * counted against them; nothing was killed for it.
 */
export class PrimaryBlockedError extends ClusterKitError {
  override readonly name = 'PrimaryBlockedError';
  readonly code = 'ERR_PRIMARY_BLOCKED';

  /**
   * `blockedMs`: the stalls' lateness in all (ms); `spanMs`: from the first's start to the last's
   * end (ms). `isOngoing`: said while the stalls go on (after 10 s), the figures so far; the same
   * episode is said again at its end with its totals (H487).
   */
  /**
   * `ownWorkMs`: how much of the span went to clusterkit's own work (its merge of the workers'
   * metrics pages for scrapes), told when it is half the block or more; `ownWork` says what it
   * was and what to change (hostile tester t63: the warning blamed the user's code for it).
   */
  readonly ownWorkMs: number | undefined;

  constructor(
    readonly blockedMs: number,
    readonly spanMs: number,
    readonly isOngoing = false,
    ownWork?: { readonly ms: number; readonly what: string; readonly advice: string },
  ) {
    const over = spanMs - blockedMs >= 1_000 ? ` (in stretches over ${wholeMs(spanMs)} ms)` : '';
    const was = isOngoing ? `has been blocked for ${wholeMs(blockedMs)} ms so far${over}, and still is` : `was blocked for ${wholeMs(blockedMs)} ms${over}`;
    const isOwn = ownWork !== undefined && ownWork.ms >= blockedMs / 2;
    const advice = isOwn
      ? `${wholeMs(Math.min(ownWork.ms, blockedMs))} ms of it went to clusterkit's own work, ${ownWork.what}: ${ownWork.advice}.`
      : `Move long synchronous work out of the primary (async I/O, a worker or a child process); a stop (SIGSTOP) or a long garbage collection of the primary shows here too.`;
    super(`The primary's own event loop ${was}: no worker was heard or judged meanwhile, and their silence during it is not counted against them. ${advice}`);
    this.ownWorkMs = isOwn ? Math.round(Math.min(ownWork.ms, blockedMs)) : undefined;
  }
}

/** A lifecycle hook (`_init`, `_destroy`) did not settle within its time limit. */
export class HookTimeoutError extends ClusterKitError {
  override readonly name = 'HookTimeoutError';
  readonly code = 'ERR_HOOK_TIMEOUT';

  constructor(
    readonly hook: string,
    readonly timeoutMs: number,
  ) {
    super(`${hook}() did not finish within ${wholeMs(timeoutMs)} ms; the process continues without waiting for it.`);
  }
}

/**
 * The core-dumping signals a process raises on itself on a fatal error of its own: V8's heap out
 * of memory and process.abort() (SIGABRT), a crash in native code (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGTRAP, SIGSYS). Told as "was killed by SIGABRT" they read as someone's kill, and a
 * line that said "from outside clusterkit" sent the reader looking for a sender that is not
 * there (hostile tester, H296).
 */
const kSelfFatalSignals: ReadonlySet<string> = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP', 'SIGSYS']);

/** True when `signal` is a fatal error of the process itself (see `kSelfFatalSignals`), not a kill. */
export function isSelfFatalSignal(signal: NodeJS.Signals | null): signal is NodeJS.Signals {
  return signal !== null && kSelfFatalSignals.has(signal);
}

/** `died of SIGABRT (a fatal error in the process itself: ...)`, after "worker 3". */
export function diedOfFatalSignal(signal: NodeJS.Signals): string {
  return `died of ${signal} (a fatal error in the process itself: V8 out of memory, process.abort(), a crash in native code; its output says which)`;
}

/** How an exit reads in a sentence: `exited with code 1`, `was killed by SIGKILL`, `died of SIGABRT (...)`. */
export function describeExit(exitCode: number | null, signal: NodeJS.Signals | null, pid: number | undefined): string {
  if (isSelfFatalSignal(signal)) return diedOfFatalSignal(signal);
  if (signal) return `was killed by ${signal}`;
  if (exitCode !== null) return `exited with code ${exitCode}`;
  return pid === undefined ? 'could not be spawned' : 'lost its IPC channel';
}

/**
 * `Last crash: worker 3 (pid 4242) exited with code 3 12.5 s after it became ready. Fix that, then ...`:
 * the failure itself, so a reader of the log line (no `cause` to open) sees it. A
 * `WorkerExitedError` gives only how the worker ended: its advice on retrying a request is for
 * the caller of a request, not for whoever reads why a slot gave up.
 */
function lastFailure(label: string, cause: unknown, advice: string): string {
  if (!isError(cause)) return `Fix the cause, then ${advice}.`;
  if (cause instanceof WorkerExitedError) {
    // A signal from outside: its sender is what to find, the script did nothing wrong (H275).
    const what = cause.outsideSignal === undefined ? 'Fix that' : 'Its output need not show an error: look for what sent the signal';
    return `${label}: worker ${cause.workerId} (pid ${cause.pid ?? 'none'}) ${cause.how} ${cause.context}. ${what}, then ${advice}.`;
  }
  if (cause instanceof WorkerStartupError && cause.outsideSignal !== undefined) return `${label}: ${cause.message.replace(/\.$/, '')}, then ${advice}.`;
  const init = cause instanceof WorkerStartupError && cause.cause instanceof RemoteError && cause.cause.messageType === '_init' ? cause.cause : undefined;
  if (init) {
    // The user's module in its own words (`the script /srv/api.js threw on import: ...`), as the
    // per-attempt lines say it; the startup error's own advice would repeat ours.
    const summary = init.data?.summary;
    const text = typeof summary === 'string' ? summary : initFailureClause(init.remoteName, init.remoteMessage, init.remoteStack);
    return `${label}: ${text.replace(/\.$/, '')}. Fix that, then ${advice}.`;
  }
  // A message that already says what to do (`... Check its output for the error; ...`) keeps its word.
  // A startup failure's hint is left out: the crash-loop error says it once, at its end (H424).
  const readable = toReadableError(cause).message;
  const message = cause instanceof WorkerStartupError && cause.hint !== undefined && readable.endsWith(hintSuffix(cause.hint)) ? readable.slice(0, -hintSuffix(cause.hint).length) : readable;
  return /\b(?:[Ff]ix|[Cc]heck|[Rr]aise|[Aa]dd|[Rr]emove)\b[^.]*\.$/.test(message) ? `${label}: ${message}` : `${label}: ${message.replace(/\.$/, '')}. Fix that, then ${advice}.`;
}

/**
 * A worker's `_init` failure as the primary tells it, with where it was thrown when the stack
 * says it, as a crash line does: `its _init() threw Error: no config at /srv/worker.js:12:7` (H381).
 */
export function initFailureClause(name: string, message: string, stack: string | undefined): string {
  const location = stackLocation(stack);
  return location === undefined ? `its _init() threw ${name}: ${message}` : `its _init() threw ${name}: ${message.replace(/\.$/, '')} at ${escapeControlChars(location)}`;
}

/**
 * What brings a retired slot back: with no slot left the service is down (a runner or
 * `clusterkit run` has exited), so only a start; with others serving, a reload with the fix,
 * which starts the slot again once it succeeds (H259; before, a scale back up was needed too).
 */
function restoreAdvice(remainingSlots: number | undefined, servingSlots = remainingSlots, failsStart = false): string {
  if (remainingSlots === 0) return 'start it again';
  if (remainingSlots === undefined) return 'start or reload again';
  // The other slots may be failing too (a bad deploy retires them one by one): none serves yet.
  if (servingSlots === 0) return `start again (no other worker is ready to serve: the ${remainingSlots === 1 ? 'other slot is' : `${remainingSlots} other slots are`} still starting or restarting)`;
  if (failsStart) return 'start again (the start fails with this slot: the workers that are ready are stopped too)';
  return 'reload to restore the slot (a reload that succeeds starts it again; the other workers keep serving), or start again';
}

/**
 * `crashed 11 times`; `exited with code 0 on its own 11 times` (no crash, but every exit the
 * primary did not ask for counts, as PM2 counts them); `ended 11 times unexpectedly (4 crashes,
 * 7 exits with code 0 on its own)`.
 */
function describeEndings(failures: number, cleanExits: number): string {
  if (cleanExits <= 0) return `crashed ${failures} times`;
  if (cleanExits >= failures) return `exited with code 0 on its own ${failures} times`;
  const crashes = failures - cleanExits;
  return `ended unexpectedly ${failures} times (${crashes} ${crashes === 1 ? 'crash' : 'crashes'}, ${cleanExits} ${cleanExits === 1 ? 'exit' : 'exits'} with code 0 on its own)`;
}

/** The worker's last exit was with code 0, no signal: it exited, it did not crash. */
function isCleanExit(cause: unknown): boolean {
  return cause instanceof WorkerExitedError && cause.exitCode === 0 && cause.signal === null;
}

/** `60 s`, `1.5 s`, `500 ms`. */
function describeWindow(ms: number | undefined): string {
  if (ms === undefined) return 'restart.windowMs';
  return ms >= 1_000 ? `${Number((ms / 1_000).toFixed(1))} s` : `${wholeMs(ms)} ms`;
}

/**
 * A message's closing `Received <value>`, or for `undefined` that the value is missing: the
 * sentence before it names what is wanted, and "Received undefined" read as if undefined had
 * been passed on purpose (hostile t84, wording). `describe`: how to show a value (a config's own).
 */
export function receivedClause(value: unknown, describe: (value: unknown) => string = describeValue): string {
  return value === undefined ? 'It is missing (undefined): pass it' : `Received ${describe(value)}`;
}

/** A short, safe rendering of any value for error messages. Never throws (getters, Proxies...). */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'function') return `function ${typeof value.name === 'string' && value.name ? value.name : '(anonymous)'}`;
    if (value === null || typeof value !== 'object') return String(value);
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    const ctor: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof ctor === 'string' && ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
  } catch {
    return 'an unreadable value';
  }
}

/** Why a worker module could not be used. */
export type WorkerModuleProblem = 'not-found' | 'unreadable' | 'import-failed' | 'no-exports' | 'listen-failed';

/**
 * The service runner's worker module (or the CLI's script) could not be loaded: it does not
 * exist, it threw while being imported, it exports nothing, or its server failed to listen.
 */
export class WorkerModuleError extends ClusterKitError {
  override readonly name = 'WorkerModuleError';
  readonly code = 'ERR_WORKER_MODULE';
  /**
   * What happened, as a clause that names the module and the cause:
   * `the worker module /srv/api.js threw on import: Error: boom (at /srv/api.js:3:7)`.
   * An own field, so it survives IPC in `RemoteError.data`.
   */
  readonly summary: string;

  constructor(
    /** Absolute path of the module. */
    readonly modulePath: string,
    readonly problem: WorkerModuleProblem = 'import-failed',
    /**
     * `advice` replaces the problem's usual advice (a missing `.js` file whose TypeScript sibling
     * is there, H380); `isRelative`: the path was given relative, so a `not-found` says from where.
     */
    options?: { cause?: unknown; noun?: string; location?: string; advice?: string; isRelative?: boolean },
  ) {
    const summary = summarizeModuleProblem(modulePath, problem, options?.noun ?? 'worker module', options?.cause, options?.location);
    const advice = options?.advice ?? (problem === 'not-found' && options?.isRelative !== true ? 'Check the path.' : (kModuleAdvice[problem] ?? kModuleAdvice['import-failed']));
    super(`${capitalize(summary)}. ${advice}`, options);
    this.summary = summary;
  }
}

/**
 * `startClusteredService` (or `clusterkit run`) could not bring its workers up: they failed
 * to start too often in a row, so the service stopped instead of restarting them forever.
 */
export class ServiceStartError extends ClusterKitError {
  override readonly name = 'ServiceStartError';
  readonly code = 'ERR_SERVICE_START';

  constructor(
    readonly serviceName: string,
    /** What went wrong, as a clause: `the worker module /srv/api.js threw on import: ...`. */
    readonly reason: string = 'its workers could not start',
    /**
     * `hint`: what to change, the advice alone; the message ends with ` Hint: <hint>`.
     * `beforeWorkers`: it failed before any worker was forked (its health endpoint's port), so
     * nothing was being restarted (newcomer t63: the crash loop's words read as a lie there).
     */
    options?: { cause?: unknown; hint?: string | undefined; beforeWorkers?: boolean },
  ) {
    super(
      `The service "${serviceName}" could not start: ${reason}. ${options?.beforeWorkers === true ? 'No worker was started' : 'It was stopped instead of being restarted forever'}; ` +
        `fix the cause and start it again.${hintSuffix(options?.hint)}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** Another live primary already serves a control socket under this cluster name. */
export class ClusterNameInUseError extends ClusterKitError {
  override readonly name = 'ClusterNameInUseError';
  readonly code = 'ERR_CLUSTER_NAME_IN_USE';

  /** The running cluster's name when it differs from `clusterName` only in letter case (H282). */
  readonly runningName: string;
  /**
   * Set when the name is held only by its lock file, `lockPath`, made `ageMs` ago by a live pid,
   * and no primary answers on its control socket: a primary starting, or a lock someone planted
   * or copied (H312). Such a lock is taken over `graceMs` after it was made.
   */
  readonly unanswered: { readonly lockPath: string; readonly ageMs: number; readonly graceMs: number } | undefined;

  constructor(
    readonly clusterName: string,
    readonly socketPath: string = '',
    readonly pid: number | undefined = undefined,
    /** `runningName`: see above; `script`: the file name `clusterName` was made of, when no name was given (H280); `unanswered`: see above. */
    options: { runningName?: string | undefined; script?: string | undefined; unanswered?: ClusterNameInUseError['unanswered']; cause?: unknown } = {},
  ) {
    const running = options.runningName ?? clusterName;
    const stop = `"clusterkit stop ${shellWord(running)}"`;
    const { unanswered } = options;
    if (unanswered !== undefined) {
      // "Stop it first" would send the user to a stop that finds nothing (hostile t32 LOW-3).
      super(
        `The name ${JSON.stringify(clusterName)} is held by its lock file ${unanswered.lockPath}, made ${seconds(unanswered.ageMs)} ago by pid ${pid ?? '?'}, which is alive, ` +
          `but no primary answers on its control socket${socketPath === '' ? '' : ` ${socketPath}`}: a "clusterkit run" of this name may be starting. ` +
          `If none is, that pid is not a clusterkit primary: remove ${shellWord(unanswered.lockPath)} and start again (or wait: a lock no primary answers for is taken over ${seconds(unanswered.graceMs)} after it was made).`,
        options,
      );
      this.runningName = running;
      this.unanswered = unanswered;
      return;
    }
    super(
      `A cluster named ${JSON.stringify(running)} is already running${pid === undefined ? '' : ` (primary pid ${pid})`}` +
        (running === clusterName
          ? '. '
          : `, and ${JSON.stringify(clusterName)} differs from it only in letter case: on a case-insensitive file system (macOS by default) their control sockets would be one file, ` +
            'so clusterkit refuses names that differ only in case, on every system. ') +
        (options.script === undefined
          ? `Stop it first (${stop}), or choose another name.`
          : `This cluster's name ${JSON.stringify(clusterName)} came from its script's file name ${JSON.stringify(options.script)}, as no name was given: ` +
            `name it with --name (or "name" in the config file), or stop the other first (${stop}).`),
      options,
    );
    this.runningName = running;
    this.unanswered = undefined;
  }
}

/** `ms` as seconds for a message: `3.2 s` (errors.ts cannot import duration.ts, which imports it). */
function seconds(ms: number): string {
  return `${Math.max(0, ms / 1000).toFixed(1)} s`;
}

/** No running cluster has this name (no control socket, or only a stale one from a dead primary). */
export class ClusterNotRunningError extends ClusterKitError {
  override readonly name = 'ClusterNotRunningError';
  readonly code = 'ERR_CLUSTER_NOT_RUNNING';

  constructor(
    readonly clusterName: string,
    /** The names that are running, for the message. */
    readonly running: readonly string[] = [],
    /** Its last primary, when it ended without stopping and left its control socket behind (killed, crashed). */
    readonly deadPrimary?: { readonly pid: number },
    /** Where it was looked for, as a clause (`; looked in /run/user/1000/clusterkit (...)...`): said when no cluster runs there. */
    lookedIn = '',
  ) {
    // Not for PM2's `all` or a PM2 process id (`pm2 logs 0`): "Did you mean "api"?" to a user
    // who meant every cluster, or a process, points at the wrong thing (pm2 tester t53).
    const near = /^(?:all|\d+)$/i.test(clusterName) ? undefined : closestName(clusterName, running);
    super(
      `No cluster named "${clusterName}" is running. ` +
        (deadPrimary === undefined
          ? ''
          : `Its last primary (pid ${deadPrimary.pid}) ended without stopping (killed or crashed) and left its control socket behind; its workers end on their own (orphan protection), and the next primary of that name (a "clusterkit run", or a ClusterPrimary with that serviceName) takes the socket over. `) +
        (running.length > 0 ? `Running: ${running.map((name) => JSON.stringify(name)).join(', ')}.${near === undefined ? '' : ` Did you mean "${near}"?`}` : `No cluster is running (for this user${lookedIn}); start one with "clusterkit run".`),
    );
  }
}

/**
 * The cluster's primary does not know the control command: it runs an older clusterkit (a
 * primary refuses an unknown command rather than guess). `cause` is its refusal.
 */
export class ControlCommandUnsupportedError extends ClusterKitError {
  override readonly name = 'ControlCommandUnsupportedError';
  readonly code = 'ERR_CONTROL_UNSUPPORTED';

  constructor(
    readonly clusterName: string,
    readonly command: string,
    /** What the older primary lacks, and what to use instead. */
    advice: string,
    options?: { cause?: unknown },
  ) {
    super(`The cluster "${clusterName}" does not know the control command "${command}": its primary runs an older clusterkit. ${advice}`, options);
  }
}

/**
 * The control socket could not be used: its directory is unsafe (not ours, or readable by
 * others), the path is too long, or a control request failed or got no answer.
 */
export class ControlSocketError extends ClusterKitError {
  override readonly name = 'ControlSocketError';
  readonly code = 'ERR_CONTROL_SOCKET';
}

/**
 * A log file of `clusterkit run` (`--output`, `--error`, `--log`; `outFile`, `errorFile`,
 * `logFile`) cannot be opened for appending at the start: its directory is missing, or it is not
 * writable. Refused before any worker forks (exit 2). `path` is the file, `cause` the system's error.
 */
export class LogFileError extends ClusterKitError {
  override readonly name = 'LogFileError';
  readonly code = 'ERR_LOG_FILE';

  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const kModuleAdvice: Record<WorkerModuleProblem, string> = {
  'not-found': 'Check the path (a relative path is resolved from the current directory).',
  unreadable: 'Give the user running the primary read access to it (and to its directories).',
  'import-failed': 'Fix the module, then start or reload again.',
  'no-exports': 'A worker module starts itself on import and exports what must be cleaned up (a server, a pool) for onWorkerShutdown.',
  'listen-failed': 'Free the port or change the address, then start again.',
};

function summarizeModuleProblem(modulePath: string, problem: WorkerModuleProblem, noun: string, cause: unknown, location: string | undefined): string {
  const detail = (cause === undefined ? 'unknown error' : describeError(cause)) + (location ? ` (at ${location})` : '');
  switch (problem) {
    case 'not-found':
      return `the ${noun} ${modulePath} does not exist`;
    case 'unreadable':
      return `the ${noun} ${modulePath} cannot be read: ${detail}`;
    case 'no-exports':
      return `the ${noun} ${modulePath} exports nothing`;
    case 'listen-failed':
      return `the ${noun} ${modulePath} failed to listen: ${detail}`;
    default:
      return `the ${noun} ${modulePath} threw on import: ${detail}`;
  }
}

/**
 * A warning (given to the primary's 'error' listeners as a warning, never thrown), said as the
 * `cronRestart` schedule starts; the schedule runs anyway. `reason`: `'frequent'`, two matches
 * less than a minute apart (`intervalMs`, the shortest seen), each a full rolling reload, so the
 * workers are replaced back to back (H490); `'time-zone'`, `TZ` (`timeZone`) names no zone the
 * primary's local time uses, which is then UTC, and so is the schedule's (H491).
 */
export class CronScheduleError extends ClusterKitError {
  override readonly name = 'CronScheduleError';
  readonly code = 'ERR_CRON_SCHEDULE';
  readonly reason: 'frequent' | 'time-zone';
  /** `'frequent'`: the shortest time between two matches, in ms. */
  readonly intervalMs: number | undefined;
  /** `'time-zone'`: the value of `TZ`, as set. */
  readonly timeZone: string | undefined;

  constructor(
    readonly expression: string,
    problem: { readonly reason: 'frequent'; readonly intervalMs: number } | { readonly reason: 'time-zone'; readonly timeZone: string },
  ) {
    super(
      problem.reason === 'frequent'
        ? `The schedule '${expression}' (cronRestart) matches as little as ${Math.max(1, Math.round(problem.intervalMs / 1_000))} s apart: each match is a full rolling reload, every worker replaced one after the other, ` +
            'and a match during a reload joins it, so the workers are reloaded back to back for as long as the primary runs. ' +
            "Give a schedule in minutes or hours, such as '0 3 * * *' (every day at 03:00): PM2's cron_restart serves for daily restarts."
        : `TZ is ${JSON.stringify(problem.timeZone)}, no time zone the primary's local time can use: that time is UTC, and the schedule '${expression}' (cronRestart) runs in UTC. ` +
            "Set TZ to a zone name of the IANA database, written as it is there, case included (such as Europe/Paris), or unset it for the system's time zone.",
    );
    this.reason = problem.reason;
    this.intervalMs = problem.reason === 'frequent' ? problem.intervalMs : undefined;
    this.timeZone = problem.reason === 'time-zone' ? problem.timeZone : undefined;
  }
}

/**
 * A warning (given to the primary's 'error' listeners as a warning, never thrown): the workers
 * the cluster runs, `workers`, are fewer than the `minReady` of its health endpoint on `port`,
 * so `/readyz` answers 503 for as long as that lasts and Kubernetes keeps the pod out of its
 * Service. Told by `scale()` below it, and by `listenHealth()` when the worker count already is.
 */
export class ReadinessUnreachableError extends ClusterKitError {
  override readonly name = 'ReadinessUnreachableError';
  readonly code = 'ERR_READINESS_UNREACHABLE';

  /**
   * `workers`: the workers the endpoint counts (those with `role`, for an endpoint with one);
   * `role`: the endpoint's `listenHealth({ role })`, undefined when it counts every worker.
   */
  constructor(
    readonly workers: number,
    readonly minReady: number,
    readonly port: number,
    message: string,
    readonly role?: string,
  ) {
    super(message);
  }
}

/**
 * A warning (given to the primary's 'error' listeners as a warning, never thrown): a scale-down
 * stopped named workers (`fork({ name })`). The highest slots go first (so the workers left keep
 * NODE_APP_INSTANCE 0 to N-1), and a named worker forked after the first workers has one of the
 * highest. Its name is free from then on: `sendTo(name)` and `workerByName(name)` find no worker,
 * and a later scale-up starts unnamed workers, not it (newcomer tester t60: every request then
 * failed with `NoWorkerAvailableError`). The scale itself is done.
 */
export class NamedWorkerStoppedError extends ClusterKitError {
  override readonly name = 'NamedWorkerStoppedError';
  readonly code = 'ERR_NAMED_WORKER_STOPPED';

  constructor(
    /** The names whose workers the scale stopped, in slot order. */
    readonly names: readonly string[],
    /** The scale's target: the worker count it stops down to. */
    readonly to: number,
    /** The count it started from. */
    readonly from: number,
  ) {
    const quoted = names.map((name) => JSON.stringify(name));
    const which = quoted.length === 1 ? `the named worker ${quoted[0]}` : `the named workers ${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
    super(
      `Scaling from ${from} to ${plural(to, 'worker')} stopped ${which}: a scale-down stops the highest slots first, named or not. ` +
        `${quoted.length === 1 ? 'Its name is' : 'Their names are'} free from now on: sendTo() and workerByName() find no worker by ${quoted.length === 1 ? 'it' : 'them'}, and a later scale-up starts unnamed workers. ` +
        `Start ${quoted.length === 1 ? 'it' : 'them'} again with fork({ name }), or keep named workers out of scale(): fork them before scaling the others, or scale to a count that keeps their slots.`,
    );
  }
}
