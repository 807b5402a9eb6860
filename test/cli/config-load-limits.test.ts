/**
 * [H315] A config file is code, and its loading is given up at a deadline; what it holds and
 * what it starts must not outlive that (hostile t33 H1, H2, M1, L1, L2). Before:
 *
 * - `a.length = 2 ** 32 - 1; export default { apps: a }` was copied as a list of four billion
 *   holes, which the checker walked in a V8 builtin nothing could interrupt: `run` said after
 *   10 s that the file "did not finish loading" (it had loaded in 0.1 s), then never exited; a
 *   Proxy whose length is 1e15 was a bare RangeError (exit 1);
 * - under `--watch`, each save of such a config left a spinning thread in the primary, which
 *   then outlived its `clusterkit stop`;
 * - a `sleep` the file started was left running at the give-up.
 *
 * The CLI binary run directly, with real workers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kIdle = 'setInterval(() => {}, 1 << 30);\n';
const kSparseApps = 'const apps = []; apps.length = 2 ** 32 - 1;\nexport default { apps };\n';
const kProxyApps = "export default { apps: new Proxy([], { get: (target, key) => (key === 'length' ? 1e15 : { script: 'idle.mjs' }) }) };\n";

/** A config that starts `sleep <seconds>` and writes its pid to sleep.pid, then `rest`. */
function spawningConfig(seconds: number, rest: string): string {
  return `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const child = spawn('sleep', ['${seconds}'], { stdio: 'ignore' });
writeFileSync(new URL('./sleep.pid', import.meta.url), String(child.pid));
${rest}`;
}

/** Whether `pid` is a process running `sleep` (not gone, not a zombie waiting for its reaper). */
function isSleepRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.includes('(sleep)') && !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** The pid of the sleep the config in `project` started; ended after the test if still there. */
function sleepOf(project: string): number {
  const pid = Number(readFileSync(join(project, 'sleep.pid'), 'utf8'));
  onCleanup(() => {
    if (isSleepRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  return pid;
}

describe('[H315] what a config holds and starts', () => {
  it('[H315] a list longer than the limit (four billion holes, a Proxy of length 1e15) is a usage error at once, naming the list (exit 2)', async () => {
    const runtime = runtimeDir();
    const cases: Array<[string, string]> = [
      [kSparseApps, '"apps" has 4294967295 entries; the limit is 1000.'],
      [kProxyApps, '"apps" has 1000000000000000 entries; the limit is 1000.'],
      ["const args = []; args.length = 2 ** 32 - 1;\nexport default { apps: [{ script: 'idle.mjs', args }] };\n", '"apps[0].args" has 4294967295 entries; the limit is 1000.'],
      ["const watch = new Proxy([], { get: (t, k) => (k === 'length' ? 2 ** 40 : 'src') });\nexport default { apps: [{ script: 'idle.mjs', watch }] };\n", '"apps[0].watch" has 1099511627776 entries; the limit is 1000.'],
    ];
    const projects = cases.map(([config]) => tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': config }));
    const started = Date.now();
    const results = await Promise.all(projects.map((cwd) => cli(['run'], { runtime, cwd })));
    // Before: 10 s, then a "did not finish loading" that blamed the file, and no exit at all.
    expect(Date.now() - started).toBeLessThan(8_000);
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(result.stderr).toContain(`clusterkit: ${join(projects[index]!, 'clusterkit.config.mjs')}: ${cases[index]![1]}`);
      expect(result.stderr).not.toMatch(/did not finish loading|RangeError/);
    });
  });

  it('[H315] under --watch, a save that makes apps four billion holes is a WARN at once, and the primary still stops when told (stop, then the run exits)', async () => {
    const runtime = runtimeDir();
    const good = "export default { apps: [{ name: 'h315w', script: './idle.mjs', workers: 1, watch: true, watchDelay: 50 }] };\n";
    const project = tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': good });
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/\[h315w\] watching \./);
    writeFileSync(join(project, 'clusterkit.config.mjs'), kSparseApps);
    await run.waitFor(/^\[h315w\] WARN clusterkit\.config\.mjs changed and no longer loads: \S+: "apps" has 4294967295 entries; the limit is 1000\. The cluster runs on/m);
    expect(run.output()).not.toMatch(/did not finish loading/);
    expect((await cli(['stop', 'h315w'], { runtime })).code).toBe(0);
    // Before: the primary's exit waited for the spinning thread; stop said stopped, the run went on.
    await expect(run.exited(20_000)).resolves.toBe(0);
  });

  it('[H315] a config that starts a process and never finishes: exit 2 at the deadline, and its process ended; a getter that loops is not blamed on the top level', async () => {
    const runtime = runtimeDir();
    const hanging = tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': spawningConfig(777, 'export default new Promise(() => setInterval(() => {}, 1000));\n') });
    const getter = tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': 'export default { get apps() { for (;;) {} } };\n' });
    const [hung, looped] = await Promise.all([cli(['run'], { runtime, cwd: hanging, ms: 40_000 }), cli(['run'], { runtime, cwd: getter, ms: 40_000 })]);
    const sleep = sleepOf(hanging);
    expect(hung.code).toBe(2);
    expect(hung.stderr).toMatch(/clusterkit\.config\.mjs did not finish loading within 10 s/);
    // Before: the sleep lived on, handed to init.
    expect(isSleepRunning(sleep)).toBe(false);
    expect(looped.code).toBe(2);
    expect(looped.stderr).toMatch(/clusterkit\.config\.mjs loaded, but reading its values did not finish within 10 s: a getter or a Proxy in its default export that loops or waits/);
    expect(looped.stderr).not.toMatch(/a loop at its top level/);
  }, 60_000);

  it('[H315] a config that loads and leaves a process it started running: a warning names it, and clusterkit leaves it to the file', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': spawningConfig(778, "export default { apps: [{ name: 'h315s', script: './idle.mjs', workers: 1 }] };\n") });
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/\[h315s\] service h315s started/);
    const sleep = sleepOf(project);
    expect(run.stderr()).toContain(`clusterkit: warning: ${join(project, 'clusterkit.config.mjs')} started a process that still runs after its loading: ${sleep} (sleep); clusterkit does not stop it`);
    expect(isSleepRunning(sleep)).toBe(true);
    run.child.kill('SIGINT');
    await expect(run.exited()).resolves.toBe(0);
  });
});
