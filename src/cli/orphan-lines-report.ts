/**
 * A new primary of `clusterkit run` reports the lines its name's previous primary's orphaned
 * workers left in the control directory (control/orphan-lines.ts, H417), then removes the file,
 * so it does not grow across runs: a WARN line that says what they are, then each of them, as
 * WARN lines of the primary. They are the first lines of its log, so `clusterkit logs <name>`
 * shows them as PM2's per-app log files would; a --log/--error file gets them too.
 */
import type { Logger } from '../logger.js';
import { readOrphanLines, takeOrphanLines } from '../control/orphan-lines.js';
import { orphanLinesPath } from '../control/runtime-dir.js';
import { sanitizeLine } from './logs/sanitize-line.js';
import { shellWord } from '../shell-word.js';

/**
 * When the lines are taken: `start`, as the name is claimed (the previous primary's orphans);
 * `stop`, at the graceful stop of the primary that claimed it (lines the orphans of an earlier
 * primary, still draining, appended while it ran), so no file outlives a clean stop (H437).
 */
export type OrphanLinesMoment = 'start' | 'stop';

/**
 * Logs and removes `<name>.orphans.log` in `directory`, if there is one; nothing else. The file
 * is taken atomically (renamed first, control/orphan-lines.ts). Never throws: it runs as `run`
 * claims the name and as it stops, which a bad file must not fail (H439); a failure is a WARN.
 */
export function reportOrphanLines(name: string, directory: string, logger: Logger, moment: OrphanLinesMoment = 'start'): void {
  try {
    const path = orphanLinesPath(name, directory);
    const taken = takeOrphanLines(path);
    if (taken === undefined) return;
    const { lines, skipped } = taken;
    if (skipped > 0) {
      logger.warn({ skippedOrphanLines: skipped }, `${skipped} line${skipped === 1 ? '' : 's'} of ${path} did not read as an orphaned worker's line (not JSON, or a field of the wrong kind or out of range) and ${skipped === 1 ? 'was' : 'were'} skipped`);
    }
    if (lines.length === 0) return;
    const whose =
      moment === 'start'
        ? `workers orphaned by the previous primary of ${name} (it ended without stopping: killed or crashed), kept in ${path} until now (also shown by "clusterkit logs ${shellWord(name)}" while no primary ran)`
        : `workers orphaned by an earlier primary of ${name} (it ended without stopping: killed or crashed), which they wrote while this primary ran, still draining; kept in ${path} until this stop`;
    logger.warn({ orphanLines: lines.length }, `${lines.length} line${lines.length === 1 ? '' : 's'} from ${whose}:`);
    for (const line of lines) {
      // `writtenAt` is the line's own time; `orphanedAt`, when the worker found its primary gone (H451).
      logger.warn({ workerId: line.workerId, pid: line.pid, writtenAt: line.time, ...(line.orphanedAt === undefined ? {} : { orphanedAt: line.orphanedAt }) }, `orphaned worker, ${new Date(line.time).toISOString()}: ${sanitizeLine(line.msg, false)}`);
    }
  } catch (error) {
    // The last net: the run goes on, and its log says what was not reported.
    logger.warn({ err: error }, `the lines of ${name}'s orphaned workers could not be reported (${error instanceof Error ? error.message : String(error)}); the run goes on`);
  }
}

/**
 * For a "not running" answer (`clusterkit status <name>` after a kill): a sentence that names
 * the lines its orphaned workers left and the command that shows them; '' for none.
 * `deadPrimary`: its last primary, when it is known to have ended without stopping
 * (`ClusterNotRunningError.deadPrimary`); without it the sentence does not blame the last one.
 */
export function orphanLinesHint(name: string, directory: string, deadPrimary?: { readonly pid: number }): string {
  let count: number;
  try {
    count = readOrphanLines(orphanLinesPath(name, directory))?.length ?? 0;
  } catch {
    return '';
  }
  if (count === 0) return '';
  const lines = `${count} line${count === 1 ? '' : 's'} on how they stopped: "clusterkit logs ${shellWord(name)}" shows them.`;
  // Its last primary is known to have ended without stopping only when it left its socket and a
  // lock of a dead pid; else the lines are of an earlier one's orphans (H437), and said so.
  return deadPrimary === undefined
    ? ` Workers orphaned by an earlier primary of it, which ended without stopping (killed or crashed), left ${lines}`
    : ` Its workers, orphaned when its last primary was killed or crashed, left ${lines}`;
}
