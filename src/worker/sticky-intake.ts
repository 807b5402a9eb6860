/**
 * Hands the connections the primary accepted with `listenSticky()` to the server given to
 * `serveSticky()`. A connection that cannot be served is closed, never leaked.
 */
import type { Server, Socket } from 'node:net';

export class StickyIntake {
  #server: Server | undefined;

  serve(server: Server): void {
    this.#server = server;
  }

  /** A socket handle sent with `message`; `isAccepting` is false once the worker stopped. */
  accept(message: object, handle: unknown, isAccepting: boolean): void {
    const socket = handle as Socket;
    if ((message as { h?: unknown }).h !== 'sticky' || !this.#server || !isAccepting) {
      socket.destroy?.();
      return;
    }
    this.#server.emit('connection', socket);
    socket.resume();
  }
}
