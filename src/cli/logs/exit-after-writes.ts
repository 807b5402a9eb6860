/**
 * `process.exit()` in a process with log files waits for a write on its way to the disk. An
 * asynchronous write in flight at the exit is never finished, or finishes after the lines the
 * exit writes synchronously: the file then lost a line, or has `shutdown complete` before
 * `worker 1 stopped` (seen in CI). Bounded: a disk that takes longer than `kExitWriteWaitMs`
 * does not hold the exit; what still waits is then written synchronously, as before.
 */
import type { LogFiles } from './log-files.js';

/** How long, at most, an exit waits for a log file's write in flight: 2 s (ms). */
export const kExitWriteWaitMs = 2000;

/**
 * Wraps `process.exit` so that it waits until `files` are written (at most `kExitWriteWaitMs`).
 * Code after the call runs meanwhile; the exit paths call it last. A second call while one
 * waits (a second signal: stop now) exits at once with its own code. Returns the undoing.
 */
export function exitAfterWrites(files: Pick<LogFiles, 'isWriting' | 'written'>): () => void {
  const original = process.exit;
  let isWaiting = false;
  const exit = ((code?: number | string | null) => {
    if (isWaiting || !files.isWriting()) return original.call(process, code);
    isWaiting = true;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, kExitWriteWaitMs);
    });
    void Promise.race([files.written(), bound]).then(() => {
      clearTimeout(timer);
      original.call(process, code);
    });
    return undefined as never;
  }) as typeof process.exit;
  process.exit = exit;
  return () => {
    if (process.exit === exit) process.exit = original;
  };
}
