/**
 * `clusterkit show`: the settings a cluster runs with, then its workers as `status` shows them
 * (pure: no I/O). The settings came from another process: each is shown only when it has the
 * expected shape, `-` otherwise, so an odd primary can never break the text. PM2's name of a
 * setting follows it, for a PM2 user looking for `kill_timeout` or `max_memory_restart`.
 */
import type { IgnoredSetting } from '../control/cluster-settings.js';
import { escapeControlChars } from '../control/control-chars.js';
import type { ClusterDescription } from '../control/control-protocol.js';
import { kPm2LogKeys } from './config/pm2-log-keys.js';
import { formatCount, formatDuration, isCount, statusHeader, workerTable } from './format-status.js';
import { kHiddenValue, redactArgs } from './redact-args.js';
import { redactText } from './redact-text.js';
import { shellWord } from '../shell-word.js';
import { stopMarginMs } from '../stop-margin.js';
import { logFileAdvice } from './logs/log-files.js';
import { optionNameFor, optionNamesOfAnswer } from './flag-names.js';
import type { OptionNames } from '../control/control-protocol.js';

type Untrusted = Record<string, unknown>;

/**
 * The row of a PM2 key that `show` labels with PM2's name, or that it would seem to set: a file's
 * key that was not used is told there, not under a label that suggests it applies (H243). Log
 * keys have the `log files` row; any other goes to a `not used` row.
 */
const kRowOfPm2Key: Readonly<Record<string, string>> = {
  exec_mode: 'exec mode',
  autorestart: 'restarts',
  restart_delay: 'restarts',
  exp_backoff_restart_delay: 'restarts',
  max_restarts: 'crash loop',
  ...Object.fromEntries(kPm2LogKeys.map((key) => [key, 'log files'])),
};

export function formatDescription(description: ClusterDescription): string {
  const settings = (isObject(description.settings) ? description.settings : {}) as Untrusted;
  // A primary of the user's own code is named in the options its code passed (`maxWorkers`),
  // `clusterkit run`'s in its flags (`--max-workers`): H363, as their refusals are (H359).
  const names = optionNamesOfAnswer(description);
  const ignored = ignoredKeys(settings.ignoredPm2Keys);
  const ignoredOn = (row: string) => ignored.filter((entry) => (Object.hasOwn(kRowOfPm2Key, entry.key) ? kRowOfPm2Key[entry.key] : 'not used') === row);
  const notes = (row: string) => ignoredOn(row).map((entry) => `; ${ignoredText(entry)}`).join('');
  const [restarts, crashLoop] = restartText(settings.restart, ignoredOn('crash loop').length > 0, names);
  const rows: Array<[string, string]> = [
    ['exec mode', settings.execMode === 'cluster' ? `cluster (node:cluster workers sharing the listening ports${ignoredOn('exec mode').length > 0 ? ')' : '; PM2: exec_mode)'}${notes('exec mode')}` : '-'],
    ['instances', instancesText(settings.instances, description, names)],
    ['script args', argsText(settings.scriptArgs)],
    ['node', `${description.nodeVersion}  execArgv ${argsText(settings.execArgv)}`],
    ['primary', `pid ${formatCount(description.pid)}, up ${formatDuration(description.uptimeMs)}`],
    ['shutdown timeout', describeShutdownTimeout(settings.shutdownTimeoutMs)],
    ['ready timeout', `${msText(settings.readyTimeoutMs)} (PM2: listen_timeout)${settings.waitReady === true ? "; ready at process.send('ready') (--wait-ready)" : ''}`],
    ['gradual drain', msText(settings.gradualDrainMs)],
    ['min ready', minReadyText(settings.minReadyMs)],
    ['memory limit', settings.maxMemoryMb === null ? 'none (PM2: max_memory_restart)' : isCount(settings.maxMemoryMb) ? `${settings.maxMemoryMb} MiB (PM2: max_memory_restart)` : '-'],
    ['cron restart', cronRestartText(settings.cronRestart, names)],
    ['restarts', `${restarts}${notes('restarts')}`],
    ['crash loop', `${crashLoop}${notes('crash loop')}`],
    ['heartbeat', settings.heartbeat === false ? 'off' : isObject(settings.heartbeat) ? `every ${msText(settings.heartbeat.intervalMs)}, a worker silent ${msText(settings.heartbeat.timeoutMs)} is killed (${optionNameFor('heartbeat.timeoutMs', names)})` : '-'],
    ['watch', watchText(settings.watch)],
    ['log files', logFilesText(description.name, settings.logFiles, ignoredOn('log files'), names)],
    // `clusterkit run`'s own (H721); a library primary stamps nothing of its own and says nothing.
    ...(settings.timeFormat === null || typeof settings.timeFormat === 'string' ? [['log time', timeFormatText(settings.timeFormat)] as [string, string]] : []),
    ['health', isObject(settings.health) && typeof settings.health.host === 'string' && isCount(settings.health.port) ? `${healthUrl(settings.health.host, settings.health.port)} (/healthz, /readyz${readyzNeeds(settings.health.minReady, settings.health.role)}, /metrics)` : settings.health === null ? 'off' : '-'],
    ['env', Array.isArray(settings.envNames) ? (settings.envNames.length === 0 ? 'none set' : `${stringsText(settings.envNames, 'none', ', ')} (names only: values are not shown)`) : '-'],
    ...(ignoredOn('not used').length > 0 ? [['not used', ignoredOn('not used').map(ignoredText).join('; ')] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  // Every value may hold what a config or a command line gave (an argument with a newline or an
  // ESC sequence): one row stays one row, and the terminal obeys nothing in it.
  const block = rows.map(([key, value]) => `${key.padEnd(width)}  ${escapeControlChars(value)}\n`).join('');
  return `${statusHeader(description)}\n${block}\n${workerTable(description)}`;
}

/** The stamp each line starts with (H335), in its format; `clusterkit logs --time` uses it (H721). */
function timeFormatText(format: string | null): string {
  return format === null ? 'off: lines carry no time (--time, --time-format; PM2: time, log_date_format)' : `each line starts with its time, formatted "${format}" (--time-format; PM2: log_date_format); clusterkit logs --time uses it`;
}

/** `cronRestart` (H377): the expression, and when it reloads next; `-` from an older primary, which has none. */
function cronRestartText(cron: unknown, names: OptionNames): string {
  if (cron === null) return 'none (PM2: cron_restart)';
  if (!isObject(cron) || typeof cron.expression !== 'string') return '-';
  const next = typeof cron.nextRun === 'string' ? `next ${cron.nextRun}` : 'no next time';
  // Where it came from (H392): the file's key (`cron_restart in ecosystem.config.js`: PM2's name already), else the flag or option.
  const source = typeof cron.source === 'string' ? cron.source : undefined;
  const from = source === undefined ? `${optionNameFor('cronRestart', names)}; PM2: cron_restart` : /^cron(?:_restart)? /.test(source) ? source : `${source}; PM2: cron_restart`;
  return `${cron.expression}: a rolling reload at each match, in the primary's local time; ${next} (${from})`;
}

function instancesText(instances: unknown, description: ClusterDescription, names: OptionNames): string {
  const now = `now ${formatCount(description.targetWorkers)}${isCount(description.maxWorkers) ? `, at most ${description.maxWorkers} (${optionNameFor('maxWorkers', names)})` : ''}`;
  if (!isObject(instances) || !isCount(instances.atStart)) return now;
  const reason = typeof instances.reason === 'string' ? `: ${instances.reason}` : '';
  return `${instances.atStart} at start${reason}; ${now}`;
}

/** The backoff (and its reset: a served crash past the startup window no longer resets it, H449), and the crash-loop limits, of a restart policy (PM2's max_restarts named only when the file's was used). */
function restartText(restart: unknown, isMaxRestartsIgnored: boolean, names: OptionNames): [string, string] {
  if (restart === false) return ['off', 'off: a worker that dies is not restarted'];
  if (!isObject(restart) || !isObject(restart.backoff)) return ['-', '-'];
  const { backoff } = restart;
  return [
    `backoff ${msText(backoff.initialMs)}, ×${typeof backoff.factor === 'number' && Number.isFinite(backoff.factor) ? backoff.factor : '-'} each time, up to ${msText(backoff.maxMs)}; reset once a worker was ready ${msText(restart.stableAfterMs)} (${optionNameFor('restart.stableAfterMs', names)})`,
    `${formatCount(restart.maxRestarts as number)} restarts in ${msText(restart.windowMs)}, or ${formatCount(restart.maxStartupFailures as number)} startup failures in a row (${isMaxRestartsIgnored ? '' : 'PM2: max_restarts; '}startup window ${msText(restart.startupWindowMs)}, PM2: min_uptime)`,
  ];
}

/**
 * Where the output goes; and a PM2 file's log keys, which clusterkit does not use (before: a bare
 * "none", as if the file had set no log file).
 */
/**
 * The run's log files (H314), then the file's log keys that were not used (`disable_logs`); with
 * no file, where the output goes (H243).
 */
function logFilesText(name: string, files: unknown, logKeys: readonly IgnoredSetting[], names: OptionNames): string {
  const given = isObject(files) ? files : {};
  const path = (key: string) => (typeof given[key] === 'string' ? (given[key] as string) : undefined);
  // A file that gets nothing says since when and why (H322), and what to do (H334); a state of another shape is left out.
  const failing = new Map<string, string>();
  for (const entry of Array.isArray(given.states) ? (given.states as unknown[]) : []) {
    if (!isObject(entry) || entry.state !== 'failing' || typeof entry.path !== 'string') continue;
    const since = typeof entry.since === 'string' ? ` since ${escapeControlChars(entry.since)}` : '';
    const code = typeof entry.code === 'string' ? ` (${escapeControlChars(entry.code)})` : '';
    // What to do, fitting the error (a directory at the path is no full disk, H334).
    const advice = typeof entry.code === 'string' ? ` (${logFileAdvice(entry.code)})` : '';
    failing.set(entry.path, `; failing${since}${code}: it gets no lines${advice}; SIGUSR2 or fixing the path reopens it`);
  }
  const file = (key: string, pm2: string) => `${path(key)} (PM2: ${pm2}${failing.get(path(key)!) ?? ''})`;
  const listed = [
    // What each file gets, as pm2-differences.md says: not PM2's plain stdout and stderr (newcomer t60).
    ...(path('outFile') === undefined ? [] : [`the workers' stdout and the primary's info lines to ${file('outFile', 'out_file')}`]),
    ...(path('errorFile') === undefined ? [] : [`the workers' stderr and the primary's warnings and errors to ${file('errorFile', 'error_file')}`]),
    ...(path('logFile') === undefined ? [] : [`all of them to ${file('logFile', 'log_file')}`]),
  ];
  const keys = logKeys.map((entry) => `; PM2's ${entry.key} (${entry.value}) is not used: ${entry.instead}`).join('');
  if (listed.length > 0) return `${listed.join(', ')}; SIGUSR2 to the primary reopens them${keys}`;
  // A primary of the user's own code keeps no log: `clusterkit logs` and run's files are not its (H363).
  if (names === 'api') return `none kept by clusterkit: the workers' output goes to the primary process's stdout and stderr, or where its code pipes it (the "silent" and "stdio" options); clusterkit logs reads only the clusters clusterkit run started${keys}`;
  return `none: the output goes to the primary's stdout and stderr (clusterkit logs ${shellWord(name)}); --output, --error, --log (outFile, errorFile, logFile) write it to files${keys}`;
}

function ignoredText(entry: IgnoredSetting): string {
  return `PM2's ${entry.key} (${entry.value}) is not used: ${entry.instead}`;
}

/**
 * The file's keys that were not used, as the primary gave them; an entry of another shape is left
 * out (none from an older primary). A value may hold a secret (`install_url` with a token, a
 * `post_update` command with a header): hidden as in arguments (H252).
 */
function ignoredKeys(value: unknown): IgnoredSetting[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((entry): entry is IgnoredSetting => isObject(entry) && typeof entry.key === 'string' && typeof entry.value === 'string' && typeof entry.instead === 'string')
    .map((entry) => ({ key: escapeControlChars(entry.key), value: escapeControlChars(redactText(entry.value)), instead: escapeControlChars(entry.instead) }));
}

/** Dropped paths named on the `watch` row; more are counted (`--json` lists them all). */
const kShownDropped = 5;

function watchText(watch: unknown): string {
  if (watch === false) return 'off';
  if (!isObject(watch)) return '-';
  // Ended on its own (H667, retest t67: show said "on" after the watch process was killed, and nothing reloaded).
  if (typeof watch.ended === 'string') return `ended: the watch process ${escapeControlChars(watch.ended.replace(/^it /, '')).slice(0, 300)}; no change reloads the workers until clusterkit run restarts`;
  const ignore = Array.isArray(watch.ignore) && watch.ignore.length > 0 ? `, ignoring ${stringsText(watch.ignore, '', ', ')}` : '';
  const delay = `a reload ${msText(watch.delayMs)} after the last change`;
  // A watched path that is gone is not watched: `show` must not say "on" of it (H256).
  const missing = strings(watch.missing);
  // Nor of the paths dropped as the app's output (H269: `show` said "on" of them).
  const dropped = strings(watch.dropped);
  // Nor of those left out for the run (H511), which no change watches again (H515: `show` said one did).
  const leftOut = strings(watch.leftOut);
  const large = strings(watch.largeDirectories);
  const full = strings(watch.full);
  const notes = [
    ...(missing.length === 0 ? [] : [`not watching: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} gone (removed or moved away), watched again once back`]),
    // What was seen, not who wrote it; a change at another time takes it off (H288).
    ...(dropped.length === 0
      ? []
      : [`changes during reloads ignored: ${droppedText(dropped)} (written while each of 3 reloads in a row ran, as an app's output is; a change at another time watches it again)`]),
    ...(leftOut.length === 0 ? [] : [leftOutText(leftOut)]),
    // Full (H650): what is new there is not watched until others are gone (watch tester t65: show said "on" meanwhile).
    ...(full.length === 0 ? [] : [`full (50,000 entries): new entries in ${droppedText(full)} are not watched until others are gone`]),
    // Too big to watch (H650): data or output, unless named among the watched paths.
    ...(large.length === 0 ? [] : [`left out of the watch for the rest of this run for their size: ${droppedText(large)} (more than 2000 entries each; named among the watched paths, a directory is watched whatever it holds)`]),
    // Code that reloads the workers again and again (H289: show said nothing of it).
    ...loopingTexts(watch.looping),
  ];
  const not = notes.join('; ');
  const kept = Array.isArray(watch.paths) ? watch.paths.filter((path) => typeof path === 'string' && !missing.includes(path)) : [];
  if (kept.length === 0) return `${not}${ignore}`;
  return `on: ${stringsText(kept, '-', ', ')}${ignore}; ${not === '' ? '' : `${not}; `}${delay}`;
}

/** `reloading again and again: a (written during each of the last 7 reloads)`, of an untrusted list. */
function loopingTexts(value: unknown): string[] {
  const looping = Array.isArray(value) ? value.filter((entry): entry is { path: string; reloads: number } => isObject(entry) && typeof entry.path === 'string' && Number.isSafeInteger(entry.reloads)) : [];
  if (looping.length === 0) return [];
  const shown = looping.slice(0, kShownDropped).map(({ path, reloads }) => `${path} (written during each of the last ${reloads} reloads)`);
  const more = looping.length > kShownDropped ? ` and ${looping.length - kShownDropped} more (show --json lists them all)` : '';
  return [`reloading again and again: ${shown.join(', ')}${more}`];
}

/** The paths left out of the watch for the rest of the run (H511), apart from the dropped ones, which a change watches again (H515). */
function leftOutText(paths: readonly string[]): string {
  const [it, was] = paths.length === 1 ? ['it', 'it was'] : ['them', 'they were'];
  return `left out of the watch for the rest of this run: ${droppedText(paths)} (found looping again after ${was} watched again; clusterkit run starts watching ${it} again when it restarts)`;
}

function droppedText(paths: readonly string[]): string {
  const more = paths.length > kShownDropped ? ` and ${paths.length - kShownDropped} more (show --json lists them all)` : '';
  return `${paths.slice(0, kShownDropped).join(', ')}${more}`;
}

/** The strings of an untrusted list, or none. */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function healthUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `--min-ready` (H349): 0 is off; a primary of an older clusterkit has no such setting (`-`). */
function minReadyText(ms: unknown): string {
  if (ms === 0) return 'off: a replacement takes over once ready (Kubernetes: minReadySeconds)';
  return isCount(ms) ? `${msText(ms)}: a replacement takes over once it stayed up this long (Kubernetes: minReadySeconds)` : '-';
}

/** A setting's duration, exactly (`settingDuration`); `none` for no limit (JSON's null for an infinite one), `-` for another shape. */
/**
 * `8s (PM2: kill_timeout; a stopping worker's requests get up to 6s)`: a worker ends its own stop
 * sooner than the primary's deadline (stop-margin.ts), which a PM2 user reading `kill_timeout`
 * takes for the requests' time (ops t61); the load-time line of a PM2 file says it too.
 */
function describeShutdownTimeout(ms: unknown): string {
  if (!isCount(ms) || ms === 0) return `${msText(ms)} (PM2: kill_timeout)`;
  return `${msText(ms)} (PM2: kill_timeout; a stopping worker's requests get up to ${msText(ms - stopMarginMs(ms))})`;
}

function msText(ms: unknown): string {
  if (ms === null) return 'none';
  return isCount(ms) ? settingDuration(ms) : '-';
}

/**
 * A duration as set, never rounded (H372: `formatDuration` floors to the second, so `show` said
 * `min ready 1s` of 1999 ms and `shutdown timeout 2s` of 2500 ms, half a second short of what an
 * operator sizes a grace period by): `450ms`, `2.5s`, `1.999s`, `30s`; from a minute on as
 * `formatDuration` writes it when that is exact (`1m 0s`, `2h 5m`), else every unit down to the
 * second (`1m 30.5s`, `1h 0m 0.5s`).
 */
export function settingDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${ms / 1_000}s`;
  const unitOfShown = ms < 3_600_000 ? 1_000 : ms < 86_400_000 ? 60_000 : 3_600_000;
  if (ms % unitOfShown === 0) return formatDuration(ms);
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, unit] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
  }
  parts.push(`${rest / 1_000}s`);
  return parts.join(' ');
}

/**
 * Arguments, the values of secret-looking flags (H236) and the secrets inside others (H252) hidden
 * as env values are; each a shell word (H279), so `-H 'Authorization: <hidden>'` reads as two
 * arguments and `$'line1\nfake row'` as one, with its newline.
 */
function argsText(values: unknown): string {
  if (!Array.isArray(values)) return '-';
  const { args, hidden } = redactArgs(values);
  return `${args.length === 0 ? 'none' : args.map(argWord).join(' ')}${hidden > 0 ? ' (secret-looking values are not shown)' : ''}`;
}

/** What stands for a hidden value while an argument is quoted: shell-safe, so `--token=<hidden>` is not quoted for its `<>`. */
const kHiddenStandIn = 'ClusterkitHiddenValue7f3a';

/**
 * The placeholder stays inside quotes (H285): bare, `--token=<hidden>` pasted into a shell read
 * `<hidden` and `>` as redirections, and truncated the file named after them. In a quoted word
 * it is quoted already; in a bare one it gets its own quotes: `--password='<hidden>'`.
 */
function argWord(arg: unknown): string {
  if (typeof arg !== 'string') return '-';
  const word = shellWord(arg.replaceAll(kHiddenValue, kHiddenStandIn));
  const isQuoted = word.startsWith("'") || word.startsWith("$'");
  return word.replaceAll(kHiddenStandIn, isQuoted ? kHiddenValue : `'${kHiddenValue}'`);
}

/** `description` for `show --json`: the same arguments and values hidden as in the text. */
export function redactDescription(description: ClusterDescription): ClusterDescription {
  const settings = description.settings as unknown;
  if (!isObject(settings)) return description;
  const redacted: Untrusted = { ...settings };
  for (const key of ['scriptArgs', 'execArgv'] as const) if (Array.isArray(settings[key])) redacted[key] = redactArgs(settings[key]).args;
  if (Array.isArray(settings.ignoredPm2Keys)) redacted.ignoredPm2Keys = settings.ignoredPm2Keys.map((entry: unknown) => (isObject(entry) && typeof entry.value === 'string' ? { ...entry, value: redactText(entry.value) } : entry));
  return { ...description, settings: redacted as unknown as ClusterDescription["settings"] };
}

function stringsText(values: unknown, empty: string, separator = ' '): string {
  if (!Array.isArray(values)) return '-';
  if (values.length === 0) return empty;
  return values.map((value) => (typeof value === 'string' ? value : '-')).join(separator);
}

function isObject(value: unknown): value is Untrusted {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What `/readyz` needs, from a primary's answer (untrusted): ` ready with 2 workers or more`; '' when the answer has none (an older primary). */
function readyzNeeds(minReady: unknown, role: unknown): string {
  if (typeof minReady !== 'number' || !Number.isSafeInteger(minReady) || minReady < 0) return '';
  if (minReady === 0) return ': ready with no worker ready too (--health-min-ready 0)';
  // A role's endpoint counts only its workers (newcomer t63: `status` showed 2 ready, /readyz needed 2 "web").
  const kind = typeof role === 'string' ? ` ${JSON.stringify(role)}` : '';
  return `: ready with ${minReady} ready${kind} worker${minReady === 1 ? '' : 's'} or more`;
}
