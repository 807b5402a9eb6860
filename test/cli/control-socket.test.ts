import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('control socket', () => {
  it('[H301] detects the stale socket of a SIGKILLed primary, reports the name as not running and its primary as ended without stopping, and reuses it', async () => {
    const runtime = runtimeDir();
    const socket = join(runtime, 'clusterkit', 'phoenix.sock');
    const first = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'phoenix'], { runtime, env: { PORT: String(await freePort()) } });
    await first.waitFor(/service phoenix started/);
    const pids = readyPids(first);
    const follow = startCli(['logs', 'phoenix', '--follow'], { runtime });
    await until(() => follow.output().length > 0, 20_000, 'the follow under way');
    // Its first output is the backlog, written before the primary's answer: a SIGKILL between the
    // two (a CI run) said "closed the control connection before it answered". A line the primary
    // writes now comes after the backlog's end, so after the answer, on the same connection: once
    // the follow prints it, it is answered and following. SIGUSR2 is logged and ignored.
    process.kill(first.child.pid!, 'SIGUSR2');
    await until(() => /SIGUSR2 ignored/.test(follow.output()), 20_000, 'the follow answered (a line after its backlog)');
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited();
    // Not "stopped" with exit 0: a script following the logs must tell a kill from a stop (retest t31 N2).
    await expect(follow.exited()).resolves.toBe(1);
    expect(follow.stderr()).toContain(`clusterkit: cluster phoenix's primary (pid ${first.child.pid}) ended without stopping (killed or crashed)\n`);
    await waitUntilGone(pids); // orphan protection: the workers follow their primary
    expect(lstatSync(socket).isSocket()).toBe(true); // a SIGKILLed primary cannot clean up

    const status = await cli(['status', 'phoenix'], { runtime });
    expect(status.code).toBe(4);
    // Before: only "not running", with nothing of the primary that died (newcomer t31 L2).
    expect(status.stderr).toBe(
      `clusterkit: No cluster named "phoenix" is running. Its last primary (pid ${first.child.pid}) ended without stopping (killed or crashed) and left its control socket behind; ` +
        'its workers end on their own (orphan protection), and the next primary of that name (a "clusterkit run", or a ClusterPrimary with that serviceName) takes the socket over. ' +
        `No cluster is running (for this user; looked in ${runtime}/clusterkit ($XDG_RUNTIME_DIR/clusterkit): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen); start one with "clusterkit run".` +
        // Their two lines each, kept in the control directory (H417): gone, they have written them.
        ` Its workers, orphaned when its last primary was killed or crashed, left ${pids.length * 2} lines on how they stopped: "clusterkit logs phoenix" shows them.\n`,
    );
    expect((await cli(['list'], { runtime })).stdout).toMatch(/^No cluster is running \(for this user; looked in [^\n]*\/clusterkit \(\$XDG_RUNTIME_DIR\/clusterkit\): a cluster started with another XDG_RUNTIME_DIR, or by another user, is not seen\)\.\n$/);

    const second = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'phoenix'], { runtime, env: { PORT: String(await freePort()) } });
    await second.waitFor(/service phoenix started/);
    const answer = JSON.parse((await cli(['status', 'phoenix', '--json'], { runtime })).stdout) as { pid: number };
    expect(answer.pid).toBe(second.child.pid);
    expect((await cli(['stop', 'phoenix'], { runtime })).code).toBe(0);
    await expect(second.exited()).resolves.toBe(0);
    expect(existsSync(socket)).toBe(false);
  });

  it('refuses a second cluster with a live name before forking any worker', async () => {
    const runtime = runtimeDir();
    const first = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'solo'], { runtime, env: { PORT: String(await freePort()) } });
    await first.waitFor(/service solo started/);
    const second = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'solo'], { runtime, env: { PORT: String(await freePort()) } });
    await expect(second.exited()).resolves.toBe(1);
    expect(second.stderr()).toContain(`A cluster named "solo" is already running (primary pid ${first.child.pid}). Stop it first ("clusterkit stop solo"), or choose another name.`);
    expect(second.output()).not.toMatch(/worker \d+ (ready|forked)/);
    // The first cluster is untouched and still owns the name.
    const status = JSON.parse((await cli(['status', 'solo', '--json'], { runtime })).stdout) as { pid: number };
    expect(status.pid).toBe(first.child.pid);
    expect((await cli(['stop', 'solo'], { runtime })).code).toBe(0);
    await expect(first.exited()).resolves.toBe(0);
  });

  it('status without a name and list show every running cluster; status --watch refreshes until Ctrl-C', async () => {
    const runtime = runtimeDir();
    const clusters = await Promise.all(
      ['alpha', 'beta'].map(async (name) => {
        const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', name], { runtime, env: { PORT: String(await freePort()) } });
        await run.waitFor(new RegExp(`service ${name} started`));
        return run;
      }),
    );
    const all = await cli(['status'], { runtime });
    expect(all.stdout).toMatch(/^cluster alpha .*\n[^]*\ncluster beta /);
    const list = JSON.parse((await cli(['list', '--json'], { runtime })).stdout) as Array<{ name: string; pid: number; workers: number }>;
    expect(list).toEqual([
      expect.objectContaining({ name: 'alpha', pid: clusters[0]!.child.pid, workers: 1 }),
      expect.objectContaining({ name: 'beta', pid: clusters[1]!.child.pid, workers: 1 }),
    ]);

    const watch = startCli(['status', 'alpha', '--watch', '--interval', '100ms', '--json'], { runtime });
    // Not a terminal: one JSON line per refresh, without screen clearing.
    await watch.waitFor(/(\{"name":"alpha".*\}\n){3}/);
    process.kill(watch.child.pid!, 'SIGINT');
    await expect(watch.exited()).resolves.toBe(0);

    // A watch ends by itself when its cluster stops.
    const watchBeta = startCli(['status', 'beta', '--watch', '--interval', '100ms'], { runtime });
    await watchBeta.waitFor(/cluster beta {2}pid/);
    expect((await cli(['stop', 'beta'], { runtime })).code).toBe(0);
    await expect(watchBeta.exited()).resolves.toBe(0);
    expect(watchBeta.stdout()).toContain('cluster beta is no longer running\n');

    expect((await cli(['stop', 'alpha'], { runtime })).code).toBe(0);
    await Promise.all(clusters.map((run) => expect(run.exited()).resolves.toBe(0)));
  });
});
