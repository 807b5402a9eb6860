/**
 * [H329] The process that loads a config file (H315) dies with the CLI that asked for it,
 * whatever the file does, and a file that breaks its channel is told so. Before:
 *
 * - `clusterkit run` SIGKILLed while its config looped at its top level (`for (;;) {}`, or a V8
 *   builtin over four billion holes): the loading process leads a session of its own, so the
 *   kill of run's process group missed it, and its blocked main thread never saw the channel
 *   close: it spun on, an orphan, for good;
 * - the same while the config waited with a `sleep` it had started: the loading process exited
 *   on the channel's close, and the `sleep` ran on;
 * - a config that wrote to file descriptor 3 (the loading process's channel) was reported as
 *   `it called process.exit(0) while loading`.
 *
 * The CLI binary run directly, killed for real.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

/** A generous bound (ms) for a killed CLI's loading to be gone: the watchdog looks every 100 ms. */
const kGoneWithinMs = 10_000;

/** Whether `pid` runs (not gone, not a zombie waiting for its reaper). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

/** Ends `pid` after the test if it still runs (a test that failed). */
function reap(pid: number): void {
  onCleanup(() => {
    if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
}

/** Resolves once none of `pids` runs; rejects (naming those left) after `ms`. */
async function gone(pids: number[], ms = kGoneWithinMs): Promise<void> {
  const until = Date.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  try {
    while (pids.some(isRunning)) {
      if (Date.now() > until) throw new Error(`still running ${ms} ms after the CLI was killed: ${pids.filter(isRunning).join(', ')}`);
      await new Promise((resolve) => (timer = setTimeout(resolve, 50)));
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A config that prints `loading <pid>` (its loading process's), then runs `rest`. */
function announcing(rest: string): string {
  return `console.log('loading ' + process.pid);\n${rest}`;
}

describe('[H329] the loading of a config dies with its CLI', () => {
  it('[H329] run SIGKILLed while its config spins at its top level (a loop, a V8 builtin over four billion holes): the loading process is gone', async () => {
    const runtime = runtimeDir();
    const configs = [announcing('for (;;) {}\nexport default {};\n'), announcing('const a = []; a.length = 2 ** 32 - 1;\na.some((x) => x === 1);\nexport default {};\n')];
    const runs = configs.map((config) => startCli(['run'], { runtime, cwd: tempProject({ 'clusterkit.config.mjs': config }) }));
    const loaders = await Promise.all(runs.map(async (run) => Number((await run.waitFor(/^loading (\d+)$/m))[1])));
    loaders.forEach(reap);
    expect(loaders.every(isRunning)).toBe(true);
    for (const run of runs) run.child.kill('SIGKILL');
    // Before: both spun on, handed to init, until someone killed them.
    await expect(gone(loaders)).resolves.toBeUndefined();
  }, 60_000);

  it('[H329] run SIGKILLed while its config waits with a process it started: the loading process and that process are gone', async () => {
    const runtime = runtimeDir();
    const config = announcing(`import { spawn } from 'node:child_process';
const child = spawn('sleep', ['779'], { stdio: 'ignore' });
console.log('started ' + child.pid);
export default new Promise(() => setInterval(() => {}, 1000));
`);
    const run = startCli(['run'], { runtime, cwd: tempProject({ 'clusterkit.config.mjs': config }) });
    const loader = Number((await run.waitFor(/^loading (\d+)$/m))[1]);
    const sleep = Number((await run.waitFor(/^started (\d+)$/m))[1]);
    reap(loader);
    reap(sleep);
    expect([isRunning(loader), isRunning(sleep)]).toEqual([true, true]);
    run.child.kill('SIGKILL');
    // Before: the loading process exited on its channel's close; the sleep ran on.
    await expect(gone([loader, sleep])).resolves.toBeUndefined();
  }, 60_000);

  it('[H329] a config that writes to or closes file descriptor 3 (its loading process\'s channel) is told so, not "called process.exit(0)" (exit 2)', async () => {
    const runtime = runtimeDir();
    const apps = "export default { apps: [{ name: 'h329', script: './idle.mjs', workers: 1 }] };\n";
    const idle = 'setInterval(() => {}, 1 << 30);\n';
    const wrote = tempProject({ 'idle.mjs': idle, 'clusterkit.config.mjs': `import { writeSync } from 'node:fs';\nwriteSync(3, 'not a message\\n');\n${apps}` });
    const closed = tempProject({ 'idle.mjs': idle, 'clusterkit.config.mjs': `import { closeSync } from 'node:fs';\ncloseSync(3);\n${apps}` });
    const [fromWrite, fromClose] = await Promise.all([cli(['run'], { runtime, cwd: wrote }), cli(['run'], { runtime, cwd: closed })]);
    const brokeBy = (what: string) => `the channel to the process loading it broke: the file (or a process it started) ${what}, which is that process's channel to clusterkit, so its answer cannot come. Leave file descriptor 3 alone in the config and in what it starts.`;
    expect(fromWrite.code).toBe(2);
    expect(fromWrite.stderr).toContain(brokeBy('wrote bytes that are not a message to file descriptor 3'));
    expect(fromClose.code).toBe(2);
    expect(fromClose.stderr).toContain(brokeBy('closed file descriptor 3'));
    for (const { stderr } of [fromWrite, fromClose]) expect(stderr).not.toMatch(/process\.exit|did not finish loading/);
  }, 60_000);
});
