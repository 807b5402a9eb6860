/**
 * A worker's own processes end with it, however it exits through Node's 'exit' event (its stop,
 * a reload's or scale-down's retirement, a crash of an uncaught error, a `process.exit()`):
 * re-parented to init once it is gone, nobody would stop them, and each reload would leave one
 * more set (H138). Blocking, as 'exit' must be, for at most the grace it is given.
 */
import cluster from 'node:cluster';
import { describeKilledDescendants, describeLeftRunning, endDescendantsNow, kPidsInLine, namedRunningNow } from './end-descendants.js';
import { workerLogger } from './worker-logger.js';

/**
 * Ends the worker's descendants (SIGTERM, up to `graceMs`, SIGKILL); a warn line names those
 * killed, and one those left running for leading a session of their own (H309): a child started
 * with `detached: true`, or one that ran `setsid` (Python's `start_new_session`, a daemon), is
 * taken as one meant to outlive the worker, but not silently.
 */
export function endDescendantsAtExit(graceMs: number): void {
  const ownSessions: string[] = [];
  const killed = endDescendantsNow(process.pid, graceMs, ownSessions);
  if (killed.length === 0 && ownSessions.length === 0) return;
  const who = `worker ${cluster.worker?.id ?? '?'} (pid ${process.pid})`;
  try {
    if (killed.length > 0) {
      const fields = { workerPid: process.pid, killedPids: killed.slice(0, kPidsInLine), killedCount: killed.length };
      workerLogger()?.warn(fields, `${who}: ${describeKilledDescendants(killed, graceMs)}`);
    }
    // Still running now: one may have ended by itself during the grace.
    const left = ownSessions.length === 0 ? undefined : namedRunningNow(ownSessions);
    if (left !== undefined && left.count > 0) {
      const fields = { workerPid: process.pid, leftPids: left.processes.map(({ pid }) => pid), leftCount: left.count };
      workerLogger()?.warn(fields, `${who}: ${describeLeftRunning(left.processes, left.count)}`);
    }
  } catch {
    // A logger that throws must not change how the worker exits.
  }
}
