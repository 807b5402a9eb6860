/**
 * Worker-to-worker messages, relayed by the primary: `worker.sendTo(target, type, payload)`.
 * The primary forwards the request to the target (by name or worker id) with the sender's
 * timeout and returns the target handler's reply, so the ack is end to end. An unknown or
 * stopping target fails with NoWorkerAvailableError, a target that dies with
 * WorkerExitedError; the sender revives both from their codes.
 *
 * The primary holds at most `maxPendingPerWorker` of one sender's relays at once (held-requests.ts),
 * and a sender's relays still held when it exits are withdrawn: nobody waits for their replies,
 * and a worker that restarts must not leave its relays queued at a busy target, one set per life.
 */
import { setMaxListeners } from 'node:events';
import {
  MessageTimeoutError,
  NoHandlerError,
  NoWorkerAvailableError,
  RemoteError,
  WorkerExitedError,
} from '../../errors.js';
import { isRelayPayload, kRelayedRequest, kRelayRequest, type RelayedPayload, type RelayPayload, type RelaySender } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerRecord } from '../pool/worker-record.js';

export function registerRelay({ pool, system }: Pick<PrimaryContext, 'pool' | 'system'>): void {
  system.register(kRelayRequest, { kind: 'request', check: isRelayPayload, handle: (relay, sender) => forward(pool, relay, sender) });
}

function forward(pool: PrimaryContext['pool'], { target, type, payload, timeoutMs }: RelayPayload, sender: WorkerRecord): Promise<unknown> {
  const destination = typeof target === 'number' ? pool.record(target) : pool.recordByName(target);
  if (!destination || !isReachable(destination)) {
    const which = typeof target === 'number' ? `with id ${target}` : `named "${target}"`;
    throw new NoWorkerAvailableError(
      // Said to the sending worker, which cannot reach primary.workers (H426).
      `No live worker ${which} can receive "${type}" from worker ${sender.id}. It may have exited or be stopping, or no worker has that ${typeof target === 'number' ? 'id' : 'name'}: ` +
        "names are given by the primary's fork({ name }) and ids are each worker's worker.id; a worker that needs the live ones can ask the primary with send() to a handler of the primary's.",
    );
  }
  const from: RelaySender = { workerId: sender.id, name: sender.slot.spec.name };
  const relayed: RelayedPayload = { from, type, payload };
  return destination.endpoint.request(kRelayedRequest, relayed, forwardTimeout(timeoutMs ?? Number.POSITIVE_INFINITY), senderGone(sender)).catch((error: unknown) => {
    throw renamed(error, type, destination, timeoutMs);
  });
}

/** Per sender, a signal aborted when it exits: one listener on its exit, however many relays. */
const senderSignals = new WeakMap<WorkerRecord, AbortSignal>();

function senderGone(sender: WorkerRecord): AbortSignal {
  let signal = senderSignals.get(sender);
  if (signal) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  // One abort listener per relay in flight (up to maxPendingPerWorker): not a leak to warn about.
  setMaxListeners(0, signal);
  senderSignals.set(sender, signal);
  void sender.whenExited.promise.then(() => controller.abort(new WorkerExitedError(sender.exitDescription(), 'before the reply to its relayed message came')));
  return signal;
}

/** The forwarded request's error, naming the user's message type rather than the relay's. */
/** `timeoutMs`: the sender's own (null for none), which the message states. */
function renamed(error: unknown, type: string, destination: WorkerRecord, timeoutMs: number | null | undefined): unknown {
  const peer = destination.describe();
  if (error instanceof WorkerExitedError) return destination.unansweredError(type, error);
  // The caller's figure, not the shorter one the relay waited (H425): the user gave that one.
  if (error instanceof MessageTimeoutError) return new MessageTimeoutError(type, timeoutMs ?? error.timeoutMs, peer);
  if (error instanceof NoHandlerError) return new NoHandlerError(type, peer, error.nearMiss);
  if (error instanceof RemoteError) {
    // The target's cause chain, revived already, goes on to the sender (H352).
    const fields = { name: error.remoteName, message: error.remoteMessage, code: error.remoteCode, stack: error.remoteStack, data: error.data };
    return new RemoteError(type, peer, fields, undefined, { cause: error.cause });
  }
  return error;
}

/**
 * The sender's timer started first; ours ends a little earlier, so that the sender usually gets
 * our answer, which names the target, and no forwarded request outlives the sender's wait. The
 * sender holds that answer until its caller's deadline (worker/relay-deadline.ts, H435).
 */
function forwardTimeout(timeoutMs: number): number {
  return Math.max(1, timeoutMs - Math.min(250, Math.max(20, timeoutMs / 20)));
}

function isReachable(record: WorkerRecord): boolean {
  return (record.state === 'ready' || record.state === 'starting') && record.isConnected;
}
