/**
 * What `clusterkit run`'s `process.exit()` waits for: the output still on its way out when the
 * run ends. Node's `process.exit()` drops what is queued in the process: a log file's write in
 * flight (H535: the file then had `shutdown complete` before `worker 1 stopped`), the last of a
 * worker's output still in the pipe from it, the run's own stdout queued for a slow pipe (H537:
 * a worker's last burst lost, the stop said graceful). Each wait is registered by what holds
 * output (`waitAtExit`); the exit waits for all in turn (a worker's lines then go to the files
 * and the terminal), at most `kExitWaitMs` in all, then exits with the code it was called with.
 * A second call while one waits (a second signal: stop now) exits at once, with the first call's
 * code: the first decision stands (a second signal's 143 after a shutdown that ended graceful is
 * no kill; a shutdown ending after a second signal's force stop is not its 1: retest t56).
 */
import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { formatBytes } from '../format-bytes.js';
import { outputWritten } from '../output-written.js';

/** Something that may hold output at the exit. */
export interface ExitWait {
  /** Whether it still holds output now. */
  isPending(): boolean;
  /** Resolves once it holds none (or can never write it). */
  settled(): Promise<void>;
  /** The bytes it holds now, when it can tell (a stream's buffer); what the exit drops of it. */
  heldBytes?(): number;
  /** What it holds, for the line that says the exit dropped it: `the workers' output not read to its end`. */
  readonly what?: string;
}

/** How long, at most, `process.exit()` waits for the output still on its way out: 2 s (ms). */
export const kExitWaitMs = 2000;

const waits = new Set<ExitWait>();
let original: typeof process.exit | undefined;
/** The code of the exit that waits, once one does. */
let waiting: { code: number | string | null | undefined } | undefined;

/** Makes `process.exit()` wait for `wait` too; returns the undoing. */
export function waitAtExit(wait: ExitWait): () => void {
  waits.add(wait);
  install();
  return () => {
    waits.delete(wait);
  };
}

function isPending(): boolean {
  for (const wait of waits) if (wait.isPending()) return true;
  return false;
}

/** Until nothing holds output: a worker's last lines, once read, are queued for the files and the terminal. */
async function settled(): Promise<void> {
  for (let round = 0; round < 8 && isPending(); round++) await Promise.all([...waits].filter((wait) => wait.isPending()).map((wait) => wait.settled()));
}

function install(): void {
  if (original !== undefined) return;
  original = process.exit;
  const exit = original;
  process.exit = ((code?: number | string | null) => {
    if (waiting !== undefined) return exit.call(process, waiting.code);
    if (!isPending()) return exit.call(process, code);
    waiting = { code };
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, kExitWaitMs);
    });
    void Promise.race([settled().catch(() => undefined), bound]).then(() => {
      clearTimeout(timer);
      tellDropped();
      exit.call(process, code);
    });
    return undefined as never;
  }) as typeof process.exit;
}

/**
 * What the exit drops after its wait ran out, said on stderr, written at once (its own queue may
 * be what is held): a reader of the run's stdout that took nothing for 2 s (a full pipe, a
 * paused terminal) lost the workers' last lines without a word (retest t57 R5, H551).
 */
function tellDropped(): void {
  const pending = [...waits].filter((wait) => wait.isPending());
  if (pending.length === 0) return;
  const bytes = pending.reduce((sum, wait) => sum + (wait.heldBytes?.() ?? 0), 0);
  const whats = [...new Set(pending.map((wait) => wait.what ?? 'output still on its way out'))].join('; ');
  const held = bytes > 0 ? ` (${formatBytes(bytes)} known, at least)` : '';
  try {
    writeSync(2, `clusterkit: the run exits after waiting ${kExitWaitMs / 1000} s for its last output, and drops what is left${held}: ${whats}\n`);
  } catch {
    // Its stderr is full or closed too: nothing can say it.
  }
}

/**
 * A wait for `streams` (a worker's stdout and stderr, read by the run) to end: the last of its
 * output is then read. Released once they ended.
 */
export function waitForStreamsAtExit(streams: ReadonlyArray<Readable | null | undefined>): void {
  const open = streams.filter((stream): stream is Readable => stream !== null && stream !== undefined);
  const isEnded = (stream: Readable) => stream.readableEnded || stream.destroyed;
  const ends = Promise.all(open.map((stream) => (isEnded(stream) ? undefined : finished(stream).catch(() => undefined)))).then(() => undefined);
  const release = waitAtExit({
    isPending: () => open.some((stream) => !isEnded(stream)),
    settled: () => ends,
    heldBytes: () => open.reduce((sum, stream) => sum + stream.readableLength, 0),
    what: "a worker's output not read to its end (held back while the run's own output waited for its reader)",
  });
  void ends.then(release);
}

/** The run's own stdout and stderr: a pipe or socket queues what is written in the process (H537). */
export function waitForOwnOutputAtExit(): void {
  waitAtExit({
    isPending: () => process.stdout.writableLength > 0 || process.stderr.writableLength > 0,
    settled: () => outputWritten(),
    heldBytes: () => process.stdout.writableLength + process.stderr.writableLength,
    what: 'its stdout or stderr not taken by their reader (a full pipe, a paused terminal, a slow log shipper)',
  });
}
