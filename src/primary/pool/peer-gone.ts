/**
 * Whether the client of a connection the primary accepted is gone already: it reset the
 * connection (RST: the kernel moved it to CLOSE, `getpeername()` fails with ENOTCONN) or closed
 * its side (FIN: CLOSE_WAIT, read from /proc/net/tcp and tcp6 by the connection's addresses,
 * Linux). Such a connection is not one the primary resets when node:cluster closes it unread: it
 * is not counted in `connectionsReset` (H364). Without it, clients that connect, send a request
 * and reset at once, then connect again, made node:cluster's queue hold thousands of such
 * connections, counted as reset by the shutdown (2 490 with 40 clients; hostile t37), and
 * `clusterkit stop` exit 3. A pipe (unix socket, named pipe) cannot be asked: its connections
 * are counted as alive.
 *
 * Called for the handles being counted only, while they are still open (a closed handle has no
 * peer left to ask). The /proc tables are read once per tick at most, and only when a connection
 * whose peer still answers is being counted.
 */
import { readFileSync } from 'node:fs';
import { procAddress, type SocketName } from './listen-backlog.js';

interface TcpHandle {
  getpeername?: (out: Record<string, unknown>) => number;
  getsockname?: (out: Record<string, unknown>) => number;
}

/** The state column of /proc/net/tcp for CLOSE_WAIT: the peer sent its FIN. */
const kCloseWait = '08';

/** `local|remote` (as /proc writes them) of every CLOSE_WAIT connection, read in this tick; undefined: not read yet. */
let closeWaitCache: ReadonlySet<string> | undefined;

/** The CLOSE_WAIT rows of `table` (the text of /proc/net/tcp or tcp6) as `local|remote`, added to `into`. */
export function closeWaitPairs(table: string, into: Set<string> = new Set()): Set<string> {
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 4 && fields[3] === kCloseWait) into.add(`${fields[1]}|${fields[2]}`);
  }
  return into;
}

function closeWaitConnections(): ReadonlySet<string> {
  if (closeWaitCache !== undefined) return closeWaitCache;
  const pairs = new Set<string>();
  if (process.platform === 'linux') {
    for (const path of ['/proc/net/tcp', '/proc/net/tcp6']) {
      try {
        closeWaitPairs(readFileSync(path, 'latin1'), pairs);
      } catch {
        // no such table (IPv6 disabled): nothing of it in CLOSE_WAIT
      }
    }
  }
  closeWaitCache = pairs;
  queueMicrotask(() => (closeWaitCache = undefined));
  return pairs;
}

/** `address:port` as /proc writes it, or undefined. */
function procEndpoint(name: SocketName): string | undefined {
  const { address, family, port } = name;
  if (typeof address !== 'string' || typeof family !== 'string' || typeof port !== 'number') return undefined;
  const text = procAddress(address, family);
  return text === undefined ? undefined : `${text}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** True when `handle` (a TCP handle the primary accepted, still open) has lost its client; false when it has not or cannot be told. */
export function isPeerGone(handle: unknown): boolean {
  if (typeof handle !== 'object' || handle === null) return false;
  const { getpeername, getsockname } = handle as TcpHandle;
  if (typeof getpeername !== 'function') return false; // a pipe: cannot be told
  const peer: Record<string, unknown> = {};
  try {
    if (getpeername.call(handle, peer) !== 0) return true; // ENOTCONN: the client reset it
  } catch {
    return false;
  }
  if (process.platform !== 'linux' || typeof getsockname !== 'function') return false;
  const own: Record<string, unknown> = {};
  try {
    if (getsockname.call(handle, own) !== 0) return false;
  } catch {
    return false;
  }
  const local = procEndpoint(own);
  const remote = procEndpoint(peer);
  return local !== undefined && remote !== undefined && closeWaitConnections().has(`${local}|${remote}`);
}
