/**
 * A worker whose `_init` throws: the primary's lines say where it was thrown (`at file:line:col`),
 * as a crash line does (H381).
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type CrashLoopError } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testOptions, track } from '../helpers/primary.js';

describe('[H381] a throw in _init', () => {
  it('[H381] the failed-start line and the CrashLoopError name the file and line it was thrown at', async () => {
    const { logger, text } = capturedLogger('info');
    const primary = track(new ClusterPrimary(testOptions('workers/init-throws.ts', { workerCount: 1, restart: { backoff: { initialMs: 10 }, maxStartupFailures: 1 }, logger })));
    const error = (await primary.start().catch((failure: unknown) => failure)) as CrashLoopError;
    expect(error).toMatchObject({ code: 'ERR_CRASH_LOOP', reason: 'startup-failures' });
    // The fixture's file (its bundle when the run bundles fixtures), at the throw's line and column.
    const where = / at \/\S+\/workers\/init-throws\.[jt]s:\d+:\d+/;
    expect(text()).toMatch(new RegExp(`ERROR worker \\d+ could not start: its _init\\(\\) threw Error: bad config: DATABASE_URL is missing${where.source} workerId=`));
    expect(error.message).toMatch(new RegExp(`Last failure: its _init\\(\\) threw Error: bad config: DATABASE_URL is missing${where.source}\\. Fix that`));
  });
});
