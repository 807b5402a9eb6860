/**
 * The line that says how many workers a start forks and why (`starting 2 workers: one per CPU
 * ("max")`): the runner and `clusterkit run` log it from their own decision, `ClusterPrimary`
 * for a `workerCount` of `'auto'` or `'max'` (a count it was given needs no reason).
 */

/** `one per CPU ("max")`; `, at most "maxWorkers" (64)` when there are more CPUs than that. */
export function perCpuReason(perCpu: number, maxWorkers: number, asked?: string): string {
  const why = asked === undefined ? 'one per CPU' : `one per CPU (${asked})`;
  return perCpu > maxWorkers ? `${why}, at most "maxWorkers" (${maxWorkers})` : why;
}

/** `starting 4 workers: one per CPU`. */
export function describeWorkerCount(count: number, reason: string): string {
  return `starting ${count} worker${count === 1 ? '' : 's'}: ${reason}`;
}
