/**
 * Telling a live control socket from a stale one. A primary killed with SIGKILL cannot remove
 * its socket file; connecting to it then fails with ECONNREFUSED, while a live primary accepts
 * at once (the kernel accepts even while its event loop is busy).
 */
import { lstatSync } from 'node:fs';
import net from 'node:net';

export type SocketState = 'live' | 'stale' | 'absent' | 'not-a-socket';

const kProbeTimeoutMs = 2_000;

export function probeSocket(path: string): Promise<SocketState> {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return Promise.resolve('absent');
  }
  if (!stats.isSocket()) return Promise.resolve('not-a-socket');
  return new Promise((resolve) => {
    const socket = net.connect(path);
    const settle = (state: SocketState) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(state);
    };
    // A connect that neither succeeds nor fails in time: assume someone is there, never delete it.
    const timer = setTimeout(() => settle('live'), kProbeTimeoutMs);
    socket.once('connect', () => settle('live'));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'stale' : 'live'));
  });
}
