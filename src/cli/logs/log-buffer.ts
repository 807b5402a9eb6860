/**
 * The bounded buffer of a running cluster's output that `clusterkit logs` reads: the last
 * `maxLines` lines, and never more than `maxChars` characters in all, whichever is reached
 * first (the oldest lines go). Each line is already at most 16 KiB (`LineSplitter`), so a
 * worker flooding its output costs the primary a fixed amount of memory, and listeners (the
 * `--follow` readers) are called synchronously: each decides for itself what to drop.
 */
import { matchesFilter, outputOf, type LogEntry, type LogFilter, type LogRead, type LogSource } from '../../control/log-protocol.js';

/** Lines kept for `clusterkit logs --lines N`. */
export const kLogBufferLines = 2_000;
/** Characters kept in all (about 2 to 4 MB of memory). */
export const kLogBufferChars = 2 * 1024 * 1024;
/** Worker ids whose evicted lines are counted apart: past it (a long crash loop's), `evictedOf` a worker answers `evicted`. */
const kMaxEvictionKeys = 10_000;

export class LogBuffer implements LogSource {
  readonly #maxLines: number;
  readonly #maxChars: number;
  /** A ring: `#entries[#head]` is the oldest of `#count` entries. */
  readonly #entries: Array<LogEntry | undefined>;
  #head = 0;
  #count = 0;
  #chars = 0;
  /** Entries ever added: the `seq` of the next one (entry `seq` is at ring position `seq - (#added - #count)`). */
  #added = 0;
  readonly #listeners = new Set<(entry: LogEntry) => void>();
  #lastWorkerId = 0;
  /** Evicted entries of each output (stdout, stderr), of all workers. */
  readonly #evictedByOutput = { stdout: 0, stderr: 0 };
  /** Evicted entries by worker id and by slot, each `[stdout, stderr]`; undefined once past `kMaxEvictionKeys` ids (a long crash loop's). */
  #evictedByWorker: Map<number, [number, number]> | undefined = new Map();
  readonly #evictedBySlot = new Map<number, [number, number]>();

  constructor(maxLines = kLogBufferLines, maxChars = kLogBufferChars) {
    this.#maxLines = maxLines;
    this.#maxChars = maxChars;
    this.#entries = new Array<LogEntry | undefined>(maxLines);
  }

  /** Lines held now. */
  get size(): number {
    return this.#count;
  }

  /** The highest worker id of any entry ever added, even one the buffer no longer holds. */
  get lastWorkerId(): number {
    return this.#lastWorkerId;
  }

  add(entry: LogEntry): void {
    if (entry.workerId !== undefined && entry.workerId > this.#lastWorkerId) this.#lastWorkerId = entry.workerId;
    while (this.#count > 0 && (this.#count === this.#maxLines || this.#chars + entry.msg.length > this.#maxChars)) this.#dropOldest();
    this.#entries[(this.#head + this.#count) % this.#maxLines] = entry;
    this.#count++;
    this.#added++;
    this.#chars += entry.msg.length;
    for (const listener of this.#listeners) {
      try {
        listener(entry);
      } catch {
        // A reader that fails is dropped; the cluster's output goes on.
        this.#listeners.delete(listener);
      }
    }
  }

  recent(count: number, filter: LogFilter | undefined): LogEntry[] {
    const picked: LogEntry[] = [];
    for (let back = this.#count - 1; back >= 0 && picked.length < count; back--) {
      const entry = this.#entries[(this.#head + back) % this.#maxLines]!;
      if (matchesFilter(entry, filter)) picked.push(entry);
    }
    return picked.reverse();
  }

  get end(): number {
    return this.#added;
  }

  get evicted(): number {
    return this.#added - this.#count;
  }

  evictedOf(filter: LogFilter | undefined): number {
    const { workerId, slot, output } = filter ?? {};
    // A worker and a slot together: not counted apart (the CLI gives one or the other).
    if (workerId !== undefined && slot !== undefined) return this.evicted;
    if (workerId === undefined && slot === undefined) return output === undefined ? this.evicted : this.#evictedByOutput[output];
    const byId = workerId !== undefined ? this.#evictedByWorker : this.#evictedBySlot;
    if (byId === undefined) return this.evicted;
    const counts = byId.get((workerId ?? slot)!);
    if (counts === undefined) return 0;
    return output === undefined ? counts[0] + counts[1] : counts[output === 'stdout' ? 0 : 1];
  }

  startOf(count: number, filter: LogFilter | undefined): number {
    let start = this.#added;
    for (let back = this.#count - 1, picked = 0; back >= 0 && picked < count; back--) {
      const entry = this.#entries[(this.#head + back) % this.#maxLines]!;
      if (!matchesFilter(entry, filter)) continue;
      picked++;
      start = this.#added - this.#count + back;
    }
    return start;
  }

  read(from: number, until: number, filter: LogFilter | undefined, maxChars: number): LogRead {
    const oldest = this.#added - this.#count;
    const last = Math.min(until, this.#added);
    const skipped = Math.max(0, Math.min(oldest, last) - from);
    const entries: LogEntry[] = [];
    let chars = 0;
    let seq = Math.max(from, oldest);
    for (; seq < last && (entries.length === 0 || chars < maxChars); seq++) {
      const entry = this.#entries[(this.#head + seq - oldest) % this.#maxLines]!;
      if (!matchesFilter(entry, filter)) continue;
      entries.push(entry);
      chars += entry.msg.length;
    }
    return { entries, next: Math.max(seq, from), skipped };
  }

  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #dropOldest(): void {
    const oldest = this.#entries[this.#head]!;
    this.#entries[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#maxLines;
    this.#count--;
    this.#chars -= oldest.msg.length;
    const output = outputOf(oldest);
    const at = output === 'stdout' ? 0 : 1;
    this.#evictedByOutput[output]++;
    if (oldest.slot !== undefined) countIn(this.#evictedBySlot, oldest.slot, at);
    if (oldest.workerId !== undefined && this.#evictedByWorker !== undefined) {
      countIn(this.#evictedByWorker, oldest.workerId, at);
      if (this.#evictedByWorker.size > kMaxEvictionKeys) this.#evictedByWorker = undefined;
    }
  }
}

function countIn(counts: Map<number, [number, number]>, id: number, at: 0 | 1): void {
  let pair = counts.get(id);
  if (pair === undefined) counts.set(id, (pair = [0, 0]));
  pair[at]++;
}

