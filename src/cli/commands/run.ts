/**
 * `clusterkit run <script>`: the script runs in every worker through the bootstrap in
 * `worker-main`, which subclasses ClusterWorker, imports the script in `_init` and registers
 * its servers for draining. Supervision, signals and reload come from ClusterPrimary. What to
 * run (flags, config file) is worked out by run-plan.ts; several apps are run by run-apps.ts.
 */
import { checkLogFilesAreNotInputs } from '../logs/log-file-inputs.js';
import { usePromClientOf } from '../../prom-client.js';
import { createJsonLogger, createLineLogger, type Logger } from '../../logger.js';
import { shutdownExitCode } from '../../primary/lifecycle/primary-signals.js';
import { maxWorkersOption } from '../../primary/primary-options.js';
import { startServicePrimary } from '../../runner/service-primary.js';
import { exitAfterStartFailure, isStartInterrupted } from '../../runner/start-failure.js';
import { ClusterNameInUseError } from '../../errors.js';
import { decideWorkerCount } from '../../runner/worker-count.js';
import { takeLauncherLink } from '../launcher-link.js';
import { inFlagNames, settingName, withFlagNames } from '../flag-names.js';
import { dropOwnEnv } from '../own-env.js';
import { bareDurationSaid, bareDurationWarning, forSeconds } from '../bare-duration-note.js';
import { LogBuffer } from '../logs/log-buffer.js';
import { teeLogger } from '../logs/tee-logger.js';
import { fileRoutedLogger, hasLogFiles, LogFiles, stopEarlyOutput, teeProcessOutput } from '../logs/log-files.js';
import { pipeWorkerOutput } from '../output-prefix.js';
import { linePrefixer, timestampedStderr } from '../logs/line-time.js';
import { kWaitReadyEnv, kReadyMessage } from '../ready-message.js';
import { kHealthPortEnv } from '../health-port-env.js';
import { kOrphanLogEnv, orphanLogEnvValue } from '../orphan-log-env.js';
import { reportOrphanLines } from '../orphan-lines-report.js';
import { orphanLinesPath } from '../../control/runtime-dir.js';
import { dirname } from 'node:path';
import type { RunSettings } from '../run-settings.js';
import { watchAndReload, type Watching } from '../watch/watch-reload.js';
import { configChangeCheck } from '../watch/config-change-check.js';
import { envUpdater } from '../update-env.js';
import { releaseStartSignals } from '../start-signals.js';
import { runLoadingSteps } from '../loading-steps.js';
import { npmParentWarning } from '../npm-parent-warning.js';
import { shellWord } from '../../shell-word.js';
import { waitForOwnOutputAtExit, waitForStreamsAtExit } from '../exit-waits.js';

export type { RunSettings } from '../run-settings.js';

/**
 * Runs the cluster; the process ends with it (signals, `clusterkit stop`, a failed start).
 * `workerMain` is the bootstrap script the workers run.
 */
export async function runCommand(settings: RunSettings, workerMain: string): Promise<number> {
  // Before any fork: the launcher's marker must not reach the workers.
  const launcher = takeLauncherLink();
  // A closed terminal or pipe (`clusterkit run app.js | head`) must not bring the cluster down.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  // The app's working directory is the primary's, so the workers inherit it.
  process.chdir(settings.cwd);
  // The app's prom-client merges the workers' series, as the workers' own is the app's (H533).
  usePromClientOf(settings.script);
  // The log files (--output, --error, --log) before any line is written: one that cannot be
  // opened is refused now (LogFileError, exit 2), before any worker forks (H314).
  // Its lines are said once the logger exists (a file's trouble comes from a later write, or a signal).
  const files = openLogFiles(settings, () => logger);
  // The exit writes what is still on its way out: the run's own output, and each worker's (H537).
  waitForOwnOutputAtExit();
  const logs = new LogBuffer();
  // `--time` / `time: true` (PM2's log_date_format): each line starts with its time (H335).
  const stamp = linePrefixer(settings.timeFormat);
  // Workers that wrote any output: a failed start points at it only then (H189). Kept while the start runs only.
  let printed: Set<number> | undefined = new Set<number>();
  // The library's lines name its options (maxMemoryMb); the user typed flags (--max-memory), or
  // keys of a config file (listen_timeout), named too.
  const logger = withFlagNames(teeLogger(createLogger(settings), (entry) => logs.add(entry)), settings.optionSources, { heartbeatTimeoutMs: settings.heartbeatTimeoutMs, bareReadyTimeout: bareReadyTimeoutOf(settings) });
  // clusterkit's own variables are the primary's (H70): dropped, and said so once.
  const workerEnv = dropOwnEnv(settings.env);
  if (workerEnv.warning !== undefined) logger.warn({ ignored: workerEnv.ignored }, workerEnv.warning);
  // A name made of an odd file name is said before anything else is said under it (H261).
  if (settings.nameNote !== undefined) logger.warn({ name: settings.name }, settings.nameNote);
  // `--min-ready 5` / `shutdownTimeout: 30` is 5 / 30 ms, not seconds: said before any worker starts, once a key (H359, H463).
  for (const bare of settings.bareDurations ?? []) logger.warn({ [`${bare.key}Ms`]: bare.ms }, bareDurationWarning(bare.key, bare.ms, bare.isFromFile ? settings.origin?.configFile : undefined));
  // Started by npm through a shell, not in a terminal: a SIGTERM to npm would not stop it (H307).
  // An app of several is the launcher's child: the launcher says it, once.
  const npm = launcher ? undefined : npmParentWarning('this cluster');
  if (npm !== undefined) logger.warn({ npm: npm.npm, shell: npm.shell }, npm.message);
  const workers = decideWorkerCount({
    workers: settings.workers,
    dev: settings.dev,
    nodeEnv: settings.env.NODE_ENV ?? process.env.NODE_ENV,
    // `dev: true in clusterkit.config.ts` when the file set it.
    devOption: settings.workersSource ?? '--dev',
    maxWorkers: maxWorkersOption(settings.maxWorkers),
    source: settings.workersSource,
  });
  // A setting as the reader gave it: `--wait-ready`, or `--wait-ready (wait_ready in eco.config.js)`.
  const named = (option: string) => settingName(option, settings.optionSources);
  // A script written for PM2's wait_ready warms up after it listens: said once per cluster.
  let isReadyToldOf = false;
  const readyUnheard = (message: unknown, workerId: number): void => {
    if (message !== kReadyMessage || isReadyToldOf) return;
    isReadyToldOf = true;
    logger.warn(
      { worker: workerId },
      `worker ${workerId}'s script called process.send('ready') (PM2's wait_ready), but each worker was counted ready when it listened: ` +
        `a start or reload does not wait for that message. Run with --wait-ready (config: waitReady: true) to wait for it; ` +
        `or listen only once the script can serve.`,
    );
  };
  /** Set once the watch started (`--watch`). */
  let watching: Watching | undefined;
  // The workers' env as made at the start: `clusterkit reload --update-env` makes it again of the files loaded anew (H336).
  const orphanFiles = [settings.logFiles.errorFile, settings.logFiles.logFile].filter((file): file is string => file !== undefined);
  const orphanLog = orphanLogEnvValue({
    files: orphanFiles,
    // No file gets the workers' stderr: the control directory keeps an orphan's lines (H417).
    linesFile: orphanFiles.length === 0 ? orphanLinesPath(settings.name) : undefined,
    name: settings.name,
    format: settings.logFormat,
    timeFormat: settings.timeFormat,
    // The orphan's advice names the flag and the config key that set the timeout, as the primary's lines do (H695).
    raiseTimeout: inFlagNames('Raise the shutdownTimeoutMs option', settings.optionSources),
  });
  const workerEnvOf = (env: Readonly<Record<string, string>>, isReload = false): Record<string, string | undefined> => {
    const kept = dropOwnEnv(env);
    // clusterkit's own variables are dropped again, and said so (H70).
    if (isReload && kept.warning !== undefined) logger.warn({ ignored: kept.ignored }, kept.warning);
    // Each set or removed (undefined): one inherited from the shell must not act in the workers (hostile t61).
    return {
      ...kept.env,
      [kWaitReadyEnv]: settings.waitReady ? '1' : undefined,
      [kHealthPortEnv]: settings.healthPort ? String(settings.healthPort) : undefined,
      // The files that get the workers' stderr: an orphan writes its own lines there (H397).
      [kOrphanLogEnv]: orphanLog,
    };
  };
  const updater = envUpdater(settings, logger, (env) => workerEnvOf(env, true));
  // Before the first fork: a code file saved from now until the watch is armed reloads (H389).
  const startedAt = Date.now();
  /** The control directory, once the name is claimed: its orphans file is taken again at the stop (H437). */
  let controlDir: string | undefined;
  const service = await startServicePrimary({
    name: settings.name,
    controlName: settings.name,
    // A refusal that `clusterkit reload|scale|logs` prints names what was typed, as this log does (H359).
    inFlagNames: (message) => inFlagNames(message, settings.optionSources, { heartbeatTimeoutMs: settings.heartbeatTimeoutMs }),
    module: { path: settings.script, noun: 'script', isCli: true },
    workerCount: workers.count,
    workerCountReason: workers.reason,
    ownsProcess: true,
    logger,
    primaryOptions: {
      workerScript: workerMain,
      workerArgs: [settings.script, ...settings.scriptArgs],
      execArgv: [...process.execArgv, ...settings.nodeArgs],
      silent: true,
      // worker-main takes it out of the script's environment.
      env: workerEnvOf(settings.env),
      // PM2's variable for the worker's instance number, unless --env or the config sets it; and
      // the one a PM2 file's instance_var names (H409).
      instanceVar: settings.instanceVar === undefined ? 'NODE_APP_INSTANCE' : ['NODE_APP_INSTANCE', settings.instanceVar],
      // What the worker's start waits for (service-worker.ts), named when it misses --ready-timeout.
      // What runs before the bootstrap's ClusterWorker starts: a script must not create one (H189).
      // Of the env each worker was given: a `reload --update-env` may bring other preloads (H385).
      loadingSteps: (env) => runLoadingSteps({ inherited: process.execArgv, nodeArgs: settings.nodeArgs, nodeOptions: env.NODE_OPTIONS }),
      readyWaitsFor: settings.waitReady
        ? `its script's process.send('ready'), which ${named('waitReady')} waits for`
        : settings.waitListen
          ? `its script's listen(), which ${named('waitListen')} waits for`
          : "its script's listen(), or the end of its top-level code",
      ...(settings.waitListen ? { waitListen: true } : {}),
      // Ready at its script's end: no 'ready' of its own, so its lines say so (H239).
      ...(settings.waitReady ? {} : { readyAtLoad: true }),
      // An app started with others handles its signals through the launcher link.
      ...(launcher ? { handleSignals: false } : {}),
      ...(settings.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: settings.shutdownTimeoutMs }),
      ...(settings.gradualDrainMs === undefined ? {} : { gradualDrainMs: settings.gradualDrainMs }),
      ...(settings.minReadyMs === undefined ? {} : { minReadyMs: settings.minReadyMs }),
      // The interval stays the library's 1 s (kRunHeartbeatIntervalMs): the timeout was checked against it.
      ...(settings.heartbeatTimeoutMs === undefined ? {} : { heartbeat: { timeoutMs: settings.heartbeatTimeoutMs } }),
      ...(settings.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: settings.readyTimeoutMs }),
      ...(settings.maxMemoryMb === undefined ? {} : { maxMemoryMb: settings.maxMemoryMb }),
      ...(settings.cronRestart === undefined ? {} : { cronRestart: settings.cronRestart }),
      ...(Object.keys(settings.restart).length === 0 ? {} : { restart: settings.restart }),
      ...(settings.maxWorkers === undefined ? {} : { maxWorkers: settings.maxWorkers }),
    },
    callbacks: {},
    // An app started with others: a stop during its start interrupts it (H209).
    onPrimary: launcher ? (primary) => launcher.starting(primary) : undefined,
    // What orphans of the name's previous primary left (H417), reported once the name is ours.
    onNameClaimed: (socketPath) => {
      controlDir = dirname(socketPath);
      reportOrphanLines(settings.name, controlDir, logger);
    },
    onWorkerFork: (worker) => {
      const { stdout, stderr } = worker.clusterWorker.process;
      waitForStreamsAtExit([stdout, stderr]);
      pipeWorkerOutput(
        { id: worker.id, slot: worker.slot, stdout, stderr },
        settings.name,
        settings.logFormat,
        (entry) => {
          printed?.add(worker.id);
          logs.add(entry);
        },
        stamp,
      );
      if (!settings.waitReady) worker.clusterWorker.process.on('message', (message: unknown) => readyUnheard(message, worker.id));
    },
    logs,
    updateEnv: updater.load,
    hasPrinted: (workerId) => printed?.has(workerId) === true,
    readyTimeoutHint: settings.waitReady
      ? `With ${named('waitReady')}, a worker is ready only once its script calls process.send('ready'): check that it does, and within ${named('readyTimeoutMs')}.`
      : undefined,
    health:
      settings.healthPort === undefined
        ? undefined
        : {
            port: settings.healthPort,
            ...(settings.healthHost === undefined ? {} : { host: settings.healthHost }),
            ...(settings.healthMinReady === undefined ? {} : { minReady: settings.healthMinReady }),
            flag: named('healthPort'),
          },
    // For `clusterkit show`: the names the user gave, not clusterkit's own internal variables.
    settings: {
      scriptArgs: settings.scriptArgs,
      // Named as the file wrote it, as the instances row names its source (H392).
      cronSource: settings.optionSources?.cronRestart,
      waitReady: settings.waitReady,
      // `clusterkit logs --time` stamps the buffer's lines in the same format (H721). JSON lines have their `time` field: left out.
      ...(settings.logFormat === 'json' ? {} : { timeFormat: settings.timeFormat ?? null }),
      // `show` says which watched paths are gone (H256), dropped (H269) or left out for the run (H515), as it is asked.
      watch: settings.watch && {
        ...settings.watch,
        missing: () => watching?.missing() ?? [],
        dropped: () => watching?.dropped() ?? [],
        leftOut: () => watching?.leftOut() ?? [],
        looping: () => watching?.looping() ?? [],
        largeDirectories: () => watching?.largeDirectories() ?? [],
        full: () => watching?.full() ?? [],
        ended: () => watching?.ended(),
      },
      // The env in force: a `reload --update-env` changes it (H336).
      get envNames() {
        return Object.keys(dropOwnEnv(updater.inForce().env).env);
      },
      ignoredPm2Keys: settings.ignoredPm2Keys,
      // `show` says which file gets nothing, since when and why (H322).
      ...(files === undefined ? {} : { logFiles: { ...settings.logFiles, states: () => files.states() } }),
    },
    // Under --watch, a crash loop of every slot waits for the fix to be saved, as nodemon does (H333).
    waitsForChange: settings.watch !== undefined,
  }).catch((error: unknown) => (isStartInterrupted(error) ? undefined : exitAfterStartFailure(withNameSource(error, settings.nameFromScript), logger)));
  // The primary's listeners (or the launcher link's) have taken the signals over since its start began.
  releaseStartSignals();
  // A stop came during the start: its path (the signal handler, the control socket's stop)
  // has logged the interrupted start and exits; its code is 1, as for a failed start (H130).
  if (service === undefined) return 1;
  printed = undefined;
  const finished = new Promise<number>((resolveExit) =>
    service.primary.once('shutdownComplete', (report) => {
      // Lines an earlier primary's orphans, still draining, wrote while this one ran: reported
      // now, so no file of them outlives this stop to blame it as killed (H437).
      if (controlDir !== undefined) reportOrphanLines(settings.name, controlDir, logger, 'stop');
      resolveExit(shutdownExitCode(report));
    }),
  );
  if (settings.watch) {
    // A change of the config file or env file is looked at again: its settings wait for a restart (H306).
    const configCheck = configChangeCheck(settings, logger, updater.inForce);
    const started = await watchAndReload(settings.watch, service, settings.cwd, logger, {
      script: settings.script,
      outputFiles: Object.values(settings.logFiles).filter((path): path is string => path !== undefined),
      onReload: configCheck?.changed,
      // A `.env` or a config outside the watched paths: looked at too, with no reload (H316).
      settingsFiles: configCheck?.files,
      onSettingsFileChange: configCheck && ((paths) => configCheck.changed(paths, false)),
      changedSince: startedAt,
    });
    watching = started;
    service.primary.once('shutdown', () => {
      configCheck?.close();
      void started.close();
    });
  }
  launcher?.attach(service);
  logger.info(
    { primary: process.pid },
    `control it from another terminal: clusterkit status|logs|reload|stop ${shellWord(settings.name)}, clusterkit scale ${shellWord(settings.name)} <n>`,
  );
  // Every way the cluster ends exits the process (signal handlers, `clusterkit stop`, losing
  // every worker); until then, this command runs.
  return finished;
}

/**
 * The run's log files, if any: every write to stdout and stderr copied there, and SIGUSR2
 * reopening them (PM2's `pm2 reloadLogs`), which then is no longer logged and ignored.
 */
function openLogFiles(settings: RunSettings, logger: () => Logger): LogFiles | undefined {
  if (!hasLogFiles(settings.logFiles)) {
    stopEarlyOutput();
    return undefined;
  }
  // Not a file the run reads (H659): a log appended to the script changed the code.
  checkLogFilesAreNotInputs(settings);
  const files = new LogFiles(settings.logFiles, { warn: (text, fields) => logger().warn(fields, text), info: (text, fields) => logger().info(fields, text) });
  teeProcessOutput(files);
  if (process.platform !== 'win32') {
    process.on('SIGUSR2', () => {
      void files.reopen().then((paths) => {
        if (paths.length > 0) logger().info({ signal: 'SIGUSR2' }, `log files reopened: ${paths.join(', ')}`);
      });
    });
  }
  return files;
}

function createLogger(settings: RunSettings): Logger {
  // Its info lines to the --output file, its warnings and errors to --error, as `logs --out` / `--err` (H334).
  return fileRoutedLogger(settings.logFormat === 'json' ? createJsonLogger({ name: settings.name }) : createLineLogger({ name: settings.name, ...timestampedStderr(linePrefixer(settings.timeFormat)) }));
}

/** A name clash of a name made of the script's file name says so, and suggests --name (H280). */
function withNameSource(error: unknown, script: string | undefined): unknown {
  if (!(error instanceof ClusterNameInUseError) || script === undefined) return error;
  return new ClusterNameInUseError(error.clusterName, error.socketPath, error.pid, { runningName: error.runningName, script, cause: error });
}

/**
 * A failed start of a bare `readyTimeout` (`readyTimeout: 30`, 30 ms) ends with how to write
 * seconds (H463): `readyTimeout: 30 in x.json is 30 ms (...): for 30 seconds, write "readyTimeout": "30s".`
 */
function bareReadyTimeoutOf(settings: RunSettings): string | undefined {
  const bare = settings.bareDurations?.find(({ key }) => key === 'readyTimeout');
  if (bare === undefined) return undefined;
  const file = bare.isFromFile ? settings.origin?.configFile : undefined;
  return `${bareDurationSaid(bare.key, bare.ms, file)}: ${forSeconds(bare.key, bare.ms, file)}.`;
}
