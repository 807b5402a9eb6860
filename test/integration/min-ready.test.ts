/**
 * `minReadyMs` (H349, Kubernetes' `minReadySeconds`): a replacement must stay up that long once
 * ready, serving beside the worker it replaces, before that one is stopped. A bad build that
 * crashes soon after ready (200 ms here) then fails the reload on its first slot and the old
 * workers keep serving; without it, it replaced every good worker in turn and the whole
 * service crash-looped (since H365 such a reload stops at the first replacement that crashes
 * during it: reload-replacement-crash.test.ts). Real workers: the next release is what a file
 * says at each start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { ClusterPrimary, ReloadError, type PrimaryOptions, type SlotChangeEvent, type WorkerExitEvent, type WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { abandon, get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { isAlive } from '../helpers/processes.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/** A file holding the release the next worker starts (`good`, `crash-after-ready`); removed after the test. */
function buildFile(build: string): { file: string; release(build: string): void } {
  const directory = mkdtempSync(join(tmpdir(), 'ck-min-ready-'));
  onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  const file = join(directory, 'build');
  writeFileSync(file, build);
  return { file, release: (next) => writeFileSync(file, next) };
}

/** A GET of `/?delay=600000&announce` (held open 10 min, announced by the worker as it arrives), abandoned after the test. */
function holdRequest(port: number): http.ClientRequest {
  const request = http.get({ host: '127.0.0.1', port, path: '/?delay=600000&announce', agent: false });
  request.on('error', () => {});
  onCleanup(() => abandon(request));
  return request;
}

/** Two HTTP workers of the good build; `release()` changes what the next ones start. */
async function startGood(extra: PrimaryOptions = {}) {
  const port = await freePort();
  const { file, release } = buildFile('good');
  const primary = testPrimary({ workerCount: 2, env: { PORT: String(port), BUILD_FILE: file }, silent: true, ...extra }, 'workers/build-from-file.ts');
  const before = await primary.start();
  return { primary, before, port, release };
}

describe('minReadyMs', () => {
  it('[H349] a bad build that crashes 200 ms after ready fails the reload on its first slot; the old workers keep serving and the slot runs no extra worker', async () => {
    const { primary, before, port, release } = await startGood({ minReadyMs: 2_000 });
    const oldPids = before.map((worker) => worker.pid);
    release('crash-after-ready');
    const forks = record<{ worker: WorkerHandle }>(primary, 'workerFork');
    const crashes = record(primary, 'workerCrash');
    const restarts = record(primary, 'workerRestart');
    const changes = record<SlotChangeEvent>(primary, 'slotChange');
    const failed = record<{ error: Error }>(primary, 'reloadFailed');

    const error = await primary.reload().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ code: 'ERR_RELOAD_FAILED', isShutdown: false });
    const [incoming] = forks.events.map((event) => event.worker);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The replacement for worker slot 0 became ready but did not stay up \\(worker ${incoming!.id} \\(pid ${incoming!.pid}\\) exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it was ready, ` +
          `of an uncaught TypeError: lazy import failed: \\./routes/report\\.js(?: at \\S+)?, within the 2000 ms it had to stay up \\("minReadyMs"\\) before ` +
          `worker ${before[0]!.id} \\(pid ${before[0]!.pid}\\) would stop; that one keeps serving\\), so the reload stopped; 0 of 2 workers were replaced\\.$`,
      ),
    );
    expect(failed.events).toEqual([{ error }]);
    // One replacement forked, gone; no takeover, and its crash restarted nothing in the slot.
    expect(forks.events).toHaveLength(1);
    expect(incoming!.state).toBe('exited');
    expect(changes.events).toEqual([]);
    expect(crashes.events).toEqual([]);
    expect(restarts.events).toEqual([]);
    // The old workers, the same processes, serve on: each answers, and so does the port.
    expect(primary.workers.map((worker) => worker.pid)).toEqual(oldPids);
    expect(primary.workers.every((worker) => worker.state === 'ready')).toBe(true);
    for (const worker of before) await expect(primary.send(worker, 'echo', 'still serving')).resolves.toBe('still serving');
    const answer = await get(`http://127.0.0.1:${port}/`);
    expect(oldPids.map((pid) => `pid:${pid}`)).toContain(answer.body);
    expect(oldPids.every((pid) => isAlive(pid!))).toBe(true);
  });

  it('[H360] a replacement that served, then crashed within minReadyMs: its exit line says the requests its crash cut, as a crash line does, and the reload that it became ready but did not stay up', async () => {
    const { logger, text } = capturedLogger();
    const { primary, before, port } = await startGood({ minReadyMs: 120_000, logger });
    const exits = record<WorkerExitEvent>(primary, 'workerExit');
    const crashes = record(primary, 'workerCrash');
    const messages = record<{ worker: WorkerHandle; type: string }>(primary, 'workerMessage');
    const replacementReady = onceEvent<{ worker: WorkerHandle }>(primary, 'workerReady');
    const reloading = primary.reload().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    const { worker: incoming } = await replacementReady;
    // Requests held open (10 min), one at a time, until two of them reached the replacement
    // (node:cluster hands connections to the three workers in turn).
    const heldBy = (worker: WorkerHandle) => messages.events.filter((event) => event.worker === worker && event.type === 'lifecycle').length;
    const held: http.ClientRequest[] = [];
    for (let sent = 0; sent < 30 && heldBy(incoming) < 2; sent++) {
      const arrived = messages.events.length;
      held.push(holdRequest(port));
      await until(() => messages.events.length > arrived, 20_000, 'the held request to arrive');
    }
    expect(heldBy(incoming)).toBe(2);
    await primary.send(incoming, 'crashAsync');

    const error = await reloading;
    expect(error).toBeInstanceOf(ReloadError);
    // Before: "failed to start", though it was ready and served.
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The replacement for worker slot 0 became ready but did not stay up \\(worker ${incoming.id} \\(pid ${incoming.pid}\\) exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it was ready, ` +
          `of an uncaught Error: uncaught in worker(?: at \\S+)?, within the 120000 ms it had to stay up \\("minReadyMs"\\) before worker ${before[0]!.id} \\(pid ${before[0]!.pid}\\) would stop; ` +
          `that one keeps serving\\), so the reload stopped; 0 of 2 workers were replaced\\.$`,
      ),
    );
    // No crash line follows (it restarts nothing): its exit line says what a crash line would. Before: `worker N exited unexpectedly`, no more.
    expect(crashes.events).toEqual([]);
    const exit = exits.events.find((event) => event.worker === incoming);
    expect(exit).toMatchObject({ expected: false, code: 1, beforeTakeover: { lostRequests: 2, error: { name: 'Error', message: 'uncaught in worker' } } });
    expect(exit!.beforeTakeover!.readyMs).toBeGreaterThan(0);
    expect(text()).toMatch(
      new RegExp(
        `WARN worker ${incoming.id} exited unexpectedly: it exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it became ready, of an uncaught Error: uncaught in worker(?: at \\S+)?; ` +
          `2 requests cut off \\(open as it exited or at its last report, or handed to it and not taken yet\\)\\. It had not taken over its slot yet \\(a reload's or a memory replacement, ` +
          `serving beside the worker it was to replace\\), so it is not restarted: the replacement failed workerId=${incoming.id} .*readyMs=\\d+ lostRequests=2`,
      ),
    );
    // The old workers serve on; the requests they hold are let go.
    for (const request of held) abandon(request);
    for (const worker of before) await expect(primary.send(worker, 'echo', 'still serving')).resolves.toBe('still serving');
  });

  it('[H349] a bad build that hangs 300 ms after ready (its event loop blocked for good) fails the reload too: the heartbeat finds it silent within minReadyMs; the old workers keep serving', async () => {
    // 6 s: over the heartbeat's silence threshold (2 s with the defaults), with room for a busy machine.
    const { primary, before, port, release } = await startGood({ minReadyMs: 6_000 });
    const oldPids = before.map((worker) => worker.pid);
    release('hang-after-ready');
    const forks = record<{ worker: WorkerHandle }>(primary, 'workerFork');
    const changes = record<SlotChangeEvent>(primary, 'slotChange');

    const error = await primary.reload().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ReloadError);
    const [incoming] = forks.events.map((event) => event.worker);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^The replacement for worker slot 0 became ready but did not stay up \\(worker ${incoming!.id} \\(pid ${incoming!.pid}\\) stopped answering the heartbeat \\(unheard for [^)]+\\), ` +
          `its event loop most likely blocked, within the 6000 ms it had to stay up \\("minReadyMs"\\) before worker ${before[0]!.id} \\(pid ${before[0]!.pid}\\) would stop; ` +
          `that one keeps serving\\), so the reload stopped; 0 of 2 workers were replaced\\.$`,
      ),
    );
    // The hung replacement is gone (stopped, then killed), no takeover; the old workers serve on.
    await until(() => incoming!.state === 'exited', 15_000, 'the hung replacement to be gone');
    expect(changes.events).toEqual([]);
    expect(primary.workers.map((worker) => worker.pid)).toEqual(oldPids);
    for (const worker of before) await expect(primary.send(worker, 'echo', 'still serving')).resolves.toBe('still serving');
    const answer = await get(`http://127.0.0.1:${port}/`);
    expect(oldPids.map((pid) => `pid:${pid}`)).toContain(answer.body);
  });

  // Without minReadyMs the same build now fails the reload once a replacement crashed during it (H365): reload-replacement-crash.test.ts.

  it('[H349] a good build waits minReadyMs after each replacement is ready before the old worker stops, then completes', async () => {
    const { primary, before } = await startGood({ minReadyMs: 300 });
    const readyAt = new Map<number, number>();
    const onReady = ({ worker }: { worker: WorkerHandle }) => readyAt.set(worker.id, Date.now());
    primary.on('workerReady', onReady);
    onCleanup(() => primary.off('workerReady', onReady));
    const takeovers: { event: SlotChangeEvent; at: number }[] = [];
    const onChange = (event: SlotChangeEvent) => takeovers.push({ event, at: Date.now() });
    primary.on('slotChange', onChange);
    onCleanup(() => primary.off('slotChange', onChange));
    const exits = new Map<number, number>();
    const onExit = ({ worker }: { worker: WorkerHandle }) => exits.set(worker.id, Date.now());
    primary.on('workerExit', onExit);
    onCleanup(() => primary.off('workerExit', onExit));
    const completed = onceEvent(primary, 'reloadComplete');

    await primary.reload();
    await expect(completed).resolves.toMatchObject({ replaced: 2, stopped: { graceful: before, failed: [], killed: [] } });
    expect(takeovers.map(({ event }) => event.previous)).toEqual(before);
    for (const { event, at } of takeovers) {
      // The old worker is stopped at the takeover, never before its replacement stayed up 300 ms
      // (less 5 ms: libuv counts a timer from the loop's cached time, which a busy tick leaves
      // behind Date.now(); CI read 299).
      expect(at - readyAt.get(event.worker.id)!).toBeGreaterThanOrEqual(295);
      expect(exits.get(event.previous!.id)!).toBeGreaterThanOrEqual(at);
    }
    expect(primary.workers.map((worker) => worker.id).sort()).toEqual(takeovers.map(({ event }) => event.worker.id).sort());
  });

  it('[H349] a shutdown during the wait ends it at once (not after minReadyMs), and the reload rejects as stopped by the shutdown', async () => {
    const { primary, before } = await startGood({ minReadyMs: 60_000 });
    const replacementReady = onceEvent<{ worker: WorkerHandle }>(primary, 'workerReady');
    const reloading = primary.reload().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    const { worker: incoming } = await replacementReady;
    // A turn of the event loop: the reload has gone from the replacement's ready into its wait.
    await new Promise((resolve) => setImmediate(resolve));
    const startedAt = Date.now();
    const report = await primary.shutdown({ timeoutMs: 10_000 });
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    const error = await reloading;
    expect(error).toBeInstanceOf(ReloadError);
    expect(error).toMatchObject({ isShutdown: true });
    expect((error as Error).message).toBe(
      `The reload stopped because the primary began shutting down while the replacement for worker slot 0 was staying up its 60000 ms ("minReadyMs") before worker ${before[0]!.id} (pid ${before[0]!.pid}) would stop; the shutdown stops both; 0 of 2 workers were replaced.`,
    );
    // Both served: each stopped gracefully, with the others.
    expect(report.killed).toEqual([]);
    expect(report.failed).toEqual([]);
    expect([...report.graceful].sort((a, b) => a.id - b.id)).toEqual([...before, incoming].sort((a, b) => a.id - b.id));
  });

  it('[H349] a memory replacement that crashes within minReadyMs leaves the worker over the limit serving, restarting nothing', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-hog-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
    const crashing = join(directory, 'crash');
    // Every worker forked from now on crashes 200 ms after ready.
    const primary = testPrimary(
      { maxMemoryMb: 64, minReadyMs: 5_000, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, env: { HOG_CRASH_AFTER_READY_WHILE: crashing }, silent: true },
      'workers/memory-hog.ts',
    );
    const errors = record<Error>(primary, 'error');
    const crashes = record(primary, 'workerCrash');
    const [first] = await primary.start();
    const changes = record<SlotChangeEvent>(primary, 'slotChange');
    writeFileSync(crashing, '');
    await until(() => errors.events.length >= 1, 60_000, 'the failed memory replacement reported');
    expect(errors.events[0]!.message).toMatch(
      new RegExp(
        `^Worker ${first!.id} is over the memory limit, but its replacement for slot 0 became ready but did not stay up, so it keeps serving; .* Fix what ends new workers soon after they are ready: ` +
          `worker \\d+ \\(pid \\d+\\) exited with code 1 (?:\\d+ ms|\\d+\\.\\d s) after it was ready, of an uncaught TypeError: lazy import failed after ready(?: at \\S+)?, ` +
          `within the 5000 ms it had to stay up \\("minReadyMs"\\) before worker ${first!.id} \\(pid ${first!.pid}\\) would stop; that one keeps serving`,
      ),
    );
    expect(first!.state).toBe('ready');
    expect(isAlive(first!.pid!)).toBe(true);
    // Only the initial worker ever took its slot; the replacement's crash was no crash of the slot.
    expect(changes.events).toHaveLength(0);
    expect(crashes.events).toEqual([]);
    expect(primary.workers.filter((worker) => worker.state === 'ready')).toEqual([first]);
  });

  it('[H349] refuses a minReadyMs that is not a whole number of milliseconds', () => {
    const refused = /The "minReadyMs" option must be a whole number of milliseconds from 0 to 2147483647/;
    for (const value of [-1, Number.NaN, 1.5, '100', Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => new ClusterPrimary({ workerScript: 'x.js', minReadyMs: value as number, logger: false })).toThrow(refused);
    }
    expect(() => new ClusterPrimary({ workerScript: 'x.js', minReadyMs: 0, logger: false })).not.toThrow();
    expect(new ClusterPrimary({ workerScript: 'x.js', logger: false }).options.minReadyMs).toBe(0);
  });

  it('[H625] an old worker killed while its ready replacement serves beside it: its crash line says the replacement takes the slot over, and nothing restarts', async () => {
    const { logger, text } = capturedLogger();
    const { primary, before } = await startGood({ workerCount: 1, minReadyMs: 3_000, logger });
    const restarts = record(primary, 'workerRestart');
    const replacementReady = onceEvent<{ worker: WorkerHandle }>(primary, 'workerReady');
    const reloading = primary.reload();
    const { worker: incoming } = await replacementReady;
    const crashed = onceEvent(primary, 'workerCrash', 30_000);
    // Retest t61 M2: kill -9 of the old worker in its replacement's --min-ready window.
    process.kill(before[0]!.pid!, 'SIGKILL');
    await crashed;
    await reloading;
    // Before: "... its restart counts toward no limit restartDelayMs=100", and no restart came.
    expect(text()).toMatch(
      new RegExp(`worker ${before[0]!.id} was killed by SIGKILL .*; the reload's replacement for its slot, worker ${incoming.id}, is ready and serves beside it: it takes the slot over, with no restart \\(one runs only if that replacement fails\\)`),
    );
    expect(text()).not.toMatch(/restartDelayMs=/);
    expect(restarts.events).toEqual([]);
    expect(primary.workers).toEqual([incoming]);
  });
});
