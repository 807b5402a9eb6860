/**
 * Sticky sessions: `primary.listenSticky({ port })` accepts TCP connections in the primary and
 * hands each socket to the worker chosen for the client's address, so one client's
 * connections (WebSocket, SSE, in-memory sessions) always reach the same worker.
 *
 * Only workers that serve sticky connections take part: ready, and having called
 * `serveSticky()` (their `$sticky` notice, sticky-notices.ts), and with the listener's `role`
 * when it has one. A named worker or another role's worker that feeds no sticky server is never
 * chosen: a connection handed to it would be reset.
 *
 * A client stays with its worker as long as that worker serves (an assignment table); a new
 * client, or one whose worker is gone or silent (`stats().isSilent`), gets the worker chosen by
 * rendezvous hashing of its address over the slots of the serving workers that are not silent
 * (of all serving workers when every one is silent). Only the address is known at this layer (L4): behind
 * a proxy every client has the proxy's address, see docs/sticky-sessions.md. With no serving
 * worker a connection is closed at once (as with no ready worker), and reported (`stickyRefused`).
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import { ShutdownInProgressError } from '../../errors.js';
import { integerOption, knownOptions, portOption, stringOption, workerNameOption } from '../../validate.js';
import type { PrimaryContext } from '../primary-context.js';
import { clientKey, RendezvousHash } from './rendezvous.js';
import { listenServer } from './listen-server.js';
import { countLatest, RateLimitedWarning, type Counted } from '../pool/rate-limited-warning.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import { halfOpenFiles } from '../pool/cluster-listens.js';
import type { StickyRefusedReason } from '../primary-events.js';
import { extraArgumentError } from '../../extra-arguments.js';

/** What sticky sessions take from the primary's context. */
type StickyContext = Pick<PrimaryContext, 'pool' | 'reportError' | 'lifecycle' | 'emit'>;

/** The IPC message that carries a sticky connection's socket as its handle. */
export const kStickyHandleMessage = { __ck: 1, h: 'sticky' } as const;

/** `maxQueued`'s default: sockets waiting in the primary for one worker's channel. */
const kDefaultMaxQueued = 4096;

/** Clients remembered at once; the least recently connected are forgotten first. */
const kMaxAssignments = 100_000;

export interface StickyOptions {
  /** Port to listen on (0 for any free port). */
  port: number;
  /** Address to listen on. @default all interfaces */
  host?: string;
  /** Pending-connection queue length. @default 511 */
  backlog?: number;
  /**
   * Only workers forked with this role (`fork({ roles: [role] })`) get the connections, among
   * those that serve sticky (called `serveSticky()`). Give each role its own listener.
   * @default every worker that serves sticky
   */
  role?: string;
  /**
   * Connections at most waiting in the primary for one worker (accepted, chosen for it, not yet
   * written to its IPC channel, which carries one socket at a time, each acknowledged by the
   * worker). Past it a new connection for that worker is closed at once and reported
   * (`stickyRefused`, reason `queue-full`): a flood of connections, or a worker too slow to take
   * them, costs the primary at most this many descriptors per worker. Whatever it says, those
   * waiting for all workers together are at most half the process's open-file limit (H619).
   * Each client's retry reaches its worker once the queue drains.
   * @default 4096
   */
  maxQueued?: number;
}

export interface StickyListener {
  /** Where it listens. */
  readonly address: AddressInfo;
  /** Stops accepting connections (connections already handed over continue). */
  close(): Promise<void>;
}

/** `primary.listenSticky()`: listens, and closes when shutdown begins. */
export async function listenSticky(context: StickyContext, input: StickyOptions): Promise<StickyListener> {
  const { lifecycle } = context;
  if (lifecycle.state === 'stopping' || lifecycle.state === 'stopped') throw new ShutdownInProgressError('The primary is shutting down; listenSticky() is refused.');
  const options = normalizeStickyOptions(input);
  const balancer = new StickyBalancer(context, options.role, options.maxQueued);
  const server = net.createServer({ pauseOnConnect: true }, (socket) => balancer.dispatch(socket));
  await listenServer(server, 'listenSticky', options.port, options.host, options.backlog);
  // Only now: a listen failure is the caller's rejection, not also an `error` event (H246).
  server.on('error', (error) => context.reportError(error));
  let closing: Promise<void> | undefined;
  const listener: StickyListener = {
    address: server.address() as AddressInfo,
    close: (...extra: unknown[]) => {
      const refused = extraArgumentError('close()', extra, []);
      return refused !== undefined ? Promise.reject(refused) : (closing ??= new Promise<void>((resolve) => {
        // Not server.close()'s callback (H245): with sockets handed to workers, Node waits on
        // those workers' socket lists, and once every such worker has exited (a reload, a crash)
        // it never calls back. The listening handle is closed by the call itself, which is all
        // this close promises; the connections are the workers' to drain.
        if (server.listening) server.close();
        // No connection is dispatched once it is closed: the refusals held are told now, not lost with the primary.
        balancer.flushWarnings();
        resolve();
      }));
    },
  };
  lifecycle.onShutdown('start', `listenSticky({ port: ${listener.address.port} }).close`, () => listener.close());
  return listener;
}

class StickyBalancer {
  readonly #context: Pick<StickyContext, 'pool' | 'emit'>;
  readonly #role: string | undefined;
  readonly #maxQueued: number;
  readonly #hash = new RendezvousHash();
  /** Which worker each client address was last handed to; its insertion order is recency. */
  readonly #assignments = new Map<string, WorkerRecord>();
  /**
   * The connections handed to each worker's channel and not written to it yet (H488). Node sends
   * one handle at a time and queues the next ones until the worker acknowledges the last; a
   * worker that dies (a crash, a kill -9, a blocked worker killed) leaves that queue unsent, its
   * sockets open in the primary and their clients waiting for good. At its channel's end they
   * are handed to another worker, as a new connection of theirs would be.
   */
  readonly #unsent = new Map<WorkerRecord, Set<Socket>>();
  /**
   * The connections waiting in `#unsent` for all workers together may hold at most half the
   * process's open-file limit (H619, hostile tester t62): past it libuv closes what it accepts
   * with no word (its EMFILE fallback), and the primary cannot open anything else either.
   */
  readonly #maxQueuedInAll = halfOpenFiles() ?? Number.POSITIVE_INFINITY;
  #queuedInAll = 0;
  /**
   * Rate-limited `stickyRefused`, one window per reason: the reason is read at each refusal, not
   * when the trailing event is told (a worker that became ready since turned refusals made while
   * none was ready into `no-sticky-worker`, retest t52), and the first refusal of one reason is
   * told at once, not held behind the other's window (retest t53).
   */
  readonly #refusedWarnings: Record<RefusedReason, RateLimitedWarning<number>> = {
    'no-ready-worker': this.#refusedWarning('no-ready-worker'),
    'no-sticky-worker': this.#refusedWarning('no-sticky-worker'),
  };

  /** Connections refused as their worker's queue was full (H617), told per worker as `worker-refused` is. */
  readonly #queueFullWarnings = new Map<WorkerRecord, RateLimitedWarning<Counted<QueueLimit>>>();

  constructor(context: Pick<StickyContext, 'pool' | 'emit'>, role: string | undefined, maxQueued: number) {
    this.#context = context;
    this.#role = role;
    this.#maxQueued = maxQueued;
  }

  flushWarnings(): void {
    this.#refusedWarnings['no-ready-worker'].flush();
    this.#refusedWarnings['no-sticky-worker'].flush();
    for (const warning of this.#queueFullWarnings.values()) warning.flush();
    for (const record of this.#context.pool.records) record.stickyNotReceivedWarning?.flush();
  }

  /**
   * A sticky connection written to `worker`'s channel that its process could not take (H620):
   * Node closed it after its retries. Counted reset before any worker took it, and told per worker.
   */
  #reportNotReceived(worker: WorkerRecord): void {
    this.#context.pool.countConnectionsReset(1);
    worker.stickyNotReceivedWarning ??= new RateLimitedWarning<number>(
      (held, next) => (held ?? 0) + next,
      (count) => this.#context.emit('stickyRefused', { reason: 'not-received', worker: worker.handle, count }),
    );
    worker.stickyNotReceivedWarning.note(1);
  }

  /**
   * Closes `socket`, chosen for `worker` whose queue is full, and tells it (rate-limited per
   * worker) with the limit reached: `maxQueued` for the worker, or half the open-file limit for
   * all (hostile tester t63: the line named both, and advised raising `maxQueued` when the other was hit).
   */
  #refuseQueueFull(socket: Socket, worker: WorkerRecord, limit: QueueLimit): void {
    socket.destroy();
    this.#context.pool.countConnectionsReset(1);
    let warning = this.#queueFullWarnings.get(worker);
    if (warning === undefined) {
      const role = this.#role;
      warning = new RateLimitedWarning<Counted<QueueLimit>>(countLatest, ({ count, latest }) =>
        this.#context.emit('stickyRefused', { reason: 'queue-full', worker: worker.handle, ...(role === undefined ? {} : { role }), count, limit: latest.limit, limitValue: latest.limitValue }),
      );
      this.#queueFullWarnings.set(worker, warning);
    }
    warning.note({ count: 1, latest: limit });
  }

  #refusedWarning(reason: RefusedReason): RateLimitedWarning<number> {
    return new RateLimitedWarning<number>(
      (held, next) => (held ?? 0) + next,
      (count) => this.#context.emit('stickyRefused', this.#role === undefined ? { reason, count } : { reason, role: this.#role, count }),
    );
  }

  dispatch(socket: Socket): void {
    const key = clientKey(socket.remoteAddress);
    const worker = this.#choose(key);
    if (!worker) {
      socket.destroy(); // no serving worker: refusing is better than holding the client forever
      // Reset before any worker took it: counted where the shutdown's report and
      // `clusterkit_connections_reset_total{reason="unaccepted"}` read (retest t57 R1, H552).
      this.#context.pool.countConnectionsReset(1);
      this.#reportRefused();
      return;
    }
    const unsent = this.#unsentOf(worker);
    if (unsent.size >= this.#maxQueued) return this.#refuseQueueFull(socket, worker, { limit: 'maxQueued', limitValue: this.#maxQueued });
    if (this.#queuedInAll >= this.#maxQueuedInAll) return this.#refuseQueueFull(socket, worker, { limit: 'openFiles', limitValue: this.#maxQueuedInAll });
    unsent.add(socket);
    this.#queuedInAll++;
    worker.stickyHanded++;
    worker.clusterWorker.send(kStickyHandleMessage, socket, { keepOpen: false }, (error) => {
      // Taken back at its worker's end (below): handed on already.
      if (!unsent.delete(socket)) return;
      this.#queuedInAll--;
      // Written: its connection is the worker's once the worker acknowledges it. Until then its
      // death closes it (Node's channel closes a handle still pending), and that is counted.
      if (!error) {
        worker.unacknowledgedSticky = 1;
        return;
      }
      this.#assignments.delete(key);
      // Not sent (the channel closed first, its queue failed): handed on as at its worker's end,
      // or, with its handle gone, closed and counted reset before any worker took it (H552: one
      // of a dead worker's queue failed here before its 'disconnect', closed uncounted).
      if (hasHandle(socket)) {
        this.dispatch(socket);
        return;
      }
      socket.destroy();
      this.#context.pool.countConnectionsReset(1);
    });
  }

  #unsentOf(worker: WorkerRecord): Set<Socket> {
    let unsent = this.#unsent.get(worker);
    if (unsent === undefined) {
      unsent = new Set();
      this.#unsent.set(worker, unsent);
      // Its channel's end, not its exit: until then Node may still write the queue (an
      // acknowledgement read after the exit). At the end the queue is dead for good.
      worker.clusterWorker.once('disconnect', () => this.#takeBack(worker));
      watchStickyAcknowledgements(worker, () => this.#reportNotReceived(worker));
    }
    return unsent;
  }

  /** Hands the connections `worker`'s channel never wrote to the workers that serve (none: closed and told, as any refused). */
  #takeBack(worker: WorkerRecord): void {
    const unsent = this.#unsent.get(worker);
    this.#unsent.delete(worker);
    if (unsent === undefined) return;
    const sockets = [...unsent];
    this.#queuedInAll -= sockets.length;
    unsent.clear();
    for (const socket of sockets) {
      // One written already gave its handle to Node's channel, which closes it at the end: its
      // client sees the connection close, and reconnects (the worker may have read it).
      if (!hasHandle(socket)) continue;
      this.dispatch(socket);
    }
    // Those no worker could take are told now, not in a trailing line 10 s later, when a
    // shutdown's primary has exited (retest t57 R1).
    this.flushWarnings();
    this.#queueFullWarnings.delete(worker);
  }

  #choose(key: string): WorkerRecord | undefined {
    const assigned = this.#assignments.get(key);
    this.#assignments.delete(key);
    const worker = assigned && this.#isServing(assigned) && !this.#context.pool.isSilent(assigned) ? assigned : this.#rehash(key, assigned);
    if (!worker) return undefined;
    this.#assignments.set(key, worker);
    if (this.#assignments.size > kMaxAssignments) this.#assignments.delete(this.#assignments.keys().next().value!);
    return worker;
  }

  /** Ready, connected, serving sticky connections (`$sticky`), and with the listener's role if any. */
  #isServing(record: WorkerRecord): boolean {
    return record.servesSticky && record.state === 'ready' && record.isConnected && (this.#role === undefined || record.slot.spec.roles.includes(this.#role));
  }

  /**
   * The worker for a new client, or one whose worker no longer serves or is silent (its event
   * loop most likely blocked: a connection handed to it waits unread until it recovers or the
   * heartbeat kills it): the rendezvous choice among serving workers that are not silent. When
   * every serving worker is silent, among all of them, and a client keeps its own.
   */
  #rehash(key: string, assigned: WorkerRecord | undefined): WorkerRecord | undefined {
    const { pool } = this.#context;
    const now = Date.now();
    const serving = [...this.#servingWorkers()];
    const answering = serving.filter((record) => !pool.isSilent(record, now));
    if (answering.length === 0 && assigned !== undefined && serving.includes(assigned)) return assigned;
    return this.#hash.pick(key, answering.length > 0 ? answering : serving, (record) => record.slot.index);
  }

  *#servingWorkers(): Iterable<WorkerRecord> {
    for (const record of this.#context.pool.records) if (this.#isServing(record)) yield record;
  }

  /** At most one `stickyRefused` per 10 s per listener, counting the connections since the previous one (a trailing one for the rest). */
  #reportRefused(): void {
    let reason: RefusedReason = 'no-ready-worker';
    for (const record of this.#context.pool.records) if (record.state === 'ready' && record.isConnected) reason = 'no-sticky-worker';
    this.#refusedWarnings[reason].note(1);
  }

}

/** Why the primary itself refused a sticky connection (a worker's own refusal is told per worker). */
/** The queue limit a `queue-full` refusal reached (`StickyRefusedEvent.limit`, `limitValue`). */
interface QueueLimit {
  readonly limit: 'maxQueued' | 'openFiles';
  readonly limitValue: number;
}

type RefusedReason = Exclude<StickyRefusedReason, 'worker-refused' | 'queue-full' | 'not-received'>;

/**
 * Clears `record.unacknowledgedSticky` at each handle acknowledgement its process reads. Node
 * writes one handle at a time, the next only once the last is acknowledged, and a sticky one's
 * write callback runs after its write, so an acknowledgement read after that callback is that
 * connection's (node:cluster's own handoffs share the queue; their acknowledgements come before).
 * `internalMessage` is the event Node's own channel code reads `NODE_HANDLE_ACK` from.
 *
 * A process that cannot take a handle (out of descriptors: EMFILE in its read) answers
 * `NODE_HANDLE_NACK`; Node sends it again, 3 times, then closes it with a process warning
 * (`SentHandleNotReceivedWarning`) that names no worker, and nothing else (hostile tester t62:
 * 2,001 connections closed unsaid at a worker's `ulimit -n`). Node handles the NACK before this
 * listener runs: when it gave the handle up, its pending message is gone, or is the next
 * handle's, sent 0 times again. `onNotReceived` is told of each sticky one given up (H620).
 */
function watchStickyAcknowledgements(record: WorkerRecord, onNotReceived: () => void): void {
  const watched = stickyWatched;
  if (watched.has(record)) return;
  watched.add(record);
  const child = record.clusterWorker.process;
  child.on('internalMessage', (message: unknown) => {
    if (typeof message !== 'object' || message === null) return;
    const { cmd } = message as { cmd?: unknown };
    if (cmd === 'NODE_HANDLE_ACK') record.unacknowledgedSticky = 0;
    else if (cmd === 'NODE_HANDLE_NACK' && record.unacknowledgedSticky === 1 && isHandleGivenUp(child)) {
      record.unacknowledgedSticky = 0;
      onNotReceived();
    }
  });
}

/** Whether Node gave up the handle a NACK answered (see above); false where the shape is not Node's. */
function isHandleGivenUp(child: unknown): boolean {
  const internals = child as { _pendingMessage?: { retransmissions?: unknown } | null };
  if (!('_pendingMessage' in (child as object))) return false;
  const pending = internals._pendingMessage;
  return pending === null || pending === undefined || pending.retransmissions === 0;
}

/** The workers whose acknowledgements are watched: one listener each, whatever the number of sticky listeners. */
const stickyWatched = new WeakSet<WorkerRecord>();

/**
 * Whether `socket` still holds its connection: Node's channel takes the handle out of a socket
 * it writes (`socket._handle = null`, lib/internal/child_process.js), and a socket it only
 * queued keeps it. No public API tells the two apart.
 */
function hasHandle(socket: Socket): boolean {
  return (socket as unknown as { _handle: unknown })._handle != null && !socket.destroyed;
}

function normalizeStickyOptions(input: StickyOptions): Required<Omit<StickyOptions, 'host' | 'role'>> & { host: string | undefined; role: string | undefined } {
  const options = knownOptions(input, ['port', 'host', 'backlog', 'role', 'maxQueued'], 'listenSticky options');
  return {
    port: portOption(options.port),
    host: stringOption(options.host, 'host'),
    backlog: integerOption(options.backlog, 'backlog', 511),
    role: workerNameOption(options.role, 'role', 'role'),
    maxQueued: integerOption(options.maxQueued, 'maxQueued', kDefaultMaxQueued),
  };
}
