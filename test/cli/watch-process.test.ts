/**
 * [H652][H658] `clusterkit run --watch` watches the tree in a process of its own. Hostile tester t65:
 * 55,000 files made, then deleted, in directories of 1,000 under a watched path (each under the
 * 2,000 entries that leave a directory out) blocked the primary, on whose thread chokidar ran, for
 * 8 to 26 s at a time: `clusterkit status` got no answer, HTTP stalled, and a SIGTERM during the
 * delete took 6.9 s with `--shutdown-timeout 3s`. On a thread of its own (H652), the primary's exit
 * still waited 2 to 3 s for the thread to close its watches one by one (retest t65). The real CLI
 * (dist), a real storm of files.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { killSpawned, kRepoRoot } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

const stormers = new Set<ReturnType<typeof spawn>>();
afterEach(() => {
  for (const child of stormers) child.kill('SIGKILL');
  stormers.clear();
  killSpawned();
  cleanUpCli();
});

const kServer = readFileSync(join(kRepoRoot, 'examples/demo/server.js'), 'utf8');

/** Runs `code` in another process in `cwd`; resolves when it is done. */
function storm(code: string, cwd: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', code], { cwd, stdio: 'ignore' });
  stormers.add(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => {
      stormers.delete(child);
      if (exitCode === 0) resolve();
      else reject(new Error(`the storm's process exited with ${exitCode}`));
    });
  });
}

/** The watch processes whose parent is `primary` (by /proc). */
function watchProcesses(primary: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === primary && readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes('watch-process-main.js');
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('--watch in a process of its own [H652][H658]', () => {
  it('[H652] a storm of 20,000 files in directories of 1,000: the primary answers status meanwhile; a SIGTERM during the delete stops it within its timeout', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer });
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'storm', '--watch', '--shutdown-timeout', '3s'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[storm\] watching \./);
    const [watcher] = watchProcesses(run.child.pid!);
    expect(watcher).toBeDefined();

    let isStorming = true;
    const making = storm(
      "const fs = require('fs'); fs.mkdirSync('many'); for (let d = 0; d < 20; d++) { fs.mkdirSync('many/d' + d); for (let i = 0; i < 1000; i++) fs.writeFileSync('many/d' + d + '/f' + i + '.txt', 'x'); }",
      project,
    ).finally(() => (isStorming = false));
    // Asked again and again while the files are made and taken in: each answered (status's own
    // limit is 5 s; before, the primary's thread was blocked for 8 s and more at a time).
    const codes: Array<number | string> = [];
    while (isStorming || codes.length < 3) {
      const { code, stderr } = await cli(['status', 'storm'], { runtime });
      if (code !== 0) throw new Error(`status during the storm: exit ${code}: ${stderr}`);
      codes.push(code);
    }
    await making;
    await run.waitFor(/\[storm\] change detected in many\//);

    // The delete, and a SIGTERM during it: the shutdown ends the watch's process at once.
    const deleting = storm("require('fs').rmSync('many', { recursive: true })", project);
    const startAt = Date.now();
    run.child.kill('SIGTERM');
    const code = await run.exited(60_000);
    const stopMs = Date.now() - startAt;
    await deleting;
    expect(code).toBe(0);
    expect(run.output()).toMatch(/shutdown complete/);
    // 3 s to stop the worker, and a generous allowance for a loaded machine.
    expect(stopMs).toBeLessThan(3_000 + 7_000);
    await waitUntilGone([watcher]);
  });

  it('[H658][H667] the watch process ends with its primary killed with SIGKILL; one killed alone is said, and shown, and the cluster serves on', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer });
    const run = startCli(['run', 'server.mjs', '-w', '1', '--name', 'watchkill', '--watch'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/\[watchkill\] watching \./);
    const [first] = watchProcesses(run.child.pid!);
    process.kill(first!, 'SIGKILL');
    await run.waitFor(/watch error: The watch's process ended: it was killed by SIGKILL\. No change reloads the workers from now on; restart clusterkit run to watch again\./);
    const { code } = await cli(['status', 'watchkill'], { runtime });
    expect(code).toBe(0);
    // [H667] show says it (retest t67: "on" after the watch process was killed).
    const show = await cli(['show', 'watchkill'], { runtime });
    expect(show.stdout).toMatch(/watch\s+ended: the watch process was killed by SIGKILL; no change reloads the workers until clusterkit run restarts\n/);
    const json = JSON.parse((await cli(['show', 'watchkill', '--json'], { runtime })).stdout) as { settings: { watch: { ended?: string } } };
    expect(json.settings.watch.ended).toBe('it was killed by SIGKILL');
    run.child.kill('SIGKILL');
    await run.exited(30_000);
    await until(() => !isAlive(run.child.pid!), 15_000, 'the primary gone');

    // Its primary killed: the next run's watch process sees its channel close, and ends.
    const again = startCli(['run', 'server.mjs', '-w', '1', '--name', 'watchkill2', '--watch'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await again.waitFor(/\[watchkill2\] watching \./);
    const [second] = watchProcesses(again.child.pid!);
    expect(second).toBeDefined();
    process.kill(again.child.pid!, 'SIGKILL');
    await waitUntilGone([second], 30_000);
  });
});
