/**
 * A replacement worker boots at a lower CPU priority than the workers that serve, until it is
 * ready. Starting a Node process costs 100 to 200 ms of CPU (its own start-up, loading the
 * service, compiling the first requests' code); on a busy machine with few cores, a reload took
 * that from the workers answering requests, and their p99 latency doubled while it lasted. At a
 * nice value of +10 the new process gets about a tenth of a core that the serving workers want,
 * and all of a core they leave idle. Once ready it gets the primary's own priority back, the
 * one every worker has.
 *
 * Raising a priority back (lowering a nice value) needs a privilege on Linux (root,
 * CAP_SYS_NICE, or an RLIMIT_NICE that allows it, as systemd's `LimitNICE=` sets); without it a
 * lowered worker would stay lowered for its whole life. So a worker is lowered only where its
 * priority can be restored: elsewhere it starts as before.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadOs } from '../../builtins.js';

/** How much lower (in nice steps) a replacement boots than the primary. */
export const kStartupNiceIncrement = 10;
/** The longest a replacement stays lowered: a quarter of `readyTimeoutMs`, at most this. */
export const kMaxLoweredMs = 2_000;
const kCapSysNice = 23n;

let canRestore: boolean | undefined;

/**
 * Lowers the priority of the booting process `pid` for at most `maxMs`. Returns the restore
 * function (call it once the worker is ready, or gave up), or `undefined` when nothing was
 * changed (not permitted to restore, not Linux, or it failed). The bound matters on a machine
 * that other processes saturate: there a lowered process gets almost no CPU, and would miss
 * `readyTimeoutMs` rather than boot late.
 */
export function lowerWhileBooting(pid: number | undefined, maxMs: number): (() => void) | undefined {
  if (pid === undefined || !mayRestorePriority()) return undefined;
  const os = loadOs();
  try {
    const own = os.getPriority();
    const lowered = Math.min(19, own + kStartupNiceIncrement);
    if (lowered === own) return undefined;
    os.setPriority(pid, lowered);
    let isRestored = false;
    const restoreOnce = () => {
      if (isRestored) return;
      isRestored = true;
      clearTimeout(timer);
      restore(pid, own);
    };
    const timer = setTimeout(restoreOnce, maxMs);
    timer.unref();
    return restoreOnce;
  } catch {
    return undefined;
  }
}

/**
 * Gives every thread of `pid` the priority `nice`. On Linux a nice value belongs to a thread,
 * and the threads a process starts inherit its main thread's: V8's compiler and GC helpers and
 * libuv's pool, started while it booted lowered, would stay lowered if only the main thread
 * were restored.
 */
function restore(pid: number, nice: number): void {
  const os = loadOs();
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // the process exited meanwhile: nothing to restore
  }
  for (const tid of threads) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      // That thread ended meanwhile.
    }
  }
}

/** True when this process may give a child its own priority back after lowering it. */
function mayRestorePriority(): boolean {
  canRestore ??= probeRestore();
  return canRestore;
}

function probeRestore(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    if (process.getuid?.() === 0) return true;
    const capabilities = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (capabilities !== undefined && (BigInt(`0x${capabilities}`) >> kCapSysNice) & 1n) return true;
    // RLIMIT_NICE: the lowest nice value an unprivileged process may set is 20 - limit.
    const limit = /^Max nice priority\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return limit !== undefined && loadOs().getPriority() >= 20 - Number(limit);
  } catch {
    return false;
  }
}
