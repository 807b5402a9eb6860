/**
 * Hands the connections the primary accepted with `listenSticky()` to the server given to
 * `serveSticky()`. A connection that cannot be served (no such server, or the worker stopped)
 * is closed, never leaked, and said to the primary (`onRefused`), which hands this worker no
 * more and reports it: a client must not be reset without a line anywhere.
 */
import type { Server, Socket } from 'node:net';

export class StickyIntake {
  #server: Server | undefined;
  readonly #onRefused: () => void;

  constructor(onRefused: () => void) {
    this.#onRefused = onRefused;
  }

  serve(server: Server): void {
    this.#server = server;
  }

  /** A socket handle sent with `message`; `isAccepting` is false once the worker stopped. */
  accept(message: object, handle: unknown, isAccepting: boolean): void {
    const socket = handle as Socket;
    const isSticky = (message as { h?: unknown }).h === 'sticky';
    if (!isSticky || !this.#server || !isAccepting) {
      socket.destroy?.();
      if (isSticky) this.#onRefused();
      return;
    }
    this.#server.emit('connection', socket);
    socket.resume();
  }
}
