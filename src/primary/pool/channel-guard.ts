/**
 * Guards the primary against what a worker writes on its IPC channel below `process.send()`.
 *
 * Node parses a child's IPC bytes inside the channel's read callback, with no way for user code
 * to see them first: bytes that are not a message (a child process of the worker that inherited
 * the channel's file descriptor, a native module writing to the wrong descriptor) make
 * `JSON.parse` throw there, an uncaught exception that ends the primary and every worker with
 * it; and a message that never ends (no newline, or an `advanced` length header of gigabytes) is
 * buffered until the primary runs out of memory (V8 throws "Invalid string length" at 512 MiB,
 * again uncaught). One worker could take the whole cluster down.
 *
 * The guard wraps the channel's read callback: an exception from Node's parser, or a message
 * still arriving past `maxBytes`, marks the channel corrupt. From then on its bytes are dropped
 * unread, the buffered part is freed, and `onCorrupt` is told once (the pool kills the worker:
 * a byte stream that lost its framing cannot be trusted again, and the restart policy starts a
 * fresh one). Messages parsed before the bad bytes were delivered as usual.
 *
 * `guardInternalMessages` covers the layer above: a well-formed message of node:cluster's own
 * protocol that Node's handler in the primary throws on (see there).
 *
 * A read that kept the primary busy `kBusyReadMs` or more is told to `onSlowRead`; the pool adds
 * them up per worker and reports one that kept the primary busy `kSlowReadMs` (`workerSlowMessage`).
 *
 * The callback and buffers are Node internals (`kChannelHandle`, `onread`, `kJSONBuffer`,
 * `kMessageBufferSize`, found by their symbols' descriptions): when a Node version lacks them,
 * `guardChannel` returns false and the channel runs unguarded, as before. The test suite checks
 * that the guard is in place on the Node versions the package supports.
 */
import type { ChildProcess } from 'node:child_process';
import { isAnyArrayBuffer } from 'node:util/types';
import type { BulkFaultSide } from '../../messaging/bulk-reader.js';
import type { ClusterListens } from './cluster-listens.js';
import { dropHandleAckWait } from './handle-ack-wait.js';

/** Why a worker's channel was marked corrupt. */
export type ChannelFault =
  /** Node's parser threw on the bytes read: they are not an IPC message. */
  | { readonly kind: 'not-a-message'; readonly cause: unknown }
  /** What came on the worker's bulk pipe or its frames (messaging/bulk-reader.ts) broke the pipe's protocol: `reason` says how, `side` where its cause shows. */
  | { readonly kind: 'bulk-corrupt'; readonly reason: string; readonly side: BulkFaultSide }
  /**
   * One message had buffered more than the limit and was still arriving (`bytes`), or announced
   * a length over the limit (`announcedBytes`: the length header of `advanced` serialization).
   */
  | { readonly kind: 'too-large'; readonly bytes: number; readonly announcedBytes?: number }
  /**
   * A message of Node's own protocol (`cmd: 'NODE_CLUSTER'`...) that Node's handler in the primary
   * threw on: a worker's `process.send({ cmd: 'NODE_CLUSTER', act: 'queryServer', port: 1e8 })`.
   */
  | { readonly kind: 'bad-node-message'; readonly cause: unknown; readonly command: string }
  /**
   * More listening addresses asked of the primary at once (node:cluster's `queryServer`, one
   * per `listen()` in the worker) than `maxServers`: each is a socket, a file descriptor, in the
   * primary. `isClusterWide`: the worker's request would take the addresses held for all the
   * workers together past the cluster-wide bound (`servers` and `maxServers` are then the cluster's).
   */
  | { readonly kind: 'too-many-servers'; readonly servers: number; readonly maxServers: number; readonly isClusterWide?: boolean };

/**
 * Reading a worker's channel that kept the primary busy this long (ms) is reported, in one read
 * or in reads of `kBusyReadMs` or more each within `kSlowReadWindowMs`: Node parses a message in
 * one go, and a message under `maxMessageBytes` can still take seconds to parse when it is made
 * of many small values (16 MiB of `[{},{},...]`: about 10 s on a busy machine), and messages
 * that each take just under a second add up. Nothing else runs in the primary meanwhile: no
 * heartbeat, request or control command.
 */
export const kSlowReadMs = 1_000;
/**
 * A read this long (ms) is costly, counted toward `kSlowReadMs`: far above what reading many
 * ordinary messages takes (a 64 KiB read of small ones: under 1 ms; a 1 MiB string: 3 ms), so
 * heavy legitimate traffic is never reported as slow.
 */
export const kBusyReadMs = 10;
/** The time within which costly reads add up, in ms. */
export const kSlowReadWindowMs = 10_000;

/** Listening addresses one worker may have the primary hold open at once (`queryServer` minus `close`). */
export const kMaxServersPerWorker = 256;

interface ChannelHandle {
  onread: (...args: unknown[]) => unknown;
  [key: symbol]: unknown;
}

function symbolNamed(target: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(target).find((symbol) => symbol.description === description);
}

/** The length an `advanced` message buffered on `handle` announces in its header (bytes, header included), or 0. */
function announcedReader(handle: ChannelHandle): () => number {
  const buffer = symbolNamed(handle, 'kMessageBuffer');
  return () => {
    const head: unknown = buffer ? (handle[buffer] as unknown[] | undefined)?.[0] : undefined;
    // Node reads the 4-byte big-endian length the same way (child_process/serialization.js).
    return head instanceof Uint8Array && head.length >= 4 ? ((head[0]! << 24) >>> 0) + (head[1]! << 16) + (head[2]! << 8) + head[3]! + 4 : 0;
  };
}

/** The size of the message being buffered on `handle` (UTF-16 units for JSON, bytes for `advanced`), or undefined. */
function pendingReader(handle: ChannelHandle): (() => number) | undefined {
  const json = symbolNamed(handle, 'kJSONBuffer');
  if (json) {
    return () => {
      const buffered = handle[json];
      if (typeof buffered === 'string') return buffered.length;
      if (Array.isArray(buffered)) return buffered.reduce((sum: number, part: unknown) => sum + (typeof part === 'string' || Buffer.isBuffer(part) ? part.length : 0), 0);
      return 0;
    };
  }
  const advanced = symbolNamed(handle, 'kMessageBufferSize');
  if (advanced) return () => (typeof handle[advanced] === 'number' ? handle[advanced] : 0);
  return undefined;
}

/** Drops what the channel buffered of an unfinished message (its memory is freed). */
function freeBuffered(handle: ChannelHandle): void {
  const json = symbolNamed(handle, 'kJSONBuffer');
  if (json && typeof handle[json] === 'string') handle[json] = '';
  else if (json && Array.isArray(handle[json])) handle[json] = [];
  const buffer = symbolNamed(handle, 'kMessageBuffer');
  const size = symbolNamed(handle, 'kMessageBufferSize');
  if (buffer && Array.isArray(handle[buffer])) handle[buffer] = [];
  if (size && typeof handle[size] === 'number') handle[size] = 0;
}

/** `cmd` and `act` of a Node internal message, for the report: `NODE_CLUSTER queryServer`. */
function describeCommand(message: unknown): string {
  try {
    const { cmd, act } = message as { cmd?: unknown; act?: unknown };
    return [cmd, act].filter((part) => typeof part === 'string').join(' ');
  } catch {
    return '';
  }
}

/**
 * A node:cluster `queryServer` (a worker's `listen()`) or `close` of a server: its handle key,
 * built as node:cluster builds it (lib/internal/cluster/primary.js); undefined for anything else.
 */
export function serverRequest(message: unknown): { act: 'queryServer' | 'close'; key: string } | undefined {
  try {
    const { cmd, act, key, address, port, addressType, fd, index } = message as Record<string, unknown>;
    if (cmd !== 'NODE_CLUSTER') return undefined;
    if (act === 'close') return { act, key: String(key) };
    if (act === 'queryServer') return { act, key: `${String(address)}:${String(port)}:${String(addressType)}:${String(fd)}:${String(index)}` };
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * A node:cluster `listening` (the worker's listen succeeded): what it says of the address, which
 * node:cluster copies from the worker's `queryServer` for it (lib/internal/cluster/child.js:
 * the same message object, `act` and `port` changed); undefined for anything else.
 */
function listeningMessage(message: unknown): { address: string; port: string; addressType: string; fd: string; index: string } | undefined {
  try {
    const { cmd, act, address, port, addressType, fd, index } = message as Record<string, unknown>;
    if (cmd !== 'NODE_CLUSTER' || act !== 'listening') return undefined;
    return { address: String(address), port: String(port), addressType: String(addressType), fd: String(fd), index: String(index) };
  } catch {
    return undefined;
  }
}

/**
 * Whether `key` (a `queryServer`'s handle key: `address:port:addressType:fd:index`) is the
 * address `listening` says the worker listens on. The port may differ where the worker asked
 * for any port (0: the listen says the one it got); the rest is the query's, unchanged.
 */
function isListenOf(key: string, listening: NonNullable<ReturnType<typeof listeningMessage>>): boolean {
  const { address, port, addressType, fd, index } = listening;
  const tail = `:${addressType}:${fd}:${index}`;
  if (!key.endsWith(tail)) return false;
  const head = key.slice(0, -tail.length);
  return head === `${address}:${port}` || head === `${address}:0`;
}

/** The handle key of node:cluster's answer to a listen request that failed, or undefined. */
function failedListenKey(message: unknown): string | undefined {
  // Every write to the worker passes here (clusterkit's frames above all): one property read for those.
  if (typeof message !== 'object' || message === null || (message as { cmd?: unknown }).cmd !== 'NODE_CLUSTER') return undefined;
  const { ack, errno, key } = message as Record<string, unknown>;
  return ack !== undefined && errno !== undefined && errno !== null && errno !== 0 && typeof key === 'string' ? key : undefined;
}

/** What else sees the child's internal messages and the messages sent to it (handoff-guard.ts's `HandoffGuard`). */
export interface MessageInspector {
  /** Each internal message of the child, before Node's handlers. */
  readonly beforeNode: (message: unknown) => void;
  /** Each message sent to the child, with its handle. */
  readonly noteSent: (message: unknown, handle: unknown) => void;
  /**
   * Connections the primary had accepted on a listening socket and no worker took, reset as the
   * child, their socket's last holder, left it (`ClusterListens.release`, H358).
   */
  readonly onConnectionsReset?: (count: number) => void;
}

/**
 * Catches what Node's own handlers of `child`'s internal messages throw (cluster's `NODE_CLUSTER`
 * protocol: `queryServer` with a port out of range makes `listen()` throw in the primary, an
 * uncaught exception). Node emits them as `internalMessage` from a `process.nextTick`, so the
 * exception would reach nothing of ours: the child's own `emit` is wrapped for that one event.
 *
 * It also counts the listening addresses the child holds in the primary: more than `maxServers`
 * of its own, or one that would take `cluster` (the addresses of all the workers together, each
 * distinct key once) past its bound, marks it corrupt (`too-many-servers`). The child's addresses
 * leave `cluster` when it closes them, when a listen fails, and when it disconnects or exits
 * (node:cluster drops its handles then).
 *
 * `inspect` is shown each internal message first, before Node's handlers, and each message sent
 * to the child with its handle (the refusal cap and the handoff tracking of handoff-guard.ts):
 * every event of the child goes through this one `emit` wrapper, its messages included, and
 * every message to it through this one `send` wrapper, so whatever else needs to see them hooks
 * in here rather than wrapping `emit` or `send` again (each wrapper costs every call).
 *
 * A node:cluster `listening` for an address the child does not hold (no `queryServer` for it
 * came first, H383) is dropped before Node's handler, which would emit the worker's
 * 'listening': `onForgedListen` is told. Every real listen asks the primary first, round-robin
 * or not (SharedHandle); a listen with `exclusive: true` asks nothing, and sends no `listening`.
 *
 * Returns the listening addresses (handle keys) the child holds now, kept up to date.
 */
export function guardInternalMessages(
  child: ChildProcess,
  onCorrupt: (fault: ChannelFault) => void,
  maxServers = kMaxServersPerWorker,
  cluster?: ClusterListens,
  inspect?: MessageInspector,
  onForgedListen?: () => void,
): ReadonlySet<string> {
  const emit = child.emit as (this: ChildProcess, event: string | symbol, ...args: unknown[]) => boolean;
  let isCorrupt = false;
  /** The listening addresses (node:cluster's handle keys) this child asked for and has not closed. */
  const servers = new Set<string>();
  const release = (key: string): void => {
    if (!servers.delete(key)) return;
    const reset = cluster?.release(key) ?? 0;
    if (reset > 0) inspect?.onConnectionsReset?.(reset);
  };
  const releaseAll = (): void => {
    for (const key of [...servers]) release(key);
  };
  child.once('disconnect', releaseAll);
  child.once('exit', releaseAll);
  // A listen that failed (EADDRINUSE...) holds nothing: node:cluster drops the handle and answers
  // with the errno and the key. Seen on the way out, in the child's `send`.
  const send = child.send as (this: ChildProcess, message: unknown, handle?: unknown, ...rest: unknown[]) => boolean;
  child.send = function guardedSend(this: ChildProcess, message: unknown, handle?: unknown, ...rest: unknown[]): boolean {
    inspect?.noteSent(message, handle);
    const failed = failedListenKey(message);
    if (failed !== undefined) release(failed);
    return send.call(this, message, handle, ...rest);
  } as ChildProcess['send'];
  child.emit = function guardedEmit(this: ChildProcess, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'internalMessage') return emit.call(this, event, ...args);
    inspect?.beforeNode(args[0]);
    if (isCorrupt) return false; // the worker is being killed: nothing more of its protocol is acted on
    const server = serverRequest(args[0]);
    // A shutdown of another primary of the process closed this port's listening socket, its
    // workers still on it: node:cluster would add this one to that closed socket's handle (H369).
    // Handled once they left it, by a new socket (the worker gone meanwhile: dropped).
    const closed = cluster && server?.act === 'queryServer' && !servers.has(server.key) ? cluster.whenClosedGone(server.key) : undefined;
    if (closed) {
      const message = args[0];
      void closed.then(() => setImmediate(() => child.connected && !isCorrupt && child.emit('internalMessage', message)));
      return true;
    }
    // A listen is real only once the worker asked the primary for its address (H383): a
    // `listening` for no address it holds was written by the worker's code, never by its
    // listen(), and would count a listen that never happened as its readiness.
    const listening = server === undefined ? listeningMessage(args[0]) : undefined;
    if (listening !== undefined && ![...servers].some((key) => isListenOf(key, listening))) {
      onForgedListen?.();
      return false;
    }
    if (server?.act === 'close') release(server.key);
    else if (server && !servers.has(server.key)) {
      if (servers.size >= maxServers) {
        isCorrupt = true;
        onCorrupt({ kind: 'too-many-servers', servers: servers.size + 1, maxServers });
        return false;
      }
      if (cluster && !cluster.mayHold(server.key)) {
        isCorrupt = true;
        onCorrupt({ kind: 'too-many-servers', servers: cluster.size + 1, maxServers: cluster.max, isClusterWide: true });
        return false;
      }
      servers.add(server.key);
      cluster?.hold(server.key);
    }
    try {
      // node:cluster creates the port's round-robin handle as the first worker asks to listen:
      // its listening socket is caught then (round-robin-intake.ts).
      if (cluster && server?.act === 'queryServer') return cluster.whileListening(server.key, () => emit.call(this, event, ...args));
      return emit.call(this, event, ...args);
    } catch (error) {
      isCorrupt = true;
      onCorrupt({ kind: 'bad-node-message', cause: error, command: describeCommand(args[0]) });
      return false;
    }
  } as ChildProcess['emit'];
  return servers;
}

/**
 * Wraps the read callback of `child`'s IPC channel (see the file comment). `maxBytes` bounds one
 * message still arriving; a read taking `busyReadMs` or more is told to `onSlowRead`. Returns
 * false when this Node version's channel cannot be guarded.
 */
export function guardChannel(
  child: ChildProcess,
  maxBytes: number,
  onCorrupt: (fault: ChannelFault) => void,
  onSlowRead?: (readMs: number, bytes: number) => void,
  busyReadMs = kBusyReadMs,
  onRead?: (bytes: number) => void,
): boolean {
  const key = symbolNamed(child, 'kChannelHandle');
  const handle = key ? (child as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof handle !== 'object' || handle === null || typeof (handle as ChannelHandle).onread !== 'function') return false;
  const channel = handle as ChannelHandle;
  const pending = pendingReader(channel);
  const announced = announcedReader(channel);
  const read = channel.onread;
  let isCorrupt = false;
  const corrupt = (fault: ChannelFault): void => {
    isCorrupt = true;
    freeBuffered(channel);
    onCorrupt(fault);
  };
  channel.onread = function guardedRead(this: unknown, ...args: unknown[]): unknown {
    // The end of the stream (no buffer): no acknowledgement can come after it, so a handle the
    // worker never acknowledged does not hold its 'disconnect' back for good (handle-ack-wait.ts).
    if (args[0] === undefined) dropHandleAckWait(child);
    // Framing is lost: what follows cannot be parsed either. The end of the stream still goes
    // through, so Node closes the channel and the worker's 'disconnect' comes.
    if (isCorrupt && args[0] !== undefined) return undefined;
    let result: unknown;
    // Two clock reads per read (not per message): the cost of knowing who blocked the primary.
    const startedAt = onSlowRead ? performance.now() : 0;
    const bufferedBefore = onSlowRead ? (pending?.() ?? 0) : 0;
    if (onRead && isAnyArrayBuffer(args[0])) onRead(args[0].byteLength);
    try {
      result = read.apply(this, args);
      if (onSlowRead) {
        const readMs = performance.now() - startedAt;
        if (readMs >= busyReadMs) onSlowRead(readMs, bufferedBefore + (isAnyArrayBuffer(args[0]) ? args[0].byteLength : 0));
      }
    } catch (error) {
      // Also an `advanced` header of 2 GiB or more: Node reads it as a negative length.
      corrupt({ kind: 'not-a-message', cause: error });
      return undefined;
    }
    const bytes = pending?.() ?? 0;
    const announcedBytes = bytes > 0 ? announced() : 0;
    if (bytes > maxBytes) corrupt({ kind: 'too-large', bytes });
    else if (announcedBytes > maxBytes) corrupt({ kind: 'too-large', bytes, announcedBytes });
    return result;
  };
  return true;
}
