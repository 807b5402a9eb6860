/**
 * What a SIGHUP does to a primary: a rolling reload, begun once the signal's copies have come.
 * Shared by a primary that handles its own signals (primary-signals.ts) and an app's primary
 * under the multi-app launcher (cli/launcher-link.ts; retest t72: one SIGHUP reloaded each app
 * twice there, and its workers said the signal was sent to them alone).
 *
 * SIGHUP again within `kRepeatWindowMs` of the first is a copy of it, as for SIGINT and SIGTERM
 * (stop-signal-repeat.ts): coreutils `timeout` signals the primary, then its process group
 * (newcomer t70: two reloads). The reload forks its first replacement only once that window has
 * passed: a copy sent to the group reaching a worker forked before it listens for SIGHUP kills it
 * (Node's default action), and the reload failed (`worker 3 could not start: it was killed by
 * SIGHUP from outside clusterkit`). A stop that comes meanwhile wins, and the SIGHUP is said as
 * one during a stop.
 */
import type { PrimaryLifecycle } from './primary-lifecycle.js';
import { kRepeatWindowMs, stopSignalRepeats } from './stop-signal-repeat.js';

export interface HangupReload {
  /** The SIGHUP listener. */
  readonly onHangup: () => void;
  /** A stop began: a reload still waiting for the signal's copies is dropped, and said so. */
  readonly onStop: () => void;
}

/**
 * `lifecycle`: the primary's, undefined while there is none yet (the launcher's app before its
 * start); `reload`: starts the reload, its failure reported elsewhere (`reloadFailed`); `say`:
 * the lines of a SIGHUP while the primary starts (nothing to replace) and while it stops.
 */
export function hangupReload(lifecycle: () => PrimaryLifecycle | undefined, reload: () => void, say: { readonly starting: () => void; readonly stopping: () => void }): HangupReload {
  const isRepeat = stopSignalRepeats();
  let waiting: NodeJS.Timeout | undefined;
  const isStopping = (target: PrimaryLifecycle): boolean => target.state === 'stopping' || target.state === 'stopped';
  const drop = (): void => {
    clearTimeout(waiting);
    waiting = undefined;
    lifecycle()?.hangups.note('stopping');
    say.stopping();
  };
  return {
    onHangup() {
      if (isRepeat('SIGHUP')) return;
      const target = lifecycle();
      if (target === undefined) return say.starting();
      const { state } = target;
      // Told to the workers that got it too, which word their own line by it (H291).
      if (state === 'starting') {
        target.hangups.note('starting');
        return say.starting();
      }
      if (isStopping(target)) {
        target.hangups.note('stopping');
        return say.stopping();
      }
      // Undecided until the copies' window ends: a stop meanwhile wins, and a worker that asks waits
      // for the outcome (retest t74 P2: a worker said "the primary reloads the workers" as the
      // primary said it ignored that SIGHUP for its shutdown).
      target.hangups.noteUndecided();
      if (waiting !== undefined) return;
      waiting = setTimeout(() => {
        waiting = undefined;
        if (isStopping(target)) return drop();
        target.hangups.note('reload');
        reload();
      }, kRepeatWindowMs);
    },
    onStop() {
      if (waiting !== undefined) drop();
    },
  };
}
