/**
 * Who closed this worker's IPC channel from inside the worker (H516). Seen from the worker, a
 * closed channel looks the same whoever closed it; before, every close was told as the primary's
 * death ("its primary is gone (killed or crashed)"), also when the worker's own code had called
 * `process.disconnect()` and the primary ran on and relayed that very line.
 *
 * Every close made in this process goes through `process.disconnect()`, node:cluster's included
 * (lib/internal/cluster/child.js), which looks it up at each call: a wrapper set before the
 * worker's code runs sees each. So does the end of the channel read from the other side: Node
 * calls it from the channel's read (lib/internal/child_process.js), its direct caller, and that
 * call is no close of the worker's (the primary closed its end, or died). The others are told
 * apart by node:cluster's own state at the call:
 * - `cluster.worker.disconnect()` set `state` to `disconnecting` (it closes the worker's servers,
 *   tells the primary, then closes the channel);
 * - `cluster.worker.kill()` / `destroy()` set it to `destroying` (the process exits as the channel closes);
 * - the primary's node:cluster `disconnect` (`worker.disconnect()`, `cluster.disconnect()` in the
 *   primary's code) set `exitedAfterDisconnect` with the state unchanged;
 * - anything else is the worker's own `process.disconnect()`.
 * A close made outside this process (the primary closing its end, or its death): undefined.
 */
import { canSetStackSettings, framesFromStackText } from '../stack-settings.js';
import cluster from 'node:cluster';

/** How the channel was closed from inside the worker. */
export type OwnDisconnect = 'process.disconnect()' | 'cluster.worker.disconnect()' | 'cluster.worker.kill()' | 'primary-asked';

/** Set at the first close seen, for good: the channel closes once. */
let closedBy: OwnDisconnect | undefined;
let isWatching = false;
/** Told of the worker's own close just before it is made, while the channel is still open (H536). */
let beforeOwnClose: ((by: OwnDisconnect) => void) | undefined;

/** `listener` runs just before a close of the worker's own code, the channel still open: it may write a last message. */
export function onOwnDisconnect(listener: (by: OwnDisconnect) => void): void {
  beforeOwnClose = listener;
}

/**
 * Wraps `process.disconnect` (once per process): called by the worker's start, before any of
 * the worker's code runs. Code that took its own reference to the function earlier goes unseen.
 */
export function watchOwnDisconnect(): void {
  if (isWatching || typeof process.disconnect !== 'function') return;
  isWatching = true;
  const original = process.disconnect;
  const wrapper = function disconnect(this: NodeJS.Process, ...args: unknown[]): void {
    // A call on a closed channel closes nothing (Node emits its error): the first close stands.
    if (process.connected && closedBy === undefined && callerFile(wrapper) !== kChannelReader) {
      closedBy = closerNow();
      try {
        beforeOwnClose?.(closedBy);
      } catch {
        // The close goes ahead whatever its listener did.
      }
    }
    Reflect.apply(original, this, args);
  };
  process.disconnect = wrapper as typeof process.disconnect;
}

/** How the channel was closed from inside the worker; undefined when nothing in it closed it. */
export function ownDisconnect(): OwnDisconnect | undefined {
  return closedBy;
}

/** Node's module whose channel read calls `disconnect()` at the end of the channel. */
const kChannelReader = 'node:internal/child_process';

/** The file of the function that called `callee`; undefined when it cannot be read. */
function callerFile(callee: (...args: never[]) => unknown): string | undefined {
  // Frozen (node --frozen-intrinsics, H662): setting them would throw; the stack's text is read.
  if (!canSetStackSettings()) return framesFromStackText(callee).frames[0]?.file;
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.stackTraceLimit = 1;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callee);
    return (holder.stack as NodeJS.CallSite[] | undefined)?.[0]?.getFileName() ?? undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

function closerNow(): OwnDisconnect {
  const worker = cluster.worker as (typeof cluster.worker & { state?: string }) | undefined;
  if (worker?.state === 'disconnecting') return 'cluster.worker.disconnect()';
  if (worker?.state === 'destroying') return 'cluster.worker.kill()';
  if (worker?.exitedAfterDisconnect === true) return 'primary-asked';
  return 'process.disconnect()';
}
