/**
 * Under `--watch`, a crash loop of every slot leaves the primary up with no worker, waiting for
 * the fix to be saved (H333), as nodemon waits ("app crashed - waiting for file changes") and
 * PM2's watch restarts an errored app on the next change. Before, `run` stopped ("no worker is
 * left (every slot failed too often)", exit 1), and the saved fix brought nothing back.
 * Real workers, a real crash loop, real file writes.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';
import { occurrencesAfter } from './occurrences-after.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const app = (version: string) => `require('node:http').createServer((q, r) => r.end('${version}')).listen(Number(process.env.PORT), '127.0.0.1');\n`;
/** Ready (it listens), then throws 200 ms later: each restart does the same. */
const crashing = (version: string) => `${app(version)}setTimeout(() => { throw new Error('oops typo at runtime'); }, 200);\n`;

const kWaitLine = /WARN every worker crash-looped; waiting for a change to the watched files to start 1 worker again; clusterkit reload (\S+) also starts it/;

interface Status {
  state: string;
  waiting?: string;
  targetWorkers: number;
  readyWorkers: number;
  workers: Array<{ slot: number; state: string }>;
  givenUpSlots: Array<{ slot: number }>;
}

async function statusOf(name: string, runtime: string): Promise<Status> {
  const { code, stdout } = await cli(['status', name, '--json'], { runtime });
  expect(code).toBe(0);
  return JSON.parse(stdout) as Status;
}

async function readyz(port: number): Promise<{ status: number; body: { reason?: string; givenUpSlots?: number } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { reason?: string; givenUpSlots?: number } };
}

/** Waits, then checks what status, status's text and /readyz say while the primary waits. */
async function expectWaiting(name: string, runtime: string, healthPort?: number): Promise<void> {
  const waiting = await statusOf(name, runtime);
  expect(waiting).toMatchObject({ state: 'waiting', targetWorkers: 1, readyWorkers: 0, workers: [], givenUpSlots: [{ slot: 0 }] });
  expect(waiting.waiting).toBe(`every worker crash-looped; a change to the watched files starts 1 worker again, and so does clusterkit reload ${name}`);
  const text = (await cli(['status', name], { runtime })).stdout;
  expect(text).toMatch(new RegExp(`^cluster ${name}  pid \\d+  waiting  up .*workers 0/1 ready \\(1 errored\\)`));
  expect(text).toContain(`\nwaiting: every worker crash-looped; a change to the watched files starts 1 worker again, and so does clusterkit reload ${name}\n`);
  expect((await cli(['list'], { runtime })).stdout).toMatch(new RegExp(`${name}\\s+\\d+\\s+waiting\\s+0/1 ready \\(1 errored\\)`));
  // With no health server, nothing of its own holds the process: it waits all the same (retest t35 HIGH-1).
  if (healthPort === undefined) return;
  const probe = await readyz(healthPort);
  expect(probe.status).toBe(503);
  expect(probe.body.givenUpSlots).toBe(1);
  expect(probe.body.reason).toBe(
    '0 of 1 required workers ready: the only worker slot was given up in a crash loop; a reload that succeeds starts it again',
  );
}

describe('clusterkit run --watch when every slot crash-loops [H333]', () => {
  it('[H333] the broken save leaves the primary waiting with no worker (status and /readyz say so), and the fixed save brings a ready worker back', async () => {
    const runtime = runtimeDir();
    const [port, healthPort] = [await freePort(), await freePort()];
    const project = tempProject({ 'server.cjs': app('v1') });
    const run = startCli(['run', 'server.cjs', '--dev', '--name', 'waits', '--watch', '--watch-delay', '50ms', '--health-port', String(healthPort), '--health-host', '127.0.0.1'], {
      runtime,
      cwd: project,
      env: { PORT: String(port) },
    });
    await run.waitFor(/\[waits\] watching \./);
    await until(() => readyPids(run).length === 1, 30_000, 'one worker ready');

    // The broken save: the reload succeeds (the new worker listens), then it throws, and so do its restarts.
    writeFileSync(join(project, 'server.cjs'), crashing('v2'));
    await run.waitFor(/ERROR worker slot 0 [^\n]*no longer restarted/);
    const [line] = await run.waitFor(kWaitLine);
    expect(line).toContain('clusterkit reload waits also starts it');
    // Not the old ending: the primary runs on.
    expect(run.output()).not.toMatch(/has no worker left|shutting down/);
    await expectWaiting('waits', runtime, healthPort);

    // The fixed save starts the worker again, with the new code.
    const from = run.output().length;
    writeFileSync(join(project, 'server.cjs'), app('v3'));
    await run.waitFor(occurrencesAfter(from, "starting worker slot 0 again with the reload's code, given up in a crash loop before it, with a fresh crash-loop budget", 1));
    await until(
      async () => {
        const status = await statusOf('waits', runtime);
        return status.state === 'running' && status.readyWorkers === 1;
      },
      30_000,
      'a ready worker back',
    );
    const fixed = await statusOf('waits', runtime);
    expect(fixed.waiting).toBeUndefined();
    expect(fixed.givenUpSlots).toEqual([]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('v3');
    expect((await readyz(healthPort)).status).toBe(200);
    expect((await cli(['stop', 'waits'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H333][H339][H517] clusterkit reload from the waiting state starts the workers again, and fails when none stays up; a stop while waiting stops at once', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // The flag file lies outside the watched folder: its creation and removal reload nothing.
    const flag = join(tempProject({}), 'broken');
    const project = tempProject({
      'lib/keep.txt': '',
      'server.cjs': `if (require('node:fs').existsSync(${JSON.stringify(flag)})) setTimeout(() => { throw new Error('broken'); }, 200);\n${app('ok')}`,
    });
    // No health server: before, nothing held the event loop once the last worker was given up, and run exited 13.
    // A 5 s startup window: the broken worker throws 200 ms after it loads, within the window
    // even when a loaded machine runs its timer late (under load it once came past 1 s, and the
    // reload below rightly said the worker had stayed up).
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'waits2', '--watch', 'lib', '--startup-window', '5s'], {
      runtime,
      cwd: project,
      env: { PORT: String(port) },
    });
    await run.waitFor(/\[waits2\] watching lib/);
    await until(() => readyPids(run).length === 1, 30_000, 'one worker ready');

    // The worker dies with the flag set: each restart throws 200 ms after it listens.
    writeFileSync(flag, '');
    process.kill(readyPids(run)[0]!, 'SIGKILL');
    await run.waitFor(kWaitLine);
    await expectWaiting('waits2', runtime);

    // Fixed without a change to the watched files: `clusterkit reload` starts the worker.
    rmSync(flag);
    const reloaded = await cli(['reload', 'waits2'], { runtime });
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toContain('1 worker given up in a crash loop started again');
    await run.waitFor(/starting worker slot 0 again with the reload's code/);
    await until(async () => (await statusOf('waits2', runtime)).readyWorkers === 1, 30_000, 'a ready worker back');
    expect((await statusOf('waits2', runtime)).state).toBe('running');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');

    // Broken again, and waiting again: a stop ends it at once, exit 0 (nothing failed to stop).
    writeFileSync(flag, '');
    const from = run.output().length;
    process.kill(readyPids(run).at(-1)!, 'SIGKILL');
    await run.waitFor(occurrencesAfter(from, 'every worker crash-looped; waiting for a change', 1));
    expect((await statusOf('waits2', runtime)).state).toBe('waiting');
    // A reload with the code still broken (H517): it had nothing to replace, the slot it started
    // again crashed in its startup window, so nothing serves: it fails, exit 1, and says so.
    const failed = await cli(['reload', 'waits2'], { runtime, ms: 30_000 });
    expect(failed.code).toBe(1);
    expect(failed.stdout).not.toContain('started again');
    expect(failed.stderr).toContain('The reload had no worker to replace: every slot had been given up in a crash loop. It started worker slot 0 again with the new code, and none stayed up the 5.0 s startup window, so no worker serves.');
    expect(failed.stderr).toMatch(/so no worker serves\. Worker \d+ \(pid \d+\) exited with code 1 \d+ ms after it was ready, of an uncaught Error: broken at [^\n]*, started again in worker slot 0 by the reload\. Its output says why\. The restart policy/);
    expect(failed.stderr).toContain('fix the code, then reload again');
    await run.waitFor(occurrencesAfter(from, 'every worker crash-looped; waiting for a change', 2));
    const stopped = await cli(['stop', 'waits2'], { runtime, ms: 10_000 });
    expect(stopped.code).toBe(0);
    await expect(run.exited(10_000)).resolves.toBe(0);
  });
});

describe('clusterkit run --watch when the start fails in a crash loop [H347]', () => {
  it('[H347] code broken at the first start leaves the primary waiting with no worker, and the fixed save starts a ready worker', async () => {
    const runtime = runtimeDir();
    const [port, healthPort] = [await freePort(), await freePort()];
    const project = tempProject({ 'server.cjs': `throw new Error('DB_URL is not set');\n` });
    const run = startCli(['run', 'server.cjs', '--dev', '--name', 'waits3', '--watch', '--watch-delay', '50ms', '--health-port', String(healthPort), '--health-host', '127.0.0.1'], {
      runtime,
      cwd: project,
      env: { PORT: String(port) },
    });
    await run.waitFor(/ERROR worker slot 0 [^\n]*no longer restarted/);
    // Before: "shutting down: the start failed", ERR_SERVICE_START, exit 1.
    const [line] = await run.waitFor(/WARN the start failed: every worker crash-looped; waiting for a change to the watched files to start 1 worker again; clusterkit reload (\S+) also starts it/);
    expect(line).toContain('clusterkit reload waits3 also starts it');
    await run.waitFor(/\[waits3\] watching \./);
    expect(run.output()).not.toMatch(/shutting down|ERR_SERVICE_START|started: 0 workers/);
    await expectWaiting('waits3', runtime, healthPort);

    // The fixed save starts the worker, with the code on disk.
    const from = run.output().length;
    writeFileSync(join(project, 'server.cjs'), app('fixed'));
    await run.waitFor(occurrencesAfter(from, "starting worker slot 0 again with the reload's code", 1));
    await until(
      async () => {
        const status = await statusOf('waits3', runtime);
        return status.state === 'running' && status.readyWorkers === 1;
      },
      30_000,
      'a ready worker',
    );
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('fixed');
    expect((await readyz(healthPort)).status).toBe(200);
    expect((await cli(['stop', 'waits3'], { runtime, ms: 10_000 })).code).toBe(0);
    await expect(run.exited(10_000)).resolves.toBe(0);
  });

  it('[H347] with two workers broken at the start, clusterkit reload starts both once fixed; a stop while waiting exits 0', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // The flag file lies outside the watched folder: its removal reloads nothing.
    const flag = join(tempProject({ broken: '' }), 'broken');
    const project = tempProject({
      'lib/keep.txt': '',
      'server.cjs': `if (require('node:fs').existsSync(${JSON.stringify(flag)})) throw new Error('broken');\n${app('ok')}`,
    });
    const run = startCli(['run', 'server.cjs', '-w', '2', '--name', 'waits4', '--watch', 'lib'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/WARN the start failed: every worker crash-looped; waiting for a change to the watched files to start 2 workers again; clusterkit reload waits4 also starts them/);
    await run.waitFor(/\[waits4\] watching lib/);
    const waiting = await statusOf('waits4', runtime);
    expect(waiting).toMatchObject({ state: 'waiting', targetWorkers: 2, readyWorkers: 0, workers: [] });
    expect(waiting.givenUpSlots.map((slot) => slot.slot).sort()).toEqual([0, 1]);

    rmSync(flag);
    const reloaded = await cli(['reload', 'waits4'], { runtime });
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toContain('2 workers given up in a crash loop started again');
    await until(async () => (await statusOf('waits4', runtime)).readyWorkers === 2, 30_000, 'two ready workers');
    expect((await statusOf('waits4', runtime)).state).toBe('running');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    expect((await cli(['stop', 'waits4'], { runtime, ms: 10_000 })).code).toBe(0);
    await expect(run.exited(10_000)).resolves.toBe(0);
  });

  it('[H347] broken at the start and stopped while waiting: the stop exits 0 at once', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.cjs': `throw new Error('broken');\n` });
    const run = startCli(['run', 'server.cjs', '--dev', '--name', 'waits5', '--watch'], { runtime, cwd: project });
    await run.waitFor(/WARN the start failed: every worker crash-looped; waiting for a change/);
    expect((await statusOf('waits5', runtime)).state).toBe('waiting');
    expect((await cli(['stop', 'waits5'], { runtime, ms: 10_000 })).code).toBe(0);
    await expect(run.exited(10_000)).resolves.toBe(0);
  });
});
