/**
 * The connections the primary accepted on a round-robin listening socket and no worker has
 * taken yet, and that socket itself: so that a shutdown stops accepting before its workers close
 * their servers, and what was accepted is handed to them instead of reset (H358).
 *
 * With round-robin scheduling (node:cluster's default but on Windows) the primary accepts every
 * connection and queues it in the port's `RoundRobinHandle` until a worker is free: each worker
 * is handed one at a time, the next once it acknowledged the last (`newconn`). Under load most
 * clients wait there: with 20 clients opening a connection per request and 2 workers, 16 to 18
 * of the 20 connections sat in the queue at any moment. When the last worker of the port closes
 * its server (its stop), node:cluster's `remove()` closes every queued connection, then the
 * listening socket; a connection in flight to a worker that closed its server already is refused
 * and dies with the handle too (handoff-guard.ts, H173). Each client had sent its request: it
 * got ECONNRESET, one per client, while every worker stopped cleanly and the report said
 * `requestsCut=0` (retest t36).
 *
 * Here the primary keeps, per listening socket, the node:cluster socket (caught as node:cluster
 * creates it, `captureRoundRobinServer`) and the connections it accepted that no worker
 * acknowledged yet. A shutdown first closes the listening socket (`stopAccepting`: new clients
 * are refused, as they were a moment later before), waits until every accepted connection was
 * handed to a worker and taken (`whenDrained`), and only then asks the workers to stop: they
 * serve those connections as the requests of their drain. What node:cluster still resets when
 * the last worker leaves (a worker that never took its connection, the wait's bound) is counted
 * (`release`) and reported as `connectionsReset`: only the connections whose client is still
 * there (peer-gone.ts, H364); one its client reset or closed (a flood of clients that connect,
 * send and reset at once filled node:cluster's queue with thousands) lost nothing to the shutdown.
 *
 * Connections in the kernel's backlog as the listening socket closes (completed by the kernel,
 * not accepted by the primary yet) are reset by the kernel, unseen by any process: under clients
 * that connect again at once, those since the primary last ran (0 to 12 of 20 clients in six runs
 * on a busy machine; all 20 when the primary went tens of milliseconds without the CPU). They are
 * read from the kernel just before the close (listen-backlog.ts, Linux) and counted in
 * `connectionsReset` too, those whose client is still there only (H370). With `SCHED_NONE` the workers accept themselves: the
 * kernel's backlog as the last of them closes its server is all there is, and nothing counts it.
 */
import net from 'node:net';
import { countKernelBacklog, readKernelBacklog, type KernelBacklogRead } from './listen-backlog.js';
import { isPeerGone } from './peer-gone.js';

/** node:cluster's listening socket (a TCP or pipe server handle): closed to stop accepting. */
interface ListenWrap {
  close(): void;
  getsockname?: (out: Record<string, unknown>) => number;
  onconnection?: unknown;
}

function isListenWrap(value: unknown): value is ListenWrap {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ListenWrap>).close === 'function';
}

export class RoundRobinIntake {
  #wrap: ListenWrap | undefined;
  /** Accepted and queued in node:cluster's handle: not sent to a worker yet, or sent and refused. */
  readonly #queued = new Set<object>();
  /** Sent to a worker, its acknowledgement not read yet. */
  readonly #inFlight = new Set<object>();
  /**
   * Pending connections closed before `release` (node:cluster closes what is queued as the last
   * worker leaves, before the worker's 'exit' or 'disconnect' reaches the channel guard): whether
   * their client was still there as they closed (H364).
   */
  readonly #verdicts = new Map<object, boolean>();
  #isAccepting = true;
  #isReleased = false;
  /** The listening socket's own `close`, for `stopAccepting` (the socket's `close` tells node:cluster's from then on). */
  #closeOwn: (() => void) | undefined;
  /** Set once node:cluster closed the listening socket: its handle is dropped (`whenDropped`). */
  #isDropped = false;
  #droppedWaiters: (() => void)[] = [];
  #waiters: (() => void)[] = [];

  /**
   * Watches `server`, the one node:cluster creates for the handle (before it listens): once it
   * listens, its socket is kept and every connection it accepts is counted as queued. The
   * socket's `onconnection` is node:cluster's, set in its own 'listening' listener, after this
   * one: it is wrapped as it is set.
   */
  attach(server: net.Server): void {
    server.prependOnceListener('listening', () => {
      const wrap = (server as unknown as { _handle?: unknown })._handle;
      if (!isListenWrap(wrap)) return;
      this.#wrap = wrap;
      // node:cluster closes the socket as it drops the handle (`RoundRobinHandle.remove`, its last worker gone).
      const close = wrap.close;
      this.#closeOwn = () => close.call(wrap);
      wrap.close = () => {
        this.#onDropped();
        close.call(wrap);
      };
      let onconnection = wrap.onconnection;
      const accepted = (handle: unknown) => {
        if (typeof handle !== 'object' || handle === null || this.#isReleased) return;
        this.#queued.add(handle);
        this.#watchClose(handle);
      };
      Object.defineProperty(wrap, 'onconnection', {
        configurable: true,
        enumerable: true,
        get: () => onconnection,
        set: (fn: unknown) => {
          onconnection =
            typeof fn === 'function'
              ? function onconnectionCounted(this: unknown, error: unknown, handle?: unknown): unknown {
                  if (!error) accepted(handle);
                  return (fn as (...args: unknown[]) => unknown).call(this, error, handle);
                }
              : fn;
        },
      });
    });
  }

  /** Whether the listening socket was caught, so a shutdown can close it first. */
  get isWatched(): boolean {
    return this.#wrap !== undefined;
  }

  /** False once `stopAccepting` closed the listening socket. */
  get isAccepting(): boolean {
    return this.#isAccepting;
  }

  /** Connections accepted that no worker took yet: queued, or in flight to a worker. */
  get pending(): number {
    return this.#queued.size + this.#inFlight.size;
  }

  /** node:cluster sent `handle` to a worker (`newconn`). */
  sent(handle: object): void {
    if (this.#isReleased) return;
    this.#queued.delete(handle);
    this.#inFlight.add(handle);
  }

  /**
   * The worker's acknowledgement of `handle`, read before node:cluster acts on it: taken, or
   * refused (node:cluster queues it again, and hands it to the next worker free).
   */
  acknowledged(handle: object, isRefused: boolean): void {
    if (this.#isReleased) return;
    this.#inFlight.delete(handle);
    if (isRefused) this.#queued.add(handle);
    this.#checkDrained();
  }

  /**
   * `handle` was in flight to a worker that exited: the primary closes it (handoff-guard.ts) and
   * counts it in what the worker's death cut off, not as reset here. An acknowledgement still
   * read later acts as above.
   */
  orphaned(handle: object): void {
    if (this.#isReleased) return;
    this.#inFlight.delete(handle);
    this.#checkDrained();
  }

  /**
   * Stops accepting: the listening socket closes, the clients that connect from now on are
   * refused. What was accepted is still handed to the workers of the port. node:cluster closes
   * the socket again when the last worker leaves: a second close of a closed handle does nothing.
   * Returns the connections the kernel resets with it: completed, in its backlog, not accepted by
   * the primary yet, their client still there (read just before, counted just after,
   * listen-backlog.ts; 0 where it cannot be read).
   */
  stopAccepting(): number {
    if (!this.#isAccepting || this.#wrap === undefined) return 0;
    this.#isAccepting = false;
    const name: Record<string, unknown> = {};
    let backlog: KernelBacklogRead | undefined;
    try {
      if (this.#wrap.getsockname?.(name) === 0) backlog = readKernelBacklog(name);
    } catch {
      // not a TCP socket: nothing to read
    }
    // Closed right after the read, counted after the close: what completes in between is reset uncounted (H370).
    try {
      this.#closeOwn?.();
    } catch {
      // closed meanwhile
    }
    return countKernelBacklog(backlog) ?? 0;
  }

  /** True once node:cluster closed the listening socket (`whenDropped`). */
  get isDropped(): boolean {
    return this.#isDropped;
  }

  /**
   * Resolves once node:cluster closed the listening socket, which it does as it drops the port's
   * handle: a worker asking to listen from then on gets a new handle and socket (H369).
   */
  whenDropped(): Promise<void> {
    if (this.#isDropped) return Promise.resolve();
    return new Promise((resolve) => this.#droppedWaiters.push(resolve));
  }

  #onDropped(): void {
    if (this.#isDropped) return;
    this.#isDropped = true;
    const waiters = this.#droppedWaiters;
    this.#droppedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves once no accepted connection waits for a worker (at once when none does), or on `release`. */
  whenDrained(): Promise<void> {
    if (this.#isReleased || this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * The last worker of the port left: node:cluster closes what is queued, and what is in flight
   * is refused into the closed handle and closed too. Returns how many connections that resets.
   */
  release(): number {
    if (this.#isReleased) return 0;
    // Only those whose client is still there: one that reset or closed its side lost nothing (H364).
    let reset = 0;
    for (const handle of [...this.#queued, ...this.#inFlight]) if (this.#verdicts.get(handle) ?? !isPeerGone(handle)) reset++;
    this.#isReleased = true;
    this.#queued.clear();
    this.#inFlight.clear();
    this.#verdicts.clear();
    this.#wrap = undefined;
    this.#checkDrained();
    return reset;
  }

  /**
   * Wraps the `close` of an accepted connection's handle: closed while pending, whether its
   * client is still there is read just before (the handle open), for `release` to count. Closed
   * by anything but node:cluster's removal of the port's last worker (then `release` comes in
   * the same tick), it is forgotten the next tick: nothing is kept for a handle that is gone.
   */
  #watchClose(handle: object): void {
    const closable = handle as { close?: unknown };
    const close = closable.close;
    if (typeof close !== 'function') return;
    const closing = (): void => {
      if (this.#isReleased || this.#verdicts.has(handle) || !(this.#queued.has(handle) || this.#inFlight.has(handle))) return;
      this.#verdicts.set(handle, !isPeerGone(handle));
      process.nextTick(() => {
        if (this.#isReleased) return;
        this.#verdicts.delete(handle);
        this.#queued.delete(handle);
        this.#inFlight.delete(handle);
        this.#checkDrained();
      });
    };
    closable.close = function closeWatched(this: unknown, ...args: unknown[]): unknown {
      closing();
      return (close as (...rest: unknown[]) => unknown).apply(this, args);
    };
  }

  #checkDrained(): void {
    if (!this.#isReleased && this.pending > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * Runs `run` (node:cluster's handling of a worker's `queryServer`, which creates the port's
 * round-robin handle synchronously when it is the first worker on it), giving `onServer` the
 * first server created meanwhile: the one node:cluster listens with (`net.createServer()` in
 * lib/internal/cluster/round_robin_handle.js, the same `net` module as ours). A shared handle
 * (`SCHED_NONE`, UDP) creates none. `net.createServer` is put back before this returns.
 *
 * `onOwner` gets the object the server is assigned to as its `server` right after (node:cluster's
 * `RoundRobinHandle`, `this.server = net.createServer(...)` in its constructor): for silent-steer.ts.
 * Caught by a setter on `Object.prototype` (node:cluster's) that lives from that return to the next assignment
 * of a `server` property anywhere (the very next statement in Node 20), and no longer than `run`:
 * that assignment goes on as a plain one would. Not caught (nothing given) when `Object.prototype`
 * has a `server` already, or when the next assignment is of another value.
 */
export function captureRoundRobinServer<T>(run: () => T, onServer: (server: net.Server) => void, onOwner?: (owner: object) => void): T {
  const create = net.createServer;
  let isCaught = false;
  let uncatchOwner: (() => void) | undefined;
  net.createServer = function createServerCaught(this: unknown, ...args: unknown[]): net.Server {
    const server = (create as (...args: unknown[]) => net.Server).apply(this, args);
    if (!isCaught) {
      isCaught = true;
      onServer(server);
      if (onOwner !== undefined) uncatchOwner = catchOwner(server, onOwner);
    }
    return server;
  } as typeof net.createServer;
  try {
    return run();
  } finally {
    net.createServer = create;
    uncatchOwner?.();
  }
}

/** See `captureRoundRobinServer`: returns what removes the setter if it did not run. */
function catchOwner(server: net.Server, onOwner: (owner: object) => void): (() => void) | undefined {
  // node:cluster's realm's `Object.prototype`, the end of the server's prototype chain: under a
  // vm context (Jest) this module's `Object.prototype` is another one.
  let root: object = server;
  for (let proto = Object.getPrototypeOf(root) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) root = proto;
  if (Object.getOwnPropertyDescriptor(root, 'server') !== undefined) return undefined;
  let isSet = true;
  const unset = (): void => {
    if (!isSet) return;
    isSet = false;
    delete (root as { server?: unknown }).server;
  };
  try {
    Object.defineProperty(root, 'server', {
      configurable: true,
      enumerable: false,
      get: () => undefined,
      set(this: object, value: unknown) {
        unset();
        // What the plain assignment does: an own, writable, enumerable property.
        Object.defineProperty(this, 'server', { value, writable: true, enumerable: true, configurable: true });
        if (value === server) onOwner(this);
      },
    });
  } catch {
    return undefined;
  }
  return unset;
}
