/**
 * `cronRestart` (PM2's `cron_restart`, H377): a rolling reload each time a cron expression
 * matches, in the primary's local time zone (PM2's behaviour). Parsing and timing are croner's
 * (the parser PM2 itself uses), in its "5-or-6-parts" mode: the 5 fields of crontab, or 6 with
 * seconds first (PM2 accepts both); nicknames such as `@daily` too.
 *
 * croner is loaded on first use, synchronously (it ships CommonJS), and only by a primary given
 * the option: a worker that imports clusterkit never loads it (it would parse it on each start).
 */
import { CronScheduleError, InvalidOptionError } from '../../errors.js';

/** What clusterkit uses of croner's `Cron` (its own types stay out of clusterkit's declarations). */
interface CronJob {
  nextRun(from?: Date): Date | null;
  nextRuns(count: number, from?: Date): Date[];
  stop(): void;
}
interface CronOptions {
  readonly paused?: boolean;
  readonly unref?: boolean;
  readonly mode?: '5-or-6-parts';
  readonly catch?: (error: unknown) => void;
}
type CronClass = new (pattern: string, options: CronOptions, run?: () => void) => CronJob;

let cronClass: CronClass | undefined;

function loadCron(): CronClass {
  cronClass ??= (process.getBuiltinModule('node:module').createRequire(import.meta.url)('croner') as { Cron: CronClass }).Cron;
  return cronClass;
}

/** An expression that works, for the messages. */
export const kCronRestartExample = "'0 3 * * *' (every day at 03:00)";
/** What the option takes, as a phrase after "must be". */
export const kCronRestartRule =
  "a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), read in the primary's local time zone";

/** Why `expression` is refused (the parser's error as `cause`), or undefined for one that schedules. */
export function cronRestartProblem(expression: string): { readonly reason: string; readonly cause?: unknown } | undefined {
  // Said in our words where croner's would mislead: it names the 7-field form the mode refuses,
  // and calls @reboot unsupported "in this environment" as if another ran it (retest t38 L1).
  const trimmed = expression.trim();
  if (trimmed.toLowerCase() === '@reboot') return { reason: '@reboot is no schedule: the workers start when the primary starts anyway' };
  if (!trimmed.startsWith('@')) {
    const fields = trimmed === '' ? 0 : trimmed.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) return { reason: `it has ${fields} ${fields === 1 ? 'field' : 'fields'}: 5 or 6 are read (no year field)` };
  }
  let next: Date | null;
  try {
    next = new (loadCron())(expression, { paused: true, mode: '5-or-6-parts' }).nextRun();
  } catch (error) {
    const said = error instanceof Error ? error.message.replace(/^CronPattern: /, '').replace(/\.$/, '') : String(error);
    return { reason: `the cron parser (croner) says: ${said}`, cause: error };
  }
  return next === null ? { reason: 'it matches no date to come (such as the 30th of February), so it would never reload' } : undefined;
}

/** The `cronRestart` option: undefined, or an expression that schedules (`InvalidOptionError`, the parser's error as `cause`). */
export function cronRestartOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(name, `${kCronRestartRule}, such as ${kCronRestartExample}`, value);
  const problem = cronRestartProblem(value);
  if (problem !== undefined) throw new InvalidOptionError(name, `${kCronRestartRule}, such as ${kCronRestartExample}; ${problem.reason}`, value, { cause: problem.cause });
  return value;
}

/** Two matches closer than this are said as the schedule starts (H490). */
const kShortestQuietIntervalMs = 60_000;
/** Matches looked at for the shortest interval: enough for the patterns that pair a few seconds (`0,59 * * * * *`). */
const kMatchesLookedAt = 8;

/**
 * What the schedule of `expression` should be told about as it starts, in the primary's
 * process: matches under a minute apart (H490); a `TZ` (`timeZone`, `process.env.TZ` by
 * default) that left the local time, and so the schedule, in UTC (H491). A warning, never a
 * refusal: a test setup may mean it.
 */
export function cronScheduleWarnings(expression: string, timeZone = process.env.TZ, now = new Date()): CronScheduleError[] {
  const warnings: CronScheduleError[] = [];
  const runs = new (loadCron())(expression, { paused: true, mode: '5-or-6-parts' }).nextRuns(kMatchesLookedAt, now);
  const intervals = runs.slice(1).map((run, index) => run.getTime() - runs[index]!.getTime());
  const shortest = Math.min(...intervals);
  if (shortest < kShortestQuietIntervalMs) warnings.push(new CronScheduleError(expression, { reason: 'frequent', intervalMs: shortest }));
  if (timeZone !== undefined && isUnusedTimeZone(timeZone, now)) warnings.push(new CronScheduleError(expression, { reason: 'time-zone', timeZone }));
  return warnings;
}

/**
 * Whether `TZ` was set to a zone the local time does not use, which is then UTC: a name ICU does
 * not know (`Nowhere/Bogus`), or knows only in another case (`europe/paris`: Intl takes it, the
 * C library's lookup of the file does not). Empty is UTC by POSIX; `:Europe/Paris` is read
 * without its colon; a POSIX zone with its offset (`JST-9`, `UTC0`) is applied, though ICU has no
 * name for it.
 */
function isUnusedTimeZone(timeZone: string, now: Date): boolean {
  if (timeZone === '') return false;
  const year = now.getUTCFullYear();
  const seasons = [new Date(Date.UTC(year, 0, 1)), new Date(Date.UTC(year, 6, 1))];
  // Not UTC: TZ was applied (or is unset, and the system's zone is).
  if (seasons.some((date) => date.getTimezoneOffset() !== 0)) return false;
  const name = timeZone.replace(/^:/, '');
  const clock = (zone: string) => new Intl.DateTimeFormat('en', { timeZone: zone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
  try {
    const named = clock(name);
    const utc = clock('UTC');
    return seasons.some((date) => named.format(date) !== utc.format(date));
  } catch (error) {
    if (!(error instanceof RangeError)) return false;
    return !/^(?:[A-Za-z]{3,}|<[^>]+>)[+-]?\d/.test(name);
  }
}

/**
 * The schedule of a started primary: `run` at each match, on a timer that keeps no process
 * alive; `stop()` ends it for good (the shutdown).
 */
export class CronRestart {
  #job: CronJob | undefined;
  #isStopped = false;

  constructor(
    private readonly expression: string,
    private readonly run: () => void,
  ) {}

  start(): void {
    if (this.#isStopped || this.#job !== undefined) return;
    // `run` reports its own failures; `catch` keeps a throw from stopping the schedule.
    this.#job = new (loadCron())(this.expression, { mode: '5-or-6-parts', unref: true, catch: () => {} }, this.run);
  }

  /** The next reload's time, while it runs. */
  nextRun(): Date | null {
    return this.#job?.nextRun() ?? null;
  }

  stop(): void {
    this.#isStopped = true;
    this.#job?.stop();
    this.#job = undefined;
  }
}

/** The next time `expression` matches, in the primary's local time with its UTC offset (`2026-12-04 03:00:00 +01:00`), for `clusterkit show`; null if none. */
export function nextCronRun(expression: string, from = new Date()): string | null {
  let next: Date | null;
  try {
    next = new (loadCron())(expression, { paused: true, mode: '5-or-6-parts' }).nextRun(from);
  } catch {
    return null;
  }
  return next === null ? null : localTimeText(next);
}

function localTimeText(date: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`;
}
