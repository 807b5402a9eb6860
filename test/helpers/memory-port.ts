/**
 * An in-memory IPC port pair for endpoint unit tests: messages are copied through JSON (as the
 * real channel does) and delivered on a later turn of the event loop. Only for pure protocol
 * tests; everything involving processes uses real node:cluster workers.
 */
import type { IpcPort } from '../../src/messaging/channel.js';

export interface MemoryPort extends IpcPort {
  connected: boolean;
  /** Number of send() calls (IPC writes). */
  writes: number;
  deliver: (message: unknown) => void;
}

export function memoryPortPair(): [MemoryPort, MemoryPort] {
  const make = (): MemoryPort => ({
    connected: true,
    writes: 0,
    deliver: () => {},
    send(message, callback) {
      if (!this.connected) {
        process.nextTick(callback, new Error('Channel closed'));
        return false;
      }
      this.writes++;
      const copy: unknown = JSON.parse(JSON.stringify(message));
      setImmediate(() => peer(this).deliver(copy));
      process.nextTick(callback, null);
      return true;
    },
  });
  const a = make();
  const b = make();
  const peer = (port: MemoryPort) => (port === a ? b : a);
  return [a, b];
}
