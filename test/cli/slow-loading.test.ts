import { afterEach, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kPreload = path.resolve('test/fixtures/cli-slow-preload.mjs');
/**
 * A CommonJS script whose own top-level code outlasts --ready-timeout, without spending CPU: it
 * runs in the tick of the bootstrap's start, before the worker's first message goes out.
 */
const kSlowTopLevel = "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600_000);\n";

describe('clusterkit run: a worker still loading at --ready-timeout', () => {
  it.each([
    ['prints nothing', {}, ''],
    ['printed a line first', { PRELOAD_SAYS: 'warming the cache' }, '; its output above may say what it was doing'],
  ])('[H189] is told about its preloads, then the script, not ClusterWorker.start(), and the output only when it %s', async (_, env, outputClause) => {
    const run = startCli(
      ['run', 'test/fixtures/cli-idle-script.mjs', '-w', '1', '--name', 'slowload', '--ready-timeout', '2s', '--max-startup-failures', '1', `--node-arg=--import=${kPreload}`],
      { runtime: runtimeDir(), env: { PORT: String(await freePort()), ...env } },
    );
    await expect(run.exited()).resolves.toBe(1);
    const output = run.output();
    const [attempt] = output.split('\n').filter((line) => line.includes('worker 1 could not start:'));
    expect(attempt).toContain(
      `It was still loading by then (Node's preloads: --import=${kPreload} from --node-arg or nodeArgs; then the script itself: its top-level code and the modules it loads); raise the option if that is legitimately slow`,
    );
    // A run script that created a ClusterWorker would be refused (NotAWorkerError): no such advice.
    expect(output).not.toMatch(/ClusterWorker|call start\(\)/);
    const [failure] = output.split('\n').filter((line) => line.includes('could not start: worker 1'));
    // "its output above says why" was there before, with no output above.
    expect(failure).toContain(`was not ready within 2000 ms (option --ready-timeout), so it was killed${outputClause} (1 attempt of worker slot 0)`);
  });

  it('[H215] with no preload, says the script\'s own top-level code was still running, and names no preload', async () => {
    const project = tempProject({ 'slow.cjs': kSlowTopLevel });
    const run = startCli(['run', 'slow.cjs', '-w', '1', '--name', 'slowtop', '--ready-timeout', '2s', '--max-startup-failures', '1'], {
      runtime: runtimeDir(),
      cwd: project,
      env: { PORT: String(await freePort()), NODE_OPTIONS: '' },
    });
    await expect(run.exited()).resolves.toBe(1);
    const [attempt] = run.output().split('\n').filter((line) => line.includes('worker 1 could not start:'));
    expect(attempt).toContain(
      "It was still loading by then (the script itself: its top-level code and the modules it loads, with no preload before it: none in --node-arg or NODE_OPTIONS); " +
        'raise the option if that is legitimately slow (a loaded machine, slow code there).',
    );
    // Before: "Node's preloads from --node-arg or NODE_OPTIONS, ... then clusterkit's worker bootstrap", with none configured.
    expect(attempt).not.toMatch(/preloads|bootstrap/);
  });

  it('[H310] with --node-arg options that are no preload, names them (without their values), not "none in --node-arg"', async () => {
    const project = tempProject({ 'slow.cjs': kSlowTopLevel });
    const run = startCli(
      ['run', 'slow.cjs', '-w', '1', '--name', 'slowargs', '--ready-timeout', '2s', '--max-startup-failures', '1', '--node-arg=--enable-source-maps', '--node-arg=--title=secret-title'],
      { runtime: runtimeDir(), cwd: project, env: { PORT: String(await freePort()), NODE_OPTIONS: '' } },
    );
    await expect(run.exited()).resolves.toBe(1);
    const [attempt] = run.output().split('\n').filter((line) => line.includes('worker 1 could not start:'));
    // Before: "with no preload before it: none in --node-arg or NODE_OPTIONS", read as "no --node-arg" (hostile t32 LOW-1).
    expect(attempt).toContain(
      'It was still loading by then (the script itself: its top-level code and the modules it loads, with no preload before it: ' +
        '--node-arg or nodeArgs gave --enable-source-maps --title, none of them a preload, and none in NODE_OPTIONS); raise the option',
    );
    expect(attempt).not.toContain('secret-title');
  });

  it('[H239] a script awaiting at its top level (an ES module\'s await that never settles) is still loading its script, as the docs say, not "waiting on something that never comes"', async () => {
    const project = tempProject({ 'tla.mjs': "console.log('loading');\nawait new Promise((resolve) => setTimeout(resolve, 600_000));\n" });
    const run = startCli(['run', 'tla.mjs', '-w', '1', '--name', 'tla', '--ready-timeout', '2s', '--max-startup-failures', '1'], {
      runtime: runtimeDir(),
      cwd: project,
      env: { PORT: String(await freePort()), NODE_OPTIONS: '' },
    });
    await expect(run.exited()).resolves.toBe(1);
    const [attempt] = run.output().split('\n').filter((line) => line.includes('worker 1 could not start:'));
    // Before: "Its start-up may be waiting on something that never comes (its script's listen(), or the end of its top-level code)".
    expect(attempt).toContain("It was still loading by then (the script itself: its top-level code and the modules it loads, with no preload before it: none in --node-arg or NODE_OPTIONS)");
    expect(attempt).not.toContain('never comes');
  });
});
