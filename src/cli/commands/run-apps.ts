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
 *   too, each file once (H334); an app's config warnings are its own process's first file lines;
 * - an app that exits is reported; the others keep running, as PM2 keeps them; we exit once
 *   all have, with the highest exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { describeExit } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { createJsonLogger, createLineLogger } from '../../logger.js';
import { stopSignalRepeats } from '../../primary/lifecycle/stop-signal-repeat.js';
import { ignoreSignals } from '../../primary/lifecycle/ignored-signals.js';
import { kKillMessage, kLauncherEnv, kStartedMessage, kStopMessage } from '../launcher-link.js';
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

export interface AppsPlan {
  readonly configFile: string;
  readonly apps: readonly RunSettings[];
  readonly childArgs: (app: string) => string[];
}

export async function runApps(plan: AppsPlan, mainScript: string): Promise<number> {
  // Every app's log files are checked before any app starts: one that cannot be written refuses
  // the whole start (LogFileError, exit 2), as for a single app (H314).
  for (const app of plan.apps) checkLogFiles(app.logFiles);
  const withLogFiles = new Set(plan.apps.filter((app) => hasLogFiles(app.logFiles)).map((app) => app.name));
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const logger: Logger = plan.apps.every((app) => app.logFormat === 'json') ? createJsonLogger({ name: 'clusterkit' }) : createLineLogger({ name: 'clusterkit' });
  // The launcher's own lines go to every app's combined log (logFile), each file once; written at the exit (H334).
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
  const exited = plan.apps.map(
    (app) =>
      new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [...process.execArgv, mainScript, 'run', ...plan.childArgs(app.name)], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          env: { ...process.env, [kLauncherEnv]: '1' },
        });
        running.set(app.name, child);
        // An app's primary runs its config file's code: what it writes on the channel must not end the
        // launcher and, through it, every other app. The launcher reads nothing from it.
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
        child.on('message', (message: { type?: unknown } | null) => {
          if (message?.type === kStartedMessage.type) started.add(app.name);
        });
        child.on('error', (error) => logger.error({ app: app.name }, `cannot start app ${app.name}: ${error.message}`));
        child.once('exit', (code, signal) => {
          running.delete(app.name);
          // Ended by SIGINT/SIGTERM while it booted, before any stop reached the launcher: most
          // likely the same Ctrl-C to the group, which under load the launcher can read after
          // the app's exit (each signal may go to another thread of it). Its verdict waits for
          // that signal a moment, else it was a kill from outside (H223).
          if ((signal === 'SIGINT' || signal === 'SIGTERM') && stopRequests === 0 && !started.has(app.name)) whenStopOrAfter(kGroupSignalWaitMs, () => report(code, signal));
          else report(code, signal);
        });
        const report = (code: number | null, signal: NodeJS.Signals | null) => {
          const status = code ?? 1;
          highest = Math.max(highest, status);
          const others = running.size > 0 && stopRequests === 0 ? `; ${[...running.keys()].join(', ')} keep${running.size === 1 ? 's' : ''} running` : '';
          const how = isStartStopped(signal, stopRequests, started.has(app.name))
            ? `app ${app.name}'s start was interrupted by ${signal}, before any worker was started: nothing of it was left running`
            : `app ${app.name} ${signal ? describeExit(code, signal, undefined) : `exited with code ${code}`}`;
          if (status === 0) logger.info({ app: app.name, code }, `${how}${others}`);
          else logger.warn({ app: app.name, code, signal }, `${how}${others}`);
          resolve();
        };
      }),
  );
  // The same signal again within 250 ms is a copy (`timeout` signals us, then our group), not a second request.
  const isRepeat = stopSignalRepeats();
  const onStop = (signal: NodeJS.Signals) => {
    if (isRepeat(signal)) return;
    stopRequests++;
    for (const waiter of [...stopWaiters]) waiter();
    for (const child of running.values()) {
      // First a graceful stop, then "now"; a message, not a signal: the app may have had the signal already.
      // Both name the signal, so the app's lines and exit code say which one it was (`a second SIGINT forced the stop`).
      if (child.connected) child.send({ ...(stopRequests === 1 ? kStopMessage : kKillMessage), signal }, () => {});
      else child.kill('SIGTERM');
    }
  };
  let stillStarting: string[] = [];
  const hangupWarning = signalWarning('SIGHUP', (signal, since) => startingAppsLine(signal, since, stillStarting), (text, count) => logger.warn({ signal: 'SIGHUP', count, apps: stillStarting }, text));
  const onHangup = () => {
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
function startingAppsLine(signal: string, since: string, apps: readonly string[]): string {
  const [which, them] = apps.length === 1 ? [`app ${apps[0]}`, 'it is'] : [`apps ${apps.join(', ')}`, 'they are'];
  return (
    `${signal} ignored for ${which}${since}: ${them} still starting, and a rolling reload needs started workers to replace; each worker loads the code as it is when it starts. ` +
    `Send ${signal} again once every app has started if the code changed since (an app already started reloads on it).`
  );
}
