/**
 * Process checks by pid: tests assert that what they started is really gone.
 */
import { readFileSync } from 'node:fs';
import { until } from './wait.js';

/**
 * True while the process runs. A zombie counts as gone: it has exited and only waits to be
 * reaped, which for an orphan is up to PID 1 (slow on some machines).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false; // no procfs (macOS): kill(pid, 0) is all we have
  }
}

export async function waitUntilGone(pids: Array<number | undefined>, ms = 15_000): Promise<void> {
  await until(() => pids.every((pid) => pid === undefined || !isAlive(pid)), ms, `processes ${pids.join(', ')} gone`);
}
