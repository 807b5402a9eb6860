/**
 * Orphan protection for a worker whose event loop is blocked: it cannot see its IPC channel
 * close when the primary dies, so a thread watches the parent pid and kills the process, and
 * the processes it started (kill-descendants.ts), with those the worker's own cleanup had
 * signalled (signalled-processes.ts).
 *
 * The main thread ticks a shared counter. Once the parent is gone, a main thread that still
 * ticks gets `graceMs` to run `_destroy` and exit on its own; one whose counter is stuck
 * (blocked loop) is killed at once, unless its cleanup has begun (`cleanupBegun`: it saw the
 * channel close, or was stopping already). A cleanup may hold the loop itself, with synchronous
 * work (a file written with sync calls, a buffer compressed): it gets the whole grace, which is
 * what `destroyTimeoutMs` promised it, and a cleanup that never ends is killed when the grace is
 * over (H205). A stuck count cannot tell such a step from a loop blocked for good: before, an
 * orphan whose `_destroy` held its loop 0.5 s was killed midway. A loop blocked before it could
 * see the parent go never begins its cleanup, and is still killed once stuck `stuckMs`.
 */
import { loadWorkerThreads } from '../builtins.js';
import { freezeLooks, killDescendants, killDescendantsFrozen } from './kill-descendants.js';
import { claimKill, shareSignalledList, signalledIn } from './signalled-processes.js';

// The processes the worker started go with it, frozen before they are killed (kill-descendants.ts),
// and those its own cleanup signalled already, though init's now (signalled-processes.ts); a
// failure there must not spare the worker itself.
const kWatchdogSource = `
const { workerData } = require('node:worker_threads');
const { parentPid, pollMs, graceMs, stuckMs, ticks, signalled } = workerData;
// [0]: the main thread's ticks; [1]: 1 once its cleanup has begun.
const counter = new Int32Array(ticks);
const killDescendants = (${killDescendants.toString()});
const freezeLooks = (${freezeLooks.toString()});
const killDescendantsFrozen = (${killDescendantsFrozen.toString()});
const signalledIn = (${signalledIn.toString()});
const claimKill = (${claimKill.toString()});
const listed = () => {
  try { return signalledIn(signalled); } catch { return []; }
};
const kill = () => {
  // Before the freeze: the worker's cleanup must not resume what it stops (H216).
  try { claimKill(signalled); } catch {}
  try { killDescendantsFrozen(process.pid, killDescendants, freezeLooks, listed()); } catch {}
  process.kill(process.pid, 'SIGKILL');
};
let orphanedAt = 0;
let lastTick = Atomics.load(counter, 0);
let lastTickAt = Date.now();
setInterval(() => {
  const now = Date.now();
  const tick = Atomics.load(counter, 0);
  if (tick !== lastTick) { lastTick = tick; lastTickAt = now; }
  if (!orphanedAt) {
    if (process.ppid === parentPid) return;
    orphanedAt = now;
  }
  if (now - orphanedAt >= graceMs || (now - lastTickAt >= stuckMs && Atomics.load(counter, 1) === 0)) kill();
}, pollMs);
`;

export interface WatchdogOptions {
  parentPid: number;
  /** How often the parent pid and the main thread's counter are checked. */
  pollMs: number;
  /** Time a responsive worker has to run `_destroy` and exit before it is killed. */
  graceMs: number;
}

export interface OrphanWatchdog {
  /** The worker's cleanup (its stop, or its orphan's exit) has begun: a stuck loop is left the grace. */
  cleanupBegun(): void;
}

/** Starts the watchdog thread and the main thread's ticks; neither keeps the process alive. */
export function startOrphanWatchdog(options: WatchdogOptions): OrphanWatchdog {
  const ticks = new SharedArrayBuffer(8);
  // [0]: the main thread's ticks; [1]: 1 once its cleanup has begun.
const counter = new Int32Array(ticks);
  setInterval(() => Atomics.add(counter, 0, 1), options.pollMs).unref();
  const thread = new (loadWorkerThreads().Worker)(kWatchdogSource, {
    eval: true,
    // Not the worker's own flags: a `--require` preload (an APM agent, a TypeScript hook) would
    // load again in this thread, for nothing (a thread inherits its process's execArgv).
    execArgv: [],
    workerData: { ...options, stuckMs: options.pollMs * 4, ticks, signalled: shareSignalledList() },
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  });
  thread.unref();
  thread.on('error', () => {}); // a failing watchdog must not take the worker down
  return { cleanupBegun: () => void Atomics.store(counter, 1, 1) };
}
