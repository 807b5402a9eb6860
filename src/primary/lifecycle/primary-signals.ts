/**
 * Process signals on the primary (`handleSignals`): SIGTERM and SIGINT run one graceful
 * shutdown and exit (0, or 1 if a worker had to be killed); a second one during shutdown kills
 * every worker at once and exits non-zero; SIGHUP runs a rolling reload.
 *
 * Ctrl-C sends SIGINT to the whole process group: clusterkit workers ignore it and wait for
 * the primary's instruction, so there is exactly one orderly shutdown.
 */
import type { LifecycleContext, PrimaryLifecycle } from './primary-lifecycle.js';
import { killAll } from '../pool/stop-worker.js';

const kSignalExitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Installs the handlers; returns the function that removes them. */
export function installPrimarySignals(lifecycle: PrimaryLifecycle, context: Pick<LifecycleContext, 'pool' | 'options'>): () => void {
  let isForced = false;
  const onStopSignal = (signal: NodeJS.Signals): void => {
    if (lifecycle.state === 'stopping' || lifecycle.state === 'stopped') {
      if (isForced) return;
      isForced = true;
      killAll(context.pool);
      process.exit(kSignalExitCodes[signal] ?? 1);
    }
    lifecycle.shutdown(context.options.shutdownTimeoutMs, signal).then(
      (report) => process.exit(report.killed.length > 0 ? 1 : 0),
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
