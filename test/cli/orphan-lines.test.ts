/**
 * The primary of `clusterkit run` (no --error, no --log) killed with SIGKILL: its orphaned
 * workers' last lines, which nothing read (their stderr was a pipe to the dead primary), are
 * kept in the control directory's `<name>.orphans.log`, shown by `clusterkit logs <name>` while
 * no cluster of the name runs, and logged once by the name's next primary, which removes the
 * file (H417). The CLI binary run directly, real workers, a real SIGKILL.
 */
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** Starts `run` of the slow server, 2 workers, a 1 s shutdown timeout; its worker pids once started. */
async function started(name: string, runtime: string): Promise<{ run: ReturnType<typeof startCli>; pids: number[] }> {
  const port = await freePort();
  const run = startCli(['run', 'test/fixtures/cli-slow-server.mjs', '-w', '2', '--name', name, '--shutdown-timeout', '1s'], { runtime, env: { PORT: String(port) } });
  await run.waitFor(new RegExp(`service ${name} started: 2 workers`));
  return { run, pids: readyPids(run) };
}

describe('clusterkit run: the lines of workers orphaned by a killed primary', () => {
  it('[H417] primary SIGKILLed, no --error/--log: `clusterkit logs <name>` shows each orphan\'s two lines; the next run logs them once and removes the file', async () => {
    const runtime = runtimeDir();
    const { run, pids } = await started('orph', runtime);
    expect(pids).toHaveLength(2);
    process.kill(run.child.pid!, 'SIGKILL');
    // The orphans drain for the shutdown timeout, then exit (bound generous for a loaded machine).
    await waitUntilGone(pids, 60_000);
    const file = join(runtime, 'clusterkit', 'orph.orphans.log');
    // `status` points at them (before: "No cluster named ... is running" alone).
    const status = await cli(['status', 'orph'], { runtime });
    expect(status.code).toBe(4);
    expect(status.stderr).toContain('left 4 lines on how they stopped: "clusterkit logs orph" shows them.');
    // Before: no such file, and `logs` said only that no cluster of the name runs (exit 4).
    const logs = await cli(['logs', 'orph'], { runtime });
    expect(logs.code).toBe(0);
    expect(logs.stderr).toContain(`clusterkit: cluster orph is not running: its last primary (pid ${run.child.pid}) ended without stopping (killed or crashed). These 4 lines come from its workers, orphaned then`);
    for (const pid of pids) {
      expect(logs.stderr).toMatch(new RegExp(`\\[orph:\\d err\\] \\[clusterkit\\] WARN worker \\d \\(pid ${pid}\\): its primary \\(pid ${run.child.pid}\\) is gone \\(killed or crashed: its IPC channel closed\\); it stops on its own`));
      expect(logs.stderr).toMatch(new RegExp(`\\[orph:\\d err\\] \\[clusterkit\\] WARN worker \\d \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: no request was cut off`));
    }
    expect(lstatSync(file).mode & 0o777).toBe(0o600);

    // The next primary of the name: the lines are the first of its log, then the file is gone.
    const again = await started('orph', runtime);
    expect(again.run.output()).toContain('4 lines from workers orphaned by the previous primary of orph (it ended without stopping: killed or crashed)');
    expect(existsSync(file)).toBe(false);
    const shown = await cli(['logs', 'orph', '--lines', '100'], { runtime });
    expect(shown.code).toBe(0);
    const all = shown.stdout + shown.stderr;
    for (const pid of pids) expect(all).toMatch(new RegExp(`orphaned worker, \\S+Z: worker \\d \\(pid ${pid}\\) stopped on its own`));
  });

  it('[H417] a link planted at the file\'s path is not followed: its target is left as it was, and `logs` shows nothing of it', async () => {
    const runtime = runtimeDir();
    const { run, pids } = await started('orph2', runtime);
    const target = join(runtime, 'target.txt');
    writeFileSync(target, 'keep\n');
    const file = join(runtime, 'clusterkit', 'orph2.orphans.log');
    symlinkSync(target, file);
    process.kill(run.child.pid!, 'SIGKILL');
    await waitUntilGone(pids, 60_000);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    const logs = await cli(['logs', 'orph2'], { runtime });
    expect(logs.code).toBe(4); // not running: the link was not read
    expect(logs.stderr).not.toContain('keep');
    expect(logs.stderr).not.toContain('orphaned then');
  });
});
