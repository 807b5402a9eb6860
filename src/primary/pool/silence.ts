/**
 * When a ready worker counts as silent (its event loop most likely blocked): the one definition
 * that `stats().isSilent`, the metrics, `roundRobin()`, sticky sessions and `/readyz` share.
 * Pure: it reads the record's clocks and the heartbeat option, nothing else.
 */
import type { NormalizedHeartbeatOptions } from '../primary-options.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * The floor of the silence threshold (ms). A healthy worker answers each ping within a few ms,
 * but on a busy machine an answer, or the primary's own timer, can be late by hundreds of ms
 * whatever the interval: a 100 ms heartbeat must not call a healthy worker silent at 200 ms.
 */
export const kMinSilentAfterMs = 1_000;

/**
 * How long a ready worker may go unheard before it counts as silent (`isSilent`): two
 * heartbeat intervals (a healthy worker answers every interval), at least `kMinSilentAfterMs`,
 * at most `heartbeat.timeoutMs` (when the heartbeat kills it). Undefined with `heartbeat: false`:
 * nothing then asks an idle worker to speak, so its silence means nothing.
 * With the defaults (1 s interval, 10 s timeout): 2 000 ms.
 */
export function silentAfterMs(heartbeat: NormalizedHeartbeatOptions | false): number | undefined {
  if (!heartbeat) return undefined;
  return Math.min(heartbeat.timeoutMs, Math.max(2 * heartbeat.intervalMs, kMinSilentAfterMs));
}

/**
 * Time since the last sign of life of a ready worker, as the heartbeat measures it
 * (primary-heartbeat.ts): its last message, or its last read of a backlog of ours. Undefined
 * for a worker that is not ready (only ready workers are pinged: a starting or stopping
 * worker's silence means nothing) and with `heartbeat: false`.
 */
export function silenceOf(record: WorkerRecord, heartbeat: NormalizedHeartbeatOptions | false, now: number): number | undefined {
  if (!heartbeat || record.state !== 'ready') return undefined;
  return Math.max(0, now - record.lastHeardAt());
}

/**
 * `silenceOf` less the primary's own stalls since it was last heard (H470): what the heartbeat
 * judges it on, as the worker could not be heard while the primary did not run.
 */
export function judgedSilenceOf(record: WorkerRecord, heartbeat: NormalizedHeartbeatOptions | false, now: number): number | undefined {
  if (!heartbeat || record.state !== 'ready') return undefined;
  return Math.max(0, now - record.judgedSinceAt(now));
}

/**
 * True when `record` is ready and silent: unheard for over `silentAfterMs()`, while a ping of
 * ours has waited for its answer for all but the last interval of that time (or the heartbeat
 * already declared it unresponsive). The ping condition keeps the primary's own stall out of it:
 * a primary whose event loop was blocked sent no pings meanwhile, so its workers had nothing
 * to answer and their silence is the primary's, not theirs.
 */
export function isSilent(record: WorkerRecord, heartbeat: NormalizedHeartbeatOptions | false, now: number): boolean {
  const threshold = silentAfterMs(heartbeat);
  const silentMs = judgedSilenceOf(record, heartbeat, now);
  if (!heartbeat || threshold === undefined || silentMs === undefined) return false;
  if (record.isUnresponsive) return true;
  return silentMs > threshold && record.isPinging && now - record.pingSentAt >= threshold - heartbeat.intervalMs;
}

/**
 * How long after the last bytes on a worker's bulk pipe a message of it must come to show its
 * event loop turned with bytes owed (bulk-wait.ts): one heartbeat interval, in which a live
 * worker answers a ping. Infinite with `heartbeat: false` (nothing is judged then).
 */
export function bulkMarginMs(heartbeat: NormalizedHeartbeatOptions | false): number {
  return heartbeat ? heartbeat.intervalMs : Number.POSITIVE_INFINITY;
}

/**
 * True when a ready worker is silent (above) only because the primary holds its messages for
 * bulk-pipe bytes that are lost, not late: it kept talking (its loop turns) and still no byte
 * came. Then the pipe is at fault (code in the worker closed or reopened its descriptor), not
 * its event loop. Half a margin after the message that showed it, so that a loop that just
 * woke has flushed what it had queued.
 */
export function isBulkLost(record: WorkerRecord, heartbeat: NormalizedHeartbeatOptions | false, now: number): boolean {
  const threshold = silentAfterMs(heartbeat);
  const silentMs = judgedSilenceOf(record, heartbeat, now);
  if (threshold === undefined || silentMs === undefined || silentMs <= threshold) return false;
  return record.endpoint.isHoldingFrames && record.bulkWait.isLost(now, bulkMarginMs(heartbeat) / 2);
}

/**
 * True when a ready worker unheard for its messages waiting on bulk-pipe bytes kept talking within
 * `silentAfterMs()` (its messages came, held behind the first): its loop turns, so its silence
 * is not reported as a blocked event loop while `isBulkLost` decides whether its bytes are lost
 * or late. Before, a worker whose bytes were lost was first called `silent ..., its event loop
 * most likely blocked`, then killed by a line saying its loop turned (retest t72 N4, H696).
 */
export function isHeardWhileHeld(record: WorkerRecord, heartbeat: NormalizedHeartbeatOptions | false, now: number): boolean {
  const threshold = silentAfterMs(heartbeat);
  return threshold !== undefined && record.endpoint.isHoldingFrames && record.bulkWait.isHeardWhileHeld(now, threshold);
}
