import { afterEach, describe, expect, it } from '@jest/globals';
import { killServices, startService } from './service-process.js';

afterEach(() => killServices());

describe('startClusteredService: a worker module that cannot start', () => {
  it('stops the service with one clear error naming the module and the cause, and exits 1', async () => {
    // Through tsx: the message names the TypeScript file and the line that threw.
    const service = startService({ RUNNER_MODULE: './runner-throwing-module.ts', RUNNER_OPTIONS: JSON.stringify({ workers: 2 }) }, { bundled: false });
    await expect(service.exited()).resolves.toBe(1);
    expect(service.output()).toMatch(
      /\[runner-throwing-module\] ERROR The service "runner-throwing-module" could not start: the worker module \/\S+\/test\/fixtures\/runner-throwing-module\.ts threw on import: Error: DATABASE_URL is missing \(at \/\S+runner-throwing-module\.ts:4:\d+\) \(3 attempts of worker slot \d+\)\. It was stopped instead of being restarted forever; fix the cause and start it again\. code=ERR_SERVICE_START/,
    );
    // The crash-loop breaker: three attempts per slot at most, then nothing more is forked.
    expect(service.lines('onWorkerSpawned').length).toBeLessThanOrEqual(6);
    expect(service.lines('onWorkerStartup')).toEqual([]);
    expect(service.lines('onPrimaryStartup')).toEqual([]);
    expect(service.lines('started')).toEqual([]);
  });

  it('[H189] a worker still loading at its ready timeout is told about its file up to startClusteredService(), not ClusterWorker.start()', async () => {
    const service = startService({
      RUNNER_WORKER_BLOCKS: '1',
      RUNNER_OPTIONS: JSON.stringify({ workers: 1, readyTimeoutMs: 2_000, restart: { maxStartupFailures: 1 } }),
    });
    await expect(service.exited()).resolves.toBe(1);
    const output = service.output();
    expect(output).toContain(
      'It was still loading by then (its file up to the startClusteredService() call: its imports, and any await before that call); raise the option if that is legitimately slow',
    );
    // Before: "a worker script must create a ClusterWorker and call start()", which the runner does itself.
    expect(output).not.toMatch(/ClusterWorker/);
    // Killed for being slow: no "its output above says why" for a worker that was only loading.
    expect(output).toMatch(/could not start: worker \d+ \(pid \d+\) was not ready within 2000 ms \(option "readyTimeoutMs"\), so it was killed \(1 attempt of worker slot \d+\)/);
  });

  it('rejects a module that exports nothing', async () => {
    const service = startService({ RUNNER_MODULE: './runner-empty-module.ts', RUNNER_OPTIONS: JSON.stringify({ workers: 1 }) });
    await expect(service.exited()).resolves.toBe(1);
    expect(service.output()).toMatch(/could not start: the worker module \/\S+\/runner-empty-module\.[jt]s exports nothing \(3 attempts of worker slot \d+\)/);
  });

  it('reports a module that does not exist before forking anything', async () => {
    const service = startService({ RUNNER_MODULE: './runner-no-such-module.ts' });
    await expect(service.exited()).resolves.toBe(1);
    expect(service.output()).toMatch(/ERROR The worker module \/\S+\/runner-no-such-module\.[jt]s does not exist\. Check the path/);
    expect(service.lines('onWorkerSpawned')).toEqual([]);
  });

  it('rejects with ServiceStartError instead of exiting when it does not own the process (handleSignals: false)', async () => {
    const service = startService({
      RUNNER_MODULE: './runner-throwing-module.ts',
      RUNNER_OPTIONS: JSON.stringify({ workers: 1, handleSignals: false, logger: false }),
      RUNNER_CATCH: '1',
    });
    await expect(service.exited()).resolves.toBe(3);
    const [rejected] = service.lines('rejected');
    expect(rejected).toMatchObject({ name: 'ServiceStartError', code: 'ERR_SERVICE_START' });
    expect(rejected!.message).toMatch(/^The service "runner-throwing-module" could not start: the worker module \S+ threw on import: Error: DATABASE_URL is missing/);
  });
});

describe('startClusteredService: how many workers', () => {
  it('[H722] honours an explicit count outside production, and logs it once even with onPrimaryStartup, then its started line', async () => {
    const service = startService({ NODE_ENV: 'development', RUNNER_OPTIONS: JSON.stringify({ workers: 2, serviceName: 'devsvc', control: false }) });
    const [started] = await service.waitForLines('started');
    expect(started!.pids).toHaveLength(2);
    expect(service.lines('onPrimaryStartup')).toEqual([expect.objectContaining({ workerCount: 2 })]);
    expect(service.output().match(/\[devsvc\] starting 2 workers: the "workers" option workers=2\n/g)).toHaveLength(1);
    process.kill(started!.pid as number, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
    // Logged once onPrimaryStartup has returned (newcomer t76: not at all with the callback).
    expect(service.output().match(/\[devsvc\] service devsvc started: 2 workers workerPids=\d+,\d+\n/g)).toHaveLength(1);
  });

  it('runs one worker in development mode when the count is left out, and says why once', async () => {
    const service = startService({ NODE_ENV: 'development', RUNNER_DEFAULT_STARTUP: '1' });
    const [started] = await service.waitForLines('started');
    expect(started!.pids).toHaveLength(1);
    const output = service.output();
    expect(output.match(/starting 1 worker: development mode, because NODE_ENV is "development"; set NODE_ENV=production, or a worker count \("max": one per CPU\), for more/g)).toHaveLength(1);
    expect(output).toMatch(/\[runner-http-module\] service runner-http-module started: 1 worker workerPids=\d+\n/);
    process.kill(started!.pid as number, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
  });
});
