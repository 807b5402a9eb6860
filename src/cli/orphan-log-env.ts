/**
 * Set by `clusterkit run` in the workers' environment when it writes log files that get the
 * workers' stderr (`--error`, `--log`; PM2's `error_file`, `log_file`), for worker-main (which
 * removes it before the script runs): an orphaned worker, whose primary is gone with the only
 * reader of its stderr, appends its own lines to those files, as the primary would have written
 * them there (worker/orphan-stop.ts, H397). Without such a file, a named cluster's orphan appends
 * them to `linesFile`, its `<name>.orphans.log` in the control directory, which `clusterkit logs`
 * and the next primary of the name read (control/orphan-lines.ts, H417).
 * JSON: `{ files, linesFile?, name, format, timeFormat?, raiseTimeout? }`.
 */
import type { LogFormat } from './output-prefix.js';
import { linePrefixer } from './logs/line-time.js';
import { workerLinePrefix } from './logs/worker-line-prefix.js';
import type { OrphanLineRenderer } from '../worker/orphan-stop.js';

export const kOrphanLogEnv = 'CLUSTERKIT_ORPHAN_LOG';

/** What the workers are told. */
export interface OrphanLogSetting {
  readonly files: readonly string[];
  /** The control directory's `<name>.orphans.log`, when `files` is empty (H417). */
  readonly linesFile?: string | undefined;
  /** The cluster's name, as its lines' prefix says it. */
  readonly name: string;
  readonly format: LogFormat;
  /** `--time-format`, when the lines are timed. */
  readonly timeFormat?: string | undefined;
  /** How the orphan's line says to raise the shutdown timeout: `Raise --shutdown-timeout (kill_timeout in ecosystem.config.cjs)` (H695). */
  readonly raiseTimeout?: string | undefined;
}

/** The variable's value for `setting`; undefined when no file gets the orphans' lines. */
export function orphanLogEnvValue(setting: OrphanLogSetting): string | undefined {
  return setting.files.length === 0 && setting.linesFile === undefined ? undefined : JSON.stringify(setting);
}

/**
 * The files and the renderer of the variable's value (as the primary's pipeWorkerOutput writes a
 * worker's stderr line to them); undefined for none, or a value this bootstrap cannot read.
 */
export function readOrphanLogEnv(
  value: string | undefined,
  workerId: number | undefined,
): { files: string[]; linesFile?: string; render: OrphanLineRenderer; raiseTimeout?: string } | undefined {
  if (value === undefined) return undefined;
  try {
    const setting = JSON.parse(value) as Partial<OrphanLogSetting>;
    const words = typeof setting.raiseTimeout === 'string' ? { raiseTimeout: setting.raiseTimeout } : {};
    const files = Array.isArray(setting.files) ? setting.files.filter((file): file is string => typeof file === 'string') : [];
    const name = typeof setting.name === 'string' ? setting.name : 'clusterkit';
    if (files.length === 0) {
      // No log file: the control directory's file, which takes the messages as they are (H417).
      return typeof setting.linesFile === 'string' ? { files, linesFile: setting.linesFile, render: () => '', ...words } : undefined;
    }
    // The worker logger's own line, `[clusterkit] WARN ...`, as its stderr would have carried it.
    const text = (message: string) => `[clusterkit] WARN ${message}`;
    if (setting.format === 'json') {
      return { files, render: (message, time) => `${JSON.stringify({ level: 50, time, name, workerId, stream: 'stderr', msg: text(message) })}\n`, ...words };
    }
    const stamp = linePrefixer(typeof setting.timeFormat === 'string' ? setting.timeFormat : undefined);
    const prefix = workerLinePrefix(name, workerId, 'stderr', false);
    return { files, render: (message, time) => `${stamp?.(time) ?? ''}${prefix}${text(message)}\n`, ...words };
  } catch {
    return undefined;
  }
}
