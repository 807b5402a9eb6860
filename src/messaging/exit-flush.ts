/**
 * Writing queued messages when the process exits. Channels coalesce records and write them at
 * the end of the tick; a process that exits in that tick (`notify()` then `process.exit()`, a
 * crash in an uncaughtException handler) would lose them silently, where a raw
 * `process.send()` then `process.exit()` delivers: Node writes to a pipe synchronously while
 * its write queue is empty. One 'exit' listener per process writes every channel's queue
 * synchronously, through the same `send()`.
 */

/** What the exit listener needs from a channel. */
export interface ExitFlushable {
  /** Writes what is queued, synchronously, as far as Node accepts writes without queueing. */
  writeQueuedNow(): void;
}

/** Channels with records queued (added when a channel's queue becomes non-empty, removed when it empties). */
const queued = new Set<ExitFlushable>();
/** Set once the process's 'exit' event has begun: records written from then on are written at once. */
let isExiting = false;
let isListening = false;

export function trackQueued(channel: ExitFlushable): void {
  queued.add(channel);
  if (isListening) return;
  isListening = true;
  process.once('exit', writeAllQueued);
}

export function untrackQueued(channel: ExitFlushable): void {
  queued.delete(channel);
}

export function isProcessExiting(): boolean {
  return isExiting;
}

function writeAllQueued(): void {
  isExiting = true;
  for (const channel of [...queued]) {
    try {
      channel.writeQueuedNow();
    } catch {
      // The process is exiting: one channel's failure must not keep the others from writing.
    }
  }
}
