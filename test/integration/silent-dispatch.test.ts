/**
 * A silent worker (its event loop blocked: `stats().isSilent`) is passed over by clusterkit's
 * own dispatch while another worker answers: `roundRobin()` and sticky sessions. `/readyz`
 * stays up while one worker answers, and says how many are silent; it fails once every ready
 * worker is silent, and comes back with their replacements. `/healthz` never fails for them.
 *
 * Blocks are ended by the test (files it creates) or by the heartbeat's kill, never by a clock.
 * Workers block asleep: what the primary sees is the same as for a busy loop (test
 * silent-worker.test.ts), without taking the CPUs other test files run on.
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
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

type Primary = ClusterPrimary<ToWorker, ToPrimary>;

/** Client addresses for sticky sessions (the whole 127.0.0.0/8 is loopback on Linux). */
const kClients = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];
/** Addresses first seen while a worker is silent. */
const kNewClients = ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14', '127.0.0.15', '127.0.0.16', '127.0.0.17'];

/** Gate files that end a block; removed after the file, once every worker has been released. */
const gates = mkdtempSync(join(tmpdir(), 'ck-gates-'));
onCleanup(() => rmSync(gates, { recursive: true, force: true }));

/**
 * Resolves after the primary's next poll phase: answers already waiting on the workers'
 * channels are read by then (a test process descheduled for a while must not make an
 * answering worker look silent).
 */
const afterReads = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Blocks `worker`'s event loop until the returned function is called (or the test ends). Asleep,
 * not in a busy loop: a hang is a hang to the primary, and two busy workers would starve the
 * other processes of a 2-core machine, the worker that should answer among them.
 */
async function block(primary: Primary, worker: WorkerHandle, name: string): Promise<() => void> {
  const gate = join(gates, `${name}-${worker.id}`);
  const release = onCleanup(() => writeFileSync(gate, ''));
  await expect(primary.send(worker, 'sleepUntilFile', { path: gate })).resolves.toBe('blocking');
  return release;
}

function isSilent(primary: Primary, worker: WorkerHandle): boolean {
  return primary.stats().some((row) => row.id === worker.id && row.isSilent);
}

async function untilSilent(primary: Primary, workers: WorkerHandle[]): Promise<void> {
  await until(
    async () => {
      await afterReads();
      return workers.every((worker) => isSilent(primary, worker));
    },
    30_000,
    `workers ${workers.map((worker) => worker.id).join(', ')} shown silent`,
  );
}

async function readyz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const { status, body } = await get(`http://127.0.0.1:${port}/readyz`);
  return { status, body: JSON.parse(body) as Record<string, unknown> };
}

describe('a silent worker in dispatch and readiness', () => {
  it('[H77] is passed over by roundRobin() while another answers; /readyz stays up, then fails when all are silent; /healthz never', async () => {
    // Silent after max(2 intervals, 1 s) = 1 s; killed only after a minute.
    const log = capturedLogger('info');
    // Silent after 3 s (twice the interval), not 1 s: the healthy worker must answer within it even
    // on a machine loaded far past its cores (a CI run beside other work: it missed 1 s, and was
    // said silent too).
    const primary = testPrimary({ workerCount: 2, heartbeat: { intervalMs: 1_500, timeoutMs: 60_000 }, logger: log.logger });
    const silentEvents = record<{ worker: WorkerHandle; silentMs: number }>(primary, 'workerSilent');
    const endEvents = record<{ worker: WorkerHandle; silentMs: number }>(primary, 'workerSilenceEnd');
    const [healthy, hung] = (await primary.start()) as [WorkerHandle, WorkerHandle];
    const { address } = await primary.listenHealth({ port: 0, host: '127.0.0.1' });
    // minReady 0: the pod is ready with no worker at all, so silent ones cannot make it less so.
    const lenient = await primary.listenHealth({ port: 0, host: '127.0.0.1', minReady: 0 });
    await until(() => primary.stats().every((row) => row.healthAgeMs !== undefined), 30_000, 'a heartbeat answer from each worker');
    expect(await readyz(address.port)).toEqual({ status: 200, body: { status: 'ready', readyWorkers: 2, silentWorkers: 0, minReady: 1 } });

    const unblockHung = await block(primary, hung, 'hung');
    await untilSilent(primary, [hung]);

    // Ten picks in a row, each tag and the default one: the worker that answers, and its reply.
    // A pick made while this process was too busy to read the healthy worker's answers would
    // see both silent (then either may be picked, as before): such a pick does not count.
    let picks = 0;
    let picked: WorkerHandle | undefined;
    await until(
      async () => {
        await afterReads();
        if (isSilent(primary, healthy)) return false;
        const tag = picks % 2 === 0 ? 'default' : 'uploads';
        picked = primary.roundRobin({ tag });
        expect(picked.id).toBe(healthy.id);
        picks += 1;
        return picks >= 10;
      },
      30_000,
      'ten picks while the healthy worker answers',
    );
    // What roundRobin() picked answers at once (the hung worker would hold it until the timeout).
    await expect(primary.send(picked!, 'echo', 'hello', { timeoutMs: 10_000 })).resolves.toBe('hello');

    // Said once, however many picks passed it over.
    await until(() => silentEvents.events.length > 0, 30_000, 'workerSilent');
    expect(silentEvents.events.map(({ worker }) => worker.id)).toEqual([hung.id]);
    expect(silentEvents.events[0]!.silentMs).toBeGreaterThan(1_000);
    expect(log.text().match(/silent for \d+\.\d s, its event loop most likely blocked: roundRobin\(\) and sticky sessions pass it over until it answers/g)).toHaveLength(1);

    // Ready: one worker answers. The body says how many are silent, out of readyWorkers (H375).
    const oneSilent = await readyz(address.port);
    expect(oneSilent).toEqual({ status: 200, body: { status: 'ready', readyWorkers: 1, silentWorkers: 1, minReady: 1 } });

    // Every ready worker silent: not ready, and why; liveness untouched (the primary is alive).
    const unblockHealthy = await block(primary, healthy, 'healthy');
    await untilSilent(primary, [healthy, hung]);
    const allSilent = await readyz(address.port);
    expect(allSilent.status).toBe(503);
    expect(allSilent.body).toMatchObject({ status: 'not ready', readyWorkers: 0, silentWorkers: 2, minReady: 1 });
    expect(allSilent.body.reason).toMatch(/^all 2 ready workers silent for \d+\.\ds or more: no answer to the heartbeat$/);
    const live = await get(`http://127.0.0.1:${address.port}/healthz`);
    expect({ status: live.status, body: JSON.parse(live.body) }).toEqual({ status: 200, body: { status: 'ok', state: 'running' } });
    expect(await readyz(lenient.address.port)).toMatchObject({ status: 200, body: { status: 'ready', silentWorkers: 2, minReady: 0 } });
    // All silent: roundRobin() still picks one, as before, rather than throw.
    expect([healthy.id, hung.id]).toContain(primary.roundRobin().id);

    // The heartbeat says so at its next tick (every intervalMs), once per worker.
    await until(() => silentEvents.events.length === 2, 30_000, 'workerSilent for the second worker');

    // Unblocked, they answer again, and the pod is ready again.
    unblockHealthy();
    unblockHung();
    await until(async () => (await readyz(address.port)).status === 200, 30_000, '/readyz ready again');
    await until(async () => (await readyz(address.port)).body.silentWorkers === 0, 30_000, 'no silent worker left');
    await until(() => endEvents.events.length === 2, 30_000, 'workerSilenceEnd for both');
    expect(new Set(endEvents.events.map(({ worker }) => worker.id))).toEqual(new Set([healthy.id, hung.id]));
    expect(silentEvents.events.map(({ worker }) => worker.id).sort()).toEqual([healthy.id, hung.id].sort());
    expect(log.text()).toContain(`worker ${hung.id} answers again after `);
  });

  it('[H77] fails /readyz while the only worker is silent, and is ready again once the heartbeat replaced it', async () => {
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 5_000 } });
    const [hung] = (await primary.start()) as [WorkerHandle];
    const { address } = await primary.listenHealth({ port: 0, host: '127.0.0.1' });
    await until(() => primary.stats()[0]?.healthAgeMs !== undefined, 30_000, 'a heartbeat answer');
    const unresponsive = onceEvent(primary, 'workerUnresponsive', 30_000);
    const silentEvents = record<{ worker: WorkerHandle }>(primary, 'workerSilent');
    const replaced = onceEvent<{ worker: WorkerHandle }>(primary, 'workerReady', 30_000);
    await block(primary, hung, 'forever');
    await untilSilent(primary, [hung]);
    // Silent after 1 s, killed after 5 s: four seconds for two local requests. Awaited, not read
    // once: on a loaded machine the primary's own late timers give a silence back (primary-stall.ts),
    // and one probe may find it just under the threshold again (helpers' load beside a test run).
    let silent = await readyz(address.port);
    await until(async () => (silent = await readyz(address.port)).status === 503, 30_000, '/readyz not ready while the only worker is silent');
    expect(silent.body).toMatchObject({ status: 'not ready', readyWorkers: 0, silentWorkers: 1 });
    expect(silent.body.reason).toMatch(/^the only ready worker silent for \d+\.\ds or more/);
    await expect(get(`http://127.0.0.1:${address.port}/healthz`)).resolves.toMatchObject({ status: 200 });
    await unresponsive;
    expect(silentEvents.events.map(({ worker }) => worker.id)).toEqual([hung.id]);
    const { worker } = await replaced;
    expect(worker.id).not.toBe(hung.id);
    await until(async () => (await readyz(address.port)).status === 200, 30_000, '/readyz ready with the replacement');
    expect((await readyz(address.port)).body).toEqual({ status: 'ready', readyWorkers: 1, silentWorkers: 0, minReady: 1 });
  });

  it('[H77] sends sticky clients of a silent worker, and new ones, to a worker that answers', async () => {
    const primary = testPrimary({ workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } }, 'sticky-worker.ts');
    const workers = await primary.start();
    const { address } = await primary.listenSticky({ port: 0, host: '127.0.0.1' });
    await until(() => primary.stats().every((row) => row.healthAgeMs !== undefined), 30_000, 'a heartbeat answer from each worker');
    const pidFor = async (client: string): Promise<number> => {
      const { status, body } = await get(`http://127.0.0.1:${address.port}/`, 10_000, client);
      expect(status).toBe(200);
      return Number(body.slice('pid:'.length));
    };
    const before = new Map<string, number>();
    for (const client of kClients) before.set(client, await pidFor(client));
    // The worker with the most clients hangs (8 addresses over 2 workers: at least 4).
    const count = (pid: number | undefined) => [...before.values()].filter((value) => value === pid).length;
    const [hung, healthy] = [...workers].sort((a, b) => count(b.pid) - count(a.pid)) as [WorkerHandle, WorkerHandle];
    const unblock = await block(primary, hung, 'sticky');
    await untilSilent(primary, [hung]);

    // Every client, its own worker silent or not, and every new client (several would have
    // hashed to the silent worker), reaches the worker that answers.
    for (const client of [...kClients, ...kNewClients]) {
      await afterReads();
      expect(isSilent(primary, healthy)).toBe(false);
      expect({ client, pid: await pidFor(client) }).toEqual({ client, pid: healthy.pid });
    }
    // Answering again, the hung worker gets no client back: those that moved stay where they went.
    unblock();
    await until(async () => (await afterReads(), !isSilent(primary, hung)), 30_000, 'the unblocked worker answering again');
    for (const client of [...kClients, ...kNewClients]) {
      expect({ client, pid: await pidFor(client) }).toEqual({ client, pid: before.get(client) === hung.pid || !before.has(client) ? healthy.pid : before.get(client) });
    }
  });

  it('[H77] counts no silence in /readyz without the heartbeat', async () => {
    const primary = testPrimary({ heartbeat: false });
    await primary.start();
    const { address } = await primary.listenHealth({ port: 0, host: '127.0.0.1' });
    // No heartbeat: nothing asks an idle worker to speak, so no silence is counted at all.
    expect(await readyz(address.port)).toEqual({ status: 200, body: { status: 'ready', readyWorkers: 1, minReady: 1 } });
  });
});
