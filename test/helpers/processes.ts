/**
 * Process checks by pid: tests assert that what they started is really gone.
 */
import { until } from './wait.js';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitUntilGone(pids: Array<number | undefined>, ms = 5_000): Promise<void> {
  await until(() => pids.every((pid) => pid === undefined || !isAlive(pid)), ms, `processes ${pids.join(', ')} gone`);
}
