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
  const open = new Map<Socket, { inFlight: number }>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      let idle: Socket | undefined;
      for (const [candidate, state] of open) {
        if (state.inFlight === 0) {
          idle = candidate;
          break;
        }
      }
      if (idle === undefined) {
        socket.destroy();
        return;
      }
      open.delete(idle);
      idle.destroy();
    }
    open.set(socket, { inFlight: 0 });
    socket.once('close', () => open.delete(socket));
  });
  server.prependListener('request', (request, response) => {
    const state = open.get(request.socket);
    if (!state) return;
    state.inFlight++;
    response.once('close', () => state.inFlight--);
  });
}
