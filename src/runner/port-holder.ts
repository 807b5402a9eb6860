/**
 * Which cluster of this user holds a port (H403, PM2 migrator t39 L8): a worker's
 * `listen EADDRINUSE: port 4760 ... is already in use` said nothing of who, while `clusterkit
 * ls` knew a cluster of the same user that may be the owner. Linux only, best effort: the
 * listening sockets of the port (/proc/net/tcp, tcp6), then the primaries of the control
 * directory's clusters (their lock's pid) whose open files hold one of them (node:cluster's
 * primary holds every shared listening socket). Nothing is said when unsure.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ownSocketNames } from '../control/control-client.js';
import { readHolderQuietly } from '../control/name-lock.js';
import { controlDirectory, socketPathFor } from '../control/runtime-dir.js';
import { readProperty } from '../readable-error.js';

/** The socket inodes listening on TCP `port` (any address), from /proc/net; empty elsewhere than Linux. */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; st 0A is LISTEN; the inode is the 10th field.
      const local = fields[1];
      if (local === undefined || fields[3] !== '0A' || fields[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  inodes.delete('0');
  return inodes;
}

/** True when process `pid` has one of `inodes` open. */
function holdsSocket(pid: number, inodes: ReadonlySet<string>): boolean {
  const directory = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(directory);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${directory}/${fd}`));
      return match !== null && inodes.has(match[1]!);
    } catch {
      return false;
    }
  });
}

/** The cluster (and its primary's pid) of this user whose primary listens on TCP `port`, other than the primary `exceptPid`. */
export function clusterHoldingPort(port: number, exceptPid?: number, directory = controlDirectory()): { readonly name: string; readonly pid: number } | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const name of ownSocketNames(directory)) {
    const holder = readHolderQuietly(socketPathFor(name, directory).replace(/\.sock$/, '.lock'));
    if (holder === undefined || holder.pid <= 0 || holder.pid === exceptPid) continue;
    if (holdsSocket(holder.pid, inodes)) return { name, pid: holder.pid };
  }
  return undefined;
}

/**
 * `error` itself, unless it is an EADDRINUSE whose port a cluster of this user (not the primary
 * `exceptPid`) listens on: then the same error, its message naming that cluster and what to do,
 * `error` as its `cause`.
 */
export function nameClusterHoldingPort(error: unknown, exceptPid: number | undefined): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const code = readProperty(error, 'code');
  const port = readProperty(error, 'port');
  if (code !== 'EADDRINUSE' || typeof port !== 'number' || port <= 0) return error;
  let holder: ReturnType<typeof clusterHoldingPort>;
  try {
    holder = clusterHoldingPort(port, exceptPid);
  } catch {
    return error; // best effort: nothing more to say
  }
  if (holder === undefined) return error;
  const message = readProperty(error, 'message');
  const named = new Error(
    `${typeof message === 'string' ? message : `listen EADDRINUSE: port ${port} is already in use`}: the cluster "${holder.name}" (primary pid ${holder.pid}) listens on it; stop it (clusterkit stop ${holder.name}) or pick another port`,
    { cause: error },
  );
  return Object.assign(named, { code, syscall: readProperty(error, 'syscall'), address: readProperty(error, 'address'), port });
}
