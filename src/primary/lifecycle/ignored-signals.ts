/**
 * Signals a primary must not die of. SIGUSR2's default action ends a Node process at once:
 * no log line, no drain, the control socket left behind, the workers stopped by their orphan
 * watchdog. Yet tools send it to processes that never asked for it: nodemon restarts its child
 * with it, and log-rotation scripts send it to make a process reopen its log files. clusterkit
 * writes to stdout and stderr only, so it has no file to reopen: the signal is logged and
 * ignored. PM2's daemon does the same kind of thing: SIGUSR2 reopens its log files
 * (Unitech/pm2 lib/Daemon.js, `handleSignals`), it never stops the processes.
 *
 * SIGHUP reloads, but not while the service is still starting: logged and ignored then
 * (`startingHangupLine`), by the primary and by the CLI before its primary exists (H195).
 *
 * A worker does the same (worker-signals.ts): tools that signal a whole process tree reach it too,
 * and so does SIGHUP, which a worker ignores as well: see there.
 *
 * Left alone: SIGUSR1 (Node starts its inspector on it and the process lives on), SIGPIPE
 * (Node ignores it), SIGQUIT (Ctrl-\: a deliberate "quit now", as SIGKILL).
 */
import type { Logger } from '../../logger.js';
import { RateLimitedWarning } from '../pool/rate-limited-warning.js';

/** The signals a primary logs and ignores. */
export const kIgnoredSignals = ['SIGUSR2'] as const;

/**
 * Marks the listeners installed by clusterkit: another listener means the app handles the signal
 * itself. A mark on the function, not a set of this module: the CLI's first listeners come from
 * its own small bundle (main.js), which shares no module with the rest of the CLI.
 */
const kOwnListener = Symbol.for('clusterkit.ownSignalListener');

export function isOwnListener(listener: unknown): boolean {
  return typeof listener === 'function' && (listener as { [kOwnListener]?: boolean })[kOwnListener] === true;
}

/**
 * Marks `listener` as clusterkit's own, so that `ignoreSignals` does not take it for the app's
 * (which would silence its line): the CLI's listeners for the start (start-signals.ts).
 */
export function markOwnListener(listener: (...args: never[]) => void): void {
  (listener as { [kOwnListener]?: boolean })[kOwnListener] = true;
}

/** The primary's line: what clusterkit does on the signals it does act on, and what nodemon needs. */
export function primaryIgnoredLine(signal: string, since: string): string {
  return (
    `${signal} ignored${since}: clusterkit reloads the workers on SIGHUP (or \`clusterkit reload\`) and stops on SIGTERM or SIGINT. ` +
    'nodemon restarts with SIGUSR2: give it --signal SIGTERM, or use clusterkit run --watch.'
  );
}

/**
 * The line for a SIGHUP that came while the service was still starting: a rolling reload needs
 * started workers to replace, and those being started load the code as it is now (H195).
 * `isHeld`: the signals since the last line, told up to 10 s later, when the start may have
 * ended or failed: said in the past, with no "send it again once started" (hostile t75 F9: `the
 * service is still starting` came after `shutting down: the start failed`).
 */
export function startingHangupLine(signal: string, since: string, isHeld = false): string {
  if (isHeld) return `${signal} ignored${since} while the service was still starting: a rolling reload needs started workers to replace, and each worker loads the code as it is when it starts.`;
  return (
    `${signal} ignored${since}: the service is still starting, and a rolling reload needs started workers to replace; each worker loads the code as it is when it starts. ` +
    `Send ${signal} again once the service has started if the code changed since.`
  );
}

/** The line for a SIGHUP that came while the primary was shutting down: no reload then (hostile t58: it was ignored without a word). */
export function stoppingHangupLine(signal: string, since: string): string {
  return `${signal} ignored${since}: the primary is shutting down, so no reload runs; start the service again to run the new code.`;
}

/**
 * A signal's line, told at most once per 10 s, the signals since added up in a trailing line
 * (`line`'s `since`: empty or ` (3 since the last such line)`; `isHeld` for that trailing line,
 * told after they came). Note each signal with `note(1)`.
 */
export function signalWarning(signal: string, line: (signal: string, since: string, isHeld: boolean) => string, tell: (text: string, count: number) => void): RateLimitedWarning<number> {
  return new RateLimitedWarning<number>(
    (held, next) => (held ?? 0) + next,
    (count, _isFlushed, isHeld) => tell(line(signal, count > 1 ? ` (${count} since the last such line)` : '', isHeld), count),
  );
}

/**
 * Logs and ignores each of `kIgnoredSignals` (a `warn` line, at most one per signal per 10 s,
 * saying how many came since the last), silently when the process has its own listener for
 * it, whenever that listener was added (before or after this call). `logger()` is read at each
 * signal (undefined: ignored without a line); `line` words it (`since` is empty or
 * ` (3 since the last such line)`). Returns the function that removes the listeners. Does
 * nothing on Windows, which has no such signals.
 */
export function ignoreSignals(
  logger: () => Logger | undefined,
  line: (signal: string, since: string) => string = primaryIgnoredLine,
  signals: readonly NodeJS.Signals[] = kIgnoredSignals,
): () => void {
  if (process.platform === 'win32') return () => {};
  const listeners = signals.map((signal) => {
    const warning = signalWarning(signal, line, (text, count) => logger()?.warn({ signal, count }, text));
    const listener = (): void => {
      if (process.listeners(signal).some((other) => !isOwnListener(other))) return;
      warning.note(1);
    };
    markOwnListener(listener);
    process.on(signal, listener);
    return [signal, listener, warning] as const;
  });
  return () => {
    for (const [signal, listener, warning] of listeners) {
      process.off(signal, listener);
      // The signals held for the trailing line are told now: the process is about to end.
      warning.flush();
    }
  };
}
