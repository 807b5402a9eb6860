/**
 * The outbound side of one IPC channel, and the place where writes are coalesced.
 *
 * Records written in the same tick go out as one frame (one IPC message) at the end of the
 * tick: one serialization and one write instead of one per message, which is where raw
 * per-message `process.send` spends its time. A lone message is not delayed by a tick: the
 * flush runs on `process.nextTick`, before the event loop moves on. On the primary, a flush
 * that finds many records queued (load, not a lone message) waits once more, for
 * `setImmediate`, so that frames from several workers read in the same poll phase are answered
 * with one write per worker. A worker has one peer, so waiting would gain it nothing.
 *
 * Back-pressure: `send()` returning false means Node's write queue is over 128 KiB. Writing
 * goes on while less than `kMaxBytesInFlight` is in flight (so the pipe never idles while the
 * next frame is serialized), then waits for the writes to complete; records wait here, where
 * `queuedBytes` makes the backlog visible.
 *
 * A channel can start held: records queue until `open()`, for a peer that cannot receive yet.
 *
 * A process may exit before its end-of-tick flush runs (`notify()` then `process.exit()`, in an
 * uncaughtException handler say). What is queued then is written synchronously from the
 * process's 'exit' event, as a raw `process.send()` would have written it (see exit-flush.ts).
 */
import { encodeBulk, kBulkMinBytes, kBulkTrailerBytes, writeBulkTrailer } from './bulk-codec.js';
import { frame, kBulk, kMarker, kNoPayload, kNotify, kProtocolVersion, kRecordSize, kReply, kRequest } from './envelope.js';
import { isProcessExiting, trackQueued, untrackQueued } from './exit-flush.js';

/** What a channel needs from `process` (worker side) or a `ChildProcess` (primary side). */
export interface IpcPort {
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  readonly connected: boolean;
}

/**
 * Called for a record that could not be written at all (serialization failed, channel closed),
 * with the record's fields. One handler for all records, so a record carries no closure.
 */
export type WriteFailure = (kind: number, id: number, typeOrFault: unknown, error: unknown) => void;

/** The failure given to queued records when the channel closed before they were written. */
export class ChannelClosedError extends Error {
  constructor() {
    super('The IPC channel closed before the message was written.');
  }
}

/** A flush finding at least this many records queued is under load and may wait for setImmediate. */
const kDeferAtRecords = 8;
/** Bytes that may be in flight (written, not yet completed) after `send()` signalled back-pressure. */
const kMaxBytesInFlight = 8 * 1024 * 1024;
/**
 * Bulk bytes that may wait in the bulk pipe's stream before writing stops: the frames that name
 * them are already on the IPC channel, and the receiver holds each until its bytes come
 * (bulk-reader.ts bounds how many).
 */
const kMaxBulkQueuedBytes = 1024 * 1024;
/**
 * The fewest estimated bytes of bulk candidates for which a frame uses the bulk pipe. A second
 * pipe costs a second write and a second wake-up of the reader: for a lone message of a few
 * kilobytes that is more than JSON costs (measured on a 2-core VM, sequential round trips, p50:
 * 2 KB took 220 µs through it against 97 µs without, 4 KB 245 against 122, 10 KB 236 to 260
 * against 198, 30 KB 245 against 296, 100 KB 461 against 802). Pipelined 10 KB messages need it
 * low: with 16 KiB, frames of one such message stayed JSON, and 64 in flight ran at 1.25x raw
 * against 1.45x without the bound. 8 KiB keeps small messages off the pipe, and 10 KB ones on it.
 */
const kBulkMinFrameBytes = 8 * 1024;

/**
 * Frames stop growing at this many records or estimated bytes; bigger messages go alone. The
 * byte cap is small on purpose: the receiver parses nothing of a frame before all of it has
 * arrived, so huge frames stall the pipeline (32 KiB measured best for 10 KB messages: 1.6x
 * raw, against 0.7x with 256 KiB frames).
 */
export const kMaxFrameRecords = 1024;
export const kMaxFrameBytes = 32 * 1024;

/** Records waiting to go out in one frame. */
/** Whether a frame was handed to Node: what a request whose record it holds keeps (pending.ts `frame`), not the frame and its payloads. */
export interface FrameStatus {
  isSent: boolean;
}

class PendingFrame {
  readonly records: unknown[] = [];
  /** `isSent` set as it is handed to Node: the records in it are written, no longer withdrawn. */
  readonly status: FrameStatus = { isSent: false };
  bytes = 0;
  /** `bytes` as the frame cap counts them (`kMaxFrameBytes`). */
  capBytes = 0;
  /** Records that may go bulk (bulk-codec.ts), in pairs: index in `records`, estimated bytes. */
  bulkCandidates: number[] | undefined;
}

/**
 * The bulk pipe of a channel (bulk-channel.ts): a stream that carries the bytes of long
 * strings, in the order their frames are written.
 */
export interface BulkPort {
  write(chunk: Buffer, callback: (error?: Error | null) => void): boolean;
  /**
   * Bytes still waiting to be written, in two queues: the stream's and the operating system
   * write's. Either shrinking means the peer reads (see `lastDrainAt`).
   */
  queued(): { stream: number; system: number };
}

export interface ChannelStats {
  /** IPC writes issued (one per frame). */
  writes: number;
  /** Records written. */
  messages: number;
}

export class Channel {
  readonly #port: IpcPort;
  readonly #onFailure: WriteFailure;
  /** True for a request whose caller gave up before its frame went out: it is left out, never written. */
  readonly #isWithdrawn: ((id: number) => boolean) | undefined;
  readonly #onWriteError: (error: Error) => void;
  /** Called after a flush handed frames to Node: the queue shrank, waiting senders may go on. */
  readonly #onFlushed: () => void;
  /** Frames waiting to be written, oldest first; the last one takes new records. */
  #frames: PendingFrame[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  /** Set while a flush under load waits for setImmediate; at most one such wait per flush. */
  #isDeferred = false;
  #queuedRecords = 0;
  /** Set when Node signalled back-pressure and the bytes in flight reached the budget. */
  #congested = false;
  /** Set when `send()` returned false; cleared when every write in flight has completed. */
  #isNodeQueueFull = false;
  #writesInFlight = 0;
  /** Estimated bytes of the writes in flight, in completion order. */
  #inFlight: number[] = [];
  #bytesInFlight = 0;
  /** False while held (the peer cannot receive yet); see `open()`. */
  #isOpen: boolean;
  /**
   * When a write last completed while Node's queue was backed up (ms since epoch, 0 before).
   * With a backlog, a write completes only as the peer reads: its event loop is turning, even
   * if it has sent nothing back (the heartbeat reads this).
   */
  #lastDrainAt = 0;
  /** Resolvers of `drain()` calls, settled when nothing is queued or in flight. */
  #drainWaiters: Array<() => void> = [];
  readonly stats: ChannelStats = { writes: 0, messages: 0 };

  /** Set once the peer reads the bulk pipe (bulk-channel.ts); `json` channels only. */
  #bulk: BulkPort | undefined;
  /** The bulk pipe's queues when `lastDrainAt` last looked. */
  #bulkQueued = { stream: 0, system: 0 };
  /** Frames written with bulk bytes: the number in the next one's trailer (bulk-codec.ts). */
  #bulkFrames = 0;
  /** Whether a loaded flush may wait for setImmediate (a process with several peers). */
  readonly #deferUnderLoad: boolean;

  constructor(
    port: IpcPort,
    handlers: { onFailure: WriteFailure; onWriteError: (error: Error) => void; onFlushed?: () => void; isWithdrawn?: (id: number) => boolean },
    options: { held?: boolean; deferUnderLoad?: boolean } = {},
  ) {
    this.#port = port;
    this.#onFailure = handlers.onFailure;
    this.#isWithdrawn = handlers.isWithdrawn;
    this.#onWriteError = handlers.onWriteError;
    this.#onFlushed = handlers.onFlushed ?? (() => {});
    this.#isOpen = !options.held;
    this.#deferUnderLoad = options.deferUnderLoad ?? false;
  }

  get isConnected(): boolean {
    return this.#port.connected;
  }

  /**
   * When the peer last took data off a backed-up channel (ms since epoch); 0 if never. On the
   * bulk pipe, one write may carry megabytes (the stream merges what waited into one), which
   * completes only once all of it is read: there, a queue that shrank since the last look counts.
   */
  get lastDrainAt(): number {
    const bulk = this.#bulk;
    if (bulk !== undefined) {
      const { stream, system } = bulk.queued();
      const last = this.#bulkQueued;
      if ((stream < last.stream || system < last.system) && (last.stream > 0 || last.system > 0)) this.#lastDrainAt = Date.now();
      this.#bulkQueued = { stream, system };
    }
    return this.#lastDrainAt;
  }

  /** Estimated bytes waiting to be written. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Starts writing (a held channel): everything queued so far goes out, in order. */
  open(): void {
    if (this.#isOpen) return;
    this.#isOpen = true;
    this.#scheduleFlush();
  }

  /** Long strings go out on `port` from now on (bulk-channel.ts); `undefined` stops that. */
  setBulk(port: BulkPort | undefined): void {
    this.#bulk = port;
  }

  /** Queues one record (see envelope.ts) for the end-of-tick flush; returns the status of the frame that holds it. */
  write(kind: number, id: number, typeOrFault: string | number, payload: unknown, bytes: number): FrameStatus {
    const isBulkCandidate = this.#bulk !== undefined && bytes >= kBulkMinBytes && (kind === kRequest || kind === kReply || kind === kNotify);
    // A bulk candidate counts half toward the frame's cap: frames of long strings on the bulk
    // pipe are best at 64 KiB (10 KB messages: 1.5x raw, against 1.2x at 32 KiB).
    const capBytes = isBulkCandidate ? bytes / 2 : bytes;
    let pending = this.#frames[this.#frames.length - 1];
    if (!pending || pending.records.length >= kMaxFrameRecords * kRecordSize || (pending.capBytes > 0 && pending.capBytes + capBytes > kMaxFrameBytes)) {
      if (!pending) trackQueued(this);
      pending = new PendingFrame();
      this.#frames.push(pending);
    }
    if (isBulkCandidate) (pending.bulkCandidates ??= []).push(pending.records.length, bytes);
    pending.records.push(kind, id, typeOrFault, payload);
    pending.bytes += bytes;
    pending.capBytes += capBytes;
    this.#queuedBytes += bytes;
    this.#queuedRecords++;
    this.#scheduleFlush();
    return pending.status;
  }

  /**
   * `write()` then `flushNow()`, for a record nothing else follows to this peer in the caller's
   * turn (a broadcast's request). With nothing queued before it, it goes out at once as a frame
   * of its own, without a pending frame or an end-of-tick flush: a broadcast is latency-bound,
   * and each of these costs a lone request more than its write.
   */
  writeNow(kind: number, id: number, typeOrFault: string | number, payload: unknown, bytes: number): FrameStatus | undefined {
    if (this.#frames.length === 0 && this.#isOpen && !this.#congested && !(this.#bulk !== undefined && bytes >= kBulkMinBytes) && this.#port.connected && !isProcessExiting()) {
      this.#send([kind, id, typeOrFault, payload], bytes);
      return undefined;
    }
    const frame = this.write(kind, id, typeOrFault, payload, bytes);
    this.flushNow();
    return frame;
  }

  /** Resolves once everything queued so far has been handed to the operating system. */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Writes what is queued now, synchronously and in order, while Node writes without queueing
   * (`send()` returns true): the process is exiting, and nothing queued in Node survives it. A
   * held channel is skipped: its peer cannot receive yet.
   */
  writeQueuedNow(): void {
    if (!this.#isOpen || !this.#port.connected) return;
    while (this.#frames.length > 0 && !this.#isNodeQueueFull) this.#sendOldest();
    if (this.#frames.length === 0) untrackQueued(this);
  }

  /**
   * Writes the queued frames now, synchronously, when the channel is open and not congested; the
   * end-of-tick flush then finds nothing left. Order is kept: frames always go out oldest first.
   */
  flushNow(): void {
    if (!this.#isOpen || this.#congested || this.#frames.length === 0 || !this.#port.connected || isProcessExiting()) return;
    this.#writeQueued();
  }

  #scheduleFlush(): void {
    if (isProcessExiting()) {
      this.writeQueuedNow(); // written in an 'exit' listener: there is no next tick
      return;
    }
    if (this.#flushScheduled || this.#congested || !this.#isOpen || this.#frames.length === 0) return;
    this.#flushScheduled = true;
    process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    if (this.#deferUnderLoad && !this.#isDeferred && this.#queuedRecords >= kDeferAtRecords) {
      this.#isDeferred = true;
      setImmediate(this.#flush);
      return;
    }
    this.#flushScheduled = false;
    this.#isDeferred = false;
    if (!this.#port.connected) {
      this.#failQueued(new ChannelClosedError());
      return;
    }
    this.#writeQueued();
  };

  /** Writes the queued frames, oldest first, until none is left or the channel is congested. */
  #writeQueued(): void {
    let wrote = false;
    while (this.#frames.length > 0 && !this.#congested) {
      this.#sendOldest();
      wrote = true;
    }
    if (this.#frames.length === 0) untrackQueued(this);
    this.#settleDrainWaiters();
    if (wrote) this.#onFlushed();
  }

  /** Takes the oldest frame off the queue and writes it. */
  #sendOldest(): void {
    const pending = this.#frames.shift()!;
    pending.status.isSent = true;
    this.#queuedBytes -= pending.bytes;
    this.#queuedRecords -= pending.records.length / kRecordSize;
    const kept = this.#isWithdrawn === undefined ? undefined : withoutWithdrawn(pending, this.#isWithdrawn);
    if (kept === undefined) this.#send(pending.records, pending.bytes, pending.bulkCandidates);
    else if (kept.records.length > 0) this.#send(kept.records, pending.bytes, kept.bulkCandidates);
  }

  #send(records: unknown[], bytes: number, bulkCandidates?: number[]): void {
    let accepted: boolean;
    const bulk = bulkCandidates !== undefined && this.#bulk !== undefined && !isProcessExiting() ? encodeFrame(records, bulkCandidates) : undefined;
    try {
      accepted = this.#port.send(bulk?.message ?? frame(records), this.#onWriteDone);
    } catch (error) {
      // Serialization failed for something the payload check could not foresee (a throwing
      // getter or toJSON, a host object). Send the records one by one so only the culprit fails.
      if (records.length === kRecordSize) this.#onFailure(records[0] as number, records[1] as number, records[2], error);
      else for (let i = 0; i < records.length; i += kRecordSize) this.#send(records.slice(i, i + kRecordSize), 0);
      return;
    }
    this.#writesInFlight++;
    this.#inFlight.push(bytes);
    this.#bytesInFlight += bytes;
    this.stats.writes++;
    this.stats.messages += records.length / kRecordSize;
    if (bulk !== undefined) {
      // After the frame: had the frame failed to serialize, these bytes would have no frame.
      // The receiver holds a frame until its bytes have arrived.
      writeBulkTrailer(bulk.bytes, this.#bulkFrames++);
      if (!this.#bulk!.write(bulk.bytes, this.#onWriteDone)) accepted = false;
      this.#writesInFlight++;
      this.#inFlight.push(0);
    }
    if (!accepted) this.#isNodeQueueFull = true;
    if (this.#isNodeQueueFull && (this.#bytesInFlight >= kMaxBytesInFlight || this.#bulkStreamBytes() > kMaxBulkQueuedBytes)) this.#congested = true;
  }

  /** Bytes waiting in the bulk pipe's stream (0 without one). */
  #bulkStreamBytes(): number {
    return this.#bulk === undefined ? 0 : this.#bulk.queued().stream;
  }

  // Node completes writes in order, so the oldest entry of #inFlight is the one completing.
  // With a bulk pipe the two pipes' completions interleave: the bytes counted are then off for
  // a while, never lost (every entry is taken once), and exact whenever nothing is in flight.
  readonly #onWriteDone = (error?: Error | null): void => {
    this.#writesInFlight--;
    this.#bytesInFlight -= this.#inFlight.shift() ?? 0;
    if (this.#isNodeQueueFull && !error) this.#lastDrainAt = Date.now();
    if (error) this.#onWriteError(error);
    if (this.#writesInFlight === 0) this.#isNodeQueueFull = false;
    if (this.#congested && (this.#writesInFlight === 0 || (this.#bytesInFlight < kMaxBytesInFlight / 2 && this.#bulkStreamBytes() <= kMaxBulkQueuedBytes / 2))) {
      this.#congested = false;
      this.#scheduleFlush();
    }
    this.#settleDrainWaiters();
  };

  #failQueued(error: Error): void {
    const frames = this.#frames;
    this.#frames = [];
    untrackQueued(this);
    this.#queuedBytes = 0;
    this.#queuedRecords = 0;
    for (const pending of frames) {
      const records = pending.records;
      for (let i = 0; i < records.length; i += kRecordSize) this.#onFailure(records[i] as number, records[i + 1] as number, records[i + 2], error);
    }
    this.#settleDrainWaiters();
  }

  #isIdle(): boolean {
    return this.#frames.length === 0 && this.#writesInFlight === 0;
  }

  #settleDrainWaiters(): void {
    if (this.#drainWaiters.length === 0 || !(this.#isIdle() || !this.#port.connected)) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A frame whose long strings go on the bulk pipe: the IPC message, and the bytes. */
interface BulkFrame {
  message: { [kMarker]: typeof kProtocolVersion; m: unknown[]; b: number[] };
  bytes: Buffer;
}

/**
 * The frame of `records` with the candidates' long strings taken out (bulk-codec.ts), or
 * `undefined` when none was worth it. `records` is left as it is: if the frame fails to
 * serialize, it is sent again record by record, as plain JSON.
 */
function encodeFrame(records: unknown[], candidates: number[]): BulkFrame | undefined {
  let candidateBytes = 0;
  for (let c = 1; c < candidates.length; c += 2) candidateBytes += candidates[c]!;
  if (candidateBytes < kBulkMinFrameBytes) return undefined;
  let out: unknown[] | undefined;
  const strings: string[] = [];
  for (let c = 0; c < candidates.length; c += 2) {
    const index = candidates[c]!;
    let encoded;
    try {
      encoded = encodeBulk(records[index + 3], candidates[c + 1]!);
    } catch {
      continue; // sent as plain JSON, whose serialization throws again, where that is handled
    }
    if (encoded === undefined) continue;
    out ??= records.slice();
    out[index] = ((out[index] as number) & ~kNoPayload) | kBulk;
    out[index + 3] = encoded.field;
    for (const text of encoded.strings) strings.push(text);
  }
  if (out === undefined) return undefined;
  const lengths = strings.map((text) => Buffer.byteLength(text));
  // The trailer is written as the bytes go out (#send): only frames really sent are numbered.
  const bytes = Buffer.allocUnsafe(lengths.reduce((sum, length) => sum + length, 0) + kBulkTrailerBytes);
  let offset = 0;
  for (let i = 0; i < strings.length; i++) offset += bytes.write(strings[i]!, offset, lengths[i]!, 'utf8');
  return { message: { [kMarker]: kProtocolVersion, m: out, b: lengths }, bytes };
}

/**
 * `frame`'s records without the requests withdrawn while it waited (aborted, or timed out and
 * said never sent, hostile t68 F2): a caller told its request was aborted must not have it run.
 * Undefined when none was (the common case: one look per request). Bulk candidates follow their
 * records to their new places.
 */
function withoutWithdrawn(frame: PendingFrame, isWithdrawn: (id: number) => boolean): { records: unknown[]; bulkCandidates: number[] | undefined } | undefined {
  const { records } = frame;
  // Made at the first withdrawn record: where each kept record lands, and the kept records.
  let kept: unknown[] | undefined;
  let moved: Map<number, number> | undefined;
  for (let i = 0; i < records.length; i += kRecordSize) {
    const isGone = ((records[i] as number) & ~kNoPayload) === kRequest && isWithdrawn(records[i + 1] as number);
    if (isGone && kept === undefined) {
      kept = records.slice(0, i);
      moved = new Map();
      for (let before = 0; before < i; before += kRecordSize) moved.set(before, before);
    }
    if (isGone || kept === undefined) continue;
    moved!.set(i, kept.length);
    kept.push(records[i], records[i + 1], records[i + 2], records[i + 3]);
  }
  if (kept === undefined) return undefined;
  let bulkCandidates: number[] | undefined;
  const candidates = frame.bulkCandidates ?? [];
  for (let i = 0; i < candidates.length; i += 2) {
    const at = moved!.get(candidates[i]!);
    if (at !== undefined) (bulkCandidates ??= []).push(at, candidates[i + 1]!);
  }
  return { records: kept, bulkCandidates };
}
