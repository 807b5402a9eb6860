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
 * Each handoff the primary sends the child is noted by its sequence number (`noteSent`, called
 * from the channel guard's one wrapper of the child's `send`), its internal messages tell the
 * acknowledged ones, and the end of its channel closes the rest: the client
 * sees its connection close, as when the worker that held it dies; when the channel did not end
 * (a process the worker started holds it, with the connection's descriptor in flight in it), the
 * connection itself is shut down (end-connection.ts, H456). Not at the exit itself: an
 * acknowledgement the worker wrote just before dying may still be unread then, and node:cluster
 * acts on it when it is read (it closes the copy, or hands it to another worker).
 *
 * A worker that refuses a connection (its server closed as the connection came: its stop, or
 * the end of a shutdown) has it handed back to its round-robin handle, which gives it to another
 * worker or queues it for the next one free. When that worker was the handle's last, node:cluster
 * has closed the handle already and the connection waits in its queue for good: the same
 * descriptor and client left, once per connection in flight as the last worker closed its
 * server. The key's holders (cluster-listens.ts) tell whether the handle the connection came
 * from still serves: if not, the copy is closed.
 */
import type { ChildProcess } from 'node:child_process';
import type { ClusterListens } from './cluster-listens.js';
import { closeQuietly, endConnection } from './end-connection.js';
import type { RoundRobinIntake } from './round-robin-intake.js';

interface Closable {
  close(): void;
}

/** A connection handed to the worker: its copy here, and the round-robin handle it came from. */
interface Handoff {
  readonly handle: Closable;
  readonly key: string;
  /** The key's holders when it was handed over (`ClusterListens.generation`). */
  readonly generation: number | undefined;
  /** The connections accepted on the key's round-robin socket, this one among them (round-robin-intake.ts). */
  readonly intake: RoundRobinIntake | undefined;
}

function isHandoff(message: unknown, handle: unknown): message is { seq: number; key: string } {
  if (typeof message !== 'object' || message === null || typeof handle !== 'object' || handle === null) return false;
  const { cmd, act, seq, key } = message as Record<string, unknown>;
  return cmd === 'NODE_CLUSTER' && act === 'newconn' && typeof seq === 'number' && typeof key === 'string' && typeof (handle as Partial<Closable>).close === 'function';
}

/** A node:cluster acknowledgement: the sequence number it answers, and whether the worker took the connection; or undefined. */
function acknowledgement(message: unknown): { seq: number; isRefused: boolean } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { cmd, ack, accepted } = message as Record<string, unknown>;
  return cmd === 'NODE_CLUSTER' && typeof ack === 'number' ? { seq: ack, isRefused: accepted === false } : undefined;
}

/**
 * Refusals one connection may get before it is closed. A worker at its server's
 * `maxConnections` refuses what it is handed, and node:cluster hands the connection straight
 * back to a worker of the port, the same one when it is the only one: the primary and that
 * worker passed it back and forth at full speed for as long as the client waited (half a core
 * each), any client could start it by opening more connections than the limit, and the client
 * got nothing (tester t22). Closed once every worker has had a few chances, as a plain Node
 * server closes a connection over its `maxConnections`.
 */
export const kMaxRefusals = 16;

/** How often each connection was refused so far (the primary's copy: node:cluster hands the same one round). */
const refusals = new WeakMap<object, number>();

/** After an exit, how long the channel's end may take to come (a grandchild holding its descriptor delays it). */
const kChannelEndGraceMs = 1_000;

/** What `guardHandoffs` gives back for the channel guard and the worker's record. */
export interface HandoffGuard {
  /**
   * How many connections it handed over and never acknowledged (so far): clients whose
   * connection a dying worker takes with it, counted in what its death cut off.
   */
  readonly unacknowledged: () => number;
  /**
   * To be shown each internal message of the child before node:cluster's listener sees it
   * (`guardInternalMessages`, channel-guard.ts, calls it from the `emit` it wraps already: one
   * wrapper, not two, on every event of the child, its messages included). Past kMaxRefusals a
   * refusal is rewritten to read as an acceptance, on which node:cluster closes its copy (the
   * worker closed its own as it refused), and the client sees its connection end. Each
   * acknowledgement is told to the connection's intake (taken, or queued again) before
   * node:cluster hands the next connection out.
   */
  readonly beforeNode: (message: unknown) => void;
  /**
   * To be shown each message sent to the child, with its handle (`guardInternalMessages` calls
   * it from the `send` it wraps already: one wrapper, not two, on every message to the worker).
   */
  readonly noteSent: (message: unknown, handle: unknown) => void;
  /** See `MessageInspector.onConnectionsReset` (channel-guard.ts). */
  readonly onConnectionsReset?: (count: number) => void;
  /**
   * The child's process exited and its channel is about to be closed by the primary (another
   * process held it open): the connections handed to it and never acknowledged are ended
   * (end-connection.ts), counted as its exit cut them off.
   */
  readonly endUnacknowledged: () => void;
}

/**
 * Tracks the connections handed to `child` until acknowledged; closes those left when its
 * channel ends, and those it refused that no worker can take any more (`listens`: the keys the
 * workers hold). Works once the guard is given to the child's `guardInternalMessages`, which
 * shows it what goes both ways.
 */
export function guardHandoffs(
  child: ChildProcess,
  listens: ClusterListens,
  onRefusedTooOften: (key: string) => void = () => {},
  onConnectionsReset?: (count: number) => void,
): HandoffGuard {
  const inFlight = new Map<number, Handoff>();
  let closedUnacknowledged = 0;
  const beforeNode = (message: unknown): void => {
    const ack = acknowledgement(message);
    const handoff = ack ? inFlight.get(ack.seq) : undefined;
    if (!ack || !handoff) return;
    if (ack.isRefused) {
      const count = (refusals.get(handoff.handle) ?? 0) + 1;
      refusals.set(handoff.handle, count);
      if (count >= kMaxRefusals) {
        (message as { accepted: boolean }).accepted = true;
        onRefusedTooOften(handoff.key);
      }
    }
    handoff.intake?.acknowledged(handoff.handle, (message as { accepted?: unknown }).accepted === false);
  };
  const noteSent = (message: unknown, handle: unknown): void => {
    if (!isHandoff(message, handle)) return;
    const intake = listens.intake(message.key);
    intake?.sent(handle as object);
    inFlight.set(message.seq, { handle: handle as Closable, key: message.key, generation: listens.generation(message.key), intake });
  };
  child.on('internalMessage', (message: unknown) => {
    const ack = acknowledgement(message);
    const handoff = ack && inFlight.get(ack.seq);
    if (!ack || !handoff) return;
    inFlight.delete(ack.seq);
    // Once node:cluster's own listener (fork() registers it before this one; the next tick
    // makes sure) has handed the refused connection back to the handle it came from.
    if (ack.isRefused) process.nextTick(() => listens.generation(handoff.key) !== handoff.generation && closeQuietly(handoff.handle));
  });
  // `isEnded`: the child's process exited and its channel is still open (another process holds
  // it, with the connection's descriptor in flight in it): the connection itself is shut down,
  // or its client waits until that process ends (H456). Not for a channel that ended: a live
  // worker that disconnected may own the connection, and a dead one's copies are gone with it.
  const closeUnacknowledged = (isEnded = false): void => {
    closedUnacknowledged += inFlight.size;
    for (const { handle, intake } of inFlight.values()) {
      if (isEnded) endConnection(handle);
      else closeQuietly(handle);
      intake?.orphaned(handle as object);
    }
    inFlight.clear();
  };
  // Counted in what the worker's death cut off (`unacknowledged`), not as reset by the primary
  // when the worker was the last of its port (its exit may come before its channel's end).
  // Registered before the channel guard's own listeners, which release its ports.
  const orphan = (): void => {
    for (const { handle, intake } of inFlight.values()) intake?.orphaned(handle as object);
  };
  child.once('disconnect', () => closeUnacknowledged());
  child.once('exit', () => {
    orphan();
    setTimeout(() => closeUnacknowledged(child.connected), kChannelEndGraceMs).unref();
  });
  return { unacknowledged: () => closedUnacknowledged + inFlight.size, beforeNode, noteSent, onConnectionsReset, endUnacknowledged: () => closeUnacknowledged(true) };
}
