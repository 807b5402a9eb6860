/**
 * [H441] A silent worker's RSS read by the primary is dated when the read began: a heartbeat
 * answer that came while the read was under way is newer, and `stats()` shows the answer's
 * figure. Before, the reading was dated when the read ended, after the answer, and hid it.
 * A real /proc read of this process (Linux); the answer is set while the read is under way (its
 * callback cannot run before this synchronous code yields).
 */
import { describe, expect, it } from '@jest/globals';
import { rssOf } from '../../src/primary/features/worker-stats.js';
import type { WorkerHealth } from '../../src/primary/pool/worker-record.js';
import { measureSilentRss } from '../../src/primary/pool/silent-rss.js';

/** Until the clock shows a later millisecond than `ms`: orders two stamps, a millisecond at most. */
function pastMs(ms: number): number {
  while (Date.now() <= ms) {
    // spin: less than a millisecond
  }
  return Date.now();
}

describe('[H441] the RSS of a silent worker', () => {
  it('[H441] an answer that came during the read is shown over the reading', async () => {
    if (process.platform !== 'linux') return; // the primary reads RSS on Linux only
    const record = { pid: process.pid, isMeasuringSilentRss: false, silentRss: undefined as { bytes: number; at: number } | undefined, health: undefined as WorkerHealth | undefined };
    const reading = measureSilentRss(record);
    // Taken after the call, whose own start is no later: on a loaded machine the call itself can
    // cross a millisecond, and a clock read before it made the answer's millisecond the read's (CI).
    const startedAt = Date.now();
    expect(reading).toBeDefined();
    // The answer comes while the read is under way, in a later millisecond than its start, and
    // the read ends in a later millisecond still.
    const answeredAt = pastMs(startedAt);
    record.health = { rssBytes: 1234, at: answeredAt } as WorkerHealth;
    pastMs(answeredAt);
    await reading;
    expect(record.silentRss?.bytes).toBeGreaterThan(0);
    expect(record.silentRss!.at).toBeLessThan(answeredAt);
    expect(rssOf(record)).toBe(1234);
  });

  it('[H441] a reading begun after the last answer is shown over it', async () => {
    if (process.platform !== 'linux') return;
    const answeredAt = Date.now();
    const record = { pid: process.pid, isMeasuringSilentRss: false, silentRss: undefined as { bytes: number; at: number } | undefined, health: { rssBytes: 1234, at: answeredAt } as WorkerHealth };
    pastMs(answeredAt);
    await measureSilentRss(record);
    expect(rssOf(record)).toBe(record.silentRss!.bytes);
    expect(rssOf(record)).not.toBe(1234);
  });
});
