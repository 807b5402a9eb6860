import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const kScript = 'test/fixtures/cli-wait-ready.mjs';

describe('clusterkit run --wait-ready (PM2 wait_ready)', () => {
  it('[H102] starts and reloads only once each worker has sent process.send("ready"): no 503 under load', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', kScript, '-w', '2', '--name', 'warmup', '--wait-ready'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service warmup started: 2 workers/);
    // Started means warm: the load that follows meets no 503 (checked below).
    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '4', '/'] });
    await client.waitFor(/^served \d+$/m);
    const result = await cli(['reload', 'warmup'], { runtime });
    expect(result).toMatchObject({ code: 0, stdout: 'reloaded warmup: 2 workers replaced, no request cut off\n' });
    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    const load = JSON.parse(line) as { ok: number; failed: number; errors: Record<string, number> };
    expect(load.errors).toEqual({});
    expect(load.failed).toBe(0);
    expect(load.ok).toBeGreaterThan(0);
    // The 'ready' messages were PM2's, not a fault: no worker was killed for them.
    expect(run.output()).not.toMatch(/protocol|malformed|restarting/i);
    expect(run.output()).not.toMatch(/process\.send\('ready'\)/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H102] without --wait-ready, a script that sends "ready" gets one line naming the flag, for the whole cluster', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', kScript, '-w', '2', '--name', 'unheard'], { runtime, env: { PORT: String(await freePort()), WARM_MS: '0' } });
    await run.waitFor(/service unheard started: 2 workers/);
    await run.waitFor(/(\] warm \d+[\s\S]*){2}/);
    // The worker's channel is ordered: its 'ready' reaches the primary before its stop does.
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    const lines = run.output().split('\n').filter((text) => text.includes("process.send('ready')"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--wait-ready/);
    expect(lines[0]).toMatch(/waitReady: true/);
  });

  it('[H102] a worker that never sends "ready" with --wait-ready is a failed start within --ready-timeout', async () => {
    const runtime = runtimeDir();
    // 10 s: the timeout must find the worker loaded (it said hello); at 1 s a loaded machine can
    // find it still loading, which the line tells apart (H154).
    const run = startCli(['run', kScript, '-w', '1', '--name', 'silent', '--wait-ready', '--ready-timeout', '10s', '--max-startup-failures', '1'], {
      runtime,
      env: { PORT: String(await freePort()), WARM_MS: '600000' },
    });
    await expect(run.exited()).resolves.toBe(1);
    expect(run.output()).toMatch(/was not ready within 10000 ms/);
    // The attempt's own line names what this worker waited for (before: "its _init()", which a
    // script does not have, among three guesses).
    const [attempt] = run.output().split('\n').filter((line) => line.includes('worker 1 could not start:'));
    expect(attempt).toContain("may be waiting on something that never comes (its script's process.send('ready'), which --wait-ready waits for);");
    expect(attempt).not.toContain('_init');
    expect(run.output()).toMatch(/With --wait-ready, a worker is ready only once its script calls process\.send\('ready'\): check that it does, and within --ready-timeout\./);
  });

  it('[H142][H276] clusterkit stop while a listening worker waits for its "ready": it stops at once, before ready, no error line follows, and run exits 0', async () => {
    const runtime = runtimeDir();
    // The shutdown timeout is long: a worker that ignored the stop would be killed only at its end.
    const run = startCli(['run', kScript, '-w', '1', '--name', 'warmstop', '--wait-ready', '--ready-timeout', '60s', '--shutdown-timeout', '60s'], {
      runtime,
      env: { PORT: String(await freePort()), WARM_MS: '600000' },
    });
    await run.waitFor(/\[warmstop:1\] listening \d+/);
    const startedAt = Date.now();
    const stop = await cli(['stop', 'warmstop'], { runtime, ms: 30_000 });
    // Before: 60 s, then "1 killed (at the shutdown timeout ...)" and exit 3.
    expect(stop).toMatchObject({ code: 0, stdout: 'stopped warmstop: the start was interrupted, 1 worker stopped before it was ready\n' });
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    // Before: exit 1 after the requested stop (PM2 retester t29 N10c, H276).
    await expect(run.exited(30_000)).resolves.toBe(0);
    expect(run.stderr()).toMatch(/\[warmstop\] WARN shutdown complete: the start was interrupted, 1 worker stopped before it was ready .*notStarted=1\n/);
    // Before: "ERROR The primary is shutting down; no worker will be started." after the stop's report.
    expect(run.output()).not.toMatch(/ERROR|ERR_SHUTDOWN_IN_PROGRESS|SIGKILL/);
  });

  it('[H187] clusterkit status and list tell the ready workers from those still warming up', async () => {
    const runtime = runtimeDir();
    // Slot 0 is ready at once; slot 1 listens and warms up for 10 minutes.
    const run = startCli(['run', kScript, '-w', '2', '--name', 'halfwarm', '--wait-ready', '--ready-timeout', '120s'], {
      runtime,
      env: { PORT: String(await freePort()), WARM_MS: '0', LATER_WARM_MS: '600000' },
    });
    await run.waitFor(/(\] listening \d+[\s\S]*){2}/);
    await run.waitFor(/\[halfwarm\] worker \d+ ready /);
    const status = await cli(['status', 'halfwarm'], { runtime });
    // Before: `workers 2/2`, which reads as serving on both.
    expect(status.stdout.split('\n')[0]).toMatch(/^cluster halfwarm  pid \d+  starting  up \S+  workers 1\/2 ready \(1 starting\)  node v/);
    const json = await cli(['status', 'halfwarm', '--json'], { runtime });
    const parsed = JSON.parse(json.stdout) as { targetWorkers: number; readyWorkers: number; workers: Array<{ state: string }> };
    expect(parsed).toMatchObject({ targetWorkers: 2, readyWorkers: 1 });
    expect(parsed.workers.map((worker) => worker.state).sort()).toEqual(['ready', 'starting']);
    const list = await cli(['list'], { runtime });
    expect(list.stdout).toMatch(/^halfwarm +\d+ +starting +1\/2 ready \(1 starting\) +/m);
    const listJson = JSON.parse((await cli(['list', '--json'], { runtime })).stdout) as Array<{ workers: number; readyWorkers: number }>;
    expect(listJson).toEqual([expect.objectContaining({ workers: 2, readyWorkers: 1 })]);
    await cli(['stop', 'halfwarm'], { runtime, ms: 30_000 });
    await expect(run.exited(30_000)).resolves.toBe(0);
  });
});
