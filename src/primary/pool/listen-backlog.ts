/**
 * How many connections the kernel holds in a listening socket's backlog: completed, not accepted
 * by the process yet, their client still there. Closing the socket resets each (the client had
 * most likely sent its request), and no process ever saw them: a shutdown reads the figure just
 * before it closes a round-robin socket, to count them in `connectionsReset` (H358). Linux only
 * (/proc/net/tcp and tcp6); undefined elsewhere, for a pipe, or when the socket is not found
 * once exactly.
 *
 * A listening socket's `rx_queue` is its backlog, but it also counts connections their client
 * already reset: such a connection stays in the accept queue and leaves the table (hostile t37:
 * 40 clients that connect, send and reset at once, then reconnect, counted 68 to 110 while the
 * clients saw no reset). So when that row says there is a backlog, the whole table is read and
 * the connections of the backlog are counted one by one (H370): a row of the listening socket's
 * port (and address, unless it listens on every address: its connections carry the concrete
 * one) in state ESTABLISHED with no inode (no process holds a file of it: not accepted yet). One
 * whose client closed its side (FIN, CLOSE_WAIT) is not counted, as for the connections queued in
 * node:cluster (peer-gone.ts, H364). The whole table is read only then, as the last thing before
 * the close, and parsed after it (`readKernelBacklog`, then `countKernelBacklog`): under load it
 * holds thousands of TIME_WAIT rows, and the longer the read, the more clients reconnect into the
 * backlog the close resets.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';

/** What `getsockname()` of a TCP handle gives. */
export interface SocketName {
  readonly address?: unknown;
  readonly family?: unknown;
  readonly port?: unknown;
}

/** The 16 bytes of an IPv6 address (`::1`, `fe80::1%eth0`, `::ffff:127.0.0.1`), or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  const bare = address.split('%')[0]!;
  if (!isIPv6(bare)) return undefined;
  let text = bare;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (isIPv4(text.slice(lastColon + 1))) {
    tail.push(...text.slice(lastColon + 1).split('.').map(Number));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = groups(head);
  const right = groups(rest);
  const words = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (words.length !== 8) return undefined;
  const bytes = words.flatMap((word) => [word >> 8, word & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const hex = (bytes: number[]) => bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('').toUpperCase();

/**
 * The local address as /proc/net/tcp (IPv4) or tcp6 writes it: each 32-bit word of it as a
 * number in the machine's byte order (`isLittleEndian`: x86, arm64), in hex; undefined for an
 * address not parsed.
 */
/**
 * The machine's byte order, read off a typed array rather than `os.endianness()`: `node:os` is a
 * built-in clusterkit loads on first use only, not as a worker or primary starts (start-modules).
 */
const kIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function procAddress(address: string, family: string, isLittleEndian = kIsLittleEndian): string | undefined {
  const word = (bytes: number[]) => hex(isLittleEndian ? [...bytes].reverse() : bytes);
  if (family === 'IPv4' && isIPv4(address)) return word(address.split('.').map(Number));
  if (family !== 'IPv6') return undefined;
  const bytes = ipv6Bytes(address);
  if (bytes === undefined) return undefined;
  return [0, 4, 8, 12].map((start) => word(bytes.slice(start, start + 4))).join('');
}

/** The backlog of the one listening socket on `address:port` in `table` (the text of /proc/net/tcp or tcp6), or undefined. */
export function backlogIn(table: string, address: string, port: number): number | undefined {
  const local = `${address}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const found: number[] = [];
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue ...; st 0A is LISTEN.
    if (fields.length < 5 || fields[1] !== local || fields[3] !== '0A') continue;
    const backlog = parseInt(fields[4]!.split(':')[1] ?? '', 16);
    if (Number.isSafeInteger(backlog)) found.push(backlog);
  }
  return found.length === 1 ? found[0] : undefined;
}

/** The state column of /proc/net/tcp for ESTABLISHED: a connection whose client is still there. */
const kEstablished = '01';

/**
 * The connections in the backlog of the listening socket `address:port` (as /proc writes the
 * address; all zeros: every address) of `table` (the text of /proc/net/tcp or tcp6) whose client
 * is still there: rows of that port (and address) ESTABLISHED with inode 0 (see the file comment).
 */
export function liveBacklogIn(table: string, address: string, port: number): number {
  const portText = port.toString(16).toUpperCase().padStart(4, '0');
  const local = `${address}:${portText}`;
  const isWildcard = /^0+$/.test(address);
  let count = 0;
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    if (fields.length < 10 || fields[3] !== kEstablished || fields[9] !== '0') continue;
    const own = fields[1]!;
    if (isWildcard ? own.endsWith(`:${portText}`) && own.length === local.length : own === local) count++;
  }
  return count;
}

/** What `readKernelBacklog` read, for `countKernelBacklog` to count once the socket is closed. */
export interface KernelBacklogRead {
  /** The listening socket's address as /proc writes it. */
  readonly address: string;
  readonly port: number;
  /** The LISTEN row's `rx_queue`: every connection of the backlog, also those their client reset. */
  readonly queued: number;
  /** The whole table, undecoded, when `queued` is above 0 (read only then). */
  readonly table?: readonly Buffer[];
}

/**
 * Reads the backlog of the listening socket `name` from the kernel: its LISTEN row and, when it
 * has a backlog, the whole table, raw (parsed by `countKernelBacklog`, after the close). Undefined
 * where it cannot be read (see the file comment).
 */
export function readKernelBacklog(name: SocketName): KernelBacklogRead | undefined {
  if (process.platform !== 'linux') return undefined;
  const { address, family, port } = name;
  if (typeof address !== 'string' || typeof family !== 'string' || typeof port !== 'number' || !Number.isInteger(port)) return undefined;
  const local = procAddress(address, family);
  if (local === undefined) return undefined;
  const path = family === 'IPv4' ? '/proc/net/tcp' : '/proc/net/tcp6';
  try {
    const queued = backlogIn(listeningRows(path), local, port);
    if (queued === undefined) return undefined;
    if (queued === 0) return { address: local, port, queued };
    return { address: local, port, queued, table: wholeTable(path) };
  } catch {
    return undefined;
  }
}

/** How many connections of what `readKernelBacklog` read are alive: those a close resets. */
export function countKernelBacklog(read: KernelBacklogRead | undefined): number | undefined {
  if (read === undefined) return undefined;
  if (read.table === undefined) return read.queued;
  return liveBacklogIn(Buffer.concat(read.table).toString('latin1'), read.address, read.port);
}

/** The kernel's backlog of the listening socket `name`, its live connections only (see the file comment), or undefined. */
export function kernelBacklog(name: SocketName): number | undefined {
  return countKernelBacklog(readKernelBacklog(name));
}

/** How much of the whole table one read takes. */
const kTableChunkBytes = 256 * 1024;

/** All of `path`, as read: not decoded, for the read to cost as little as it can. */
function wholeTable(path: string): Buffer[] {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buffer = Buffer.allocUnsafe(kTableChunkBytes);
      const bytes = readSync(fd, buffer, 0, buffer.length, null);
      if (bytes === 0) return chunks;
      chunks.push(bytes === buffer.length ? buffer : buffer.subarray(0, bytes));
    }
  } finally {
    closeSync(fd);
  }
}

/** How much of the table one read takes: the listening sockets come first in it. */
const kChunkBytes = 16 * 1024;

/**
 * The first rows of `path`, up to its first row of a socket that is not listening: the kernel
 * lists the listening sockets first, and writes the table as it is read, so this costs what the
 * listening sockets do, not the whole table (thousands of TIME_WAIT rows under the load this is
 * for: reading all of it took long enough, just before the close, for the backlog to fill up).
 */
function listeningRows(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(kChunkBytes);
    let text = '';
    for (;;) {
      const bytes = readSync(fd, buffer, 0, buffer.length, null);
      if (bytes === 0) return text;
      text += buffer.toString('latin1', 0, bytes);
      // A complete row past the header whose state (4th field) is not LISTEN (0A) ends it.
      const rows = text.split('\n').slice(1, -1);
      if (rows.some((row) => (row.trim().split(/\s+/)[3] ?? '0A') !== '0A')) return text;
    }
  } finally {
    closeSync(fd);
  }
}
