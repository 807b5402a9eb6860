/**
 * `primary.stats()`: one row per live worker, from the primary's bookkeeping and the worker's
 * latest heartbeat answer, with the age of that answer: a worker whose event loop is blocked
 * answers nothing, and its last figures (a quiet CPU, a short loop delay) would otherwise look
 * current until the heartbeat kills it (`heartbeat.timeoutMs`, 10 s by default). So a silent
 * worker's loop delays are left out, and its CPU is the primary's own reading on Linux
 * (measured-cpu.ts), left out elsewhere (H390).
 */
import type { NormalizedHeartbeatOptions } from '../primary-options.js';
import type { WorkerPool } from '../pool/worker-pool.js';
import type { WorkerRecord, WorkerState } from '../pool/worker-record.js';
import { isCpuMeasured } from '../pool/measured-cpu.js';
import { isSilent, silenceOf } from '../pool/silence.js';
import { isPaused as isProcessPaused } from '../../worker/process-table.js';

// The silence threshold lives with the one definition of silence that dispatch and /readyz share.
export { kMinSilentAfterMs, silentAfterMs } from '../pool/silence.js';

export interface WorkerStats {
  id: number;
  pid: number | undefined;
  slot: number;
  name: string | undefined;
  /**
   * The roles given to `fork({ roles })`, kept across restarts (`roundRobin({ role })` picks
   * among them); `[]` for none. `clusterkit status` shows them in a `roles` column (H362).
   */
  roles: string[];
  /**
   * `starting`, `ready`, `stopping`; `exited` for a worker whose process has exited while the
   * primary still reads the end of its IPC channel (at most 2 s, longer than an instant only when
   * a process it started holds that channel): it serves nothing, and its exit is told next.
   */
  state: WorkerState;
  uptimeMs: number;
  /** Workers its slot had before this one: crash restarts and planned replacements (reloads, memory limit) alike. */
  restarts: number;
  /**
   * Exits of its slot's workers the primary did not plan: crashes (an uncaught error, a non-zero
   * exit, a signal from outside such as kill -9 or the OOM killer), exits with code 0 on their
   * own, and the primary's kills of a failing worker (the heartbeat, the ready timeout, what it
   * wrote on its channel). Not reloads, scale-downs, stops or memory-limit restarts: those are in
   * `restarts` alone. Counted at the exit, so it can lead `restarts` while the restart backs off.
   */
  crashes: number;
  /**
   * From the last heartbeat; before the first, the memory the worker sent as it became ready (not
   * with `heartbeat: false`). A silent worker's stay those of its last answer (`healthAgeMs` old),
   * except its RSS on Linux, which the primary reads at every heartbeat tick while the worker is
   * silent (`/proc/<pid>/status`, H414): a hung worker's memory shows as it grows. Its loop
   * delays are left out (H390).
   */
  rssBytes: number | undefined;
  heapUsedBytes: number | undefined;
  heapTotalBytes: number | undefined;
  /**
   * The limit of its heap's old generation, in bytes, from the last heartbeat answer: the
   * worker's `--max-old-space-size` when it was started with one, else V8's `heap_size_limit`.
   * A heap used near it (90 % or more) makes garbage collection run back to back, and a worker
   * silent then is told as most likely that, not a blocked loop (H394). The worker's word;
   * undefined before the first answer and from older workers.
   */
  heapLimitBytes?: number | undefined;
  eventLoopDelayMs: number | undefined;
  eventLoopDelayP99Ms: number | undefined;
  /**
   * CPU use over the last heartbeat interval, in percent of one core (100 is one core fully
   * busy; more with worker threads). On Linux the primary measures it itself at every heartbeat
   * tick (`/proc/<pid>/stat`), silent worker or not: a worker spinning in a blocked loop shows
   * about 100, and no code in the worker can make it say otherwise (H390). Elsewhere it is the
   * worker's figure between its last two heartbeat answers (`WorkerHealth.cpuPercent`), and it is
   * left out while the worker is silent (`isSilent`): it would describe an interval long past.
   * Undefined before the first reading.
   */
  cpuPercent: number | undefined;
  /**
   * CPU time (user + system) the worker used since it started, in seconds
   * (`clusterkit_worker_cpu_seconds_total`). On Linux the primary's own reading at the last
   * heartbeat tick, silent worker or not (H390); elsewhere the worker's figure at its last
   * heartbeat answer, left out while it is silent (the counter is then absent from `/metrics`,
   * not frozen) and again there at its next answer. Undefined before the first reading and from
   * older workers (H375).
   */
  cpuSeconds?: number | undefined;
  /**
   * True when `cpuPercent` and `cpuSeconds` are the primary's own reading (Linux, `/proc`), so
   * current for a silent worker too: `clusterkit status` then shows a silent worker's CPU
   * (H413). False when they are the worker's word, and absent from a primary of an older clusterkit.
   */
  isCpuMeasured?: boolean;
  /**
   * Requests open on its tracked servers at the last heartbeat (in flight, and HTTP requests
   * still arriving): what a crash now would cut. Undefined before the first heartbeat answer,
   * and for a worker that tracks no server.
   */
  openRequests?: number | undefined;
  /**
   * How old the heartbeat figures above are, in ms: the time since the primary received them.
   * Undefined before the ready notice's memory or the first answer. About one heartbeat interval at most for a worker that
   * answers; it grows while the worker is silent.
   */
  healthAgeMs: number | undefined;
  /**
   * Time since the primary last heard from this ready worker, in ms: any message (a heartbeat
   * answer, a reply, a notification), or the worker reading a backlog of the primary's
   * messages, as the heartbeat counts it (the `silentMs` of `workerUnresponsive`). Undefined
   * for a worker that is not `ready`, and with `heartbeat: false`: nothing asks such a worker
   * to speak, so its silence means nothing.
   */
  silentMs: number | undefined;
  /**
   * True while a ready worker has been silent longer than two heartbeat intervals (at least
   * 1 s; see `silentAfterMs()`) with a heartbeat ping unanswered: its event loop is most likely
   * blocked. Its heartbeat figures are those of its last answer (`healthAgeMs` old);
   * `clusterkit status` shows `silent 5.2s` and no CPU or loop figure for it, and
   * `clusterkit_worker_up` is 0. `roundRobin()` skips it while another eligible worker is not
   * silent, sticky sessions send clients elsewhere, and `/readyz` and `clusterkit_workers` count
   * it silent, not ready (H375). The heartbeat kills it at `heartbeat.timeoutMs` unless it speaks again.
   */
  isSilent: boolean;
  /**
   * True while a silent worker's process is stopped rather than blocked: `/proc` shows it in
   * state T or t (`kill -STOP`, Ctrl-Z's SIGTSTP, a debugger). It runs nothing until resumed
   * (`kill -CONT <pid>`); `clusterkit status` shows `stopped 5.8s` for it instead of `silent
   * 5.8s`, and the heartbeat still kills it at `heartbeat.timeoutMs`. False for a worker that is
   * not silent, and where `/proc` cannot say (not Linux) (H327).
   */
  isPaused: boolean;
  /**
   * True while a ready worker that listened has closed every server it listened on, its process
   * running on: node:cluster hands it no connection. Not counted ready, as a silent one is not:
   * `/readyz` (`closedWorkers`), `clusterkit status` (`closed`), the dashboard and
   * `clusterkit_workers{state="closed"}`. False again once it listens again.
   */
  isClosed: boolean;
  /**
   * Messages the primary took in from this worker: its requests and notifications, and the
   * replies that settled a request of the primary's. A reply that came too late (its request
   * timed out or was aborted) settles nothing and is not counted (hostile t68 F8); nor are
   * dropped ones (`protocolErrors`).
   */
  messagesIn: number;
  /**
   * Messages the primary wrote to this worker: requests (a request withdrawn before it went out,
   * aborted or timed out in the channel, is counted too), notifications and replies.
   */
  messagesOut: number;
  /** Requests to this worker still waiting for a reply. */
  pending: number;
  /**
   * Messages from this worker dropped because they break clusterkit's protocol: malformed
   * frames, forged replies, system messages of the wrong kind, shape or size, bad heartbeat or
   * metrics answers (see `ProtocolError`). 0 for a clusterkit worker; late replies do not count.
   */
  protocolErrors: number;
}

/** The rows of `primary.stats()`; `heartbeat` is the primary's option (it decides who is silent). */
export function collectStats(pool: WorkerPool, heartbeat: NormalizedHeartbeatOptions | false): WorkerStats[] {
  const now = Date.now();
  return [...pool.records].map((record) => statsOf(record, now, heartbeat));
}

function statsOf(record: WorkerRecord, now: number, heartbeat: NormalizedHeartbeatOptions | false): WorkerStats {
  const silentMs = silenceOf(record, heartbeat, now);
  const silent = isSilent(record, heartbeat, now);
  return {
    id: record.id,
    pid: record.pid,
    slot: record.slot.index,
    name: record.slot.spec.name,
    roles: [...record.slot.spec.roles],
    // `exited` once its process is gone, while the verdict on its exit waits for its channel (H462).
    state: record.shownState(),
    uptimeMs: now - record.startedAt,
    restarts: record.restartsBefore,
    crashes: record.slot.crashes,
    rssBytes: rssOf(record),
    heapUsedBytes: record.health?.heapUsedBytes,
    heapTotalBytes: record.health?.heapTotalBytes,
    heapLimitBytes: record.health?.heapLimitBytes,
    // Measured over an interval that a silent worker's silence has made long past: left out (H390).
    eventLoopDelayMs: silent ? undefined : record.health?.eventLoopDelayMs,
    eventLoopDelayP99Ms: silent ? undefined : record.health?.eventLoopDelayP99Ms,
    ...cpuOf(record, silent),
    openRequests: record.health?.openRequests,
    healthAgeMs: record.health === undefined ? undefined : Math.max(0, now - record.health.at),
    silentMs,
    isSilent: silent,
    // Read only for a silent worker: one /proc read, where the heartbeat's log line reads it too (H311).
    isPaused: silent && record.pid !== undefined && isProcessPaused(record.pid),
    isClosed: record.hasClosedServers(),
    messagesIn: record.endpoint.stats.messagesIn,
    messagesOut: record.endpoint.stats.messagesOut,
    pending: record.endpoint.pendingCount,
    protocolErrors: record.protocolErrors,
  };
}


/**
 * Its CPU figures: the primary's reading where it reads them (Linux, H390), not the answer's,
 * which any code in the worker can write; the answer's where it cannot (elsewhere, or its reads
 * failed), and none of those while it is silent. `isMeasured`: whether the primary reads CPU
 * itself (a parameter for the tests of either platform).
 */
export function cpuOf(record: WorkerRecord, silent: boolean, isMeasured = isCpuMeasured): Pick<WorkerStats, 'cpuPercent' | 'cpuSeconds' | 'isCpuMeasured'> {
  if (isMeasured && !record.isCpuUnreadable) {
    const measured = record.measuredCpu;
    return { cpuPercent: measured?.cpuPercent, cpuSeconds: measured?.cpuSeconds, isCpuMeasured: measured !== undefined };
  }
  if (silent) return { cpuPercent: undefined, cpuSeconds: undefined, isCpuMeasured: false };
  return { cpuPercent: record.health?.cpuPercent, cpuSeconds: record.health?.cpuSeconds, isCpuMeasured: false };
}

/** Its RSS: the primary's reading during its silence when newer than its last answer (H414), else the answer's. */
export function rssOf(record: Pick<WorkerRecord, 'silentRss' | 'health'>): number | undefined {
  const silent = record.silentRss;
  return silent !== undefined && (record.health === undefined || silent.at > record.health.at) ? silent.bytes : record.health?.rssBytes;
}
