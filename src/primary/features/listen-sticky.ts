/**
 * Sticky sessions: `primary.listenSticky({ port })` accepts TCP connections in the primary and
 * hands each socket to the worker chosen for the client's address, so one client's
 * connections (WebSocket, SSE, in-memory sessions) always reach the same worker.
 *
 * A client stays with its worker as long as that worker lives (an assignment table); a new
 * client, or one whose worker is gone, gets the ready worker chosen by rendezvous hashing of
 * its address over the workers' slots. Only the address is known at this layer (L4): behind a
 * proxy every client has the proxy's address, see docs/sticky-sessions.md.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import { InvalidOptionError, ShutdownInProgressError } from '../../errors.js';
import { integerOption, optionsObject, portOption, rejectUnknownKeys, stringOption } from '../../validate.js';
import type { PrimaryContext } from '../primary-context.js';
import { clientKey, RendezvousHash } from './rendezvous.js';
import type { WorkerRecord } from '../pool/worker-record.js';

/** What sticky sessions take from the primary's context. */
type StickyContext = Pick<PrimaryContext, 'pool' | 'reportError' | 'lifecycle'>;

/** The IPC message that carries a sticky connection's socket as its handle. */
export const kStickyHandleMessage = { __ck: 1, h: 'sticky' } as const;

/** Clients remembered at once; the least recently connected are forgotten first. */
const kMaxAssignments = 100_000;

export interface StickyOptions {
  /** Port to listen on (0 for any free port). */
  port: number;
  /** Address to listen on. @default all interfaces */
  host?: string;
  /** Pending-connection queue length. @default 511 */
  backlog?: number;
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
  const balancer = new StickyBalancer(context);
  const server = net.createServer({ pauseOnConnect: true }, (socket) => balancer.dispatch(socket));
  server.on('error', (error) => context.reportError(error));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, options.backlog, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const listener: StickyListener = {
    address: server.address() as AddressInfo,
    close: () => (closing ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
  lifecycle.onShutdown('start', () => listener.close());
  return listener;
}

class StickyBalancer {
  readonly #context: Pick<StickyContext, 'pool'>;
  readonly #hash = new RendezvousHash();
  /** Which worker each client address was last handed to; its insertion order is recency. */
  readonly #assignments = new Map<string, WorkerRecord>();

  constructor(context: Pick<StickyContext, 'pool'>) {
    this.#context = context;
  }

  dispatch(socket: Socket): void {
    const key = clientKey(socket.remoteAddress);
    const worker = this.#choose(key);
    if (!worker) {
      socket.destroy(); // no ready worker: refusing is better than holding the client forever
      return;
    }
    worker.clusterWorker.send(kStickyHandleMessage, socket, { keepOpen: false }, (error) => {
      if (!error) return;
      this.#assignments.delete(key);
      socket.destroy();
    });
  }

  #choose(key: string): WorkerRecord | undefined {
    const assigned = this.#assignments.get(key);
    this.#assignments.delete(key);
    const worker = assigned && isServing(assigned) ? assigned : this.#hash.pick(key, readyWorkers(this.#context.pool.records), (record) => record.slot.index);
    if (!worker) return undefined;
    this.#assignments.set(key, worker);
    if (this.#assignments.size > kMaxAssignments) this.#assignments.delete(this.#assignments.keys().next().value!);
    return worker;
  }
}

function isServing(record: WorkerRecord): boolean {
  return record.state === 'ready' && record.isConnected;
}

function* readyWorkers(records: Iterable<WorkerRecord>): Iterable<WorkerRecord> {
  for (const record of records) if (isServing(record)) yield record;
}

function normalizeStickyOptions(input: StickyOptions): Required<Omit<StickyOptions, 'host'>> & { host: string | undefined } {
  const options = optionsObject(input, 'listenSticky options');
  rejectUnknownKeys(options, ['port', 'host', 'backlog']);
  if (options.port === undefined) throw new InvalidOptionError('port', 'a port number (0 for any free port)', undefined);
  return {
    port: portOption(options.port),
    host: stringOption(options.host, 'host'),
    backlog: integerOption(options.backlog, 'backlog', 511),
  };
}
