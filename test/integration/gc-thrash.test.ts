/**
 * A worker silent because its heap is near its limit (garbage collection back to back, its
 * event loop starved) is told as memory, not as a plain hang (H394): the heartbeat answer carries
 * the heap's limit, and the silence and kill lines name it when the last answer had the heap at
 * 90 % of it or more.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerHandle } from '../../src/index.js';
import { recordClusterEvents } from '../../src/control/record-events.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary, workerFixture, workerOutput } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

const kLimitMb = 64;

describe('a worker thrashing the garbage collector near its heap limit', () => {
  it('[H394] is killed by the heartbeat with a line that names its heap near its limit (or dies of V8\'s out-of-memory abort)', async () => {
    const { logger, text } = capturedLogger();
    const { execArgv } = workerFixture('workers/gc-thrash.ts');
    const primary = testPrimary(
      {
        execArgv: [...execArgv, `--max-old-space-size=${kLimitMb}`],
        env: { GC_THRASH_LIMIT_MB: String(kLimitMb) },
        heartbeat: { intervalMs: 100, timeoutMs: 1_500 },
        restart: false,
        silent: true,
        logger,
      },
      'workers/gc-thrash.ts',
    );
    const output = workerOutput(primary);
    const [worker] = await primary.start();
    const { log } = recordClusterEvents(primary); // the event log the dashboard's timeline shows
    // This fixture's own messages, outside the test protocol's types.
    const notify = (type: 'fill' | 'thrash') => (primary as unknown as { notify(to: WorkerHandle, type: string): void }).notify(worker!, type);
    const stats = () => primary.stats().find((row) => row.id === worker!.id);
    // The limit is in the answers from the first one on: the flag's, not heap_size_limit (64 MiB + the young generation's reserve).
    // Waited for itself: on Linux the primary's own CPU reading (H390) can come before any answer.
    await until(() => stats()?.heapLimitBytes !== undefined, 30_000, 'a heartbeat answer');
    expect(stats()!.heapLimitBytes).toBe(kLimitMb * 1024 * 1024);

    const filled = onceEvent<{ worker: WorkerHandle; type: string }>(primary, 'workerMessage', 30_000, (event) => event.type === 'filled');
    notify('fill');
    await filled;
    const filledAt = Date.now();
    // An answer read after the heap was full, at 90 % or more: the figures the silence will be
    // judged by. The fixture keeps the heap there, so such an answer comes.
    await until(() => {
      const row = stats();
      return row?.healthAgeMs !== undefined && Date.now() - row.healthAgeMs > filledAt && row.heapUsedBytes! / row.heapLimitBytes! >= 0.9;
    }, 30_000, 'an answer after the fill with the heap at 90 % of its limit or more');

    const silent = onceEvent<{ worker: WorkerHandle; nearHeapLimit?: unknown }>(primary, 'workerSilent', 30_000);
    const unresponsive = onceEvent<{ worker: WorkerHandle; nearHeapLimit?: { heapUsedBytes: number; heapLimitBytes: number } }>(primary, 'workerUnresponsive', 30_000);
    const exit = onceEvent<{ worker: WorkerHandle; signal: string | null }>(primary, 'workerExit', 30_000);
    // Failures of the races below are the exit's to tell.
    silent.catch(() => {});
    unresponsive.catch(() => {});
    notify('thrash');
    const { signal } = await exit;
    if (signal === 'SIGABRT') {
      // V8 gave up first: its own line says so, and the heartbeat had nothing to tell.
      expect(output.text()).toContain('heap out of memory');
      return;
    }
    expect(signal).toBe('SIGKILL');
    const event = await unresponsive;
    expect(event.nearHeapLimit).toEqual({ heapUsedBytes: expect.any(Number), heapLimitBytes: kLimitMb * 1024 * 1024 });
    expect(event.nearHeapLimit!.heapUsedBytes).toBeGreaterThanOrEqual(0.9 * kLimitMb * 1024 * 1024);
    expect((await silent).nearHeapLimit).toEqual(event.nearHeapLimit);
    expect(log.read().events).toContainEqual(expect.objectContaining({ type: 'workerUnresponsive', workerId: worker!.id, heapUsedBytes: event.nearHeapLimit!.heapUsedBytes, heapLimitBytes: kLimitMb * 1024 * 1024 }));
    const id = worker!.id;
    const heap = `its heap was \\d+ of ${kLimitMb} MB \\((9\\d % of its limit|at its limit)\\) at its last answer`;
    const gc = 'most likely garbage collection near the heap limit \\(a leak, or too small a --max-old-space-size: raise it, or set maxMemoryMb to replace the worker before it gets there\\)';
    expect(text()).toMatch(new RegExp(`WARN worker ${id} silent for [^,]+, ${heap}, ${gc}: `));
    expect(text()).toMatch(new RegExp(`ERROR worker ${id} unresponsive, killing it; ${heap}: ${gc} `));
    // On a loaded machine the primary's own stall is named too (`, 314 ms of them while the primary itself was blocked`).
    expect(text()).toMatch(new RegExp(`WARN worker ${id} was killed \\(SIGKILL\\) by the primary: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)?; ${heap}: ${gc} .*heapUsedBytes=\\d+ heapLimitBytes=${kLimitMb * 1024 * 1024}`));
  });
});
