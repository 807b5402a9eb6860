/**
 * The worker's IPC port: clusterkit's own reference to the process's real `send`, taken the
 * first time it is asked for (by the `clusterkit run` bootstrap before the script runs, or by
 * the ClusterWorker constructor). Code that later replaces `process.send` (a script's wrapper, an
 * APM agent) neither sees nor holds up clusterkit's frames.
 *
 * Under `clusterkit run` the script's own writes are guarded (`guardScriptFrames`): a frame
 * shaped as clusterkit's protocol from anyone but this port is refused (H233). The port marks the
 * frames it writes, so they pass even when Node re-sends them later from its handle queue.
 */
import type { IpcPort } from '../messaging/channel.js';

let port: IpcPort | undefined;
/** Frames this port wrote; only kept while a guard is installed (run mode). */
let ownFrames: WeakSet<object> | undefined;

export function processPort(): IpcPort {
  if (port !== undefined) return port;
  const send = process.send;
  port = {
    send(message: unknown, callback: (error: Error | null) => void): boolean {
      if (ownFrames !== undefined && typeof message === 'object' && message !== null) ownFrames.add(message);
      // Not forked with a channel: the endpoint never starts (NotAWorkerError) and never sends.
      return send === undefined ? false : (Reflect.apply(send, process, [message, callback]) as boolean);
    },
    get connected(): boolean {
      return process.connected;
    },
  };
  return port;
}

/** Whether `message` was written by this port (run mode only: false without a guard). */
export function isOwnFrame(message: object): boolean {
  return ownFrames?.has(message) === true;
}

/** Starts marking this port's frames: called once by the guard, before the script runs. */
export function markOwnFrames(): void {
  processPort();
  ownFrames ??= new WeakSet();
}
