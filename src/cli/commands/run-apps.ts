/**
 * `clusterkit run` with a config file of several apps: each app runs in its own primary
 * process (`clusterkit run <app>`, so `ps` shows which is which), with its own workers,
 * control socket and output prefix. This process only launches and stops them:
 *
 * - the apps write straight to our stdout and stderr (their lines are already prefixed);
 * - SIGINT/SIGTERM: every app stops gracefully (asked over IPC, see launcher-link.ts, so a
 *   Ctrl-C that reached the apps too is still one stop); a second one stops them at once;
 *   SIGHUP reloads every app that has started, and is logged and ignored for each still
 *   starting (H204: passed on, it could end an app whose process handles no signal yet);
 *   SIGUSR2 is passed on to each app with log files, which reopens them (H314), and reopens the
 *   launcher's own copies of the apps' combined logs; it is logged and ignored when no app has any
 *   (ignored-signals.ts);
 * - the launcher's own lines (`starting 3 apps`, `app api exited`) go to every app's `logFile`
 *   too, each file once (H334), as that app writes its lines (JSON, its time format: H362); an
 *   app's config warnings are its own process's first file lines;
 * - an app whose primary exits with no stop asked for (a kill -9, an OOM kill, its crash-loop
 *   breaker) is started again after a backoff, as PM2's daemon restarts a dead app (H331): 100 ms
 *   doubling to 15 s, from 100 ms again once a run lasted min_uptime; after max_restarts failed
 *   runs in a row (a failed start, or an end within min_uptime of it) it is given up. A stop
 *   asked for (SIGINT/SIGTERM here, `clusterkit stop <app>`, shutdown() in its code: its primary
 *   says so before it exits, launcher-link.ts), a refused command line or config (exit 2) and
 *   PM2's `autorestart: false` end it for good. The others keep running, as PM2 keeps them; we
 *   exit once all have ended for good, with the highest exit code of their last runs.
 */
import { checkLogFilesAreNotInputs } from '../logs/log-file-inputs.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { describeExit } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { launcherLogger, launcherTerminalStyle, type LineStyle } from '../logs/launcher-logger.js';
import { stopSignalRepeats } from '../../primary/lifecycle/stop-signal-repeat.js';
import { ignoreSignals } from '../../primary/lifecycle/ignored-signals.js';
import { kKillMessage, kLauncherEnv, kStartedMessage, kStopMessage, kStoppingMessage } from '../launcher-link.js';
import { formatElapsed } from '../../duration.js';
import { plural } from '../control-outcome.js';
import { signalWarning } from '../../primary/lifecycle/ignored-signals.js';
import type { RunSettings } from '../run-settings.js';
import { releaseStartSignals } from '../start-signals.js';
import { npmParentWarning } from '../npm-parent-warning.js';
import { checkLogFiles, combinedLogFiles, hasLogFiles, teeProcessOutput } from '../logs/log-files.js';
import { guardChannel, guardInternalMessages, type ChannelFault } from '../../primary/pool/channel-guard.js';

/** What the launcher buffers of one message from an app's primary, which sends it none: 1 MiB. */
const kLauncherChannelLimit = 1024 * 1024;
/**
 * How long an app's death by SIGINT/SIGTERM during its boot waits for the launcher's own copy of
 * the signal before it is told as a kill from outside (ms): the group's Ctrl-C reaches every
 * process at once, but under load the launcher may read the app's exit first.
 */
const kGroupSignalWaitMs = 1000;

/** The first wait before an app whose primary exited is started again; it doubles with each restart in a row (H331). */
const kAppBackoffFirstMs = 100;
/** The longest such wait: PM2's exp_backoff_restart_delay stops growing at 15 s. */
const kAppBackoffCapMs = 15_000;
/** PM2's defaults (God.handleExit): 16 restarts in a row, each of an app up less than 1 s, and it is given up. */
const kAppMaxRestarts = 16;
const kAppMinUptimeMs = 1000;

interface AppRestartPolicy {
  readonly noAutorestart: boolean;
  /** Restarts in a row, each after a run shorter than `minUptimeMs`, before the app is given up. */
  readonly maxRestarts: number;
  readonly minUptimeMs: number;
  /** Where the bound came from, for the lines: `max_restarts: 3, min_uptime: 1s`. */
  readonly limitSource: string;
}

/**
 * How the launcher starts an app again (H331): as PM2's daemon does, with the app's own bounds
 * (PM2's max_restarts and min_uptime, which are clusterkit's maxStartupFailures and
 * startupWindow: the same numbers bound its workers' failed starts), else PM2's defaults.
 */
function appRestartPolicy(app: RunSettings): AppRestartPolicy {
  const maxRestarts = app.restart.maxStartupFailures ?? kAppMaxRestarts;
  const minUptimeMs = app.restart.startupWindowMs ?? kAppMinUptimeMs;
  // `3: max_restarts in ecosystem.config.cjs`, `16: PM2's default max_restarts`, `500 ms: --startup-window`.
  const named = (option: string, flag: string, pm2Key: string, value: string, isSet: boolean) => `${value}: ${app.optionSources?.[option] ?? (isSet ? flag : `PM2's default ${pm2Key}`)}`;
  const limitSource = `${named('restart.maxStartupFailures', '--max-startup-failures', 'max_restarts', String(maxRestarts), app.restart.maxStartupFailures !== undefined)}; ${named('restart.startupWindowMs', '--startup-window', 'min_uptime', formatElapsed(minUptimeMs), app.restart.startupWindowMs !== undefined)}`;
  return { noAutorestart: app.noAutorestart === true, maxRestarts, minUptimeMs, limitSource };
}

export interface AppsPlan {
  readonly configFile: string;
  readonly apps: readonly RunSettings[];
  readonly childArgs: (app: string) => string[];
}

export async function runApps(plan: AppsPlan, mainScript: string): Promise<number> {
  // Every app's log files are checked before any app starts: one that cannot be written refuses
  // the whole start (LogFileError, exit 2), as for a single app (H314).
  for (const app of plan.apps) {
    // Not a file the app reads (H659), then writable.
    checkLogFilesAreNotInputs(app, plan.apps.filter((other) => other !== app));
    checkLogFiles(app.logFiles);
  }
  const withLogFiles = new Set(plan.apps.filter((app) => hasLogFiles(app.logFiles)).map((app) => app.name));
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  // The launcher's own lines go to every app's combined log (logFile), each file once; written at
  // the exit (H334). Each in the style of where it goes (H362): in an app's file as that app writes
  // its lines (JSON, or stamped in its own format: H335), on the terminal in a style of their own.
  const styles = new Map<string, LineStyle>();
  for (const app of plan.apps) if (app.logFiles.logFile !== undefined && !styles.has(app.logFiles.logFile)) styles.set(app.logFiles.logFile, app);
  const terminal = launcherTerminalStyle(plan.apps);
  const logger: Logger = launcherLogger(terminal, () => files, (path) => styles.get(path) ?? terminal);
  const files = combinedLogFiles(
    plan.apps.map((app) => app.logFiles),
    { warn: (text, fields) => logger.warn(fields, text), info: (text, fields) => logger.info(fields, text) },
  );
  if (files !== undefined) teeProcessOutput(files);
  logger.info({ config: plan.configFile }, `starting ${plan.apps.length} apps, each in its own primary process: ${plan.apps.map((app) => app.name).join(', ')}`);
  // Started by npm through a shell, not in a terminal: a SIGTERM to npm would not stop the apps (H307).
  const npm = npmParentWarning('these apps');
  if (npm !== undefined) logger.warn({ npm: npm.npm, shell: npm.shell }, npm.message);
  const running = new Map<string, ChildProcess>();
  /** The apps whose service has started (`kStartedMessage`): those a SIGHUP reloads. */
  const started = new Set<string>();
  let stopRequests = 0;
  // Verdicts on apps that died of SIGINT/SIGTERM while booting, waiting for the launcher's own stop.
  let stopWaiters: Array<() => void> = [];
  const whenStopOrAfter = (ms: number, then: () => void) => {
    const done = () => {
      clearTimeout(timer);
      stopWaiters = stopWaiters.filter((waiter) => waiter !== done);
      then();
    };
    const timer = setTimeout(done, ms);
    stopWaiters.push(done);
  };
  let highest = 0;
  /** Apps whose last run ended non-zero, for the launcher's last line: its exit code is theirs. */
  const failedLast: string[] = [];
  /** The apps waiting to be started again (H331): a stop cancels each. */
  const restarts = new Map<string, { readonly timer: NodeJS.Timeout; readonly done: () => void }>();
  const othersText = () => (running.size > 0 && stopRequests === 0 ? `; ${[...running.keys()].join(', ')} keep${running.size === 1 ? 's' : ''} running` : '');
  const exited = plan.apps.map(
    (app) =>
      new Promise<void>((resolve) => {
        const policy = appRestartPolicy(app);
        /** Restarts in a row, each after a run shorter than `minUptimeMs` (PM2's unstable restarts). */
        let unstable = 0;
        /** Restarts since the app last stayed up `minUptimeMs`: the backoff doubles with each. */
        let inARow = 0;
        let restartCount = 0;
        const finish = (code: number) => {
          highest = Math.max(highest, code);
          if (code !== 0) failedLast.push(`${app.name} (code ${code})`);
          resolve();
        };
        const launch = () => {
          const child = spawn(process.execPath, [...process.execArgv, mainScript, 'run', ...plan.childArgs(app.name)], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            env: { ...process.env, [kLauncherEnv]: '1' },
          });
          running.set(app.name, child);
          /** What asked for the app's shutdown, as its primary told us (launcher-link.ts): `control` and `call` were asked for. */
          let stopAskedBy: string | undefined;
          let hasStarted = false;
          /** When its service started (`kStartedMessage`): its uptime counts from there, as a worker's from ready. */
          let startedAt: number | undefined;
          // An app's primary runs its config file's code: what it writes on the channel must not end the
          // launcher and, through it, every other app. The launcher reads only its own messages from it.
          const what: Record<ChannelFault['kind'], string> = {
            'not-a-message': 'bytes that are not a message',
            'too-large': 'a message of more than 1 MiB',
            'bad-node-message': "a message of Node's own protocol that Node failed on",
            'too-many-servers': 'too many listen requests',
            'bulk-corrupt': 'bytes out of order on a bulk pipe', // never: the launcher gives its apps no bulk pipe
          };
          const onCorrupt = (fault: ChannelFault) =>
            logger.warn({ app: app.name }, `app ${app.name}'s primary wrote ${what[fault.kind]} on its channel to the launcher; the launcher no longer reads it (it stops the app as usual)`);
          guardChannel(child, kLauncherChannelLimit, onCorrupt);
          guardInternalMessages(child, onCorrupt);
          child.on('message', (message: { type?: unknown; requestedBy?: unknown } | null) => {
            if (message?.type === kStartedMessage.type) {
              hasStarted = true;
              startedAt = Date.now();
              started.add(app.name);
            } else if (message?.type === kStoppingMessage.type && typeof message.requestedBy === 'string') stopAskedBy ??= message.requestedBy;
          });
          child.on('error', (error) => logger.error({ app: app.name }, `cannot start app ${app.name}: ${error.message}`));
          child.once('exit', (code, signal) => {
            // Up since its service started; one that never started (a failed start) is an unstable run whatever it took.
            const upFor = startedAt === undefined ? -1 : Date.now() - startedAt;
            // Its last messages (the stop it was asked for) are read before the verdict: the channel closes after the exit.
            const afterChannel = (then: () => void) => (child.connected ? child.once('disconnect', then) : then());
            afterChannel(() => {
              running.delete(app.name);
              started.delete(app.name);
              // Ended by SIGINT/SIGTERM (or stopped by one it got itself), before any stop reached the
              // launcher: most likely the same Ctrl-C to the group (or systemd's SIGTERM to the cgroup),
              // which under load the launcher can read after the app's exit (each signal may go to
              // another thread of it). Its verdict waits for that signal a moment, else it was a kill
              // from outside (H223), and the app is started again (H331).
              const bySignal = ((signal === 'SIGINT' || signal === 'SIGTERM') && !hasStarted) || stopAskedBy === 'signal';
              if (bySignal && stopRequests === 0) whenStopOrAfter(kGroupSignalWaitMs, () => verdict(code, signal, upFor));
              else verdict(code, signal, upFor);
            });
          });
          const verdict = (code: number | null, signal: NodeJS.Signals | null, upFor: number) => {
            const status = code ?? 1;
            const how = isStartStopped(signal, stopRequests, hasStarted)
              ? `app ${app.name}'s start was interrupted by ${signal}, before any worker was started: nothing of it was left running`
              : `app ${app.name} ${signal ? describeExit(code, signal, undefined) : `exited with code ${code}`}`;
            const others = othersText();
            const fields = { app: app.name, code, signal };
            const isAsked = stopAskedBy === 'control' || stopAskedBy === 'call';
            if (stopRequests > 0 || isAsked) {
              // A stop asked for, of every app or of this one (`clusterkit stop`, shutdown() in its code):
              // not started again. Any other end is, even with code 0, as under PM2.
              const asked = stopRequests === 0 && isAsked ? `, as ${stopAskedBy === 'control' ? 'clusterkit stop asked' : "its primary's code asked (shutdown())"}: it is not started again` : '';
              if (status === 0) logger.info({ app: app.name, code }, `${how}${asked}${others}`);
              else logger.warn(fields, `${how}${asked}${others}`);
              finish(status);
              return;
            }
            if (code === 2 && !hasStarted) {
              logger.warn(fields, `${how}: its command line or config was refused (the lines above say why), and a new start would be refused alike: it is not started again; fix it, then start it with clusterkit run ${plan.configFile} ${app.name}${others}`);
              finish(status);
              return;
            }
            if (policy.noAutorestart) {
              logger.warn(fields, `${how}, and it is not started again: autorestart: false in ${plan.configFile}${others}`);
              finish(status);
              return;
            }
            if (upFor >= policy.minUptimeMs) {
              unstable = 0;
              inARow = 0;
            } else unstable++;
            if (unstable > policy.maxRestarts) {
              logger.error(
                { ...fields, restarts: restartCount, unstableRestarts: unstable - 1, minUptimeMs: policy.minUptimeMs },
                `${how}: ${plural(unstable, 'failed run')} in a row, each ending its start or within ${formatElapsed(policy.minUptimeMs)} of it (${policy.limitSource}): it is given up, and not started again (PM2 shows such an app "errored"). ` +
                  `Its lines above say why it failed; fix that, then start it again with clusterkit run ${plan.configFile} ${app.name}, or restart clusterkit run${others}`,
              );
              finish(status);
              return;
            }
            const delayMs = Math.min(kAppBackoffFirstMs * 2 ** inARow, kAppBackoffCapMs);
            inARow++;
            restartCount++;
            const ran =
              upFor >= policy.minUptimeMs
                ? `it had been up ${formatElapsed(upFor)}`
                : `${plural(unstable, 'failed run')} in a row; given up after ${plural(policy.maxRestarts, 'restart')} in a row, each ending its start or within ${formatElapsed(policy.minUptimeMs)} of it (${policy.limitSource})`;
            logger.warn(
              { ...fields, restart: restartCount, delayMs, unstableRestarts: unstable },
              `${how}, with no stop asked for: starting it again in ${formatElapsed(delayMs)} (restart ${restartCount}; ${ran})${others}`,
            );
            const done = () => {
              clearTimeout(timer);
              restarts.delete(app.name);
              // Said, as its exit code counts in the launcher's (newcomer t63: a clean shutdown of the others, then exit 1 unexplained).
              logger.warn(fields, `app ${app.name} is not started again: the stop came while it waited to restart; its last run ended with code ${status}`);
              finish(status);
            };
            const timer = setTimeout(() => {
              restarts.delete(app.name);
              launch();
            }, delayMs);
            restarts.set(app.name, { timer, done });
          };
        };
        launch();
      }),
  );
  // The same signal again within 250 ms is a copy (`timeout` signals us, then our group), not a second request.
  const isRepeat = stopSignalRepeats();
  const onStop = (signal: NodeJS.Signals) => {
    if (isRepeat(signal)) return;
    stopRequests++;
    for (const waiter of [...stopWaiters]) waiter();
    // An app waiting to be started again ends there, with the code of its last exit (H331).
    for (const restart of [...restarts.values()]) restart.done();
    for (const child of running.values()) {
      // First a graceful stop, then "now"; a message, not a signal: the app may have had the signal already.
      // Both name the signal, so the app's lines and exit code say which one it was (`a second SIGINT forced the stop`).
      if (child.connected) child.send({ ...(stopRequests === 1 ? kStopMessage : kKillMessage), signal }, () => {});
      else child.kill('SIGTERM');
    }
  };
  let stillStarting: string[] = [];
  const hangupWarning = signalWarning('SIGHUP', (signal, since, isHeld) => startingAppsLine(signal, since, stillStarting, isHeld), (text, count) => logger.warn({ signal: 'SIGHUP', count, apps: stillStarting }, text));
  // A SIGHUP's copy too: passed on once, as each app's primary would take a second for a copy anyway.
  const isHangupRepeat = stopSignalRepeats();
  const onHangup = () => {
    if (isHangupRepeat('SIGHUP')) return;
    stillStarting = [];
    for (const [name, child] of running) {
      if (started.has(name)) child.kill('SIGHUP');
      else stillStarting.push(name);
    }
    if (stillStarting.length > 0) hangupWarning.note(1);
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  process.on('SIGHUP', onHangup);
  // Each app with log files reopens them on SIGUSR2 (one still loading its config logs and ignores it, start-signals.ts).
  const onReopen = () => {
    for (const [name, child] of running) if (withLogFiles.has(name)) child.kill('SIGUSR2');
    // The launcher's own copies of the combined logs too (a failure is a WARN; each app says its reopen).
    void files?.reopen();
  };
  if (withLogFiles.size > 0 && process.platform !== 'win32') process.on('SIGUSR2', onReopen);
  const unignore = ignoreSignals(() => logger);
  releaseStartSignals();
  await Promise.all(exited);
  process.off('SIGINT', onStop);
  process.off('SIGTERM', onStop);
  process.off('SIGHUP', onHangup);
  process.off('SIGUSR2', onReopen);
  unignore();
  if (highest !== 0) logger.warn({ code: highest, apps: failedLast }, `exiting with code ${highest}, the highest exit code of the apps' last runs: ${failedLast.join(', ')}`);
  return highest;
}

/**
 * An app ended by SIGINT or SIGTERM itself, after a stop came and before it said it started: the
 * signal's default action, so its primary was still in Node's own boot, before it handled
 * signals and so before it forked a worker. A stop during its start, as a single app says one
 * (start-signals.ts), not a kill (H223).
 */
function isStartStopped(signal: NodeJS.Signals | null, stopRequests: number, hasStarted: boolean): boolean {
  return (signal === 'SIGINT' || signal === 'SIGTERM') && stopRequests > 0 && !hasStarted;
}

/** The launcher's line for a SIGHUP that came while `apps` were still starting (`since` as `signalWarning` gives it). */
function startingAppsLine(signal: string, since: string, apps: readonly string[], isHeld: boolean): string {
  const [which, them] = apps.length === 1 ? [`app ${apps[0]}`, 'it is'] : [`apps ${apps.join(', ')}`, 'they are'];
  // Told up to 10 s after they came, when the start may be over (hostile t75 F9): in the past.
  if (isHeld) return `${signal} ignored for ${which}${since} while ${apps.length === 1 ? 'it was' : 'they were'} still starting: a rolling reload needs started workers to replace, and each worker loads the code as it is when it starts.`;
  return (
    `${signal} ignored for ${which}${since}: ${them} still starting, and a rolling reload needs started workers to replace; each worker loads the code as it is when it starts. ` +
    `Send ${signal} again once every app has started if the code changed since (an app already started reloads on it).`
  );
}
