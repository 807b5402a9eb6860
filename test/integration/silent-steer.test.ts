/**
 * With round-robin scheduling the primary accepts every connection and hands it to a worker of
 * the port. Before, a worker the heartbeat reported silent (its event loop blocked) kept its
 * turn: its connection waited until it answered or the heartbeat killed it, while the primary's
 * line said dispatch passed it over (retest M2). Now new connections go to the workers that
 * answer, and to it again once it answers (src/primary/pool/silent-steer.ts, H378).
 *
 * Blocks are ended by the test (files it creates), never by a clock. Workers block asleep: what
 * the primary sees is the same as for a busy loop, without taking the CPUs of a 2-core machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { ClusterPrimary, WorkerHandle } from '../../src/index.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

type Primary = ClusterPrimary<ToWorker, ToPrimary>;

/** Gate files that end a block; removed after the file, once every worker has been released. */
const gates = mkdtempSync(join(tmpdir(), 'ck-steer-'));
onCleanup(() => rmSync(gates, { recursive: true, force: true }));

/** Blocks `worker`'s event loop until the returned function is called (or the test ends). */
async function block(primary: Primary, worker: WorkerHandle, name: string): Promise<() => void> {
  const gate = join(gates, `${name}-${worker.id}`);
  const release = onCleanup(() => writeFileSync(gate, ''));
  await expect(primary.send(worker, 'sleepUntilFile', { path: gate })).resolves.toBe('blocking');
  return release;
}

/** Two workers of `workers/http-server.ts` on one port, pinged every 200 ms, killed after `timeoutMs` of silence (20 s: not in the test). */
async function twoWorkers(timeoutMs = 20_000): Promise<{ primary: Primary; port: number; text: () => string; workers: [WorkerHandle, WorkerHandle] }> {
  const port = await freePort();
  const { logger, text } = capturedLogger('info');
  const primary = testPrimary({ workerCount: 2, env: { PORT: String(port) }, heartbeat: { intervalMs: 200, timeoutMs }, logger }, 'workers/http-server.ts');
  const workers = (await primary.start()) as [WorkerHandle, WorkerHandle];
  await until(() => primary.stats().every((row) => row.healthAgeMs !== undefined), 30_000, 'a heartbeat answer from each worker');
  // Both take connections to begin with.
  const answered = new Set<string>();
  await until(
    async () => {
      answered.add((await get(`http://127.0.0.1:${port}/`, 5_000)).body);
      return answered.size === 2;
    },
    30_000,
    'a connection answered by each worker',
  );
  return { primary, port, text, workers };
}

describe('new connections and a silent worker (round-robin scheduling)', () => {
  it('[H378] pass it over while the other worker answers, and reach it again once it answers', async () => {
    const { primary, port, text, workers } = await twoWorkers();
    const [healthy, hung] = workers;
    const silent = onceEvent<{ worker: WorkerHandle }>(primary, 'workerSilent', 30_000, ({ worker }) => worker.id === hung.id);
    const unblock = await block(primary, hung, 'hung');
    await silent;
    // Before: about every other one went to the blocked worker and waited (up to 9.8 s, then reset at the kill).
    const bodies = await Promise.all(Array.from({ length: 20 }, () => get(`http://127.0.0.1:${port}/`, 5_000).then(({ body }) => body)));
    expect(bodies).toEqual(Array.from({ length: 20 }, () => `pid:${healthy.pid}`));
    // The line says so.
    expect(text()).toMatch(new RegExp(`worker ${hung.id} silent for \\d+\\.\\d s, its event loop most likely blocked: new connections, roundRobin\\(\\) and sticky sessions pass it over until it answers`));

    const answers = onceEvent<{ worker: WorkerHandle }>(primary, 'workerSilenceEnd', 30_000, ({ worker }) => worker.id === hung.id);
    unblock();
    await answers;
    let tries = 0;
    await until(
      async () => {
        tries++;
        return (await get(`http://127.0.0.1:${port}/`, 5_000)).body === `pid:${hung.pid}`;
      },
      30_000,
      'a new connection answered by the worker that was silent',
    );
    // Round-robin between the two again: within a few connections, not by chance.
    expect(tries).toBeLessThanOrEqual(4);
  });

  it('[H378] still reach a silent worker when every worker is silent: queued, answered once one answers', async () => {
    const { primary, port, workers } = await twoWorkers();
    const [first, second] = workers;
    const silent = [first, second].map((worker) => onceEvent<{ worker: WorkerHandle }>(primary, 'workerSilent', 30_000, (event) => event.worker.id === worker.id));
    const unblockFirst = await block(primary, first, 'first');
    const unblockSecond = await block(primary, second, 'second');
    await Promise.all(silent);
    // Handed to the silent workers as before (none answers to take them): none is dropped.
    const requests = Array.from({ length: 4 }, () => get(`http://127.0.0.1:${port}/`, 30_000).then(({ body }) => body));
    unblockFirst();
    unblockSecond();
    const bodies = await Promise.all(requests);
    expect(bodies.every((body) => body === `pid:${first.pid}` || body === `pid:${second.pid}`)).toBe(true);
  });

  it('[H378] pass it over until the heartbeat kills it, then reach its replacement', async () => {
    const { primary, port, workers } = await twoWorkers(4_000);
    const [healthy, hung] = workers;
    const silent = onceEvent<{ worker: WorkerHandle }>(primary, 'workerSilent', 30_000, ({ worker }) => worker.id === hung.id);
    const killed = onceEvent<{ worker: WorkerHandle }>(primary, 'workerUnresponsive', 30_000, ({ worker }) => worker.id === hung.id);
    const replaced = onceEvent<{ worker: WorkerHandle }>(primary, 'workerReady', 60_000, ({ worker }) => worker.id !== healthy.id && worker.id !== hung.id);
    await block(primary, hung, 'killed');
    await silent;
    const before = await Promise.all(Array.from({ length: 10 }, () => get(`http://127.0.0.1:${port}/`, 5_000).then(({ body }) => body)));
    expect(before).toEqual(Array.from({ length: 10 }, () => `pid:${healthy.pid}`));
    await killed;
    const { worker: replacement } = await replaced;
    await until(async () => (await get(`http://127.0.0.1:${port}/`, 5_000)).body === `pid:${replacement.pid}`, 30_000, 'a new connection answered by the replacement');
  });
});
