import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** Distinct pids that answered `count` requests on fresh connections. */
async function answeringPids(port: number, count: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < count; i++) pids.add((JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as { pid: number }).pid);
  return pids;
}

describe('clusterkit run', () => {
  it('runs a plain HTTP script on several workers, answers from each, and is controlled by name from other processes', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'web'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service web started: 2 workers/);
    const pids = readyPids(run);
    expect(pids).toHaveLength(2);
    expect(await answeringPids(port, 8)).toEqual(new Set(pids));
    // Worker output comes out prefixed with [name:worker id].
    await run.waitFor(/\[web:1\] listening on http:\/\/127\.0\.0\.1:\d+\n/);
    await run.waitFor(/\[web:2\] listening on http:\/\/127\.0\.0\.1:\d+\n/);

    const status = await cli(['status', 'web', '--json'], { runtime });
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { name: string; pid: number; state: string; targetWorkers: number; workers: Array<{ pid: number; state: string }> };
    expect(parsed).toMatchObject({ name: 'web', pid: run.child.pid, state: 'running', targetWorkers: 2 });
    expect(parsed.workers.map((worker) => worker.pid).sort()).toEqual([...pids].sort());
    expect(parsed.workers.every((worker) => worker.state === 'ready')).toBe(true);

    // Once every worker has had two heartbeats (the first one measures no event-loop delay yet).
    await until(async () => {
      const { workers } = JSON.parse((await cli(['status', 'web', '--json'], { runtime })).stdout) as { workers: Array<{ cpuPercent?: number; eventLoopDelayMs?: number }> };
      return workers.every((worker) => worker.cpuPercent !== undefined && worker.eventLoopDelayMs !== undefined);
    }, 30_000, 'heartbeat figures for every worker');
    const table = await cli(['status', 'web'], { runtime });
    expect(table.stdout).toMatch(/^cluster web {2}pid \d+ {2}running/);
    expect(table.stdout).toMatch(/id +pid +slot +state +uptime +restarts +crashes +rss +heap +loop mean\/p99 +cpu +msgs in\* +msgs out\*\n/);
    // The heartbeat's figures: CPU as a percentage, the delay as mean / p99 (or `-` before the first reading).
    for (const pid of pids) expect(table.stdout).toMatch(new RegExp(` ${pid} .* \\d+(\\.\\d)? / \\d+(\\.\\d)? ms +\\d+\\.\\d% +\\d+ +\\d+\\n`));
    expect(table.stdout).toMatch(/\* IPC messages to and from the worker, heartbeats included\n$/);
    for (const pid of pids) expect(table.stdout).toContain(` ${pid} `);
    const list = await cli(['list'], { runtime });
    expect(list.stdout).toMatch(new RegExp(`web +${run.child.pid} +running +2/2`));

    const socket = join(runtime, 'clusterkit', 'web.sock');
    expect(existsSync(socket)).toBe(true);
    const stop = await cli(['stop', 'web'], { runtime });
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped web: 2 workers stopped gracefully\n' });
    // `stop` returns once the primary is gone: it exited cleanly and removed its socket.
    await expect(run.exited()).resolves.toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(run.output()).toContain('shutdown complete graceful=2 failed=0 killed=0');
    await waitUntilGone(pids);
  });

  it('serves its control socket in a 0700 directory, as a 0600 socket, and removes it on SIGTERM', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'perm'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service perm started/);
    const directory = join(runtime, 'clusterkit');
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    const socket = statSync(join(directory, 'perm.sock'));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    expect(existsSync(join(directory, 'perm.sock'))).toBe(false);
  });

  it('scales up and down; a scale-down stops the newest workers gracefully', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'elastic'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service elastic started/);
    const up = await cli(['scale', 'elastic', '3'], { runtime });
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^scaled elastic to 3 workers \(pids \d+, \d+, \d+\)\n$/);
    const grown = JSON.parse((await cli(['status', 'elastic', '--json'], { runtime })).stdout) as { targetWorkers: number; workers: Array<{ id: number; pid: number; state: string }> };
    expect(grown.targetWorkers).toBe(3);
    expect(grown.workers.map((worker) => worker.state)).toEqual(['ready', 'ready', 'ready']);

    const down = await cli(['scale', 'elastic', '1'], { runtime });
    expect(down.code).toBe(0);
    const shrunk = JSON.parse((await cli(['status', 'elastic', '--json'], { runtime })).stdout) as { targetWorkers: number; workers: Array<{ id: number; pid: number }> };
    expect(shrunk.targetWorkers).toBe(1);
    expect(shrunk.workers.map((worker) => worker.id)).toEqual([1]);
    // The two added workers stopped on request (exit code 0), newest first, and were not replaced.
    await run.waitFor(/worker 3 stopped workerId=3 workerPid=\d+ slot=2 code=0/);
    await run.waitFor(/worker 2 stopped workerId=2 workerPid=\d+ slot=1 code=0/);
    expect(run.output()).not.toMatch(/replaces worker/);
    await waitUntilGone(grown.workers.filter((worker) => worker.id !== 1).map((worker) => worker.pid));
    expect((await cli(['stop', 'elastic'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('with --log-format json, writes its own lines and the workers\' as JSON objects', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'json', '--log-format', 'json'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/"msg":"service json started: 1 worker"/);
    await run.waitFor(/"stream":"stdout"/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    const lines = run.output().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ name: 'json', workerId: 1, stream: 'stdout', msg: expect.stringMatching(/^listening on/) }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, name: 'json', msg: 'shutdown complete' }));
  });

  it('stops instead of restarting forever when the script throws, naming the script and the cause', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-throwing-script.mjs', '-w', '2'], { runtime });
    await expect(run.exited()).resolves.toBe(1);
    expect(run.stderr()).toMatch(
      /The service "cli-throwing-script" could not start: the script \/\S+\/test\/fixtures\/cli-throwing-script\.mjs threw on import: Error: PORT is not configured \(at \S+cli-throwing-script\.mjs:\d+:\d+\) \(3 attempts of worker slot \d+\)/,
    );
    // One line per failed attempt, in the user's words; two slots, three attempts each at most.
    const lines = run.stderr().trim().split('\n');
    const attempts = lines.filter((line) =>
      /^\[cli-throwing-script\] ERROR worker \d+ could not start: the script \S+cli-throwing-script\.mjs threw on import: Error: PORT is not configured \(at \S+:3:\d+\) workerId=\d+/.test(line),
    );
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.length).toBeLessThanOrEqual(6);
    expect(run.stderr()).not.toMatch(/Handler for|exited unexpectedly|crashed|replaces worker/);
    // Around them: how many workers start, the breaker, the shutdown, and the final line; and a
    // restart still booting when the stop came, ended by it and said so (H202), with the line
    // that the stop waits for it when its code had not started yet (under load: 12 lines).
    expect(lines.length).toBeLessThanOrEqual(attempts.length + 7);
    expect(existsSync(join(runtime, 'clusterkit', 'cli-throwing-script.sock'))).toBe(false);
  });

  it('does not say the other workers keep serving when a slot gives up during the start, which stops them (exit 1)', async () => {
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-slot0-throws.mjs', '-w', '2', '--name', 's0'], { runtime: runtimeDir(), env: { PORT: String(port) } });
    await expect(run.exited()).resolves.toBe(1);
    const stderr = run.stderr();
    // Before: "... restore the slot (the other workers keep serving), or start again", then the service stopped.
    expect(stderr).toMatch(/ERROR worker slot 0 could not start 3 times in a row, so it is no longer restarted\. Last failure: .+cron setup failed on instance 0.+\. Fix that, then start again \(the start fails with this slot: the workers that are ready are stopped too\)\./);
    expect(stderr).not.toContain('keep serving');
    expect(stderr).toMatch(/The service "s0" could not start: /);
    // The start failed, and stopped what it had started: no stop interrupted it (H130).
    expect(stderr).not.toContain('the start was interrupted');
  });

  it('hints at the missing loader when a TypeScript script cannot start', async () => {
    const run = startCli(['run', 'test/fixtures/cli-ts-server.ts', '-w', '1'], { runtime: runtimeDir() });
    await expect(run.exited()).resolves.toBe(1);
    expect(run.stderr()).toMatch(
      /ERROR worker slot 0 could not start 3 times in a row, so it is no longer restarted\. Last failure: .+\. Fix that, then start it again\. Hint: \S+cli-ts-server\.ts is TypeScript, and the workers run without a TypeScript loader/,
    );
    expect(run.stderr()).toMatch(
      /The service "cli-ts-server" could not start: .* \(3 attempts of worker slot \d+\)\. It was stopped instead of being restarted forever; fix the cause and start it again\. Hint: \S+ is TypeScript, and the workers run without a TypeScript loader: add one to their Node options, such as --import tsx \(execArgv: \['--import', 'tsx'\]; clusterkit run: --node-arg=--import=tsx\)\. code=ERR_SERVICE_START\n$/,
    );
  });
});
