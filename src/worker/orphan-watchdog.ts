/**
 * Orphan protection for a worker whose event loop is blocked: it cannot see its IPC channel
 * close when the primary dies, so a thread watches the parent pid and kills the process, and
 * the processes it started (kill-descendants.ts).
 *
 * The main thread ticks a shared counter. Once the parent is gone, a main thread that still
 * ticks gets `graceMs` to run `_destroy` and exit on its own; one whose counter is stuck
 * (blocked loop) is killed at once.
 */
import { readdirSync } from 'node:fs';
import { loadOs, loadWorkerThreads } from '../builtins.js';
import { killDescendants } from './kill-descendants.js';

// The processes the worker started go with it (kill-descendants.ts); a failure there must not
// spare the worker itself.
const kWatchdogSource = `
const { workerData } = require('node:worker_threads');
const { parentPid, pollMs, graceMs, stuckMs, ticks } = workerData;
const counter = new Int32Array(ticks);
const killDescendants = (${killDescendants.toString()});
const kill = () => {
  try { killDescendants(process.pid, 'SIGKILL'); } catch {}
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
  if (now - lastTickAt >= stuckMs || now - orphanedAt >= graceMs) kill();
}, pollMs);
`;

/** How much lower (in nice steps) the watchdog thread runs than the worker's main thread. */
export const kWatchdogNiceIncrement = 10;

export interface WatchdogOptions {
  parentPid: number;
  /** How often the parent pid and the main thread's counter are checked. */
  pollMs: number;
  /** Time a responsive worker has to run `_destroy` and exit before it is killed. */
  graceMs: number;
}

/** Starts the watchdog thread and the main thread's ticks; neither keeps the process alive. */
export function startOrphanWatchdog(options: WatchdogOptions): void {
  const ticks = new SharedArrayBuffer(4);
  const counter = new Int32Array(ticks);
  setInterval(() => Atomics.add(counter, 0, 1), options.pollMs).unref();
  const before = threadIds();
  const thread = new (loadWorkerThreads().Worker)(kWatchdogSource, {
    eval: true,
    // Not the worker's own flags: a `--require` preload (an APM agent, a TypeScript hook) would
    // load again in this thread, for nothing (a thread inherits its process's execArgv).
    execArgv: [],
    workerData: { ...options, stuckMs: options.pollMs * 4, ticks },
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  });
  thread.unref();
  if (before) lowerNewThreads(before);
  thread.on('error', () => {}); // a failing watchdog must not take the worker down
}

/**
 * The thread's ids in /proc/self/task, or undefined where there is no such directory (not
 * Linux): there the thread keeps the process's priority.
 */
function threadIds(): Set<string> | undefined {
  try {
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return undefined;
  }
}

/**
 * Starting a thread costs as much CPU as a third of a Node process's start (65 ms measured on
 * Node 20, whatever its options), and the worker arms its watchdog just as it begins to serve:
 * at the same priority, the boot took that CPU from the first requests (the cold bench's
 * workers spent twice the CPU per request in their first 40 000). At 10 nice steps lower it
 * boots on CPU the worker leaves idle, and about a tenth of a core that the worker wants;
 * it polls for microseconds every `pollMs`, which a lowered thread still gets. A nice value
 * belongs to a Linux thread, and `new Worker()` starts the thread before it returns: the one
 * new id in /proc/self/task is the watchdog's (with two, neither is lowered). A priority cannot be raised back without a
 * privilege, so it stays lowered, which a watchdog can afford.
 */
function lowerNewThreads(before: Set<string>): void {
  const added = [...(threadIds() ?? [])].filter((tid) => !before.has(tid));
  // More than one new thread: something else started one too, and which is ours is unknown.
  if (added.length !== 1) return;
  const os = loadOs();
  const tid = Number(added[0]);
  try {
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + kWatchdogNiceIncrement));
  } catch {
    // The thread ended meanwhile (its start failed): nothing to lower.
  }
}
