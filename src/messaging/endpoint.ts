/**
 * One end of a conversation with one peer (the primary's view of a worker, or a worker's view
 * of the primary): requests with replies and timeouts, notifications, and the inbound side.
 *
 * Protocol traffic is routed here first (record-receiver.ts): a reply goes to the pending table
 * by its id before anything reaches user code, so a throwing user handler can never disturb the
 * bookkeeping.
 */
import { MessageTimeoutError, MessageTooLargeError, type SerializedError } from '../errors.js';
import type { Serialization } from '../types.js';
import type { EndpointOptions, EndpointStats } from './endpoint-options.js';
import { Admission } from './admission.js';
import { BulkReader } from './bulk-reader.js';
import { Channel, ChannelClosedError, type BulkPort, type FrameStatus } from './channel.js';
import { fitErrorReply, Inbound, notSerializable, replyNotSerializable } from './inbound.js';
import { kNoPayload, kNotify, kReply, kRequest } from './envelope.js';
import { checkPayload } from './payload-check.js';
import { limitOwner } from './limit-owner.js';
import { abortReason, nextRequestId, PendingRequests } from './pending.js';
import { RecordReceiver } from './record-receiver.js';
import { kMetricsRequest, kPingRequest, kRelayedRequest, kShutdownRequest, kSyncRequest } from './system-types.js';
import { isError } from '../readable-error.js';
import { toError } from '../to-error.js';
import { stackless } from '../stackless.js';
import { isAborted } from './on-abort.js';

export type { EndpointOptions, EndpointStats, InboundHandler } from './endpoint-options.js';

/**
 * Supervision requests never wait behind user requests for a pending slot: a worker whose slots
 * are all taken by slow requests must still answer its heartbeat, stop when asked, and be scraped;
 * and a stopping worker's `$sync`, which its stop needs to be correct, is sent however many of its
 * `sendTo()` requests wait (H265: it waited for a slot, or was refused, and the stop went on without it).
 */
const kUnqueuedTypes: ReadonlySet<string> = new Set([kPingRequest, kShutdownRequest, kMetricsRequest, kSyncRequest]);

/**
 * A worker's `sendTo()` relayed by the primary (relay.ts) takes none of the primary's own slots:
 * relay.ts bounds each sender's share of the target, so that one sender's open requests cannot
 * hold back another's, nor the primary's `send()` (H471). It still keeps to the bound on bytes
 * queued for the peer (`kMaxQueuedBytes`): senders flooding a target that reads slowly wait for
 * room, and do not grow the primary's write queue past it (code review of H471).
 */
const isRelayed = (type: string): boolean => type === kRelayedRequest;

/** Room left in a notice around the error it carries (`{ error: ... }`). */
const kNoticeEnvelopeBytes = 64;

/** Distinct types `takeReadTypes()` keeps: a worker sending many types cannot grow it. */
const kMaxReadTypes = 8;

export class Endpoint {
  readonly #options: EndpointOptions;
  readonly #channel: Channel;
  /** The types received since `takeReadTypes()` was last called. */
  readonly #readTypes = new Set<string>();
  readonly #pending: PendingRequests;
  readonly #admission: Admission;
  /** Set by `close()`: the error every later request rejects with. */
  #closedBy: ((type: string, isNotice?: boolean) => Error) | undefined;
  readonly #inbound: Inbound;
  readonly #receiver: RecordReceiver;
  readonly #bulkReader: BulkReader;
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
        isWithdrawn: (id) => !this.#pending.has(id),
      },
      { held: options.held ?? false, deferUnderLoad: options.hasManyPeers ?? false },
    );
    this.#pending = new PendingRequests(
      // One that never left the queue says so, and behind how many (H471): not that the peer is slow.
      // A relay waits for bytes only: none of the primary's own requests is ahead of it.
      // Those ahead of it as it was queued, or at its deadline when more (retest t51: `behind 1` for one queued behind 100 that timed out first), never past the limit.
      // One sent after a wait of a tenth of its time or more says so (newcomer t64: a queue's wait blamed on the handler).
      (request, timeoutMs) => {
        const make = (): MessageTimeoutError =>
          new MessageTimeoutError(
            request.type,
            timeoutMs,
            options.describePeer(),
            // Still in the channel's frame (a flood's congested channel, a long synchronous stretch
            // before the flush): never written, and withdrawn from it (retest t68 #3).
            request.isWaiting ? (request.isSeparate ? 0 : Math.min(options.maxPending, Math.max(this.#pending.ownInFlight, request.aheadWhenQueued))) : request.isUnsent ? 0 : undefined,
            !request.isWaiting && request.queuedMs !== undefined && request.queuedMs >= timeoutMs / 10 ? request.queuedMs : undefined,
          );
        // A relay's: made again under the user's type before anyone sees it (relay.ts, cluster-worker.ts).
        // Its frames, only our timers', cost most of a relay flood's expiry (hostile t67 F3).
        return request.isSeparate ? stackless(make) : make();
      },
      () => this.#admission.admitWaiting(),
      isRelayed,
      options.keepsSlotUntilAnswered,
    );
    this.#inbound = new Inbound({
      serialization: options.serialization,
      maxMessageBytes: options.maxMessageBytes,
      primaryMaxBytes: options.primaryMaxBytes,
      handle: options.onInbound,
      workTypeOf: options.workTypeOf,
      onError: options.onError,
      onHandlerError: options.onHandlerError ?? ((thrown, type) => options.onError(toError(thrown, `The handler for notification "${type}" threw`))),
      onDroppedNotification: options.onDroppedNotification,
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
      pendingCount: () => this.#pending.ownInFlight,
      queuedBytes: () => this.#channel.queuedBytes,
    });
    this.#receiver = new RecordReceiver({
      pending: this.#pending,
      inbound: this.#inbound,
      stats: this.stats,
      describePeer: options.describePeer,
      onProtocolError: options.onProtocolError,
      ...(options.notesReadTypes
        ? {
            onType: (type: string) => {
              if (this.#readTypes.size < kMaxReadTypes) this.#readTypes.add(type);
            },
          }
        : {}),
    });
    this.#bulkReader = new BulkReader(
      (message) => this.#receiver.receive(message),
      () => options.onProtocolError?.('malformed-frame'),
      (reason, side) => options.onBulkCorrupt?.(reason, side),
      options.bulkReadLimitBytes ?? options.maxMessageBytes,
      options.bytesRead,
    );
  }

  /** Requests written and awaiting replies (not those still waiting for admission). */
  get pendingCount(): number {
    return this.#pending.inFlight;
  }

  /** `pendingCount`, of the types `isCounted` accepts. */
  pendingCountOf(isCounted: (type: string) => boolean): number {
    return this.#pending.inFlightOf(isCounted);
  }

  /** Requests timed out or aborted before their reply, so far (`PendingRequests.givenUp`). */
  get givenUpCount(): number {
    return this.#pending.givenUp;
  }

  /** Of `givenUpCount`, those whose requester exited (`PendingRequests.requesterExited`). */
  get requesterExitedCount(): number {
    return this.#pending.requesterExited;
  }

  get isClosed(): boolean {
    return this.#closedBy !== undefined;
  }

  get channel(): Channel {
    return this.#channel;
  }

  /** How this endpoint's channel serializes: what its payloads are checked against. */
  get serialization(): Serialization {
    return this.#options.serialization;
  }

  /**
   * `error` as it fits in a notice of this endpoint (an `_init` or `_destroy` failure), as an
   * error reply is fit (inbound.ts): with its cause chain (H352), it may be over a low
   * `maxMessageBytes`, and a notice over it would be refused, the failure it reports lost.
   */
  fitError(error: SerializedError): SerializedError {
    return fitErrorReply(error, this.#options.serialization, this.#options.maxMessageBytes - kNoticeEnvelopeBytes);
  }

  /** Sends a request; the promise settles with the peer handler's reply. Never throws. */
  request(type: string, payload: unknown, timeoutMs?: number, signal?: AbortSignal): Promise<unknown> {
    try {
      if (this.#closedBy) return Promise.reject(this.#closedBy(type));
      if (!this.#channel.isConnected) return Promise.reject(this.#options.channelClosedError(type));
      if (signal !== undefined && isAborted(signal)) return Promise.reject(abortReason(signal));
      const refusal = this.#options.refuse?.(type);
      if (refusal !== undefined) return Promise.reject(refusal);
      const bytes = this.#check(payload, type);
      return this.#admit(type, payload, bytes, timeoutMs ?? this.#options.defaultTimeoutMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `request()` for a payload the caller has already checked with `checkPayload()` against this
   * endpoint's serialization and limit, `bytes` being the estimate it returned: a broadcast
   * checks its payload once for every worker. Never throws.
   */
  requestChecked(type: string, payload: unknown, bytes: number, timeoutMs?: number, signal?: AbortSignal): Promise<unknown> {
    try {
      if (this.#closedBy) return Promise.reject(this.#closedBy(type));
      if (!this.#channel.isConnected) return Promise.reject(this.#options.channelClosedError(type));
      if (signal !== undefined && isAborted(signal)) return Promise.reject(abortReason(signal));
      const refusal = this.#options.refuse?.(type);
      if (refusal !== undefined) return Promise.reject(refusal);
      return this.#admit(type, payload, bytes, timeoutMs ?? this.#options.defaultTimeoutMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `requestChecked()` for a caller that gathers the outcomes of many requests into one result
   * (a broadcast): the reply goes to `onReply`, a failure to `onError`, exactly one of them
   * called once, when the request settles (at once for a request refused here). No promise is
   * made for it, and the request is written now rather than at the end of the tick: nothing else
   * goes to this peer in the caller's turn, and the peer starts on it while the caller prepares
   * the next one. Never throws.
   */
  requestInto(type: string, payload: unknown, bytes: number, timeoutMs: number | undefined, signal: AbortSignal | undefined, onReply: (value: unknown) => void, onError: (error: Error) => void): void {
    let id: number;
    try {
      if (this.#closedBy) return onError(this.#closedBy(type));
      if (!this.#channel.isConnected) return onError(this.#options.channelClosedError(type));
      if (signal !== undefined && isAborted(signal)) return onError(abortReason(signal));
      const refusal = this.#options.refuse?.(type);
      if (refusal !== undefined) return onError(refusal);
      const timeout = timeoutMs ?? this.#options.defaultTimeoutMs;
      if (!this.#mayGo(type, bytes)) {
        this.#enqueue(type, payload, bytes, timeout, signal).then(onReply, onError);
        return;
      }
      id = nextRequestId();
      this.#pending.register(id, type, timeout, signal, onReply, onError);
    } catch (error) {
      return onError(error as Error);
    }
    this.stats.messagesOut++;
    // With a signal, at the end of the tick as any request: one aborted in the caller's tick is
    // then withdrawn, never written (retest t68b: an aborted broadcast ran on every worker).
    this.#writeRequest(id, type, payload, bytes, signal === undefined);
  }

  /**
   * Writes what is queued now instead of at the end of the tick. For a caller that knows nothing
   * more will follow to this peer in this tick (a broadcast): the peer starts on its message
   * while the caller prepares the next peer's.
   */
  flushNow(): void {
    this.#channel.flushNow();
  }

  /** The payload's bytes on the wire; throws `checkPayload`'s errors, in a worker saying whose limit it met (`limit-owner.ts`). */
  #check(payload: unknown, type: string): number {
    // The primary's own option is its only limit: its path stays the plain check.
    if (this.#options.primaryMaxBytes === undefined) return checkPayload(payload, this.#options.serialization, this.#options.maxMessageBytes, type);
    try {
      return checkPayload(payload, this.#options.serialization, this.#options.maxMessageBytes, type);
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) throw error;
      const { estimatedBytes, limitBytes, why } = error;
      throw new MessageTooLargeError(type, estimatedBytes, limitBytes, { ...limitOwner(estimatedBytes, limitBytes, this.#options.primaryMaxBytes), ...(why === undefined ? {} : { why }) });
    }
  }

  /** Whether a request of `type` is written now rather than queued: system requests always; a relay when the bytes fit; others when admitted. */
  #mayGo(type: string, bytes: number): boolean {
    return isRelayed(type) ? this.#admission.mayIssueBytesOnly(bytes) : this.#admission.mayIssue(bytes) || kUnqueuedTypes.has(type);
  }

  #admit(type: string, payload: unknown, bytes: number, timeout: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.#mayGo(type, bytes)) return this.#issue(type, payload, bytes, timeout, signal);
    return this.#enqueue(type, payload, bytes, timeout, signal);
  }

  /** Sends a notification (no reply). Throws at once on a bad payload or a closed channel. */
  notify(type: string, payload: unknown): void {
    if (this.#closedBy) throw this.#closedBy(type, true);
    if (!this.#channel.isConnected) throw this.#options.channelClosedError(type, true);
    // Refused as a request of its type is (a worker that stops takes no new message): before, it
    // went, and the stopping worker dropped it with a warning that its handler threw (retest t64).
    const refusal = this.#options.refuse?.(type);
    if (refusal) throw refusal;
    const bytes = this.#check(payload, type);
    if (!this.#admission.hasQueueRoom(bytes)) throw this.#admission.error();
    this.stats.messagesOut++;
    this.#write(kNotify, 0, type, payload, bytes);
  }

  /** Routes one raw IPC message that carries the clusterkit marker (record-receiver.ts). */
  receive(message: unknown): void {
    this.#bulkReader.receive(message);
  }

  /**
   * The peer has a bulk pipe (bulk-channel.ts): its frames may name bulk bytes, which are read.
   * Until then a frame that names some breaks the protocol and is dropped.
   */
  readBulk(): void {
    this.#bulkReader.enable();
  }

  /** Frames of the peer wait for their bulk bytes: nothing it sent since has been delivered. */
  get isHoldingFrames(): boolean {
    return this.#bulkReader.heldFrames > 0;
  }

  /** Frames of the peer waiting for their bulk bytes: the oldest, and every frame that came after it. */
  get heldFrames(): number {
    return this.#bulkReader.heldFrames;
  }

  /** Forgets the types noted so far (`notesReadTypes`): a read begins. */
  clearReadTypes(): void {
    if (this.#readTypes.size > 0) this.#readTypes.clear();
  }

  /**
   * The types of the messages received since the last call (at most `kMaxReadTypes`), and
   * forgets them: what a read that kept the primary busy carried (workerSlowMessage), its own
   * answers (`$metrics`) told apart from a script's messages (hostile tester t61b).
   */
  takeReadTypes(): string[] {
    const types = [...this.#readTypes];
    this.#readTypes.clear();
    return types;
  }

  /** Bytes of the bulk records decoded so far (their JSON text and their strings): what a bulk read that released them worked on. */
  get bulkBytesDecoded(): number {
    return this.#bulkReader.bytesDecoded;
  }

  /** Bytes read from the peer's bulk pipe (bulk-channel.ts). */
  receiveBulk(chunk: Buffer): void {
    this.#bulkReader.push(chunk);
  }

  /**
   * The peer's bulk pipe ended: frames still waiting for its bytes are dropped (bulk-reader.ts
   * `end()`), and with `isDiscarded` (a peer killed for what it wrote) every held frame; returns how many.
   */
  endBulk(isDiscarded = false): number {
    return this.#bulkReader.end(isDiscarded);
  }

  /**
   * Sends long strings on `port` from now on (the peer reads its bulk pipe): `json` endpoints
   * only, where they skip `JSON.stringify` (bulk-codec.ts); `undefined` stops it.
   */
  setBulk(port: BulkPort | undefined): void {
    if (this.#options.serialization === 'json') this.#channel.setBulk(port);
  }

  /**
   * Rejects every pending and waiting request with `errorFor(type, queuedBehind)` and refuses
   * new ones: the peer is gone. `queuedBehind` is set for a request never written (it waited
   * for admission): how many requests awaited replies ahead of it; a caller can retry that one
   * without running it twice (tester t51). A message sent after the close gets
   * `errorFor(type, undefined, true)`: it was never written either (lib t58: it read "before it
   * replied"). Idempotent; the first reason wins.
   */
  close(errorFor: (type: string, queuedBehind?: number, isAfterClose?: boolean, isNotice?: boolean) => Error): void {
    if (this.#closedBy) return;
    this.#closedBy = (type, isNotice) => errorFor(type, undefined, true, isNotice);
    this.#inbound.flushDropped();
    const ahead = this.#pending.ownInFlight;
    this.#admission.admitAll();
    this.#pending.rejectAll((request) => (request.isWaiting ? errorFor(request.type, request.isSeparate ? 0 : ahead) : errorFor(request.type)));
    for (const waiter of this.#roomWaiters.splice(0)) waiter.resolve();
  }

  /** Resolves once no inbound user request is being handled. */
  idle(): Promise<void> {
    return this.#inbound.idle();
  }

  /** The inbound user requests whose handlers still run: how many, and their types. */
  runningHandlers(): { count: number; types: string[] } {
    return this.#inbound.running();
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

  /** Queues one record for the end-of-tick flush, or with `isNow` writes it at once (`Channel.writeNow`). */
  #write(kind: number, id: number, typeOrFault: string | number, payload: unknown, bytes: number, isNow = false): FrameStatus | undefined {
    // JSON turns `undefined` into `null` inside the record array: flag it instead.
    if (payload === undefined) {
      kind |= kNoPayload;
      payload = null;
    }
    return isNow ? this.#channel.writeNow(kind, id, typeOrFault, payload, bytes) : this.#channel.write(kind, id, typeOrFault, payload, bytes);
  }

  /** Writes request `id` and notes the frame it waits in, if any (`PendingRequest.frame`). */
  #writeRequest(id: number, type: string, payload: unknown, bytes: number, isNow = false): void {
    const frame = this.#write(kRequest, id, type, payload, bytes, isNow);
    if (frame !== undefined) this.#pending.noteFrame(id, frame);
  }

  /**
   * A request that must wait for admission. It is registered now, so its deadline and abort
   * signal count from the call; one that settles while waiting (deadline, abort, peer gone)
   * leaves the queue and is never written.
   */
  #enqueue(type: string, payload: unknown, bytes: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.#options.backpressure === 'reject') return Promise.reject(this.#admission.error());
    const id = nextRequestId();
    const reply = this.#pending.add(id, type, timeoutMs, signal, true);
    const request = this.#pending.get(id);
    if (request !== undefined && !request.isSeparate) request.aheadWhenQueued = this.#pending.ownInFlight;
    void this.#admission
      .wait(bytes, () => !this.#pending.isWaiting(id), isRelayed(type))
      .then(() => {
        // Refused at its turn (its peer began stopping while it waited): never written, said so.
        const refusal = this.#pending.isWaiting(id) ? this.#options.refuse?.(type) : undefined;
        if (refusal !== undefined) {
          this.#pending.reject(id, refusal);
          return;
        }
        if (!this.#pending.issue(id)) return;
        this.stats.messagesOut++;
        this.#writeRequest(id, type, payload, bytes);
      });
    return reply;
  }

  #issue(type: string, payload: unknown, bytes: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    const id = nextRequestId();
    const reply = this.#pending.add(id, type, timeoutMs, signal);
    this.stats.messagesOut++;
    this.#writeRequest(id, type, payload, bytes);
    return reply;
  }

  #onWriteFailure(kind: number, id: number, typeOrFault: unknown, error: unknown): void {
    const isClosed = isError(error) && error instanceof ChannelClosedError;
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
