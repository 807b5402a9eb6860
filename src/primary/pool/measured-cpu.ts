/**
 * A worker's CPU use as the primary measures it, not as the worker says (H390). The heartbeat
 * answer's `cpuPercent` and `cpuSeconds` are the worker's word, and a worker whose event loop is
 * blocked says nothing: one spinning at 100 % kept showing its last answer's 14.7 % in
 * `status --json`, and `clusterkit_worker_cpu_seconds_total` stood still while it burnt a core
 * (retest t38 L4). Code in the worker could also answer `$ping` with figures of its own (H382).
 *
 * On Linux the primary reads `/proc/<pid>/stat` itself at every heartbeat tick, silent worker or
 * not: `utime` + `stime` (fields 14 and 15), the CPU time of all the process's threads, which
 * `process.cpuUsage()` reads in the worker. They count clock ticks of `USER_HZ`, which the kernel
 * fixes at 100 per second for userspace on x86, arm, arm64, riscv, ppc and s390 (`getconf
 * CLK_TCK`; only alpha differs, which Node does not run on), so it is taken as 100 rather than
 * spawning `getconf`: Node exposes no `sysconf`. A tick is 10 ms, so the percentage over a
 * 100 ms interval is good to 10 points, over the default 1 s to one. One small asynchronous read
 * per worker per tick, at most one in flight. Elsewhere (macOS, Windows: no procfs) the figures
 * stay the worker's answer's, and `stats()` leaves them out while the worker is silent.
 */
// node:fs, which clusterkit loads at start anyway (measured-rss.ts).
import { readFile } from 'node:fs';

/** Whether the primary measures its workers' CPU itself: Linux (procfs). */
export const isCpuMeasured = process.platform === 'linux';

/** `USER_HZ`, the unit of `/proc/<pid>/stat`'s times: 100 on every architecture Node runs on Linux (`getconf CLK_TCK`). */
export const kClockTicksPerSecond = 100;

/** The CPU the primary measured of one worker at its latest read. */
export interface MeasuredCpu {
  /** `utime` + `stime` at the read, in clock ticks. */
  ticks: number;
  /** When it was read, `performance.now()`. */
  at: number;
  /** CPU time (user + system) since the worker started, in seconds. */
  cpuSeconds: number;
  /** CPU time since the previous read, in percent of the wall time between them (since the fork for the first). */
  cpuPercent: number;
}

/**
 * `utime` + `stime` of a `/proc/<pid>/stat` text, in clock ticks; undefined for a text of another
 * shape. The command name (field 2, in parentheses) may hold spaces and parentheses itself, so
 * the fields are counted from the last `)`.
 */
export function parseCpuTicks(stat: string): number | undefined {
  const end = stat.lastIndexOf(')');
  if (end < 0) return undefined;
  // From field 3 (state) on: utime is field 14, stime field 15.
  const fields = stat.slice(end + 1).trim().split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isSafeInteger(utime) && Number.isSafeInteger(stime) && utime >= 0 && stime >= 0 ? utime + stime : undefined;
}

/**
 * Process `pid`'s CPU time in clock ticks, read from procfs. Undefined at once where there is
 * nothing to read (not Linux, no pid); a promise of undefined where the read fails (the process
 * gone, a procfs mounted `hidepid`).
 */
export function readCpuTicks(pid: number | undefined): Promise<number | undefined> | undefined {
  if (!isCpuMeasured || pid === undefined) return undefined;
  return new Promise((resolve) => readFile(`/proc/${pid}/stat`, 'utf8', (error, text) => resolve(error ? undefined : parseCpuTicks(text))));
}

/**
 * The figures of a read of `ticks` at `at` (`performance.now()`), after `previous`: the percentage
 * over the time since it, or since the fork (`sinceForkMs`) for the first read, rounded to 0.1
 * as the worker's own figure is (health-probe.ts).
 */
export function nextMeasuredCpu(previous: MeasuredCpu | undefined, ticks: number, at: number, sinceForkMs: number): MeasuredCpu {
  const cpuMs = ((ticks - (previous?.ticks ?? 0)) * 1_000) / kClockTicksPerSecond;
  const wallMs = previous === undefined ? sinceForkMs : at - previous.at;
  const cpuPercent = wallMs > 0 ? Math.round((Math.max(0, cpuMs) / wallMs) * 1_000) / 10 : 0;
  return { ticks, at, cpuSeconds: ticks / kClockTicksPerSecond, cpuPercent };
}
