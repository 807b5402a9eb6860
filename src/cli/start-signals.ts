/**
 * The signals that reach `clusterkit run` before its primary listens for them (H195). Node's
 * default action for SIGTERM, SIGINT, SIGHUP and SIGUSR2 ends the process at once without a
 * word, and loading the CLI, the config file and the checks before the first fork takes a
 * second or more on a busy machine: a `kill -HUP` right after a restart (logrotate, config
 * management) took the service down with exit 129 and no line. So main.ts installs these
 * listeners before it loads the rest of the CLI, which is a bundle of its own (dist/cli/run-cli.js):
 * compiling it takes longer than Node's own start. Each acts only while it is the signal's one
 * listener: from the moment the primary (or the launcher link, or the launcher of several apps)
 * listens, the signal is theirs.
 *
 * Until then no worker was forked, and a control socket already open is removed by its 'exit'
 * listener, so a stop (SIGTERM, SIGINT) ends the start at once: one line, exit 1, as for a stop
 * during the start. SIGHUP has nothing to reload yet and SIGUSR2 is the primary's ignored signal:
 * each logged (at most one line per 10 s) and ignored. SIGQUIT keeps Node's default (exit 131),
 * as after the start: a deliberate "quit now".
 */
import { markOwnListener, primaryIgnoredLine, signalWarning, startingHangupLine } from '../primary/lifecycle/ignored-signals.js';

type Listener = () => void;

interface StartSignals {
  /** Installed, and not released yet. */
  held: Array<readonly [NodeJS.Signals, Listener]> | undefined;
  /** Released: a later `holdStartSignals` installs nothing (the start is over). */
  isReleased: boolean;
  /** The SIGHUP line before the primary exists, shared with the launcher link's (launcher-link.ts). */
  readonly hangupWarning: ReturnType<typeof signalWarning>;
}

/**
 * The state, kept on `process`: main.js installs the listeners from its bundle, and the CLI's
 * bundle, with its own copy of this module, releases them.
 */
const kState = Symbol.for('clusterkit.startSignals');

function state(): StartSignals {
  const owner = process as unknown as { [kState]?: StartSignals };
  return (owner[kState] ??= { held: undefined, isReleased: false, hangupWarning: signalWarning('SIGHUP', startingHangupLine, writeLine) });
}

/** Installs the listeners (once; never on Windows, which has no such signals). */
export function holdStartSignals(): void {
  const current = state();
  if (current.held !== undefined || current.isReleased || process.platform === 'win32') return;
  const usr2Warning = signalWarning('SIGUSR2', primaryIgnoredLine, writeLine);
  const listeners: Array<readonly [NodeJS.Signals, Listener]> = [];
  const add = (signal: NodeJS.Signals, act: () => void): void => {
    const listener: Listener = () => {
      if (process.listeners(signal).some((other) => other !== listener)) return;
      act();
    };
    markOwnListener(listener);
    listeners.push([signal, listener]);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    add(signal, () => {
      writeLine(`${signal} during the start, before any worker was started: the start was stopped, and nothing was left running (exit code 1: the service did not start).`);
      process.exit(1);
    });
  }
  add('SIGHUP', () => current.hangupWarning.note(1));
  add('SIGUSR2', () => usr2Warning.note(1));
  for (const [signal, listener] of listeners) process.on(signal, listener);
  current.held = listeners;
}

/** Removes the listeners: the primary's (or a launcher's) are installed, or the start ended. */
export function releaseStartSignals(): void {
  const current = state();
  current.isReleased = true;
  for (const [signal, listener] of current.held ?? []) process.off(signal, listener);
  current.held = undefined;
}

/** A SIGHUP while the service has nothing to reload yet: logged (rate-limited) and ignored. */
export function warnStartHangup(): void {
  state().hangupWarning.note(1);
}

/** Before the run's logger exists (its format comes with the settings): a plain line, as the CLI's other failures. */
function writeLine(text: string): void {
  process.stderr.write(`clusterkit: ${text}\n`);
}
