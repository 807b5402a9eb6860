/**
 * What a user calls the address of a node:cluster handle key. node:cluster keys the sockets it
 * holds for workers as `address:port:addressType:fd:index` (lib/internal/cluster/primary.js), so
 * a line that printed the key said `null:4126:4:undefined:0` for "port 4126" (tester t23).
 */

/**
 * `port 4126` (every address), `127.0.0.1:4126`, `[::1]:4126`, `pipe /run/app.sock` or
 * `descriptor 3`; the key itself, quoted, when it is not in node:cluster's shape.
 */
export function describeListenKey(key: string): string {
  const parts = key.split(':');
  if (parts.length < 5) return JSON.stringify(key);
  // From the end: an IPv6 address has colons of its own.
  const [port, addressType, fd] = parts.slice(-4, -1);
  const address = parts.slice(0, -4).join(':');
  if (fd !== undefined && /^\d+$/.test(fd)) return `descriptor ${fd}`;
  if (addressType === '-1') return `pipe ${address}`;
  if (port === undefined || !/^\d+$/.test(port)) return JSON.stringify(key);
  if (address === 'null' || address === 'undefined' || address === '') return `port ${port}`;
  return addressType === '6' ? `[${address}]:${port}` : `${address}:${port}`;
}
