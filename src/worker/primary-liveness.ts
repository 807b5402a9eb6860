/**
 * Whether the worker's primary still runs, read the moment its IPC channel closed (H516): a
 * primary that runs on is not "gone (killed or crashed)".
 *
 * The parent pid alone cannot say it: a dying primary's descriptors close before the kernel
 * hands its children to another parent, and in a trial of 40 SIGKILLed primaries (4 workers
 * each) 47 of 148 workers saw their channel close with the dead primary still their parent
 * (a zombie, or still running its exit). Linux's `/proc/<pid>/stat` tells those apart: a
 * zombie's state (`Z`, `X`), or `PF_EXITING` in its flags, set before the exit closes any
 * descriptor; a pid that cannot be read is gone. Without /proc, a live pid is `unsure`: its
 * death may be under way.
 */
import { existsSync } from 'node:fs';
import { statFields } from './process-table.js';

/** The kernel's PF_EXITING task flag (include/linux/sched.h): the task is in its exit. */
const kPfExiting = 0x4;

export type PrimaryLiveness = 'runs' | 'gone' | 'unsure';

/** How the primary `primaryPid`, this worker's parent at its start, is now. Never throws. */
export function primaryLiveness(primaryPid: number): PrimaryLiveness {
  if (process.ppid !== primaryPid) return 'gone';
  // `state ppid pgrp session tty_nr tpgid flags ...`, read after `(comm)`.
  const fields = statFields(primaryPid);
  if (fields === undefined) {
    // ENOENT, or ESRCH while its exit tears it down: gone, where /proc is there to read at all.
    if (existsSync('/proc/self/stat')) return 'gone';
    return isPidAlive(primaryPid) ? 'unsure' : 'gone';
  }
  const state = fields[0];
  const flags = Number(fields[6]);
  if (state === 'Z' || state === 'X' || state === 'x' || (flags & kPfExiting) !== 0) return 'gone';
  // A line it cannot read (a kernel of another format): as without /proc.
  return Number.isInteger(flags) ? 'runs' : 'unsure';
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
