/**
 * A worker's resident set size as the primary measures it, not as the worker says (H382). The
 * heartbeat's answer is the worker's own word, and any `process.on('message')` listener in it
 * sees the `$ping` ids: a library worker answered each ping first with `rss: 10e6` while it held
 * 458 MB, and `maxMemoryMb: 200` never replaced it (hostile t38 M1). On Linux the primary reads
 * the figure itself: `VmRSS` of `/proc/<pid>/status`, the kernel's count of the process's
 * resident pages, in kB whatever the page size. (`statm` gives the same count in pages: times
 * 4096 it is wrong on 16 KiB- and 64 KiB-page kernels, and Node exposes no page size.) It is the
 * figure `process.memoryUsage().rss` reads in the worker. One small asynchronous read per worker
 * per heartbeat, after its answer: nothing on the message path. Elsewhere (macOS, Windows: no
 * procfs) there is no read without spawning a process, and the figure stays the worker's word.
 */
// node:fs, which clusterkit loads at start anyway: not node:fs/promises, one more module in every worker's start.
import { readFile } from 'node:fs';

/** Whether the primary measures its workers' RSS itself: Linux (procfs). */
export const isRssMeasured = process.platform === 'linux';

/** The `VmRSS` of a `/proc/<pid>/status` text, in bytes; undefined when it has none (a zombie). */
export function parseVmRss(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB\s*$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * Process `pid`'s RSS in bytes, read from procfs. Undefined at once where there is nothing to
 * read (not Linux, no pid), so the caller stays synchronous there; a promise of undefined where
 * the read fails (the process gone, a procfs mounted `hidepid`). Either way the caller keeps the
 * worker's own figure.
 */
export function measureRss(pid: number | undefined): Promise<number | undefined> | undefined {
  if (!isRssMeasured || pid === undefined) return undefined;
  return new Promise((resolve) => readFile(`/proc/${pid}/status`, 'utf8', (error, text) => resolve(error ? undefined : parseVmRss(text))));
}
