/**
 * How many connections the kernel holds in a listening socket's backlog: completed, not accepted
 * by the process yet. Closing the socket resets each (the client had most likely sent its
 * request), and no process ever saw them: a shutdown reads the figure just before it closes a
 * round-robin socket, to count them in `connectionsReset` (H358). Linux only (/proc/net/tcp and
 * tcp6, where a listening socket's `rx_queue` is its backlog); undefined elsewhere, for a pipe,
 * or when the socket is not found once exactly.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';

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
export function procAddress(address: string, family: string, isLittleEndian = endianness() === 'LE'): string | undefined {
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

/** The kernel's backlog of the listening socket `name` (see the file comment), or undefined. */
export function kernelBacklog(name: SocketName): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const { address, family, port } = name;
  if (typeof address !== 'string' || typeof family !== 'string' || typeof port !== 'number' || !Number.isInteger(port)) return undefined;
  const local = procAddress(address, family);
  if (local === undefined) return undefined;
  try {
    return backlogIn(listeningRows(family === 'IPv4' ? '/proc/net/tcp' : '/proc/net/tcp6'), local, port);
  } catch {
    return undefined;
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
