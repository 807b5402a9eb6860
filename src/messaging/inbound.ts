/**
 * The inbound side of an endpoint: answers the peer's requests (the handler's return value is
 * the reply, a throw the error reply) and delivers its notifications; tracks the handlers still
 * running, so a stopping worker can wait for them.
 */
import { MessageTooLargeError, NotSerializableError, ShutdownInProgressError, type SerializedCause, type SerializedError } from '../errors.js';
import { DroppedNotifications, type TellDropped } from './dropped-notifications.js';
import type { Serialization } from '../types.js';
import { isHandlerNotFound } from './route.js';
import { isSystemType, kErrorReply, kFaultNoHandler, kFaultNone, kFaultShutdown, kReply, kReplyAhead, kReplyAheadBytes } from './envelope.js';
import { kMinMaxMessageBytes } from './defaults.js';
import { checkPayload } from './payload-check.js';
import { limitOwner } from './limit-owner.js';
import { cutText, serializeError } from './serialize-error.js';
import { toError } from '../to-error.js';
import { describeThrown, isError } from '../readable-error.js';
import { isThenable, settleLikeAwait } from '../is-thenable.js';

/** Size of an error reply's record around its error's fields. */
const kErrorReplyOverheadBytes = 64;
/** Estimated size of a reply-ahead record. */
const kReplyAheadRecordBytes = 16;
/**
 * Message types whose count of running handlers is kept at zero rather than deleted, so that the
 * next request of one finds its count without changing the map. Beyond them a type's count is
 * deleted at zero: a peer sending ever new types cannot grow the map.
 */
const kIdleTypesKept = 32;

/** How many handlers of one message type run. */
interface RunningCount {
  readonly type: string;
  count: number;
}

/**
 * A handler's return value that means "send no reply": the system router returns it for a
 * request it dropped (see system-router.ts).
 */
export const kNoReply: unique symbol = Symbol('clusterkit.noReply');

export interface InboundOptions {
  readonly serialization: Serialization;
  readonly maxMessageBytes: number;
  /** See `EndpointOptions.primaryMaxBytes`. */
  readonly primaryMaxBytes?: number | undefined;
  /** Handles a request or notification; see `InboundHandler` in endpoint.ts. */
  readonly handle: (type: string, payload: unknown, isRequest: boolean, id: number) => unknown;
  /** See `EndpointOptions.workTypeOf`: the system requests whose handlers count as work, and under which type. */
  readonly workTypeOf?: ((type: string, payload: unknown) => string | undefined) | undefined;
  readonly onError: (error: Error) => void;
  /** Reports what a notification's handler threw (nobody waits for its outcome); see `EndpointOptions.onHandlerError`. */
  readonly onHandlerError: (thrown: unknown, type: string, isRejection: boolean) => void;
  /** See `EndpointOptions.onDroppedNotification`. */
  readonly onDroppedNotification?: TellDropped | undefined;
  /** Writes one record to the peer. */
  readonly write: (kind: number, id: number, typeOrFault: string | number, payload: unknown, bytes: number) => void;
  /** True once the peer is gone: replies are dropped. */
  readonly isClosed: () => boolean;
  /** Counts a message sent. */
  readonly countOut: () => void;
  /**
   * False when a reply of `bytes` must not be queued: the peer leaves too much unread (it
   * floods requests without reading the replies), and the reply is dropped.
   */
  readonly mayReply: (bytes: number) => boolean;
}

export class Inbound {
  readonly #options: InboundOptions;
  /** Inbound user requests whose handlers have not settled yet, and who waits for them to. */
  #inFlight = 0;
  /**
   * Their types, with how many of each run: a stop that cannot wait for them says which (H229).
   * A handler holds its type's count, so the hot path reads the map once per request and
   * changes it only for a type it has not kept; the types are looked up only at the deadline.
   */
  readonly #running = new Map<string, RunningCount>();
  #idleWaiters: Array<() => void> = [];
  /** Notifications dropped for want of a handler near their type, told once a window. */
  readonly #dropped: DroppedNotifications | undefined;

  constructor(options: InboundOptions) {
    this.#options = options;
    this.#dropped = options.onDroppedNotification === undefined ? undefined : new DroppedNotifications(options.onDroppedNotification);
  }

  /** Resolves once no inbound user request is being handled. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Tells the dropped notifications not told yet (the endpoint closes). */
  flushDropped(): void {
    this.#dropped?.flush();
  }

  /** The user requests whose handlers still run: how many, and their types (each once). */
  running(): { count: number; types: string[] } {
    const types: string[] = [];
    for (const [type, running] of this.#running) if (running.count > 0) types.push(type);
    return { count: this.#inFlight, types };
  }

  answer(id: number, type: string, payload: unknown): void {
    let result: unknown;
    try {
      result = this.#options.handle(type, payload, true, id);
    } catch (error) {
      this.replyError(id, error);
      return;
    }
    // System requests ($shutdown itself) are not work a stopping peer waits for, but one that
    // carries a requester's work is: a relayed sendTo() waits as a send() does (H264). Its reply's
    // errors name that work's type, not `$relayed` (hostile tester t57, H543).
    const workType = isSystemType(type) ? this.#options.workTypeOf?.(type, payload) : type;
    const replyType = workType ?? type;
    if (!isThenable(result)) {
      if (isHandlerNotFound(result)) this.replyError(id, result);
      else if (result !== kNoReply) this.#reply(id, replyType, result);
      return;
    }
    const running = workType === undefined ? undefined : this.#start(workType);
    // A native promise comes back as is. Any other thenable has its then() called in a job
    // that turns a throw into a rejection and keeps only the first outcome. A `then` getter that
    // no longer gives a function when read again: the value itself, as `await` would take it.
    const promise = settleLikeAwait(result) ?? Promise.resolve(result);
    promise.then(
      (value) => {
        if (running) this.#done(running);
        // A worker still starting routes once its _init() ends: a miss comes as the value.
        if (isHandlerNotFound(value)) this.replyError(id, value);
        else this.#reply(id, replyType, value);
      },
      (error: unknown) => {
        if (running) this.#done(running);
        this.replyError(id, error);
      },
    );
  }

  deliver(type: string, payload: unknown): void {
    try {
      const result = this.#options.handle(type, payload, false, 0);
      // Nobody waits for a notification's outcome, so a failure goes to the error channel.
      if (isHandlerNotFound(result)) this.#reportHandlerError(type, result, false);
      else settleLikeAwait(result)?.then((value) => isHandlerNotFound(value) && this.#reportHandlerError(type, value, true), (error: unknown) => this.#reportHandlerError(type, error, true));
    } catch (error) {
      this.#reportHandlerError(type, error, false);
    }
  }

  #reportHandlerError(type: string, error: unknown, isRejection: boolean): void {
    // Refused as this side stops (the worker takes no new message): no handler ran, none threw (retest t64).
    if (isShutdownRefusal(error)) return;
    if (isHandlerNotFound(error)) {
      // Not consumed. A handler near its type makes it most likely a misspelling: told (hostile t64).
      const { nearMiss } = error;
      if (nearMiss !== undefined) this.#dropped?.drop(type, nearMiss);
      return;
    }
    this.#options.onHandlerError(error, type, isRejection);
  }

  #reply(id: number, type: string, value: unknown): void {
    if (this.#options.isClosed()) return; // the requester is gone: nobody to answer
    let bytes: number;
    try {
      bytes = checkPayload(value, this.#options.serialization, this.#options.maxMessageBytes, type);
    } catch (error) {
      // Too large is not unserializable: the requester gets MessageTooLargeError, saying it was the reply.
      if (isError(error) && error instanceof MessageTooLargeError) {
        // No `cause`: the size check's own error said "The payload of" the same reply (lib t58).
        this.replyError(id, new MessageTooLargeError(type, error.estimatedBytes, error.limitBytes, { isReply: true, ...limitOwner(error.estimatedBytes, error.limitBytes, this.#options.primaryMaxBytes), ...(error.why === undefined ? {} : { why: error.why }) }));
      } else this.replyError(id, replyNotSerializable(error, `the reply to "${type}"`));
      return;
    }
    if (!this.#options.mayReply(bytes)) return;
    this.#options.countOut();
    // A large reply takes many reads: announce it, so a requester busy at its deadline waits for it.
    if (bytes >= kReplyAheadBytes) this.#options.write(kReplyAhead, id, 0, null, kReplyAheadRecordBytes);
    this.#options.write(kReply, id, 0, value, bytes);
  }

  replyError(id: number, error: unknown): void {
    if (this.#options.isClosed()) return;
    // A routing miss goes as its fault and near miss alone: the requester builds its own error
    // from them (record-receiver.ts), and a flood of them cost a 450-byte reply each (hostile t64).
    const serialized = isHandlerNotFound(error)
      ? { name: error.name, message: 'No handler.', ...(error.nearMiss === undefined ? {} : { data: { nearMiss: error.nearMiss } }) }
      : fitErrorReply(serializeError(error), this.#options.serialization, this.#options.maxMessageBytes);
    // Counted at its size (a stack is kilobytes): a peer flooding requests that are refused, and
    // not reading the refusals, is held to the queue's bound in bytes, not in estimates.
    const bytes = errorReplyBytes(serialized);
    if (!this.#options.mayReply(bytes)) return;
    this.#options.countOut();
    const fault = isHandlerNotFound(error) ? kFaultNoHandler : isShutdownRefusal(error) ? kFaultShutdown : kFaultNone;
    this.#options.write(kErrorReply, id, fault, serialized, bytes);
  }

  /** A user request's handler runs: counts it under its type, whose count it holds until it settles. */
  #start(type: string): RunningCount {
    this.#inFlight++;
    let running = this.#running.get(type);
    if (running === undefined) {
      running = { type, count: 0 };
      this.#running.set(type, running);
    }
    running.count++;
    return running;
  }

  /** A user request's handler settled: wakes the `idle()` waiters once none is left. */
  #done(running: RunningCount): void {
    if (--running.count === 0 && this.#running.size > kIdleTypesKept) this.#running.delete(running.type);
    if (--this.#inFlight > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * The least an error reply is cut to, however low `maxMessageBytes` is: the lowest the options
 * accept (H355), and the primary reads 64 KiB more than its limit from a worker (the frame's
 * envelope), so this much always gets through.
 */
const kMinErrorReplyBytes = kMinMaxMessageBytes;

/**
 * `error` as it fits `limitBytes` on the wire (H330). serializeError() bounds each field, to
 * about 3.5 MiB in all with its causes; under a lower `maxMessageBytes` its `data` is left out,
 * then its causes' stacks and fields (their messages cut to 512 characters), then its stack,
 * then its causes, and its message is cut last, so that an error reply is never over the peer's
 * limit: the primary would take it for a corrupt channel and kill the worker. Never throws.
 */
export function fitErrorReply(error: SerializedError, serialization: Serialization, limitBytes: number): SerializedError {
  const budget = Math.max(limitBytes, kMinErrorReplyBytes);
  if (fits(error, serialization, budget)) return error;
  const { data: _data, ...withoutData } = error;
  if (fits(withoutData, serialization, budget)) return withoutData;
  const lighter = withoutData.cause === undefined ? withoutData : { ...withoutData, cause: lightCauses(withoutData.cause) };
  if (lighter !== withoutData && fits(lighter, serialization, budget)) return lighter;
  const { stack: _stack, ...withoutStack } = lighter;
  if (fits(withoutStack, serialization, budget)) return withoutStack;
  const { cause: _cause, ...bare } = withoutStack;
  if (fits(bare, serialization, budget)) return bare;
  // A character takes up to 6 bytes (JSON's \u0001); name and code are at most 256 each.
  return { ...bare, message: cutText(bare.message, Math.floor(budget / 12)) };
}

/** The longest message (or string value) of a cause kept when the causes are made lighter. */
const kLightCauseChars = 512;

/** `cause` and the causes below it with their names, codes and messages only, each message cut short. */
function lightCauses(cause: SerializedCause): SerializedCause {
  if (!isSerializedCauseError(cause)) {
    const { value } = cause;
    if (typeof value === 'string') return { value: cutText(value, kLightCauseChars) };
    return { value: typeof value === 'object' && value !== null ? cutText(describeThrown(value), kLightCauseChars) : value };
  }
  const light: SerializedError = { name: cause.name, message: cutText(cause.message, kLightCauseChars) };
  if (cause.code !== undefined) light.code = cause.code;
  if (cause.cause !== undefined) light.cause = lightCauses(cause.cause);
  return light;
}

function fits(error: SerializedError, serialization: Serialization, limitBytes: number): boolean {
  try {
    checkPayload(error, serialization, limitBytes, 'error reply');
    return true;
  } catch {
    return false;
  }
}

/**
 * The size of an error reply, about (UTF-16 units; `data` holds at most 32 fields of 64 KiB,
 * JSON-safe), its causes' included (at most 8, from serializeError()).
 */
function errorReplyBytes(error: SerializedError): number {
  let bytes = kErrorReplyOverheadBytes;
  let node: SerializedCause | undefined = error;
  while (node !== undefined) {
    if (!isSerializedCauseError(node)) return bytes + jsonLength(node.value);
    bytes += node.name.length + node.message.length + (node.code?.length ?? 0) + (node.stack?.length ?? 0);
    if (node.data) bytes += jsonLength(node.data);
    node = node.cause;
  }
  return bytes;
}

function isSerializedCauseError(cause: SerializedCause): cause is SerializedError {
  return 'name' in cause;
}

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

export function notSerializable(error: unknown, what: string): Error {
  if (isError(error) && error instanceof NotSerializableError) return error;
  return new NotSerializableError(what, isError(error) ? toError(error).message : describeThrown(error), { cause: error });
}

export function replyNotSerializable(error: unknown, what: string): Error {
  if (isError(error) && error instanceof NotSerializableError) {
    // `payload.user.id` in the reply is `reply.user.id`: keep the field, name the reply.
    const field = error.path === 'payload' ? '' : `, field ${error.path.replace(/^payload/, 'reply')}`;
    // No `cause`: the check's own error says the same in a payload's words ("Cannot send
    // payload.f"), which contradicted the message above it (lib t58); a condition clusterkit
    // noticed has none (errors.md). Its own `cause` (a throwing getter's error) stays.
    return new NotSerializableError(`${what}${field}`, error.reason, error.cause === undefined ? undefined : { cause: error.cause });
  }
  return notSerializable(error, what);
}

/** `instanceof ShutdownInProgressError`, false for a value it throws on (a revoked Proxy a handler threw: the under-load suite, unreadable-throws [H2]). */
function isShutdownRefusal(error: unknown): boolean {
  try {
    return error instanceof ShutdownInProgressError;
  } catch {
    return false;
  }
}
