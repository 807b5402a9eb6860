/**
 * What a PM2 user types out of habit, and what clusterkit calls it: an unknown command or
 * option that PM2 has gets its clusterkit name instead of a bare "unknown" (docs/cli.md, "From
 * PM2", has the whole table). A typo gets "Did you mean ...?", but never `stop`: a suggestion
 * is run without much thought, and `stop` takes a service down (`shop` is one edit from it and from `show`).
 */
import { closest } from './suggest.js';

/** PM2's commands that clusterkit does not have, with what to run instead. */
const kPm2Commands: Readonly<Record<string, string>> = {
  start: `"run": clusterkit run app.js (or clusterkit run ecosystem.config.js for the apps of a config file; clusterkit run alone reads clusterkit.config.ts); it runs in the foreground, under your terminal, systemd or container`,
  restart: `"reload": clusterkit reload <name> replaces the workers one by one, with no downtime (or stop it, then run it again; an app of a config file alone: clusterkit run <config file> <name>)`,
  delete: `"stop": clusterkit stop <name>; there is no process list to remove it from`,
  del: `"stop": clusterkit stop <name>; there is no process list to remove it from`,
  monit: `"dashboard": clusterkit dashboard <name> (live charts in the browser), or clusterkit status <name> --watch in the terminal`,
  dash: `"dashboard": clusterkit dashboard <name> (live charts in the browser), or clusterkit status <name> --watch in the terminal`,
  imonit: `"dashboard": clusterkit dashboard <name> (live charts in the browser), or clusterkit status <name> --watch in the terminal`,
  gracefulReload: `"reload": clusterkit reload <name>; every reload here is graceful, one worker at a time`,
  startOrReload: `"reload" for a cluster that runs: clusterkit reload <name>, which exits 4 when none of that name runs; then start it with clusterkit run ecosystem.config.js (in the foreground: under your supervisor)`,
  startOrRestart: `"reload" for a cluster that runs: clusterkit reload <name>, which exits 4 when none of that name runs; then start it with clusterkit run ecosystem.config.js (in the foreground: under your supervisor)`,
  startOrGracefulReload: `"reload" for a cluster that runs: clusterkit reload <name>, which exits 4 when none of that name runs; then start it with clusterkit run ecosystem.config.js (in the foreground: under your supervisor)`,
  kill: `not needed: clusterkit has no daemon to kill; stop each cluster with clusterkit stop <name> (clusterkit list names them)`,
  pid: `"status": clusterkit status <name> shows the primary's pid and each worker's (clusterkit status <name> --json for a script)`,
  sendSignal: `kill -<signal> <pid> here: clusterkit status <name> shows the pids (SIGHUP to the primary reloads, SIGTERM stops)`,
  env: `"show": clusterkit show <name> names the environment variables its settings add (never their values)`,
  dump: `not needed: clusterkit is not a daemon; the config file (clusterkit.config.ts) says what runs`,
  unstartup: `not needed: clusterkit is not a daemon; remove "clusterkit run" from your systemd unit, container or supervisor`,
  logrotate: `not needed: rotate the files of clusterkit run --output/--error/--log (outFile, errorFile, logFile) with the system's logrotate, copytruncate or postrotate kill -USR2 <primary pid> (docs/logs-and-watch.md, "Log files")`,
  update: `not needed: clusterkit is not a daemon; upgrade the package (npm i clusterkit@latest), then stop and run each cluster again`,
  updatePM2: `not needed: clusterkit is not a daemon; upgrade the package (npm i clusterkit@latest), then stop and run each cluster again`,
  jlist: `"list --json": clusterkit list --json`,
  prettylist: `"list --json": clusterkit list --json`,
  startup: `not needed: clusterkit is not a daemon; start "clusterkit run" from systemd, a container or another supervisor`,
  save: `not needed: clusterkit is not a daemon; the config file (clusterkit.config.ts) says what runs`,
  resurrect: `not needed: clusterkit is not a daemon; your supervisor starts "clusterkit run" again`,
  flush: `not needed: the last lines of each worker live in the primary's memory (clusterkit logs <name>); a log file of clusterkit run --log is emptied with : > app.log (it is opened for appending)`,
  reloadLogs: `kill -USR2 <primary pid> here: the primary reopens its log files (--output, --error, --log); clusterkit status <name> shows the pid`,
  reset: `not available: the restarts and crashes counts of clusterkit status live as long as the cluster's primary, from 0 at each clusterkit run; alert on their increase (docs/metrics.md), not on their value`,
  init: `a config file: write clusterkit.config.ts with defineConfig (see docs/config.md)`,
  ecosystem: `a config file: write clusterkit.config.ts with defineConfig (see docs/config.md)`,
};

/** PM2's options of `start` that clusterkit spells differently, with the clusterkit spelling. */
const kPm2RunOptions: Readonly<Record<string, string>> = {
  '-i': `-w (--workers) here: -w 4, or -w max (one per core, like PM2's "max"; leaving out -w does the same when NODE_ENV=production)`,
  '--instances': `--workers (-w) here: -w 4, or -w max (one per core, like PM2's "max"; leaving out -w does the same when NODE_ENV=production)`,
  '--kill-timeout': `--shutdown-timeout here: --shutdown-timeout 5s (a bare number is milliseconds, as in PM2)`,
  '--listen-timeout': `--ready-timeout here: --ready-timeout 8s`,
  '--max-memory-restart': `--max-memory here: --max-memory 512M`,
  '--cron': `--cron-restart here: --cron-restart "0 3 * * *" (a rolling reload at each match, with no downtime)`,
  '--node-args': `--node-arg here, one per Node option: --node-arg=--max-old-space-size=4096`,
  '--interpreter-args': `--node-arg here, one per Node option: --node-arg=--import=tsx`,
  '--log-type': `--log-format here: --log-format json`,
  '--log-date-format': `--time-format here: --time-format "YYYY-MM-DD HH:mm:ss Z" (the same tokens; it implies --time)`,
  '--only': `a positional here: clusterkit run ecosystem.config.js <app> runs that app of the file, one app a run (with a clusterkit.config.* in the directory, clusterkit run <app> does); leave the app out to run them all`,
  '--no-autorestart': `not available: a crashed worker is always restarted (with backoff)`,
  '--min-uptime': `--startup-window here: --startup-window 1s (the default; counted from ready, not from the spawn): a worker that dies sooner without having served a request failed to start, and --max-startup-failures (3) of those in a row stop its restarts; one that served backs off, without limit`,
  '--restart-delay': `not needed: restarts back off on their own, from 100 ms doubling up to 30 s, reset once a worker stayed ready 30 s (stableAfter in a config file)`,
  '--exp-backoff-restart-delay': `not needed: restarts always back off, from 100 ms doubling up to 30 s, reset once a worker stayed ready 30 s (stableAfter in a config file), as PM2's is after 30 s up`,
};

/** PM2's options, by the clusterkit command that takes their place. */
const kPm2Options: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  run: kPm2RunOptions,
  logs: { '--nostream': `the default here: clusterkit logs <name> prints the last lines and returns; add --follow to stream` },
};

/** Commands a near miss may be corrected to: never `stop`. */
const kNeverSuggested = new Set(['stop']);

/** ` PM2's "restart" is "reload" here: ...` for a PM2 command; else a near miss; else the list. */
export function commandHint(typed: string, commands: readonly string[]): string {
  const pm2 = Object.hasOwn(kPm2Commands, typed) ? kPm2Commands[typed] : undefined;
  if (pm2 !== undefined) return ` PM2's "${typed}" is ${pm2}.`;
  const near = closest(typed, commands.filter((command) => !kNeverSuggested.has(command)));
  return near ? ` Did you mean "${near}"?` : ` Commands: ${commands.join(', ')}.`;
}

/**
 * ` PM2's --kill-timeout is --shutdown-timeout here: ...` for a PM2 option of `run`; else a near
 * miss among `known` (`--wokers`: `--workers`); else nothing.
 */
export function optionHint(typed: string, command: string, known: readonly string[]): string {
  const table = Object.hasOwn(kPm2Options, command) ? kPm2Options[command]! : {};
  const pm2 = Object.hasOwn(table, typed) ? table[typed] : undefined;
  if (pm2 !== undefined) return ` PM2's ${typed} is ${pm2}.`;
  if (!typed.startsWith('--')) return '';
  // A near miss of a PM2 option (`--kill-timout`) gets what that option is here (H198).
  const pm2Options = Object.keys(table).filter((option) => option.startsWith('--'));
  const near = closest(typed, [...known, ...pm2Options]);
  if (near !== undefined && !known.includes(near)) return ` Did you mean ${near}? PM2's ${near} is ${table[near]}.`;
  return near ? ` Did you mean ${near}?` : '';
}

/** What a config file's path looks like (`ecosystem.config.cjs`, `./clusterkit.config.ts`, `apps.json`): not a cluster's name. */
export const kConfigFilePath = /(^|[/\\])[^/\\]*\.(?:[cm]?[jt]s|json)$/;

/**
 * For "No cluster named ... is running" (exit 4), when the name is one a PM2 user types (H367):
 * `all` (`pm2 reload all`), which clusterkit has not, or a config file's path (`pm2 reload
 * ecosystem.config.js`), whose apps are clusters of their own names. Each cluster is reached by
 * its name; every app of a config file's `clusterkit run` at once by a signal to that process
 * (SIGHUP reloads them, SIGTERM stops them: docs/config.md). Empty for any other name.
 */
export function notRunningHint(name: string, command: string | undefined): string {
  const verb = command ?? 'status';
  const each = `clusterkit ${verb} <name> for each cluster (clusterkit list names them)`;
  const signal = verb === 'reload' ? ', or send SIGHUP to the clusterkit run of their config file: it reloads every app it started' : verb === 'stop' ? ', or send SIGTERM to the clusterkit run of their config file: it stops every app it started' : '';
  // `ALL` and `All` too (H372): PM2's is lower case, but a name so typed means the same.
  if (name.toLowerCase() === 'all') return ` There is no ${JSON.stringify(name)} here (PM2's pm2 ${verb} all): run ${each}${signal}.`;
  // PM2 numbers its processes (`pm2 logs 0`); a cluster here is reached by its name, a worker of it by its slot.
  if (/^\d+$/.test(name)) {
    const slot = verb === 'logs' ? `; a worker's lines by its slot: clusterkit logs <name> --slot ${name}` : '';
    return ` "${name}" looks like a PM2 process id: a cluster is named here, not numbered (clusterkit list names them)${slot}.`;
  }
  if (kConfigFilePath.test(name)) return ` "${name}" looks like a config file, not a cluster's name: its apps run as clusters of their own names (the "name" of each app); run ${each}${signal}.`;
  return '';
}
