/**
 * Creating primaries in tests: fixtures run through tsx, no signal handlers (the Jest process
 * is not ours to control), no log lines; every primary is shut down after its test.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterPrimary, type PrimaryOptions, type WorkerHandle } from '../../src/index.js';
import { onCleanup } from './cleanup.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';

/** The worker that starts at once and answers every message of the test protocol. */
export const kDefaultFixture = 'workers/ready.ts';

const live = new Set<ClusterPrimary<any, any>>();

/** Absolute path of a file in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * How a worker runs the fixture `name`: its bundle built for this test run when there is one
 * (test/setup/global-setup.mjs: plain JavaScript starts about 4 times faster), else the
 * TypeScript source through tsx.
 */
export function workerFixture(name: string): { workerScript: string; execArgv: string[] } {
  const bundles = process.env.CLUSTERKIT_TEST_FIXTURES;
  const bundle = bundles && join(bundles, name.replace(/\.ts$/, '.js'));
  if (bundle && existsSync(bundle)) return { workerScript: bundle, execArgv: [] };
  return { workerScript: fixture(name), execArgv: ['--import', 'tsx'] };
}

/**
 * Options for a test primary running `fixtureName` (relative to test/fixtures; the default
 * worker answers the whole test protocol); `extra` wins. Heartbeats stay at their long
 * defaults: only a test about the heartbeat shortens them.
 */
export function testOptions(fixtureName = kDefaultFixture, extra: PrimaryOptions = {}): PrimaryOptions {
  return {
    ...workerFixture(fixtureName),
    workerCount: 1,
    logger: false,
    handleSignals: false,
    readyTimeoutMs: 60_000, // generous: a tsx worker can take 15 s to start on a busy machine
    ...extra,
  };
}

/** Registers a primary for shutdown after the test. */
export function track<P extends ClusterPrimary<any, any>>(primary: P): P {
  live.add(primary);
  return primary;
}

/** A tracked primary over a worker fixture (`workers/ready.ts` unless named). */
export function testPrimary(extra: PrimaryOptions = {}, fixtureName = kDefaultFixture): ClusterPrimary<ToWorker, ToPrimary> {
  return track(new ClusterPrimary<ToWorker, ToPrimary>(testOptions(fixtureName, extra)));
}

export async function shutdownTrackedPrimaries(): Promise<void> {
  const primaries = [...live];
  live.clear();
  await Promise.all(primaries.map((primary) => primary.shutdown({ timeoutMs: 3_000 }).catch(() => {})));
}

/**
 * Collects what the workers of a `silent: true` primary print (stdout and stderr), from every
 * worker forked from now on. For fixtures that crash on purpose: their stack traces are
 * asserted on here instead of landing in the test output.
 */
export function workerOutput(primary: ClusterPrimary<any, any>): { text(): string } {
  let text = '';
  const listener = ({ worker }: { worker: WorkerHandle }) => {
    for (const stream of [worker.clusterWorker.process.stdout, worker.clusterWorker.process.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => (text += chunk));
    }
  };
  primary.on('workerFork', listener);
  onCleanup(() => primary.off('workerFork', listener));
  return { text: () => text };
}
