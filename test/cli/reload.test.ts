import { existsSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

describe('clusterkit reload', () => {
  it.each([
    ['new connections', 'close'],
    ['keep-alive connections', 'keepalive'],
  ])('reloads a plain script under HTTP load without losing a request (%s)', async (_label, mode) => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'busy'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service busy started: 2 workers/);
    const before = readyPids(run);
    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '10', '/?delay=20', mode] });
    await client.waitFor(/^served \d+$/m); // traffic flows before the first reload
    for (let reload = 0; reload < 2; reload++) {
      const result = await cli(['reload', 'busy'], { runtime });
      expect(result).toMatchObject({ code: 0, stdout: 'reloaded busy: 2 workers replaced, no request cut off\n' });
    }
    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    const result = JSON.parse(line) as { ok: number; failed: number; errors: Record<string, number> };
    expect(result.errors).toEqual({});
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(50);
    await waitUntilGone(before);
    const after = (JSON.parse((await cli(['status', 'busy', '--json'], { runtime })).stdout) as { workers: Array<{ pid: number; restarts: number }> }).workers;
    expect(after.map((worker) => worker.restarts)).toEqual([2, 2]);
    expect(after.every((worker) => isAlive(worker.pid))).toBe(true);
    // [H300] What asked for it is said (before: only `rolling reload started workers=2`).
    expect(run.output().match(/rolling reload started: clusterkit reload asked for it \(the control socket\) workers=2/g)).toHaveLength(2);
    expect((await cli(['stop', 'busy'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H300] also reloads on SIGHUP to the primary, and says SIGHUP asked for it', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'hup'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service hup started/);
    process.kill(run.child.pid!, 'SIGHUP');
    await run.waitFor(/rolling reload complete replaced=1/);
    expect(run.output()).toMatch(/rolling reload started: SIGHUP asked for it workers=1/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H690] a SIGHUP whose copy to the process group comes a moment later (coreutils timeout on a busy machine): one reload, every replacement starts', async () => {
    const runtime = runtimeDir();
    // In the primary only: the copy that `timeout` sends the group after the primary, here once the
    // primary has read its own, in the next turn of its loop (on a busy machine, timeout's second
    // kill() can come that late).
    const project = tempProject({
      'copy.cjs': `const cluster = require('node:cluster');
if (cluster.isPrimary) {
  let copied = false;
  process.on('SIGHUP', () => { if (!copied) { copied = true; setImmediate(() => process.kill(0, 'SIGHUP')); } });
}
`,
    });
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'hupcopy'], {
      runtime,
      env: { PORT: String(await freePort()), NODE_OPTIONS: `--require=${project}/copy.cjs` },
    });
    await run.waitFor(/service hupcopy started: 2 workers/);
    process.kill(run.child.pid!, 'SIGHUP');
    await run.waitFor(/rolling reload (?:complete|failed)/);
    // Before: the copy reached the replacement forked at once, before it listened for SIGHUP
    // (`worker 3 could not start: it was killed by SIGHUP from outside clusterkit`), the reload
    // failed, and the copy queued a second one (`...: queued after it`).
    expect(run.output()).toMatch(/rolling reload complete replaced=2/);
    expect(run.output()).not.toMatch(/queued after it|killed by SIGHUP/);
    expect((await cli(['stop', 'hupcopy'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output().match(/rolling reload started/g)).toHaveLength(1);
  });

  it('[H690] several apps: a SIGHUP to the launcher and its copy to the process group (coreutils timeout): one reload per app, every replacement starts, the workers told it was their primary\'s', async () => {
    const runtime = runtimeDir();
    const [one, two] = [await freePort(), await freePort()];
    const project = tempProject({
      'clusterkit.config.cjs': `module.exports = { apps: [
  { name: 'hupx', script: ${JSON.stringify(`${process.cwd()}/examples/demo/server.js`)}, workers: 1, env: { PORT: '${one}' } },
  { name: 'hupy', script: ${JSON.stringify(`${process.cwd()}/examples/demo/server.js`)}, workers: 1, env: { PORT: '${two}' } },
] };
`,
    });
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/\[hupx\] control it from another terminal/);
    await run.waitFor(/\[hupy\] control it from another terminal/);
    // As timeout does: the launcher, then its whole group (the apps' primaries and workers too).
    process.kill(run.child.pid!, 'SIGHUP');
    process.kill(-run.child.pid!, 'SIGHUP');
    await run.waitFor(/\[hupx\] rolling reload (?:complete|failed)/);
    await run.waitFor(/\[hupy\] rolling reload (?:complete|failed)/);
    // Before (retest t72): each app took the launcher's SIGHUP and the group's copy as two
    // reloads (`...: queued after it`), and its worker said the SIGHUP came to it alone.
    expect(run.output()).toMatch(/\[hupx\] rolling reload complete replaced=1/);
    expect(run.output()).toMatch(/\[hupy\] rolling reload complete replaced=1/);
    expect(run.output()).not.toMatch(/queued after it|killed by SIGHUP|came to this worker alone/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output().match(/rolling reload started/g)).toHaveLength(2);
  });

  it('exits 1 with the reason when a reload fails, and the old workers keep serving', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-fails-on-reload.mjs', '-w', '1', '--name', 'flaky'], { runtime, env: { CLI_FIXTURE_FLAG: `${runtime}/fail` } });
    await run.waitFor(/service flaky started/);
    const [pid] = readyPids(run);
    writeFileSync(`${runtime}/fail`, 'yes');
    const reload = await cli(['reload', 'flaky'], { runtime });
    expect(reload.code).toBe(1);
    expect(reload.stderr).toMatch(/^clusterkit: reload failed: The replacement for worker slot 0 failed to start \(worker \d+ \(pid \d+\) could not start: the script \S*cli-fails-on-reload\.mjs threw on import: Error: the new release is broken/);
    // A plain script has no _init(): the message speaks of the script only.
    expect(reload.stderr).not.toContain('_init()');
    expect(isAlive(pid!)).toBe(true);
    expect((await cli(['stop', 'flaky'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('a replacement whose script exits at start: the failure says how, with no advice about ClusterWorker (a plain script needs none)', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'test/fixtures/cli-fails-on-reload.mjs', '-w', '1', '--name', 'quits'], { runtime, env: { CLI_FIXTURE_FLAG: `${runtime}/fail`, CLI_FIXTURE_EXIT: '3' } });
    await run.waitFor(/service quits started/);
    writeFileSync(`${runtime}/fail`, 'yes');
    const reload = await cli(['reload', 'quits'], { runtime });
    expect(reload.code).toBe(1);
    expect(reload.stderr).toMatch(/^clusterkit: reload failed: The replacement for worker slot 0 failed to start \(worker \d+ \(pid \d+\) exited with code 3 before it was ready\. Check its output for the error\.\)/);
    expect(reload.stderr).not.toContain('ClusterWorker');
    expect((await cli(['stop', 'quits'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it.each([
    ['exits with a code', 'exit', 'exited with code 3 before it was ready\\. Check its output for the error\\.'],
    // Its own code sends the SIGKILL: no signal from clusterkit, so worded as from outside (H266).
    ['is SIGKILLed', 'kill', "was killed by SIGKILL from outside clusterkit \\(kill -9, the OOM killer, or the worker's own code\\) before it was ready\\. Its output need not show an error: look for what sent the signal \\([^)]*\\)\\."],
  ])('[H29] fails a reload at once when the replacement %s once loaded, before it listened, naming how it exited', async (_label, mode, how) => {
    const runtime = runtimeDir();
    const flag = `${runtime}/release`;
    const run = startCli(['run', 'test/fixtures/cli-dies-before-listening.mjs', '-w', '2', '--name', 'dies'], { runtime, env: { CLI_FIXTURE_FLAG: flag } });
    await run.waitFor(/service dies started/);
    const before = readyPids(run);
    writeFileSync(flag, mode);
    const reload = cli(['reload', 'dies'], { runtime });
    // The replacement loaded, and is waited on to listen (not ready until it does: H227).
    await until(() => existsSync(`${flag}.loaded`), 60_000, 'the replacement loaded');
    writeFileSync(`${flag}.go`, 'now');
    const result = await reload;
    expect(result.code).toBe(1);
    // Not ready until it listens (H227): it failed to start, at once, saying how it exited.
    const reason = `worker 3 \\(pid \\d+\\) ${how}`;
    expect(result.stderr).toMatch(new RegExp(`^clusterkit: reload failed: The replacement for worker slot 0 failed to start \\(${reason}\\), so the reload stopped; 0 of 2 workers were replaced`));
    // Waited for: the cluster's stderr may arrive after the answer on the control socket.
    await run.waitFor(new RegExp(`ERROR rolling reload failed: .*${reason}`));
    expect(run.output()).not.toMatch(/did not listen within/);
    expect(before.every((pid) => isAlive(pid))).toBe(true);
    expect((await cli(['stop', 'dies'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H41][H374] a SIGHUP and a `clusterkit reload` during a reload that forked a replacement are queued (one more reload, the later request joins it), say so in the log, and each answer is the reload that ran for it', async () => {
    const runtime = runtimeDir();
    const flag = `${runtime}/release`;
    // 2 workers: slot 1 waits for its replacement while slot 0's starts; slot 0 would keep the code from before a joined request.
    const run = startCli(['run', 'test/fixtures/cli-dies-before-listening.mjs', '-w', '2', '--name', 'joins'], { runtime, env: { CLI_FIXTURE_FLAG: flag } });
    await run.waitFor(/service joins started/);
    const [pid] = readyPids(run);
    writeFileSync(flag, 'exit');
    const first = cli(['reload', 'joins'], { runtime });
    await until(() => existsSync(`${flag}.loaded`), 60_000, 'the replacement loaded');
    const queuedLines = () => run.output().match(/reload requested while a rolling reload is under way that forked new workers already .*: queued after it/g)?.length ?? 0;
    process.kill(run.child.pid!, 'SIGHUP');
    await until(() => queuedLines() === 1, 30_000, 'the SIGHUP queued a reload');
    const second = cli(['reload', 'joins'], { runtime });
    await until(() => queuedLines() === 2, 30_000, 'the second `clusterkit reload` joined the queued reload');
    writeFileSync(`${flag}.go`, 'now');
    const [firstResult, secondResult] = await Promise.all([first, second]);
    expect(firstResult.code).toBe(1);
    expect(firstResult.stderr).toMatch(/^clusterkit: reload failed: The replacement for worker slot 0 failed to start \(worker \d+ \(pid \d+\) exited with code 3/);
    // The queued reload ran after the failure, from the code on disk then (still broken): its own failure.
    expect(secondResult.code).toBe(1);
    expect(secondResult.stderr).toMatch(/^clusterkit: reload failed: The replacement for worker slot 0 failed to start/);
    await until(() => (run.output().match(/rolling reload failed/g)?.length ?? 0) === 2, 30_000, 'both reloads failed');
    // Two reloads ran: the first, and the one queued for the SIGHUP and the second request.
    expect(run.output().match(/rolling reload started/g)).toHaveLength(2);
    expect(isAlive(pid!)).toBe(true);
    expect((await cli(['stop', 'joins'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H374] a `clusterkit reload` once every replacement of the reload under way was forked is queued: a second reload runs after it, and its failure is its own', async () => {
    const runtime = runtimeDir();
    const flag = `${runtime}/release`;
    const run = startCli(['run', 'test/fixtures/cli-dies-before-listening.mjs', '-w', '1', '--name', 'queues'], { runtime, env: { CLI_FIXTURE_FLAG: flag } });
    await run.waitFor(/service queues started/);
    const [pid] = readyPids(run);
    writeFileSync(flag, 'exit');
    const first = cli(['reload', 'queues'], { runtime });
    await until(() => existsSync(`${flag}.loaded`), 60_000, 'the replacement loaded');
    // The only slot's replacement was forked already: this request would load nothing new by joining.
    const second = cli(['reload', 'queues'], { runtime });
    await run.waitFor(/reload requested while a rolling reload is under way that forked new workers already .*: queued after it/);
    writeFileSync(`${flag}.go`, 'now');
    const [firstResult, secondResult] = await Promise.all([first, second]);
    expect(firstResult.code).toBe(1);
    expect(firstResult.stderr).toMatch(/^clusterkit: reload failed: The replacement for worker slot 0 failed to start/);
    // The queued reload ran after the failure, with the code on disk then (still broken): its own failure, not a joined one.
    expect(secondResult.code).toBe(1);
    expect(secondResult.stderr).toMatch(/^clusterkit: reload failed: The replacement for worker slot 0 failed to start/);
    await until(() => (run.output().match(/rolling reload failed/g)?.length ?? 0) === 2, 30_000, 'both reloads failed');
    expect(run.output().match(/rolling reload started/g)).toHaveLength(2);
    expect(isAlive(pid!)).toBe(true);
    expect((await cli(['stop', 'queues'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H756] a stop during the reload\'s startup-window wait: the reload is said cut short by the stop, not failed', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'cutshort', '--startup-window', '60s'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service cutshort started/);
    const reload = startCli(['reload', 'cutshort'], { runtime });
    await run.waitFor(/rolling reload: the old workers have stopped; waiting/);
    expect((await cli(['stop', 'cutshort'], { runtime })).code).toBe(0);
    await expect(reload.exited()).resolves.toBe(1);
    // Before (hostile t85 #3): `WARN rolling reload stopped: ... err=ERR_RELOAD_FAILED` and `clusterkit: reload failed: ...`.
    expect(reload.stderr()).toMatch(/^clusterkit: reload cut short by the stop: The reload stopped because the primary began shutting down while it waited/m);
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toMatch(/WARN rolling reload stopped: The reload stopped because the primary began shutting down .* err=ERR_RELOAD_INTERRUPTED/);
    expect(run.output()).not.toMatch(/ERR_RELOAD_FAILED|reload failed/);
  });
});
