/**
 * Closes the primary's end of the IPC channel of a worker whose process exited while another
 * process still holds the worker's end (H456, H457). A worker that starts a process in a session
 * of its own with the channel's descriptor among its stdio (`spawn(..., { stdio: [..., 3] })`,
 * `NODE_CHANNEL_FD`) leaves that process holding the channel open after its exit: the channel
 * never ends, so node:cluster counts the worker connected and keeps it in its round-robin
 * handles (it removes a worker at its channel's end), and the primary reads whatever that
 * process writes for as long as it runs, in the dead worker's name.
 *
 * Closing the primary's end makes node:cluster see the end ('disconnect'): it removes the worker
 * from its handles, and nothing more is read. Node defers a `disconnect()` while a handle it sent
 * waits for its acknowledgement (`_handleQueue`), which a dead process never writes: that queue
 * is dropped (its handles closed) first, or the close would never happen; so is a half-read
 * message it would wait for.
 */
import type { ChildProcess } from 'node:child_process';

/** Node's own state of a channel that sends handles (lib/internal/child_process.js). */
interface ChannelInternals {
  _handleQueue?: { handle?: { close?: () => void } }[] | null;
}

/** Closes the primary's end of `child`'s channel, if still open. Returns whether it was open. */
export function closeHeldChannel(child: ChildProcess): boolean {
  if (!child.connected) return false;
  const internals = child as unknown as ChannelInternals;
  const queued = internals._handleQueue;
  if (Array.isArray(queued)) {
    internals._handleQueue = null;
    for (const { handle } of queued) {
      try {
        handle?.close?.();
      } catch {
        // closed meanwhile
      }
    }
  }
  // Node also defers the close while a message is half read (`channel.buffering`), until it
  // completes: a half message from a process that is not the worker may never complete.
  const channel = child.channel as { buffering?: unknown } | null | undefined;
  if (channel && channel.buffering === true) channel.buffering = false;
  try {
    child.disconnect();
  } catch {
    // closed meanwhile
  }
  return true;
}
