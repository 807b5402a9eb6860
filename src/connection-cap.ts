/**
 * At most `max` open connections on one of our own small HTTP servers (the health endpoint, the
 * dashboard), without letting idle ones lock out the requests the server exists for. When full, a new
 * connection takes the place of the oldest one with no request in flight (one that never sent
 * a whole request: an idle flood, a slowloris); only when every connection is busy is the new
 * one closed. Before, the cap closed every new connection: 130 idle connections from anyone on
 * the pod network failed the kubelet's liveness probe, and the pod was restarted (a retest).
 * `server.maxConnections` stays as a backstop at twice the cap, so descriptors stay bounded.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function capConnections(server: Server, max: number): void {
  server.maxConnections = max * 2;
  /** Open connections, oldest first, with their requests in flight. */
  const open = new Map<Socket, { inFlight: number; isIdle(): boolean }>();
  server.on('connection', (socket: Socket) => {
    if (!makeRoom(open, max)) {
      socket.destroy();
      return;
    }
    const state = { inFlight: 0, isIdle: () => state.inFlight === 0 };
    open.set(socket, state);
    socket.once('close', () => open.delete(socket));
  });
  server.prependListener('request', (request, response) => {
    const state = open.get(request.socket);
    if (!state) return;
    state.inFlight++;
    response.once('close', () => state.inFlight--);
  });
}

/**
 * Room for one more among `open` (oldest first, at most `max`): when full, the oldest idle
 * connection is forgotten and `close`d (default: destroyed at once). False when every one is busy:
 * the new one gets no room. The control socket uses it too (control-server.ts), so 64 idle
 * connections cannot lock `stop` out; its `close` tells the client why before it closes.
 * A state with `holdsNothing` is idle in one of two ways: holding nothing of its client's (closing
 * it loses nothing), or stalled with requests it would lose. Room comes from the first kind while
 * there is one, the oldest first, then from the second: a client starved of CPU for a second (a
 * busy machine) stalled its flood of requests and was closed while 80 connections that had sent
 * nothing stayed open (under-load run, H697).
 */
export function makeRoom<State extends { isIdle(): boolean; holdsNothing?(): boolean }>(
  open: Map<Socket, State>,
  max: number,
  close: (socket: Socket, state: State) => void = (socket) => socket.destroy(),
): boolean {
  if (open.size < max) return true;
  let stalled: Socket | undefined;
  for (const [socket, state] of open) {
    if (!state.isIdle()) continue;
    if (state.holdsNothing?.() === false) {
      stalled ??= socket;
      continue;
    }
    forget(open, socket, close);
    return true;
  }
  if (stalled === undefined) return false;
  forget(open, stalled, close);
  return true;
}

function forget<State>(open: Map<Socket, State>, socket: Socket, close: (socket: Socket, state: State) => void): void {
  const state = open.get(socket)!;
  open.delete(socket);
  close(socket, state);
}
