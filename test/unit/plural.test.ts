/**
 * A count of one is said in the singular wherever a line or an error counts (ops tester t59:
 * `scaling from 3 to 1 workers`): the shared plural() and the lines that count a limit, a key
 * or a slot that may be one.
 */
import { describe, expect, it } from '@jest/globals';
// @ts-expect-error plain JavaScript served to the browser, no declarations
import { describeEvent } from '../../src/cli/dashboard/page/timeline.js';
import { BackpressureError, StoreFullError, StoreWatchLimitError } from '../../src/errors.js';
import { plural } from '../../src/plural.js';

describe('one in the singular', () => {
  it('plural() says one in the singular, any other count in the plural', () => {
    expect([0, 1, 2].map((count) => plural(count, 'worker'))).toEqual(['0 workers', '1 worker', '2 workers']);
    expect(plural(2, 'entry', 'entries')).toBe('2 entries');
  });

  it('the dashboard timeline, the store and back-pressure errors say one in the singular', () => {
    expect(describeEvent({ type: 'reload', workers: 1 })).toBe('rolling reload started: 1 worker');
    expect(describeEvent({ type: 'scale', from: 2, to: 1 })).toBe('scaling from 2 to 1 worker');
    expect(new StoreFullError('k', 'maxStoreKeys', 1, 10, 1, 20).message).toContain('its limit of 1 key (option "maxStoreKeys"); it holds 10 B in 1 key.');
    expect(new StoreWatchLimitError('k', 'maxStoreWatchesPerWorker', 1, 1, 10).message).toContain('already watches 1 key (counted');
    expect(new StoreWatchLimitError('k', 'maxStoreWatchesPerWorker', 1, 1, 10).message).toContain('at most 1 key (option');
    expect(new BackpressureError('worker 3', 1, undefined, 'maxPending').message).toContain('already has 1 request waiting for replies');
  });
});
