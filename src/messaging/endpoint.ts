/**
 * One end of a conversation with one peer (the primary's view of a worker, or a worker's view
 * of the primary): requests with replies and timeouts, notifications, and the inbound side.
 *
 * Protocol traffic is routed here first (record-receiver.ts): a reply goes to the pending table
 * by its id before anything reaches user code, so a throwing user handler can never disturb the
 * bookkeeping.
 */
import { MessageTimeoutError, type ProtocolProblem } from '../errors.js';
import type { Serialization } from '../types.js';
import { Admission } from './admission.js';
import { Channel, ChannelClosedError, type IpcPort } from './channel.js';
import { Inbound, notSerializable, replyNotSerializable } from './inbound.js';
import { kNoPayload, kNotify, kReply, kRequest } from './envelope.js';
import { checkPayload } from './payload-check.js';
import { abortReason, nextRequestId, PendingRequests } from './pending.js';
import { RecordReceiver } from './record-receiver.js';

/**
 * Answers an inbound request (`isRequest`) or notification. The return value (or the value of
 * the returned promise) is the reply; throwing or rejecting sends an error reply. Throw
 * `handlerNotFound()` when nothing handles `type`; return `kNoReply` to drop a request unanswered.
 */
export type InboundHandler = (type: string, payload: unknown, isRequest: boolean) => unknown;

export interface EndpointOptions {
  port: IpcPort;
  serialization: Serialization;
  maxMessageBytes: number;
  /** Timeout of requests that do not set their own. */
  defaultTimeoutMs: number;
  /** Requests that may wait for replies at once; beyond it, `backpressure` decides. */
  maxPending: number;
  /**
   * The option that sets `maxPending` on this side, for BackpressureError to name:
   * `maxPendingPerWorker` on the primary, `maxPending` on a worker. @default 'maxPending'
   */
  maxPendingOption?: 'maxPendingPerWorker' | 'maxPending';
  backpressure: 'reject' | 'wait';
  /** The peer in error messages: `worker 3 (pid 4242)` or `the primary`. */
  describePeer: () => string;
  onInbound: InboundHandler;
  /** The error for a request whose channel closed under it (the peer is gone). */
  channelClosedError: (type: string) => Error;
  /** Reports failures that belong to no caller (a notification handler threw...). */
  onError: (error: Error) => void;
  /**
   * Called for each frame or record dropped because it breaks the protocol (malformed, or a
   * reply to a request never sent); the system router counts and reports it. Must not throw.
   */
  onProtocolError?: (problem: ProtocolProblem, type?: string) => void;
  /** Hold outbound messages until `channel.open()`: the peer cannot receive yet. */
  held?: boolean;
  /** This process talks to several peers (the primary): coalesce writes across their frames. */
  hasManyPeers?: boolean;
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

export class Endpoint {
  readonly #options: EndpointOptions;
  readonly #channel: Channel;
  readonly #pending: PendingRequests;
  readonly #admission: Admission;
  /** Set by `close()`: the error every later request rejects with. */
  #closedBy: ((type: string) => Error) | undefined;
  readonly #inbound: Inbound;
  readonly #receiver: RecordReceiver;
  /** Callers of `whenQueueBelow()`, woken after a flush that leaves the queue under their mark. */
  #roomWaiters: Array<{ bytes: number; resolve: () => void }> = [];
  readonly stats: EndpointStats = { messagesIn: 0, messagesOut: 0, dropped: 0, unsentReplies: 0, writeErrors: 0 };

  constructor(options: EndpointOptions) {
    this.#options = options;
    this.#channel = new Channel(
      options.port,
      {
        onFailure: (kind, id, typeOrFault, error) => this.#onWriteFailure(kind, id, typeOrFault, error),
        onWriteError: () => this.stats.writeErrors++,
        onFlushed: () => this.#onFlushed(),
      },
      { held: options.held ?? false, deferUnderLoad: options.hasManyPeers ?? false },
    );
    this.#pending = new PendingRequests(
      (request, timeoutMs) => new MessageTimeoutError(request.type, timeoutMs, options.describePeer()),
      () => this.#admission.admitWaiting(),
    );
    this.#inbound = new Inbound({
      serialization: options.serialization,
      maxMessageBytes: options.maxMessageBytes,
      handle: options.onInbound,
      onError: options.onError,
      write: (kind, id, typeOrFault, payload, bytes) => this.#write(kind, id, typeOrFault, payload, bytes),
      isClosed: () => this.#closedBy !== undefined,
      countOut: () => this.stats.messagesOut++,
      mayReply: (bytes) => this.#admission.hasQueueRoom(bytes) || (this.stats.unsentReplies++, false),
    });
    this.#admission = new Admission({
      maxPending: options.maxPending,
      maxPendingOption: options.maxPendingOption ?? 'maxPending',
      backpressure: options.backpressure,
      describePeer: options.describePeer,
      pendingCount: () => this.#pending.size,
      queuedBytes: () => this.#channel.queuedBytes,
    });
    this.#receiver = new RecordReceiver({
      pending: this.#pending,
      inbound: this.#inbound,
      stats: this.stats,
      describePeer: options.describePeer,
      onProtocolError: options.onProtocolError,
    });
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  get isClosed(): boolean {
    return this.#closedBy !== undefined;
  }

  get channel(): Channel {
    return this.#channel;
  }

  /** Sends a request; the promise settles with the peer handler's reply. Never throws. */
  request(type: string, payload: unknown, timeoutMs?: number, signal?: AbortSignal): Promise<unknown> {
    try {
      if (this.#closedBy) return Promise.reject(this.#closedBy(type));
      if (!this.#channel.isConnected) return Promise.reject(this.#options.channelClosedError(type));
      if (signal?.aborted) return Promise.reject(abortReason(signal));
      const bytes = checkPayload(payload, this.#options.serialization, this.#options.maxMessageBytes, type);
      const timeout = timeoutMs ?? this.#options.defaultTimeoutMs;
      if (this.#admission.mayIssue(bytes)) return this.#issue(type, payload, bytes, timeout, signal);
      return this.#admission.wait(bytes).then(() => {
        if (this.#closedBy) throw this.#closedBy(type);
        if (signal?.aborted) throw abortReason(signal);
        return this.#issue(type, payload, bytes, timeout, signal);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends a notification (no reply). Throws at once on a bad payload or a closed channel. */
  notify(type: string, payload: unknown): void {
    if (this.#closedBy) throw this.#closedBy(type);
    if (!this.#channel.isConnected) throw this.#options.channelClosedError(type);
    const bytes = checkPayload(payload, this.#options.serialization, this.#options.maxMessageBytes, type);
    if (!this.#admission.hasQueueRoom(bytes)) throw this.#admission.error();
    this.stats.messagesOut++;
    this.#write(kNotify, 0, type, payload, bytes);
  }

  /** Routes one raw IPC message that carries the clusterkit marker (record-receiver.ts). */
  receive(message: unknown): void {
    this.#receiver.receive(message);
  }

  /**
   * Rejects every pending and waiting request with `errorFor(type)` and refuses new ones:
   * the peer is gone. Idempotent; the first reason wins.
   */
  close(errorFor: (type: string) => Error): void {
    if (this.#closedBy) return;
    this.#closedBy = errorFor;
    this.#admission.admitAll();
    this.#pending.rejectAll((request) => errorFor(request.type));
    for (const waiter of this.#roomWaiters.splice(0)) waiter.resolve();
  }

  /** Resolves once no inbound user request is being handled. */
  idle(): Promise<void> {
    return this.#inbound.idle();
  }

  /** Resolves once every queued outbound message has been handed to the OS. */
  drain(): Promise<void> {
    return this.#channel.drain();
  }

  /**
   * Resolves once fewer than `bytes` wait to be written (the peer reads again), or the
   * endpoint closed. For senders that hold messages back under back-pressure. The queue only
   * shrinks when a flush writes, so each flush checks the waiters.
   */
  whenQueueBelow(bytes: number): Promise<void> {
    if (this.#channel.queuedBytes < bytes || this.#closedBy) return Promise.resolve();
    return new Promise<void>((resolve) => this.#roomWaiters.push({ bytes, resolve }));
  }

  #onFlushed(): void {
    this.#admission.admitWaiting();
    if (this.#roomWaiters.length === 0) return;
    const queued = this.#channel.queuedBytes;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = waiters.filter((waiter) => waiter.bytes <= queued);
    for (const waiter of waiters) if (waiter.bytes > queued) waiter.resolve();
  }

  #write(kind: number, id: number, typeOrFault: string | number, payload: unknown, bytes: number): void {
    // JSON turns `undefined` into `null` inside the record array: flag it instead.
    if (payload === undefined) this.#channel.write(kind | kNoPayload, id, typeOrFault, null, bytes);
    else this.#channel.write(kind, id, typeOrFault, payload, bytes);
  }

  #issue(type: string, payload: unknown, bytes: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    const id = nextRequestId();
    const reply = this.#pending.add(id, type, timeoutMs, signal);
    this.stats.messagesOut++;
    this.#write(kRequest, id, type, payload, bytes);
    return reply;
  }

  #onWriteFailure(kind: number, id: number, typeOrFault: unknown, error: unknown): void {
    const isClosed = error instanceof ChannelClosedError;
    switch (kind & ~kNoPayload) {
      case kRequest:
        this.#pending.reject(id, isClosed ? this.#options.channelClosedError(String(typeOrFault)) : notSerializable(error, `the payload of "${String(typeOrFault)}"`));
        return;
      case kReply:
        if (!isClosed) this.#inbound.replyError(id, replyNotSerializable(error, 'the reply'));
        return;
      case kNotify:
        if (!isClosed) this.#options.onError(notSerializable(error, `the payload of "${String(typeOrFault)}"`));
        return;
      // An error reply is JSON-safe by construction; if its channel closed, nobody waits for it.
    }
  }
}
