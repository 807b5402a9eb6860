/**
 * clusterkit's lines through a real pino logger (the `logger` option): pino's levels, one `pid`
 * per line (pino's own: the worker's is `workerPid`), and errors under `err`, which pino
 * serializes with their message and stack.
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('with a pino logger', () => {
  it('writes lines pino tools read right: levels, one pid, workerPid, err', async () => {
    let output = '';
    const logger = pino({ level: 'debug' }, { write: (chunk: string) => void (output += chunk) });
    const primary = testPrimary({ logger, env: { DESTROY: 'throw' } }, 'workers/destroy-fails.ts');
    const [worker] = await primary.start();
    const failed = onceEvent<{ worker: WorkerHandle }>(primary, 'workerError', 30_000);
    await expect(primary.stopWorker(worker!)).resolves.toBe('failed');
    await failed;
    const lines = output.trim().split('\n');
    // Counted in the text: JSON.parse would hide a duplicate key.
    for (const line of lines) expect({ line, pids: line.match(/"pid":/g)?.length }).toEqual({ line, pids: 1 });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(expect.objectContaining({ level: 20, pid: process.pid, workerPid: worker!.pid, msg: `worker ${worker!.id} forked` }));
    expect(entries).toContainEqual(expect.objectContaining({ level: 30, pid: process.pid, workerId: worker!.id, workerPid: worker!.pid, msg: `worker ${worker!.id} ready` }));
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 50,
        workerPid: worker!.pid,
        err: expect.objectContaining({ type: 'RemoteError', message: expect.stringContaining('its _destroy() threw Error: the database pool would not close'), stack: expect.any(String) }),
      }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ level: 40, msg: `worker ${worker!.id} did not stop cleanly: it exited with code 1` }));
  });
});
