/**
 * Graceful draining of servers a worker registers with `trackServer()`: on stop, the server
 * stops accepting, in-flight requests finish (their responses say `Connection: close`), idle
 * keep-alive connections close at once instead of lingering for `keepAliveTimeout`, and
 * whatever is still open at the deadline is destroyed.
 */
import { Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';

export class TrackedServer {
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();
  readonly #responses = new Set<ServerResponse>();
  #isDraining = false;

  constructor(server: NetServer) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    if (server instanceof HttpServer) {
      // Prepended so it runs before the application's handler can write the headers.
      server.prependListener('request', (_request, response: ServerResponse) => this.#onRequest(response));
    }
  }

  get server(): NetServer {
    return this.#server;
  }

  /** Drains the server; resolves when it is closed (at the latest at `deadline`, a timestamp). */
  drain(deadline: number): Promise<void> {
    this.#isDraining = true;
    const server = this.#server;
    const closed = new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
    for (const response of this.#responses) if (!response.headersSent) response.shouldKeepAlive = false;
    this.#closeIdle();
    const timer = setTimeout(() => this.#destroyAll(), Math.max(0, deadline - Date.now()));
    return closed.finally(() => clearTimeout(timer));
  }

  #onRequest(response: ServerResponse): void {
    if (this.#isDraining) response.shouldKeepAlive = false;
    this.#responses.add(response);
    response.once('close', () => {
      this.#responses.delete(response);
      if (this.#isDraining) setImmediate(() => this.#closeIdle());
    });
  }

  #closeIdle(): void {
    if (this.#server instanceof HttpServer) this.#server.closeIdleConnections();
  }

  #destroyAll(): void {
    if (this.#server instanceof HttpServer) this.#server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
  }
}
