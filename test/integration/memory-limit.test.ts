/**
 * `maxMemoryMb`: a floor no process can go under is refused at once; a slot whose workers go
 * over the limit again and again soon after they start gives up, as the crash-loop breaker does.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type CrashLoopEvent } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

describe('memory limit', () => {
  it('refuses a limit no worker can meet, and a limit without the heartbeat that measures it', () => {
    expect(() => new ClusterPrimary({ maxMemoryMb: 1 })).toThrow(
      'The "maxMemoryMb" option must be an integer of MiB from 64 to Number.MAX_SAFE_INTEGER (a Node.js worker uses about 50 MiB before it runs any code, so a lower limit would replace it forever). Received 1',
    );
    expect(() => new ClusterPrimary({ maxMemoryMb: 512, heartbeat: false })).toThrow('The "heartbeat" option must be left on when "maxMemoryMb" is set');
  });

  it('gives a slot up when its workers go over the limit again and again soon after start, and says so', async () => {
    const { logger, text } = capturedLogger('info');
    const primary = testPrimary({ maxMemoryMb: 64, heartbeat: { intervalMs: 100, timeoutMs: 5_000 }, logger }, 'workers/memory-hog.ts');
    const limits = record(primary, 'workerMemoryLimit');
    // Three worker starts and stops: a deadline that a busy machine's slow starts cannot reach.
    const gaveUp = onceEvent<CrashLoopEvent>(primary, 'crashLoop', 90_000);
    const [first] = await primary.start();
    const event = await gaveUp;
    expect(event).toMatchObject({ slot: 0, reason: 'memory-limit', failures: 3, remainingSlots: 0 });
    expect(event.error).toMatchObject({ code: 'ERR_CRASH_LOOP', reason: 'memory-limit' });
    expect(event.error.message).toMatch(
      /^Worker slot 0 went over the memory limit \(64\.0 MiB; RSS \d+\.\d MiB\) 3 times in a row soon after starting, so it is no longer replaced: the limit is below what the worker needs, or it leaks memory from the start\. Raise the limit/,
    );
    // The first two were replaced; the third stops with no replacement.
    expect(limits.events).toHaveLength(3);
    expect(limits.events[0]).toMatchObject({ worker: first, limitBytes: 64 * 1024 * 1024 });
    await until(() => primary.workers.length === 0, 30_000, 'the last worker stopped');
    expect(limits.events.length).toBe(3);
    expect(text()).toMatch(new RegExp(`WARN worker ${first!.id} over the memory limit: RSS \\d+\\.\\d MiB, limit 64\\.0 MiB \\(maxMemoryMb\\) .*limitBytes=67108864`));
    expect(text()).toContain(`ERROR ${event.error.message}`);
  });
});
