/**
 * Worker output in the CLI, like `pm2 logs`: workers are forked with piped stdout/stderr and
 * every line they write comes out on ours prefixed with `[name:id]` (a stderr line
 * `[name:id err]`, as `clusterkit logs` shows it), or, with
 * `--log-format json`, as one JSON object per line. Each line also goes to the cluster's log
 * buffer, for `clusterkit logs`. A worker is untrusted, so the primary holds little of its
 * output: lines are bounded (`LineSplitter`), and while our own stdout or stderr is full (a
 * slow terminal, a pipe nobody reads) the workers' pipes to it are not read: their output
 * waits in the workers, as it would with `node server.js | slow-reader`.
 *
 * Every line has a pino level: what a worker writes to stdout is info (30), to stderr error
 * (50), as PM2 files them (out and error logs) and as `console.error` means them.
 */
import type { Readable, Writable } from 'node:stream';
import type { LogEntry } from '../control/log-protocol.js';
import { terminalSafeJson } from '../control/control-chars.js';
import { LineSplitter, type OutputLine } from './logs/line-splitter.js';
import { sanitizeLine, supportsColor } from './logs/sanitize-line.js';
import { isCopyingToLogFiles, writingWithFileCopy } from './logs/log-files.js';
import { workerLinePrefix } from './logs/worker-line-prefix.js';
import type { LinePrefixer } from './logs/line-time.js';

export type LogFormat = 'line' | 'json';

/** The pino level of a forwarded worker line. */
export const kStreamLevels = { stdout: 30, stderr: 50 } as const;

export interface OutputSource {
  readonly id: number;
  /** Its slot, as the primary assigned it: carried by its lines in the log buffer (`logs --slot`). */
  readonly slot?: number;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

/** Where each line goes besides our own output (the log buffer). */
export type LineSink = (entry: LogEntry) => void;

/**
 * `stamp`: with `--time` (line format), each line starts with the time it was read (H335), as
 * the primary's own lines do; the lines of one chunk share one time (one formatting).
 */
export function pipeWorkerOutput(worker: OutputSource, name: string, format: LogFormat, sink?: LineSink, stamp?: LinePrefixer): void {
  const pipe = (from: Readable | null, to: NodeJS.WriteStream, stream: 'stdout' | 'stderr') => {
    if (!from) return;
    const text = terminalText(to);
    const prefix = workerLinePrefix(name, worker.id, stream, supportsColor(to));
    const filePrefix = workerLinePrefix(name, worker.id, stream, false);
    const render =
      format === 'json'
        ? (line: OutputLine, time: number) =>
            `${terminalSafeJson({ level: kStreamLevels[stream], time, name, workerId: worker.id, stream, msg: line.text, ...(line.partial ? { partial: true } : {}) })}\n`
        : stamp === undefined
          ? (line: OutputLine) => `${prefix}${text(line.text)}${line.partial ? kPartialMark : ''}\n`
          : (line: OutputLine, time: number) => `${stamp(time)}${prefix}${text(line.text)}${line.partial ? kPartialMark : ''}\n`;
    // The log files get each line as `clusterkit logs` shows it, whatever `to` is (H343), with the
    // same time as the terminal's (H335); a JSON line is safe as it is.
    const fileRender =
      format === 'json' ? undefined : (line: OutputLine, time: number) => `${stamp?.(time) ?? ''}${filePrefix}${sanitizeLine(line.text, false)}${line.partial ? kPartialMark : ''}\n`;
    forwardLines(from, to, render, fileRender, (line, time) => sink?.({ time, source: 'worker', workerId: worker.id, ...(worker.slot === undefined ? {} : { slot: worker.slot }), stream, level: kStreamLevels[stream], msg: line.text, ...(line.partial ? { partial: true as const } : {}) }));
  };
  pipe(worker.stdout, process.stdout, 'stdout');
  pipe(worker.stderr, process.stderr, 'stderr');
}

/**
 * How a worker's line is shown on `to`. A worker's output is its own, and goes to a file or a
 * pipe byte for byte (each line prefixed); `run`'s log files get it escaped, whatever `to` is
 * (H343). On a terminal it is shown as `clusterkit logs` shows
 * it: colors kept (unless NO_COLOR), every other control character escaped, so a line cannot
 * return over its own prefix (`\r[api] shutdown complete`), move the cursor over the
 * primary's lines, clear the screen or retitle the window.
 */
function terminalText(to: NodeJS.WriteStream): (text: string) => string {
  if (to.isTTY !== true) return (text) => text;
  const keepColors = supportsColor(to);
  return (text) => sanitizeLine(text, keepColors);
}

/**
 * Writes each line of `from` to `to` through `render` (the lines of one chunk in one write),
 * and hands it to `onLine`; a last unterminated line at the end. While `to` is full, `from`
 * is paused (back-pressure); an output that failed (EPIPE) no longer holds anything back.
 */
export function forwardLines(
  from: Readable,
  to: Writable,
  render: (line: OutputLine, time: number) => string,
  fileRender?: (line: OutputLine, time: number) => string,
  onLine?: (line: OutputLine, time: number) => void,
): void {
  const splitter = new LineSplitter();
  const emit = (lines: OutputLine[]) => {
    if (lines.length === 0) return;
    const time = Date.now();
    const text = lines.map((line) => render(line, time)).join('');
    const write = () => to.write(text);
    // The escaped copy is made only while log files take it: no work on this path without them.
    const isCopied = fileRender !== undefined && isCopyingToLogFiles();
    if (isWritable(to) && !(isCopied ? writingWithFileCopy(lines.map((line) => fileRender(line, time)).join(''), write) : write())) pauseUntilDrained(from, to);
    if (onLine) for (const line of lines) onLine(line, time);
  };
  from.on('data', (chunk: Buffer) => emit(splitter.push(chunk)));
  from.on('end', () => emit(splitter.end()));
}

/** Printed at the end of a piece of a line longer than the 16 KiB cap: the next piece continues it. */
export const kPartialMark = ' [...]';

/** Sources waiting for each output to drain; one listener per output, however many workers wait. */
const waiting = new WeakMap<Writable, Set<Readable>>();

function pauseUntilDrained(from: Readable, to: Writable): void {
  from.pause();
  let sources = waiting.get(to);
  if (sources) {
    sources.add(from);
    return;
  }
  sources = new Set([from]);
  waiting.set(to, sources);
  const release = () => {
    to.off('drain', release);
    to.off('close', release);
    to.off('error', release);
    waiting.delete(to);
    for (const source of sources) source.resume();
  };
  to.on('drain', release);
  // A failed or closed output never drains: let the workers' output flow (and be dropped).
  to.on('close', release);
  to.on('error', release);
}

function isWritable(to: Writable): boolean {
  return !to.destroyed && !to.writableEnded && to.errored == null;
}
