/**
 * A worker's own processes end with it, however it exits through Node's 'exit' event (its stop,
 * a reload's or scale-down's retirement, a crash of an uncaught error, a `process.exit()`):
 * re-parented to init once it is gone, nobody would stop them, and each reload would leave one
 * more set (H138). Blocking, as 'exit' must be, for at most the grace it is given.
 */
import cluster from 'node:cluster';
import { describeKilledDescendants, endDescendantsNow, kPidsInLine } from './end-descendants.js';
import { workerLogger } from './worker-logger.js';

/** Ends the worker's descendants (SIGTERM, up to `graceMs`, SIGKILL); a warn line names those killed. */
export function endDescendantsAtExit(graceMs: number): void {
  const killed = endDescendantsNow(process.pid, graceMs);
  if (killed.length === 0) return;
  const who = `worker ${cluster.worker?.id ?? '?'} (pid ${process.pid})`;
  try {
    const fields = { workerPid: process.pid, killedPids: killed.slice(0, kPidsInLine), killedCount: killed.length };
    workerLogger()?.warn(fields, `${who}: ${describeKilledDescendants(killed, graceMs)}`);
  } catch {
    // A logger that throws must not change how the worker exits.
  }
}
