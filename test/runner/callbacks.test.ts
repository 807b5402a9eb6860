import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { cleanUpCli, cli } from '../cli/cli-process.js';
import { killServices, startService } from './service-process.js';

const directories: string[] = [];
afterEach(() => {
  killServices();
  cleanUpCli();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function runtimeDir(): string {
  const directory = mkdtempSync(join(tmpdir(), 'ck-'));
  directories.push(directory);
  return directory;
}

describe('startClusteredService callbacks', () => {
  it('calls every callback with the right values, in the right process, and serves the control socket', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ serviceName: 'cb', workers: 2 }), PORT: String(port), XDG_RUNTIME_DIR: runtime });
    const [started] = await service.waitForLines('started');
    const primaryPid = started!.pid as number;
    const pids = started!.pids as number[];
    expect(started!.control).toBe(join(runtime, 'clusterkit', 'cb.sock'));

    const spawnedLines = service.lines('onWorkerSpawned');
    // Workers come online in any order.
    const byPid = (a: { pid: unknown }, b: { pid: unknown }) => Number(a.pid) - Number(b.pid);
    expect(spawnedLines.map(({ pid, totalWorkers }) => ({ pid, totalWorkers })).sort(byPid)).toEqual(pids.map((pid) => ({ pid, totalWorkers: 2 })).sort(byPid));
    const startups = service.lines('onWorkerStartup');
    expect(startups).toHaveLength(2);
    for (const line of startups) {
      // Printed by the worker itself: its own pid, its cluster id, and the module's exports.
      const spawned = spawnedLines.find((candidate) => candidate.pid === line.pid);
      expect(line).toEqual({ event: 'onWorkerStartup', pid: spawned!.pid, workerId: spawned!.workerId, exports: ['flush', 'server', 'state'] });
    }
    expect(service.lines('onPrimaryStartup')).toEqual([{ event: 'onPrimaryStartup', workerCount: 2, pid: primaryPid }]);

    // The primary's control socket answers the CLI with the same workers.
    const status = await cli(['status', 'cb', '--json'], { runtime });
    expect((JSON.parse(status.stdout) as { workers: Array<{ pid: number }> }).workers.map((worker) => worker.pid).sort()).toEqual([...pids].sort());

    // A crash: reported with its exit code, then the worker is replaced.
    await get(`http://127.0.0.1:${port}/crash`).catch(() => {});
    const crashed = (await service.waitForLines('onWorkerCrashed'))[0]!;
    const victimId = spawnedLines.find((line) => line.pid === crashed.pid)!.workerId;
    expect(pids).toContain(crashed.pid);
    expect(crashed).toEqual({ event: 'onWorkerCrashed', workerId: victimId, pid: crashed.pid, code: 7, signal: null });
    await service.waitForLines('onWorkerExit', 1, (line) => line.pid === crashed.pid && line.expected === false && line.code === 7);
    const [, , replacement] = await service.waitForLines('onWorkerSpawned', 3);
    expect(replacement).toMatchObject({ totalWorkers: 2, workerId: 3 });
    await service.waitForLines('onWorkerStartup', 3);
    const live = pids.filter((pid) => pid !== crashed.pid).concat(replacement!.pid as number);

    process.kill(primaryPid, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
    expect(service.lines('onPrimaryShutdown')).toEqual([{ event: 'onPrimaryShutdown', signal: 'SIGTERM' }]);
    const shutdowns = service.lines('onWorkerShutdown');
    // Each live worker cleaned up once, after its server had been drained and closed.
    expect(shutdowns.map((line) => line.pid).sort()).toEqual([...live].sort());
    expect(shutdowns.every((line) => line.flushed === true && line.serverListening === false)).toBe(true);
    const allStartups = service.lines('onWorkerStartup');
    expect(shutdowns.every((line) => allStartups.some((startup) => startup.pid === line.pid && startup.workerId === line.workerId))).toBe(true);
    const expectedExits = service.lines('onWorkerExit').filter((line) => line.expected === true);
    expect(expectedExits.map((line) => line.pid).sort()).toEqual([...live].sort());
    expect(expectedExits.every((line) => line.code === 0)).toBe(true);
    expect(existsSync(join(runtime, 'clusterkit', 'cb.sock'))).toBe(false);
    await waitUntilGone(live);
  });

  it("passes onWorkerCrashed the worker's uncaught error (workerCrash.error)", async () => {
    const port = await freePort();
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ workers: 1 }), PORT: String(port) });
    const [started] = await service.waitForLines('started');
    await get(`http://127.0.0.1:${port}/throw`).catch(() => {});
    const [crashed] = await service.waitForLines('onWorkerCrashed');
    expect(crashed).toMatchObject({ pid: (started!.pids as number[])[0], code: 1, signal: null });
    // Before: the callback had the exit code only; what the worker died of was in its output.
    expect(crashed!.error).toEqual({ origin: 'uncaughtException', name: 'TypeError', message: 'boom from /throw', location: expect.stringMatching(/runner-http-module\.[jt]s:\d+:\d+$/) });
    await service.waitForLines('onWorkerStartup', 2);
    process.kill(started!.pid as number, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
  });

  // Before: `worker 1: _destroy() did not finish ...`, `its _destroy() threw`, `the primary's _destroy() did not finish`:
  // a method the service's author never wrote (retest t72 N5).
  it('[H694] names onWorkerShutdown and onPrimaryShutdown, not _destroy(), when they hang or throw', async () => {
    for (const mode of ['hang', 'throw'] as const) {
      const service = startService({ RUNNER_OPTIONS: JSON.stringify({ workers: 1, shutdownTimeoutMs: 3000 }), RUNNER_HOOKS_FAIL: mode });
      const [started] = await service.waitForLines('started');
      const [workerId] = service.lines('onWorkerSpawned').map((line) => line.workerId);
      process.kill(started!.pid as number, 'SIGTERM');
      await service.exited();
      const text = service.output();
      expect(text).not.toContain('_destroy');
      if (mode === 'hang') {
        expect(text).toMatch(new RegExp(`WARN worker ${workerId}: onWorkerShutdown\\(\\) (did not finish within \\d+ ms, the worker's own deadline; it exits with code 1. Raise the shutdownTimeoutMs option if onWorkerShutdown\\(\\) needs longer|was left only \\d+ ms of the worker's own deadline)`));
        expect(text).toContain("WARN the primary's onPrimaryShutdown did not finish within 3000 ms (the shutdown's timeoutMs); the shutdown completes without waiting for it");
      } else {
        expect(text).toMatch(new RegExp(`Worker ${workerId} \\(pid \\d+\\) did not stop cleanly: its onWorkerShutdown\\(\\) threw Error: the database pool would not close`));
        expect(text).toContain('onPrimaryShutdown threw: the audit log would not close');
      }
      await waitUntilGone(started!.pids as number[]);
    }
  });

  it('runs onWorkerShutdown once in each worker when Ctrl-C reaches the whole process group', async () => {
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ workers: 3 }) });
    const [started] = await service.waitForLines('started');
    const pids = started!.pids as number[];
    expect(started!.control).toBeNull(); // no serviceName, no control socket
    process.kill(-(started!.pid as number), 'SIGINT');
    await expect(service.exited()).resolves.toBe(0);
    expect(service.lines('onWorkerShutdown').map((line) => line.pid).sort()).toEqual([...pids].sort());
    expect(service.lines('onPrimaryShutdown')).toEqual([{ event: 'onPrimaryShutdown', signal: 'SIGINT' }]);
    expect(service.lines('onWorkerCrashed')).toEqual([]);
    await waitUntilGone(pids);
  });
});
