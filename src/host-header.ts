/**
 * Reading a `Host` header (or the authority of an absolute-form request target): the dashboard's
 * guard and the health endpoint bound to loopback both check it against DNS rebinding.
 */
import { isIP } from 'node:net';

/** Whether `127.0.0.1`, `::1`, `::ffff:127.0.0.1` (any of 127.0.0.0/8) is a loopback address. */
export function isLoopbackAddress(address: string): boolean {
  const lower = address.toLowerCase();
  if (isIP(lower) === 4) return lower.startsWith('127.');
  if (isIP(lower) !== 6) return false;
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  // IPv4-mapped: ::ffff:127.0.0.1, or the same in hex (::ffff:7f00:1).
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  if (mapped !== undefined) return mapped.startsWith('127.');
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(lower);
}

/** `localhost` from `localhost:9716`, `::1` from `[::1]:9716`; undefined when malformed (a port past 65535 too). */
export function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const lower = host.toLowerCase();
  const match = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(lower) ?? /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(lower);
  if (match === null || hasInvalidPort(lower)) return undefined;
  return match[1];
}

/** `localhost:99999`, `[::1]:65536`: a port no server can listen on. */
export function hasInvalidPort(host: string | undefined): boolean {
  const port = /:(\d+)$/.exec(host ?? '')?.[1];
  // `::1` without brackets ends in digits after a colon too, but it is no port.
  if (port === undefined || (host!.includes(']') === false && host!.split(':').length > 2)) return false;
  return Number(port) > 65_535;
}

/** `localhost`, `LOCALHOST:8080`, `127.0.0.1:9`, `[::1]`: a Host only this machine can be reached by. */
export function isLoopbackHost(host: string | undefined): boolean {
  const hostname = hostnameOf(host);
  return hostname !== undefined && (hostname === 'localhost' || isLoopbackAddress(hostname));
}
