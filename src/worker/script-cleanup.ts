/**
 * PM2-style cleanup for a plain script under `clusterkit run`: a script that listens for SIGINT
 * or SIGTERM stops through its own listener, as PM2 stops it (SIGINT, PM2's default
 * `kill_signal`, when the script listens for it, else SIGTERM), and must exit by itself by the
 * worker's deadline. Its servers are left to it to close; clusterkit only tells their HTTP
 * keep-alive clients to go (`Connection: close`, idle connections closed), as a drain does: the
 * usual cleanup, `server.close(() => process.exit(0))`, waits for every connection to end, and
 * busy keep-alive clients never leave on their own (every reload then cut their requests at
 * the deadline). Enabled by the bootstrap (`useScriptCleanup`); a script without such
 * listeners, and every ClusterWorker, is drained as usual.
 */
import { heldOutputBytes } from '../output-written.js';
import { timerDelay } from '../duration.js';
import { kDestroyFailedNotice, kDrainNotice, kRequestsCutNotice, kScriptCleanupNotice, kStoppedNotice } from '../messaging/system-types.js';
import type { TrackedServers } from './tracked-servers.js';

export type CleanupSignal = 'SIGINT' | 'SIGTERM';

/** Set by `clusterkit run`'s bootstrap. */
let isScriptCleanupUsedFlag = false;

/** For `clusterkit run`'s bootstrap: this worker runs a plain script that may clean up on its own. */
export function useScriptCleanup(): void {
  isScriptCleanupUsedFlag = true;
}

/** True in a worker of `clusterkit run` (a plain script that may clean up on its own). */
export function isScriptCleanupUsed(): boolean {
  return isScriptCleanupUsedFlag;
}

/** The signal the script stops with, if cleanup is in use and it listens for one; `own` is clusterkit's listener. */
export function scriptCleanupSignal(own: unknown): CleanupSignal | undefined {
  if (!isScriptCleanupUsedFlag) return undefined;
  return (['SIGINT', 'SIGTERM'] as const).find((signal) => process.listeners(signal).some((listener) => listener !== own));
}

export interface ScriptCleanup {
  readonly signal: CleanupSignal;
  /** True when the real signal reached the process already: its listeners ran then. */
  readonly isDelivered: boolean;
  readonly startedAt: number;
  /** The worker's own deadline (a timestamp). */
  readonly deadline: number;
  readonly servers: TrackedServers;
  /** A notice to the primary (it may be gone). */
  readonly tell: (type: string, payload: unknown) => void;
  /** True once the worker's stop is over (the 'exit' report is then not needed). */
  readonly isStopped: () => boolean;
  /** The time over which keep-alive clients are told to go (a reload's gradual drain), in ms. */
  readonly spreadMs?: number;
  /** When given, no keep-alive client is told to go before the promise it returns settles (a shutdown). */
  readonly beforeRelease?: () => Promise<unknown>;
}

/**
 * Runs the script's listeners and waits for its process to end. It may call `process.exit()`,
 * or, as under plain node, simply have nothing left to do once its cleanup closed its servers
 * and connections. Resolves only if it is still running at the deadline: its open requests are
 * then cut off and reported, with the cleanup's timeout; the worker exits 1.
 */
export async function runScriptCleanup({ signal, isDelivered, startedAt, deadline, servers, tell, isStopped, spreadMs = 0, beforeRelease }: ScriptCleanup): Promise<number> {
  tell(kScriptCleanupNotice, { signal });
  servers.startReporting((openRequests) => tell(kDrainNotice, { openRequests }));
  // The script exiting with requests still open (its listener calls process.exit() at once)
  // cut them off: said from the 'exit' event, whose messages are written synchronously. With
  // none open, its exit ends the stop: said too (`$stopped`), so an exit that skips the 'exit'
  // event (process.reallyExit(), a native addon's exit()) reads as what it is, not as graceful.
  process.once('exit', () => {
    if (isStopped()) return;
    const cut = servers.cutByWorker(servers.openRequests);
    if (cut) tell(kRequestsCutNotice, cut);
    else {
      // The count now first: the primary refuses a `$stopped` after a report of open requests.
      servers.stopReporting();
      tell(kStoppedNotice, undefined);
    }
  });
  // The script's own server.close() (in the listeners below) releases its keep-alive clients
  // as clusterkit's drain does, with this stop's spread and gate (TrackedServer.graceIdleClose).
  const gate = beforeRelease?.();
  servers.planRelease(deadline, spreadMs, gate);
  if (!isDelivered) {
    try {
      // As Node delivers a signal: each listener gets the signal's name.
      process.emit(signal, signal);
    } catch (error) {
      // A listener that throws on a real signal crashes the process; so it does here.
      process.nextTick(() => {
        throw error;
      });
    }
  }
  // After the listeners: their keep-alive clients are told to go, whether or not they closed the servers.
  servers.release(deadline, spreadMs, gate);
  // The IPC channel (and our deadline) must not keep the process alive: its exit is its own.
  process.channel?.unref();
  await new Promise((resolve) => setTimeout(resolve, timerDelay(Math.max(0, deadline - Date.now()))).unref());
  // The stop failed, as the line about it says: exit 1 even if the script's own cleanup, freed
  // by the cut-off below (its server.close() callback runs once the connections are gone),
  // calls process.exit(0) before the worker exits.
  process.once('exit', () => {
    process.exitCode = 1;
  });
  // Every server still listening at the deadline: the listener closed none, and the requests open
  // then are not what held it (ops tester t60: a no-op SIGTERM listener). One closed (a chain,
  // `a.close(() => b.close(...))`, waiting for a's request) says nothing of the kind (retest t60).
  const listening = servers.listening === servers.size ? servers.listening : 0;
  const cut = servers.cutOff() + servers.closedResponses;
  const timeoutMs = Math.max(0, deadline - startedAt);
  if (cut > 0) tell(kRequestsCutNotice, { openRequests: cut, timeoutMs });
  // Output its reader took nothing of (a full pipe) keeps a Node process alive: most likely what
  // held it past the deadline, not its listener (retest t57 R6, H553).
  const held = heldOutputBytes();
  tell(kDestroyFailedNotice, { timeoutMs, ...(held > 0 ? { heldOutputBytes: held } : {}), ...(listening > 0 ? { serversListening: listening } : {}) });
  return 1;
}
