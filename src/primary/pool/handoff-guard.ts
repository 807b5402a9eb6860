/**
 * Closes the connections node:cluster handed to a worker that died before it acknowledged them.
 *
 * With round-robin scheduling the primary accepts each connection and sends it to a worker
 * (`NODE_CLUSTER` `newconn`, the socket as the message's handle); it closes its own copy only
 * when the worker's acknowledgement comes back. A worker that dies in between never answers:
 * node:cluster keeps the copy open for good (lib/internal/cluster/round_robin_handle.js waits on
 * a callback that never runs). Each such death left a file descriptor in the primary and a
 * client waiting, in CLOSE-WAIT, for an answer that never came: a crash loop under load runs the
 * primary out of descriptors.
 *
 * The child's `send` is wrapped to note each handoff by its sequence number, its internal
 * messages tell the acknowledged ones, and the end of its channel closes the rest: the client
 * sees its connection close, as when the worker that held it dies. Not at the exit itself: an
 * acknowledgement the worker wrote just before dying may still be unread then, and node:cluster
 * acts on it when it is read (it closes the copy, or hands it to another worker).
 */
import type { ChildProcess } from 'node:child_process';

interface Closable {
  close(): void;
}

function isHandoff(message: unknown, handle: unknown): message is { seq: number } {
  if (typeof message !== 'object' || message === null || typeof handle !== 'object' || handle === null) return false;
  const { cmd, act, seq } = message as Record<string, unknown>;
  return cmd === 'NODE_CLUSTER' && act === 'newconn' && typeof seq === 'number' && typeof (handle as Partial<Closable>).close === 'function';
}

/** The sequence number a node:cluster acknowledgement answers, or undefined. */
function acknowledgedSeq(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { cmd, ack } = message as Record<string, unknown>;
  return cmd === 'NODE_CLUSTER' && typeof ack === 'number' ? ack : undefined;
}

/** After an exit, how long the channel's end may take to come (a grandchild holding its descriptor delays it). */
const kChannelEndGraceMs = 1_000;

/**
 * Tracks the connections handed to `child` until acknowledged; closes those left when its
 * channel ends. Returns how many it handed over and never acknowledged (so far): clients whose
 * connection a dying worker takes with it, counted in what its death cut off.
 */
export function guardHandoffs(child: ChildProcess): () => number {
  const inFlight = new Map<number, Closable>();
  let closedUnacknowledged = 0;
  const send = child.send as (this: ChildProcess, message: unknown, handle?: unknown, ...rest: unknown[]) => boolean;
  child.send = function trackedSend(this: ChildProcess, message: unknown, handle?: unknown, ...rest: unknown[]): boolean {
    if (isHandoff(message, handle)) inFlight.set(message.seq, handle as Closable);
    return send.call(this, message, handle, ...rest);
  } as ChildProcess['send'];
  child.on('internalMessage', (message: unknown) => {
    const seq = acknowledgedSeq(message);
    if (seq !== undefined) inFlight.delete(seq);
  });
  const closeUnacknowledged = (): void => {
    closedUnacknowledged += inFlight.size;
    for (const handle of inFlight.values()) {
      try {
        handle.close();
      } catch {
        // closed meanwhile
      }
    }
    inFlight.clear();
  };
  child.once('disconnect', closeUnacknowledged);
  child.once('exit', () => setTimeout(closeUnacknowledged, kChannelEndGraceMs).unref());
  return () => closedUnacknowledged + inFlight.size;
}
