/**
 * The receiving side of the bulk pipe (bulk-channel.ts): joins each frame from the IPC channel
 * with its long strings from the bulk pipe, and delivers frames in the order they came.
 *
 * The two pipes are read separately, so a frame may arrive before its bytes (it waits here,
 * and every frame after it waits behind it: order is kept) or its bytes before it (they wait).
 * Both waits are bounded, because the peer may be a hostile worker: bytes no frame announced,
 * a frame announcing more than a message may carry, frames held behind bytes that never come,
 * a record that does not decode. Each is a corrupt channel: the stream offsets are lost, so
 * the reader stops and reports it once (the primary kills that worker, as for garbage on its
 * IPC channel).
 */
import { BulkDecodeError, decodeBulk, hasBulkTrailer, kBulkTrailerBytes } from './bulk-codec.js';
import { kBulk, kRecordSize, readFrame } from './envelope.js';

/**
 * Frames that may wait for their bytes at once. A writer stops while a mebibyte of its bulk bytes
 * waits (channel.ts), so its frames with bulk strings get at most about a thousand ahead of their
 * bytes; frames of small messages it writes meanwhile wait behind them too.
 */
const kMaxHeldFrames = 65_536;
/**
 * Bytes that may arrive ahead of their frames, beyond one message's limit: what a writer may
 * have in flight before it waits (channel.ts's `kMaxBytesInFlight`), twice.
 */
const kAheadBytes = 16 * 1024 * 1024;

/**
 * Where a bulk fault shows its cause (hostile t71: a frame forged through `process.send()` was
 * blamed on the pipe's descriptor): `frame`, a frame from the IPC channel announced what
 * clusterkit's frames never do; `pipe`, the bulk pipe carried bytes clusterkit never writes;
 * `either`, frames and bytes did not meet (frames waiting for bytes that never came, bytes out of
 * place), which a stranger's bytes on the pipe and a forged frame's announcement both cause.
 */
export type BulkFaultSide = 'frame' | 'pipe' | 'either';

interface HeldFrame {
  message: { m?: unknown };
  /** Byte lengths of its strings; `undefined` for a frame without bulk records. */
  lengths: number[] | undefined;
  total: number;
  /** The peer's IPC bytes read when it came (`bytesRead`), or 0 when they are not counted. */
  readAt: number;
}

export class BulkReader {
  readonly #deliver: (message: unknown) => void;
  readonly #onMalformed: () => void;
  readonly #onCorrupt: (reason: string, side: BulkFaultSide) => void;
  /** Set once the peer has a bulk pipe; before, a frame that names bulk bytes is malformed. */
  #isEnabled = false;
  /** The most bytes one frame may announce: 3 bytes of UTF-8 a character of the message limit. */
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Frames waiting, oldest first, from `#heldHead` on: taken by index (shift() would copy a long queue each time). */
  #held: Array<HeldFrame | undefined> = [];
  #heldHead = 0;
  #heldBytes = 0;
  #isCorrupt = false;
  /** The bulk pipe ended (`end()`): no byte comes any more beyond those buffered. */
  #isEnded = false;
  /** Ended, and a frame needed more bytes than came: it and every later frame with bulk strings are dropped. */
  #isTruncated = false;
  #bytesDecoded = 0;
  /** Frames with bulk bytes joined so far: the number the next one's trailer must carry. */
  #bulkFrames = 0;
  /** Counts the peer's IPC bytes read, when they are counted: frames held are bounded by them too. */
  readonly #bytesRead: (() => number) | undefined;

  /** `maxMessageBytes`: the peer's limit on one message (Infinity for none). */
  constructor(deliver: (message: unknown) => void, onMalformed: () => void, onCorrupt: (reason: string, side: BulkFaultSide) => void, maxMessageBytes: number, bytesRead?: () => number) {
    this.#deliver = deliver;
    this.#onMalformed = onMalformed;
    this.#bytesRead = bytesRead;
    this.#onCorrupt = onCorrupt;
    this.#maxFrameBytes = 3 * (maxMessageBytes + 64 * 1024);
  }

  /** The peer has a bulk pipe: frames that name bulk bytes are read from now on. */
  enable(): void {
    this.#isEnabled = true;
  }

  /** Bytes read from the bulk pipe. */
  push(chunk: Buffer): void {
    if (this.#isCorrupt) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#release();
    if (this.#buffered - this.#heldBytes > this.#maxFrameBytes + kAheadBytes) {
      this.#corrupt(`${this.#buffered - this.#heldBytes} bytes arrived on the bulk pipe that no message announced`, 'pipe');
    }
  }

  /** A frame (with the clusterkit marker) from the IPC channel. */
  receive(message: unknown): void {
    // Nothing more from a peer whose bulk pipe broke: what it sends next would come out of order
    // (the frames held are dropped), and it is being killed.
    if (this.#isCorrupt) return;
    const lengths = (message as { b?: unknown }).b;
    if (lengths === undefined && this.#heldHead === this.#held.length) {
      this.#deliver(message);
      return;
    }
    if (lengths !== undefined && !this.#isEnabled) {
      // No bulk pipe (`advanced`, CLUSTERKIT_BULK=0, another platform): nothing to wait for.
      this.#onMalformed();
      return;
    }
    // Its bytes can come no more (`end()`): what it was to carry is lost with the peer, as a
    // message Node could not write before the process ended is.
    if (lengths !== undefined && this.#isTruncated) return;
    let total = 0;
    if (lengths !== undefined) {
      if (!Array.isArray(lengths) || lengths.length > kRecordSize * 1024 * 64) return this.#corrupt('a frame\'s bulk lengths are not a list', 'frame');
      for (const length of lengths as unknown[]) {
        if (!Number.isSafeInteger(length) || (length as number) < 0) return this.#corrupt(`a frame announced a bulk string of ${String(length).slice(0, 24)} bytes`, 'frame');
        total += length as number;
      }
      if (total > this.#maxFrameBytes) return this.#corrupt(`a frame announced ${total} bytes of bulk strings, more than ${this.#maxFrameBytes}`, 'frame');
      total += kBulkTrailerBytes;
    }
    const readAt = this.#bytesRead?.() ?? 0;
    this.#held.push({ message: message as HeldFrame['message'], lengths: lengths as number[] | undefined, total, readAt });
    this.#heldBytes += total;
    if (this.heldFrames > kMaxHeldFrames) return this.#corrupt(`${this.heldFrames} frames waited for bulk bytes that did not come`, 'either');
    // What the held frames take in memory: about the IPC bytes read since the oldest still held
    // came (not since holding began: under a steady pipeline some frame may always be waiting).
    const heldIpcBytes = readAt - this.#held[this.#heldHead]!.readAt;
    if (heldIpcBytes > this.#maxFrameBytes + kAheadBytes) return this.#corrupt(`${heldIpcBytes} bytes of messages waited for bulk bytes that did not come`, 'either');
    this.#release();
  }

  /**
   * The bulk pipe ended (its EOF, read after every byte before it): the peer's process is gone,
   * or it closed its end, and no byte comes beyond those read. Bytes read ahead of their frame
   * still meet it when it comes on the IPC channel. A frame that needs more than came never
   * completes: it is dropped, and so is each later one that names bulk bytes (they are read in
   * order, behind it); frames without bulk strings held behind it are delivered, in their order.
   * Before, a worker that exited right after writing a long reply had its exit, and its pending
   * requests, wait 2 s for bytes that could not come (hostile tester t53). Returns how many
   * frames were dropped now.
   */
  end(isDiscarded = false): number {
    if (this.#isEnded || this.#isCorrupt) return 0;
    this.#isEnded = true;
    return this.#heldHead < this.#held.length ? this.#truncate(isDiscarded) : 0;
  }

  /**
   * Ended with the oldest held frame short of its bytes: drops the frames with bulk strings,
   * delivers the others. With `isDiscarded`, a peer the primary killed for what it wrote on its
   * channel: nothing held from it is trusted any more, nor delivered (hostile t79: a forged
   * `$crash` held behind a bulk record whose bytes never came was delivered after the kill, and
   * read as the death's cause). Returns how many frames were dropped.
   */
  #truncate(isDiscarded = false): number {
    const held = this.#held.slice(this.#heldHead) as HeldFrame[];
    this.#held = [];
    this.#heldHead = 0;
    this.#heldBytes = 0;
    this.#chunks = [];
    this.#buffered = 0;
    if (isDiscarded) return held.length;
    this.#isTruncated = true;
    let dropped = 0;
    for (const frame of held) {
      if (frame.lengths !== undefined) dropped++;
      else this.#deliver(frame.message);
    }
    return dropped;
  }

  /** Bytes of the bulk records decoded so far: their strings' UTF-8 bytes and their JSON text. */
  get bytesDecoded(): number {
    return this.#bytesDecoded;
  }

  /** Frames still waiting for their bytes (the peer is gone: they never come). */
  get heldFrames(): number {
    return this.#held.length - this.#heldHead;
  }

  #release(): void {
    while (this.#heldHead < this.#held.length && !this.#isCorrupt) {
      const frame = this.#held[this.#heldHead]!;
      if (frame.total > this.#buffered) {
        // No more bytes come: this frame, and the bulk ones behind it, never complete.
        if (this.#isEnded) this.#truncate();
        return;
      }
      this.#held[this.#heldHead++] = undefined; // not kept alive by the queue once delivered
      if (this.#heldHead === this.#held.length) {
        this.#held = [];
        this.#heldHead = 0;
      }
      this.#heldBytes -= frame.total;
      if (frame.lengths !== undefined && !this.#join(frame)) return;
      this.#deliver(frame.message);
    }
  }

  /** Puts the frame's strings into its bulk records; false when it does not decode (reported). */
  #join(frame: HeldFrame): boolean {
    const bytes = this.#take(frame.total);
    if (!hasBulkTrailer(bytes, this.#bulkFrames++)) {
      this.#corrupt('bytes on the bulk pipe were out of place (a frame\'s check bytes did not match)', 'either');
      return false;
    }
    this.#bytesDecoded += frame.total;
    const strings: string[] = [];
    let offset = 0;
    for (const length of frame.lengths!) {
      strings.push(bytes.toString('utf8', offset, offset + length));
      offset += length;
    }
    const records = readFrame(frame.message);
    if (records === undefined) {
      this.#corrupt('a frame with bulk strings is malformed', 'frame');
      return false;
    }
    let next = 0;
    try {
      for (let i = 0; i < records.length; i += kRecordSize) {
        const kind = records[i];
        if (typeof kind !== 'number' || (kind & kBulk) === 0) continue;
        const field = records[i + 3];
        const count = Array.isArray(field) ? (field[1] as unknown) : undefined;
        if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || next + count > strings.length) {
          throw new BulkDecodeError(`a bulk record takes ${String(count).slice(0, 24)} strings of the ${strings.length - next} its frame has left`);
        }
        const text = (field as unknown[])[0];
        if (typeof text === 'string') this.#bytesDecoded += text.length;
        records[i + 3] = decodeBulk(field, strings, next);
        records[i] = kind & ~kBulk;
        next += count;
      }
    } catch (error) {
      this.#corrupt(error instanceof BulkDecodeError ? error.message : String(error), 'either');
      return false;
    }
    if (next !== strings.length) {
      this.#corrupt(`a frame announced ${strings.length} bulk strings and its records took ${next}`, 'frame');
      return false;
    }
    return true;
  }

  /** The next `count` buffered bytes, as one buffer. */
  #take(count: number): Buffer {
    this.#buffered -= count;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= count) {
      if (first.length === count) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.#chunks[0]!;
      const used = Math.min(chunk.length, count - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }

  #corrupt(reason: string, side: BulkFaultSide): void {
    if (this.#isCorrupt) return;
    this.#isCorrupt = true;
    this.#chunks = [];
    this.#held = [];
    this.#heldHead = 0;
    this.#onCorrupt(reason, side);
  }
}
