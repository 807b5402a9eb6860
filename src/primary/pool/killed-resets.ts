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
import { plural } from '../../plural.js';

export function connectionsResetByKills(killed: readonly WorkerHandle[]): number {
  return killed.reduce((sum, handle) => sum + (recordOf(handle)?.resetConnections() ?? 0), 0);
}

/**
 * `at least 5 open connections reset by the kill (idle at the killed worker's last report; a
 * request sent on one since is lost too)`: what a stop's kills reset besides the requests
 * counted (H609: ops t61, the clients of a killed hung worker lost 5 requests, and the line
 * counted none); '' for none. `killed`: how many workers were killed, for the words' number (1
 * when the caller does not know). One text for the primary's `shutdown complete` line and the
 * CLI's answers to `stop`, `reload` and `scale`.
 */
export function describeKilledResets(connections: number, killed = 1): string {
  if (connections <= 0) return '';
  const by = killed === 1 ? "the kill (idle at the killed worker's last report" : "the kills (idle at the killed workers' last reports";
  return `at least ${plural(connections, 'open connection')} reset by ${by}; a request sent on ${connections === 1 ? 'it' : 'one'} since is lost too)`;
}
