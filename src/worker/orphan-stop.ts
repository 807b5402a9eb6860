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
 * - Its cause: a closed channel is not always a dead primary (H516). The worker's own code may
 *   have closed it (`process.disconnect()`, node:cluster's `cluster.worker.disconnect()` or
 *   `kill()`: own-disconnect.ts), or the primary's, which then runs on (primary-liveness.ts):
 *   the line says which, and how long it has (the primary kills a worker left without its
 *   channel `kDisconnectGraceMs` later). That primary still reads the worker's stderr and writes
 *   it to its log files: the lines go there alone, not into the files a dead primary leaves.
 */
import { appendFileSync } from 'node:fs';
import cluster from 'node:cluster';
import { appendOrphanLine } from '../control/orphan-lines.js';
import { kDisconnectGraceMs } from '../disconnect-grace.js';
import { wholeMs } from '../whole-ms.js';
import type { OwnDisconnect } from './own-disconnect.js';
import type { PrimaryLiveness } from './primary-liveness.js';
import { workerLogger } from './worker-logger.js';
import { plural } from '../plural.js';

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
 * How the last line says to give requests longer: the option that set the orphan's time (it is
 * the primary's `shutdownTimeoutMs`, handed down). `clusterkit run` names its flag and the config
 * key that set it (`Raise --shutdown-timeout (kill_timeout in ecosystem.config.cjs)`): the line
 * listed every spelling at once, the library's option among them (retest t72 N3, H695).
 */
let raiseTimeout = 'Raise the shutdownTimeoutMs option';

/** `clusterkit run`'s words for raising its shutdown timeout (one line of printable text, at most 200 characters; anything else is ignored). */
export function useRaiseTimeoutWords(words: string): void {
  if (words.length > 0 && words.length <= 200 && !/[\p{Cc}]/u.test(words)) raiseTimeout = words;
}

/**
 * Files the orphan's two lines are appended to besides its stderr, as `render` makes them: set
 * by `clusterkit run`'s worker bootstrap when the run writes log files that get the workers'
 * stderr (worker-main.ts). Without any, `linesFile`: the control directory's
 * `<name>.orphans.log`, capped, that `clusterkit logs <name>` reads (control/orphan-lines.ts, H417).
 */
export function useOrphanLog(files: readonly string[], render: OrphanLineRenderer, linesFile?: string): void {
  orphanLog = files.length > 0 || linesFile !== undefined ? { files, render, linesFile } : undefined;
}

/**
 * How the worker's IPC channel closed, as the worker can tell: its primary gone; its own code
 * (`call`); or code in the primary, which still runs (`isAsked`: through node:cluster's
 * disconnect, seen in the worker; otherwise by closing its end of the channel).
 */
export type ChannelEnd =
  | { readonly by: 'primary-gone' }
  | { readonly by: 'own-code'; readonly call: Exclude<OwnDisconnect, 'primary-asked'> }
  | { readonly by: 'primary'; readonly isAsked: boolean };

/**
 * The channel's end from what closed it in the worker (`own`) and how the primary is now. A
 * primary that is gone is told as gone, whatever else closed the channel. Where the primary's
 * state is `unsure` (no /proc), a close by the worker's own code is told as its own (nothing
 * else closed it), any other as the primary's death, its most likely cause.
 */
export function channelEndOf(own: OwnDisconnect | undefined, liveness: PrimaryLiveness): ChannelEnd {
  if (liveness === 'gone') return { by: 'primary-gone' };
  if (own === 'primary-asked') return { by: 'primary', isAsked: true };
  if (own !== undefined) return { by: 'own-code', call: own };
  return liveness === 'runs' ? { by: 'primary', isAsked: false } : { by: 'primary-gone' };
}

export interface OrphanedInfo {
  readonly end: ChannelEnd;
  readonly primaryPid: number;
  /** Open requests on its tracked servers; undefined when it tracks none. */
  readonly openRequests: number | undefined;
  readonly timeoutMs: number;
  /** The time is the worker's destroyTimeoutMs: its primary handed no shutdown timeout down. */
  readonly isDefault: boolean;
  /** A stop had begun before (the primary's, or a signal's): it goes on to its own deadline. */
  readonly wasStopping: boolean;
}

/** The first line: why its channel closed (its primary gone, most often), and what the worker does about it. */
export function tellOrphaned(info: OrphanedInfo): void {
  const { end, primaryPid } = info;
  channelEnd = end;
  orphanedAt = Date.now();
  if (end.by === 'primary-gone') {
    ignoreBrokenOutput();
    say(`${self()}: its primary (pid ${primaryPid}) is gone (killed or crashed: its IPC channel closed); it stops on its own (orphan protection): ${whatItDoes(info)}`);
    return;
  }
  // The primary runs on: it reads the worker's stderr, and writes it to its log files itself.
  isRelayed = true;
  const killed = `kills one still there ${kDisconnectGraceMs} ms later (SIGKILL)`;
  if (end.by === 'primary') {
    const how = end.isAsked ? "node:cluster's disconnect: worker.disconnect() or cluster.disconnect() in the primary's code" : "code in the primary closed its end, such as node:cluster's worker.kill() or the child process's disconnect()";
    say(`${self()}: its primary (pid ${primaryPid}) closed its IPC channel and still runs (${how}); it cannot reach or stop a worker without the channel and ${killed}, so the worker stops on its own (orphan protection): ${whatItDoes(info)}`);
    return;
  }
  if (end.call === 'cluster.worker.kill()') {
    // node:cluster's own 'disconnect' listener exits the process right after this line: no drain.
    const open = info.openRequests ? `: its ${plural(info.openRequests, 'request')} open are cut off` : '';
    say(`${self()}: its own code called cluster.worker.kill() (or destroy()), which closed its IPC channel to its primary (pid ${primaryPid}, still running) and ends the process now, without a drain${open}. Remove that call from the worker's code`);
    return;
  }
  const call = end.call === 'process.disconnect()' ? end.call : "cluster.worker.disconnect(), node:cluster's way for a worker to leave: it closed the worker's servers first";
  if (info.wasStopping) {
    // In a stop (a SIGTERM listener's `server.close(); process.disconnect()`, a pattern of many
    // cluster guides): the worker was leaving anyway, its exit code tells the primary how (H536),
    // and the primary's own line says it. No call to remove, and nothing to say here unless the
    // stop ends badly (two WARN lines per worker per stop, for a graceful stop: H546).
    ownCloseInStop = end.call === 'process.disconnect()' ? end.call : 'cluster.worker.disconnect()';
    return;
  }
  say(
    `${self()}: its own code closed its IPC channel to its primary (${call}); the primary (pid ${primaryPid}) still runs, but cannot reach or stop a worker without the channel and ${killed}, ` +
      `so the worker stops on its own (orphan protection): ${whatItDoes(info)}. Remove that call from the worker's code`,
  );
}

/** `1 request open, given up to 10000 ms (the cluster's shutdown timeout) to finish, then it exits`. */
function whatItDoes(info: OrphanedInfo): string {
  // A primary that runs on kills the worker `kDisconnectGraceMs` after the close: all it has, whatever its timeout (H516).
  const time =
    info.end.by !== 'primary-gone' && info.timeoutMs > kDisconnectGraceMs
      ? `${kDisconnectGraceMs} ms`
      : info.isDefault
        ? `${wholeMs(info.timeoutMs)} ms (its destroyTimeoutMs: its primary handed down no shutdown timeout)`
        : `${wholeMs(info.timeoutMs)} ms (the cluster's shutdown timeout)`;
  if (info.wasStopping) return `its stop, begun before, goes on to its own deadline (at most ${time})`;
  if (info.openRequests === undefined) return `its cleanup is given up to ${time}, then it exits`;
  return `${plural(info.openRequests, 'request')} open, given up to ${time} to finish, then it exits`;
}

export interface OrphanStopInfo {
  readonly elapsedMs: number;
  readonly timeoutMs: number;
  /** Requests its stop cut off: at its deadline, or at an exit of its own code's (`isOwnExit`). */
  readonly requestsCut: number;
  /** The process was ended by the worker's own code (its `process.exit()`), not by its stop. */
  readonly isOwnExit?: boolean;
  /** Its stop was still running `timeoutMs` + 250 ms after the orphaning: it exits anyway. */
  readonly isOverrun: boolean;
  /** Its stop failed (`_destroy` threw or overran, handlers abandoned). */
  readonly failed: boolean;
  /** Why, in a few words, when known (worker-lifecycle.ts): said in the line, where nothing else says it. */
  readonly failure?: string;
}

/** The last line: how the orphan's stop ended. */
export function tellOrphanStopped(info: OrphanStopInfo): void {
  if (ownCloseInStop !== undefined && info.requestsCut === 0 && !info.isOverrun && !info.failed) return;
  const closed = ownCloseInStop === undefined ? 'its IPC channel closed' : `its own code closed its IPC channel during its stop (${ownCloseInStop})`;
  const after = `${wholeMs(info.elapsedMs)} ms after ${channelEnd?.by === 'primary-gone' ? 'its primary was gone' : closed}`;
  if (channelEnd?.by === 'own-code' && channelEnd.call === 'cluster.worker.kill()') {
    // Ended by node:cluster at the close, not by a deadline of its stop.
    say(`${self()} exited ${after}, ended by cluster.worker.kill(): ${info.requestsCut > 0 ? `it cut off ${plural(info.requestsCut, 'request')} still open` : 'no request was cut off'}`);
    return;
  }
  if (info.requestsCut > 0 && info.isOwnExit === true) {
    // Not the deadline's doing: no advice to raise it (H536).
    say(`${self()} exited ${after}, ended by its own code (process.exit()) before its stop finished: it cut off ${plural(info.requestsCut, 'request')} still open`);
  } else if (info.requestsCut > 0) {
    say(
      `${self()} stopped on its own ${after}: it cut off ${plural(info.requestsCut, 'request')} still open at its deadline (${wholeMs(info.timeoutMs)} ms). ` +
        `${raiseTimeout} if requests take longer`,
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

/** When this worker found its primary gone (ms since the epoch), for each line of the orphans file (H451). */
let orphanedAt: number | undefined;
/** Set when its own code closed its channel during a stop the primary asked for: its last line only if that stop ends badly. */
let ownCloseInStop: string | undefined;
/** How its channel closed: set by the first line, for the last. */
let channelEnd: ChannelEnd | undefined;
/** Its primary still runs (H516): it relays the worker's stderr, to its log files too. */
let isRelayed = false;

/**
 * On the worker's stderr (its logger), and, its primary gone, in `clusterkit run`'s log files
 * when it writes any.
 */
function say(message: string): void {
  try {
    workerLogger()?.warn({}, message);
  } catch {
    // A stderr closed or broken: the files below still get it.
  }
  if (orphanLog === undefined || isRelayed) return;
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
