/**
 * A worker ended by a signal the primary did not send: a kill, not a crash, and no error of its
 * script's to look for in its output (newcomer t25 for a ready worker; hostile t29 F3 for one
 * still starting, whose line sent the user to look for an error thrown at load).
 */

/** The signals that end a process from outside (kill, kill -9, the OOM killer), where a starting worker's script is not to blame. */
const kOutsideKillSignals: ReadonlySet<string> = new Set(['SIGKILL', 'SIGTERM']);

/** `was killed by SIGKILL from outside clusterkit (...)`, after "worker 3". */
export function killedFromOutside(signal: NodeJS.Signals): string {
  return `was killed by ${signal} from outside clusterkit (kill -9, the OOM killer, or the worker's own code)`;
}

/** True when a starting worker that ended by `signal` was killed rather than failed: told as such, not as an error of its script. */
export function isOutsideKillSignal(signal: NodeJS.Signals | null): signal is NodeJS.Signals {
  return signal !== null && kOutsideKillSignals.has(signal);
}
