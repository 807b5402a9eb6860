/**
 * A stop during the start of a config of several apps (H209): each app's start is interrupted,
 * as a single app's is (H130). Before, the launched primaries held the stop until their start had
 * finished: a worker the terminal's SIGINT had killed while it booted was an `ERROR ... could not
 * start`, a replacement was forked after the stop, every app "started", then stopped "graceful",
 * and the launcher exited 0. The CLI binary run directly, as users run it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';
import { kUnguardedStart } from './unguarded-start.js';

afterEach(() => cleanUpCli());

async function startTwoApps() {
  const runtime = runtimeDir();
  const project = tempProject({
    'server.mjs': kUnguardedStart,
    'two.config.json': JSON.stringify({
      apps: [
        // A worker in its top-level code stops only once that ends (or at the timeout, killed).
        { name: 'a1', script: 'server.mjs', workers: 2, shutdownTimeout: '2s', env: { PORT: String(await freePort()) } },
        { name: 'a2', script: 'server.mjs', workers: 1, shutdownTimeout: '2s', env: { PORT: String(await freePort()) } },
      ],
    }),
  });
  const run = startCli(['run', '-c', 'two.config.json'], { runtime, cwd: project });
  // Every worker of both apps runs its top-level code: each app's start is under way.
  for (const prefix of ['a1:1', 'a1:2', 'a2:1']) await run.waitFor(new RegExp(`^\\[${prefix}\\] starting \\d+$`, 'm'));
  return run;
}

/** What each app and the launcher must say of a start the stop interrupted, whatever the signal reached. */
function expectInterruptedStarts(stderr: string): void {
  expect(stderr).toMatch(/^\[a1\] WARN shutdown complete: the start was interrupted, 2 workers stopped before they were ready \(the lines above say how\).* graceful=0 failed=0 killed=\d notStarted=2$/m);
  expect(stderr).toMatch(/^\[a2\] WARN shutdown complete: the start was interrupted, 1 worker stopped before it was ready \(the lines above say how\).* graceful=0 failed=0 killed=\d notStarted=1$/m);
  expect(stderr).toMatch(/^\[clusterkit\] WARN app a1 exited with code 1 /m);
  expect(stderr).toMatch(/^\[clusterkit\] WARN app a2 exited with code 1 /m);
  expect(stderr).not.toContain('could not start');
  expect(stderr).not.toMatch(/service a\d started/);
  // No replacement: only the workers forked before the stop.
  expect(stderr).not.toContain('workerId=3');
}

describe('clusterkit run, a config of several apps: a stop during the start', () => {
  it('[H209] Ctrl-C (SIGINT to the whole process group) while the workers start: every app says its start was interrupted, none forks a replacement, exit 1', async () => {
    const run = await startTwoApps();
    const pids = [...run.output().matchAll(/starting (\d+)$/gm)].map((match) => Number(match[1]));
    process.kill(-run.child.pid!, 'SIGINT');
    // Before: `[a1] ERROR worker 1 could not start: it was killed by SIGINT`, a worker 3 forked after
    // the stop, and (after the minute's warm-up) `service a1 started`, `graceful=2`, exit 0.
    await expect(run.exited(30_000)).resolves.toBe(1);
    const stderr = run.stderr();
    expectInterruptedStarts(stderr);
    // The terminal's SIGINT ended each worker: a stopped worker, not a failed start.
    expect(stderr.match(/^\[a\d\] WARN worker \d was stopped before it was ready: it was killed by SIGINT /gm)).toHaveLength(3);
    expect(stderr).toMatch(/killed=0 notStarted=2$/m);
    await waitUntilGone(pids);
  });

  it('[H209] SIGTERM to the launcher only (systemd KillMode=mixed) while the workers start: every app says its start was interrupted, exit 1', async () => {
    const run = await startTwoApps();
    const pids = [...run.output().matchAll(/starting (\d+)$/gm)].map((match) => Number(match[1]));
    process.kill(run.child.pid!, 'SIGTERM');
    // Before: each app waited for its start (the minute's warm-up), said `service a1 started`, then stopped: exit 0.
    await expect(run.exited(30_000)).resolves.toBe(1);
    const stderr = run.stderr();
    expectInterruptedStarts(stderr);
    // No signal reached the workers: their primaries asked them to stop (those still in their top-level code are killed at the 2 s timeout).
    expect(stderr).not.toContain('killed by SIGTERM');
    await waitUntilGone(pids);
  });
});

/**
 * A preload (NODE_OPTIONS) that holds each app's primary in Node's own boot, before clusterkit
 * handles any signal: it writes `booting.<pid>` and waits (no CPU). The launcher, without
 * CLUSTERKIT_LAUNCHER, loads it and goes on.
 */
const kBootHold = `const { writeFileSync } = require('node:fs');
if (process.env.CLUSTERKIT_LAUNCHER === '1') {
  writeFileSync(require('node:path').join(__dirname, 'booting.' + process.pid), '');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600_000);
}
`;

describe('clusterkit run, a config of several apps: a stop while the apps boot', () => {
  it('[H223] Ctrl-C while the app primaries are still in Node\'s own boot: the launcher says each start was interrupted, not that the app was killed, exit 1', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kUnguardedStart,
      'hold.cjs': kBootHold,
      'two.config.json': JSON.stringify({
        apps: [
          { name: 'b1', script: 'server.mjs', workers: 1, env: { PORT: String(await freePort()) } },
          { name: 'b2', script: 'server.mjs', workers: 1, env: { PORT: String(await freePort()) } },
        ],
      }),
    });
    const run = startCli(['run', '-c', 'two.config.json'], { runtime, cwd: project, env: { NODE_OPTIONS: `--require=${join(project, 'hold.cjs')}` } });
    await run.waitFor(/starting 2 apps/);
    await until(() => readdirSync(project).filter((name) => name.startsWith('booting.')).length === 2, 30_000, 'both app primaries in their boot');
    process.kill(-run.child.pid!, 'SIGINT');
    await expect(run.exited(30_000)).resolves.toBe(1);
    const stderr = run.stderr();
    // Before: `[clusterkit] WARN app b1 was killed by SIGINT`, as for a kill from outside.
    for (const app of ['b1', 'b2']) {
      expect(stderr).toMatch(new RegExp(`^\\[clusterkit\\] WARN app ${app}'s start was interrupted by SIGINT, before any worker was started: nothing of it was left running `, 'm'));
    }
    expect(stderr).not.toContain('was killed by SIGINT');
  });
});
