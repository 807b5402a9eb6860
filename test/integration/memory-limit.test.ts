/**
 * `maxMemoryMb`: a floor no process can go under is refused at once; a worker over the limit is
 * replaced gracefully every time, however often (H152), and from the third replacement in a
 * row soon after start the line says why and what to change, and the replacements back off
 * (H164). A replacement that cannot start leaves the old worker serving, and is tried again
 * (H153), unless the worker keeps growing: past its hard bound it is stopped without waiting and
 * the slot restarts in place (H163).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type MemoryLimitEvent, type WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

describe('memory limit', () => {
  it('refuses a limit no worker can meet, and a limit without the heartbeat that measures it', () => {
    expect(() => new ClusterPrimary({ maxMemoryMb: 1 })).toThrow(
      'The "maxMemoryMb" option must be an integer of MiB from 64 to Number.MAX_SAFE_INTEGER (a Node.js worker uses about 50 MiB before it runs any code, so a lower limit would replace it forever). Received 1',
    );
    expect(() => new ClusterPrimary({ maxMemoryMb: 512, heartbeat: false })).toThrow('The "heartbeat" option must be left on when "maxMemoryMb" is set');
  });

  it('[H152] replaces workers that go over the limit soon after start again and again, never giving the slot up, and says so from the third', async () => {
    const { logger, text } = capturedLogger('info');
    // Each worker holds 100 MiB from its start: every one goes over 64 MiB three heartbeats after ready.
    const primary = testPrimary({ maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, logger }, 'workers/memory-hog.ts');
    const limits = record<{ worker: WorkerHandle; inARow: number; limitBytes: number }>(primary, 'workerMemoryLimit');
    const crashLoops = record(primary, 'crashLoop');
    // Whenever a worker over the limit exits, its replacement is already ready: the slot always serves.
    const servedAtEachExit: boolean[] = [];
    const onExit = () => servedAtEachExit.push(primary.workers.some((worker) => worker.state === 'ready'));
    primary.on('workerExit', onExit);
    try {
      const [first] = await primary.start();
      // Five worker starts and stops: a deadline that a busy machine's slow starts cannot reach.
      await until(() => limits.events.length >= 5 || crashLoops.events.length > 0, 120_000, 'five memory replacements');
      expect(crashLoops.events).toEqual([]);
      expect(limits.events.slice(0, 5).map((event) => event.inARow)).toEqual([1, 2, 3, 4, 5]);
      expect(limits.events[0]).toMatchObject({ worker: first, limitBytes: 64 * 1024 * 1024 });
      // The fifth worker's replacement is under way: once it is ready, the old one stops.
      await until(() => servedAtEachExit.length >= 5, 60_000, 'the fifth worker over the limit stopped');
      expect(servedAtEachExit.every(Boolean)).toBe(true);
      expect(primary.state).toBe('running');
      expect(primary.workers.length).toBeGreaterThanOrEqual(1);

      const lines = text().split('\n').filter((line) => line.includes('over the memory limit'));
      const [firstId, secondId, thirdId] = limits.events.map((event) => event.worker.id);
      const lineOf = (id: number) => lines.find((line) => line.includes(`WARN worker ${id} over the memory limit`));
      expect(lineOf(firstId!)).toMatch(/over the memory limit: RSS \d+\.\d MiB, limit 64\.0 MiB \(maxMemoryMb\) .*inARow=1/);
      expect(lineOf(secondId!)).not.toContain('in a row');
      expect(lineOf(thirdId!)).toMatch(
        /over the memory limit: RSS \d+\.\d MiB, limit 64\.0 MiB \(maxMemoryMb\); 3 replacements in a row, each soon after its worker started \(within restart\.stableAfterMs\): the limit is below what the worker needs, or it leaks memory from the start\. It is replaced each time, after a back-off of 100 ms \(restart\.backoff\); raise the limit \(maxMemoryMb; clusterkit run: --max-memory\) or fix the leak .*inARow=3/,
      );
      // One line per replacement, no more.
      expect(lines.length).toBe(limits.events.length);
      expect(text()).not.toMatch(/ERROR|no longer replaced/);
    } finally {
      primary.off('workerExit', onExit);
    }
  });

  it('[H153] tries the replacement again when it could not start, instead of leaving the worker over the limit for good', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-hog-'));
    const gate = join(directory, 'fail');
    const primary = testPrimary(
      { maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, env: { HOG_FAIL_WHILE: gate } },
      'workers/memory-hog.ts',
    );
    const errors = record<Error>(primary, 'error');
    const limits = record<{ worker: WorkerHandle }>(primary, 'workerMemoryLimit');
    try {
      const [first] = await primary.start();
      // Every worker forked from now on fails its start: the replacement of the first cannot start.
      writeFileSync(gate, '');
      await until(() => errors.events.length >= 1, 60_000, 'the failed replacement reported');
      expect(errors.events[0]).toMatchObject({ code: 'ERR_RELOAD_FAILED' });
      expect(errors.events[0]!.message).toMatch(
        new RegExp(
          `^Worker ${first!.id} is over the memory limit, but its replacement for slot 0 failed to start, so it keeps serving; the replacement is tried again once it stays over the limit for 3 more heartbeats\\. Fix what stops new workers from starting: Worker \\d+ \\(pid \\d+\\) exited with code 1 before it was ready\\.`,
        ),
      );
      expect(first!.state).toBe('ready');
      // Three more heartbeats over the limit, and the first worker is replaced again.
      await until(() => limits.events.filter((event) => event.worker === first).length >= 2, 60_000, 'a second replacement of the first worker');
      rmSync(gate);
      await until(() => first!.state === 'exited', 60_000, 'the first worker replaced');
      expect(primary.workers.some((worker) => worker.state === 'ready' && worker !== first)).toBe(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('[H163][H190][H508] stops a worker that keeps growing while its replacement is not ready, and restarts its slot in place, saying how long the replacement had been starting', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-leak-'));
    const { logger, text } = capturedLogger('info');
    // The first worker leaks 80 MiB/s (up to 320 MiB); its replacements hang in their start-up.
    const primary = testPrimary(
      { maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, shutdownTimeoutMs: 5_000, env: { LEAK_MARKER: join(directory, 'first'), LEAK_MAX_MB: '320' }, logger },
      'workers/memory-leak.ts',
    );
    const limits = record<MemoryLimitEvent>(primary, 'workerMemoryLimit');
    const restarts = record<{ previous: WorkerHandle; worker: WorkerHandle }>(primary, 'workerRestart');
    const exits = record<{ worker: WorkerHandle; expected: boolean }>(primary, 'workerExit');
    const errors = record<Error>(primary, 'error');
    try {
      const [first] = await primary.start();
      await until(() => limits.events.some((event) => event.action === 'restart'), 60_000, 'the leaking worker stopped over its hard bound');
      const [replace, restart] = limits.events;
      expect(replace).toMatchObject({ worker: first, action: 'replace', inARow: 1, delayMs: 0 });
      // It grew by the limit once more after its replacement began, then it was stopped.
      expect(restart).toMatchObject({ worker: first, action: 'restart', limitBytes: 64 * 1024 * 1024, delayMs: 0 });
      expect(restart!.rssBytes).toBeGreaterThanOrEqual(replace!.rssBytes + 64 * 1024 * 1024);
      expect(restart!.replacementStartingMs).toBeGreaterThanOrEqual(0);
      expect(limits.events).toHaveLength(2);
      // Stopped on purpose, then the slot restarted in place by the crash rules.
      await until(() => restarts.events.length >= 1, 60_000, 'the slot restarted');
      expect(exits.events.find((event) => event.worker === first)).toMatchObject({ expected: true });
      expect(restarts.events[0]).toMatchObject({ previous: first });
      expect(primary.state).toBe('running');
      const lines = text().split('\n').filter((line) => line.includes('grew by the limit once more'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `ERROR worker ${first!.id} over the memory limit grew by the limit once more while its replacement was still starting after \\d+(\\.\\d+)? m?s: RSS \\d+\\.\\d MiB, limit 64\\.0 MiB \\(maxMemoryMb\\)\\. ` +
            'It is stopped without waiting for its replacement, and the slot restarts in place as after a crash, with its backoff and limits \\(restart\\.maxStartupFailures\\)\\. ' +
            // One worker: nothing serves until the next is ready, said (H508).
            'No other worker is ready: until one is, nothing serves \\(run 2 workers or more to keep serving through this\\)\\. ' +
            // What was true then (H190): the replacement was slow, not necessarily stuck ("do not become ready" before).
            'The script leaks memory faster than a new worker starts \\(the replacement may yet become ready\\): fix the leak, and if workers should start faster, look at what their start-up waits for \\(readyTimeoutMs\\) ',
        ),
      );
      // Its replacement, still starting, is not reported as failed: the line above said it all.
      expect(errors.events).toEqual([]);
    } finally {
      // Stopped before its marker goes: a worker starting then would take itself for the first.
      await primary.shutdown();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('[H164] backs off replacements in a row from the third, by the restart backoff, and says so', async () => {
    const { logger, text } = capturedLogger('info');
    const primary = testPrimary(
      { maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, restart: { backoff: { initialMs: 500, factor: 2 } }, logger },
      'workers/memory-hog.ts',
    );
    const limits = record<MemoryLimitEvent>(primary, 'workerMemoryLimit');
    // When each memory event and each fork came: a backed-off replacement forks its delay later.
    const times: Array<{ what: 'limit' | 'fork'; at: number }> = [];
    const onLimit = () => times.push({ what: 'limit', at: Date.now() });
    const onFork = () => times.push({ what: 'fork', at: Date.now() });
    primary.on('workerMemoryLimit', onLimit);
    primary.on('workerFork', onFork);
    try {
      await primary.start();
      await until(() => limits.events.length >= 4, 120_000, 'four memory replacements');
      expect(limits.events.slice(0, 4).map((event) => [event.inARow, event.delayMs, event.action])).toEqual([
        [1, 0, 'replace'],
        [2, 0, 'replace'],
        [3, 500, 'replace'],
        [4, 1_000, 'replace'],
      ]);
      // The third replacement's worker was forked no sooner than its back-off.
      const third = times.filter((time) => time.what === 'limit')[2]!;
      const fork = times.find((time) => time.what === 'fork' && time.at >= third.at)!;
      expect(fork.at - third.at).toBeGreaterThanOrEqual(490);
      const lines = text().split('\n').filter((line) => line.includes('over the memory limit'));
      expect(lines[1]).not.toContain('back-off');
      expect(lines[2]).toContain('; 3 replacements in a row, each soon after its worker started (within restart.stableAfterMs): ');
      expect(lines[2]).toContain('It is replaced each time, after a back-off of 500 ms (restart.backoff); raise the limit');
      expect(lines[3]).toContain('after a back-off of 1.0 s (restart.backoff)');
    } finally {
      primary.off('workerMemoryLimit', onLimit);
      primary.off('workerFork', onFork);
    }
  });
  it('[H179] replaces a worker that went over the limit while it was starting, once it serves', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-slow-'));
    // Each worker holds 100 MiB from its start; the replacements listen 2 s after ready, so their
    // strikes pass three before they take the slot over.
    const primary = testPrimary(
      { maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, env: { HOG_COUNTER: join(directory, 'count'), HOG_LISTEN_DELAY_MS: '2000' } },
      'workers/memory-hog.ts',
    );
    const limits = record<MemoryLimitEvent>(primary, 'workerMemoryLimit');
    const crashLoops = record(primary, 'crashLoop');
    try {
      const [first] = await primary.start();
      await until(() => new Set(limits.events.map((event) => event.worker)).size >= 2 || crashLoops.events.length > 0, 60_000, 'the replacement over the limit replaced in turn');
      expect(crashLoops.events).toEqual([]);
      const [one, two] = limits.events;
      expect(one).toMatchObject({ worker: first, action: 'replace', inARow: 1 });
      // The second is the first's replacement, handled once it served, not while it started.
      expect(two).toMatchObject({ action: 'replace', inARow: 2 });
      expect(two!.worker).not.toBe(first);
      // And it is replaced in turn: its own replacement took the slot over, and it stops.
      await until(() => two!.worker.state === 'stopping' || two!.worker.state === 'exited', 30_000, 'the second worker replaced');
      expect(['stopping', 'exited']).toContain(first!.state);
    } finally {
      await primary.shutdown();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('[H180] starts a backing-off replacement at once when the worker reaches its hard bound, instead of stopping it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ck-grow-'));
    const { logger, text } = capturedLogger('info');
    // Workers 1 and 2 hold 100 MiB; from the third on they grow by 100 MiB more once ready. The third
    // replacement in a row backs off 60 s: the third worker reaches its hard bound during the back-off.
    const primary = testPrimary(
      {
        maxMemoryMb: 64,
        heartbeat: { intervalMs: 100, timeoutMs: 5_000 },
        restart: { backoff: { initialMs: 60_000, maxMs: 60_000 } },
        env: { HOG_COUNTER: join(directory, 'count'), HOG_GROW_FROM: '3' },
        logger,
      },
      'workers/memory-hog.ts',
    );
    const limits = record<MemoryLimitEvent>(primary, 'workerMemoryLimit');
    const exits = record<{ worker: WorkerHandle; expected: boolean }>(primary, 'workerExit');
    try {
      await primary.start();
      await until(() => limits.events.length >= 3, 60_000, 'three memory replacements');
      const third = limits.events[2]!;
      expect(third).toMatchObject({ action: 'replace', inARow: 3, delayMs: 60_000 });
      // Replaced well within its 60 s back-off, gracefully: its replacement was ready first.
      await until(() => exits.events.some((event) => event.worker === third.worker), 30_000, 'the third worker replaced before its back-off ended');
      expect(exits.events.find((event) => event.worker === third.worker)).toMatchObject({ expected: true });
      expect(limits.events.filter((event) => event.action === 'restart')).toEqual([]);
      expect(primary.workers.some((worker) => worker.state === 'ready')).toBe(true);
      expect(text()).not.toContain('grew by the limit once more');
    } finally {
      await primary.shutdown();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
