/**
 * H251: a worker script that does not exist (or cannot be read) fails start() at once, before
 * any fork, with a WorkerModuleError naming it, not after 3 failed workers and their stack dumps.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WorkerModuleError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the worker script at start()', () => {
  it('[H251] a missing one rejects start() with WorkerModuleError before any fork', async () => {
    const primary = testPrimary({ workerScript: '/nonexistent/worker.js', execArgv: [], silent: true });
    let forks = 0;
    primary.on('workerFork', () => forks++);
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerModuleError);
    expect(error).toMatchObject({ code: 'ERR_WORKER_MODULE', problem: 'not-found', modulePath: '/nonexistent/worker.js' });
    expect((error as Error).message).toContain('The worker script /nonexistent/worker.js does not exist');
    expect(forks).toBe(0);
  });

  it('[H251] an unreadable one rejects start() with WorkerModuleError naming it', async () => {
    if (process.getuid?.() === 0) return; // root reads any file
    dir = mkdtempSync(join(tmpdir(), 'ck-h251-'));
    const script = join(dir, 'worker.js');
    writeFileSync(script, '');
    chmodSync(script, 0o000);
    const primary = testPrimary({ workerScript: script, execArgv: [], silent: true });
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_WORKER_MODULE', problem: 'unreadable' });
    expect((error as Error).message).toContain(`The worker script ${script} cannot be read`);
  });

  it('[H251] a directory with no package.json or index file rejects start() before any fork', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ck-h251-'));
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const primary = testPrimary({ workerScript: empty, execArgv: [], silent: true });
    let forks = 0;
    primary.on('workerFork', () => forks++);
    const error = await primary.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_WORKER_MODULE', problem: 'unreadable' });
    expect((error as Error).message).toContain(`The worker script ${empty} cannot be read: `);
    expect((error as Error).message).toContain('a directory with neither a package.json nor an index file');
    expect(forks).toBe(0);
  });
});
