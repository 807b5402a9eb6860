/**
 * [H521] A cluster whose primary is frozen (kill -STOP) in the JSON of `list` and `status`. Before,
 * it was left out: its only cluster gave `[]` on stdout (`status <name> --json` printed nothing),
 * and a script reading stdout alone took it for no cluster; stderr named it, exit 1. Now it is an
 * entry that says it did not answer; stderr and the exit code stay as they were.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';
import { freeze } from './frozen-cluster.js';

afterEach(() => cleanUpCli());

/** Starts a 1-worker cluster `name` in `runtime`; its `run` (the primary's process). */
async function start(name: string, runtime: string): Promise<ReturnType<typeof startCli>> {
  const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', name], { runtime, env: { PORT: String(await freePort()) } });
  await run.waitFor(new RegExp(`service ${name} started`));
  return run;
}

describe('[H521] a frozen primary in list --json and status --json', () => {
  it('[H521] is an entry that says it did not answer, with its pid and that its process is stopped, beside the clusters that answered', async () => {
    const runtime = runtimeDir();
    const [api, web] = await Promise.all([start('api', runtime), start('web', runtime)]);
    const pid = api.child.pid!;
    const resume = freeze(pid);
    const [list, status, named] = await Promise.all([cli(['list', '--json'], { runtime }), cli(['status', '--json'], { runtime }), cli(['status', 'api', '--json'], { runtime })]);
    const entry = {
      name: 'api',
      pid,
      state: 'unanswered',
      isPaused: true,
      reason: 'timeout',
      message: `no answer within 5000 ms. Its primary (pid ${pid}) is stopped (kill -STOP or a debugger; kill -CONT ${pid} resumes it); try "clusterkit status api" again, and look at its logs.`,
    };
    // Every cluster found, in the order of their names: the frozen one first, as an entry that
    // says so (before: `[web]` alone, and `[]` with api the only cluster).
    expect(JSON.parse(list.stdout)).toEqual([entry, expect.objectContaining({ name: 'web', pid: web.child.pid, state: 'running', workers: 1 })]);
    expect(JSON.parse(status.stdout)).toEqual([entry, expect.objectContaining({ name: 'web', pid: web.child.pid, state: 'running', workers: [expect.objectContaining({ state: 'ready' })] })]);
    // Named: the entry itself (before: nothing on stdout, so `jq` read no value).
    expect(JSON.parse(named.stdout)).toEqual(entry);
    // The exit code and stderr as documented.
    for (const result of [list, status, named]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`clusterkit: cluster "api" is running (a process listens on its control socket) but did not answer "status": ${entry.message}\n`);
    }
    // `status --watch --json` draws the entry in each frame, one line per frame.
    const watch = startCli(['status', 'api', '--watch', '--json', '--interval', '50ms'], { runtime });
    await watch.waitFor(/^\{"name":"api".*"state":"unanswered".*\}$/m);
    watch.child.kill('SIGINT');
    await expect(watch.exited()).resolves.toBe(0);
    expect(JSON.parse(watch.stdout().split('\n')[0]!)).toEqual(entry);
    // Resumed: it answers, and is listed as running again.
    resume();
    const after = await cli(['list', '--json'], { runtime });
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as Array<{ name: string; state: string }>).map(({ name, state }) => ({ name, state }))).toEqual([
      { name: 'api', state: 'running' },
      { name: 'web', state: 'running' },
    ]);
    for (const name of ['api', 'web']) expect((await cli(['stop', name], { runtime })).code).toBe(0);
    await expect(api.exited()).resolves.toBe(0);
    await expect(web.exited()).resolves.toBe(0);
  });
});
