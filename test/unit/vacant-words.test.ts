/**
 * A reload's slots whose old worker it did not stop (`reloadComplete.vacant`), said by what
 * happened to each (H672, retest t67 F8): the cluster's log said "crashed or was killed before the
 * reload stopped it (or had not started yet)" of a worker `kill -9`'d during the reload, a guess
 * the CLI had already ruled out. `vacantCrashed` counts those running as the reload began.
 */
import { describe, expect, it } from '@jest/globals';
import { describeRefilled, describeVacant } from '../../src/control/stop-counts.js';
// @ts-expect-error plain JavaScript served to the browser, no declarations
import { describeEvent } from '../../src/cli/dashboard/page/timeline.js';

describe('the slots a reload did not stop a worker in', () => {
  it('[H672] are said as crashed during the reload, as without a running worker as it began, or both, by vacantCrashed', () => {
    expect(describeVacant(1, 1)).toBe('1 old worker not stopped by the reload: it crashed or was killed during the reload, not by it, and any worker started in its slot since the reload began runs the new code');
    expect(describeVacant(2, 0)).toBe(
      '2 slots with no old worker for the reload to stop: each had no running worker as the reload began (it had exited or been stopped, or had not started yet), and any worker started in their slots since the reload began runs the new code',
    );
    expect(describeVacant(3, 1)).toBe(
      '3 old workers not stopped by the reload: 1 crashed or was killed during the reload, not by it; the other 2 slots had no running worker as the reload began (it had exited or been stopped, or had not started yet); any worker started in their slots since the reload began runs the new code',
    );
    // An event recorded before the count: both ways, as before.
    expect(describeVacant(1)).toContain('crashed or was killed before the reload stopped it (or had not started yet)');
  });

  it('[H711] do not say the slot runs the new code: its restart may still be loading or waiting out its back-off as the reload ends', () => {
    for (const [vacant, crashed] of [[1, 1], [2, 0], [3, 1], [2, 2], [1, undefined]] as const) {
      const line = describeVacant(vacant, crashed);
      expect(line).not.toMatch(/slots? runs? the new code/);
      expect(line).toMatch(/any worker started in (its slot|their slots) since the reload began runs the new code$/);
    }
  });

  it('[H672] the dashboard\'s timeline says them in the same words as the log', () => {
    for (const [vacant, vacantCrashed] of [[1, 1], [2, 0], [3, 1], [1, undefined]] as const) {
      const line = describeEvent({ type: 'reloadComplete', replaced: 1, vacant, ...(vacantCrashed === undefined ? {} : { vacantCrashed }), graceful: 1, failed: 0, killed: 0 });
      expect(line).toContain(describeVacant(vacant, vacantCrashed));
    }
  });

  it('[H712] the slots given up in a crash loop that a reload started again are said, and of them those that failed again; the dashboard alike', () => {
    expect(describeRefilled(2)).toBe('2 worker slots given up in a crash loop started again');
    expect(describeRefilled(1, 1)).toBe('1 worker slot given up in a crash loop started again, and it was given up again or crashed (the crash lines above say why)');
    expect(describeRefilled(2, 2)).toBe('2 worker slots given up in a crash loop started again, and all of them were given up again or crashed (the crash lines above say why)');
    expect(describeRefilled(3, 1)).toBe('3 worker slots given up in a crash loop started again, 1 of which was given up again or crashed (the crash lines above say why)');
    for (const [refilled, refillsFailed] of [[2, undefined], [1, 1], [3, 2]] as const) {
      const line = describeEvent({ type: 'reloadComplete', replaced: 0, refilled, ...(refillsFailed === undefined ? {} : { refillsFailed }), graceful: 0, failed: 0, killed: 0 });
      expect(line).toBe(`rolling reload complete: 0 workers replaced; old workers: 0 graceful, 0 failed, 0 killed; ${describeRefilled(refilled, refillsFailed)}`);
    }
  });
});
