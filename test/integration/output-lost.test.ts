/**
 * A worker's exit drops the output it still holds (H540): a worker under a primary that does not
 * read its stdout (a full pipe, as behind a paused terminal or a stalled log shipper) exits after
 * its stop's wait for the output, and says how much its exit dropped (`$outputLost`), so a stop
 * that reads graceful does not hide its last lines' loss. A worker whose output is read says
 * nothing. Real workers, real pipes; no clock but generous bounds.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary, workerOutput } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

const kFixture = 'workers/writes-at-stop.ts';
const kBytes = 4 * 1024 * 1024;

describe('output a worker holds at its exit [H540]', () => {
  it('[H540] a worker whose stdout nobody reads says how much its exit dropped: workerOutputLost once, before its exit, and a WARN line; its stop stays graceful', async () => {
    const log = capturedLogger();
    // silent: its stdout is a pipe to this process, which never reads it past Node's first buffer.
    const primary = testPrimary({ silent: true, logger: log.logger, env: { OUTPUT_BYTES: String(kBytes) } }, kFixture);
    const [worker] = (await primary.start()) as [WorkerHandle];
    const events: string[] = [];
    const lost: { bytes: number; id: number }[] = [];
    primary.on('workerOutputLost', ({ worker: handle, bytes }) => {
      events.push('workerOutputLost');
      lost.push({ bytes, id: handle.id });
    });
    primary.on('workerExit', () => events.push('workerExit'));
    // The worker waits for its output until a little before the primary's SIGKILL (1 s before it here).
    const report = await primary.shutdown({ timeoutMs: 8_000 });
    expect(report.graceful).toEqual([worker]);
    expect(events).toEqual(['workerOutputLost', 'workerExit']);
    // The kernel's socket buffer and the primary's first read took a few hundred KiB at most.
    expect(lost).toEqual([{ bytes: expect.any(Number), id: worker.id }]);
    expect(lost[0]!.bytes).toBeGreaterThan(kBytes / 2);
    expect(lost[0]!.bytes).toBeLessThanOrEqual(kBytes);
    expect(log.text()).toMatch(new RegExp(`WARN worker ${worker.id} exited with \\d+\\.\\d MiB of its output \\(stdout, stderr\\) not yet taken by their reader: its last lines are lost\\. The reader was slow or stopped`));
  });

  it('[H540] a worker whose stop ran to its own deadline with its output unread exits before the primary\'s SIGKILL, not killed at the shutdown timeout', async () => {
    // Its _destroy hangs: cut short at the worker's own deadline, it exits 1 (a failed stop). Its
    // wait for its output then ran on for a 1 s floor, past the SIGKILL: read as killed.
    const primary = testPrimary({ silent: true, env: { OUTPUT_BYTES: String(kBytes), DESTROY_HANGS: '1' } }, kFixture);
    const [worker] = (await primary.start()) as [WorkerHandle];
    let lost = 0;
    primary.on('workerOutputLost', () => lost++);
    const report = await primary.shutdown({ timeoutMs: 4_000 });
    expect(report.killed).toEqual([]);
    expect(report.failed).toEqual([worker]);
    expect(lost).toBe(1);
  });

  it('[H540] a worker\'s $outputLost while it runs is no exit: told only at its exit, the last one it sent', async () => {
    const primary = testPrimary({ silent: true, env: { OUTPUT_BYTES: String(kBytes) } }, kFixture);
    const [worker] = (await primary.start()) as [WorkerHandle];
    const lost: number[] = [];
    primary.on('workerOutputLost', ({ bytes }) => lost.push(bytes));
    // A forged notice while it runs (retest t57 R2: told at once as "exited", and the real one was then dropped).
    await primary.send(worker, 'sendRaw', { message: { __ck: 1, m: [3, 0, '$outputLost', { bytes: 5 }] } });
    await primary.send(worker, 'echo', 'after');
    expect(lost).toEqual([]);
    await primary.shutdown({ timeoutMs: 8_000 });
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeGreaterThan(kBytes / 2);
  });

  it('[H540] a worker whose output is read to the end says nothing lost, and all of it arrives', async () => {
    const primary = testPrimary({ silent: true, env: { OUTPUT_BYTES: String(kBytes) } }, kFixture);
    const output = workerOutput(primary);
    await primary.start();
    let lost = 0;
    primary.on('workerOutputLost', () => lost++);
    const report = await primary.shutdown({ timeoutMs: 10_000 });
    expect(report.graceful).toHaveLength(1);
    expect(lost).toBe(0);
    // The output ends with its pipe's end, read after the exit.
    const lines = Math.ceil(kBytes / 1024);
    await until(() => output.text().length >= lines * 1024, 30_000, 'the worker\'s whole output');
    expect(output.text().length).toBe(lines * 1024);
  });
});
