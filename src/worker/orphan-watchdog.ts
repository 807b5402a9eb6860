/**
 * Orphan protection for a worker whose event loop is blocked: it cannot see its IPC channel
 * close when the primary dies, so a thread watches the parent pid and kills the process once
 * the parent is gone (after a grace period in which a healthy worker exits on its own).
 */
import { Worker } from 'node:worker_threads';

const kWatchdogSource = `
const { workerData } = require('node:worker_threads');
const { parentPid, pollMs, graceMs } = workerData;
const timer = setInterval(() => {
  if (process.ppid === parentPid) return;
  clearInterval(timer);
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), graceMs);
}, pollMs);
`;

export interface WatchdogOptions {
  parentPid: number;
  /** How often the parent pid is checked. */
  pollMs: number;
  /** Time a healthy worker has to run `_destroy` and exit before it is killed. */
  graceMs: number;
}

/** Starts the watchdog thread; it never keeps the process alive. */
export function startOrphanWatchdog(options: WatchdogOptions): Worker {
  const thread = new Worker(kWatchdogSource, {
    eval: true,
    workerData: options,
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  });
  thread.unref();
  thread.on('error', () => {}); // a failing watchdog must not take the worker down
  return thread;
}
