import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const kScript = 'test/fixtures/cli-late-listen.mjs';

describe('clusterkit run: a worker is ready once it listens (H227)', () => {
  it('[H227] a restart after a listen is ready only once it listens; the first worker, counted ready before its listen, is told once', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', kScript, '-w', '1', '--name', 'late'], { runtime, env: { PORT: String(port), LISTEN_DELAY_MS: '1500' } });
    const [, pid] = await run.waitFor(/\[late:1\] listening (\d+)/);
    // The first start does not wait (nothing listened yet): the line says so, naming the flag.
    await run.waitFor(/WARN worker 1 \(pid \d+\) listened [\d.]+ m?s after it was counted ready[^\n]*\(option --wait-listen\)/);
    process.kill(Number(pid), 'SIGKILL');
    await run.waitFor(/worker 2 ready/);
    // Before: "worker 2 ready" 1.5 s before its listen, the port refusing connections meanwhile
    // (its only worker: node:cluster closed the port with worker 1).
    await expect(get(`http://127.0.0.1:${port}/`)).resolves.toMatchObject({ status: 200 });
    expect(run.output().match(/after it was counted ready/g)).toHaveLength(1);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H227] --wait-listen: the service is started only once its worker listens, and its port answers then', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', kScript, '-w', '1', '--name', 'waitl', '--wait-listen'], { runtime, env: { PORT: String(port), LISTEN_DELAY_MS: '1500' } });
    await run.waitFor(/service waitl started/);
    // Before: started (and /readyz 200) while the port refused connections.
    await expect(get(`http://127.0.0.1:${port}/`)).resolves.toMatchObject({ status: 200 });
    expect(run.output()).not.toMatch(/after it was counted ready/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H227][H239] --wait-listen with a script that does not listen within --ready-timeout: a failed start that says so, in what happened, and how to run a script that does not serve', async () => {
    const runtime = runtimeDir();
    // 10 s: the timeout must find the worker loaded (it said ready), not still loading (H154).
    const run = startCli(['run', kScript, '-w', '1', '--name', 'neverl', '--wait-listen', '--ready-timeout', '10s', '--max-startup-failures', '1'], {
      runtime,
      env: { PORT: String(await freePort()), LISTEN_DELAY_MS: '600000' },
    });
    await expect(run.exited()).resolves.toBe(1);
    // Before: "said it was ready", of a script that said nothing (retester t25 F), and no word of a script that never listens.
    expect(run.output()).toMatch(
      /worker 1 could not start: it ran its script's top-level code to its end but did not listen within 10000 ms \(option --ready-timeout\), so it was killed: a worker is ready only once it listens \(option --wait-listen\)\. A script that does not serve \(a queue consumer, a cron job\) never listens: run it without that wait \(clusterkit run: without --wait-listen; the library: waitListen false\)/,
    );
    expect(run.output()).not.toContain('said it was ready');
  });

  it('[H227] only the history of its own slot counts: slot 0 running a cron with no server restarts ready while slot 1 listens (retester t25)', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', kScript, '-w', '2', '--name', 'cron0', '--ready-timeout', '120s'], { runtime, env: { PORT: String(await freePort()), LISTEN_DELAY_MS: '1500', NO_LISTEN_SLOT: '0' } });
    const [, cron] = await run.waitFor(/cron (\d+)/);
    // The primary's own word that slot 1 listened (its "listening" line may come before the primary read the listen).
    await run.waitFor(/listened [\d.]+ m?s after it was counted ready/);
    process.kill(Number(cron), 'SIGKILL');
    // Before: slot 1's listen made slot 0's restart wait for a listen that never comes: a failed
    // start at the ready timeout, 3 times, then the slot retired.
    await run.waitFor(/worker 3 ready/, 60_000);
    expect(run.output()).not.toMatch(/did not listen within/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H227] a restart whose slot listened but that does not listen within --ready-timeout is counted ready anyway, with a warning, not failed', async () => {
    const runtime = runtimeDir();
    const delayFile = `${runtime}/delay`;
    const run = startCli(['run', kScript, '-w', '1', '--name', 'slowre', '--ready-timeout', '10s'], { runtime, env: { PORT: String(await freePort()), LISTEN_DELAY_MS: '1500', DELAY_FILE: delayFile } });
    const [, pid] = await run.waitFor(/\[slowre:1\] listening (\d+)/);
    // The primary's own word that the slot listened: a kill right after the worker's line could
    // come before the primary read its listen (seen under load), and the slot would have no history.
    await run.waitFor(/WARN worker 1 \(pid \d+\) listened [\d.]+ m?s after it was counted ready/);
    // Its restarts listen only after 10 minutes (a slower release, a slow dependency).
    writeFileSync(delayFile, '600000');
    process.kill(Number(pid), 'SIGKILL');
    // Before: a failed start at the timeout ("so it was killed"), then the crash-loop breaker.
    await run.waitFor(/WARN worker 2 \(pid \d+\) ran its script's top-level code to its end but did not listen within 10000 ms \(option --ready-timeout\), although the last worker of its slot listened: it is counted ready anyway/, 60_000);
    await run.waitFor(/worker 2 ready/);
    expect(run.output()).not.toMatch(/so it was killed/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });
});
