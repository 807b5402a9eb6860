/**
 * Ends a connection the primary holds a copy of (a TCP or pipe handle accepted by node:cluster)
 * so that its client sees the end at once, even while another process holds a copy of its
 * descriptor. A close alone only drops the primary's copy: the kernel ends the connection when
 * its last copy is gone, and a copy in flight in an IPC channel another process holds open (a
 * dead worker's descendant) is never read nor closed: the client waited until its own timeout
 * (45 s with `curl -m 45`). A shutdown of the write side acts on the connection itself: the
 * client reads the end (FIN: `curl: (52) Empty reply from server`, Node's `socket hang up`), not
 * a reset. Then the primary's copy is closed.
 *
 * Only for a connection no live process may own: one handed to a worker whose process exited.
 */
import net from 'node:net';

/** How long the shutdown may take before the copy is closed anyway (ms). */
const kShutdownBoundMs = 1_000;

/** Closes `handle`, which may have closed meanwhile (a client's reset, the worker's exit). */
export function closeQuietly(handle: { close?: () => void }): void {
  try {
    handle.close?.();
  } catch {
    // closed meanwhile
  }
}

/** Shuts `handle`'s connection down (its client reads the end), then closes the primary's copy. */
export function endConnection(handle: object): void {
  let socket: net.Socket;
  try {
    // `handle` is an accepted TCP or pipe handle: Node's `new net.Socket({ handle })` (untyped in @types/node).
    socket = new net.Socket({ handle, readable: false, writable: true } as net.SocketConstructorOpts);
  } catch {
    closeQuietly(handle as { close?: () => void });
    return;
  }
  let isDone = false;
  const destroy = (): void => {
    if (isDone) return;
    isDone = true;
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(destroy, kShutdownBoundMs);
  timer.unref();
  socket.once('finish', destroy);
  socket.once('error', destroy);
  socket.once('close', destroy);
  try {
    socket.end();
  } catch {
    destroy();
  }
}
