/**
 * A new primary of `clusterkit run` reports the lines its name's previous primary's orphaned
 * workers left in the control directory (control/orphan-lines.ts, H417), then removes the file,
 * so it does not grow across runs: a WARN line that says what they are, then each of them, as
 * WARN lines of the primary. They are the first lines of its log, so `clusterkit logs <name>`
 * shows them as PM2's per-app log files would; a --log/--error file gets them too.
 */
import type { Logger } from '../logger.js';
import { readOrphanLines, removeOrphanLines } from '../control/orphan-lines.js';
import { orphanLinesPath } from '../control/runtime-dir.js';
import { sanitizeLine } from './logs/sanitize-line.js';
import { shellWord } from '../shell-word.js';

/** Logs and removes `<name>.orphans.log` in `directory`, if there is one; nothing else. */
export function reportOrphanLines(name: string, directory: string, logger: Logger): void {
  const path = orphanLinesPath(name, directory);
  const lines = readOrphanLines(path);
  if (lines === undefined) return;
  removeOrphanLines(path);
  if (lines.length === 0) return;
  logger.warn(
    { orphanLines: lines.length },
    `${lines.length} line${lines.length === 1 ? '' : 's'} from workers orphaned by the previous primary of ${name} (it ended without stopping: killed or crashed), ` +
      `kept in ${path} until now (also shown by "clusterkit logs ${shellWord(name)}" while no primary ran):`,
  );
  for (const line of lines) {
    logger.warn({ workerId: line.workerId, pid: line.pid, orphanedAt: line.time }, `orphaned worker, ${new Date(line.time).toISOString()}: ${sanitizeLine(line.msg, false)}`);
  }
}

/**
 * For a "not running" answer (`clusterkit status <name>` after a kill): a sentence that names
 * the lines its orphaned workers left and the command that shows them; '' for none.
 */
export function orphanLinesHint(name: string, directory: string): string {
  let count: number;
  try {
    count = readOrphanLines(orphanLinesPath(name, directory))?.length ?? 0;
  } catch {
    return '';
  }
  if (count === 0) return '';
  return ` Its workers, orphaned when its last primary was killed or crashed, left ${count} line${count === 1 ? '' : 's'} on how they stopped: "clusterkit logs ${shellWord(name)}" shows them.`;
}
