/**
 * The open connections that the primary's kills reset during a stop (a shutdown's, a reload's, a
 * scale-down's): for each worker in `killed`, those its tracked servers had at its last report,
 * with no request known on them then (`WorkerRecord.resetConnections()`). A SIGKILL leaves the
 * worker no count of its own, so it is a lower bound: a client that sent a request on one since
 * (to a hung worker) lost it. The kill's own line says them; the stop's summary now does too
 * (ops t61: `stopped api: 1 worker stopped gracefully, 1 killed` while clients saw 5 resets).
 */
import type { WorkerHandle } from './worker-handle.js';
import { recordOf } from './worker-handle.js';

export function connectionsResetByKills(killed: readonly WorkerHandle[]): number {
  return killed.reduce((sum, handle) => sum + (recordOf(handle)?.resetConnections() ?? 0), 0);
}
