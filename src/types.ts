/**
 * The public type vocabulary: message maps and what is derived from them.
 *
 * A message map is an interface from message type names to `{ payload; reply }`:
 *
 * ```ts
 * interface ToWorker { greet: { payload: { name: string }; reply: string } }
 * ```
 */

/** One message type: what the sender passes and what the receiving handler returns. */
export interface MessageSpec {
  payload: unknown;
  reply: unknown;
}

/**
 * Constraint for message maps. Self-referential so that interfaces qualify (an interface has
 * no index signature, so `Record<string, MessageSpec>` would reject it).
 */
export type MessageMapOf<M> = { [K in keyof M]: MessageSpec };

/** The map used when none is given: any type name, any payload, any reply. */
export type AnyMessageMap = Record<string, { payload: any; reply: any }>;

/** The message type names of a map. */
export type MessageType<M> = keyof M & string;

/** The payload of message type `K`. */
export type PayloadOf<M, K extends keyof M> = M[K] extends { payload: infer P } ? P : never;

/** The reply of message type `K`, as the receiving handler returns it (never a promise). */
export type ReplyOf<M, K extends keyof M> = M[K] extends { reply: infer R } ? Awaited<R> : never;

/** A handler may answer synchronously or with a promise. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The payload argument of `send`/`notify`: optional when the payload type is `void` or
 * `undefined`, required otherwise.
 */
export type PayloadArg<M, K extends keyof M> = [PayloadOf<M, K>] extends [void | undefined]
  ? [payload?: PayloadOf<M, K>]
  : [payload: PayloadOf<M, K>];

/** Options of a request (`send`). */
export interface SendOptions {
  /**
   * How long to wait for the reply before rejecting with `MessageTimeoutError`.
   * `Infinity` waits as long as the peer lives (a dead peer still rejects at once).
   * @default the `messageTimeoutMs` option of the sender (30 000)
   */
  timeoutMs?: number;
  /** Abort waiting for the reply; the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** The outcome of one worker in a broadcast, like `Promise.allSettled`, with the worker. */
export type BroadcastResult<Handle, R> =
  | { status: 'fulfilled'; worker: Handle; value: R }
  | { status: 'rejected'; worker: Handle; reason: Error };

/** Serialization used on the IPC channel (see `docs/messaging.md`). */
export type Serialization = 'json' | 'advanced';

/**
 * Maps each message type to its handler method, or to nothing for an untyped map (one with an
 * index signature): untyped primaries and workers may define any `_onMessage_` method.
 */
export type HandlerSlots<M, Context> = string extends MessageType<M>
  ? unknown
  : {
      [K in MessageType<M> as `_onMessage_${K}`]?: (payload: PayloadOf<M, K>, context: Context) => MaybePromise<ReplyOf<M, K>>;
    };
