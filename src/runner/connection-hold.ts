/**
 * `clusterkit run --wait-ready`: a server the script listens on before it is ready (PM2's
 * wait_ready: listen, warm up, then `process.send('ready')`) is given connections by
 * node:cluster as soon as it listens, since the primary's round-robin counts a listening
 * worker as free. During a reload those connections would meet a script that is still warming
 * up (the newcomer's 19 387 answers 503). So each connection handed over before ready is held,
 * paused, and given to the script's listeners once it is ready; a client waits for the
 * warm-up instead of getting an error. The worker it replaces keeps serving its own share.
 */
import type net from 'node:net';

export function holdConnectionsUntil(server: net.Server, ready: Promise<void>): void {
  const held: net.Socket[] = [];
  let isReleased = false;
  const emit = server.emit as (this: net.Server, event: string | symbol, ...args: unknown[]) => boolean;
  // An emit of the server's own (a library's wrapper) is put back as it was, not dropped.
  const hadOwnEmit = Object.hasOwn(server, 'emit');
  server.emit = function (this: net.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'connection' || isReleased) return emit.call(this, event, ...args);
    const socket = args[0] as net.Socket;
    // Not read until the script's listeners have it: its bytes wait in the kernel's buffer.
    socket.pause();
    held.push(socket);
    return true;
  } as typeof server.emit;
  void ready.then(() => {
    isReleased = true;
    // Back to the prototype's emit: nothing of ours stays on the server's path.
    if (hadOwnEmit) server.emit = emit as typeof server.emit;
    else delete (server as { emit?: unknown }).emit;
    for (const socket of held.splice(0)) {
      // A client that gave up while it waited.
      if (socket.destroyed) continue;
      server.emit('connection', socket);
      socket.resume();
    }
  });
}
