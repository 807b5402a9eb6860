/**
 * A worker's own code cannot lie its way past the memory limit or into readiness (hostile t38
 * M1, M2). Its answer to the heartbeat is its word: on Linux the primary measures the RSS
 * itself, for `rssBytes` and `maxMemoryMb` (H382), and a second answer to one `$ping` is a
 * protocol error. node:cluster's `listening` counts only for an address the worker asked the
 * primary to listen on first (`queryServer`, H383).
 */
import { describe, expect, it } from '@jest/globals';
import type { ProtocolError, WorkerHandle } from '../../src/index.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

const kMiB = 1024 * 1024;
/** procfs: where the primary can measure. */
const itOnLinux = process.platform === 'linux' ? it : it.skip;

interface ProtocolEvent {
  worker: WorkerHandle;
  error: ProtocolError;
  problems: Record<string, number>;
}

describe('a worker lying below clusterkit', () => {
  itOnLinux('[H382] answering each $ping first with 10 MB of RSS while it holds 150 MiB: replaced over maxMemoryMb 100, rssBytes the real figure, the second answer a protocol error', async () => {
    const primary = testPrimary({ maxMemoryMb: 100, heartbeat: { intervalMs: 100, timeoutMs: 10_000 }, env: { LIE: 'rss' } }, 'workers/lies.ts');
    const protocol = record<ProtocolEvent>(primary, 'workerProtocolError');
    let rowsAtLimit: ReturnType<typeof primary.stats> | undefined;
    const limit = new Promise<{ worker: WorkerHandle; rssBytes: number; limitBytes: number }>((resolve) =>
      primary.once('workerMemoryLimit', (event) => {
        rowsAtLimit = primary.stats();
        resolve(event);
      }),
    );
    try {
      const [worker] = await primary.start();
      // Before: never (10 MB in stats(), /metrics, status; no protocol error).
      let timer: NodeJS.Timeout | undefined;
      const event = await Promise.race([limit, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 30_000)))]).finally(() => clearTimeout(timer));
      expect(event).toMatchObject({ worker, limitBytes: 100 * kMiB });
      expect(event!.rssBytes).toBeGreaterThan(140 * kMiB);
      const row = rowsAtLimit!.find((entry) => entry.id === worker!.id)!;
      expect(row.rssBytes).toBeGreaterThan(140 * kMiB);
      // Heap figures stay the worker's word.
      expect(row.heapUsedBytes).toBe(1e6);
      // clusterkit's own answer came second: told, naming the request.
      await until(() => protocol.events.some((told) => told.problems['duplicate-reply'] !== undefined), 20_000, 'the duplicate reply told');
      const told = protocol.events.find((entry) => entry.problems['duplicate-reply'] !== undefined)!;
      expect(told.error).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'duplicate-reply', messageType: '$ping' });
      expect(told.error.message).toContain('sent a second reply to a "$ping" request it had answered already; the first reply was taken, this one dropped');
      expect(primary.stats().find((entry) => entry.id === worker!.id)?.protocolErrors ?? 1).toBeGreaterThanOrEqual(1);
    } finally {
      protocol.stop();
      await primary.shutdown({ timeoutMs: 10_000 });
    }
  });

  it('[H383] a worker that sends node:cluster\'s "listening" itself, never listening, is not counted ready under waitListen: its start fails at the ready timeout', async () => {
    const port = await freePort();
    const primary = testPrimary({ waitListen: true, readyTimeoutMs: 15_000, restart: false, env: { LIE: 'listening', PORT: String(port) } }, 'workers/lies.ts');
    const protocol = record<ProtocolEvent>(primary, 'workerProtocolError');
    const listening = record(primary, 'workerListening');
    try {
      // Before: started, the worker ready, its port refusing connections.
      await expect(primary.start()).rejects.toThrow(/said it was ready but did not listen within 15000 ms \(option "readyTimeoutMs"\), so it was killed: a worker is ready only once it listens \(option "waitListen"\)/);
      expect(listening.events).toEqual([]);
      const told = protocol.events.find((entry) => entry.problems['forged-listen'] !== undefined);
      expect(told?.error).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'forged-listen', messageType: 'NODE_CLUSTER listening' });
      expect(told?.error.message).toMatch(/sent node:cluster's "listening" message for an address it never asked the primary to listen on/);
    } finally {
      protocol.stop();
      listening.stop();
    }
  });
});
