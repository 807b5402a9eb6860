/**
 * After every test, passed or failed: release what its helpers created (timers, listeners,
 * processes, directories: see test/helpers/cleanup.ts), shut down the primaries it created and
 * check that no cluster worker is left. A leaked worker is a bug in the test or the library.
 * What a file's beforeAll created lives until the file ends.
 */
import cluster from 'node:cluster';
import { afterAll, afterEach, beforeEach, expect } from '@jest/globals';
import { beginTest, cleanUp, endTest } from '../helpers/cleanup.js';
import { shutdownTrackedPrimaries } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

beforeEach(() => beginTest());

afterEach(async () => {
  try {
    cleanUp();
    await shutdownTrackedPrimaries();
    await until(() => Object.keys(cluster.workers ?? {}).length === 0, 30_000, 'no cluster worker left').catch(() => {});
    cleanUp();
  } finally {
    endTest();
  }
  expect(Object.keys(cluster.workers ?? {})).toEqual([]);
});

afterAll(async () => {
  cleanUp('file');
  await shutdownTrackedPrimaries();
  cleanUp('file');
});
