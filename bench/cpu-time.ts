/**
 * CPU time of processes, for figures that a busy machine does not distort as much as wall
 * clock: the sum over a process's threads (main thread, JIT compiler and GC helpers, libuv
 * pool) of the time they ran, in nanoseconds, from Linux's `/proc/<pid>/task/<tid>/schedstat`.
 * Elsewhere (no /proc) it returns `undefined` and the figure is left out.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Nanoseconds of CPU the process `pid` has used so far, all its threads together. */
export function cpuNs(pid: number): number | undefined {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return total;
  } catch {
    return undefined;
  }
}

/** The summed CPU time of `pids` in nanoseconds, or `undefined` when any cannot be read. */
export function cpuNsOf(pids: Array<number | undefined>): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ns = pid === undefined ? undefined : cpuNs(pid);
    if (ns === undefined) return undefined;
    total += ns;
  }
  return total;
}
