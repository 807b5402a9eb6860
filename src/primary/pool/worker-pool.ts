/**
 * The primary's workers: slots, spawning, lifecycle bookkeeping, exit classification and
 * restarts. `ClusterPrimary` is the facade; this is the engine behind it.
 */
import { kMetricsMerge, OwnWork } from '../lifecycle/own-work.js';
import { kDisconnectGraceMs } from '../../disconnect-grace.js';
import type { Address } from 'node:cluster';
import { capitalize } from '../../capitalize.js';
import { formatElapsed } from '../../duration.js';
import {
  ChannelCorruptError,
  ChannelHeldError,
  type CrashLoopError,
  InvalidArgumentError,
  NoWorkerAvailableError,
  ShutdownInProgressError,
  WorkerExitedError,
  WorkerStartupError,
  WorkerChannelClosedError,
} from '../../errors.js';
import { isBulkAvailable, primaryBulkEnd } from '../../messaging/bulk-channel.js';
import { isClusterKitMessage } from '../../messaging/envelope.js';
import { isUserRequest, kArmWatchdogNotice, kCrashNotice, kDestroyFailedNotice, kMetricsRequest } from '../../messaging/system-types.js';
import type { PrimaryContext } from '../primary-context.js';
import { launchInTurns } from './launch-in-turns.js';
import { beforeTakeover, killLoss, restartAfterExit } from './restart-after-exit.js';
import { RoundRobin } from './round-robin.js';
import { bulkMarginMs, isSilent } from './silence.js';
import { kMaxGroupHangups, Slot, type SlotSpec } from './slot.js';
import { countOwnCloseExit, countSignalledStop, countUnfinishedStop } from './stop-worker.js';
import { guardChannel, guardInternalMessages, kBusyReadMs, kMaxServersPerWorker, serverRequest, type ChannelFault } from './channel-guard.js';
import { processListens } from './cluster-listens.js';
import { guardHandoffs, kMaxRefusals } from './handoff-guard.js';
import { closeHeldChannel } from './held-channel.js';
import { markExited } from './silent-steer.js';
import { describeListenKey } from './listen-key.js';
import { RateLimitedWarning } from './rate-limited-warning.js';
import { describeSpawnError, spawnWorker } from './spawn-worker.js';
import { createWorkerEndpoint, type WorkerInbound, type WorkerProtocolError } from './worker-endpoint.js';
import { WorkerHandle } from './worker-handle.js';
import { SlowReadTally } from './slow-reads.js';
import { WorkerRecord } from './worker-record.js';
import { killWorker } from './kill-worker.js';
import { loadingStepsFor, stillLoadingAdvice } from './loading-advice.js';
import { workersLoaderHint } from './loader-hint.js';
import { nodeOptionFailure, workerNodeOptions } from './node-option-failure.js';
import { isEndedUnstartedExit } from './end-unstarted.js';
import { endProcesses, namedRunning } from '../../worker/end-descendants.js';
import { ListenHistory, notListenedReason, notListenedYetWarning } from './ready-on-listen.js';
import { settleWithin } from '../../wait.js';

/**
 * What one IPC message from a worker may have on top of the primary's `maxMessageBytes` (a
 * frame's envelope around its one large record). Not a multiple of it: parsing costs far more
 * than the bytes (16 MiB of `{}` took a busy primary 10 s and 374 MB), so the primary reads no
 * more from a worker than its own limit allows.
 */
const kFrameOverheadBytes = 64 * 1024;

/** Pids `workerDescendantsKilled` lists at most (`count` says how many were killed): a bound on what one event holds (H162). */
const kMaxEventPids = 1_000;
/** Processes left running the primary remembers having named, at most (H309): a bound on its memory. */
const kMaxNamedLeft = 10_000;

/**
 * How long the verdict on a worker's exit waits for the last of what it wrote (`#onProcessExit`),
 * at most: a process the worker started may hold a pipe's other end open, and then its end never comes.
 */
const kChannelEndAfterExitMs = 2_000;
/** How often a worker's exit checks whether all it wrote was delivered (ms). */
const kChannelEndPollMs = 20;
/**
 * How long the verdict on a worker ended by a SIGINT or SIGTERM the primary did not send waits
 * for the primary's own stop (ms; `#onProcessExit`): the same window as a repeated stop signal's
 * (stop-signal-repeat.ts).
 */
const kGroupSignalWindowMs = 250;
/**
 * A worker that read a backlog of the primary's messages this close to its exit had a busy
 * channel to the end: its own last notices may have waited behind a backlog too (H218).
 */
const kBackloggedExitMs = 1_000;
/**
 * A read of the worker's channel this large filled Node's read buffer (libuv reads a pipe 64 KiB
 * at a time): more of the worker's messages were waiting behind it (H235).
 */
const kFullReadBytes = 64 * 1024;

/** A slot the crash-loop breaker gave up on, since when, and why. */
export interface GivenUpSlot {
  readonly slot: Slot;
  /** When it was given up (ms since the epoch). */
  readonly since: number;
  readonly error: CrashLoopError;
}

/** What the pool takes from the primary's context. */
export type PoolContext = Pick<PrimaryContext, 'options' | 'emit' | 'reportError' | 'reportWarning' | 'reportHandlerError'>;

/**
 * Resolves after the event loop's next I/O poll: an immediate queued now may run in this turn's
 * check phase, before any new poll (when called from a poll callback, a signal's), so two.
 */
function afterNextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

export class WorkerPool {
  /** clusterkit's own long synchronous work in the primary (a scrape's merge), for the report of its stalls. */
  readonly ownWork = new OwnWork();
  readonly #context: PoolContext;
  /** Routes what workers send (system messages and user messages). */
  readonly #onInbound: WorkerInbound;
  /** Counts what the endpoints drop as protocol errors. */
  readonly #onProtocolError: WorkerProtocolError;
  /** Workers not yet exited, by cluster worker id. */
  readonly #records = new Map<number, WorkerRecord>();
  readonly #slots = new Set<Slot>();
  /** Slots the crash-loop breaker gave up on, which a reload that succeeds starts again (H259) and a scale-down drops first (H284). */
  #givenUp: GivenUpSlot[] = [];
  /**
   * The counts of given-up slots a scale-down dropped, by number: a later slot with that number
   * goes on from them (H284), so a slot's restarts and crashes never go backwards while the
   * primary lives (before, a scale-up reused the number from 0: Prometheus read a counter reset,
   * status lost the crash loop's history).
   */
  readonly #droppedCounts = new Map<number, Pick<Slot, 'restarts' | 'crashes'>>();
  /** Times the crash-loop breaker gave up on a slot, since the primary started (`clusterkit_crash_loops_total`). */
  #crashLoops = 0;
  /**
   * Connections reset before a worker took them (round-robin-intake.ts, H358): accepted by the
   * primary on its workers' round-robin sockets, and reset by node:cluster as the last worker of
   * the port left; or in the kernel's backlog as a shutdown closed such a socket.
   */
  #connectionsReset = 0;
  readonly rotation = new RoundRobin<WorkerRecord>();
  /**
   * Since when the primary may not have seen what happened up to `now` (the heartbeat's stall
   * clock, H486), set by the lifecycle when there is a heartbeat: a crash seen just after the
   * primary's own stall may have come at any point of it. `ranAt`: when the primary is known to
   * have run (it saw the worker ready then): a stall before it hid nothing (H698).
   */
  unseenSince: ((now: number, ranAt?: number) => number) | undefined;
  /**
   * Whether the primary got a SIGHUP of its own shortly before `at` (a `performance.now()` time)
   * or since (hangup-record.ts), set by the lifecycle: a worker still loading that died of SIGHUP
   * then had the same signal, sent to the whole process group (retest t72 N2).
   */
  hangupHeardSince: ((at: number) => boolean) | undefined;
  #isClosed = false;
  /** Keeps the process alive while no worker is left (`holdWithoutWorkers`). */
  #noWorkerHold: NodeJS.Timeout | undefined;
  /** The target when the pool closed (a shutdown retires every slot). */
  #closedTarget: number | undefined;
  /** Which slots and kinds of worker listened: their later workers are ready only once they listen. */
  readonly #listens = new ListenHistory();
  /** Set once the initial workers are ready; from then on a worker is armed at its ready. */
  #armsWatchdogs = false;
  /** The ends of SIGKILLed workers' processes under way (kill-worker.ts): a shutdown waits for them. */
  readonly #endingDescendants = new Set<Promise<void>>();
  /**
   * Processes (`<pid>:<start time>`) already named by `workerDescendantsLeft`: each once in the
   * primary's life (H309). The oldest are forgotten past `kMaxNamedLeft`.
   */
  readonly #namedLeft = new Set<string>();
  /** Connections every worker of their port refused, closed (handoff-guard.ts), by node:cluster handle key: told at most once per 10 s. */
  readonly #refusedTooOften = new RateLimitedWarning<Map<string, number>>(
    (held, next) => {
      const counts = held ?? new Map<string, number>();
      for (const [key, count] of next) counts.set(key, (counts.get(key) ?? 0) + count);
      return counts;
    },
    (counts, isFlushed) => {
      // The first is told at once, alone; what comes within the next 10 s is added up and told then.
      // Told at the end of a shutdown, there is no next 10 s to speak of (H240).
      const more = isFlushed ? '' : '; more in the next 10 s are told together';
      // Connections and attempts read apart (newcomer t25: "refused 16 times (1 on ...)" read as 16 connections).
      const where = [...counts].map(([key, count]) => `${count} connection${count === 1 ? '' : 's'} on ${describeListenKey(key)}`).join(', ');
      const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
      this.#context.reportWarning(
        new NoWorkerAvailableError(
          `${where} closed after every worker of ${total === 1 ? 'its port refused it' : 'their port refused them'} (${kMaxRefusals} attempts per connection${more}): ` +
            'a worker refuses a connection it is handed once its server holds server.maxConnections. Raise maxConnections, add workers, or have clients retry later.',
        ),
      );
    },
  );

  /**
   * The workers' `env` option in force: the primary's, until a `reload({ env })` replaces it
   * (H336). Every fork from then on (the reload's replacements, restarts, scale-ups) gets it; a
   * reload that fails puts the one from before back (H340).
   */
  env: Readonly<Record<string, string | undefined>>;

  constructor(context: PoolContext, onInbound: WorkerInbound, onProtocolError: WorkerProtocolError) {
    this.#context = context;
    this.env = context.options.env;
    this.#onInbound = onInbound;
    this.#onProtocolError = onProtocolError;
  }

  /** Live workers (starting, ready or stopping), oldest first. */
  get records(): IterableIterator<WorkerRecord> {
    return this.#records.values();
  }

  get slots(): ReadonlySet<Slot> {
    return this.#slots;
  }

  get size(): number {
    return this.#records.size;
  }

  record(id: number): WorkerRecord | undefined {
    return this.#records.get(id);
  }

  /**
   * Whether `record` is silent at `now` by this primary's heartbeat (silence.ts): dispatch
   * (`roundRobin()`, sticky sessions) passes it over while another candidate answers.
   */
  isSilent(record: WorkerRecord, now: number = Date.now()): boolean {
    return isSilent(record, this.#context.options.heartbeat, now);
  }

  /**
   * Whether `record`, being stopped, has been unheard since before its stop began, with a ping
   * of ours waiting at least one heartbeat interval for its answer: its event loop was blocked
   * (or its process stopped) through the stop. The ping may be older than the stop (retest t85:
   * a worker already silent as its stop came had its one ping in flight from before, and was told
   * to have a longer timeout). A worker that drains answers within the interval.
   */
  isSilentThroughStop(record: WorkerRecord, now: number = Date.now()): boolean {
    const { heartbeat } = this.#context.options;
    const askedAt = record.askedToStopAt;
    return heartbeat !== false && askedAt !== undefined && record.isPinging && now - record.pingSentAt >= heartbeat.intervalMs && record.lastHeardAt() < askedAt;
  }

  /** The live worker of the active slot named `name`. */
  recordByName(name: string): WorkerRecord | undefined {
    for (const slot of this.#slots) {
      if (slot.spec.name === name && !slot.isRetired) return slot.current?.state === 'exited' ? undefined : slot.current;
    }
    return undefined;
  }

  /** The live workers of `slot` besides the one serving it: replacements still starting, replaced workers still draining. */
  othersOf(slot: Slot): WorkerRecord[] {
    return [...this.#records.values()].filter((record) => record.slot === slot && record !== slot.current && record.state !== 'exited');
  }

  /** Slots still served (not stopped on purpose, not crash-looped), oldest first. */
  activeSlots(): Slot[] {
    return [...this.#slots].filter((slot) => !slot.isRetired);
  }

  /**
   * Adds `count` slots and resolves with their first ready workers (rejects if one gives up).
   * The slots exist at once (status shows the target); their workers are forked one per
   * event-loop turn (launch-in-turns.ts). `isInitial`: the primary's start, which fails if one gives up.
   * `carried`: a slot given up in a crash loop that a reload takes up again (H259): its number, if free, and its counts go on (H277).
   * `onAdded`: called with the new slots once recorded, before any is forked (a scale's event, H405).
   */
  addSlots(
    count: number,
    spec: SlotSpec,
    isInitial = false,
    carried?: Pick<Slot, 'index' | 'restarts' | 'crashes'>,
    onAdded?: (slots: readonly Slot[]) => void,
  ): Promise<WorkerHandle[]> {
    // Closed by a shutdown: a slot added now would never be forked nor retired, its waiters never answered (H405).
    if (this.#isClosed) return Promise.reject(new ShutdownInProgressError('The primary is shutting down; no further worker will be started.'));
    if (spec.name !== undefined && this.activeSlots().some((slot) => slot.spec.name === spec.name)) {
      return Promise.reject(new InvalidArgumentError(`A worker named "${spec.name}" already exists; worker names are unique. Stop it first, or pick another name.`));
    }
    // A name is one slot: fork({ name }) again after that name's slot was given up in a crash loop
    // takes that slot up again (its number and counts), as a reload would. Before, it added a
    // second slot of the name, given up in its turn, which the next reload could not start
    // (the name taken) and said nothing of (newcomer t64).
    if (carried === undefined && count === 1 && spec.name !== undefined) carried = this.#takeGivenUpNamed(spec.name);
    // A given-up slot taken up again keeps its number, if still free: its series go on.
    const indices = carried !== undefined && count === 1 && !this.#usedSlotIndices().has(carried.index) ? [carried.index] : this.#freeSlotIndices(count);
    const slots = indices.map((index) => new Slot(index, spec, (slot, previous) => this.#onServe(slot, previous)));
    for (const slot of slots) {
      slot.isInitial = isInitial;
      // A slot given up in a crash loop and taken up again goes on counting: its crashes must
      // not vanish from clusterkit_worker_crashes_total at the reload that restores it (H277),
      // nor at a scale-up that reuses the number of one a scale-down dropped (H284).
      const counts = carried ?? this.#droppedCounts.get(slot.index);
      this.#droppedCounts.delete(slot.index);
      if (counts) {
        slot.restarts = counts.restarts + 1;
        slot.crashes = counts.crashes;
      }
      this.#slots.add(slot);
    }
    const ready = Promise.all(slots.map((slot) => slot.firstReady.promise));
    // Recorded, nothing forked yet: the caller's event, whose listeners may retire these slots
    // (a scale-down, a shutdown), and then none of them is forked (launchInTurns skips them).
    onAdded?.(slots);
    launchInTurns(this, slots);
    return ready;
  }

  /**
   * Forks a worker for `slot`. It becomes the slot's current worker unless `asIncoming`.
   * @throws {WorkerStartupError} when the operating system refuses the spawn at once (E2BIG).
   */
  /**
   * Holds the process while a running primary has no worker left, its last slot given up in a
   * crash loop (H504): nothing of node:cluster keeps the process alive then, and a library
   * primary's process ended with code 0, no `shutdown`, no `_destroy` (library tester t53). It
   * runs on, as a listening server does, its given-up slots visible, until a worker is forked
   * again (`reload()`, `fork()`, `scale()`) or its shutdown begins.
   */
  holdWithoutWorkers(): void {
    if (this.#isClosed) return;
    this.#noWorkerHold ??= setInterval(() => {}, 2 ** 30);
  }

  #releaseHold(): void {
    clearInterval(this.#noWorkerHold);
    this.#noWorkerHold = undefined;
  }

  launch(slot: Slot, asIncoming = false): WorkerRecord {
    this.#releaseHold();
    // A worker forked after the initial ones (a replacement, a restart, a scale-up) starts its
    // watchdog thread with the rest of its start-up, where its 30 to 40 ms of CPU compete with
    // nothing that serves (a replacement boots at a lower priority), rather than once ready,
    // just as connections move to it. The initial workers arm theirs once all are ready
    // (start()), so that the watchdogs do not slow the start.
    const isWatchdogEarly = this.#armsWatchdogs;
    const clusterWorker = spawnWorker(this.#context.options, this.env, slot.index, slot.spec, isWatchdogEarly);
    const record = new WorkerRecord(clusterWorker, slot, this);
    record.env = this.env;
    // A replacement becomes the slot's next worker at its takeover (rolling-reload.ts), a restart at its fork (restart-after-exit.ts).
    record.restartsBefore = asIncoming ? slot.restarts + 1 : slot.restarts;
    record.handle = new WorkerHandle(record);
    record.endpoint = createWorkerEndpoint(record, this.#context.options, this.#onInbound, this.#context.reportError, this.#context.reportHandlerError, this.#context.reportWarning, this.#onChannelProtocolError, (bad, reason, side) =>
      this.#onChannelCorrupt(bad, { kind: 'bulk-corrupt', reason, side }),
    );
    this.#records.set(record.id, record);
    record.isWatchdogArmed = isWatchdogEarly;
    record.mustListen = this.#listens.mustListen(slot, this.#context.options.waitListen);
    if (!asIncoming) slot.current = record;
    this.#attach(record);
    const { readyTimeoutMs } = this.#context.options;
    if (readyTimeoutMs !== Number.POSITIVE_INFINITY) record.readyTimer = setTimeout(() => this.#onReadyTimeout(record), readyTimeoutMs);
    this.#context.emit('workerFork', { worker: record.handle });
    return record;
  }

  /** The `count` lowest free slot numbers: they stay in 0..N-1 (like PM2's NODE_APP_INSTANCE), a freed number is reused. */
  #freeSlotIndices(count: number): number[] {
    const used = this.#usedSlotIndices();
    const indices: number[] = [];
    for (let index = 0; indices.length < count; index++) if (!used.has(index)) indices.push(index);
    return indices;
  }

  /** Numbers taken: a given-up slot keeps its number (its series stay in /metrics), so a fork() meanwhile takes another. */
  #usedSlotIndices(): Set<number> {
    return new Set([...[...this.#slots].map((slot) => slot.index), ...this.#givenUp.map((entry) => entry.slot.index)]);
  }

  /** Tells `slotChange` listeners which worker serves `slot` now, and why it changed. */
  #onServe(slot: Slot, previous: WorkerRecord | undefined): void {
    const reason = previous === undefined ? 'start' : previous.state === 'exited' ? 'restart' : 'replace';
    this.#context.emit('slotChange', { slot: slot.index, name: slot.spec.name, worker: slot.current!.handle, previous: previous?.handle, reason });
  }

  /** Marks a worker ready: it joins the round-robin and its waiters resolve. */
  markReady(record: WorkerRecord): void {
    if (record.state !== 'starting') return;
    // Its listen makes it ready ('listening' below), within the ready timeout still running.
    if (record.mustListen && !record.isListening) {
      record.hasSaidReadyBeforeListen = true;
      return;
    }
    clearTimeout(record.readyTimer);
    record.readyTimer = undefined;
    record.state = 'ready';
    record.readyAt = Date.now();
    record.lastSeenAt = record.readyAt;
    // The slot works again: no longer failing, in status (H396).
    record.slot.failing = undefined;
    record.slot.groupHangups = 0;
    this.rotation.add(record, record.slot.spec.roles);
    if (this.#armsWatchdogs) armWatchdog(record);
    this.#context.emit('workerReady', { worker: record.handle });
    record.whenReady.resolve();
    if (record.slot.current === record) record.slot.firstReady.resolve(record.handle);
  }

  /** Arms the orphan watchdogs of the ready workers, and of every worker once ready. */
  armWatchdogs(): void {
    this.#armsWatchdogs = true;
    for (const record of this.#records.values()) if (record.state === 'ready') armWatchdog(record);
  }

  /** Takes a worker out of service (no new round-robin picks) before it is stopped. */
  markStopping(record: WorkerRecord): void {
    record.stopRequested = true;
    if (record.state === 'exited' || record.state === 'stopping') return;
    record.state = 'stopping';
    this.rotation.remove(record);
  }

  /** Connections reset before any worker took them, since the primary started (`#connectionsReset`, H358). */
  get connectionsReset(): number {
    return this.#connectionsReset;
  }

  /** Counts `count` connections a listener of the primary accepted and closed before any worker took them (a sticky one no worker serves). */
  countConnectionsReset(count: number): void {
    this.#connectionsReset += count;
  }

  /**
   * A shutdown's first step (H358): closes the round-robin listening sockets held by these
   * workers alone (another primary of the process may share one: left open), so no client
   * connects from now on, then waits until each connection accepted already was handed to a
   * worker and taken, at most `maxWaitMs`. Stopped earlier, the last worker of a port to close its
   * server made node:cluster reset every connection still queued for the port: one per client
   * under load. Counts what the kernel resets with the sockets (their backlog). Resolves, with the
   * number of sockets closed, once that is done.
   */
  async stopAccepting(maxWaitMs: number): Promise<number> {
    const holders = new Map<string, number>();
    for (const record of this.#records.values()) for (const key of record.listenKeys) holders.set(key, (holders.get(key) ?? 0) + 1);
    const intakes = [...holders].flatMap(([key, count]) => {
      const intake = processListens.intake(key);
      return intake?.isWatched && processListens.holders(key) === count ? [intake] : [];
    });
    if (intakes.length === 0) return 0;
    // The kernel resets what is still in a socket's backlog as it closes, unseen by any process:
    // closed right after a fresh I/O poll, in which libuv accepted what the kernel had completed,
    // not after the shutdown's own work (its events, its lines) let the backlog grow. (A backlog
    // made 0 first was worse: the kernel answers with SYN cookies then, and clients that believe
    // they connected send their request into a connection it never completes.)
    await afterNextPoll();
    for (const intake of intakes) this.#connectionsReset += intake.stopAccepting();
    await settleWithin(Promise.all(intakes.map((intake) => intake.whenDrained())), maxWaitMs);
    return intakes.length;
  }

  /**
   * Retires every slot and cancels pending restarts: nothing is forked from now on. Returns how
   * many restarts were waiting out their back-off delay (the stop's report says so, H454).
   */
  close(): number {
    // A stopping cluster still shows the target it had (status's "workers 1/2").
    this.#closedTarget ??= this.targetCount;
    this.#isClosed = true;
    this.#releaseHold();
    let cancelled = 0;
    // Not "no worker will be started" (hostile t66, H660): a shutdown from a workerReady listener
    // cuts a start short after its worker was ready; that one is stopped with the rest.
    for (const slot of this.#slots) if (this.retire(slot, new ShutdownInProgressError('The primary is shutting down; no further worker will be started, and any already started is stopped with the rest.'))) cancelled++;
    return cancelled;
  }

  /** The shutdown ended (its workers exited): the target is 0 from now on, as the workers are (L3 of tester t39: before, it stayed at the last one). */
  markStopped(): void {
    this.#closedTarget = 0;
  }

  /** Retires `slot` as a crash loop: a reload that succeeds starts it again (`takeGivenUp`). */
  giveUp(slot: Slot, error: CrashLoopError): void {
    this.retire(slot, error);
    this.#givenUp.push({ slot, since: Date.now(), error });
    this.#crashLoops++;
  }

  /** The slots given up in a crash loop and not dropped, forgotten here (a reload takes them up again). */
  takeGivenUp(): Slot[] {
    return this.#givenUp.splice(0).map((entry) => entry.slot);
  }

  /** The given-up slot named `name`, forgotten here (a fork of that name takes it up again); undefined when none. */
  #takeGivenUpNamed(name: string): Slot | undefined {
    const at = this.#givenUp.findIndex((entry) => entry.slot.spec.name === name);
    return at === -1 ? undefined : this.#givenUp.splice(at, 1)[0]!.slot;
  }

  /**
   * Drops `count` given-up slots, the highest numbers first (H284): a scale-down takes the
   * errored slots before any that serves. Their counts wait for a later slot of their number.
   */
  dropGivenUp(count: number): Slot[] {
    const dropped = [...this.#givenUp].sort((a, b) => b.slot.index - a.slot.index).slice(0, count);
    this.#givenUp = this.#givenUp.filter((entry) => !dropped.includes(entry));
    for (const { slot } of dropped) this.#droppedCounts.set(slot.index, { restarts: slot.restarts, crashes: slot.crashes });
    return dropped.map((entry) => entry.slot);
  }

  /** The slots given up in a crash loop and not taken up again yet (by a reload) nor dropped (by a scale-down). */
  get givenUp(): readonly GivenUpSlot[] {
    return this.#givenUp;
  }

  /** Times the crash-loop breaker gave up on a slot since the primary started. */
  get crashLoops(): number {
    return this.#crashLoops;
  }

  /**
   * The workers the pool is meant to run: its active slots and those given up in a crash loop,
   * which a reload that succeeds starts again. What a scale counts from (H284), what status and
   * clusterkit_workers_target show.
   */
  get targetCount(): number {
    return this.#closedTarget ?? this.activeSlots().length + this.#givenUp.length;
  }

  /** Stops restarting `slot`; its `fork()` waiters, if any, reject with `reason`. True when a restart of it was waiting out its back-off. */
  retire(slot: Slot, reason: Error): boolean {
    slot.isRetired = true;
    const wasWaiting = slot.cancelRestart();
    slot.failing = undefined;
    slot.firstReady.reject(reason);
    // Its number and name are free again once its last worker is gone.
    if (!slot.current || slot.current.state === 'exited') this.#slots.delete(slot);
    else void slot.current.whenExited.promise.then(() => this.#slots.delete(slot));
    return wasWaiting;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Tells the refusals held for the next 10 s summary now: at the end of a shutdown, which would drop them. */
  flushWarnings(): void {
    this.#refusedTooOften.flush();
  }

  #attach(record: WorkerRecord): void {
    const worker = record.clusterWorker;
    guardChannel(
      worker.process,
      this.#context.options.maxMessageBytes + kFrameOverheadBytes,
      (fault) => this.#onChannelCorrupt(record, fault),
      (readMs, bytes) => this.#onSlowRead(record, readMs, bytes),
      kBusyReadMs,
      (bytes) => {
        // What the read carries is told with it, if it keeps the primary busy (onSlowRead).
        record.endpoint.clearReadTypes();
        record.ipcBytesRead += bytes;
        if (bytes >= kFullReadBytes) record.lastFullReadAt = Date.now();
      },
    );
    const handoffs = guardHandoffs(
      worker.process,
      processListens,
      (key) => this.#refusedTooOften.note(new Map([[key, 1]])),
      (count) => (this.#connectionsReset += count),
    );
    record.listenKeys = guardInternalMessages(worker.process, (fault) => this.#onChannelCorrupt(record, fault), kMaxServersPerWorker, processListens, handoffs, () =>
      this.#onChannelProtocolError(record, 'forged-listen', 'NODE_CLUSTER listening'),
    );
    record.unacknowledgedHandoffs = handoffs.unacknowledged;
    record.endUnacknowledgedHandoffs = handoffs.endUnacknowledged;
    const bulkEnd = isBulkAvailable(this.#context.options.serialization) ? primaryBulkEnd(worker.process.stdio) : undefined;
    if (bulkEnd !== undefined) {
      record.bulkEnd = bulkEnd;
      record.endpoint.readBulk();
      // EPIPE or ECONNRESET as the worker dies: its exit is what gets reported.
      bulkEnd.on('error', () => {});
      // Its end, once its process exited: the frames waiting for its bytes never complete, and
      // are dropped, so the exit waiting for them is told at once, not 2 s later (H499). An end
      // while it lives is its code closing the pipe (H86): held, for bulk-wait.ts to tell.
      bulkEnd.on('end', () => {
        record.isBulkEnded = true;
        if (record.finishExit === undefined) return;
        record.endpoint.endBulk(record.isKilledForChannel);
        record.finishExit();
      });
      // Timed as the channel guard times reads of the IPC channel: the frames this releases are
      // decoded and handled here, and a costly one must be told (workerSlowMessage) as there.
      bulkEnd.on('data', (chunk: Buffer) => {
        const startedAt = performance.now();
        const decodedBefore = record.endpoint.bulkBytesDecoded;
        record.endpoint.clearReadTypes();
        record.endpoint.receiveBulk(chunk);
        // Bytes coming are a sign of life, even before they complete a message: a worker sending
        // a long string slowly is not silent (its pongs wait behind that string).
        record.lastSeenAt = Date.now();
        record.bulkWait.onBytes(record.endpoint.isHoldingFrames, record.lastSeenAt);
        const readMs = performance.now() - startedAt;
        // The size told is what the read worked on: the messages it released and decoded (their
        // JSON text can be megabytes behind a one-byte chunk), not the chunk alone.
        if (readMs >= kBusyReadMs) this.#onSlowRead(record, readMs, Math.max(chunk.length, record.endpoint.bulkBytesDecoded - decodedBefore));
      });
    }
    worker.process.on('message', (message: unknown, handle: unknown) => {
      // A worker whose messages wait for bulk bytes that do not come is not heard: whatever else
      // it sends, nothing of it reaches the primary (the heartbeat's pong neither). But that it
      // still sends shows its loop turning, which tells lost bytes from late ones (bulk-wait.ts).
      const wasHolding = record.endpoint.isHoldingFrames;
      if (!wasHolding) record.lastSeenAt = Date.now();
      if (handle === undefined) {
        if (isClusterKitMessage(message)) record.endpoint.receive(message);
      } else {
        this.#onUnexpectedHandle(record, handle);
      }
      if (wasHolding || record.endpoint.isHoldingFrames) record.bulkWait.onMessage(wasHolding, record.endpoint.isHoldingFrames, Date.now(), this.#bulkMarginMs);
    });
    // Node's own protocol carries no handle from a worker either (a forged `cmd: 'NODE_...'`).
    worker.process.on('internalMessage', (message: unknown, handle: unknown) => {
      if (handle !== undefined) this.#onUnexpectedHandle(record, handle);
      // Node's own messages show its loop turning too (H617): a worker taking a flood of sticky
      // connections acknowledges each one (`NODE_HANDLE_ACK`) while our ping waits behind them in
      // Node's handle queue, which holds every later message until the last handle's acknowledgement.
      // 15,000 connections at once had both healthy workers called silent, then killed.
      if (!record.endpoint.isHoldingFrames) record.lastSeenAt = Date.now();
      // A server of its own closed (node:cluster's child sends `{ cmd: 'NODE_CLUSTER', act: 'close' }` from the server's close; no public event says it). A forged one only lowers its sender's own count.
      if (serverRequest(message)?.act === 'close') record.openServers = Math.max(0, record.openServers - 1);
    });
    worker.on('online', () => {
      record.isOnline = true;
      this.#context.emit('workerOnline', { worker: record.handle });
    });
    worker.on('listening', (address: Address) => {
      const wasListening = record.isListening;
      record.isListening = true;
      record.openServers += 1;
      this.#listens.noteListen(record.slot);
      record.whenListening.resolve();
      this.#context.emit('workerListening', { worker: record.handle, address });
      if (record.hasSaidReadyBeforeListen) this.markReady(record);
      else if (!wasListening && record.readyAt !== undefined && record.state === 'ready') this.#onLateListen(record);
    });
    worker.on('disconnect', () => this.#onDisconnect(record));
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.#onProcessExit(record, code, signal));
    // Always listened to: an unheard 'error' on a Worker (a send to a dead channel) would crash the primary.
    worker.on('error', (error: Error) => this.#onProcessError(record, error));
  }

  /**
   * A handle (socket, server) sent by a worker, along with a message of any kind. Nothing of
   * clusterkit's or node:cluster's sends one this way (sticky connections go from the primary to
   * the workers), and each is an open file descriptor here that nothing closes: a worker sending
   * them in a loop ran the primary out of descriptors (EMFILE), silently. Closed at once, after
   * the listeners registered before this one (a user's `cluster.on('message')`) have seen it;
   * counted and told (rate-limited) as a protocol error naming the worker.
   */
  #onUnexpectedHandle(record: WorkerRecord, handle: unknown): void {
    closeHandle(handle);
    this.#onChannelProtocolError(record, 'unexpected-handle');
  }

  #onProcessError(record: WorkerRecord, error: Error): void {
    if (record.pid === undefined) {
      // The spawn itself failed (ENOENT, EAGAIN...): there will be a 'disconnect' but never an 'exit'.
      record.startupError = new WorkerStartupError(record.id, 'spawn-failed', `Worker ${record.id} could not be spawned: ${describeSpawnError(error, this.#context.options.cwd)}`, { cause: error });
      this.#context.emit('workerError', { worker: record.handle, error });
      this.#onExit(record, null, null);
      return;
    }
    // node:cluster answers what the worker asked before it was killed for its channel: each
    // answer fails with EPIPE. One line said why it was killed; hundreds more would say nothing.
    if (record.isKilledForChannel && isClosedChannelError(error)) return;
    this.#context.emit('workerError', { worker: record.handle, error });
  }

  /**
   * The heartbeat found the worker silent only because its messages wait for bulk-pipe bytes that
   * are lost (silence.ts `isBulkLost`): a bulk fault, told and handled as the others.
   */
  reportBulkLost(record: WorkerRecord, silentMs: number): void {
    const limitBytes = this.#context.options.maxMessageBytes + kFrameOverheadBytes;
    const detail = `${record.endpoint.heldFrames} of its messages held, the oldest for ${formatElapsed(record.bulkWait.heldForMs(Date.now()))}; no byte on the pipe for ${formatElapsed(silentMs)}`;
    // The pipe's descriptor in the worker: the last entry of its stdio (bulk-channel.ts).
    this.#killForChannel(record, new ChannelCorruptError(record.describe(), 'bulk-lost', limitBytes, undefined, { detail, fd: record.clusterWorker.process.stdio.length - 1 }));
  }

  /** How long after its last bulk bytes a held worker's message shows its loop turned (silence.ts). */
  get #bulkMarginMs(): number {
    return bulkMarginMs(this.#context.options.heartbeat);
  }

  /** The worker wrote what its channel cannot carry (channel-guard.ts): it is killed, and restarted by the policy. */
  #onChannelCorrupt(record: WorkerRecord, fault: ChannelFault): void {
    const limitBytes = this.#context.options.maxMessageBytes + kFrameOverheadBytes;
    const error =
      fault.kind === 'too-many-servers'
        ? new ChannelCorruptError(record.describe(), 'too-many-servers', limitBytes, undefined, { servers: fault.servers, maxServers: fault.maxServers, isClusterWide: fault.isClusterWide })
        : fault.kind === 'bad-node-message'
        ? new ChannelCorruptError(record.describe(), 'bad-node-message', limitBytes, undefined, { cause: fault.cause, command: fault.command })
        : fault.kind === 'bulk-corrupt'
        ? new ChannelCorruptError(record.describe(), 'bulk-corrupt', limitBytes, undefined, { detail: fault.reason, side: fault.side })
        : fault.kind === 'not-a-message'
        ? new ChannelCorruptError(record.describe(), 'not-a-message', limitBytes, undefined, { cause: fault.cause })
        : new ChannelCorruptError(record.describe(), 'too-large', limitBytes, fault.bytes, fault.announcedBytes === undefined ? undefined : { announcedBytes: fault.announcedBytes });
    this.#killForChannel(record, error);
  }

  /** Tells why (`workerError`) and kills the worker (SIGKILL); the restart policy starts a new one. */
  #killForChannel(record: WorkerRecord, error: ChannelCorruptError): void {
    // Bytes a dead worker's descendant still writes, after its verdict or while it waits (ghost
    // retest t49: garbage 1 s after the exit made it "killed by the primary" and grew its backoff).
    if (record.state === 'exited' || record.isProcessGone()) return;
    record.protocolErrors++;
    record.isKilledForChannel = true;
    // What a failed start's and a crash loop's summaries say ended it (H510).
    record.killedFor ??= error;
    this.#context.emit('workerError', { worker: record.handle, error });
    void killWorker(record);
  }

  /**
   * A read of the worker's channel kept the primary busy `kBusyReadMs` or more (channel-guard.ts):
   * added up, and reported once such reads reach `kSlowReadMs`, rate-limited as protocol errors
   * are, the rest of each burst in the trailing report (slow-reads.ts).
   */
  /**
   * A protocol error read on the worker's channel: not told once its process exited (the
   * verdict waits up to `kChannelEndAfterExitMs` for the channel's end): what comes then is a
   * process it started that holds the channel (H456), not the worker, whose pid the line would
   * name (ghost retest t49). The channel is closed at the verdict.
   */
  readonly #onChannelProtocolError: WorkerProtocolError = (record, problem, type) => {
    if (!record.isProcessGone()) this.#onProtocolError(record, problem, type);
  };

  #onSlowRead(record: WorkerRecord, readMs: number, bytes: number): void {
    record.slowReads ??= new SlowReadTally((reads) => {
      record.slowMessages += reads.count;
      this.#context.emit('workerSlowMessage', {
        worker: record.handle,
        readMs: Math.round(reads.readMs),
        reads: reads.reads,
        bytes: reads.bytes,
        count: reads.count,
        types: [...reads.types],
        maxMessageBytes: this.#context.options.maxMessageBytes,
      });
    });
    const tally = record.slowReads;
    const endAt = Date.now();
    // After the messages the read parsed are handled: Node emits them on the next tick
    // (child_process's handleMessage), so their types are known only then.
    process.nextTick(() => {
      const types = record.endpoint.takeReadTypes();
      // A read of answers to scrapes is clusterkit's own work: a stall it causes names it (H627).
      if (types.includes(kMetricsRequest)) this.ownWork.note(kMetricsMerge, endAt - readMs, endAt);
      tally.add(readMs, bytes, types);
    });
  }

  #onDisconnect(record: WorkerRecord): void {
    // Told whichever came first, its exit or this (events.md: both, in either order). Before, a
    // worker reaped before its channel's end was read (several exiting at once, a shutdown of 4)
    // had its `workerExit` and no `workerDisconnect` (newcomer t64: 1 run in 3).
    this.#context.emit('workerDisconnect', { worker: record.handle });
    if (record.state === 'exited') return;
    // Its exit came first and waits for this end of its channel (`#onProcessExit`).
    if (record.finishExit !== undefined) return record.finishExit();
    this.rotation.remove(record);
    // Its own code closed its channel during a stop the primary asked for (`$ownClose`: a SIGTERM
    // listener's `server.close(); process.disconnect()`): it drains, and that stop's timeout, not
    // a second, bounds it (H547: a request of 2.5 s was cut at 1 s, with 10 s to stop).
    if (record.isAskedToStop && record.ownCloseAt !== undefined) return;
    // No reply can arrive any more. The exit normally follows within milliseconds and says how
    // the worker died; a worker that lingers without its channel is useless and is killed.
    record.disconnectTimer = setTimeout(() => {
      // The kill's reason first: its requests carry it as their cause, as the heartbeat's do (retest t80).
      record.killedFor ??= new WorkerChannelClosedError(record.describe(), kDisconnectGraceMs);
      const cause = record.killedFor;
      record.endpoint.close((type, queuedBehind, isAfterClose) =>
        isAfterClose ? record.notSentError(type) : queuedBehind === undefined ? new WorkerExitedError(record.exitDescription(), `(its IPC channel closed) before it replied to "${type}"`, { cause }) : record.unsentError(type, queuedBehind),
      );
      void killWorker(record);
    }, kDisconnectGraceMs);
  }

  /** Resolves once the processes of the workers the primary SIGKILLed have ended (at most `kDescendantsGraceMs` after their exits). */
  async whenDescendantsEnded(): Promise<void> {
    while (this.#endingDescendants.size > 0) await Promise.all(this.#endingDescendants);
  }

  /**
   * At the exit of a worker the primary SIGKILLed: the processes it listed just before (those
   * still the same processes) are told to go and killed after the grace (H140); at any exit by a
   * signal, those the heartbeat last saw too (H295). Those killed
   * are told (`workerDescendantsKilled`): a script whose children ignore SIGTERM.
   */
  #endDescendants(record: WorkerRecord, identities: readonly string[]): void {
    const ending = endProcesses(identities).then(
      (pids) => {
        if (pids.length > 0) this.#context.emit('workerDescendantsKilled', { worker: record.handle, pids: pids.slice(0, kMaxEventPids), count: pids.length });
      },
      () => {}, // nothing to end then: a failure here must not reach the primary
    );
    this.#endingDescendants.add(ending);
    record.descendantsEnding = ending;
    void ending.finally(() => {
      this.#endingDescendants.delete(ending);
      record.descendantsEnding = undefined;
    });
  }

  /**
   * At the exit by a signal of a worker (one the primary SIGKILLed, or dead of a signal of its
   * own or from outside: no cleanup of its own ran, to name them), the processes of its tree in
   * a session of their own, never ended, that still run: named by `workerDescendantsLeft`, each
   * once in the primary's life (H309). In time slices; `shutdown()` waits for it.
   */
  #nameLeftRunning(record: WorkerRecord, identities: readonly string[]): void {
    const fresh = identities.filter((identity) => !this.#namedLeft.has(identity));
    if (fresh.length === 0) return;
    const naming = namedRunning(fresh, kMaxEventPids).then(
      ({ processes, count, identities: running }) => {
        for (const identity of running) this.#namedLeft.add(identity);
        for (const identity of this.#namedLeft) {
          if (this.#namedLeft.size <= kMaxNamedLeft) break;
          this.#namedLeft.delete(identity);
        }
        if (count > 0) this.#context.emit('workerDescendantsLeft', { worker: record.handle, processes, count });
      },
      () => {}, // nothing read: nothing to name, and a failure here must not reach the primary
    );
    this.#endingDescendants.add(naming);
    void naming.finally(() => this.#endingDescendants.delete(naming));
  }

  /** A worker counted ready listened only later: told once per primary (ready-on-listen.ts). */
  #onLateListen(record: WorkerRecord): void {
    const warning = this.#listens.lateListen(record, record.readyAt!, Date.now());
    if (warning !== undefined) this.#context.reportWarning(warning);
  }

  #onReadyTimeout(record: WorkerRecord): void {
    record.readyTimer = undefined;
    if (record.state !== 'starting') return;
    const timeoutMs = this.#context.options.readyTimeoutMs;
    // It said ready and waited for its listen only because its slot listened before: counted
    // ready anyway, with a warning (ready-on-listen.ts). With waitListen, a failed start below.
    if (record.hasSaidReadyBeforeListen && !this.#context.options.waitListen) {
      record.mustListen = false;
      this.#context.reportWarning(notListenedYetWarning(record, timeoutMs, this.#context.options.readyAtLoad));
      this.markReady(record);
      return;
    }
    // It said ready and waits for its listen (ready-on-listen.ts): that listen is what never came.
    const message =
      record.hasSaidReadyBeforeListen
        ? capitalize(notListenedReason(record, timeoutMs, this.#context.options.waitListen, this.#context.options.readyAtLoad))
        : `${capitalize(record.describe())} was not ready within ${timeoutMs} ms (option "readyTimeoutMs"), so it was killed. ` +
          // A worker that never said hello never reached ClusterWorker.start(): no _init() to blame.
          // Its script (or preloads) may still have been loading: that can take longer than the
          // option on a loaded machine (tester t22); the advice depends on who starts it (H189).
          // Ready at its script's end (`readyAtLoad`): said hello or not, it was still loading its script (H239).
          (record.hasSaidHello && !this.#context.options.readyAtLoad
            ? `Its start-up may be waiting on something that never comes (${this.#context.options.readyWaitsFor}); raise the option if startup is legitimately slow. `
            : `${stillLoadingAdvice(loadingStepsFor(this.#context.options.loadingSteps, record.env))} `) +
          'Connections node:cluster had handed it are reset with it.';
    record.startupError = new WorkerStartupError(record.id, 'ready-timeout', message);
    this.#context.emit('workerError', { worker: record.handle, error: record.startupError });
    void killWorker(record);
  }

  /**
   * Node emits a worker's 'exit' once the process is reaped, which may come before the last of
   * what it wrote is delivered: its IPC channel read to its end ('disconnect' comes after the
   * last byte), and frames that wait for their bulk bytes (read from another pipe). libuv reaps
   * every exited child at a SIGCHLD, so when several workers exit at once (a shutdown that ends
   * workers still booting) one is reaped before its channel is read. A verdict given then missed
   * its `$stopped`: its clean stop was reported `failed` ("exited with code 0 before its stop
   * finished ... process.reallyExit()") and `clusterkit run` exited 1 (two under-load runs:
   * limits' [H4], drain-shutdown's [H48]). So the verdict waits until all it wrote was
   * delivered, at most `kChannelEndAfterExitMs`.
   *
   * A worker ended by a SIGINT or SIGTERM the primary did not send (one still booting, or a
   * script that removed its listeners) may have had it from a stop of the whole process group
   * (Ctrl-C, systemd, `timeout`), whose copy to the primary can be read after the worker's exit
   * (clean-clone CI, apps-start-stop [H209]: `could not start: it was killed by SIGINT`, then
   * `shutting down`). Its verdict waits `kGroupSignalWindowMs` for the primary's own stop: a stop
   * that begins meanwhile takes it in (stopped before it was ready, no restart).
   */
  #onProcessExit(record: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    if (record.state === 'exited' || record.finishExit !== undefined) return;
    // No connection is handed to a process that is gone, from now: node:cluster would until its
    // channel ends, which a process it started may delay for good (H456). What it wrote is still read.
    markExited(record.clusterWorker);
    const seenAt = Date.now();
    record.exitSeen = { at: seenAt, unseenSince: this.unseenSince?.(seenAt, record.readyAt) ?? seenAt };
    // Its bulk pipe read to its end before the exit was seen: nothing more comes on it (H499).
    if (record.isBulkEnded) record.endpoint.endBulk(record.isKilledForChannel);
    const mayBeGroupStop = (signal === 'SIGINT' || signal === 'SIGTERM') && !record.stopRequested && !record.isKilledByPrimary();
    // A worker still loading does not listen for SIGHUP yet, and Node's default for it ends the
    // process: a group's SIGHUP (a second `kill -HUP -<pgid>` during a reload) killed it along
    // with asking the primary to reload. Its verdict waits for the primary's own copy as for a
    // group stop; heard, its exit is no failed start (hangup-collateral, retest t72 N2). One whose
    // stop was asked for is stopped all the same, but not by the primary's hand: the primary sends
    // no SIGHUP (retest t73 P6: "was stopped before it was ready: it was killed by SIGHUP").
    const mayBeGroupHangup = signal === 'SIGHUP' && record.readyAt === undefined && !record.isKilledByPrimary() && this.hangupHeardSince !== undefined;
    const diedAt = performance.now();
    const isHangupHeard = () => this.hangupHeardSince?.(diedAt) === true;
    const startedAt = Date.now();
    // The shutdown began once the pool closed: its stop of the workers (which marks them) comes after its hooks and intake drain.
    const isStopping = () => record.stopRequested || this.#isClosed;
    // Either group signal waits the same window for what the primary does with its own copy.
    const isGroupCopyHeard = () => (mayBeGroupStop ? isStopping() : !mayBeGroupHangup || isHangupHeard());
    const isDelivered = () =>
      !record.clusterWorker.isConnected() && !record.endpoint.isHoldingFrames && (isGroupCopyHeard() || Date.now() - startedAt >= kGroupSignalWindowMs);
    const verdict = () => {
      // Forgiven a few times in a row per slot, not for ever: a script that signals its own group (retest t73).
      if (mayBeGroupHangup && isHangupHeard()) {
        // Taken into a shutdown that began, as a group stop's is: stopped, no re-fork (retest t74 P1:
        // `could not start ... the reload starts a new worker in its slot` as the shutdown stopped all).
        if (this.#isClosed && !record.stopRequested) this.markStopping(record);
        if (record.stopRequested || record.slot.groupHangups < kMaxGroupHangups) {
          record.isGroupHangup = true;
          if (!record.stopRequested) record.slot.groupHangups++;
        } else record.isUnforgivenHangup = true;
      }
      // Taken into the shutdown that began (before its exit was read, or while its verdict waited): stopped, not a failed start or a crash.
      if (mayBeGroupStop && this.#isClosed && !record.stopRequested) this.markStopping(record);
      this.#onExit(record, code, signal);
    };
    if (isDelivered()) return verdict();
    // Dead meanwhile: no pick (round-robin, `/readyz`) and no ready timeout for it while its verdict waits.
    this.rotation.remove(record);
    clearTimeout(record.readyTimer);
    const finish = () => {
      clearInterval(poll);
      record.finishExit = undefined;
      verdict();
    };
    // The channel's end is an event; frames released by bulk bytes are not: both are polled too.
    const poll = setInterval(() => {
      if (isDelivered() || Date.now() - startedAt >= kChannelEndAfterExitMs) finish();
    }, kChannelEndPollMs);
    record.finishExit = () => {
      if (isDelivered()) finish();
    };
  }

  #onExit(record: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    if (record.state === 'exited') return; // 'error' without pid and a late 'exit' may both come
    const wasReady = record.readyAt !== undefined;
    clearTimeout(record.readyTimer);
    clearTimeout(record.disconnectTimer);
    record.state = 'exited';
    record.exitCode = code;
    // A process the worker started may hold the pipe's other end: it is the worker's no more.
    record.bulkEnd?.destroy();
    record.signal = signal;
    this.#checkCrashClaim(record);
    if (!wasReady) this.#checkNodeOptions(record);
    this.rotation.remove(record);
    this.#records.delete(record.id);
    record.unansweredAtExit = record.endpoint.pendingCountOf(isUserRequest);
    record.endpoint.close((type, queuedBehind, isAfterClose) => (isAfterClose ? record.notSentError(type) : queuedBehind === undefined ? record.unansweredError(type) : record.unsentError(type, queuedBehind)));
    // What its rate-limited warnings held is told now, before its exit: nothing comes from it any more.
    record.protocolWarning?.flush();
    record.stickyWarning?.flush();
    record.stickyNotReceivedWarning?.flush();
    record.slowReads?.flush();
    this.#closeHeldChannel(record);
    if (!wasReady) record.whenReady.reject(record.startupFailure(loadingStepsFor(this.#context.options.loadingSteps, record.env), workersLoaderHint(this.#context.options, record.env)));
    const killed = record.isKilledByPrimary();
    // An exit with code 0 before its stop said it ended: its open requests are counted as cut.
    const isStopUnfinished = record.stopRequested && countUnfinishedStop(record, this.#context.emit);
    if (record.stopRequested && !isStopUnfinished) countOwnCloseExit(record, this.#context.emit);
    if (record.stopRequested && signal !== null && !killed) countSignalledStop(record, signal, this.#context.emit);
    this.#tellDestroyFailed(record);
    const isEndedUnstarted = isEndedUnstartedExit(record);
    // Either way: the worker still reading the primary's backlog (H218), or the primary still
    // reading the worker's own (H235), where its notice that its stop ended waits, or was lost.
    const isReadingBacklog = Date.now() - record.lastFullReadAt < kBackloggedExitMs;
    const isChannelBacklogged = isStopUnfinished && (isReadingBacklog || Date.now() - record.endpoint.channel.lastDrainAt < kBackloggedExitMs);
    const unreplaced = beforeTakeover(record, wasReady);
    // What its exit dropped of its output, as it said just before (output-lost-notice.ts).
    if (record.outputLostBytes !== undefined) this.#context.emit('workerOutputLost', { worker: record.handle, bytes: record.outputLostBytes });
    this.#context.emit('workerExit', {
      worker: record.handle,
      code,
      signal,
      expected: record.stopRequested,
      killed,
      // What the kill cut, on its own line (H367): the heartbeat's, the channel's, a stop's timeout.
      ...(killed ? killLoss(record) : {}),
      // Why, when no earlier event told it (H519: a worker left without its channel read as killed from outside).
      ...(killed && record.killedFor !== undefined ? { killedFor: record.killedFor } : {}),
      isStopUnfinished,
      ...(isEndedUnstarted ? { isEndedUnstarted } : {}),
      ...(record.isGroupHangup ? { isGroupHangup: true } : {}),
      ...(record.stopSignal !== undefined && !record.stopRequested ? { stopSignal: record.stopSignal } : {}),
      ...(isChannelBacklogged ? { isChannelBacklogged, backlogOf: isReadingBacklog ? ('worker' as const) : ('primary' as const) } : {}),
      // A replacement gone before its takeover: no crash follows, its exit says what it cut (H360).
      ...(unreplaced === undefined ? {} : { beforeTakeover: unreplaced }),
    });
    // Dead of a signal, the worker ran no cleanup of its own (descendants-at-exit.ts): out of V8
    // heap, process.abort(), a segfault, a kill -9 or the OOM killer from outside. What the last
    // heartbeat saw is ended too (H295); identities are checked, a reused pid is never signalled.
    const descendants = signal === null ? record.descendants : [...new Set([...(record.descendants ?? []), ...(record.descendantsSeen ?? [])])];
    if (descendants?.length) this.#endDescendants(record, descendants);
    // Those in a session of their own are left running, but named (H309). An exit with a code:
    // the worker's own cleanup ran, and named them itself (worker/descendants-at-exit.ts).
    const ownSessions = signal === null ? undefined : [...new Set([...(record.ownSessions ?? []), ...(record.ownSessionsSeen ?? [])])];
    if (ownSessions?.length) this.#nameLeftRunning(record, ownSessions);
    record.whenExited.resolve({ code, signal });
    record.whenStoppedAccepting.resolve();
    if (record.slot.current === record) restartAfterExit(this, this.#context, record, wasReady);
  }

  /**
   * The worker's process exited and its channel did not end within `kChannelEndAfterExitMs`:
   * another process holds the worker's end (one it started, in a session of its own, with the
   * channel's descriptor). The primary closes its own end (held-channel.ts): node:cluster removes
   * the worker from its round-robin handles, and nothing more is read from it (H457: a forged
   * `listening` every 200 ms was warned about in the dead worker's name for as long as that
   * process ran). The connections handed to it unacknowledged are ended first (H456). Told once.
   */
  #closeHeldChannel(record: WorkerRecord): void {
    const child = record.clusterWorker.process;
    // A spawn that failed (no pid; Node sets a negative exitCode) never had a process to hold its channel.
    if (record.pid === undefined || !child.connected || (child.exitCode === null && child.signalCode === null)) return;
    record.endUnacknowledgedHandoffs();
    if (!closeHeldChannel(child)) return;
    this.#context.reportWarning(
      new ChannelHeldError(
        record.id,
        record.pid,
        kChannelEndAfterExitMs,
        `${capitalize(record.describe())} exited, but its IPC channel was still open ${kChannelEndAfterExitMs / 1000} s later: another process holds the worker's end of it ` +
          '(one the worker started, in a session of its own, that inherited the channel\'s descriptor, NODE_CHANNEL_FD). The primary closed its own end: nothing more is read from it, ' +
          'no connection is handed to it, and those handed to it and not taken were closed. Start such processes without the channel in their stdio (stdio "ignore", or a list without "ipc" and its descriptor).',
      ),
    );
  }

  /**
   * A `$crash` is a claim, like `$destroyFailed`: the worker sends it from 'exit' only when it
   * dies of an uncaught error, which exits non-zero (crash-report.ts). An exit with code 0 belies
   * it (a forged notice, H234), and so does a death by a signal the primary did not send: 'exit'
   * ran, so the process was ending with a code, and a kill from outside (the OOM killer) is the
   * cause to tell (hostile t77: a forged `$crash`, then SIGKILL, read `crashed ... of an uncaught
   * DatabaseError`, and the SIGKILL was never said). Dropped as a protocol error, not quoted as what
   * the worker died of. One the primary killed (a stop's timeout) keeps its claim: its `'exit'` may have held it.
   */
  #checkCrashClaim(record: WorkerRecord): void {
    if (record.uncaughtError === undefined) return;
    if (!record.hasExitedCleanly() && (record.signal === null || record.isKilledByPrimary())) return;
    record.uncaughtError = undefined;
    this.#onProtocolError(record, 'unexpected', kCrashNotice);
  }

  /**
   * A worker that exited before any JavaScript ran with Node's code for refused options: its
   * failed start says so, told as its error before its exit line (H253), and its slot is not
   * restarted (restart-after-exit.ts).
   */
  #checkNodeOptions(record: WorkerRecord): void {
    if (record.startupError !== undefined) return;
    const error = nodeOptionFailure(record, this.#context.options.execArgv, workerNodeOptions(this.env));
    if (error === undefined) return;
    record.startupError = error;
    this.#context.emit('workerError', { worker: record.handle, error });
  }

  /**
   * A `$destroyFailed` says the worker exits with code 1 next: an exit with code 0 belies it
   * (a forged notice, H219), dropped as a protocol error instead of logged as what happened.
   */
  #tellDestroyFailed(record: WorkerRecord): void {
    const tell = record.tellDestroyFailed;
    record.tellDestroyFailed = undefined;
    if (tell === undefined) return;
    if (record.hasExitedCleanly()) this.#onProtocolError(record, 'unexpected', kDestroyFailedNotice);
    else tell();
  }

}

/** A write to a channel whose other end is gone: EPIPE, ECONNRESET, or Node's ERR_IPC_CHANNEL_CLOSED. */
function isClosedChannelError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_IPC_CHANNEL_CLOSED';
}

/** Closes a socket, server or UDP socket received over IPC. */
function closeHandle(handle: unknown): void {
  const closable = handle as { destroy?: () => void; close?: () => void };
  try {
    if (typeof closable.destroy === 'function') closable.destroy();
    else closable.close?.();
  } catch {
    // already closed
  }
}

function armWatchdog(record: WorkerRecord): void {
  if (record.isWatchdogArmed || !record.isConnected) return;
  record.isWatchdogArmed = true;
  record.endpoint.notify(kArmWatchdogNotice, undefined);
}

