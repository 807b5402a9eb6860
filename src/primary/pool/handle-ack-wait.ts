/**
 * Lets the end of a worker's IPC channel end it for node:cluster too, even when a handle sent to
 * the worker was never acknowledged.
 *
 * Node holds a child's disconnect back while a handle it sent waits for the child's
 * acknowledgement (`NODE_HANDLE_ACK`; child_process keeps `_handleQueue` meanwhile), and runs it
 * when the acknowledgement comes. A worker that dies with a connection just handed to it
 * (node:cluster's round-robin `newconn`, or a sticky connection) never sends one: when the end of
 * its channel is read, Node marks the channel closed but never emits 'disconnect'. node:cluster
 * forgets a dead worker on that event, or at its exit when the channel had ended first. When the
 * exit is read first (seen under load; certain when a process the worker started holds the
 * channel's descriptor), it does neither: the worker stays in `cluster.workers` for good, and
 * with it its share of every round-robin handle. The listening socket stays bound in the primary
 * after `shutdown()` (the port is not freed, and the process cannot exit), and node:cluster's
 * `disconnect` callback never runs.
 *
 * At the end of the channel nothing more can be read from it, so the acknowledgement cannot come
 * any more (messages read before it were delivered already): the wait is dropped before Node
 * handles the end, and its disconnect runs in full. What the wait held back (the connections
 * queued for the dead worker) is closed on that 'disconnect' by handoff-guard.ts.
 */
import type { ChildProcess } from 'node:child_process';

/** Called as the end of `child`'s channel is read, before Node handles it. */
export function dropHandleAckWait(child: ChildProcess): void {
  const internals = child as unknown as { _handleQueue?: unknown };
  // Only the shape Node has: another runtime's child_process is left as it is.
  if (Array.isArray(internals._handleQueue)) internals._handleQueue = null;
}
