/**
 * Process signals on the primary (`handleSignals`): SIGTERM and SIGINT run one graceful
 * shutdown and exit (0 when every worker stopped cleanly, 1 when one failed to or had to be
 * killed); a second one during shutdown kills every worker at once, says so (`shutdownForced`)
 * and exits 130 (SIGINT) or 143 (SIGTERM); SIGHUP runs a rolling reload. The same signal again
 * within 250 ms is a copy of the first, not a second request (stop-signal-repeat.ts).
 *
 * Ctrl-C sends SIGINT to the whole process group: clusterkit workers ignore it and wait for
 * the primary's instruction, so there is exactly one orderly shutdown.
 */
import type { LifecycleContext, PrimaryLifecycle } from './primary-lifecycle.js';
import { killAll } from '../pool/stop-worker.js';
import { stopSignalRepeats } from './stop-signal-repeat.js';
import type { ShutdownReport } from '../primary-events.js';

const kSignalExitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** The exit code after a shutdown: 0 when every worker stopped cleanly, else 1. */
export function shutdownExitCode(report: ShutdownReport): number {
  return report.failed.length + report.killed.length > 0 ? 1 : 0;
}

/**
 * A second stop signal: kills every worker at once, says so (`shutdownForced`, with the
 * requests their tracked servers still had open) and exits 130 (SIGINT) or 143 (SIGTERM).
 */
export function forceStop(context: Pick<LifecycleContext, 'pool' | 'emit'>, signal: NodeJS.Signals): never {
  const killed = killAll(context.pool);
  // As the workers last reported them (their drain, else their last heartbeat), with the
  // connections handed to them that they had not taken yet.
  const lost = killed.map((record) => record.lostRequests()).filter((count) => count !== undefined);
  const openRequests = lost.length === 0 ? undefined : lost.reduce((sum, count) => sum + count, 0);
  // Listeners run now, synchronously: the default logger writes its line before the exit.
  context.emit('shutdownForced', { signal, killed: killed.map((record) => record.handle), openRequests });
  process.exit(kSignalExitCodes[signal] ?? 1);
}

/** Installs the handlers; returns the function that removes them. */
export function installPrimarySignals(lifecycle: PrimaryLifecycle, context: Pick<LifecycleContext, 'pool' | 'options' | 'emit'>): () => void {
  let isForced = false;
  const isRepeat = stopSignalRepeats();
  const onStopSignal = (signal: NodeJS.Signals): void => {
    // `timeout` (and other supervisors) signal the primary, then its process group: one request.
    if (isRepeat(signal)) return;
    if (lifecycle.state === 'stopping' || lifecycle.state === 'stopped') {
      if (isForced) return;
      isForced = true;
      forceStop(context, signal);
    }
    lifecycle.shutdown(context.options.shutdownTimeoutMs, signal).then(
      (report) => process.exit(shutdownExitCode(report)),
      () => process.exit(1),
    );
  };
  const onHangup = (): void => {
    // A failed reload is reported through the 'reloadFailed' event; the old workers keep serving.
    lifecycle.reload().catch(() => {});
  };
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('SIGHUP', onHangup);
  return () => {
    process.off('SIGTERM', onStopSignal);
    process.off('SIGINT', onStopSignal);
    process.off('SIGHUP', onHangup);
  };
}
