/**
 * Process checks by pid: tests assert that what they started is really gone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { onCleanup } from './cleanup.js';
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

/** A `sleep` duration no other process on the machine runs, and its processes, found by their command line. */
export function uniqueSleeps(): { seconds: string; pids(): number[] } {
  const seconds = `${900 + Math.floor(Math.random() * 99)}.${process.pid}${Math.floor(Math.random() * 1000)}`;
  const pids = () =>
    readdirSync('/proc')
      .filter((entry) => {
        try {
          return /^\d+$/.test(entry) && readFileSync(`/proc/${entry}/cmdline`, 'latin1') === `sleep\0${seconds}\0`;
        } catch {
          return false;
        }
      })
      .map(Number);
  onCleanup(() => {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  });
  return { seconds, pids };
}
