/**
 * A listen error a person can read. In a cluster worker, `server.listen(3501)` without a host
 * fails in the primary's bind with `address: null`, and Node's message says
 * `bind EADDRINUSE null:3501`: "null" is not an address anyone typed. This names the port
 * plainly, and the address family when one was given (`::` is every IPv6 and IPv4 address).
 */
import { readProperty } from '../readable-error.js';

/** What a few listen errors mean, after the port. */
const kMeanings: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges this process does not have (ports below 1024 usually do)',
  EADDRNOTAVAIL: 'is on an address this machine does not have',
};

/**
 * `error` itself, unless it is a TCP listen error with a port: then an Error saying
 * `listen EADDRINUSE: port 3501 (every address) is already in use on at least one of those addresses`, with
 * the same `code`, `syscall`, `address` and `port`, and `error` as its `cause`.
 */
export function readableListenError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const code = readProperty(error, 'code');
  const port = readProperty(error, 'port');
  const syscall = readProperty(error, 'syscall');
  const address = readProperty(error, 'address');
  if (typeof code !== 'string' || typeof port !== 'number' || (syscall !== 'bind' && syscall !== 'listen')) return error;
  if (address !== null && address !== undefined && typeof address !== 'string') return error;
  const where = `port ${port} (${describeAddress(address)})`;
  const meaning = Object.hasOwn(kMeanings, code) ? kMeanings[code]! : `could not be listened on`;
  // A wildcard address covers the others: one of them taken (127.0.0.1:port) fails it (newcomer t63 read "in use on every address").
  const isWildcard = address === null || address === undefined || address === '' || address === '::' || address === '0.0.0.0';
  const some = code === 'EADDRINUSE' && isWildcard ? ' on at least one of those addresses' : '';
  const readable = new Error(`listen ${code}: ${where} ${meaning}${some}`, { cause: error });
  return Object.assign(readable, { code, syscall, address, port });
}

/**
 * `error` itself, unless it is an EADDRINUSE on `healthPort`, the port of the primary's own
 * health endpoint (`clusterkit run --health-port`, which listens before any worker starts):
 * then the same error, its message naming the clash and what to do, `error` as its `cause`.
 * Before, the app was told only that its port was in use, by whom it did not say.
 */
export function nameHealthPortClash(error: unknown, healthPort: number | undefined): unknown {
  if (healthPort === undefined || typeof error !== 'object' || error === null) return error;
  const code = readProperty(error, 'code');
  const port = readProperty(error, 'port');
  if (code !== 'EADDRINUSE' || port !== healthPort) return error;
  const message = readProperty(error, 'message');
  const clash = new Error(
    `${typeof message === 'string' ? message : `listen EADDRINUSE: port ${port} is already in use`}: --health-port ${port} is also the app's port (the primary's health endpoint holds it); pick another port for --health-port`,
    { cause: error },
  );
  return Object.assign(clash, { code, syscall: readProperty(error, 'syscall'), address: readProperty(error, 'address'), port });
}

function describeAddress(address: string | null | undefined): string {
  if (address === null || address === undefined || address === '') return 'every address';
  if (address === '::') return 'every IPv6 and IPv4 address, ::';
  if (address === '0.0.0.0') return 'every IPv4 address, 0.0.0.0';
  return `address ${address}, ${address.includes(':') ? 'IPv6' : 'IPv4'}`;
}
