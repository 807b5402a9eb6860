/**
 * `primary.stats()`: one row per live worker, from the primary's bookkeeping and the worker's
 * latest heartbeat answer.
 */
import type { WorkerPool } from '../pool/worker-pool.js';
import type { WorkerState } from '../pool/worker-record.js';

export interface WorkerStats {
  id: number;
  pid: number | undefined;
  slot: number;
  name: string | undefined;
  state: WorkerState;
  uptimeMs: number;
  restarts: number;
  /** From the last heartbeat; undefined before the first one. */
  rssBytes: number | undefined;
  heapUsedBytes: number | undefined;
  heapTotalBytes: number | undefined;
  eventLoopDelayMs: number | undefined;
  eventLoopDelayP99Ms: number | undefined;
  /** CPU use since the previous heartbeat, in percent of one core (see `WorkerHealth.cpuPercent`). */
  cpuPercent: number | undefined;
  /**
   * Requests open on its tracked servers at the last heartbeat (in flight, and HTTP requests
   * still arriving): what a crash now would cut. Undefined before the first heartbeat answer,
   * and for a worker that tracks no server.
   */
  openRequests?: number | undefined;
  messagesIn: number;
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

export function collectStats(pool: WorkerPool): WorkerStats[] {
  const now = Date.now();
  return [...pool.records].map((record) => ({
    id: record.id,
    pid: record.pid,
    slot: record.slot.index,
    name: record.slot.spec.name,
    state: record.state,
    uptimeMs: now - record.startedAt,
    restarts: record.slot.restarts,
    rssBytes: record.health?.rssBytes,
    heapUsedBytes: record.health?.heapUsedBytes,
    heapTotalBytes: record.health?.heapTotalBytes,
    eventLoopDelayMs: record.health?.eventLoopDelayMs,
    eventLoopDelayP99Ms: record.health?.eventLoopDelayP99Ms,
    cpuPercent: record.health?.cpuPercent,
    openRequests: record.health?.openRequests,
    messagesIn: record.endpoint.stats.messagesIn,
    messagesOut: record.endpoint.stats.messagesOut,
    pending: record.endpoint.pendingCount,
    protocolErrors: record.protocolErrors,
  }));
}
