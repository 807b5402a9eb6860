/**
 * The outbound side of one IPC channel, and the place where writes are coalesced.
 *
 * Envelopes written in the same tick are sent as one IPC message (a batch) at the end of the
 * tick: one serialization and one write instead of one per message, which is where raw
 * per-message `process.send` spends its time. A lone message is not delayed by a tick: the
 * flush runs on `process.nextTick`, before the event loop moves on.
 *
 * Back-pressure: `send()` returning false means Node's write queue is over 128 KiB. Then no
 * further write is issued until the ones in flight complete; envelopes wait here, where
 * `queuedBytes` makes the backlog visible to the endpoint's limits.
 *
 * A channel can start held: envelopes queue until `open()`, for a peer that cannot receive yet.
 */
import { batchEnvelope, type SingleEnvelope } from './envelope.js';

/** What a channel needs from `process` (worker side) or a `ChildProcess` (primary side). */
export interface IpcPort {
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  readonly connected: boolean;
}

/** Called when an envelope could not be written at all (serialization failed, channel closed). */
export type WriteFailure = (error: unknown) => void;

/** The failure given to queued envelopes when the channel closed before they were written. */
export class ChannelClosedError extends Error {
  constructor() {
    super('The IPC channel closed before the message was written.');
  }
}

/** Batches stop growing at this many messages or estimated bytes; bigger messages go alone. */
export const kMaxBatchMessages = 1024;
export const kMaxBatchBytes = 256 * 1024;

class Queued {
  constructor(
    readonly envelope: SingleEnvelope,
    readonly bytes: number,
    readonly onFailure: WriteFailure | undefined,
  ) {}
}

export interface ChannelStats {
  /** IPC writes issued (one per batch or lone message). */
  writes: number;
  /** Envelopes written. */
  messages: number;
}

export class Channel {
  readonly #port: IpcPort;
  readonly #onWriteError: (error: Error) => void;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  /** Set when `send()` returned false; cleared when every write in flight has completed. */
  #congested = false;
  #writesInFlight = 0;
  /** False while held (the peer cannot receive yet); see `open()`. */
  #isOpen: boolean;
  /** Resolvers of `drain()` calls, settled when the queue and the writes in flight are empty. */
  #drainWaiters: Array<() => void> = [];
  readonly stats: ChannelStats = { writes: 0, messages: 0 };

  constructor(port: IpcPort, onWriteError: (error: Error) => void, options: { held?: boolean } = {}) {
    this.#port = port;
    this.#onWriteError = onWriteError;
    this.#isOpen = !options.held;
  }

  /** Starts writing (a held channel): everything queued so far goes out, in order. */
  open(): void {
    if (this.#isOpen) return;
    this.#isOpen = true;
    this.#scheduleFlush();
  }

  get isConnected(): boolean {
    return this.#port.connected;
  }

  /** Estimated bytes waiting to be written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues an envelope for the end-of-tick flush. */
  write(envelope: SingleEnvelope, bytes: number, onFailure?: WriteFailure): void {
    this.#queue.push(new Queued(envelope, bytes, onFailure));
    this.#queuedBytes += bytes;
    this.#scheduleFlush();
  }

  /** Resolves once everything queued so far has been handed to the operating system. */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (!this.#port.connected) {
      this.#failQueued(new ChannelClosedError());
      return;
    }
    while (this.#queue.length > 0 && !this.#congested) this.#writeNextBatch();
    this.#settleDrainWaiters();
  };

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#congested || !this.#isOpen || this.#queue.length === 0) return;
    this.#flushScheduled = true;
    process.nextTick(this.#flush);
  }

  #writeNextBatch(): void {
    const queue = this.#queue;
    let count = 0;
    let bytes = 0;
    while (count < queue.length && count < kMaxBatchMessages) {
      const next = queue[count]!.bytes;
      if (count > 0 && bytes + next > kMaxBatchBytes) break;
      bytes += next;
      count++;
    }
    const batch = count === queue.length ? queue : queue.slice(0, count);
    this.#queue = count === queue.length ? [] : queue.slice(count);
    this.#queuedBytes -= bytes;
    this.#send(batch);
  }

  #send(batch: Queued[]): void {
    const message = batch.length === 1 ? batch[0]!.envelope : batchEnvelope(batch.map((queued) => queued.envelope));
    let accepted: boolean;
    try {
      accepted = this.#port.send(message, this.#onWriteDone);
    } catch (error) {
      // Serialization failed for something the payload check could not foresee (a throwing
      // getter or toJSON, a host object). Send the members one by one so only the culprit fails.
      if (batch.length === 1) batch[0]!.onFailure?.(error);
      else for (const queued of batch) this.#send([queued]);
      return;
    }
    this.#writesInFlight++;
    this.stats.writes++;
    this.stats.messages += batch.length;
    if (!accepted) this.#congested = true;
  }

  readonly #onWriteDone = (error: Error | null): void => {
    this.#writesInFlight--;
    if (error) this.#onWriteError(error);
    if (this.#writesInFlight === 0 && this.#congested) {
      this.#congested = false;
      this.#scheduleFlush();
    }
    this.#settleDrainWaiters();
  };

  #failQueued(error: Error): void {
    const queued = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const entry of queued) entry.onFailure?.(error);
    this.#settleDrainWaiters();
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#writesInFlight === 0;
  }

  #settleDrainWaiters(): void {
    if (this.#drainWaiters.length === 0 || !(this.#isIdle() || !this.#port.connected)) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
