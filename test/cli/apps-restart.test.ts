/**
 * `clusterkit run` with a config file of several apps starts an app again when its primary
 * exits with no stop asked for (H331), as PM2's daemon restarts a dead app: before, a `kill -9`
 * (or an OOM kill, or the crash-loop breaker) left that app down for good while the launcher
 * ran on, so a supervisor saw a healthy unit. The CLI binary run directly, as users run it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = readFileSync(join(kRepoRoot, 'test/fixtures/cli-env-server.mjs'), 'utf8');
/** A worker that fails at once: its app's start fails and its primary exits 1, every time. */
const kBroken = `throw new Error('broken on purpose');\n`;

async function primaryPid(name: string, runtime: string): Promise<number> {
  const status = await cli(['status', name, '--json'], { runtime });
  expect(status.code).toBe(0);
  return (JSON.parse(status.stdout) as { pid: number }).pid;
}

/** `count` matches of `pattern` (a global regexp) in `text`. */
function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

describe('clusterkit run, a config of several apps: an app whose primary exits', () => {
  it('[H331] an app whose primary is SIGKILLed is started again (new pid, serving), the other never stops; clusterkit stop <app> is not restarted', async () => {
    const runtime = runtimeDir();
    const [r1Port, r2Port] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.mjs': kServer,
      'two.config.json': JSON.stringify({
        apps: [
          { name: 'r1', script: 'server.mjs', workers: 1, env: { PORT: String(r1Port) } },
          { name: 'r2', script: 'server.mjs', workers: 1, env: { PORT: String(r2Port) } },
        ],
      }),
    });
    const run = startCli(['run', '-c', 'two.config.json'], { runtime, cwd: project });
    await run.waitFor(/service r1 started: 1 worker/);
    await run.waitFor(/service r2 started: 1 worker/);
    const [r1Pid, r2Pid] = [await primaryPid('r1', runtime), await primaryPid('r2', runtime)];
    process.kill(r1Pid, 'SIGKILL');
    // Before: `WARN app r1 was killed by SIGKILL; r2 keeps running`, and r1 stayed down for good.
    await run.waitFor(/^\[clusterkit\] WARN app r1 was killed by SIGKILL, with no stop asked for: starting it again in 100 ms \(restart 1; .*\); r2 keeps running /m);
    await run.waitFor(/service r1 started: 1 worker[\s\S]*service r1 started: 1 worker/);
    const r1Again = await primaryPid('r1', runtime);
    expect(r1Again).not.toBe(r1Pid);
    expect((await get(`http://127.0.0.1:${r1Port}/`)).status).toBe(200);
    // The other app never stopped: same primary, still serving.
    expect(await primaryPid('r2', runtime)).toBe(r2Pid);
    expect((await get(`http://127.0.0.1:${r2Port}/`)).status).toBe(200);
    expect(run.output()).not.toMatch(/\[r2\] shutting down/);

    // A stop asked for through the app's control socket: not started again.
    expect((await cli(['stop', 'r1'], { runtime })).code).toBe(0);
    await run.waitFor(/^\[clusterkit\] app r1 exited with code 0, as clusterkit stop asked: it is not started again; r2 keeps running/m);
    await waitUntilGone([r1Again]);
    expect((await cli(['status', 'r1'], { runtime })).code).toBe(4);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    expect(count(run.output(), /service r1 started/g)).toBe(2);
    expect(run.output()).not.toMatch(/app r1 exited with code 0.*starting it again/);
  });

  it('[H331] an app that always fails at once is given up after its max_restarts (ERROR, what to do); the other keeps serving; the launcher exits with the highest code', async () => {
    const runtime = runtimeDir();
    const goodPort = await freePort();
    const project = tempProject({
      'server.mjs': kServer,
      'broken.mjs': kBroken,
      'ecosystem.config.cjs': `module.exports = { apps: [
  { name: 'good', script: 'server.mjs', instances: 1, env: { PORT: '${goodPort}' } },
  { name: 'bad', script: 'broken.mjs', instances: 1, max_restarts: 2, env: { PORT: '${await freePort()}' } },
] };
`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service good started: 1 worker/);
    const goodPid = await primaryPid('good', runtime);
    // Before: `WARN app bad exited with code 1; good keeps running`, and nothing more.
    const [givenUp] = await run.waitFor(/^\[clusterkit\] ERROR app bad exited with code 1: 3 failed runs in a row, each ending its start or within 1\.0 s of it .*$/m);
    expect(givenUp).toContain('(2: max_restarts in ecosystem.config.cjs; 1.0 s: PM2\'s default min_uptime): it is given up, and not started again');
    expect(givenUp).toContain('fix that, then start it again with clusterkit run');
    const output = run.output();
    expect(output).toMatch(/WARN app bad exited with code 1, with no stop asked for: starting it again in 100 ms \(restart 1; 1 failed run in a row; given up after 2 restarts in a row/);
    expect(output).toMatch(/WARN app bad exited with code 1, with no stop asked for: starting it again in 200 ms \(restart 2; 2 failed runs in a row;/);
    expect(output).not.toMatch(/restart 3;/);
    expect(await primaryPid('good', runtime)).toBe(goodPid);
    expect((await get(`http://127.0.0.1:${goodPort}/`)).status).toBe(200);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(1);
    expect(run.output()).toMatch(/\[good\] shutdown complete graceful=1/);
  });

  it('[H331][H624] SIGTERM to the launcher while an app waits to be started again: nothing is started, every app ends, exit with the highest code, said with the apps it comes from', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'broken.mjs': kBroken,
      'two.config.json': JSON.stringify({
        apps: [
          { name: 'ok', script: 'server.mjs', workers: 1, env: { PORT: String(await freePort()) } },
          { name: 'ko', script: 'broken.mjs', workers: 1, env: { PORT: String(await freePort()) } },
        ],
      }),
    });
    const run = startCli(['run', '-c', 'two.config.json'], { runtime, cwd: project });
    await run.waitFor(/service ok started: 1 worker/);
    const okPid = await primaryPid('ok', runtime);
    // The 5th restart in a row waits 1.6 s: room enough to signal the launcher during it.
    await run.waitFor(/WARN app ko exited with code 1, with no stop asked for: starting it again in 1\.6 s \(restart 5;/, 60_000);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(1);
    expect(run.output()).not.toMatch(/restart 6;/);
    // The first run and restarts 1 to 4: restart 5, cancelled by the SIGTERM, started nothing.
    expect(count(run.output(), /^\[ko\] ERROR The service "ko" could not start/gm)).toBe(5);
    expect(count(run.output(), /starting it again/g)).toBe(5);
    expect(run.output()).toMatch(/^\[clusterkit\] WARN app ko exited with code 1, with no stop asked for: starting it again in 1\.6 s[\s\S]*\[ok\] shutdown complete/m);
    expect(run.output()).toMatch(/\[ok\] shutdown complete graceful=1/);
    // [H624] Why the exit code is 1, after a clean shutdown of the other (newcomer t63: unsaid).
    expect(run.output()).toMatch(/^\[clusterkit\] WARN app ko is not started again: the stop came while it waited to restart; its last run ended with code 1/m);
    expect(run.output()).toMatch(/^\[clusterkit\] WARN exiting with code 1, the highest exit code of the apps' last runs: ko \(code 1\)/m);
    await waitUntilGone([okPid]);
  });
});
