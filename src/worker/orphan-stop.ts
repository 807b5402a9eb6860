/**
 * What an orphaned worker (its primary gone: killed, crashed, its IPC channel closed) is given
 * and what it says (H397).
 *
 * - Its time: the cluster's shutdown timeout (`shutdownTimeoutMs`, `--shutdown-timeout`, PM2's
 *   `kill_timeout`), which the primary hands each worker at fork (`CLUSTERKIT_SHUTDOWN_TIMEOUT_MS`),
 *   as a stop the primary asked for would have had. Before, the worker's `destroyTimeoutMs`
 *   (1.5 s): a request the cluster gives 10 s was cut after 1.5 to 2 s.
 * - Its lines: the primary's lines about its workers died with it, so the worker says itself
 *   that it stops on its own, and how that ended, on its own stderr (the worker logger,
 *   worker-logger.ts). Under `clusterkit run` that stderr is a pipe to the dead primary, whose
 *   log files were its only reader: `run` hands the workers the files that get their stderr
 *   (`--error`, `--log`), and the orphan appends its two lines there itself (`useOrphanLog`);
 *   without them, to its cluster's `<name>.orphans.log` in the control directory, which
 *   `clusterkit logs <name>` and the next primary of the name read (H417).
 * - Its output: a write to a pipe whose reader is gone fails with EPIPE, and Node throws that
 *   from process.stdout/stderr as an uncaught error (console.log ignores it): an orphan whose
 *   script wrote a line while it drained died at once, its open requests cut. From the orphaning
 *   on, EPIPE on those two streams is ignored (the output has nowhere to go).
 */
import { appendFileSync } from 'node:fs';
import cluster from 'node:cluster';
import { appendOrphanLine } from '../control/orphan-lines.js';
import { wholeMs } from '../whole-ms.js';
import { workerLogger } from './worker-logger.js';

/** The most a timeout handed down may be: what a timer takes (2^31 - 1 ms), as the option's own check. */
const kMaxTimeoutMs = 2 ** 31 - 1;

/**
 * The primary's `shutdownTimeoutMs` handed down in the environment (a whole number of ms, 1 to
 * 2^31 - 1); undefined without one (a primary that hands none down) or for a value that is not
 * one: the orphan then has the worker's `destroyTimeoutMs`.
 */
export function shutdownTimeoutOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const ms = Number(value);
  return ms >= 1 && ms <= kMaxTimeoutMs ? ms : undefined;
}

/** Renders one of the orphan's lines for a log file (as the primary would have written it there). */
export type OrphanLineRenderer = (message: string, time: number) => string;

let orphanLog: { files: readonly string[]; render: OrphanLineRenderer; linesFile: string | undefined } | undefined;

/**
 * Files the orphan's two lines are appended to besides its stderr, as `render` makes them: set
 * by `clusterkit run`'s worker bootstrap when the run writes log files that get the workers'
 * stderr (worker-main.ts). Without any, `linesFile`: the control directory's
 * `<name>.orphans.log`, capped, that `clusterkit logs <name>` reads (control/orphan-lines.ts, H417).
 */
export function useOrphanLog(files: readonly string[], render: OrphanLineRenderer, linesFile?: string): void {
  orphanLog = files.length > 0 || linesFile !== undefined ? { files, render, linesFile } : undefined;
}

export interface OrphanedInfo {
  readonly primaryPid: number;
  /** Open requests on its tracked servers; undefined when it tracks none. */
  readonly openRequests: number | undefined;
  readonly timeoutMs: number;
  /** The time is the worker's destroyTimeoutMs: its primary handed no shutdown timeout down. */
  readonly isDefault: boolean;
  /** A stop had begun before (the primary's, or a signal's): it goes on to its own deadline. */
  readonly wasStopping: boolean;
}

/** The first line: the primary is gone, and what the worker does about it. */
export function tellOrphaned(info: OrphanedInfo): void {
  ignoreBrokenOutput();
  const time = info.isDefault ? `${wholeMs(info.timeoutMs)} ms (its destroyTimeoutMs: its primary handed down no shutdown timeout)` : `${wholeMs(info.timeoutMs)} ms (the cluster's shutdown timeout)`;
  const what = info.wasStopping
    ? `its stop, begun before, goes on to its own deadline (at most ${time})`
    : info.openRequests === undefined
      ? `its cleanup is given up to ${time}, then it exits`
      : `${plural(info.openRequests, 'request')} open, given up to ${time} to finish, then it exits`;
  orphanedAt = Date.now();
  say(`${self()}: its primary (pid ${info.primaryPid}) is gone (killed or crashed: its IPC channel closed); it stops on its own (orphan protection): ${what}`);
}

export interface OrphanStopInfo {
  readonly elapsedMs: number;
  readonly timeoutMs: number;
  /** Requests its stop cut off at its deadline. */
  readonly requestsCut: number;
  /** Its stop was still running `timeoutMs` + 250 ms after the orphaning: it exits anyway. */
  readonly isOverrun: boolean;
  /** Its stop failed (`_destroy` threw or overran, handlers abandoned). */
  readonly failed: boolean;
  /** Why, in a few words, when known (worker-lifecycle.ts): said in the line, where nothing else says it. */
  readonly failure?: string;
}

/** The last line: how the orphan's stop ended. */
export function tellOrphanStopped(info: OrphanStopInfo): void {
  const after = `${wholeMs(info.elapsedMs)} ms after its primary was gone`;
  if (info.requestsCut > 0) {
    say(
      `${self()} stopped on its own ${after}: it cut off ${plural(info.requestsCut, 'request')} still open at its deadline (${wholeMs(info.timeoutMs)} ms). ` +
        "Raise the cluster's shutdown timeout (--shutdown-timeout, shutdownTimeoutMs, PM2's kill_timeout) if requests take longer",
    );
  } else if (info.isOverrun) {
    say(`${self()} stopped on its own ${after}: its stop was still running past its ${wholeMs(info.timeoutMs)} ms; it exits now, what was still open cut off`);
  } else {
    // Its own lines on the failure went to its stderr, which its dead primary no longer reads:
    // the reason is said here, never pointed at (H447).
    const failed = info.failure === undefined ? 'its stop did not finish cleanly, ' : `its stop did not finish cleanly (${info.failure}), `;
    say(`${self()} stopped on its own ${after}: ${info.failed ? failed : ''}no request was cut off`);
  }
}

function self(): string {
  const id = cluster.worker?.id;
  return `worker ${id === undefined ? '' : `${id} `}(pid ${process.pid})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** When this worker found its primary gone (ms since the epoch), for each line of the orphans file (H451). */
let orphanedAt: number | undefined;

/** On the worker's stderr (its logger), and in `clusterkit run`'s log files when it writes any. */
function say(message: string): void {
  try {
    workerLogger()?.warn({}, message);
  } catch {
    // A stderr closed or broken: the files below still get it.
  }
  if (orphanLog === undefined) return;
  const time = Date.now();
  // Never throws: the file is left alone past its cap, or when it cannot be written.
  if (orphanLog.linesFile !== undefined) appendOrphanLine(orphanLog.linesFile, { time, ...(orphanedAt === undefined ? {} : { orphanedAt }), workerId: cluster.worker?.id, pid: process.pid, msg: message });
  if (orphanLog.files.length === 0) return;
  const line = orphanLog.render(message, time);
  for (const file of orphanLog.files) {
    try {
      // Appended (O_APPEND), one write per line: the primary's copytruncate-safe way too (log-files.ts).
      appendFileSync(file, line);
    } catch {
      // The file cannot be written (removed directory, disk full): nobody is left to tell.
    }
  }
}

let isGuarded = false;

/** From now on, EPIPE on process.stdout and process.stderr is ignored: their reader is gone. */
function ignoreBrokenOutput(): void {
  if (isGuarded) return;
  isGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // What Node would have done without a listener: any other error stays uncaught.
      if (error.code !== 'EPIPE' && stream.listenerCount('error') === 1) throw error;
    });
  }
}
