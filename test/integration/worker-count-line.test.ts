import { afterEach, describe, expect, it } from '@jest/globals';
import { capturedLogger } from '../helpers/captured-logger.js';
import { shutdownTrackedPrimaries, testPrimary } from '../helpers/primary.js';

afterEach(() => shutdownTrackedPrimaries());

describe("the worker count's line", () => {
  it('ClusterPrimary with workerCount "max" or left out logs how many workers it starts and why, as the runner does; a count given, nothing', async () => {
    const max = capturedLogger('info');
    const workers = await testPrimary({ workerCount: 'max', logger: max.logger }).start();
    // Before: no line; the count, one per CPU, was the reader's guess.
    expect(max.text()).toContain(`starting ${workers.length} worker${workers.length === 1 ? '' : 's'}: one per CPU ("max")`);
    const given = capturedLogger('info');
    await testPrimary({ workerCount: 1, logger: given.logger }).start();
    expect(given.text()).not.toContain('starting 1 worker');
  });
});
