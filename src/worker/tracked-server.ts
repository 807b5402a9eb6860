/**
 * Graceful draining of servers a worker registers with `trackServer()`.
 *
 * On stop the server stops accepting (in cluster mode the primary stops routing connections to
 * it), in-flight requests finish, and every response from then on says `Connection: close`, so
 * keep-alive clients reconnect to a live worker instead of reusing this one. Whatever is still
 * open at the deadline is destroyed.
 *
 * Idle keep-alive sockets are not closed at once (which `http.Server#close()` does since Node
 * 19): a client may be sending its next request on one at that very moment, and would see a
 * reset. A socket is closed only after staying idle for `kIdleGraceMs`; a request that arrives
 * meanwhile is answered with `Connection: close`.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/** How long a keep-alive socket must stay idle during a drain before it is closed. */
export const kIdleGraceMs = 250;

export class TrackedServer {
  readonly #server: NetServer;
  /** Open sockets, with how many requests each has in flight (HTTP only; 0 for raw TCP). */
  readonly #sockets = new Map<Socket, number>();
  readonly #responses = new Set<ServerResponse>();
  #isDraining = false;
  /** Called whenever `openRequests` may have changed (a request or a connection began or ended). */
  readonly #onChange: () => void;
  /** Called once, at the first request (HTTP) or connection (plain TCP): the worker served. */
  readonly #onServe: () => void;
  #hasServed = false;

  constructor(server: NetServer, onChange: () => void = () => {}, onServe: () => void = () => {}) {
    this.#server = server;
    this.#onChange = onChange;
    this.#onServe = onServe;
    const isHttp = isHttpServer(server);
    server.on('connection', (socket: Socket) => {
      if (!isHttp && !this.#hasServed) this.#served();
      this.#sockets.set(socket, 0);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#onChange();
      });
      this.#onChange();
    });
    if (isHttp) {
      // Prepended so it runs before the application's handler can write the headers.
      server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => this.#onRequest(request, response));
    }
  }

  get server(): NetServer {
    return this.#server;
  }

  /** HTTP requests in flight (the responses not yet finished); for a plain TCP server, its open connections. */
  get openRequests(): number {
    if (!isHttpServer(this.#server)) return this.#sockets.size;
    return this.#responses.size;
  }

  /**
   * Drains the server; resolves when it is closed and its connections are gone (at the latest
   * at `deadline`, a timestamp), with the requests it cut off at the deadline (`openRequests`
   * then; 0 when it drained in time). A server fed by the primary (`serveSticky()`) never
   * listens, so its tracked sockets are what it waits for.
   */
  drain(deadline: number): Promise<number> {
    this.#isDraining = true;
    const server = this.#server;
    const closed = new Promise<void>((resolve) => {
      if (!server.listening) return this.#whenNoSockets(resolve);
      // net.Server's close: stop accepting, but leave idle keep-alive sockets to the grace below.
      // Bun's http.Server is not a net.Server (it wraps Bun.serve; net's close throws on it), so
      // it gets its own close, which also stops accepting and lets requests in flight finish.
      const close = (server as object) instanceof NetServer ? NetServer.prototype.close : server.close;
      close.call(server, () => resolve());
    });
    for (const response of this.#responses) if (!response.headersSent) response.shouldKeepAlive = false;
    if (isHttpServer(server)) {
      for (const [socket, inFlight] of this.#sockets) if (inFlight === 0) this.#closeIfStillIdle(socket);
    }
    let cut = 0;
    const timer = setTimeout(() => (cut = this.cutOff()), Math.max(0, deadline - Date.now()));
    return closed.finally(() => clearTimeout(timer)).then(() => cut);
  }

  /** Destroys every open connection now; returns the requests that were still open (`openRequests`). */
  cutOff(): number {
    const open = this.openRequests;
    for (const socket of this.#sockets.keys()) socket.destroy();
    return open;
  }

  #whenNoSockets(resolve: () => void): void {
    if (this.#sockets.size === 0) return resolve();
    for (const socket of this.#sockets.keys()) {
      socket.once('close', () => {
        if (this.#sockets.size === 0) resolve();
      });
    }
  }

  /** The first request or connection: said once, then a boolean test per request. */
  #served(): void {
    this.#hasServed = true;
    this.#onServe();
  }

  #onRequest(request: IncomingMessage, response: ServerResponse): void {
    if (!this.#hasServed) this.#served();
    const socket = request.socket;
    this.#sockets.set(socket, (this.#sockets.get(socket) ?? 0) + 1);
    if (this.#isDraining) response.shouldKeepAlive = false;
    this.#responses.add(response);
    this.#onChange();
    response.once('close', () => {
      this.#responses.delete(response);
      this.#onChange();
      const inFlight = (this.#sockets.get(socket) ?? 1) - 1;
      if (!this.#sockets.has(socket)) return;
      this.#sockets.set(socket, inFlight);
      if (this.#isDraining && inFlight === 0) this.#closeIfStillIdle(socket);
    });
  }

  #closeIfStillIdle(socket: Socket): void {
    setTimeout(() => {
      if (this.#sockets.get(socket) === 0) socket.destroy();
    }, kIdleGraceMs).unref();
  }
}

/** http and https servers, told apart without loading `node:http` into every worker. */
function isHttpServer(server: NetServer): server is HttpServer {
  return typeof (server as Partial<HttpServer>).closeIdleConnections === 'function';
}
