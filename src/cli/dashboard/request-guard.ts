/**
 * Who may talk to the dashboard (pure: no I/O). It listens on a TCP port, which, unlike the
 * control socket, every local user and every web page the user has open can reach, so:
 *
 * - The `Host` header must name this machine: `localhost`, a loopback address (127.0.0.0/8,
 *   ::1), the machine's host name, or the `--host` given; any IP address only when `--host` is
 *   not a loopback address (the dashboard was opened to the network on purpose, and is reached
 *   by one of the machine's addresses). A DNS-rebinding page (evil.example resolving to
 *   127.0.0.1) sends its own name and is refused, so it can neither read the figures nor act.
 *   An absolute-form request target (`GET http://host/api/snapshot`) must name an accepted
 *   host too.
 * - A request that carries an `Origin` (every cross-site `fetch`, form post or EventSource does)
 *   must come from the dashboard's own origin: no cross-site request gets through.
 * - Control requests (reload, scale) exist only with `--allow-control`, must be POSTs, and must
 *   carry the random token printed in the URL, compared in constant time.
 *
 * The read-only figures need no token: they are what `ps` already shows every local user
 * (pids, memory, CPU). What can change the cluster needs the token. The same rules as
 * Jupyter's and webpack-dev-server's, whose check of the Host header is their DNS-rebinding fix.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hasInvalidPort, hostnameOf, isLoopbackAddress } from '../../host-header.js';

export { hostnameOf, isLoopbackAddress };

export interface GuardOptions {
  /** The control token; undefined when control is off (read-only dashboard). */
  readonly token: string | undefined;
  /** Host names and addresses, besides `localhost` and loopback addresses, that the `Host` header may carry (the `--host` given, the machine's name). */
  readonly hostNames: readonly string[];
  /** Any IP address is accepted too: the server listens on a non-loopback address. @default false */
  readonly acceptsAnyAddress?: boolean;
}

export interface GuardRequest {
  readonly method: string;
  readonly host: string | undefined;
  /** The authority of an absolute-form request target (`http://host:port/path`); checked like `host`. */
  readonly authority?: string | undefined;
  readonly origin: string | undefined;
  /** The `Authorization` header (`Bearer <token>`). */
  readonly authorization: string | undefined;
}

export type GuardVerdict = { ok: true } | { ok: false; status: 400 | 403 | 405; message: string };

export class RequestGuard {
  readonly #token: Buffer | undefined;
  readonly #hostNames: Set<string>;
  readonly #acceptsAnyAddress: boolean;

  constructor(options: GuardOptions) {
    this.#token = options.token === undefined ? undefined : Buffer.from(options.token);
    this.#hostNames = new Set(['localhost', ...options.hostNames.map((name) => name.toLowerCase().replace(/^\[(.*)\]$/, '$1'))]);
    this.#acceptsAnyAddress = options.acceptsAnyAddress ?? false;
  }

  /** Checks any request: its Host (and absolute-form target), and its Origin when it has one. */
  checkRequest(request: GuardRequest): GuardVerdict {
    // `localhost:99999` names no port at all: malformed (400), not another machine (403).
    for (const [what, value] of [['Host header', request.host], ['request target', request.authority]] as const) {
      if (hasInvalidPort(value)) return refuse(400, `The ${what} ${JSON.stringify(value)} has a port outside 0-65535; open the dashboard by the address it printed.`);
    }
    if (!this.#accepts(request.host)) {
      return refuse(403, `The Host header ${JSON.stringify(request.host ?? '')} does not name this machine; open the dashboard by the address it printed.`);
    }
    if (request.authority !== undefined && !this.#accepts(request.authority)) {
      return refuse(403, `The request target names the host ${JSON.stringify(request.authority)}, not this machine; open the dashboard by the address it printed.`);
    }
    if (request.origin !== undefined && request.origin !== `http://${request.host!.toLowerCase()}`) {
      return refuse(403, `Cross-origin requests are refused (Origin ${JSON.stringify(request.origin)}).`);
    }
    return { ok: true };
  }

  /** A `Host` value (or target authority) that names this machine. */
  #accepts(host: string | undefined): boolean {
    const hostname = hostnameOf(host);
    if (hostname === undefined) return false;
    if (this.#hostNames.has(hostname)) return true;
    return isIP(hostname) !== 0 && (this.#acceptsAnyAddress || isLoopbackAddress(hostname));
  }

  /** Checks a request to a control endpoint (after `checkRequest`). */
  checkControl(request: GuardRequest): GuardVerdict {
    if (this.#token === undefined) return refuse(403, 'The dashboard is read-only; start it with --allow-control to reload and scale from the page.');
    if (request.method !== 'POST') return refuse(405, 'Control endpoints take POST requests.');
    // The scheme is case-insensitive (RFC 9110 section 11.1): a client that sends `bearer` was refused as if it sent no token (hostile t64).
    const given = /^Bearer +(\S+)$/i.exec(request.authorization ?? '')?.[1];
    if (given === undefined) return refuse(403, 'A control request needs the token from the dashboard URL (Authorization: Bearer <token>).');
    if (!sameSecret(Buffer.from(given), this.#token)) return refuse(403, 'The token of this control request is not the one in the dashboard URL (Authorization: Bearer <token>).');
    return { ok: true };
  }
}

function sameSecret(given: Buffer, token: Buffer): boolean {
  return given.length === token.length && timingSafeEqual(given, token);
}

function refuse(status: 400 | 403 | 405, message: string): GuardVerdict {
  return { ok: false, status, message };
}
