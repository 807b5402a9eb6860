/**
 * What the CLI can tell of a primary that does not answer: its pid (from its lock) and whether
 * its process is stopped (kill -STOP, a debugger), in the words `stop` and `scale` use
 * (request-watch.ts). `list`, `status` and `show` said only "may be blocked" where the CLI
 * knew it was stopped (ops tester t54).
 */
import { liveLockHolder } from '../control/name-lock.js';
import { controlDirectory, socketPathFor } from '../control/runtime-dir.js';
import { isPaused } from '../worker/process-table.js';

/** `its primary (pid 4120) is stopped (kill -STOP or a debugger; kill -CONT 4120 resumes it)`, or `its primary (pid 4120) may be blocked, ...`. */
export function silentPrimaryWords(name: string, directory = controlDirectory()): string {
  const pid = liveLockHolder(socketPathFor(name, directory))?.pid;
  const primary = `its primary${pid === undefined ? '' : ` (pid ${pid})`}`;
  return pid !== undefined && isPaused(pid)
    ? `${primary} is stopped (kill -STOP or a debugger; kill -CONT ${pid} resumes it)`
    : `${primary} may be blocked, out of file descriptors, or exiting`;
}
