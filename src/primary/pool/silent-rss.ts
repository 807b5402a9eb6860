/**
 * A silent worker's RSS as the primary reads it itself (Linux; measured-rss.ts, H414), for
 * `stats()`: the answer's figure would stand for a worker whose loop is blocked while its memory
 * grows. `stats()` takes the newer of this reading and the last answer's (worker-stats.ts `rssOf`).
 */
import { measureRss } from './measured-rss.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * Reads `record`'s RSS into `record.silentRss`, one read at a time; a read that fails leaves the
 * figure shown before. Resolves once the read ended; undefined when none started (one is under
 * way, no pid, not Linux).
 */
export function measureSilentRss(record: Pick<WorkerRecord, 'pid' | 'isMeasuringSilentRss' | 'silentRss'>): Promise<void> | undefined {
  if (record.isMeasuringSilentRss) return undefined;
  // Dated when the read began, not when it ended (H441): an answer that came while it was under
  // way is newer than what it read, and `rssOf` must prefer the answer.
  const startedAt = Date.now();
  const measuring = measureRss(record.pid);
  if (measuring === undefined) return undefined;
  record.isMeasuringSilentRss = true;
  return measuring.then((bytes) => {
    record.isMeasuringSilentRss = false;
    if (bytes !== undefined) record.silentRss = { bytes, at: startedAt };
  });
}
