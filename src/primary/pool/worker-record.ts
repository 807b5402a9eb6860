/**
 * The primary's private, mutable state for one worker process. Users see it through a
 * read-only `WorkerHandle`.
 */
import type { Worker as ClusterWorkerProcess } from 'node:cluster';
import type { Socket } from 'node:net';
import { capitalize } from '../../capitalize.js';
import { deferred, type Deferred } from '../../deferred.js';
import type { WorkerDestroyHook } from '../../destroy-hook.js';
import { describeExit, WorkerExitedError, WorkerStartupError, type ExitDescription } from '../../errors.js';
import { isSystemType } from '../../messaging/envelope.js';
import type { Endpoint } from '../../messaging/endpoint.js';
import type { UncaughtError } from '../../messaging/system-types.js';
import type { MeasuredCpu } from './measured-cpu.js';
import type { Slot } from './slot.js';
import type { StopTimeoutSetter } from './stop-timeout-words.js';
import type { RateLimitedWarning } from './rate-limited-warning.js';
import type { ProtocolTally } from './protocol-errors.js';

import { BulkWait } from './bulk-wait.js';
import { describeUncaughtError } from './crash-notice.js';
import { endedWhileLoadingAdvice } from './loading-advice.js';
import { isOutsideKillSignal, kGroupHangupHow, killedFromOutside, lookForSender, stoppedFromOutside, kUnforgivenHangupAdvice, kUnforgivenHangupHow } from './outside-kill.js';
import type { SlowReadTally } from './slow-reads.js';
import type { StopOutcome } from './stop-worker.js';
import type { WorkerHandle } from './worker-handle.js';

/** `starting` until its `_init` finished, `ready` while serving, `stopping` once asked to stop. */
export type WorkerState = 'starting' | 'ready' | 'stopping' | 'exited';

/** What the worker reported with its last heartbeat answer. */
export interface WorkerHealth {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /**
   * The limit of its heap's old generation, as the worker said (`WorkerStats.heapLimitBytes`,
   * H394); undefined from older workers and before the first heartbeat answer.
   */
  heapLimitBytes?: number | undefined;
  /** Mean event-loop delay since the previous heartbeat, in ms; undefined after the first one (nothing measured yet). */
  eventLoopDelayMs: number | undefined;
  /** 99th percentile of the event-loop delay since the previous heartbeat, in ms; undefined as the mean. */
  eventLoopDelayP99Ms: number | undefined;
  /**
   * CPU time the worker used since the previous heartbeat, as a percentage of the time between
   * them: 100 is one core fully busy (it can exceed 100 with worker threads). Undefined when
   * the worker did not report it. The worker's word: on Linux `stats()` shows the primary's own
   * reading instead (`WorkerRecord.measuredCpu`, H390).
   */
  cpuPercent: number | undefined;
  /** CPU time (user + system) the worker used since it started, in seconds, at that heartbeat; undefined when it did not report it (H375). */
  cpuSeconds?: number | undefined;
  /** Requests open on its tracked servers at that heartbeat; undefined when it tracks none. */
  openRequests: number | undefined;
  /** Their idle connections then (no request known on them); undefined as `openRequests` is, and from older workers. */
  idleConnections: number | undefined;
  /** When the primary received this answer, ms since the epoch (`primary.stats()` gives its age, `healthAgeMs`). */
  at: number;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class WorkerRecord {
  handle!: WorkerHandle;
  endpoint!: Endpoint;
  state: WorkerState = 'starting';
  readonly startedAt = Date.now();
  readyAt: number | undefined;
  /**
   * When the primary saw its process exit (ms since the epoch), and since when it may not have
   * seen it: the start of its own stall or a clock jump that ended just before (H486), else the
   * same time. Set at node:cluster's 'exit'; a verdict that waits for the channel's end counts from it.
   */
  exitSeen: { at: number; unseenSince: number } | undefined;
  /** The pool's `env` option it was forked with (a failed `reload({ env })` counts those of the new env, H340). */
  env: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Set when the worker said it served (`$served`: its first HTTP request or connection on a
   * tracked server, or its first user request message). A worker that served is never a failed
   * start; its crash backs off only within the startup window (H366, restart-policy.ts).
   */
  hasServed = false;
  /** Set at its first listen through node:cluster (`listening`): it has listened, whatever it closed since. */
  isListening = false;
  /**
   * Its servers listening through node:cluster now (H489): one more at each `listening`, one
   * less at each close Node's protocol tells the primary (`NODE_CLUSTER` `close`). 0 after a
   * listen: it closed every server while its process runs on, and accepts no connection.
   */
  openServers = 0;

  /** Listened, then closed every server it listened on (H489): it accepts no connection. */
  hasClosedServers(): boolean {
    return this.isListening && this.openServers === 0;
  }
  /**
   * Ready only once it listens (ready-on-listen.ts): decided at its fork, by `waitListen` or by
   * a listen of a worker before it in its slot (only the slot's own history counts).
   */
  mustListen = false;
  /** Set when its `$ready` came while it had yet to listen (`mustListen`): it is ready at its listen. */
  hasSaidReadyBeforeListen = false;
  /**
   * Set when the worker said it serves sticky connections (`$sticky`: it called `serveSticky()`);
   * cleared for the rest of its life when it refused one (`$stickyRefused`). Only such workers
   * get `listenSticky()` connections (listen-sticky.ts).
   */
  servesSticky = false;
  /** Sticky connections it closed unserved (`$stickyRefused`). */
  stickyRefused = 0;
  /** Sticky connections handed to it (listen-sticky.ts): each refusal answers one, so no more refusals than these are true (H544). */
  stickyHanded = 0;
  /** Its rate-limited `stickyRefused` events (created at its first refusal). */
  stickyWarning: RateLimitedWarning<number> | undefined;
  /** Its rate-limited `stickyRefused` events of reason `not-received` (listen-sticky.ts, H620). */
  stickyNotReceivedWarning: RateLimitedWarning<number> | undefined;
  /**
   * The primary asked this worker to stop (stop, shutdown, reload, replacement). Our own intent
   * flag: Node's `exitedAfterDisconnect` is false after `kill()` and can be spoofed by a worker.
   */
  stopRequested = false;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  /**
   * A stop signal it said it received (`$stopSignal`) outside a stop the primary asked for: it
   * stops on its own, and an exit with code 0 is told as stopped by it (H273).
   */
  stopSignal: 'SIGINT' | 'SIGTERM' | undefined;
  /** Why the worker could not start, when known (its `_init` error, spawn error, ready timeout). */
  startupError: Error | undefined;
  /**
   * Why the primary itself SIGKILLed it, when it knows (H510): the error it told (its channel's
   * `ChannelCorruptError`), or one said for it (the heartbeat, its channel closed without an
   * exit). Read through `primaryKillReason()`: a failed start's and a crash loop's summaries say
   * it, never "check its output" (the primary killed it: its output need not say why).
   */
  killedFor: Error | undefined;
  /** What it said it died of (`$crash`: an uncaught exception or unhandled rejection), control characters escaped. */
  uncaughtError: UncaughtError | undefined;
  /** Set once it sent `$crash`: once per life, a second one is dropped. */
  hasSaidCrash = false;
  /**
   * The requests its tracked servers had open as it exited outside a stop the primary asked for
   * (`$exiting`, or `$crash`'s count): newer than its last heartbeat's. Cleared by a heartbeat
   * answer after it (the worker lived on). Undefined when it said none.
   */
  openAtExit: number | undefined;
  /** Its idle connections as it exited, said with `openAtExit` (`$exiting`, `$crash`); undefined from older workers. */
  idleAtExit: number | undefined;
  /**
   * The requests its tracked servers had open as it last said outside an exit: a `$openRequests`
   * (told as they change) or a heartbeat answer, whichever was read last on its channel
   * (`openSaidArrival`). Set as the word is read, not once the primary has read the answer's RSS:
   * a death handled meanwhile counts it (H433). Undefined when it said none.
   */
  openSaid: number | undefined;
  /** Its idle connections as it last said, with `openSaid`. */
  idleSaid: number | undefined;
  /** Where its last `$openRequests` arrived among its words (`noteArrival()`). */
  openSaidArrival = 0;
  /** Its words counted by `noteArrival()` so far. */
  #arrivals = 0;

  /**
   * Counts one word of the worker as it is read, and returns its place: its channel is FIFO, so
   * a word read later was sent later. Which of a `$openRequests` and a heartbeat answer is newer
   * is told by it, not by clocks: one sent as a ping was on its way is older than the answer (H220).
   */
  noteArrival(): number {
    return ++this.#arrivals;
  }
  /** When its `$exiting` or `$crash` arrived (ms since the epoch): a ping sent after it and answered voids them. */
  exitSaidAt: number | undefined;
  /** Armed at fork, cleared when ready or exited. */
  readyTimer: NodeJS.Timeout | undefined;
  /** Armed when the IPC channel closes without an exit; cleared at exit. */
  disconnectTimer: NodeJS.Timeout | undefined;
  /**
   * When its own code closed its channel, as it said just before (`$ownClose`, H536): it then
   * drains on its own (or ends the stop it was in) and exits with code 0 only if it cut nothing.
   */
  ownCloseAt: number | undefined;
  /**
   * How many workers its slot had before this one (`WorkerStats.restarts`), set as it is forked:
   * a reload's replacement counts the worker it is to replace from its start, not only once it
   * took over (hostile t58: a starting replacement showed `restarts 0` beside its slot's `1`).
   */
  restartsBefore = 0;
  /** The bytes of output it said its exit dropped (`$outputLost`, H540); undefined when it said none. */
  outputLostBytes: number | undefined;
  /** Set while its exit waits for the last of what it wrote (worker-pool.ts `#onProcessExit`): gives the verdict once all was delivered. */
  finishExit: (() => void) | undefined;
  /** Last time anything arrived from the worker (heartbeat). */
  lastSeenAt = Date.now();
  health: WorkerHealth | undefined;
  /**
   * Its CPU as the primary read it at the latest heartbeat tick (measured-cpu.ts, H390): Linux
   * only, silent or not; undefined before the first read and elsewhere. `stats()` shows it rather
   * than the answer's `cpuPercent` and `cpuSeconds`.
   */
  measuredCpu: MeasuredCpu | undefined;
  /** Set while a read of its CPU is under way (one at a time). */
  isMeasuringCpu = false;
  /** Set when a read of its CPU failed (the process gone, a procfs mounted `hidepid`): its own figures are shown. */
  isCpuUnreadable = false;
  /**
   * Its RSS as the primary read it at a heartbeat tick while it was silent (measured-rss.ts,
   * H414): bytes, and when (ms since the epoch). A hung worker answers nothing, and its memory
   * would stay that of its last answer while it grows. `stats()` shows it while it is newer than
   * the last answer (`health.at`); the memory limit is still checked on answers alone.
   */
  silentRss: { bytes: number; at: number } | undefined;
  /** Set while a read of its RSS for its silence is under way (one at a time). */
  isMeasuringSilentRss = false;
  /** Consecutive heartbeats with RSS over `maxMemoryMb`. */
  memoryStrikes = 0;
  /**
   * Set when its first memory replacement is decided (memory-policy.ts `memoryHardLimitBytes`):
   * past this RSS it is stopped without waiting for the replacement (H163).
   */
  memoryHardLimitBytes: number | undefined;
  /** Stopped over `memoryHardLimitBytes`: its exit restarts its slot as a crash's would (restart-after-exit.ts). */
  isStoppedOverMemory = false;
  /** Set while a heartbeat ping awaits its answer. */
  isPinging = false;
  /** When the ping awaiting its answer was sent (ms since the epoch); set with `isPinging`, read while it is set (silence.ts). */
  pingSentAt = 0;
  /**
   * Set when the heartbeat reported it silent (`workerSilent`): when it was last heard before,
   * and when the report was made (ms since the epoch). Cleared when it answers a ping after the
   * report (`workerSilenceEnd`); a silent worker killed or stopped keeps it to its end.
   */
  silence: { since: number; reportedAt: number } | undefined;
  /** Messages from this worker dropped as protocol errors (protocol-errors.ts). */
  protocolErrors = 0;
  /**
   * The requests its death cuts off, as far as the primary knows, for a worker that dies without
   * saying what it cut (killed by a signal, crashed): the requests its tracked servers had open
   * as it last reported (as it exited, else its drain notices, else its last word on them:
   * `$openRequests` or its last heartbeat answer, whichever is newer), and the connections
   * handed to it that it never took. Undefined when it reported none and was handed none
   * unacknowledged. Connections node:cluster still queued in the primary for it are not known
   * here: with a hung worker, this is a lower bound.
   */
  lostRequests(): number | undefined {
    // Its last report, from before its own close, is stale: the drain after it cut nothing (H536).
    const open = this.hasDrainedAfterOwnClose() ? 0 : (this.openAtExit ?? this.openRequests ?? this.openSaid ?? this.health?.openRequests);
    const handoffs = this.unacknowledgedHandoffs() + this.unacknowledgedSticky;
    return open === undefined && handoffs === 0 ? undefined : (open ?? 0) + handoffs;
  }

  /**
   * Of `unansweredAtExit`, those its stop's kill cut (`isKilledToStop`) beyond the handlers it
   * said it abandoned itself (`handlersCut`, counted apart); 0 for any other end.
   */
  unansweredCutByKill(): number {
    return this.isKilledToStop ? Math.max(0, (this.unansweredAtExit ?? 0) - (this.handlersCut ?? 0)) : 0;
  }

  /**
   * The idle connections its death reset (open on its tracked servers, with no request known on
   * them: keep-alive connections between requests), from the same word as `lostRequests()`'s
   * count. A client that had sent its next request on one, not read yet, lost it: no count sees
   * it. Undefined when that word did not say (a stop's drain reports, an older worker).
   */
  resetConnections(): number | undefined {
    if (this.hasDrainedAfterOwnClose()) return undefined;
    if (this.openAtExit !== undefined) return this.idleAtExit;
    if (this.openRequests !== undefined) return undefined;
    if (this.openSaid !== undefined) return this.idleSaid;
    return this.health?.idleConnections;
  }

  /**
   * Its own code closed its channel (`$ownClose`), then it exited with code 0: its drain after the
   * close cut nothing (worker-lifecycle.ts makes an exit with requests open 1, H536).
   */
  hasDrainedAfterOwnClose(): boolean {
    return this.ownCloseAt !== undefined && this.exitCode === 0 && this.signal === null;
  }

  /**
   * Whether `lostRequests()` is exact: counted by the worker itself as it exited, with no idle
   * connection where a request could have waited unread. Else a lower bound: a last report is
   * up to 100 ms old (a second, from a heartbeat), and a request sent on an idle connection is
   * not known (H228).
   */
  isLostCountExact(): boolean {
    return this.openAtExit !== undefined && this.idleAtExit === 0;
  }

  /**
   * It exited by the primary's SIGKILL: to end its stop (the timeout, a second signal), for not
   * answering heartbeats, for what it wrote on its channel, at its ready timeout, or once its
   * channel closed without an exit: whatever sent it (kill-worker.ts). A SIGKILL otherwise came
   * from outside clusterkit. Read once it exited.
   */
  isKilledByPrimary(): boolean {
    return this.signal === 'SIGKILL' && this.isSigkilledByPrimary;
  }

  /**
   * Why the primary's own SIGKILL ended it (H510), when that is how it ended and the primary
   * knows why (`killedFor`); undefined otherwise. Read once it exited.
   */
  primaryKillReason(): Error | undefined {
    return this.isKilledByPrimary() ? this.killedFor : undefined;
  }

  /**
   * It exited with code 0, no signal: what a worker that claims a failure (`$crash`,
   * `$destroyFailed`) cannot have done, as it exits non-zero next. Read once it exited.
   */
  hasExitedCleanly(): boolean {
    return this.exitCode === 0 && this.signal === null;
  }

  /** When `workerProtocolError` was last emitted for it, and `protocolErrors` then. */
  protocolWarning: RateLimitedWarning<ProtocolTally> | undefined;
  /** Times its channel's reads kept the primary busy `kSlowReadMs`, one read or several costly ones (channel-guard.ts). */
  slowMessages = 0;
  /** Its costly reads (`kBusyReadMs` or more), added up into `workerSlowMessage`; created at the first. */
  slowReads: SlowReadTally | undefined;
  /**
   * When it last showed its event loop turning (ms since the epoch): a message from it, or a
   * backed-up write to it completing (it reads a backlog of ours before it can answer). What the
   * heartbeat's kill and `stats().silentMs` both count from.
   */
  lastHeardAt(): number {
    return Math.max(this.lastSeenAt, this.endpoint.channel.lastDrainAt);
  }

  /**
   * The primary's own stalls since it was last heard (H470, primary-heartbeat.ts): `ms` given
   * back to it, void once it is heard after `heardAt`. Shown silences count the wall clock.
   * `blockedMs`: the stalls' lateness as measured, what a report of the silence says (H474).
   * `jumpMs`: the wall clock's jumps past the monotonic one meanwhile (a suspend, an NTP step, H475), given back whole.
   */
  stallCredit = { ms: 0, heardAt: 0, blockedMs: 0, jumpMs: 0 };

  /**
   * Time it spent ready (ms) up to its exit as the primary saw it, 0 if it never was: `readyMs`
   * at least, counted up to the start of the primary's own stall that hid when it died (H486);
   * `unseenMs`, how much more it may have been (the restart policy's `stableAfterMs` reads the
   * least, a failed start the most: neither a reset backoff nor a failed start is said unsure).
   */
  readySpan(): { readyMs: number; unseenMs: number } {
    const seenAt = this.exitSeen?.at ?? Date.now();
    if (this.readyAt === undefined) return { readyMs: 0, unseenMs: 0 };
    const atMost = Math.max(0, seenAt - this.readyAt);
    // Whole ms, down: the stall's start is read on the monotonic clock (under-load suite: `readyMs=16.473388671875`).
    const atLeast = Math.max(0, Math.floor(Math.min(seenAt, this.exitSeen?.unseenSince ?? seenAt)) - this.readyAt);
    return { readyMs: atLeast, unseenMs: atMost - atLeast };
  }

  /** The ms of its current silence the primary itself was blocked (H474): 0 when none, or once it is heard again. */
  primaryBlockedMs(): number {
    return this.lastHeardAt() === this.stallCredit.heardAt ? Math.round(this.stallCredit.blockedMs) : 0;
  }

  /** When its silence as judged begins (ms since the epoch): `lastHeardAt()` moved on by the primary's stalls since, never past `now`. */
  judgedSinceAt(now: number): number {
    const heardAt = this.lastHeardAt();
    return heardAt === this.stallCredit.heardAt ? Math.min(now, heardAt + this.stallCredit.ms + this.stallCredit.jumpMs) : heardAt;
  }

  /** Set when its `$hello` came: it runs a ClusterWorker that started. */
  hasSaidHello = false;
  /**
   * Set at node:cluster's `online`, which the worker's bootstrap sends before any preload or
   * script runs: a worker that exits without it never ran JavaScript (node-option-failure.ts).
   */
  isOnline = false;
  /** Bytes read from its IPC channel (channel-guard.ts): what the bulk reader holds is bounded by them. */
  ipcBytesRead = 0;
  /**
   * When the primary last read a full buffer of this worker's IPC channel (`kFullReadBytes`):
   * more was waiting behind it, the worker's messages were backed up then (H235).
   */
  lastFullReadAt = 0;
  /** The primary's end of the worker's bulk pipe (messaging/bulk-channel.ts), when it has one. */
  bulkEnd: Socket | undefined;
  /** Its bulk pipe was read to its end (EOF): once its process exited, no byte comes any more (H499). */
  isBulkEnded = false;
  /** Its messages waiting for their bulk bytes, and whether it kept talking meanwhile (bulk-wait.ts). */
  readonly bulkWait = new BulkWait();
  /**
   * Sticky connections written to its channel that it has not acknowledged yet (Node's
   * `NODE_HANDLE_ACK`; listen-sticky.ts): Node closes them at the channel's end, so its death
   * cut them (hostile tester t57). Node writes one handle at a time: 0 or 1.
   */
  unacknowledgedSticky = 0;
  /** Connections node:cluster handed to it that it never acknowledged (handoff-guard.ts). */
  unacknowledgedHandoffs: () => number = () => 0;
  /** Ends the connections handed to it and never acknowledged (handoff-guard.ts `endUnacknowledged`): its process exited, its channel held by another. */
  endUnacknowledgedHandoffs: () => void = () => {};
  /** The listening addresses (node:cluster handle keys) it holds now (channel-guard.ts). */
  listenKeys: ReadonlySet<string> = new Set();
  /** Set when the primary killed it for what it wrote on its channel (channel-guard.ts). */
  isKilledForChannel = false;
  /** Its descendants (`<pid>:<start time>`), listed by the primary just before it SIGKILLed it (kill-worker.ts). */
  descendants: string[] | undefined;
  /**
   * Its descendants as the heartbeat last saw them (descendant-snapshot.ts), ended at its exit by
   * a signal: a worker that died of its own signal, or of one from outside, ran no cleanup (H295).
   */
  descendantsSeen: string[] | undefined;
  /**
   * Processes of its tree in a session of their own (`detached: true`, `setsid`, a daemon), as
   * the primary listed them before its SIGKILL (`ownSessions`) and as the heartbeat last saw them
   * (`ownSessionsSeen`): never ended, named at its exit by a signal if still running (H309).
   */
  ownSessions: string[] | undefined;
  ownSessionsSeen: string[] | undefined;
  /** The ending of those processes after its exit (at most `kDescendantsGraceMs`), while under way: its restart waits for it (H305). */
  descendantsEnding: Promise<void> | undefined;
  /** Set once the primary decided to SIGKILL it (kill-worker.ts), any reason. */
  isSigkilledByPrimary = false;
  /** The list of its descendants then its SIGKILL, under way or done (kill-worker.ts). */
  killing: Promise<void> | undefined;
  /** Set once its orphan watchdog was armed (`$watchdog` sent). */
  isWatchdogArmed = false;
  /** Set once the heartbeat declared it unresponsive (it is being killed). */
  isUnresponsive = false;
  /** With `isUnresponsive`: the heartbeat timeout (ms) its silence passed, for the stop's kill cause (H376). */
  unresponsiveAfterMs: number | undefined;
  /** Set when the heartbeat killed it while its process was stopped (SIGSTOP, a debugger): the stop's summary says so (chaos tester t51), not a blocked loop. */
  wasPausedAtKill = false;
  /** Set by the first stop (stop-worker.ts); later stops share it. */
  stopping: Promise<StopOutcome> | undefined;
  /** Its stop releases its connections gradually (a reload, a scale-down); a shutdown hurries it (stop-worker.ts). */
  isDrainingGradually = false;
  /** Set when the primary SIGKILLs it to end a stop (the stop timeout, a second signal). */
  isKilledToStop = false;
  /** The stop's timeout (ms), when the primary SIGKILLed it for still running at it (stop-worker.ts). */
  killedAtStopTimeoutMs: number | undefined;
  /**
   * Killed at its stop's timeout unheard since before that stop began, a heartbeat ping
   * unanswered meanwhile: how long it had been silent (ms). Its event loop was blocked (or its
   * process stopped) the whole stop, which a longer timeout would not have helped (newcomer t82 #2).
   */
  silentThroughStopMs: number | undefined;
  /**
   * The call whose own `timeoutMs` bounds its stop, set before that stop starts; undefined for
   * the `shutdownTimeoutMs` option. The lines that name the timeout, or say to raise it, name
   * that call's (retest t68b: a `stopWorker()` at 500 ms said "the shutdown timeout").
   */
  stopTimeoutSetBy: StopTimeoutSetter | undefined;
  /**
   * Set when `stopWorker()` stopped it while it was not its slot's worker: a replacement still
   * starting (a reload's, a memory replacement's), whose slot kept its worker (hostile t83 #1).
   */
  isStoppedAsReplacement = false;
  /**
   * The user's requests to it (`send()`, a relayed `sendTo()`) written and awaiting its replies
   * as its channel closed at its exit; set then. A worker the primary killed to end its stop
   * could not say it abandoned their handlers (`handlersCut`): they count as cut all the same
   * (hostile t69: `requestsCut: 0` for two requests its callers lost).
   */
  unansweredAtExit: number | undefined;
  /**
   * Set when a stop found its process already exited on its own, its verdict waiting for its
   * channel's end (stop-worker.ts): that stop stopped nothing, and its report leaves it out;
   * its exit is told as what it was, a crash or an exit (H462).
   */
  hasExitedBeforeStop = false;
  /** Set when its stop ended it with SIGTERM before its `$hello` (end-unstarted.ts). */
  isEndedUnstarted = false;
  /**
   * Set when it died of SIGHUP while still loading, as the primary got a SIGHUP of its own: the
   * signal is taken for one sent to the whole process group, which reached it before it listened
   * for SIGHUP (worker-pool.ts `#onProcessExit`). No failed start: it is started again, uncounted;
   * unless its stop was asked for (`stopRequested`): stopped all the same, its line says how.
   */
  isGroupHangup = false;
  /**
   * Set when it died so, as the primary got a SIGHUP of its own, past the deaths its slot
   * forgives (`kMaxGroupHangups`): a failed start, said as what it was (hostile t75 F2).
   */
  isUnforgivenHangup = false;
  /**
   * While it stops: the requests its tracked servers still have open, as it last reported
   * (`$drain`); undefined when it reported none (it tracks no server, or has not stopped).
   */
  openRequests: number | undefined;
  /**
   * Requests the worker cut off while it stopped (`$requestsCut`): still open at its own
   * deadline, or when its process exited; or, for an exit with code 0 before its stop said it
   * ended (`$stopped`), those known open then (`lostRequests()`). Undefined when it cut none.
   */
  requestsCut: number | undefined;
  /**
   * The worker's own stop deadline (ms after its stop began) at which it cut off its requests
   * (`$requestsCut` with its `timeoutMs`); undefined when it cut none there (an exit or a close
   * with requests open). With `handlersCutAtMs` (`$handlersCut`), the one cause `clusterkit stop`
   * can name for it (H367).
   */
  requestsCutAtMs: number | undefined;
  handlersCutAtMs: number | undefined;
  /**
   * Message handlers it said still ran at its own stop deadline (`$handlersCut`): abandoned, as
   * requests cut off are. Undefined when it abandoned none (H229).
   */
  handlersCut: number | undefined;
  /**
   * The requests it said were open in its stop: those open as it began (`$stopping`) and each
   * rise its drain reported since. What it may claim it cut (`$requestsCut`) is bounded by it.
   * Undefined until its `$stopping`.
   */
  stopRequestsSeen: number | undefined;
  /** Set once it said its `_destroy` failed (`$destroyFailed`): once per stop. */
  hasSaidDestroyFailed = false;
  /** What its `_destroy` runs, as its `$destroyFailed` named it (`onWorkerShutdown` under the service runner); undefined: `_destroy` (H694). */
  destroyHook: WorkerDestroyHook | undefined;
  /** Its script's stop listener left a server listening at the deadline (`$destroyFailed`'s `serversListening`): it closed nothing. */
  wasListeningAtDeadline = false;
  /**
   * What its `$destroyFailed` claims, told at its exit, and only if that exit bears it out
   * (a code other than 0, or a signal): a claim followed by an exit with code 0 is forged (H219).
   */
  tellDestroyFailed: (() => void) | undefined;
  /** Set when the primary sent it `$shutdown` (stop-worker.ts): it says when that stop ends (`$stopped`). */
  isAskedToStop = false;
  /**
   * When the primary first sent it `$shutdown` (ms since the epoch, the primary's clock): the
   * deadline a `$destroyFailed` claims is checked against the time since (H221).
   */
  askedToStopAt: number | undefined;
  /**
   * The worker's own stop deadline for the first `$shutdown` it was sent (ms since the epoch, the
   * primary's clock: the worker counts it from the request's `sentAt`, stop-margin.ts), and its
   * span from that ask (ms). A worker whose own code closed its channel in the stop can send no
   * `$requestsCut`: an exit 1 from then on tells a cut at this deadline from an exit of its code's.
   */
  stopDeadline: { readonly at: number; readonly ms: number } | undefined;
  /** Set when it said the stop the primary asked for ran to its end (`$stopped`); only then can that stop be `graceful`. */
  hasFinishedStop = false;
  /** Set when a plain script under `clusterkit run` stops through its own listeners of this signal (`$scriptCleanup`). */
  cleanupSignal: 'SIGINT' | 'SIGTERM' | undefined;
  readonly whenReady: Deferred<void> = deferred();
  readonly whenListening: Deferred<void> = deferred();
  readonly whenExited: Deferred<WorkerExit> = deferred();
  /**
   * Resolved once the worker no longer accepts connections: the primary read a `$drain` or
   * `$sync` from its stop (sent after its servers' close, so Node's cluster, which reads the
   * close first on the same channel, hands it no more connections), or it exited. A shutdown
   * releases no keep-alive client before every worker got there (stop-worker.ts).
   */
  readonly whenStoppedAccepting: Deferred<void> = deferred();
  /**
   * Set when a shutdown stops it, even one a reload or scale-down began (the shutdown hurries
   * its gradual drain, and kills it at its timeout): the shutdown reports its fate, they do not.
   */
  isInShutdownReport = false;
  /** Set once `workerDrain` was emitted for its stop (its first `$drain` of a gradual drain). */
  hasSaidDrain = false;

  constructor(
    readonly clusterWorker: ClusterWorkerProcess,
    readonly slot: Slot,
    /** The pool that owns this record: a handle from another primary is never accepted. */
    readonly owner: object,
  ) {}

  get id(): number {
    return this.clusterWorker.id;
  }

  get pid(): number | undefined {
    return this.clusterWorker.process.pid;
  }

  /**
   * Its process exited ('exit' was emitted: Node sets these first), whatever its verdict waits
   * for: `state` turns `exited` at the verdict, which waits for the end of its IPC channel (up
   * to 2 s when a process it started holds it: worker-pool.ts `#onProcessExit`).
   */
  isProcessGone(): boolean {
    const child = this.clusterWorker.process;
    return child.exitCode !== null || child.signalCode !== null;
  }

  /**
   * Its state as `stats()` (so `clusterkit status`, the dashboard, `/metrics`) shows it:
   * `exited` from its process's exit on, not the `ready` it had while its verdict waits (H462:
   * status said `2/2` for 2 s with one process dead).
   */
  shownState(): WorkerState {
    return this.isProcessGone() ? 'exited' : this.state;
  }

  get isConnected(): boolean {
    return this.state !== 'exited' && this.finishExit === undefined && this.clusterWorker.isConnected();
  }

  /** `worker 3 (pid 4242)`, for messages. */
  describe(): string {
    return `worker ${this.id} (pid ${this.pid ?? 'none'})`;
  }

  exitDescription(): ExitDescription {
    return { workerId: this.id, pid: this.pid, exitCode: this.exitCode, signal: this.signal };
  }

  /**
   * The error of a request of `type` it left unanswered at its exit (for a relayed `sendTo()`,
   * the sender's type). When its stop cut message handlers off at its deadline, a user request's
   * says so: "exited with code 1" alone reads as a crash, and before H264 a relayed one read
   * "exited with code 0".
   */
  unansweredError(type: string, cause?: unknown): WorkerExitedError {
    const cut = this.handlersCut !== undefined && !isSystemType(type) ? ": its handler was cut at the worker's stop deadline, still running" : '';
    // Killed by the primary (unanswered heartbeats, its channel, its ready timeout): said, and why
    // as the cause, not as a bare "killed by SIGKILL", which reads as a kill from outside (hostile t68 F6).
    // A relayed one's cause is the forwarded request's own error, which says this already: its cause is then the reason.
    const reason = cause instanceof WorkerExitedError && cause.cause !== undefined ? cause.cause : (cause ?? this.primaryKillReason());
    const how = this.killedHow();
    return new WorkerExitedError(this.exitDescription(), `before it replied to "${type}"${cut}`, { ...(how === undefined ? {} : { how }), ...(reason === undefined ? {} : { cause: reason }) });
  }

  /** `was killed by the primary (SIGKILL): it did not answer heartbeats for 3.6 s` when the primary's own SIGKILL ended it; undefined otherwise (hostile t68 F6). */
  killedHow(): string | undefined {
    if (!this.isKilledByPrimary()) return undefined;
    const reason = this.killedFor;
    return reason === undefined ? 'was killed by the primary (SIGKILL)' : `was killed by the primary (SIGKILL): ${killedWhy(reason)}`;
  }

  /**
   * For a message sent to it once it had exited, or its channel had closed (lib t58): never
   * written, it did not run there. `queuedBehind` 0, as errors.md reads the field: the message
   * had nothing ahead of it, and a retry cannot run it twice.
   */
  notSentError(type: string, channel = ''): WorkerExitedError {
    return new WorkerExitedError(this.exitDescription(), `${channel}before "${type}" was sent`, {
      queuedBehind: 0,
      advice: 'It was not sent and did not run: send it to a worker that runs (primary.workers, roundRobin()).',
    });
  }

  /**
   * For a request to it that was still queued in the primary (never written) when it exited
   * (tester t51): it never got it, so a retry cannot run it twice. `queuedBehind`: the requests
   * awaiting its replies ahead of it then.
   */
  unsentError(type: string, queuedBehind: number): WorkerExitedError {
    const ahead = queuedBehind === 0 ? '' : ` behind ${queuedBehind} earlier ${queuedBehind === 1 ? 'request' : 'requests'} to it`;
    const how = this.killedHow();
    const killedFor = this.primaryKillReason();
    return new WorkerExitedError(this.exitDescription(), `before "${type}" was sent to it: it waited in the primary's queue${ahead}, and the worker never got it`, {
      queuedBehind,
      ...(how === undefined ? {} : { how }),
      ...(killedFor === undefined ? {} : { cause: killedFor }),
    });
  }

  /**
   * The signal from outside clusterkit that ended it, and how that reads after "worker 3": a
   * SIGKILL or SIGTERM the primary did not send, or a stop signal it said it got and then exited
   * with code 0 on (`$stopSignal`). Undefined for any other end, and for a stop the primary asked for.
   */
  outsideSignal(): { signal: NodeJS.Signals; how: string } | undefined {
    if (this.stopRequested) return undefined;
    if (this.isGroupHangup) return { signal: 'SIGHUP', how: kGroupHangupHow };
    if (this.isUnforgivenHangup) return { signal: 'SIGHUP', how: kUnforgivenHangupHow };
    if (isOutsideKillSignal(this.signal) && !this.isKilledByPrimary()) return { signal: this.signal, how: killedFromOutside(this.signal) };
    if (this.stopSignal !== undefined && this.hasExitedCleanly()) return { signal: this.stopSignal, how: stoppedFromOutside(this.stopSignal) };
    return undefined;
  }

  /**
   * Why a worker that exited before ready failed to start; `loadingSteps`: the option, what runs
   * before its ClusterWorker starts; `loaderHint`: said at the end when its own code ended it (a
   * TypeScript script without a loader, H424), not for a signal from outside.
   */
  startupFailure(loadingSteps: string | undefined, loaderHint?: string): Error {
    if (this.startupError) return this.startupError;
    // A worker that said hello ran a ClusterWorker (clusterkit run's and the service runner's
    // bootstraps do, for scripts with no clusterkit code): its own code exited. One that never
    // did was still loading (loading-advice.ts).
    // Of what, when it said (`$crash`): the error and where it was thrown are then the whole story.
    const hint = loaderHint === undefined ? {} : { hint: loaderHint };
    // The primary killed it, for a reason it told (its channel, ...): that reason, not "check its
    // output", which need not say anything (H510: an IPC message over the limit read "killed by
    // SIGKILL before it was ready. Check its output for the error").
    const killed = this.primaryKillReason();
    if (killed) return new WorkerStartupError(this.id, 'exited', killed.message, { cause: killed, isKilledByPrimary: true });
    if (this.uncaughtError) return new WorkerStartupError(this.id, 'exited', `${capitalize(this.describe())} ${describeExit(this.exitCode, this.signal, this.pid)} before it was ready, of ${describeUncaughtError(this.uncaughtError)}`, hint);
    // A kill the primary did not send, or a stop signal it did not send that the worker exited
    // on: no error of its script's to look for (H266, H273).
    const outside = this.outsideSignal();
    if (outside) {
      const advice = this.isUnforgivenHangup ? kUnforgivenHangupAdvice : lookForSender(outside.signal);
      return new WorkerStartupError(this.id, 'exited', `${capitalize(this.describe())} ${outside.how} before it was ready. ${advice}.`, { outsideSignal: outside.signal });
    }
    // Exit code 0 is no error: nothing in its output to point at (hostile t58: `process.exit(0)` at
    // import; the per-attempt line said so already, H431, the crash-loop error did not).
    const isCleanEnd = this.exitCode === 0 && this.signal === null;
    const advice = !this.hasSaidHello
      ? endedWhileLoadingAdvice(loadingSteps, this.exitCode, this.signal)
      : isCleanEnd
        ? 'Its script ended (process.exit(0), or nothing left to keep it running) without listening or becoming ready: no error to look for in its output.'
        : 'Check its output for the error.';
    return new WorkerStartupError(this.id, 'exited', `${capitalize(this.describe())} ${describeExit(this.exitCode, this.signal, this.pid)} before it was ready. ${advice}`, hint);
  }
}

/**
 * A kill reason split for a summary that starts "worker 3 ... after it became ready: " (H510):
 * `clause`, its first sentence as a clause (`it sent an IPC message of more than 16.1 MiB (...),
 * so the primary ... killed the worker (SIGKILL) before running out of memory`); `advice`, the
 * sentences after it (what to change), '' when there are none.
 */
export function splitKillReason(reason: Error): { clause: string; advice: string } {
  const message = reason.message.replace(/^Worker \d+(?: \(pid [^)]*\))? /, 'it ');
  const end = message.indexOf('. ');
  return end === -1 ? { clause: message.replace(/\.$/, ''), advice: '' } : { clause: message.slice(0, end), advice: message.slice(end + 2).trim() };
}

/**
 * Why the primary killed a worker, in a few words, from the reason it kept (`killedFor`): `it
 * did not answer heartbeats for 3.6 s` from `Worker 3 (pid 42) did not answer heartbeats for
 * 3.6 s, so the primary killed it ...`; the whole reason is the error's `cause`.
 */
function killedWhy(reason: Error): string {
  const text = reason.message;
  const cut = text.indexOf(', so the primary killed it');
  const head = cut > 0 ? text.slice(0, cut) : '';
  const subject = head.match(/^Worker \d+ \(pid \d+\) /);
  return subject !== null ? `it ${head.slice(subject[0].length)}` : 'its cause says why';
}
