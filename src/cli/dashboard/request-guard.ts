/**
 * Who may talk to the dashboard (pure: no I/O). It listens on a TCP port, which, unlike the
 * control socket, every local user and every web page the user has open can reach, so:
 *
 * - The `Host` header must name this machine: `localhost`, an IP address, the machine's host
 *   name, or the `--host` given. A DNS-rebinding page (evil.example resolving to 127.0.0.1)
 *   sends its own name and is refused, so it can neither read the figures nor act.
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

export interface GuardOptions {
  /** The control token; undefined when control is off (read-only dashboard). */
  readonly token: string | undefined;
  /** Host names, besides `localhost` and IP addresses, that the `Host` header may carry. */
  readonly hostNames: readonly string[];
}

export interface GuardRequest {
  readonly method: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  /** The `Authorization` header (`Bearer <token>`). */
  readonly authorization: string | undefined;
}

export type GuardVerdict = { ok: true } | { ok: false; status: 403 | 405; message: string };

export class RequestGuard {
  readonly #token: Buffer | undefined;
  readonly #hostNames: Set<string>;

  constructor(options: GuardOptions) {
    this.#token = options.token === undefined ? undefined : Buffer.from(options.token);
    this.#hostNames = new Set(['localhost', ...options.hostNames.map((name) => name.toLowerCase())]);
  }

  /** Checks any request: its Host, and its Origin when it has one. */
  checkRequest(request: GuardRequest): GuardVerdict {
    const hostname = hostnameOf(request.host);
    if (hostname === undefined || !(isIP(hostname) !== 0 || this.#hostNames.has(hostname))) {
      return refuse(403, `The Host header ${JSON.stringify(request.host ?? '')} does not name this machine; open the dashboard by the address it printed.`);
    }
    if (request.origin !== undefined && request.origin !== `http://${request.host!.toLowerCase()}`) {
      return refuse(403, `Cross-origin requests are refused (Origin ${JSON.stringify(request.origin)}).`);
    }
    return { ok: true };
  }

  /** Checks a request to a control endpoint (after `checkRequest`). */
  checkControl(request: GuardRequest): GuardVerdict {
    if (this.#token === undefined) return refuse(403, 'The dashboard is read-only; start it with --allow-control to reload and scale from the page.');
    if (request.method !== 'POST') return refuse(405, 'Control endpoints take POST requests.');
    const given = /^Bearer (\S+)$/.exec(request.authorization ?? '')?.[1];
    if (given === undefined || !sameSecret(Buffer.from(given), this.#token)) {
      return refuse(403, 'A control request needs the token from the dashboard URL (Authorization: Bearer <token>).');
    }
    return { ok: true };
  }
}

/** `localhost` from `localhost:9716`, `::1` from `[::1]:9716`; undefined when malformed. */
export function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const lower = host.toLowerCase();
  const match = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(lower) ?? /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(lower);
  return match?.[1];
}

function sameSecret(given: Buffer, token: Buffer): boolean {
  return given.length === token.length && timingSafeEqual(given, token);
}

function refuse(status: 403 | 405, message: string): GuardVerdict {
  return { ok: false, status, message };
}
