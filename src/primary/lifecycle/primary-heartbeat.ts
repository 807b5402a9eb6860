/**
 * Hang detection: the primary pings each ready worker; one silent for `timeoutMs` (no pong, no
 * message at all) has a blocked event loop and is reported. Sends keep "succeeding" to such a
 * worker, so the channel state cannot tell. The pong carries memory and event-loop figures.
 *
 * A worker being stopped (a shutdown, `stopWorker()`, a reload's or a scale-down's, a memory
 * replacement's old worker) is pinged too, once it had been ready (H376): its stop goes on with
 * its loop turning (it answers pings while it drains and runs `_destroy`), and one silent past
 * `timeoutMs` can finish nothing, so waiting for it would only hold the stop until its timeout.
 * Only that counts for it: no silence notices, no memory checks (it is going anyway).
 *
 * On Linux each tick also reads every such worker's CPU time from procfs (measured-cpu.ts,
 * H390), answering or silent: a blocked worker says nothing, and its CPU is what tells a
 * spinning loop from a sleeping one. A silent worker's RSS is read at each tick too (H414): a
 * hung worker's memory as it grows, not that of its last answer. Only for the reports: the
 * memory limit is checked on answers (a silent worker is the heartbeat timeout's to end).
 *
 * If the primary's own loop stalled (a huge synchronous send or scan, a GC pause, SIGSTOP),
 * silence that overlaps the stall is not the workers' fault (H470): the stall is measured
 * (primary-stall.ts) and given back to each worker before anyone is judged, so a worker is
 * judged on the silence it had while the primary ran. One that was blocked is still killed at
 * its timeout, counted without the stall.
 * Nor is a worker silent that is still reading a backlog of our messages (the ping waits behind
 * them): while our writes to it complete, its loop is turning.
 */
import type { PingReport } from '../../messaging/system-types.js';
import type { NormalizedHeartbeatOptions } from '../primary-options.js';
import { DescendantSnapshots } from '../pool/descendant-snapshot.js';
import { nextMeasuredCpu, readCpuTicks } from '../pool/measured-cpu.js';
import { measureRss } from '../pool/measured-rss.js';
import { isBulkLost, isHeardWhileHeld, isSilent } from '../pool/silence.js';
import { measureSilentRss } from '../pool/silent-rss.js';
import { markAnswering, markSilent } from '../pool/silent-steer.js';
import type { WorkerPool } from '../pool/worker-pool.js';
import type { WorkerHealth, WorkerRecord } from '../pool/worker-record.js';
import type { PingAnswer } from './checked-ping.js';
import { PrimaryStall } from './primary-stall.js';
import { isPaused } from '../../worker/process-table.js';

/** Consecutive over-limit answers before a worker is replaced for memory. */
export const kMemoryStrikes = 3;

export interface HeartbeatCallbacks {
  /** Sends `$ping`; resolves with the checked answer, rejects on a timeout or a bad answer. */
  ping(record: WorkerRecord, timeoutMs: number): Promise<PingAnswer>;
  /** `primaryBlockedMs`: how much of `silentMs` the primary itself was blocked (H474), 0 when none. */
  onUnresponsive(record: WorkerRecord, silentMs: number, primaryBlockedMs: number): void;
  /** Silent only because its messages wait for bulk-pipe bytes that are lost (silence.ts `isBulkLost`): the pipe's fault. */
  onBulkLost(record: WorkerRecord, silentMs: number): void;
  /** It became silent (silence.ts): once per silence, however many picks pass it over. */
  onSilent(record: WorkerRecord, silentMs: number): void;
  /** A worker reported silent answered a ping again, after `silentMs` without a word. */
  onSilenceEnd(record: WorkerRecord, silentMs: number): void;
  onMemoryLimit(record: WorkerRecord, rssBytes: number, limitBytes: number): void;
  /** Its RSS reached `memoryHardLimitBytes` while its replacement was not ready (H163): backing off, starting or failed (H180). */
  onMemoryHardLimit(record: WorkerRecord, rssBytes: number, limitBytes: number): void;
  /** The primary's own event loop was blocked for `blockedMs` ms in all, over `spanMs` ms (primary-stall.ts): at least `kReportStallMs`; `isOngoing`, so far. */
  onPrimaryBlocked(blockedMs: number, spanMs: number, isOngoing: boolean, endAt: number): void;
}

/** How often the primary checks its own stall (ms), at most: a stall is measured to within it. */
const kStallPeriodMs = 250;

export class PrimaryHeartbeat {
  /** Set between start() and stop(). */
  #timer: NodeJS.Timeout | undefined;
  /** The primary's own stall (H470): checked first thing in each tick, and between ticks. */
  readonly #stall: PrimaryStall;
  /** When each worker whose messages wait for bulk bytes was last probed (`#probe`). */
  readonly #probedAt = new WeakMap<WorkerRecord, number>();
  /** Each worker's processes as last seen, for its exit by a signal (H295). */
  readonly #descendants = new DescendantSnapshots();
  /** Refreshes `#descendants` from the first fork on: not only once the start is over (`start()`). */
  #snapshotTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: NormalizedHeartbeatOptions,
    private readonly maxMemoryMb: number | undefined,
    private readonly callbacks: HeartbeatCallbacks,
  ) {
    this.#stall = new PrimaryStall(Math.min(options.intervalMs, kStallPeriodMs), {
      onStall: (stalledMs, lateMs, now) => this.#forgiveStall(stalledMs, lateMs, now),
      onLongStall: (blockedMs, spanMs, isOngoing, endAt) => callbacks.onPrimaryBlocked(blockedMs, spanMs, isOngoing, endAt),
      onClockJump: (jumpMs, now) => this.#skipClockJump(jumpMs, now),
    });
  }

  start(): void {
    if (this.#timer) return;
    this.#stall.start();
    this.#timer = setInterval(() => this.#tick(), this.options.intervalMs);
    this.#timer.unref();
  }

  /**
   * Starts taking each live worker's descendants every interval (H295), before the first fork:
   * a worker that dies of a signal while the start runs (a crash loop before ready, a kill -9
   * half a second after ready) left every child it had, as the pings begin only once the start
   * is over (retest t31 M-A).
   */
  watchDescendants(): void {
    if (this.#snapshotTimer) return;
    this.#snapshotTimer = setInterval(() => this.#descendants.refresh(this.pool.records), this.options.intervalMs);
    this.#snapshotTimer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stall.stop();
    clearInterval(this.#snapshotTimer);
    this.#snapshotTimer = undefined;
  }

  /**
   * Since when the primary may not have seen what happened up to `now` (ms since the epoch): its
   * stall is checked first, as an exit may be read before the timers that would measure it.
   */
  unseenSince(now: number, ranAt?: number): number {
    this.#stall.check(now);
    return this.#stall.unseenSince(now, ranAt);
  }

  #tick(): void {
    const now = Date.now();
    // Before any judgement: this tick may be the first thing to run after a stall, the answers
    // that came meanwhile still unread in the sockets.
    this.#stall.check(now);
    for (const record of this.pool.records) {
      const isStopping = isWatchedStop(record);
      // A process gone, its verdict waiting for its channel's end (worker-pool.ts), is no silent worker (retest t50).
      if ((record.state !== 'ready' && !isStopping) || record.isUnresponsive || record.isProcessGone()) continue;
      this.#measureCpu(record);
      if (isSilent(record, this.options, now)) void measureSilentRss(record);
      // A worker reading a backlog from us sends nothing and answers the ping only after it,
      // but its loop turns: our writes to it completing is a sign of life too.
      // Judged less the primary's own stalls (H470); said as the wall clock counts it.
      const silentMs = now - record.lastHeardAt();
      if (!isStopping && isBulkLost(record, this.options, now)) {
        record.isUnresponsive = true;
        this.callbacks.onBulkLost(record, silentMs);
      } else if (now - record.judgedSinceAt(now) > this.options.timeoutMs) {
        record.isUnresponsive = true;
        record.unresponsiveAfterMs = this.options.timeoutMs;
        record.wasPausedAtKill = record.pid !== undefined && isPaused(record.pid);
        // A first late tick already past the timeout (a busy machine) still says the silence
        // before the kill: events.md promises workerSilent, then workerUnresponsive (H585).
        if (!isStopping && record.silence === undefined) this.#reportSilence(record, now);
        this.callbacks.onUnresponsive(record, silentMs, record.primaryBlockedMs());
      } else {
        if (!isStopping) this.#noteSilence(record, now);
        if (!record.isPinging) this.#ping(record);
        else if (record.endpoint.isHoldingFrames) this.#probe(record, now);
      }
    }
  }

  /**
   * Gives each worker back the `stalledMs` the primary did not run (H470): its silence as judged
   * (`judgedSinceAt`, until it is heard again) and its ping's clock move on by it, never past
   * `now`; its silence as shown (stats, the lines) stays the wall clock's, never shrinking. A
   * worker that answered just before the stall is as fresh as then; one blocked before it keeps
   * the silence it had, and is killed when that, without the stall, reaches the timeout. Its
   * answers sent meanwhile are read right after.
   */
  #forgiveStall(stalledMs: number, lateMs: number, now: number): void {
    for (const record of this.pool.records) {
      const heardAt = record.lastHeardAt();
      const isSameSilence = heardAt === record.stallCredit.heardAt;
      const creditMs = isSameSilence ? record.stallCredit.ms : 0;
      // What a kill line says of this silence (retest t50: `silentMs=4086` after a 1.5 s stall, unsaid): measured, never past the silence.
      const blockedMs = Math.min(now - heardAt, (isSameSilence ? record.stallCredit.blockedMs : 0) + lateMs);
      // The credit, up to twice each lateness (a scan in chunks), is capped per silence at one
      // timeout, or at the lateness measured in all when that is more: timers late again and
      // again (a CPU-throttled pod whose stuck worker takes the quota) never spare a blocked worker
      // for good (its silence still grows, by the time the primary ran), while one long stall
      // (SIGSTOP of the primary for twice the timeout) is given back whole (chaos tester t51:
      // every idle worker killed after `kill -STOP` of the primary for 4 s at a 2 s timeout).
      const ms = Math.min(now - heardAt, creditMs + stalledMs, Math.max(this.options.timeoutMs, blockedMs));
      record.stallCredit = { ms, heardAt, blockedMs, jumpMs: isSameSilence ? record.stallCredit.jumpMs : 0 };
      const granted = Math.max(0, ms - creditMs);
      if (record.isPinging) record.pingSentAt = Math.min(now, record.pingSentAt + granted);
    }
  }

  /**
   * Moves each worker's judged silence and its ping's clock on by a jump of the wall clock past
   * the monotonic one (a suspend, an NTP step forward), never past `now`: uncapped, unlike a
   * stall's credit, as no worker ran meanwhile either (or no time passed at all).
   */
  #skipClockJump(jumpMs: number, now: number): void {
    for (const record of this.pool.records) {
      const heardAt = record.lastHeardAt();
      const isSameSilence = heardAt === record.stallCredit.heardAt;
      record.stallCredit = {
        ms: isSameSilence ? record.stallCredit.ms : 0,
        heardAt,
        blockedMs: isSameSilence ? record.stallCredit.blockedMs : 0,
        jumpMs: Math.min(now - heardAt, (isSameSilence ? record.stallCredit.jumpMs : 0) + jumpMs),
      };
      if (record.isPinging) record.pingSentAt = Math.min(now, record.pingSentAt + jumpMs);
    }
  }

  /**
   * Reports a ready worker becoming silent, and answering again. Its answer to a ping ends the
   * silence, not the clock reset of a primary stall (above): the worker said nothing then.
   * Meanwhile node:cluster's round-robin handles hand it no new connection while another worker
   * answers (silent-steer.ts, H378): the flag is set here, once per silence, not computed per connection.
   */
  #noteSilence(record: WorkerRecord, now: number): void {
    if (record.silence === undefined) {
      // Held, not silent, while it keeps talking behind a message that waits for bulk bytes (H696).
      if (isSilent(record, this.options, now) && !isHeardWhileHeld(record, this.options, now)) this.#reportSilence(record, now);
    } else if (record.health !== undefined && record.health.at > record.silence.reportedAt) {
      const silentMs = Math.max(0, record.health.at - record.silence.since);
      record.silence = undefined;
      markAnswering(record.clusterWorker);
      this.callbacks.onSilenceEnd(record, silentMs);
    }
  }

  #reportSilence(record: WorkerRecord, now: number): void {
    record.silence = { since: record.lastHeardAt(), reportedAt: now };
    markSilent(record.clusterWorker);
    this.callbacks.onSilent(record, now - record.silence.since);
  }

  /**
   * Reads the worker's CPU time itself (Linux; measured-cpu.ts, H390): one read in flight at a
   * time, its result timed when it arrives. A failed read (the process gone, `hidepid`) leaves
   * the worker's own figures shown.
   */
  #measureCpu(record: WorkerRecord): void {
    if (record.isMeasuringCpu || record.isCpuUnreadable) return;
    const reading = readCpuTicks(record.pid);
    if (reading === undefined) return;
    record.isMeasuringCpu = true;
    void reading.then((ticks) => {
      record.isMeasuringCpu = false;
      if (ticks === undefined) record.isCpuUnreadable = record.measuredCpu === undefined;
      else record.measuredCpu = nextMeasuredCpu(record.measuredCpu, ticks, performance.now(), Date.now() - record.startedAt);
    });
  }

  #ping(record: WorkerRecord): void {
    record.isPinging = true;
    const sentAt = (record.pingSentAt = Date.now());
    this.callbacks.ping(record, this.options.timeoutMs).then(
      ({ report, arrival }) => {
        // Its word on its open requests and its exit is placed at once, as the answer is read: a
        // death handled while the RSS read below is under way counts what the answer said, not an
        // older `$openRequests` (H433).
        this.#placeAnswer(record, sentAt, report, arrival);
        // The RSS the primary measures, where it can: not the worker's word (H382). Read once the
        // answer came, before its figures are taken, so no figure of the worker's shows meanwhile.
        const measuring = measureRss(record.pid);
        if (measuring === undefined) this.#onAnswer(record, report, undefined);
        else void measuring.then((rssBytes) => this.#onAnswer(record, report, rssBytes));
      },
      () => {
        record.isPinging = false;
      },
    );
  }

  /**
   * What the answer to the ping sent at `sentAt` says of the worker's open requests and of its
   * exit, taken as it is read (`arrival`, its place among the worker's words), not after the RSS
   * read: `lostRequests()` may be asked meanwhile.
   */
  #placeAnswer(record: WorkerRecord, sentAt: number, report: PingReport, arrival: number): void {
    // Read after its last `$openRequests`, so sent after it: newer, whenever the ping was
    // sent (H220). One read after the answer, even in the same read, is newer and stays.
    if (arrival > record.openSaidArrival) {
      record.openSaid = report.openRequests;
      record.idleSaid = report.idleConnections;
      record.openSaidArrival = arrival;
    }
    // It answered a ping sent after it said it exits (a forged $exiting or $crash): it lived
    // on, what it said is void. An answer sent before may be read after it, in the same read.
    if (record.exitSaidAt !== undefined && sentAt > record.exitSaidAt) {
      record.exitSaidAt = undefined;
      record.openAtExit = undefined;
      record.idleAtExit = undefined;
      record.uncaughtError = undefined;
    }
  }

  /** A checked answer's figures, with the RSS the primary measured (undefined: the worker's figure stands). */
  #onAnswer(record: WorkerRecord, report: PingReport, measuredRssBytes: number | undefined): void {
    record.isPinging = false;
    record.health = toHealth(report, measuredRssBytes);
    // A stopping worker is pinged only for its silence (H376): it goes, whatever its memory.
    if (record.state === 'ready') this.#checkMemory(record, record.health);
  }

  /**
   * One more ping, each interval, to a worker whose messages wait for bulk bytes: its answers
   * wait too, so the first would be its last word for `timeoutMs`. A live worker answers each,
   * which shows its loop turning while its bytes do not come (bulk-wait.ts). The first ping's
   * clock (`pingSentAt`) is left alone: silence is counted from it.
   */
  #probe(record: WorkerRecord, now: number): void {
    if (now - Math.max(record.pingSentAt, this.#probedAt.get(record) ?? 0) < this.options.intervalMs) return;
    this.#probedAt.set(record, now);
    this.callbacks.ping(record, this.options.timeoutMs).catch(() => {});
  }

  #checkMemory(record: WorkerRecord, health: WorkerHealth): void {
    if (this.maxMemoryMb === undefined) return;
    const limitBytes = this.maxMemoryMb * 1024 * 1024;
    record.memoryStrikes = health.rssBytes > limitBytes ? record.memoryStrikes + 1 : 0;
    // A worker whose replacement became ready is stopping, and its memory no longer checked: this one waits for it still.
    if (record.memoryHardLimitBytes !== undefined && health.rssBytes >= record.memoryHardLimitBytes) this.callbacks.onMemoryHardLimit(record, health.rssBytes, limitBytes);
    // At or past three, not only at three (H179): a replacement over the limit while it starts
    // reaches three before it serves, and is handled once it does. onLimit passes over a worker
    // whose replacement is under way.
    else if (record.memoryStrikes >= kMemoryStrikes) this.callbacks.onMemoryLimit(record, health.rssBytes, limitBytes);
  }
}

/**
 * A worker whose stop the heartbeat watches (H376): one that had been ready, now stopping, its
 * channel open. Not one still starting (never pinged, its silence means nothing: its stop waits
 * for its `_init`), nor one whose channel closed (it cannot answer; its own watch covers it:
 * worker-pool.ts `disconnectTimer`).
 */
export function isWatchedStop(record: WorkerRecord): boolean {
  return record.state === 'stopping' && record.readyAt !== undefined && record.isConnected;
}

function toHealth(report: PingReport, measuredRssBytes: number | undefined): WorkerHealth {
  return {
    // Heap, loop delay and open requests stay the worker's word: only it can see them. Its CPU
    // figures too, but on Linux stats() shows the primary's reading instead (H390).
    rssBytes: measuredRssBytes ?? report.rss,
    heapUsedBytes: report.heapUsed,
    heapTotalBytes: report.heapTotal,
    heapLimitBytes: report.heapLimit,
    eventLoopDelayMs: finiteOrUndefined(report.loopDelayMean),
    eventLoopDelayP99Ms: finiteOrUndefined(report.loopDelayP99),
    // A worker of an older clusterkit leaves it out; a figure that is not a finite number is not shown.
    cpuPercent: finiteOrUndefined(report.cpuPercent),
    cpuSeconds: finiteOrUndefined(report.cpuSeconds),
    openRequests: report.openRequests,
    idleConnections: report.idleConnections,
    at: Date.now(),
  };
}

function finiteOrUndefined(value: number | undefined): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}
