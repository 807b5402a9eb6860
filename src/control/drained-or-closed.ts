/**
 * Resolves once `socket` can take more writes (`drain`) or is gone (`close`): the wait of every
 * writer on the control socket that must not hold more than a little in memory for a slow reader.
 */
import type net from 'node:net';

export function drainedOrClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
