/**
 * What `list --json` and `status --json` print for a cluster that runs (a process listens on its
 * control socket) but gave no status (H521). Before, such a cluster was left out of the JSON: a
 * frozen primary's only cluster gave `[]` on stdout, which a script reading stdout alone took for
 * "no cluster"; stderr named it and the exit code was 1, as they still do.
 */
import type { ClusterStatus } from '../control/control-protocol.js';
import { type UnansweredEntry, type UnansweredKind, unansweredWords } from './report-unanswered.js';
import { silentPrimary } from './silent-primary.js';

/**
 * One cluster without a status, in the field names of a status: `name`, `pid` (the primary's, as
 * its lock file names it; `null` when it names no live process), `state`; then `isPaused` as a
 * stopped worker has it, and why (`reason`, a stable word; `message`, what stderr says).
 */
export interface UnansweredClusterJson {
  readonly name: string;
  readonly pid: number | null;
  /** `unanswered`: asked, and no status came (yet); `not-asked`: this process could not ask it, which says nothing of the cluster. */
  readonly state: 'unanswered' | 'not-asked';
  /** Its primary's process is stopped (kill -STOP, a debugger; state T in `/proc`): `kill -CONT <pid>` resumes it. */
  readonly isPaused: boolean;
  readonly reason: UnansweredKind;
  /** The stderr line's words after the cluster's name: why, and what to do. */
  readonly message: string;
}

/** `entry` as `--json` prints it; the primary's pid and state read now, once, for both `isPaused` and `message`. */
export function unansweredJson(entry: UnansweredEntry): UnansweredClusterJson {
  const silent = silentPrimary(entry.name);
  const { kind, isOurs, message } = unansweredWords(entry, silent);
  return { name: entry.name, pid: silent.pid ?? null, state: isOurs ? 'not-asked' : 'unanswered', isPaused: silent.isStopped, reason: kind, message };
}

/**
 * Every cluster of a survey in the order of their socket names, as `list` sorts them: those that
 * answered as `answered` makes them, the others as `unansweredJson`. Both lists come in that
 * order; merged, each keeps its own (a name an answer gives is the primary's, never re-sorted).
 */
export function surveyJson<T>(statuses: readonly ClusterStatus[], unanswered: readonly UnansweredEntry[], answered: (status: ClusterStatus) => T): Array<T | UnansweredClusterJson> {
  const entries: Array<T | UnansweredClusterJson> = [];
  let next = 0;
  for (const status of statuses) {
    while (next < unanswered.length && unanswered[next]!.name < status.name) entries.push(unansweredJson(unanswered[next++]!));
    entries.push(answered(status));
  }
  for (const entry of unanswered.slice(next)) entries.push(unansweredJson(entry));
  return entries;
}
