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
import { InvalidOptionError } from '../../errors.js';
import { integerOption, optionsObject, rejectUnknownKeys, stringOption } from '../../validate.js';
import type { PrimaryInternals } from '../primary-internals.js';
import { clientKey, RendezvousHash } from './rendezvous.js';
import type { WorkerRecord } from '../pool/worker-record.js';

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

export async function listenSticky(internals: Pick<PrimaryInternals, 'pool' | 'reportError'>, input: StickyOptions): Promise<StickyListener> {
  const options = normalizeStickyOptions(input);
  const balancer = new StickyBalancer(internals);
  const server = net.createServer({ pauseOnConnect: true }, (socket) => balancer.dispatch(socket));
  server.on('error', (error) => internals.reportError(error));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, options.backlog, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    address: server.address() as AddressInfo,
    close: () => (closing ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

class StickyBalancer {
  readonly #internals: Pick<PrimaryInternals, 'pool' | 'reportError'>;
  readonly #hash = new RendezvousHash();
  /** Which worker each client address was last handed to; its insertion order is recency. */
  readonly #assignments = new Map<string, WorkerRecord>();

  constructor(internals: Pick<PrimaryInternals, 'pool' | 'reportError'>) {
    this.#internals = internals;
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
    const worker = assigned && isServing(assigned) ? assigned : this.#hash.pick(key, readyWorkers(this.#internals.pool.records), (record) => record.slot.index);
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

/** A TCP port number, 0 meaning any free port. Shared with the health endpoint. */
export function portOption(value: unknown): number {
  const port = integerOption(value, 'port', 0, { min: 0 });
  if (port > 65_535) throw new InvalidOptionError('port', 'a port number from 0 to 65535', value);
  return port;
}
