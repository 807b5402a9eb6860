/**
 * Listens a server of the primary (sticky, health) and says a failure once, to the caller: as a
 * rejection with a `ListenError` naming the port and host. Before (H246), `listenSticky()` had
 * its permanent `error` handler on already, so a busy port was also emitted on the primary's
 * `error` event, which with no listener threw and ended the primary and its workers.
 */
import type { Server } from 'node:net';
import { ListenError } from '../../errors.js';

export function listenServer(server: Server, listener: string, port: number, host: string | undefined, backlog?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(new ListenError(listener, port, host, error));
    server.once('error', onError);
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (backlog === undefined) server.listen(port, host, onListening);
    else server.listen(port, host, backlog, onListening);
  });
}
