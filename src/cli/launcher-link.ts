/**
 * The link between an app's primary and the `clusterkit run` that started it with the other
 * apps of a config file (see run-apps.ts).
 *
 * Stop requests must not add up. A primary takes a second SIGINT/SIGTERM as "kill now", and
 * under a terminal (Ctrl-C reaches the whole process group) or systemd (SIGTERM to the whole
 * cgroup) an app's primary gets the signal itself, in a race with anything the launcher
 * forwards. So a launched primary handles signals here (`handleSignals: false` for the
 * primary): signals are counted, the launcher's `stop` message is not (it may repeat the same
 * Ctrl-C), and only a second signal, or the launcher's `kill` message (its own second signal),
 * stops the workers at once. When the launcher dies (even by SIGKILL) its channel closes and
 * the app stops gracefully.
 *
 * A stop during the start interrupts it, as the primary's own signal handling does for a single
 * app (H209): the link gets the primary as soon as its start begins. Held until the service had
 * started, a Ctrl-C let the start go on: the workers the terminal's SIGINT had killed while they
 * loaded were failed starts, and replaced, and the app exited 0 as after a clean run.
 */
import { lifecycleOf } from '../primary/lifecycle/primary-lifecycle.js';
import { shutdownExitCode } from '../primary/lifecycle/primary-signals.js';
import { stopSignalRepeats } from '../primary/lifecycle/stop-signal-repeat.js';
import { ignoreSignals, signalWarning, stoppingHangupLine } from '../primary/lifecycle/ignored-signals.js';
import { hangupReload, type HangupReload } from '../primary/lifecycle/hangup-reload.js';
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { setLauncherPid } from '../primary/launched-by.js';
import type { ShutdownRequester } from '../primary/primary-events.js';
import type { PrimaryService } from '../runner/service-primary.js';
import { warnStartHangup } from './start-signals.js';
import { guardedLogger } from '../guarded-logger.js';

/** Set by the launcher in the environment of each app's primary. */
export const kLauncherEnv = 'CLUSTERKIT_LAUNCHER';
export const kStopMessage = { type: 'clusterkit:stop' } as const;
export const kKillMessage = { type: 'clusterkit:kill' } as const;
/**
 * Sent to the launcher once the app's service has started: until then the launcher does not
 * pass it a SIGHUP (H204), which could reach its process before anything there handles one
 * (Node's default action ends it: exit 129, the app gone for a reload).
 */
export const kStartedMessage = { type: 'clusterkit:started' } as const;
/**
 * Sent to the launcher when the app's shutdown begins, with what asked for it (the primary's
 * `requestedBy`): a `clusterkit stop <app>` (`control`) or a `shutdown()` in the app's code
 * (`call`) is a stop asked for, and the launcher does not start the app again; a lost service
 * (`no-worker-left`), a failed start, or a signal to the app alone is not (H331).
 */
export const kStoppingMessage = { type: 'clusterkit:stopping' } as const;

const kSignalExitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface LauncherLink {
  /** The primary, once made: a stop request from the start of its start interrupts it (one that came before runs then). */
  starting(primary: ClusterPrimary): void;
  /** Starts acting on reload requests, and on stop requests if `starting` was not called (one that came during the start runs now). */
  attach(service: PrimaryService): void;
}

/**
 * The link, when this process was started by a launcher; call it as early as possible (before
 * the config file is loaded): it removes the marker from the environment (workers must not
 * inherit it) and takes over SIGINT, SIGTERM, SIGHUP, SIGUSR2 and the launcher's messages at once, so a
 * stop during the start is not lost.
 */
export function takeLauncherLink(): LauncherLink | undefined {
  taken ??= { link: createLink() };
  return taken.link;
}

/** The link, once taken: the first call installs it, later calls get the same one. */
let taken: { link: LauncherLink | undefined } | undefined;

function createLink(): LauncherLink | undefined {
  const isLaunched = process.env[kLauncherEnv] === '1';
  delete process.env[kLauncherEnv];
  if (!isLaunched || !process.channel) return undefined;
  // The channel alone must not keep the primary alive: its workers do.
  process.channel.unref();
  // The launcher is the parent now; once it is gone, another process is (H337).
  const launcherPid = process.ppid;
  let service: PrimaryService | undefined;
  /** The primary whose start began: a stop now is its shutdown, which interrupts the start (H209). */
  let primary: ClusterPrimary | undefined;
  /** Set by a stop request that came before the start began (or before `attach`, without `starting`). */
  let pendingStop: { signal: NodeJS.Signals | undefined; requestedBy?: ShutdownRequester } | undefined;
  let isStopping = false;
  let signals = 0;
  let hangup: HangupReload | undefined;
  /** The primary whose shutdown is told to the launcher (one: `starting`, else `attach`'s). */
  let told: ClusterPrimary | undefined;
  const tellStopping = (target: ClusterPrimary) => {
    if (told) return;
    told = target;
    setLauncherPid(target, launcherPid);
    target.once('shutdown', ({ requestedBy }) => {
      // A SIGHUP's reload still waiting for the signal's copies: the stop wins, said (every stop: a signal's, the launcher's, clusterkit stop).
      hangup?.onStop();
      if (process.connected) process.send?.({ ...kStoppingMessage, requestedBy }, () => {});
    });
  };

  /** `requestedBy: 'launcher'` when the launcher is gone (its channel closed), which the `shutting down` line says (H337). */
  const stop = (signal: NodeJS.Signals | undefined, requestedBy?: ShutdownRequester) => {
    const target = service?.primary ?? primary;
    if (!target) {
      pendingStop ??= { signal, ...(requestedBy === undefined ? {} : { requestedBy }) };
      return;
    }
    if (isStopping) return;
    isStopping = true;
    void target.shutdown(signal ? { signal } : requestedBy ? { requestedBy } : {}).then(
      (report) => process.exit(shutdownExitCode(report)),
      () => process.exit(1),
    );
  };
  const killNow = (signal: NodeJS.Signals) => {
    // As the primary's own second signal: every worker killed, one line that says so, exit 130/143.
    const target = service?.primary ?? primary;
    const lifecycle = target ? lifecycleOf(target) : undefined;
    if (lifecycle) lifecycle.forceStop(signal);
    process.exit(kSignalExitCodes[signal] ?? 1);
  };
  // A copy of the same signal right after it (a supervisor signalling the process, then its group) is not a second one.
  const isRepeat = stopSignalRepeats();
  const onSignal = (signal: NodeJS.Signals) => {
    if (isRepeat(signal)) return;
    if (++signals === 1) stop(signal);
    else killNow(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // As a primary that handles its signals (hangup-reload.ts): a copy of the SIGHUP is not a
  // second reload, the reload begins once the copies have come, and the workers are told it was
  // the primary's too (retest t72: one SIGHUP reloaded each app twice). Before `attach`, the
  // start is under way: nothing to reload yet, and said so (H195).
  const serviceLogger = () => {
    const logger = service?.primary.options.logger;
    // Through the primary's guard: `options.logger` is the object given (H761).
    return logger === false || logger === undefined ? undefined : guardedLogger(logger);
  };
  const stoppingHangup = signalWarning('SIGHUP', stoppingHangupLine, (text, count) => serviceLogger()?.warn({ signal: 'SIGHUP', count }, text));
  hangup = hangupReload(
    () => (service ? lifecycleOf(service.primary) : undefined),
    () => void service?.reload({ requestedBy: 'signal' }).catch(() => {}),
    { starting: warnStartHangup, stopping: () => stoppingHangup.note(1) },
  );
  process.on('SIGHUP', hangup.onHangup);
  // As a primary with `handleSignals` does: logged (once the service has its logger) and ignored.
  ignoreSignals(serviceLogger);
  process.on('message', (message: { type?: unknown; signal?: unknown } | null) => {
    // The stop names the launcher's signal, so a forced stop after it says `a second SIGINT`.
    if (message?.type === kStopMessage.type) stop(message.signal === 'SIGINT' || message.signal === 'SIGTERM' ? message.signal : undefined);
    else if (message?.type === kKillMessage.type) killNow(message.signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  });
  process.once('disconnect', () => stop(undefined, 'launcher'));
  return {
    starting(made) {
      // Not before start() begins: a shutdown then would leave start() nothing to do but throw.
      tellStopping(made);
      made.once('initialize', () => {
        primary = made;
        if (pendingStop) stop(pendingStop.signal, pendingStop.requestedBy);
      });
    },
    attach(started) {
      service = started;
      tellStopping(started.primary);
      if (pendingStop) stop(pendingStop.signal, pendingStop.requestedBy);
      else if (process.connected) process.send?.(kStartedMessage, () => {});
    },
  };
}
