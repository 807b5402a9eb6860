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
 *
 * Fairness (H471): at one target, one sender has at most half of `maxPendingPerWorker` relays
 * awaiting replies (`senderShare`). Its relays beyond that wait here, each sender in its own
 * queue, behind its own earlier relays only: never in front of another sender's, nor of the
 * primary's `send()`, which counts its own slots apart (endpoint.ts). A relay whose time runs out
 * in that queue fails with a MessageTimeoutError that says it was never sent, and behind how many.
 */
import { stackless } from '../../stackless.js';
import {
  MessageTimeoutError,
  NoHandlerError,
  NoWorkerAvailableError,
  RemoteError,
  ShutdownInProgressError,
  WorkerExitedError,
} from '../../errors.js';
import {
  isRelayCancelPayload,
  isRelayPayload,
  kRelayCancelNotice,
  kRelayedRequest,
  kRelayRequest,
  type RelayedPayload,
  type RelayPayload,
  type RelaySender,
} from '../../messaging/system-types.js';
import { abortReason, isTooLateToSend } from '../../messaging/pending.js';
import type { PrimaryContext } from '../primary-context.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import { stoppingRefusal } from '../pool/worker-endpoint.js';
import { kRelayWork } from '../lifecycle/own-work.js';
import { peerNearMiss } from '../../messaging/route.js';
import { isAborted, onAbort } from '../../messaging/on-abort.js';

export function registerRelay({ pool, system, options }: Pick<PrimaryContext, 'pool' | 'system' | 'options'>): void {
  const share = senderShare(options.maxPendingPerWorker);
  system.register(kRelayRequest, { kind: 'request', check: isRelayPayload, handle: (relay, sender) => forward(pool, share, relay, sender) });
  system.register(kRelayCancelNotice, { kind: 'notification', check: isRelayCancelPayload, handle: ({ keys }, sender) => cancelRelays(sender, keys) });
}

/** How many of one sender's relays one target may have awaiting replies at once: half of `maxPendingPerWorker`, at least 1. */
export function senderShare(maxPendingPerWorker: number): number {
  return Math.max(1, Math.floor(maxPendingPerWorker / 2));
}

/** One sender's relays to one target: those awaiting replies, and those waiting for one of them to settle. */
interface Lane {
  inFlight: number;
  /** Entries in order; one that left (timed out, aborted) stays, `isGone`, until shifted: no O(n) removal per timeout (retest t50: 7 000 relays timing out together stalled the primary). */
  readonly queue: Array<{ readonly start: () => void; isGone: boolean }>;
  /** The entries of `queue` that have not left. */
  queued: number;
}

/** Per target, per sender, its lane (entries go when empty). */
const lanes = new WeakMap<WorkerRecord, Map<WorkerRecord, Lane>>();

function laneOf(destination: WorkerRecord, sender: WorkerRecord): Lane {
  let bySender = lanes.get(destination);
  if (!bySender) lanes.set(destination, (bySender = new Map()));
  let lane = bySender.get(sender);
  if (!lane) bySender.set(sender, (lane = { inFlight: 0, queue: [], queued: 0 }));
  return lane;
}

function dropIfIdle(destination: WorkerRecord, sender: WorkerRecord, lane: Lane): void {
  if (lane.inFlight > 0 || lane.queued > 0) return;
  const bySender = lanes.get(destination);
  if (bySender?.get(sender) === lane) bySender.delete(sender);
  if (bySender?.size === 0) lanes.delete(destination);
}

/**
 * Runs `send` when `sender` has fewer than `share` relays awaiting `destination`'s replies, else
 * once one of them settles, in order. Rejects, unsent, when `waitMs` pass first (`timeoutError`
 * gets how many were ahead), when its turn comes too late (`isTooLate()`), or `signal` aborts.
 */
export function inLane<T>(
  destination: WorkerRecord,
  sender: WorkerRecord,
  share: number,
  waitMs: number,
  signal: AbortSignal,
  send: (ahead: number) => Promise<T>,
  timeoutError: (ahead: number) => Error,
  isTooLate: () => boolean,
): Promise<T> {
  const lane = laneOf(destination, sender);
  const run = (ahead = 0): Promise<T> => {
    lane.inFlight++;
    return send(ahead).finally(() => {
      lane.inFlight--;
      while (lane.queue.length > 0 && lane.inFlight < share) {
        const next = lane.queue.shift()!;
        if (next.isGone) continue;
        lane.queued--;
        next.start();
      }
      if (lane.queued === 0) lane.queue.length = 0;
      dropIfIdle(destination, sender, lane);
    });
  };
  if (lane.inFlight < share && lane.queued === 0) return run();
  if (isAborted(signal)) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const ahead = lane.inFlight + lane.queued;
    const leave = (error: Error): void => {
      entry.isGone = true;
      lane.queued--;
      clearTimeout(timer);
      offAbort();
      if (lane.queued === 0) lane.queue.length = 0;
      dropIfIdle(destination, sender, lane);
      reject(error);
    };
    const entry = {
      isGone: false,
      start: (): void => {
        clearTimeout(timer);
        offAbort();
        // Its turn came as the relays ahead of it timed out, just before its own deadline: sent
        // now it would run at the target after its sender gave up, and be said not answered
        // (hostile t67 F3). Never sent, as the endpoint's own queue says (pending.ts `issue()`).
        if (isTooLate()) reject(timeoutError(ahead));
        else run(ahead).then(resolve, reject);
      },
    };
    const timer = Number.isFinite(waitMs) ? setTimeout(() => leave(timeoutError(ahead)), waitMs) : undefined;
    const offAbort = onAbort(signal, () => leave(abortReason(signal)));
    lane.queue.push(entry);
    lane.queued++;
  });
}

/** The stretch of relays handled one after the other (ms since the epoch): noted as clusterkit's own work (H669). */
const intake = { startAt: 0, lastAt: 0 };
/** Relays handled less than this apart (ms) are one stretch. */
const kIntakeGapMs = 5;

function forward(pool: PrimaryContext['pool'], share: number, relay: RelayPayload, sender: WorkerRecord): Promise<unknown> {
  return asRelayWork(pool, () => forwardNow(pool, share, relay, sender));
}

/**
 * Runs `work`, noted as clusterkit's own (H669): the intake of relays, and their settling, which
 * for a flood's timeouts is thousands of answers in one stretch (retest t68 #5: a 1.7 s block of
 * them was blamed on the user's code).
 */
function asRelayWork<T>(pool: PrimaryContext['pool'], work: () => T): T {
  const now = Date.now();
  if (now - intake.lastAt > kIntakeGapMs) intake.startAt = now;
  try {
    return work();
  } finally {
    intake.lastAt = Date.now();
    pool.ownWork.extend(kRelayWork, intake.startAt, intake.lastAt);
  }
}

function forwardNow(pool: PrimaryContext['pool'], share: number, { target, type, payload, timeoutMs, calledAt, key }: RelayPayload, sender: WorkerRecord): Promise<unknown> {
  const destination = typeof target === 'number' ? pool.record(target) : pool.recordByName(target);
  if (!destination || !isReachable(destination)) {
    const which = typeof target === 'number' ? `with id ${target}` : `named "${target}"`;
    // A refusal answered to the sender: no frames of ours (a flood of them, hostile t64).
    throw stackless(
      () =>
        new NoWorkerAvailableError(
          // Said to the sending worker, which cannot reach primary.workers (H426).
          `No live worker ${which} can receive "${type}" from worker ${sender.id}. It may have exited or be stopping, or no worker has that ${typeof target === 'number' ? 'id' : 'name'}: ` +
            "names are given by the primary's fork({ name }) and ids are each worker's worker.id; a worker that needs the live ones can ask the primary with send() to a handler of the primary's.",
        ),
    );
  }
  const from: RelaySender = { workerId: sender.id, name: sender.slot.spec.name };
  const relayed: RelayedPayload = { from, type, payload };
  // Counted from the sender's call, not from our read of it (H472): a relay read late, or sent
  // late from the sender's queue, is not held past the sender's deadline, when the sender takes
  // its next relays in (a relay's slot in the sender is freed by our answer, worker-context.ts).
  const waited = timeoutMs === null || calledAt === undefined ? 0 : Math.min(Math.max(0, Date.now() - calledAt), timeoutMs);
  // Never forwarded: said so, not as the target's slow handler (code review of H472).
  // Nor one with too little of its time left to be answered (tester t51): it would run after its caller gave up.
  if (timeoutMs !== null && isTooLateToSend(timeoutMs - waited, timeoutMs)) throw stackless(() => new MessageTimeoutError(type, timeoutMs, destination.describe(), 0));
  const waitMs = forwardTimeout(timeoutMs === null ? Number.POSITIVE_INFINITY : timeoutMs - waited);
  const started = performance.now();
  // Aborted when the sender exits, or, for one its caller may abort (`key`), at its `$relayCancel`.
  const cancel = key === undefined ? undefined : cancellable(sender, key);
  const signal = cancel?.signal ?? senderGone(sender);
  // `ahead`: the sender's relays to the target ahead of it when it was held, for the error of one
  // its target's exit kept from being sent (retest t68b: `queuedBehind` 0 after a wait behind them).
  const send = (ahead: number): Promise<unknown> => {
    // How long it waited before it went to the target: on its way here, and in its lane.
    const heldMs = waited + (performance.now() - started);
    // What is left of the wait: a relay that waited in its lane does not outlive its sender's deadline.
    // Whole ms: the relays of a burst then share a timeout, and so one timer (timeout-group.ts).
    return destination.endpoint.request(kRelayedRequest, relayed, Math.max(1, Math.floor(waitMs - (heldMs - waited))), signal).catch((error: unknown) => {
      // Answered to the sender, which makes its own: no frames of ours (a flood's expiry, hostile t67 F3).
      throw asRelayWork(pool, () => stackless(() => renamed(error, type, destination, timeoutMs, heldMs, ahead)));
    });
  };
  const unsent = (ahead: number): MessageTimeoutError => asRelayWork(pool, () => stackless(() => new MessageTimeoutError(type, timeoutMs ?? waitMs, destination.describe(), ahead)));
  const isTooLate = (): boolean => timeoutMs !== null && isTooLateToSend(waitMs - (performance.now() - started), timeoutMs);
  const outcome = inLane(destination, sender, share, waitMs, signal, send, unsent, isTooLate);
  return cancel === undefined ? outcome : outcome.finally(cancel.done);
}

/** Per sender, the relays its callers may still abort (`RelayPayload.key`), by key. */
const cancellers = new WeakMap<WorkerRecord, Map<number, AbortController>>();

/**
 * A signal for the relay `key` of `sender`, aborted at its `$relayCancel` or when the sender
 * exits; `done` forgets it once it settles. A key sent twice (forged) replaces the first.
 */
function cancellable(sender: WorkerRecord, key: number): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  let byKey = cancellers.get(sender);
  if (byKey === undefined) cancellers.set(sender, (byKey = new Map()));
  byKey.set(key, controller);
  const gone = senderGone(sender);
  const off = gone.aborted ? undefined : onAbort(gone, () => controller.abort(abortReason(gone)));
  if (off === undefined) controller.abort(abortReason(gone));
  const keys = byKey;
  return {
    signal: controller.signal,
    done: () => {
      off?.();
      if (keys.get(key) === controller) keys.delete(key);
      if (keys.size === 0 && cancellers.get(sender) === keys) cancellers.delete(sender);
    },
  };
}

/**
 * `$relayCancel`: the relays whose callers aborted them. One still held here leaves its lane,
 * never sent; one waiting for room in the target's channel is withdrawn; one the target has
 * already may still run there. Each is answered at once, which frees its place under the
 * sender's `maxPending` (retest t68: they were sent later, ran, and held their places).
 * Unknown keys (already settled) are ignored.
 */
function cancelRelays(sender: WorkerRecord, keys: readonly number[]): void {
  const byKey = cancellers.get(sender);
  if (byKey === undefined) return;
  for (const key of keys) byKey.get(key)?.abort(kCancelled);
}

/** The answer to a relay its caller aborted: the caller has its reason already, and this frees the place. */
const kCancelled = stackless(() => new Error('The relay was aborted by its caller.'));

/** Per sender, a signal aborted when it exits: one listener on its exit, however many relays. */
const senderSignals = new WeakMap<WorkerRecord, AbortSignal>();

function senderGone(sender: WorkerRecord): AbortSignal {
  let signal = senderSignals.get(sender);
  if (signal) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  senderSignals.set(sender, signal);
  void sender.whenExited.promise.then(() => controller.abort(new WorkerExitedError(sender.exitDescription(), 'before the reply to its relayed message came')));
  return signal;
}

/** The forwarded request's error, naming the user's message type rather than the relay's. */
/** `timeoutMs`: the sender's own (null for none), which the message states. */
/** `heldMs`: how long it waited (ms) before the primary sent it to the target; `ahead`: the sender's relays ahead of it in its lane then. */
function renamed(error: unknown, type: string, destination: WorkerRecord, timeoutMs: number | null | undefined, heldMs = 0, ahead = 0): unknown {
  const peer = destination.describe();
  // One never written to the target says so, and is safe to retry (tester t51).
  // The error it replaces named the relay's own type ("$relayed"): not its cause, only its cause's (newcomer t61).
  if (error instanceof WorkerExitedError) return error.queuedBehind === undefined ? destination.unansweredError(type, error.cause) : destination.unsentError(type, Math.max(error.queuedBehind, ahead));
  // The caller's figure, not the shorter one the relay waited (H425): the user gave that one.
  // One never written to the target says so (code review of H472): not that the target was slow.
  // One sent after a tenth of its time or more held behind its sender's earlier relays says how long, not only that the handler may be slow (retest t68 #4).
  if (error instanceof MessageTimeoutError) {
    const timeout = timeoutMs ?? error.timeoutMs;
    const queuedMs = error.queuedBehind === undefined ? heldMs + (error.queuedMs ?? 0) : 0;
    return new MessageTimeoutError(type, timeout, peer, error.queuedBehind, queuedMs >= timeout / 10 ? queuedMs : undefined);
  }
  if (error instanceof NoHandlerError) return new NoHandlerError(type, peer, peerNearMiss({ nearMiss: error.nearMiss }, type));
  // Refused as its target stops (by the primary, unsent, or by the target): named by the user's type.
  if (error instanceof ShutdownInProgressError) return stoppingRefusal(destination, type);
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
