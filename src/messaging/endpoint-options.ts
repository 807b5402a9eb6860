/**
 * The options and counters of an `Endpoint` (endpoint.ts).
 */
import type { ProtocolProblem } from '../errors.js';
import type { Serialization } from '../types.js';
import type { BulkFaultSide } from './bulk-reader.js';
import type { IpcPort } from './channel.js';

/**
 * Answers an inbound request (`isRequest`) or notification. The return value (or the value of
 * the returned promise) is the reply; throwing or rejecting sends an error reply. Throw or return
 * a `handlerNotFound()` miss when nothing handles `type` (routeUserMessage() returns one: no
 * throw per message); return `kNoReply` to drop a request unanswered.
 * `id` is the peer's id of a request (0 for a notification): untrusted, a forged peer may repeat one.
 */
export type InboundHandler = (type: string, payload: unknown, isRequest: boolean, id: number) => unknown;

export interface EndpointOptions {
  port: IpcPort;
  serialization: Serialization;
  maxMessageBytes: number;
  /**
   * In a worker, the primary's `maxMessageBytes` (`maxMessageBytes` is the lower of it and the
   * worker's own): a MessageTooLargeError says whose limit it met (`limit-owner.ts`). Undefined
   * on the primary. @default undefined
   */
  primaryMaxBytes?: number;
  /** Timeout of requests that do not set their own. */
  defaultTimeoutMs: number;
  /** Requests that may wait for replies at once; beyond it, `backpressure` decides. */
  maxPending: number;
  /**
   * The option that sets `maxPending` on this side, for BackpressureError to name:
   * `maxPendingPerWorker` on the primary, `maxPending` on a worker. @default 'maxPending'
   */
  maxPendingOption?: 'maxPendingPerWorker' | 'maxPending';
  /**
   * Request types whose slot under `maxPending` stays taken after their caller's timeout or
   * abort, until the peer answers: a worker's `$relay`, which the primary holds (and counts
   * against `maxPendingPerWorker`) until it answers. @default none
   */
  keepsSlotUntilAnswered?: (type: string) => boolean;
  backpressure: 'reject' | 'wait';
  /** The peer in error messages: `worker 3 (pid 4242)` or `the primary`. */
  describePeer: () => string;
  onInbound: InboundHandler;
  /**
   * For a system request that carries someone's work (a relayed `sendTo()`), the user message
   * type its handler counts under among the handlers a stop waits for; undefined for the rest.
   * User requests always count, under their own type.
   */
  workTypeOf?: (type: string, payload: unknown) => string | undefined;
  /** The error for a request whose channel closed under it (the peer is gone). */
  channelClosedError: (type: string, isNotice?: boolean) => Error;
  /** Reports failures that belong to no caller (a notification handler threw...). */
  onError: (error: Error) => void;
  /**
   * Reports what the handler of a notification of `type` threw, or the promise it returned
   * rejected with (`isRejection`): no sender waits for it, so it must not end the process
   * (`onError` when left out, with what was thrown made readable).
   */
  onHandlerError?: (thrown: unknown, type: string, isRejection: boolean) => void;
  /**
   * Tells notifications of `type` dropped for want of a handler, when the receiver has one
   * within 2 edits of it (`nearMiss`): `count` since the last time, at most once per type a
   * window of `windowMs` (see dropped-notifications.ts). Not told when left out. `types`: the
   * drops of the types past the first 32 of a window, told together at its end, had this many
   * distinct types (`type`, `nearMiss`: the first of them).
   */
  onDroppedNotification?: (type: string, nearMiss: string, count: number, windowMs: number, types?: number) => void;
  /**
   * Called for each frame or record dropped because it breaks the protocol (malformed, or a
   * reply to a request never sent); the system router counts and reports it. Must not throw.
   */
  onProtocolError?: (problem: ProtocolProblem, type?: string) => void;
  /** Hold outbound messages until `channel.open()`: the peer cannot receive yet. */
  held?: boolean;
  /** This process talks to several peers (the primary): coalesce writes across their frames. */
  hasManyPeers?: boolean;
  /**
   * Notes the types of the messages received, for `takeReadTypes()` (the primary's slow-read
   * reports, H618). Off in workers, which never take them: nothing added to their message path.
   */
  notesReadTypes?: boolean;
  /**
   * The most bytes of one message the bulk reader accepts from the peer (bulk-reader.ts).
   * @default maxMessageBytes
   */
  bulkReadLimitBytes?: number;
  /**
   * Bytes read so far from the peer's IPC channel, when they are counted (the primary's guard):
   * the bulk reader bounds the messages it holds by them. Without it, only by count.
   */
  bytesRead?: () => number;
  /** The peer's bulk pipe broke the protocol (bulk-reader.ts); nothing more is read from it. Must not throw. */
  onBulkCorrupt?: (reason: string, side: BulkFaultSide) => void;
  /**
   * Asked before a request of `type` is written, at its call and again at its turn when it waited
   * for admission: an error refuses it, unwritten (the peer is stopping, and would not run it:
   * retest t51). Undefined lets it go. Must not throw; checks the type itself (system requests
   * must pass).
   */
  refuse?: (type: string) => Error | undefined;
}

export interface EndpointStats {
  messagesIn: number;
  messagesOut: number;
  /**
   * Dropped on arrival: malformed frames and records, and replies to unknown or expired
   * requests (a late reply is not a protocol error; a malformed record or forged reply is, and
   * is reported to `onProtocolError` too).
   */
  dropped: number;
  /**
   * Replies not written because more than 64 MiB already waited to be written to the peer: it
   * does not read what it asks for. Its requests time out on its side.
   */
  unsentReplies: number;
  /**
   * Writes that failed after they were issued (EPIPE while the peer dies). Not reported as
   * errors: the peer's exit rejects its pending requests with a precise error moments later.
   */
  writeErrors: number;
}
