/**
 * Creating primaries in tests: fixtures run through tsx, no signal handlers (the Jest process
 * is not ours to control), no log lines; every primary is shut down after its test.
 */
import { fileURLToPath } from 'node:url';
import { ClusterPrimary, type PrimaryOptions } from '../../src/index.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';

const live = new Set<ClusterPrimary<any, any>>();

/** Absolute path of a file in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** Options for a test primary running `fixtureName`; `extra` wins. */
export function testOptions(fixtureName = 'test-worker.ts', extra: PrimaryOptions = {}): PrimaryOptions {
  return {
    workerScript: fixture(fixtureName),
    execArgv: ['--import', 'tsx'],
    workerCount: 1,
    logger: false,
    handleSignals: false,
    readyTimeoutMs: 15_000,
    ...extra,
  };
}

/** Registers a primary for shutdown after the test. */
export function track<P extends ClusterPrimary<any, any>>(primary: P): P {
  live.add(primary);
  return primary;
}

/** A tracked primary over the test-worker fixture. */
export function testPrimary(extra: PrimaryOptions = {}, fixtureName = 'test-worker.ts'): ClusterPrimary<ToWorker, ToPrimary> {
  return track(new ClusterPrimary<ToWorker, ToPrimary>(testOptions(fixtureName, extra)));
}

export async function shutdownTrackedPrimaries(): Promise<void> {
  const primaries = [...live];
  live.clear();
  await Promise.all(primaries.map((primary) => primary.shutdown({ timeoutMs: 3_000 }).catch(() => {})));
}
