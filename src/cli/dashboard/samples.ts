/**
 * Turning successive `status` answers into chart samples (pure: no I/O). The charts draw one
 * line per worker slot, so a line goes on across restarts and reloads of its worker, and a
 * marker on the time axis tells where the process changed.
 */
import type { ClusterStatus } from '../../control/control-protocol.js';
import { slotWorkers } from '../../primary/features/slot-workers.js';

export { slotWorkers };

/**
 * One slot's figures at one instant: `[slot, workerId, rssMb, heapUsedMb, loopMeanMs,
 * loopP99Ms, cpuPercent, messagesPerSecond]`, null where not known (before the worker's first
 * heartbeat, or the first sample of a worker for the message rate; the loop delay and CPU of a
 * silent worker, whose last figures are of an interval long past: the line breaks). Arrays, not
 * objects: a 10-minute history of 64 workers stays about a megabyte of JSON.
 */
export type SlotFigures = [number, number, number | null, number | null, number | null, number | null, number | null, number | null];

export interface Sample {
  /** When the status was read, ms since the epoch. */
  t: number;
  slots: SlotFigures[];
}

const kMiB = 1024 * 1024;

/** Builds samples from statuses; remembers the message counts of the previous one for the rates. */
export class Sampler {
  /** Messages in + out per worker id at the previous sample, and when it was taken. */
  #previous = new Map<number, number>();
  #previousAt = 0;

  take(status: ClusterStatus, at: number): Sample {
    const seconds = (at - this.#previousAt) / 1_000;
    const counts = new Map<number, number>();
    const slots: SlotFigures[] = [];
    for (const worker of slotWorkers(status.workers)) {
      const messages = worker.messagesIn + worker.messagesOut;
      counts.set(worker.id, messages);
      const before = this.#previous.get(worker.id);
      const rate = before === undefined || seconds <= 0 ? null : round(Math.max(0, messages - before) / seconds, 1);
      const isSilent = worker.isSilent === true;
      slots.push([
        worker.slot,
        worker.id,
        megabytes(worker.rssBytes),
        megabytes(worker.heapUsedBytes),
        isSilent ? null : figure(worker.eventLoopDelayMs, 2),
        isSilent ? null : figure(worker.eventLoopDelayP99Ms, 2),
        isSilent ? null : figure(worker.cpuPercent, 1),
        rate,
      ]);
    }
    this.#previous = counts;
    this.#previousAt = at;
    return { t: at, slots };
  }

  /** Forgets the message counts (a new primary: its worker ids start over). */
  reset(): void {
    this.#previous.clear();
    this.#previousAt = 0;
  }
}

function megabytes(bytes: number | undefined): number | null {
  return typeof bytes === 'number' && Number.isFinite(bytes) ? round(bytes / kMiB, 1) : null;
}

function figure(value: number | undefined, digits: number): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? round(value, digits) : null;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
