/**
 * `clusterkit reload <name>` says its progress while it runs (H398): one stderr line per slot as
 * its replacement takes over, and the final wait for the startup window (a PM2 file's
 * `min_uptime`), the result line alone on stdout. Real processes, through the control socket.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT));\n";

/** The worker ids the run's log said ready, in order (`worker 3 ready`). */
function readyIds(output: string): number[] {
  return [...output.matchAll(/worker (\d+) ready/g)].map((match) => Number(match[1]));
}

describe('clusterkit reload progress', () => {
  it('[H398] prints one line per slot on stderr as its replacement takes over, the result alone on stdout', async () => {
    const runtime = runtimeDir();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'steps', '--startup-window', '0'], { runtime, env: { PORT: String(await freePort()) } });
    await run.waitFor(/service steps started: 2 workers/);
    expect(readyPids(run)).toHaveLength(2);
    // Each slot's worker, by slot: the ready lines' order is the order the workers got ready in,
    // which on a loaded machine may be slot 1's first (under-load run 3 on d2d97fd).
    const status = JSON.parse((await cli(['status', 'steps', '--json'], { runtime })).stdout) as { workers: Array<{ id: number; slot: number }> };
    const old = [0, 1].map((slot) => status.workers.find((worker) => worker.slot === slot)!.id);
    const result = await cli(['reload', 'steps'], { runtime });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('reloaded steps: 2 workers replaced, no request cut off\n');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^slot 0: worker (\\d+) ready, worker ${old[0]} stopped \\(1/2\\)$`));
    expect(lines[1]).toMatch(new RegExp(`^slot 1: worker (\\d+) ready, worker ${old[1]} stopped \\(2/2\\)$`));
    // The replacements named are the workers the cluster said ready after the reload began.
    const replacements = lines.map((line) => Number(/worker (\d+) ready/.exec(line)![1]));
    expect(readyIds(run.output()).slice(2)).toEqual(replacements);
    expect((await cli(['stop', 'steps'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it("[H398] a PM2 file's min_uptime: the reload says its final wait for that startup window while it waits", async () => {
    const runtime = runtimeDir();
    const cwd = tempProject({
      'server.cjs': kServer,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'upt', script: './server.cjs', instances: 2, min_uptime: 3000, env: { PORT: '${await freePort()}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd });
    await run.waitFor(/service upt started: 2 workers/);
    const reload = startCli(['reload', 'upt'], { runtime, cwd });
    // Said as the wait begins, not with the result: the reload is still running then.
    await reload.waitFor(/^waiting .* startup window .*$/m);
    expect(reload.stdout()).toBe('');
    await expect(reload.exited()).resolves.toBe(0);
    const lines = reload.stderr().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^slot 0: worker \d+ ready, worker \d+ stopped \(1\/2\)$/);
    expect(lines[1]).toMatch(/^slot 1: worker \d+ ready, worker \d+ stopped \(2\/2\)$/);
    expect(lines[2]).toMatch(
      /^waiting \d+(\.\d)?( ms| s) more, until the new workers have stayed up for the 3\.0 s startup window \(--startup-window, PM2's min_uptime\): a reload ends once its new workers outlived it, once per reload, not per slot, so that a build that crashes soon after ready fails the reload$/,
    );
    expect(reload.stdout()).toBe('reloaded upt: 2 workers replaced, no request cut off\n');
    expect((await cli(['stop', 'upt'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
