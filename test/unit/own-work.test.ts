/**
 * clusterkit's own long work in the primary (own-work.ts) and the report of a stall it caused
 * (H627, hostile tester t63: 20 scrapes of 80,000 series per worker blocked the primary in
 * stretches of 1.2 to 2.4 s, and PrimaryBlockedError told the user to move long synchronous work
 * out of the primary, when the only such work was clusterkit's merge of the metrics pages).
 */
import { describe, expect, it } from '@jest/globals';
import { PrimaryBlockedError } from '../../src/index.js';
import { kMetricsMerge, kRelayWork, OwnWork } from '../../src/primary/lifecycle/own-work.js';

describe('OwnWork', () => {
  it('[H627] adds up the work within a span, clipped to it, and leaves out stretches too short to block anything', () => {
    const work = new OwnWork();
    work.note(kMetricsMerge, 1_000, 1_600);
    work.note(kMetricsMerge, 2_000, 2_005);
    work.note(kMetricsMerge, 3_000, 3_400);
    expect(work.within(0, 10_000)).toEqual({ ms: 1_000, kind: kMetricsMerge });
    expect(work.within(1_500, 3_200)).toEqual({ ms: 300, kind: kMetricsMerge });
    expect(work.within(5_000, 6_000)).toBeUndefined();
  });
});

describe('PrimaryBlockedError', () => {
  it('[H627] names clusterkit\'s own work and what to change when it took half the block or more; the user\'s code otherwise', () => {
    const own = new PrimaryBlockedError(2_400, 2_500, false, { ms: 2_100, ...kMetricsMerge });
    expect(own.message).toBe(
      "The primary's own event loop was blocked for 2400 ms: no worker was heard or judged meanwhile, and their silence during it is not counted against them. " +
        "2100 ms of it went to clusterkit's own work, reading, merging and sending the workers' metrics pages for scrapes (primary.metrics(), /metrics): register fewer series in the workers (labels with many values make many), or scrape less often.",
    );
    expect(own.ownWorkMs).toBe(2_100);
    expect(own.message).not.toMatch(/Move long synchronous work/);
    const user = new PrimaryBlockedError(2_400, 2_500, false, { ms: 300, ...kMetricsMerge });
    expect(user.message).toMatch(/Move long synchronous work out of the primary/);
    expect(user.ownWorkMs).toBeUndefined();
    expect(new PrimaryBlockedError(1_500, 1_500).message).toMatch(/Move long synchronous work out of the primary/);
  });

  it("[H669] names the relaying of the workers' sendTo() requests, noted as one stretch while relays come back to back (hostile t67: a flood of 20,000 blamed the user's code)", () => {
    const work = new OwnWork();
    // As relay.ts notes it: the stretch made longer at each relay.
    for (let at = 1_000; at <= 3_000; at += 2) work.extend(kRelayWork, 1_000, at);
    expect(work.within(0, 10_000)).toEqual({ ms: 2_000, kind: kRelayWork });
    const blocked = new PrimaryBlockedError(2_400, 2_500, false, { ms: 2_000, ...kRelayWork });
    expect(blocked.message).toContain(
      "2000 ms of it went to clusterkit's own work, relaying the workers' sendTo() requests to their targets: send fewer sendTo() at once from one worker (await them in batches of a few hundred), or lower maxPendingPerWorker.",
    );
  });
});

