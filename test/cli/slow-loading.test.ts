import { afterEach, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const kPreload = path.resolve('test/fixtures/cli-slow-preload.mjs');

describe('clusterkit run: a worker still loading at --ready-timeout', () => {
  it.each([
    ['prints nothing', {}, ''],
    ['printed a line first', { PRELOAD_SAYS: 'warming the cache' }, '; its output above may say what it was doing'],
  ])('[H189] is told about its preloads and the bootstrap, not ClusterWorker.start(), and the output only when it %s', async (_, env, outputClause) => {
    const run = startCli(
      ['run', 'test/fixtures/cli-idle-script.mjs', '-w', '1', '--name', 'slowload', '--ready-timeout', '2s', '--max-startup-failures', '1', `--node-arg=--import=${kPreload}`],
      { runtime: runtimeDir(), env: { PORT: String(await freePort()), ...env } },
    );
    await expect(run.exited()).resolves.toBe(1);
    const output = run.output();
    const [attempt] = output.split('\n').filter((line) => line.includes('worker 1 could not start:'));
    expect(attempt).toContain(
      "It was still loading by then (Node's preloads from --node-arg or NODE_OPTIONS, such as --import or --require, then clusterkit's worker bootstrap, which loads the script after them); raise the option if that is legitimately slow",
    );
    // A run script that created a ClusterWorker would be refused (NotAWorkerError): no such advice.
    expect(output).not.toMatch(/ClusterWorker|call start\(\)/);
    const [failure] = output.split('\n').filter((line) => line.includes('could not start: worker 1'));
    // "its output above says why" was there before, with no output above.
    expect(failure).toContain(`was not ready within 2000 ms (option --ready-timeout), so it was killed${outputClause} (1 attempt)`);
  });
});
