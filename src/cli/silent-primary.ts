/**
 * What the CLI can tell of a primary that does not answer: its pid (from its lock) and whether
 * its process is stopped (kill -STOP, a debugger), read once, for every command that says so:
 * `stop`, `reload`, `scale` (request-watch.ts), `logs` (logs-wait.ts), `list`, `status` and
 * `show`. The last three said only "may be blocked" where the CLI knew it was stopped (ops tester t54).
 */
import { liveLockHolder } from '../control/name-lock.js';
import { controlDirectory, socketPathFor } from '../control/runtime-dir.js';
import { isPaused } from '../worker/process-table.js';

/** A primary that does not answer, as the CLI reads it: its pid when its lock names a live one, and whether `/proc` says its process is stopped. */
export interface SilentPrimary {
  readonly pid: number | undefined;
  readonly isStopped: boolean;
}

/** The primary of `name` as read now: its pid when its lock names a live one, and whether `/proc` says its process is stopped. */
export function silentPrimary(name: string, directory = controlDirectory()): SilentPrimary {
  const pid = liveLockHolder(socketPathFor(name, directory))?.pid;
  return { pid, isStopped: pid !== undefined && isPaused(pid) };
}

/** `its process is stopped (kill -STOP or a debugger; kill -CONT 4120 resumes it)`, or `it may be blocked, out of file descriptors, or exiting`. */
export function silentPrimaryState({ pid, isStopped }: SilentPrimary): string {
  return isStopped ? `its process is stopped (kill -STOP or a debugger; kill -CONT ${pid} resumes it)` : 'it may be blocked, out of file descriptors, or exiting';
}

/** `its primary (pid 4120) is stopped (kill -STOP or a debugger; kill -CONT 4120 resumes it)`, or `its primary (pid 4120) may be blocked, ...`. */
export function silentPrimaryWords(name: string, directory = controlDirectory()): string {
  return silentPrimaryWordsOf(silentPrimary(name, directory));
}

/** `silentPrimaryWords` of a primary already read (`silentPrimary`): `--json`'s `message` and `isPaused` then say the same (H521). */
export function silentPrimaryWordsOf({ pid, isStopped }: SilentPrimary): string {
  const primary = `its primary${pid === undefined ? '' : ` (pid ${pid})`}`;
  return isStopped ? `${primary} is stopped (kill -STOP or a debugger; kill -CONT ${pid} resumes it)` : `${primary} may be blocked, out of file descriptors, or exiting`;
}
