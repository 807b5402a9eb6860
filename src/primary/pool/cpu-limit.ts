/**
 * How many workers `'auto'` means: the CPUs this process may use, including a container's CPU
 * quota. `os.availableParallelism()` only honours the quota from libuv 1.49 (Node 22); on Node
 * 20 it sees the CPU affinity alone, so in a Kubernetes pod limited to 2 CPUs on a 32-core node
 * it says 32. The quota is read here from the cgroup files, as libuv does now.
 */
import { readFileSync } from 'node:fs';
import { loadOs } from '../../builtins.js';

/** The default of `maxWorkers` is this many workers per CPU ('auto' count)... */
const kMaxWorkersPerCpu = 4;
/** ...and never less than this: 64 workers stay possible on any machine. */
const kMinDefaultMaxWorkers = 64;

/**
 * The default ceiling of the worker count (`maxWorkers`): 4 × `autoWorkerCount()`, at least
 * 64. Room for I/O-bound services that run several workers per core, while a typo such as
 * `scale(100000)` is refused instead of forking until the machine runs out of pids or memory.
 */
export function defaultMaxWorkers(root = '/'): number {
  return Math.max(kMinDefaultMaxWorkers, kMaxWorkersPerCpu * autoWorkerCount(root));
}

/** `min(os.availableParallelism(), floor(CPU quota))`, at least 1. */
export function autoWorkerCount(root = '/'): number {
  const parallelism = loadOs().availableParallelism();
  const quota = cgroupCpuQuota(root);
  return quota === undefined ? parallelism : Math.max(1, Math.min(parallelism, Math.floor(quota)));
}

/** The CPU quota of this process's cgroup, in CPUs (2.5 for "250000 100000"), if one is set. */
export function cgroupCpuQuota(root = '/'): number | undefined {
  const cgroups = read(`${root}proc/self/cgroup`);
  if (cgroups === undefined) return undefined; // not Linux
  const v2 = cgroups.split('\n').find((line) => line.startsWith('0::'));
  if (v2 !== undefined) {
    const path = v2.slice(3).trim();
    for (const dir of ancestors(path)) {
      const [quota, period] = (read(`${root}sys/fs/cgroup${dir}/cpu.max`) ?? '').trim().split(/\s+/);
      if (quota && quota !== 'max' && Number(period) > 0) return Number(quota) / Number(period);
    }
    return undefined;
  }
  for (const base of ['sys/fs/cgroup/cpu,cpuacct', 'sys/fs/cgroup/cpu']) {
    const quota = Number(read(`${root}${base}/cpu.cfs_quota_us`));
    const period = Number(read(`${root}${base}/cpu.cfs_period_us`));
    if (quota > 0 && period > 0) return quota / period;
  }
  return undefined;
}

/** `/a/b`, then `/a`, then the root: a limit can sit on any ancestor of the cgroup. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const dirs = parts.map((_, index) => `/${parts.slice(0, parts.length - index).join('/')}`);
  return [...dirs, ''];
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
