/**
 * Process signals on the primary (`handleSignals`): SIGTERM and SIGINT run one graceful
 * shutdown and exit (0 when every worker stopped cleanly, 1 when one failed to or had to be
 * killed); a second one during shutdown kills every worker at once, says so (`shutdownForced`)
 * and exits 130 (SIGINT) or 143 (SIGTERM); SIGHUP runs a rolling reload (during the start,
 * with no started worker to replace, it is logged and ignored). The same signal again
 * within 250 ms is a copy of the first, not a second request (stop-signal-repeat.ts). SIGUSR2,
 * whose default action would kill the primary without a word, is logged and ignored
 * (ignored-signals.ts).
 *
 * Ctrl-C sends SIGINT to the whole process group: clusterkit workers ignore it and wait for
 * the primary's instruction, so there is exactly one orderly shutdown.
 */
import { createLineLogger, type Logger } from '../../logger.js';
import type { LifecycleContext, PrimaryLifecycle } from './primary-lifecycle.js';
import { killAll } from '../pool/stop-worker.js';
import { stopSignalRepeats } from './stop-signal-repeat.js';
import { hangupReload } from './hangup-reload.js';
import { ignoreSignals, signalWarning, startingHangupLine, stoppingHangupLine } from './ignored-signals.js';
import type { ShutdownReport } from '../primary-events.js';

const kSignalExitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Connections reset before any worker took them (H358): their clients lost their requests as
 * surely as those cut off at a worker's deadline, so the exit code says so as for those (t37: the
 * supervisor saw 0 while `clusterkit stop` said 3 for the same shutdown).
 */
function resetConnections(report: ShutdownReport): boolean {
  return (report.connectionsReset ?? 0) > 0;
}

/**
 * The exit code after a shutdown: 0 when every worker stopped cleanly and no connection was
 * reset, else 1; 1 too when the shutdown interrupted the start, or ended a start that failed
 * (`notStarted`): the service never started.
 */
export function shutdownExitCode(report: ShutdownReport): number {
  const interrupted = report.notStarted === undefined ? undefined : (report.interrupted ?? 'start');
  return report.failed.length + report.killed.length > 0 || resetConnections(report) || interrupted === 'start' || interrupted === 'failed-start' ? 1 : 0;
}

/**
 * The exit code after a stop asked for on the control socket (`clusterkit stop`): the stop's
 * own result, 0 when every worker stopped cleanly and no connection was reset, also when it interrupted the start (PM2
 * retester t29 N10c: exit 1 after a requested stop during a `--wait-ready` start, H276). A start
 * that had failed on its own still exits 1.
 */
export function requestedStopExitCode(report: ShutdownReport): number {
  return report.failed.length + report.killed.length > 0 || resetConnections(report) || report.interrupted === 'failed-start' ? 1 : 0;
}

/**
 * What forced the stop, as the log line and the dashboard say it: `a second SIGINT` when the
 * same signal started the shutdown, `SIGINT after SIGTERM` when another one did, `SIGINT during
 * the shutdown` when no signal did (a call, `clusterkit stop`).
 */
export function describeForcedStop(signal: NodeJS.Signals, firstSignal: NodeJS.Signals | undefined): string {
  if (firstSignal === undefined) return `${signal} during the shutdown`;
  return firstSignal === signal ? `a second ${signal}` : `${signal} after ${firstSignal}`;
}

/**
 * A stop signal during the shutdown: kills every worker at once, says so (`shutdownForced`,
 * with the requests their tracked servers still had open, and `firstSignal`, the signal that
 * started the shutdown) and exits 130 (SIGINT) or 143 (SIGTERM).
 */
export function forceStop(context: Pick<LifecycleContext, 'pool' | 'emit'>, signal: NodeJS.Signals, firstSignal?: NodeJS.Signals): never {
  const killed = killAll(context.pool);
  // As the workers last reported them (their drain, else their last heartbeat), with the
  // connections handed to them that they had not taken yet.
  const lost = killed.map((record) => record.lostRequests()).filter((count) => count !== undefined);
  const openRequests = lost.length === 0 ? undefined : lost.reduce((sum, count) => sum + count, 0);
  // Listeners run now, synchronously: the default logger writes its line before the exit.
  context.emit('shutdownForced', { signal, killed: killed.map((record) => record.handle), openRequests, ...(firstSignal ? { firstSignal } : {}) });
  process.exit(kSignalExitCodes[signal] ?? 1);
}

/** Where the primary's lines go: its `logger` option, else the default line logger (tagged with `serviceName`); undefined for `logger: false`. */
function primaryLogger({ logger, serviceName }: LifecycleContext['options']): Logger | undefined {
  if (logger === false) return undefined;
  return logger ?? createLineLogger(serviceName === undefined ? {} : { name: serviceName });
}

/** Installs the handlers; returns the function that removes them. */
export function installPrimarySignals(lifecycle: PrimaryLifecycle, context: Pick<LifecycleContext, 'options'>): () => void {
  let isForced = false;
  const isRepeat = stopSignalRepeats();
  const onStopSignal = (signal: NodeJS.Signals): void => {
    // `timeout` (and other supervisors) signal the primary, then its process group: one request.
    if (isRepeat(signal)) return;
    if (lifecycle.state === 'stopping' || lifecycle.state === 'stopped') {
      if (isForced) return;
      isForced = true;
      lifecycle.forceStop(signal);
    }
    lifecycle.shutdown(context.options.shutdownTimeoutMs, signal).then(
      (report) => process.exit(shutdownExitCode(report)),
      () => process.exit(1),
    );
    // After the shutdown's `shutting down` line, which its start writes at once: a SIGHUP's reload
    // still waiting for its copies is dropped, and its line comes second (hostile t77: it came first).
    hangup.onStop();
  };
  let logger: Logger | undefined;
  const log = (): Logger | undefined => (logger ??= primaryLogger(context.options));
  // A reload needs started workers: one during the start was refused without a word (H195).
  const startingHangup = signalWarning('SIGHUP', startingHangupLine, (text, count) => log()?.warn({ signal: 'SIGHUP', count }, text));
  const stoppingHangup = signalWarning('SIGHUP', stoppingHangupLine, (text, count) => log()?.warn({ signal: 'SIGHUP', count }, text));
  // Its reload begins once the signal's copies have come (hangup-reload.ts).
  const hangup = hangupReload(
    () => lifecycle,
    // A failed reload is reported through the 'reloadFailed' event; the old workers keep serving.
    () => void lifecycle.reload('signal').catch(() => {}),
    { starting: () => startingHangup.note(1), stopping: () => stoppingHangup.note(1) },
  );
  const { onHangup } = hangup;
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('SIGHUP', onHangup);
  const unignore = ignoreSignals(log);
  return () => {
    process.off('SIGTERM', onStopSignal);
    process.off('SIGINT', onStopSignal);
    process.off('SIGHUP', onHangup);
    hangup.onStop();
    startingHangup.flush();
    unignore();
  };
}
