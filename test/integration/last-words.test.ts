/**
 * Issue 11, kind 7: what a process queued when it exits is written before it exits, on both
 * sides, as a raw process.send() then process.exit() would be. Messages are coalesced and
 * flushed at the end of the tick; a process that exits in that tick must not lose them.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type PrimaryOptions, type WorkerHandle } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';
import { waitUntilGone } from '../helpers/processes.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';
import { record } from '../helpers/wait.js';

const kWorkers = 10;
const startedPids: number[] = [];

afterEach(() => {
  killSpawned();
  for (const pid of startedPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function lastWordsPrimary(extra: PrimaryOptions): ClusterPrimary {
  return track(new ClusterPrimary(testOptions('last-words-worker.ts', { restart: false, ...extra })));
}

/** Resolves once the worker's IPC channel has closed: everything it wrote has been read. */
function channelClosed(worker: WorkerHandle): Promise<void> {
  const clusterWorker = worker.clusterWorker;
  if (!clusterWorker.isConnected()) return Promise.resolve();
  return new Promise((resolve) => clusterWorker.once('disconnect', () => resolve()));
}

describe('messages written just before the process exits', () => {
  it(`[H7] a worker that notifies in its uncaughtException handler and exits: ${kWorkers} of ${kWorkers} last words arrive`, async () => {
    const primary = lastWordsPrimary({ workerCount: kWorkers, readyTimeoutMs: 60_000 });
    const workers = await primary.start();
    const received = record(primary, 'workerMessage');
    const closed = workers.map(channelClosed);
    for (const worker of workers) primary.notify(worker, 'crash');
    await Promise.all(closed);
    const lastWords = received.events.filter((event) => event.type === 'lastWords');
    expect(lastWords.map((event) => event.payload.how)).toEqual(Array(kWorkers).fill('uncaughtException'));
    expect(new Set(lastWords.map((event) => event.payload.pid))).toEqual(new Set(workers.map((worker) => worker.pid)));
  }, 90_000);

  it('[H7] a worker that notifies, sends a request and exits at once: both arrive', async () => {
    const primary = lastWordsPrimary({});
    const [worker] = await primary.start();
    const received = record(primary, 'workerMessage');
    const closed = channelClosed(worker!);
    primary.notify(worker!, 'exitNow');
    await closed;
    expect(received.events.map((event) => [event.type, event.payload.how, event.isRequest])).toEqual([
      ['lastWords', 'exit', false],
      ['lastWords', 'request', true],
    ]);
  });

  it(`[H7] a primary that notifies its ${kWorkers} workers and exits: every worker gets the message`, async () => {
    const primary = spawnScript('test/fixtures/last-words-primary.ts', { env: { LAST_WORDS_WORKERS: String(kWorkers) } });
    const started = await primary.waitFor(/\{"event":"started".*\}/, 60_000);
    const pids = (JSON.parse(started[0]) as { pids: number[] }).pids;
    startedPids.push(...pids);
    // 'close' waits for the workers too: they inherited the primary's stdout.
    await expect(primary.exited(30_000)).resolves.toBe(1);
    const lines = primary
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"lastWords"'))
      .map((line) => JSON.parse(line) as { pid: number; payload: { from: string } });
    expect(lines).toHaveLength(kWorkers);
    expect(new Set(lines.map((line) => line.pid))).toEqual(new Set(pids));
    await waitUntilGone(pids, 30_000);
  }, 90_000);
});
