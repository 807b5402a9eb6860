/**
 * A worker whose messages wait in the primary for bytes on its bulk pipe that never come
 * (src/primary/pool/bulk-wait.ts): when code in it reopened the pipe's descriptor on another
 * file, its writes "succeed" and vanish while its event loop turns. The heartbeat used to call
 * that a blocked event loop and kill it as unresponsive; it is the pipe's fault, told as such.
 * A worker whose bytes are late (a slow long string, a loop blocked mid-send) is not blamed on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ChannelCorruptError, ClusterPrimary, WorkerExitedError, type PrimaryOptions } from '../../src/index.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testOptions, track } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

/** Records the `lifecycle` notifications its workers send, and every worker event that blames one. */
class WatchingPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
  readonly notes: Array<{ event: string; length: number }> = [];
  readonly blamed: string[] = [];

  constructor(options: PrimaryOptions) {
    super(options);
    this.on('workerError', ({ error }) => this.blamed.push(`workerError ${error instanceof ChannelCorruptError ? error.reason : error.message}`));
    this.on('workerUnresponsive', () => this.blamed.push('workerUnresponsive'));
    this.on('workerSilent', () => this.blamed.push('workerSilent'));
  }

  _onMessage_lifecycle(payload: unknown): void {
    const { event, text } = payload as { event: string; text: string };
    this.notes.push({ event, length: text.length });
  }
}

function start(heartbeat: { intervalMs: number; timeoutMs: number }) {
  const primary = track(new WatchingPrimary(testOptions(undefined, { heartbeat })));
  return { primary, started: primary.start() };
}

describe('a worker whose messages wait for bytes on its bulk pipe', () => {
  it.each(['/dev/null', 'a regular file'])('[H86] reopened on %s by its code: told as the bulk pipe\'s fault (not a blocked event loop), killed and replaced', async (target) => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-bulk-lost-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const path = target === '/dev/null' ? target : join(dir, 'worker.log');
    // The heartbeat would kill it as unresponsive after 20 s: the bulk pipe is named long before.
    const { primary, started } = start({ intervalMs: 100, timeoutMs: 20_000 });
    const [worker] = await started;
    const error = onceEvent(primary, 'workerError');
    const exit = onceEvent(primary, 'workerExit');
    const replaced = onceEvent(primary, 'workerReady');
    await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkReopen', path })).resolves.toBe('writing');
    const reported = (await error).error as ChannelCorruptError;
    expect(reported).toBeInstanceOf(ChannelCorruptError);
    expect(reported).toMatchObject({ code: 'ERR_CHANNEL_CORRUPT', reason: 'bulk-lost', peer: `worker ${worker!.id} (pid ${worker!.pid})` });
    expect(reported.message).toMatch(/kept sending messages, but the long strings they carry never came on its bulk pipe/);
    expect(reported.message).toMatch(/\d+ of its messages held, the oldest for [\d.]+ (ms|s); no byte on the pipe for/);
    expect(reported.message).toMatch(/closed the pipe's file descriptor \(fd 4\) and opened another file on that number/);
    expect(reported.message).not.toMatch(/event loop (most likely )?blocked/);
    await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', expected: false });
    const { worker: replacement } = await replaced;
    await expect(primary.send(replacement, 'echo', 'y'.repeat(20_000))).resolves.toBe('y'.repeat(20_000));
    expect(primary.blamed).toEqual(['workerError bulk-lost']);
    expect(primary.notes).toEqual([]);
  });

  // Before (retest t72 N4): `worker 1 silent for 2.8 s, its event loop most likely blocked`, then
  // the bulk-lost error saying its loop was turning: its answers were held, not missing.
  it('[H696] its loop blocked a moment, then a frame owed bytes that never come: not called silent (it answers, held), told as the bulk pipe\'s fault', async () => {
    const { primary, started } = start({ intervalMs: 1_000, timeoutMs: 20_000 });
    const [worker] = await started;
    const error = onceEvent(primary, 'workerError', 30_000);
    await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkAfterBlock', ms: 1_300 })).resolves.toBe('writing');
    await expect(error).resolves.toMatchObject({ error: { reason: 'bulk-lost' } });
    expect(primary.blamed).toEqual(['workerError bulk-lost']);
  });

  it('[H86] a healthy worker whose long string arrives slowly (bytes keep coming) is not killed, nor blamed on its pipe', async () => {
    // The string takes 4 s or more to arrive, over the heartbeat's timeout: its pongs wait behind
    // it, but its bytes coming are signs of life.
    const { primary, started } = start({ intervalMs: 100, timeoutMs: 2_500 });
    const [worker] = await started;
    const arrived = new Promise<void>((resolve) => {
      const timer = setInterval(() => primary.notes.length > 0 && resolve(), 20);
      onCleanup(() => clearInterval(timer));
    });
    await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkSlow', bytes: 100_000, count: 200, ms: 20 })).resolves.toBe('writing');
    const killed = onceEvent(primary, 'workerExit').then(({ signal }) => Promise.reject(new Error(`the worker exited (${signal}) before its long string arrived: ${primary.blamed.join(', ')}`)));
    await Promise.race([arrived, killed]);
    expect(primary.notes).toEqual([{ event: 'slow', length: 100_000 }]);
    await expect(primary.send(worker!, 'echo', 'after')).resolves.toBe('after');
    expect(worker!.state).toBe('ready');
    // A worker starved of CPU for a second on a loaded machine may be called silent for it;
    // never unresponsive, never a bulk fault.
    expect(primary.blamed.filter((blame) => blame !== 'workerSilent')).toEqual([]);
  });

  it('[H86] a worker whose event loop blocks with its long string still queued is told as blocked, not as a bulk pipe fault', async () => {
    const { primary, started } = start({ intervalMs: 100, timeoutMs: 1_500 });
    const [worker] = await started;
    const unresponsive = onceEvent(primary, 'workerUnresponsive');
    const exit = onceEvent(primary, 'workerExit');
    // 12 MB (under the 16 MiB limit): far more than the pipe's buffers hold, so most of it waits in the worker.
    await expect(primary.send(worker!, 'writeRawSoon', { mode: 'bulkThenBlock', bytes: 12 * 1024 * 1024, ms: 6_000 })).resolves.toBe('writing');
    await expect(unresponsive).resolves.toMatchObject({ worker });
    await exit;
    expect(primary.blamed.filter((blame) => blame.startsWith('workerError'))).toEqual([]);
  });

  it('[H499] a worker that exits while writing a long reply: its exit is told as soon as its bulk pipe ends, and the request rejects with its exit code', async () => {
    const { primary, started } = start({ intervalMs: 1_000, timeoutMs: 20_000 });
    const [worker] = await started;
    const exit = onceEvent(primary, 'workerExit');
    const replaced = onceEvent(primary, 'workerReady');
    // 4 MB: more than the pipe takes at once, so the rest is lost with the process.
    const answer = await primary.send(worker!, 'bigThenExit', { size: 4_000_000, code: 3 }, { timeoutMs: 30_000 }).then(
      (reply) => ({ reply: reply.length }),
      (error: unknown) => error,
    );
    // Before: the frame waited 2 s for bytes that could not come; meanwhile a 1 s timer rejected
    // the request with "lost its IPC channel" (exitCode null), and the exit was told 2 s late.
    expect(answer).toBeInstanceOf(WorkerExitedError);
    expect(answer).toMatchObject({ code: 'ERR_WORKER_EXITED', workerId: worker!.id, exitCode: 3 });
    expect((answer as Error).message).toContain('exited with code 3');
    await expect(exit).resolves.toMatchObject({ code: 3, expected: false });
    expect(worker!.state).toBe('exited');
    const [next] = await replaced.then(() => primary.workers);
    // A long reply the pipe took whole is delivered, though its worker exits at once: bytes read
    // before their frame, or the pipe's end before the frame, still meet it.
    const delivered = onceEvent(primary, 'workerExit');
    await expect(primary.send(next!, 'bigThenExit', { size: 20_000, code: 4 }, { timeoutMs: 30_000 })).resolves.toHaveLength(20_000);
    await expect(delivered).resolves.toMatchObject({ code: 4 });
  });
});
