/**
 * A worker ended by a signal the primary did not send: a kill, not a crash, and no error of its
 * script's to look for in its output (newcomer t25 for a ready worker; hostile t29 F3 for one
 * still starting, whose line sent the user to look for an error thrown at load). A stop signal
 * it handled and exited on by itself (code 0) is told the same way, from what the worker said
 * it received (`$stopSignal`, H273).
 */

import { kHangupRecentMs } from '../lifecycle/hangup-record.js';
import { kMaxGroupHangups } from './slot.js';

/**
 * The signals that end a process from outside (kill, kill -9, the OOM killer), where a starting
 * worker's script is not to blame. SIGHUP too: it kills a worker still loading, before it
 * ignores it (t30 M-B: it read without "from outside clusterkit", H291).
 * Not the fatal signals a process raises on itself (SIGABRT, SIGSEGV...): errors.ts isSelfFatalSignal (H296).
 */
const kOutsideKillSignals: ReadonlySet<string> = new Set(['SIGKILL', 'SIGTERM', 'SIGHUP']);

/**
 * Who sends it, as examples: `kill -9` and the OOM killer send SIGKILL only; a stop signal comes
 * from `kill`, a process manager or a container runtime (hostile t29 L2: a SIGTERM was given the SIGKILL examples).
 */
function senders(signal: NodeJS.Signals): string {
  if (signal === 'SIGKILL') return "kill -9, the OOM killer, or the worker's own code";
  if (signal === 'SIGHUP') return "kill -HUP, a terminal's hangup, or the worker's own code";
  return "kill, a process manager, a container runtime, or the worker's own code";
}

/**
 * How a worker still loading ended by a group's SIGHUP the primary got too reads, after "worker 3"
 * (`WorkerRecord.isGroupHangup`, retest t72 N2). Node cannot tell a signal's sender: the words
 * give the evidence (the primary's own SIGHUP at about the same time) and what it is taken for,
 * not a fact (retest t73 P5: `kill -HUP <primary>`, then `kill -HUP <worker pid>` 0.45 s later,
 * read "sent to the whole process group").
 */
export const kGroupHangupHow = `was killed by a SIGHUP that came within ${kHangupRecentMs / 1000} s of the primary's own, so taken for one sent to the whole process group (kill -HUP -<pgid>, a terminal's hangup)`;

/**
 * How a loading worker's death by such a SIGHUP past the ones its slot forgives reads, after
 * "worker 3" (`WorkerRecord.isUnforgivenHangup`): before, `killed by SIGHUP from outside
 * clusterkit`, though the primary had heard the same signal (hostile t75 F2: a storm of 10 group
 * SIGHUPs during crash restarts).
 */
export const kUnforgivenHangupHow = `was killed by a SIGHUP that came within ${kHangupRecentMs / 1000} s of the primary's own (taken for one sent to the whole process group), after ${kMaxGroupHangups} such deaths in a row in its slot`;

/** What follows an unforgiven hangup's line: why it counts, and what to do about a storm. No final period. */
export const kUnforgivenHangupAdvice =
  `Counted as a failed start: ${kMaxGroupHangups} in a row are forgiven, not more, since a script that signals its own process group as it loads would restart without end. ` +
  'If repeated group SIGHUPs (kill -HUP -<pgid> in a loop) caused them, send one: a SIGHUP to the primary alone (kill -HUP <primary pid>) or clusterkit reload reloads without reaching loading workers';

/** `was killed by SIGKILL from outside clusterkit (...)`, after "worker 3". */
export function killedFromOutside(signal: NodeJS.Signals): string {
  return `was killed by ${signal} from outside clusterkit (${senders(signal)})`;
}

/** `was stopped by SIGTERM from outside clusterkit (...)`: it handled the signal and exited by itself. */
export function stoppedFromOutside(signal: NodeJS.Signals): string {
  return `was stopped by ${signal} from outside clusterkit (${senders(signal)})`;
}

/** The advice after a kill or stop from outside: its output need not show an error. No final period. */
export function lookForSender(signal: NodeJS.Signals): string {
  const where =
    signal === 'SIGKILL'
      ? "the OOM killer's line in dmesg, a supervisor, a script that kills processes"
      : signal === 'SIGHUP'
        ? "a terminal closed on a foreground clusterkit run, a script that sends kill -HUP, a process.kill() in the worker's own code"
        : "a process manager or container runtime stopping it, a script that kills processes, a process.kill() in the worker's own code";
  return `Its output need not show an error: look for what sent the signal (${where})`;
}

/** True when a starting worker that ended by `signal` was killed rather than failed: told as such, not as an error of its script. */
export function isOutsideKillSignal(signal: NodeJS.Signals | null): signal is NodeJS.Signals {
  return signal !== null && kOutsideKillSignals.has(signal);
}
